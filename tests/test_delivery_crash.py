"""Nothing lost, nothing sent twice but what was in flight: a dispatcher killed mid-batch, an SMTP outage."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from store.db import make_engine, session_scope
from store.models import OutboxStatus
from store.outbox import list_messages
from tests.support.outbox_fill import dispatcher_env, fill_outbox
from tests.support.smtp_server import running_smtp_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def send_command() -> list[str]:
    return [sys.executable, "-m", "cli.main", "outbox", "send"]


def arrived_keys(server) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(m.message["X-Nhacviec-Key"] for m in server.messages)


@pytest.mark.parametrize("pool", [1, 4])
def test_a_dispatcher_killed_mid_batch_loses_nothing_and_resends_only_what_was_in_flight(
    tmp_path: Path, pool: int
) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    keys = fill_outbox(url, 500)
    with running_smtp_server() as server:
        env = dispatcher_env(url, server.port, pool)
        first = subprocess.Popen(
            send_command(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while len(server.messages) < 150 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.005)
        assert first.poll() is None, "the dispatcher finished before it could be killed"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        at_kill = len(server.messages)
        assert 150 <= at_kill < 500

        second = subprocess.run(
            send_command(), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 0, second.stderr
        arrived = arrived_keys(server)

    assert set(arrived) == set(keys), "every message arrives"
    twice = {key: n for key, n in arrived.items() if n > 1}
    assert all(n == 2 for n in twice.values())
    assert len(twice) <= pool, (
        f"only the messages in flight may be sent twice: {len(twice)} with {pool} connections"
    )
    engine = make_engine(url)
    with session_scope(engine) as session:
        assert {m.status for m in list_messages(session)} == {OutboxStatus.SENT}


def test_an_smtp_outage_delays_the_queue_and_everything_arrives_once_when_it_is_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'outage.db'}"
    keys = fill_outbox(url, 40)
    with running_smtp_server() as server:
        port = server.port
    # the server is gone: the port refuses connections
    env = dispatcher_env(url, port, 4)
    down = subprocess.run(send_command(), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    engine = make_engine(url)
    with session_scope(engine) as session:
        messages = list_messages(session)
        assert {m.status for m in messages} == {OutboxStatus.PENDING}
        assert all(m.attempts <= 1 and m.last_error for m in messages)
        # the channel's breaker opened: most rows waited without spending an attempt (tests/test_outages.py)
        assert sum(m.attempts for m in messages) <= 8
    time.sleep(0.6)  # past the (shortened) backoff
    with running_smtp_server(port=port) as server:  # back, at the same address
        back = subprocess.run(send_command(), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert back.returncode == 0, back.stderr
        arrived = arrived_keys(server)
    assert sorted(arrived) == sorted(keys) and set(arrived.values()) == {1}
    with session_scope(engine) as session:
        assert {m.status for m in list_messages(session)} == {OutboxStatus.SENT}
