"""The outbox table: enqueue once per key, claim atomically, record each outcome.

Claiming is one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING``: on PostgreSQL several dispatchers (and a manual trigger beside the
service) never take the same row; on SQLite the single statement is atomic. A
row claimed by a dispatcher that died stays ``sending`` until its lease runs
out, then it is claimed again: nothing is lost, and only what was in flight at
the crash can be sent twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.models import AddressAlias, ConfigProblemRecord, OutboxMessage, OutboxStatus, utcnow

_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]


def _insert_for(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite both do)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def enqueue(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows whose key is new (or replace a skipped one); returns how many were written."""
    if not rows:
        return 0
    insert = _insert_for(session)
    statement = insert(_TABLE)
    # A key already in the outbox stays as it is, unless it was skipped for want of an address: the next
    # pass replaces it, so a message goes once the admin has added the address.
    replaceable = [c.name for c in _TABLE.c if c.name not in ("id", "key", "created_at")]
    statement = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={name: statement.excluded[name] for name in replaceable},
        where=_TABLE.c.status == OutboxStatus.SKIPPED,
    ).returning(_TABLE.c.id)
    inserted = 0
    for start in range(0, len(rows), 500):
        # executemany ("insertmanyvalues"): far cheaper to build than one VALUES clause with every row in it
        inserted += len(session.execute(statement, list(rows[start : start + 500])).all())
    return inserted


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        found.update(
            session.exec(
                select(OutboxMessage.key).where(
                    col(OutboxMessage.key).in_(chunk), OutboxMessage.status != OutboxStatus.SKIPPED
                )
            )
        )
    return found


def skipped_since(engine: Engine, since: datetime) -> set[str]:
    """Notification keys with a row skipped for want of an address, due since ``since`` (to plan again)."""
    table = _TABLE
    with engine.begin() as connection:
        rows = connection.execute(
            sa.select(table.c.notification_key).where(
                table.c.status == OutboxStatus.SKIPPED, table.c.due_at >= since
            )
        )
        return {row.notification_key for row in rows}


def claim(
    engine: Engine,
    *,
    worker: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    channels: Sequence[str] | None = None,
    due_by: datetime | None = None,
) -> list[OutboxMessage]:
    """Take up to ``limit`` due rows for this worker (pending and due, or abandoned by a dead worker).

    ``now`` is the real moment of the claim (claims and leases are always real time); ``due_by`` is the
    send-time cutoff, which a simulation (``--at``) may set elsewhere (default: ``now``).
    """
    table = _TABLE
    due = sa.or_(
        sa.and_(table.c.status == OutboxStatus.PENDING, table.c.next_attempt_at <= (due_by or now)),
        sa.and_(table.c.status == OutboxStatus.SENDING, table.c.claimed_at < now - lease),
    )
    candidates = sa.select(table.c.id).where(due)
    if channels is not None:
        candidates = candidates.where(table.c.channel.in_(list(channels)))
    candidates = candidates.order_by(table.c.next_attempt_at, table.c.id).limit(limit)
    if engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        sa.update(table)
        .where(table.c.id.in_(candidates.scalar_subquery()))
        .values(status=OutboxStatus.SENDING, claimed_by=worker, claimed_at=now)
        .returning(*table.c)
    )
    with engine.begin() as connection:
        rows = connection.execute(statement).mappings().all()
    claimed = [OutboxMessage.model_validate(dict(row)) for row in rows]
    claimed.sort(key=lambda m: (m.next_attempt_at, m.id or 0))
    return claimed


def _finish(engine: Engine, message_id: int, worker: str, values: dict[str, Any]) -> bool:
    """Record an outcome, only if this worker still holds the claim (a reclaimed row is not overwritten)."""
    table = _TABLE
    statement = (
        sa.update(table)
        .where(table.c.id == message_id, table.c.status == OutboxStatus.SENDING, table.c.claimed_by == worker)
        .values(**values, claimed_by=None, claimed_at=None)
    )
    with engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def mark_sent(
    engine: Engine, message: OutboxMessage, worker: str, *, provider_id: str | None, at: datetime
) -> bool:
    return _finish(
        engine,
        message.id or 0,
        worker,
        {
            "status": OutboxStatus.SENT,
            "provider_id": provider_id,
            "sent_at": at,
            "attempts": message.attempts + 1,
            "last_error": None,
        },
    )


