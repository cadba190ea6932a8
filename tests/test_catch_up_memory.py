"""A long catch-up keeps a bounded working set: what it plans, prepares and writes at once, and what the
database connection keeps afterwards (structural checks: no timing, no RSS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from store import outbox
from store.db import make_engine, session_scope, upgrade_schema
from store.models import OutboxStatus

PAST = datetime(2020, 12, 1, 0, 30, tzinfo=UTC)


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
