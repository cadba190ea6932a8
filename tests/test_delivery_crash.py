"""Nothing lost, nothing sent twice but what was in flight: a dispatcher killed mid-batch, an SMTP outage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.db import make_engine, session_scope, upgrade_schema
from store.models import OutboxStatus
from store.outbox import NewMessage, enqueue, list_messages
from tests.support.smtp_server import running_smtp_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PAST = datetime(2020, 12, 1, 0, 30, tzinfo=UTC)


def fill_outbox(url: str, count: int) -> list[str]:
    engine = make_engine(url)
    upgrade_schema(engine)
    keys = [f"reminder/CCHC-2020:T.{i}/2020-12-01/d1|U{i}|email" for i in range(count)]
    rows = [
        {
            "key": key,
            "notification_key": key.split("|")[0],
            "kind": "reminder",
            "rule": "reminder",
            "channel": "email",
            "recipient": f"U{i}",
            "role": "to",
            "recipient_name": f"Đơn vị {i}",
            "address": f"unit{i}@nhacviec.example",
            "subject": f"Nhắc việc số {i}",
            "body_text": "Nội dung nhắc việc",
            "status": OutboxStatus.PENDING,
            "due_at": PAST,
            "next_attempt_at": PAST,
            "created_at": PAST,
            "attempts": 0,
            "extra": {},
        }
        for i, key in enumerate(keys)
    ]
    with session_scope(engine) as session:
        enqueue(session, [NewMessage.single(row) for row in rows])
    engine.dispose()
    return keys


def dispatcher_env(url: str, port: int, pool: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHACVIEC_")}
    env.update(
        NHACVIEC_DATABASE_URL=url,
        NHACVIEC_SMTP_HOST="127.0.0.1",
        NHACVIEC_SMTP_PORT=str(port),
        NHACVIEC_SMTP_TLS="none",
        NHACVIEC_SMTP_POOL_SIZE=str(pool),
        NHACVIEC_CONSOLE_SINK="false",
        NHACVIEC_RETRY_BASE_SECONDS="0.2",
        NHACVIEC_RETRY_MAX_SECONDS="0.5",
        NHACVIEC_MAX_ATTEMPTS="1000",
    )
    return env


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