def mark_retry(
    engine: Engine, message: OutboxMessage, worker: str, *, error: str, next_attempt_at: datetime
) -> bool:
    return _finish(
        engine,
        message.id or 0,
        worker,
        {
            "status": OutboxStatus.PENDING,
            "attempts": message.attempts + 1,
            "last_error": error,
            "next_attempt_at": next_attempt_at,
        },
    )


def mark_final(
    engine: Engine, message: OutboxMessage, worker: str, *, status: OutboxStatus, error: str
) -> bool:
    """A permanent failure (``failed``) or the last attempt spent (``dead``)."""
    return _finish(
        engine,
        message.id or 0,
        worker,
        {"status": status, "attempts": message.attempts + 1, "last_error": error},
    )


def record_problem(session: Session, key: str, message: str, *, now: datetime | None = None) -> bool:
    """Remember a configuration problem; True the first time it is seen (report it then, not every time).

    Safe when several senders hit the same problem at once: the first insert wins, the others count.
    """
    now = now or utcnow()
    table = ConfigProblemRecord.__table__  # type: ignore[attr-defined]
    insert = _insert_for(session)
    statement = (
        insert(table)
        .values(key=key, message=message, first_seen=now, last_seen=now, occurrences=1)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )
    if session.execute(statement).first() is not None:
        return True
    session.execute(
        sa.update(table)
        .where(table.c.key == key)
        .values(last_seen=now, message=message, occurrences=table.c.occurrences + 1)
    )
    return False


def record_alias(session: Session, channel: str, old: str, new: str) -> None:
    alias = session.get(AddressAlias, (channel, old)) or AddressAlias(channel=channel, old=old, new=new)
    alias.new = new
    session.add(alias)


def aliases(session: Session, channel: str) -> dict[str, str]:
    return {a.old: a.new for a in session.exec(select(AddressAlias).where(AddressAlias.channel == channel))}


def list_messages(
    session: Session, status: str | None = None, limit: int | None = None
) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
    if status:
        query = query.where(OutboxMessage.status == status)
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.exec(select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
    return {status: count for status, count in rows}


def requeue(
    session: Session, *, key: str | None = None, all_failed: bool = False, now: datetime
) -> list[str]:
    """Send again: one key (whatever its state but ``sending``), or every failed and dead-lettered row."""
    query = select(OutboxMessage)
    if key is not None:
        query = query.where(OutboxMessage.key == key)
    elif all_failed:
        query = query.where(col(OutboxMessage.status).in_([OutboxStatus.FAILED, OutboxStatus.DEAD]))
    else:
        return []
    keys = []
    for message in session.exec(query):
        if message.status in (
            OutboxStatus.SENDING,
            OutboxStatus.SKIPPED,
        ):  # a skipped row has nothing to send
            continue
        message.status = OutboxStatus.PENDING
        message.last_error = None
        message.attempts = 0
        message.next_attempt_at = now
        message.claimed_by = None
        message.claimed_at = None
        session.add(message)
        keys.append(message.key)
    session.flush()
    return keys


def config_problems(session: Session) -> list[ConfigProblemRecord]:
    return list(session.exec(select(ConfigProblemRecord).order_by(col(ConfigProblemRecord.first_seen))))


def release_abandoned(engine: Engine, host: str, is_alive: Callable[[int], bool]) -> int:
    """Give back rows claimed on this host by a process that no longer runs (killed, power cut).

    Other hosts' claims are left to their lease. Returns how many rows were released.
    """
    table = _TABLE
    with engine.begin() as connection:
        claimed = connection.execute(
            sa.select(table.c.id, table.c.claimed_by).where(table.c.status == OutboxStatus.SENDING)
        ).all()
        claimed = [row for row in claimed if row.claimed_by and row.claimed_by.rsplit(":", 1)[0] == host]
        dead = [
            row.id
            for row in claimed
            if row.claimed_by.rsplit(":", 1)[-1].isdigit()
            and not is_alive(int(row.claimed_by.rsplit(":", 1)[-1]))
        ]
        if not dead:
            return 0
        connection.execute(
            sa.update(table)
            .where(table.c.id.in_(dead), table.c.status == OutboxStatus.SENDING)
            .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)
        )
    return len(dead)
