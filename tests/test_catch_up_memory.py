"""A long catch-up keeps a bounded working set: what it plans, prepares and writes at once, and what the
database connection keeps afterwards (structural checks: no timing, no RSS)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from store import outbox
from store.db import make_engine, session_scope, upgrade_schema
from store.models import OutboxStatus

PAST = datetime(2020, 12, 1, 0, 30, tzinfo=UTC)
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def messages(first: int, count: int, body: str) -> list[outbox.NewMessage]:
    rows = []
    for i in range(first, first + count):
        key = f"reminder/CCHC-2020:T.{i}/2020-12-01/d1|U{i}|email"
        rows.append(
            {
                "key": key,
                "kind": "reminder",
                "channel": "email",
                "recipient": f"U{i}",
                "recipient_name": f"Đơn vị {i}",
                "address": f"unit{i}@nhacviec.example",
                "subject": f"Nhắc việc số {i}",
                "body_text": body,
                "status": OutboxStatus.PENDING,
                "due_at": PAST + timedelta(minutes=i),
            }
        )
    return [outbox.NewMessage.single(row) for row in rows]


def test_sqlite_writes_messages_of_any_count_through_one_statement(tmp_path: Path) -> None:
    """pysqlite keeps each distinct statement prepared with the values last bound to it until the
    connection closes: a multi-row INSERT per number of rows kept a megabyte bundle per shape (120 MB after
    a year's catch-up). Every message row goes through the one single-row INSERT."""
    engine = make_engine(f"sqlite:///{tmp_path / 'nhacviec.db'}")
    upgrade_schema(engine)
    inserts: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if statement.startswith("INSERT INTO outbox "):
            inserts.append((statement, many))

    sa.event.listen(engine, "before_cursor_execute", seen)
    first = 0
    for count in (1, 3, 7, 2):
        with session_scope(engine) as session:
            assert outbox.enqueue(session, messages(first, count, "x" * 1000)) == count
        first += count
    assert len(inserts) == first  # one execution per message
    assert len({statement for statement, _ in inserts}) == 1
    assert not any(many for _, many in inserts)
    with session_scope(engine) as session:
        assert outbox.counts_by_status(session) == {OutboxStatus.PENDING: first}
    engine.dispose()


def test_a_long_catch_up_never_holds_more_than_a_chunk_planned_nor_more_than_a_day_prepared(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """What a catch-up holds at once: each planning covers at most a chunk of days, planned again only once
    the days before it are written and sent; each preparation carries one day's notifications for one slice
    of recipients, and that day's messages are sent before the next day is prepared. Planning the year in one
    go, or preparing more than a day at once, fails here."""
    import delivery.pipeline
    import scheduler.passes

    monkeypatch.setenv("NHACVIEC_MAX_CATCHUP_DAYS", "400")
    monkeypatch.setenv("NHACVIEC_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(delivery.pipeline, "SLICE_DELIVERIES", 5)
    assert run_cli("init").exit_code == 0
    assert run_cli("run", "--once", "--at", "2020-09-01 07:30").exit_code == 0
    events: list[tuple[str, Any]] = []
    real_plan, real_prepare, real_dispatch = (
        delivery.pipeline.plan,
        delivery.pipeline.prepare,
        scheduler.passes.dispatch,
    )

    def plan(inputs: Any, rules: Any, calendar: Any, start: date, end: date) -> Any:
        events.append(("plan", (start, end)))
        return real_plan(inputs, rules, calendar, start, end)

    def prepare(engine: Any, setup: Any, renderer: Any, notifications: list[Any], **options: Any) -> Any:
        days = {n.at.astimezone(VN).date() for n in notifications}
        wanted = [r for n in notifications for r in n.recipients if r.code in (options["only"] or {r.code})]
        prepared = real_prepare(engine, setup, renderer, notifications, **options)
        events.append(("prepare", (days, options["only"], len(wanted), len(prepared.messages))))
        return prepared

    async def dispatch(*args: Any, **options: Any) -> Any:
        events.append(("dispatch", None))
        return await real_dispatch(*args, **options)

    monkeypatch.setattr(delivery.pipeline, "plan", plan)
    monkeypatch.setattr(delivery.pipeline, "prepare", prepare)
    monkeypatch.setattr(scheduler.passes, "dispatch", dispatch)
    assert run_cli("run", "--once", "--at", "2020-12-31 07:30").exit_code == 0

    spans = [span for kind, span in events if kind == "plan"]
    assert len(spans) >= 2 * 4  # 122 days: at least four chunks, each planned twice (series, then days)
    assert all((end - start).days < 31 for start, end in spans)
    prepared = [what for kind, what in events if kind == "prepare"]
    assert len(prepared) > 20
    assert all(len(days) == 1 for days, *_ in prepared)  # never more than one day at once
    sliced = [(only, size) for _, only, size, _ in prepared if only is not None]
    assert sliced and all(size <= 5 or len(only) == 1 for only, size in sliced)
    # each chunk's days are planned only after the previous chunk's days were prepared and sent
    second_round = [i for i, (kind, _) in enumerate(events) if kind == "plan"][len(spans) // 2 :]
    assert all(any(kind == "prepare" for kind, _ in events[a:b]) for a, b in pairwise(second_round))
    # a day's messages are sent before the next day is prepared
    days = [(i, min(what[0]), what[3]) for i, (kind, what) in enumerate(events) if kind == "prepare"]
    sent_between = 0
    for (i, day, messages), (j, later, _) in pairwise(days):
        if later != day and messages:
            assert any(kind == "dispatch" for kind, _ in events[i:j]), (day, later)
            sent_between += 1
    assert sent_between > 3


def test_on_glibc_big_blocks_are_mapped_and_freed_pages_given_back() -> None:
    import platform

    from scheduler.memory import map_big_blocks, release_freed_memory

    glibc = platform.libc_ver()[0] == "glibc"
    assert map_big_blocks() is glibc
    assert release_freed_memory() is glibc
