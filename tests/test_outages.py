"""Outages are ridden out: a 24-hour retry window, a circuit breaker per channel, and `status` telling it."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from delivery.dispatcher import Dispatcher
from delivery.retry import Breaker, RetryPolicy
from notifiers.base import TransientError
from notifiers.email import EmailNotifier
from store.db import session_scope
from store.models import OutboxMessage, OutboxStatus
from store.state import breaker_states
from tests.support.outbox_fill import ScriptedNotifier, add, row, status_of
from tests.support.smtp_server import running_smtp_server

T0 = datetime(2020, 12, 1, 0, 30, tzinfo=UTC)  # 07:30 in Hà Nội


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_the_default_policy_backs_off_to_an_hour_then_retries_hourly_for_a_day() -> None:
    policy = RetryPolicy(rng=random.Random(3))
    moment, attempts, gaps = T0, 0, []
    while True:
        attempts += 1
        following = policy.next_attempt(moment, attempts, due_at=T0)
        if following is None:
            break
        gaps.append((following - moment).total_seconds())
        moment = following
    assert moment - T0 >= timedelta(hours=24), "not dead-lettered within the day"
    assert moment - T0 < timedelta(hours=26)
    assert max(gaps) <= 3600 and gaps[0] <= 30
    assert all(gap >= 0.9 * 3600 for gap in gaps[9:]), "hourly once the backoff reached an hour"
    assert policy.next_attempt(T0 + timedelta(hours=1), 50, due_at=T0) is not None  # many tries, same day


def test_one_address_failing_all_day_is_retried_for_24_hours_then_dead_lettered(engine: Engine) -> None:
    add(engine, row("stubborn"))
    notifier = ScriptedNotifier({"stubborn": [TransientError("452 hộp thư đầy")] * 100})
    clock = Clock(T0)
    dispatcher = Dispatcher(engine, {"email": notifier}, clock=clock)
    while status_of(engine)["stubborn"][0] == OutboxStatus.PENDING:
        assert clock.at < T0 + timedelta(hours=27)
        asyncio.run(dispatcher.run_once())
        with session_scope(engine) as session:
            message = session.exec(select(OutboxMessage)).one()
        if message.status == OutboxStatus.PENDING:
            clock.at = max(clock.at, message.next_attempt_at) + timedelta(seconds=1)
    assert clock.at >= T0 + timedelta(hours=24), "dead-lettered before its day was out"
    assert status_of(engine)["stubborn"][0] == OutboxStatus.DEAD
    assert 24 <= notifier.attempts["stubborn"] <= 40  # about one try an hour once backed off
    assert breaker_states(engine).get("email", {}).get("state") != "open"  # one mailbox is no outage


def outage_rows(engine: Engine, count: int) -> list[str]:
    keys = [f"reminder/CCHC-2020:T.{i}/2020-12-01/d1|U{i}|email" for i in range(count)]
    add(
        engine,
        *[row(key, recipient=f"U{i}", address=f"unit{i}@nhacviec.example") for i, key in enumerate(keys)],
    )
    return keys


def test_an_smtp_outage_of_16_minutes_opens_the_breaker_spends_no_attempts_and_dead_letters_nothing(
    engine: Engine,
) -> None:
    keys = outage_rows(engine, 30)
    with running_smtp_server() as server:
        port = server.port  # then the server is gone: the port refuses connections
    clock = Clock(T0)
    policy = RetryPolicy(max_attempts=2, window_seconds=600)  # even a short window: waiting spends nothing

    def run_job() -> None:  # the service's retry job, once a minute
        email = EmailNotifier(
            host="127.0.0.1", port=port, sender="nhacviec@snv.gov.vn", tls="none", timeout=5
        )
        dispatcher = Dispatcher(engine, {"email": email}, policy=policy, clock=clock)

        async def once() -> None:
            await email.open()
            try:
                await dispatcher.run_once()
            finally:
                await email.close()

        asyncio.run(once())

    opened_seen = False
    outage_end = T0 + timedelta(minutes=16)
    while clock.at < outage_end:
        run_job()
        states = status_of(engine)
        assert {state for state, _ in states.values()} == {OutboxStatus.PENDING}
        assert max(attempts for _, attempts in states.values()) <= 1
        breaker = breaker_states(engine)["email"]
        opened_seen |= breaker["state"] == "open"
        clock.at += timedelta(minutes=1)
    assert opened_seen
    tried = sum(attempts for _, attempts in status_of(engine).values())
    assert tried <= 5, f"{tried} attempts spent during the outage: the breaker should have held the rest"
    assert breaker_states(engine)["email"]["state"] == "open"

    with running_smtp_server(port=port) as server:  # back, at the same address
        for _ in range(6):  # within six minutes (the probe interval is capped at five)
            run_job()
            clock.at += timedelta(minutes=1)
        arrived = [m.message["X-Nhacviec-Key"] for m in server.messages]
    assert sorted(arrived) == sorted(keys)
    assert {state for state, _ in status_of(engine).values()} == {OutboxStatus.SENT}
    assert breaker_states(engine)["email"]["state"] == "closed"


def test_the_breaker_needs_several_addresses_and_a_probe_closes_it() -> None:
    breaker = Breaker("email", first_probe_seconds=30, max_probe_seconds=300)
    for _ in range(10):
        assert not breaker.failure("one@x.vn", "452", T0)  # one mailbox refusing is not an outage
    breaker.success()
    for i in range(4):
        assert not breaker.failure(f"u{i}@x.vn", "connection refused", T0)
    assert breaker.failure("u4@x.vn", "connection refused", T0)
    assert breaker.blocks(T0 + timedelta(seconds=29)) and breaker.probe_due(T0 + timedelta(seconds=30))
    probes = []
    moment = T0 + timedelta(seconds=30)
    for _ in range(6):  # failed probes wait longer, up to the cap
        breaker.failure("u0@x.vn", "connection refused", moment)
        assert breaker.probe_at is not None
        probes.append((breaker.probe_at - moment).total_seconds())
        moment = breaker.probe_at
    assert probes == [60, 120, 240, 300, 300, 300]
    restored = Breaker.from_state("email", json.loads(json.dumps(breaker.to_state())))
    assert restored.is_open and restored.probe_at == breaker.probe_at
    restored.success()
    assert not restored.is_open and not restored.blocks(moment)


def test_status_shows_the_outage_and_the_next_real_retry_in_vietnam_time(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from store.db import make_engine, upgrade_schema
    from store.state import save_breakers

    url = f"sqlite:///{tmp_path / 'status.db'}"
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", url)
    engine = make_engine(url)
    upgrade_schema(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    probe = now + timedelta(minutes=4)
    add(engine, row("waiting", at=now - timedelta(minutes=10)))
    breaker = Breaker("email")
    for i in range(5):
        breaker.failure(f"u{i}@x.vn", "Không kết nối được máy chủ thư", now - timedelta(minutes=6))
    breaker.probe_at = probe
    save_breakers(engine, {"email": breaker.to_state()})

    data = json.loads(run_cli("status", "--json").stdout)
    email = data["channels"]["email"]
    assert email["outage"]["error"] == "Không kết nối được máy chủ thư"
    local = probe.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert email["next_attempt_at"] == local.isoformat() and email["next_attempt_at"].endswith("+07:00")
    text = run_cli("status").stdout
    assert "đang gián đoạn" in text and "không mất lượt thử" in text
    assert f"thử lại lúc {local:%H:%M %d/%m/%Y}" in text
