"""The outbox and the dispatcher: once per key, retries with backoff, dead letters, failures made visible."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from delivery.dispatcher import Dispatcher
from delivery.pipeline import prebuild
from delivery.retry import RetryPolicy
from notifiers.base import (
    Notifier,
    OutgoingMessage,
    PermanentError,
    SendResult,
    TransientError,
)
from store import outbox
from store.db import session_scope
from store.models import ConfigProblemRecord, OutboxMessage, OutboxStatus
from tests.support.outbox_fill import T0, ScriptedNotifier, add, row, status_of


def dispatcher(engine: Engine, notifier: Notifier, **options: object) -> Dispatcher:
    policy = RetryPolicy(
        max_attempts=3, base_seconds=60, max_seconds=600, window_seconds=3600, rng=random.Random(1)
    )
    return Dispatcher(engine, {"email": notifier}, policy=policy, **options)  # type: ignore[arg-type]


def test_enqueue_keeps_one_row_per_key(engine: Engine) -> None:
    assert add(engine, row("a"), row("b")) == 2
    assert add(engine, row("a", subject="changed"), row("c")) == 1
    with session_scope(engine) as session:
        assert [m.key for m in outbox.list_messages(session)] == ["a", "b", "c"]
        assert outbox.list_messages(session)[0].subject == "Nhắc việc"


def test_what_a_message_says_is_kept_apart_and_comes_back_with_its_claim(engine: Engine) -> None:
    """Claiming and recording rewrite the outbox row: its texts and email bytes live in outbox_content,
    written with it, handed out by the claim, and deleted with it."""
    body = "Nội dung " * 2000  # an email's size: on SQLite every UPDATE of a row writes it whole again
    first = row("a", body_text=body, body_html="<p>HTML</p>", extra={"phone": "0901"})
    prebuild([first])
    add(engine, first, row("b"))
    columns = {c["name"] for c in sa.inspect(engine).get_columns("outbox")}
    assert not columns & {"body_text", "body_html", "extra", "wire"}

    claimed = {
        m.key: m for m in outbox.claim(engine, worker="w1", now=T0, limit=5, lease=timedelta(minutes=5))
    }
    assert claimed["a"].body_text == body and claimed["a"].body_html == "<p>HTML</p>"
    assert claimed["a"].extra == {"phone": "0901"} and claimed["b"].body_text == "Nội dung"
    assert claimed["a"].wire is not None and b"multipart/alternative" in claimed["a"].wire
    assert claimed["b"].wire is None

    with session_scope(engine) as session:
        session.exec(sa.delete(OutboxMessage).where(OutboxMessage.key == "a"))  # type: ignore[call-overload,arg-type]
    with session_scope(engine) as session:
        assert set(outbox.content_of(session, [claimed["a"].id, claimed["b"].id])) == {claimed["b"].id}


def test_claims_never_overlap_and_only_take_due_rows(engine: Engine) -> None:
    add(engine, *[row(f"k{i}") for i in range(10)], row("later", at=T0 + timedelta(days=1)))
    first = outbox.claim(engine, worker="w1", now=T0, limit=6, lease=timedelta(minutes=5))
    second = outbox.claim(engine, worker="w2", now=T0, limit=6, lease=timedelta(minutes=5))
    assert len(first) == 6 and len(second) == 4
    assert not {m.key for m in first} & {m.key for m in second}
    assert outbox.claim(engine, worker="w3", now=T0, limit=6, lease=timedelta(minutes=5)) == []


def test_a_claim_abandoned_by_a_dead_worker_is_taken_again_after_its_lease(engine: Engine) -> None:
    add(engine, row("a"))
    [claimed] = outbox.claim(engine, worker="dead", now=T0, limit=5, lease=timedelta(minutes=5))
    assert (
        outbox.claim(engine, worker="new", now=T0 + timedelta(minutes=4), limit=5, lease=timedelta(minutes=5))
        == []
    )
    [again] = outbox.claim(
        engine, worker="new", now=T0 + timedelta(minutes=6), limit=5, lease=timedelta(minutes=5)
    )
    assert again.key == "a"
    # the dead worker's late answer is not recorded over the new claim
    assert not outbox.mark_sent(engine, claimed, "dead", provider_id="x", at=T0)
    assert outbox.mark_sent(engine, again, "new", provider_id="y", at=T0)


def test_outcomes_recorded_in_one_group_skip_only_the_claims_taken_over(engine: Engine) -> None:
    add(engine, *[row(f"k{i}") for i in range(4)])
    mine = outbox.claim(engine, worker="old", now=T0, limit=4, lease=timedelta(minutes=5))
    [taken] = [m for m in mine if m.key == "k2"]
    with engine.begin() as connection:  # another worker took k2 over after the lease
        connection.execute(
            sa.update(OutboxMessage.__table__)
            .where(OutboxMessage.__table__.c.id == taken.id)
            .values(claimed_by="new")  # type: ignore[attr-defined]
        )
    sent = outbox.sent_values(mine[0], provider_id="<id>", at=T0)
    retry = {"status": OutboxStatus.PENDING, "attempts": 1, "last_error": "4xx", "next_attempt_at": T0}
    outcomes = [(m.id, retry if m.key == "k3" else sent) for m in mine]
    done = outbox.finish_many(engine, "old", outcomes)
    assert done == [m.key != "k2" for m in mine]
    states = status_of(engine)
    assert states["k2"] == (OutboxStatus.SENDING, 0), "a claim taken over is not overwritten"
    assert states["k0"][0] == states["k1"][0] == OutboxStatus.SENT and states["k3"][0] == OutboxStatus.PENDING
    assert outbox.finish_many(engine, "old", [(m.id, sent) for m in mine if m.key != "k2"]) == [False] * 3


def test_dispatch_sends_everything_due_once(engine: Engine) -> None:
    add(engine, *[row(f"k{i}") for i in range(25)], row("tomorrow", at=T0 + timedelta(days=1)))
    notifier = ScriptedNotifier()
    summary = asyncio.run(dispatcher(engine, notifier, batch_size=10).run_once(T0))
    assert summary.sent == 25
    assert sorted(notifier.sent) == sorted(f"k{i}" for i in range(25))
    assert asyncio.run(dispatcher(engine, notifier).run_once(T0)).sent == 0
    states = status_of(engine)
    assert states["k0"] == (OutboxStatus.SENT, 1) and states["tomorrow"] == (OutboxStatus.PENDING, 0)
    with session_scope(engine) as session:
        assert (
            session.exec(select(OutboxMessage).where(OutboxMessage.key == "k3")).one().provider_id == "id-k3"
        )


def test_transient_failures_back_off_then_succeed(engine: Engine) -> None:
    add(engine, row("flaky"))
    notifier = ScriptedNotifier({"flaky": [TransientError("421 bận"), None]})
    d = dispatcher(engine, notifier)
    assert asyncio.run(d.run_once(T0)).outcomes == {"pending": 1}
    with session_scope(engine) as session:
        message = session.exec(select(OutboxMessage)).one()
        wait = (message.next_attempt_at.replace(tzinfo=UTC) - T0).total_seconds()
        assert 30 <= wait <= 60 and message.last_error == "421 bận"
    assert asyncio.run(d.run_once(T0 + timedelta(seconds=20))).sent == 0  # not yet
    assert asyncio.run(d.run_once(T0 + timedelta(seconds=61))).sent == 1
    assert status_of(engine)["flaky"] == (OutboxStatus.SENT, 2)


def test_retry_after_from_the_provider_is_honoured(engine: Engine) -> None:
    add(engine, row("limited"))
    notifier = ScriptedNotifier({"limited": [TransientError("429", retry_after=900)]})
    asyncio.run(dispatcher(engine, notifier).run_once(T0))
    with session_scope(engine) as session:
        message = session.exec(select(OutboxMessage)).one()
        assert (message.next_attempt_at.replace(tzinfo=UTC) - T0).total_seconds() >= 900


def test_after_the_last_attempt_a_message_is_dead_lettered(engine: Engine) -> None:
    add(engine, row("doomed"))
    notifier = ScriptedNotifier({"doomed": [TransientError("mất kết nối")] * 5})
    d = dispatcher(engine, notifier)
    moment = T0
    for _ in range(3):
        asyncio.run(d.run_once(moment))
        moment += timedelta(hours=1)
    assert status_of(engine)["doomed"] == (OutboxStatus.DEAD, 3)
    assert notifier.attempts["doomed"] == 3
    asyncio.run(d.run_once(moment + timedelta(days=1)))
    assert notifier.attempts["doomed"] == 3  # dead letters are not retried on their own
    with session_scope(engine) as session:
        assert [m.key for m in outbox.list_messages(session, "dead")] == ["doomed"]
        assert outbox.requeue(session, all_failed=True, now=moment) == ["doomed"]
    asyncio.run(d.run_once(moment))
    assert status_of(engine)["doomed"] == (OutboxStatus.PENDING, 1)


def test_a_permanent_failure_stops_at_once_and_a_config_problem_is_recorded_once(engine: Engine) -> None:
    add(engine, row("rejected"), row("auth1"), row("auth2"))
    bad_login = PermanentError("Sai mật khẩu SMTP", config_problem=True)
    notifier = ScriptedNotifier(
        {"rejected": [PermanentError("550 không có hộp thư")], "auth1": [bad_login], "auth2": [bad_login]}
    )
    summary = asyncio.run(dispatcher(engine, notifier).run_once(T0))
    assert summary.outcomes == {"failed": 3}
    assert notifier.attempts == {"rejected": 1, "auth1": 1, "auth2": 1}
    with session_scope(engine) as session:
        problems = session.exec(select(ConfigProblemRecord)).all()
        assert len(problems) == 1 and problems[0].occurrences == 2
        assert outbox.requeue(session, key="rejected", now=T0) == ["rejected"]
        assert outbox.requeue(session, key="missing", now=T0) == []


def test_an_unexpected_exception_is_retried_not_lost(engine: Engine) -> None:
    class Broken(ScriptedNotifier):
        async def send(self, message: OutgoingMessage) -> SendResult:
            raise RuntimeError("bug")

    add(engine, row("a"))
    assert asyncio.run(dispatcher(engine, Broken()).run_once(T0)).outcomes == {"pending": 1}
    assert status_of(engine)["a"] == (OutboxStatus.PENDING, 1)


def test_retry_policy_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_seconds=30, max_seconds=600, rng=random.Random(7))
    delays = [policy.delay(n) for n in range(1, 8)]
    for n, delay in enumerate(delays, start=1):
        nominal = min(600, 30 * 2 ** (n - 1))
        assert nominal / 2 <= delay <= nominal
    assert policy.next_attempt(T0, 10) is None
    assert policy.delay(1, retry_after=120) >= 120


@pytest.mark.parametrize("channel", ["email", "telegram"])
def test_concurrency_per_channel_is_bounded(engine: Engine, channel: str) -> None:
    class Counting(ScriptedNotifier):
        max_concurrency = 3

        def __init__(self) -> None:
            super().__init__()
            self.active = 0
            self.peak = 0

        async def send(self, message: OutgoingMessage) -> SendResult:
            self.active += 1
            self.peak = max(self.peak, self.active)
            await asyncio.sleep(0.005)
            self.active -= 1
            return SendResult()

    add(engine, *[row(f"{channel}{i}", channel=channel) for i in range(20)])
    notifier = Counting()
    d = Dispatcher(engine, {channel: notifier}, policy=RetryPolicy())
    assert asyncio.run(d.run_once(T0)).sent == 20
    assert notifier.peak == 3


def test_a_simulated_moment_never_takes_over_a_live_claim(engine: Engine) -> None:
    add(engine, row("in-flight"))
    real_now = datetime.now(UTC)
    assert outbox.claim(engine, worker="other-host:1", now=real_now, limit=5, lease=timedelta(minutes=10))
    notifier = ScriptedNotifier()
    asyncio.run(dispatcher(engine, notifier).run_once(real_now + timedelta(days=400)))  # --at far ahead
    assert notifier.sent == []
    assert status_of(engine)["in-flight"] == (OutboxStatus.SENDING, 0)
