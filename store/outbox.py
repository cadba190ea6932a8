"""The outbox: messages (what is sent) and their items (what was planned); enqueue once, claim atomically, record each outcome.

A message carries one or more items (bundled delivery, see delivery/pipeline.py). Idempotency is per
item: an item's key is unique in ``outbox_items``, so an item is carried by one message only, however
often it is planned again or bundled anew; a message, its content (``outbox_content``: texts, extra data,
email bytes) and its items are written in one transaction. The content is apart so that claims and
outcomes, which update the ``outbox`` row, rewrite a small row.

Claiming is one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING``: on PostgreSQL several dispatchers (and a manual trigger beside the
service) never take the same row; on SQLite the single statement is atomic. A
row claimed by a dispatcher that died stays ``sending`` until its lease runs
out, then it is claimed again: nothing is lost, and only what was in flight at
the crash can be sent twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.models import (
    AddressAlias,
    ConfigProblemRecord,
    OutboxContent,
    OutboxItem,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)

_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
_ITEMS = OutboxItem.__table__  # type: ignore[attr-defined]
_CONTENT = OutboxContent.__table__  # type: ignore[attr-defined]
BUNDLE_KIND = "bundle"  # the kind of a message that carries several items
_CHUNK = 500


@dataclass(frozen=True)
class NewItem:
    """One planned notification to one recipient on one channel (its delivery key is ``key``)."""

    key: str
    notification_key: str
    kind: str
    rule: str
    recipient: str
    role: str
    plan: str | None = None
    task: str | None = None
    period: str | None = None
    level: int | None = None


@dataclass
class NewMessage:
    """A rendered message for the outbox and the items it carries (most urgent first)."""

    key: str
    channel: str
    recipient: str  # the recipient code ("TCCB.head"); several codes sharing one address: the first
    recipient_name: str
    address: str | None
    status: str  # pending, or skipped when there is no address
    due_at: datetime
    created_at: datetime
    items: tuple[NewItem, ...]
    subject: str = ""
    body_text: str = ""
    body_html: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    last_error: str | None = None
    origin: str = "planner"
    wire: bytes | None = None  # email: built once here (delivery.pipeline.enqueue), sent as is

    @property
    def role(self) -> str:
        return "to" if any(item.role == "to" for item in self.items) else "cc"

    @classmethod
    def single(cls, row: Mapping[str, Any]) -> NewMessage:
        """A message of one item from an outbox row's flat columns (key, kind, task, channel, ...)."""
        item = NewItem(
            key=row["key"],
            notification_key=row.get("notification_key") or str(row["key"]).split("|")[0],
            kind=row["kind"],
            rule=row.get("rule", row["kind"]),
            recipient=row["recipient"],
            role=row.get("role", "to"),
            plan=row.get("plan"),
            task=row.get("task"),
            period=row.get("period"),
            level=row.get("level"),
        )
        due_at = row["due_at"]
        return cls(
            key=row["key"],
            channel=row["channel"],
            recipient=row["recipient"],
            recipient_name=row.get("recipient_name", ""),
            address=row.get("address"),
            status=row.get("status", OutboxStatus.PENDING),
            due_at=due_at,
            created_at=row.get("created_at", due_at),
            items=(item,),
            subject=row.get("subject", ""),
            body_text=row.get("body_text", ""),
            body_html=row.get("body_html"),
            extra=dict(row.get("extra") or {}),
            last_error=row.get("last_error"),
            origin=row.get("origin", "planner"),
        )

    def columns(self) -> dict[str, Any]:
        """The outbox row; what it is about is its item's when it has one, "bundle" otherwise."""
        one = self.items[0] if len(self.items) == 1 else None
        return {
            "key": self.key,
            "notification_key": one.notification_key if one else self.key,
            "kind": one.kind if one else BUNDLE_KIND,
            "rule": one.rule if one else BUNDLE_KIND,
            "plan": one.plan if one else _common(item.plan for item in self.items),
            "task": one.task if one else None,
            "period": one.period if one else None,
            "level": one.level if one else None,
            "channel": self.channel,
            "recipient": self.recipient,
            "role": self.role,
            "recipient_name": self.recipient_name,
            "address": self.address,
            "subject": self.subject,
            "status": self.status,
            "due_at": self.due_at,
            "next_attempt_at": self.due_at,
            "attempts": 0,
            "last_error": self.last_error,
            "created_at": self.created_at,
            "origin": self.origin,
        }

    def content(self, message_id: int) -> dict[str, Any]:
        """Its ``outbox_content`` row: what it says."""
        return {
            "message_id": message_id,
            "body_text": self.body_text,
            "body_html": self.body_html,
            "extra": self.extra,
            "wire": self.wire,
        }


def _common(values: Iterable[str | None]) -> str | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


class ItemConflict(Exception):
    """An item being enqueued is already carried by another message (a concurrent enqueue won)."""


def _insert_for(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite both do)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def enqueue(session: Session, messages: Sequence[NewMessage]) -> int:
    """Write messages whose items are new (in the caller's transaction); returns how many were written.

    An item of a ``skipped`` message (no address when it was planned) is taken out of it first, so
    it goes once the admin has added the address. An item already carried by another message raises
    :class:`ItemConflict`: the caller's transaction must be rolled back and the messages built again.
    """
    if not messages:
        return 0
    item_keys = [item.key for message in messages for item in message.items]
    _release_skipped(session, item_keys)
    insert = _insert_for(session)
    statement = (
        insert(_TABLE).on_conflict_do_nothing(index_elements=["key"]).returning(_TABLE.c.id, _TABLE.c.key)
    )
    ids: dict[str, int] = {}
    content = sa.insert(_CONTENT)
    if session.get_bind().dialect.name == "sqlite":
        # One row per statement: pysqlite keeps each distinct statement it ran prepared, with the values last
        # bound to it, until the connection closes; a multi-row INSERT is a new statement for each number of
        # rows, and a long catch-up's bundles are megabytes each (a year of 10,000 tasks kept 120 MB).
        for message in messages:
            for row in session.execute(statement, message.columns()).all():
                ids[row.key] = row.id
                session.execute(content, message.content(row.id))
    else:
        for start in range(0, len(messages), _CHUNK):
            # executemany ("insertmanyvalues"): far cheaper to build than one VALUES clause with every row
            chunk = messages[start : start + _CHUNK]
            inserted = {row.key: row.id for row in session.execute(statement, [m.columns() for m in chunk])}
            contents = [m.content(inserted[m.key]) for m in chunk if m.key in inserted]
            if contents:
                session.execute(content, contents)
            ids.update(inserted)
    items = [
        {**item.__dict__, "message_id": ids[message.key], "position": position}
        for message in messages
        if message.key in ids
        for position, item in enumerate(message.items)
    ]
    item_statement = insert(_ITEMS).on_conflict_do_nothing(index_elements=["key"]).returning(_ITEMS.c.key)
    written = 0
    for start in range(0, len(items), _CHUNK):
        written += len(session.execute(item_statement, items[start : start + _CHUNK]).all())
    if written != len(items):
        raise ItemConflict(f"{len(items) - written} item(s) are already in another message")
    return len(ids)


def _release_skipped(session: Session, item_keys: Sequence[str]) -> None:
    """Take ``item_keys`` out of skipped messages, and drop the skipped messages left empty."""
    skipped = sa.select(_TABLE.c.id).where(_TABLE.c.status == OutboxStatus.SKIPPED)
    emptied: set[int] = set()
    for start in range(0, len(item_keys), _CHUNK):
        chunk = list(item_keys[start : start + _CHUNK])
        rows = session.execute(
            sa.delete(_ITEMS)
            .where(_ITEMS.c.key.in_(chunk), _ITEMS.c.message_id.in_(skipped))
            .returning(_ITEMS.c.message_id)
        ).all()
        emptied.update(row.message_id for row in rows)
    if emptied:
        still_carrying = sa.select(_ITEMS.c.message_id).where(_ITEMS.c.message_id.in_(list(emptied)))
        session.execute(
            sa.delete(_TABLE).where(_TABLE.c.id.in_(list(emptied)), _TABLE.c.id.not_in(still_carrying))
        )


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """The item keys among ``keys`` already carried by a message that is not ``skipped``."""
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        found.update(
            session.execute(
                sa.select(_ITEMS.c.key)
                .join(_TABLE, _TABLE.c.id == _ITEMS.c.message_id)
                .where(_ITEMS.c.key.in_(chunk), _TABLE.c.status != OutboxStatus.SKIPPED)
            ).scalars()
        )
    return found


def skipped_since(engine: Engine, since: datetime) -> set[str]:
    """Notification keys with an item skipped for want of an address, due since ``since`` (to plan again)."""
    with engine.begin() as connection:
        rows = connection.execute(
            sa.select(_ITEMS.c.notification_key)
            .join(_TABLE, _TABLE.c.id == _ITEMS.c.message_id)
            .where(_TABLE.c.status == OutboxStatus.SKIPPED, _TABLE.c.due_at >= since)
        )
        return {row.notification_key for row in rows}


def items_of(session: Session, message_ids: Sequence[int]) -> dict[int, list[OutboxItem]]:
    """The items of each message, in their order in it."""
    found: dict[int, list[OutboxItem]] = {}
    for start in range(0, len(message_ids), _CHUNK):
        chunk = list(message_ids[start : start + _CHUNK])
        for item in session.exec(
            select(OutboxItem)
            .where(col(OutboxItem.message_id).in_(chunk))
            .order_by(col(OutboxItem.message_id), col(OutboxItem.position))
        ):
            found.setdefault(item.message_id, []).append(item)
    return found


def content_of(session: Session, message_ids: Sequence[int]) -> dict[int, OutboxContent]:
    """What each message says (its texts, extra data and email bytes), by message id."""
    found: dict[int, OutboxContent] = {}
    for start in range(0, len(message_ids), _CHUNK):
        chunk = list(message_ids[start : start + _CHUNK])
        for content in session.exec(select(OutboxContent).where(col(OutboxContent.message_id).in_(chunk))):
            found[content.message_id] = content
    return found


@dataclass(slots=True)
class ClaimedMessage:
    """An outbox row as :func:`claim` hands it out: its columns as plain attributes, no ORM object.

    Built straight from the claim's RETURNING row (an ORM object per row cost more than the claim itself).
    """

    id: int
    key: str
    notification_key: str
    kind: str
    rule: str
    plan: str | None
    task: str | None
    period: str | None
    level: int | None
    channel: str
    recipient: str
    role: str
    recipient_name: str
    address: str | None
    subject: str
    body_text: str
    body_html: str | None
    extra: dict[str, Any] | None
    wire: bytes | None
    status: str
    due_at: datetime
    next_attempt_at: datetime
    attempts: int
    last_error: str | None
    provider_id: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    origin: str


_CONTENT_NAMES = ("body_text", "body_html", "extra", "wire")  # from outbox_content, the rest from outbox
_CLAIMED_COLUMNS = [_TABLE.c[name] for name in ClaimedMessage.__slots__ if name not in _CONTENT_NAMES]
_CLAIMED_NAMES = [column.name for column in _CLAIMED_COLUMNS]
# what a claimed row without a content row would say (never: a message and its content are written together)
_NO_CONTENT: tuple[Any, ...] = ("", None, {}, None)


def claim(
    engine: Engine,
    *,
    worker: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    channels: Sequence[str] | None = None,
    due_by: datetime | None = None,
) -> list[ClaimedMessage]:
    """Take up to ``limit`` due rows for this worker (pending and due, or abandoned by a dead worker).

    ``now`` is the real moment of the claim (claims and leases are always real time); ``due_by`` is the
    send-time cutoff, which a simulation (``--at``) may set elsewhere (default: ``now``). One statement
    (``UPDATE ... RETURNING``) on SQLite and PostgreSQL alike, then the claimed rows' content read by id
    in the same transaction, all read as plain rows.
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
        .returning(*_CLAIMED_COLUMNS)
    )
    with engine.begin() as connection:
        rows = connection.execute(statement).all()
        if not rows:  # nothing due: the dispatcher's last claim of every run
            return []
        contents = {
            row[0]: tuple(row[1:])
            for row in connection.execute(
                sa.select(_CONTENT.c.message_id, *(_CONTENT.c[name] for name in _CONTENT_NAMES)).where(
                    _CONTENT.c.message_id.in_([row.id for row in rows])
                )
            )
        }
    claimed = [
        ClaimedMessage(
            **dict(zip(_CLAIMED_NAMES, row, strict=True)),
            **dict(zip(_CONTENT_NAMES, contents.get(row.id, _NO_CONTENT), strict=True)),
        )
        for row in rows
    ]
    claimed.sort(key=lambda m: (m.next_attempt_at, m.id))
    return claimed


class _Row(Protocol):
    """What recording an outcome needs of a message: its id and the attempts spent so far."""

    @property
    def id(self) -> int | None: ...

    @property
    def attempts(self) -> int: ...


_FINISH_STATEMENTS: dict[tuple[str, ...], Any] = {}


def _finish_statement(columns: tuple[str, ...]) -> Any:
    """The UPDATE that records an outcome setting ``columns``, built once per set of columns (so every
    execution hits SQLAlchemy's compiled cache instead of building and hashing a new statement)."""
    statement = _FINISH_STATEMENTS.get(columns)
    if statement is None:
        table = _TABLE
        statement = (
            sa.update(table)
            .where(
                table.c.id == sa.bindparam("_id"),
                table.c.status == OutboxStatus.SENDING,
                table.c.claimed_by == sa.bindparam("_worker"),
            )
            .values(
                {
                    **{name: sa.bindparam(f"_v_{name}", type_=table.c[name].type) for name in columns},
                    "claimed_by": None,
                    "claimed_at": None,
                }
            )
        )
        _FINISH_STATEMENTS[columns] = statement
    return statement


def _parameters(message_id: int, worker: str, values: Mapping[str, Any]) -> dict[str, Any]:
    parameters = {f"_v_{name}": value for name, value in values.items()}
    parameters.update(_id=message_id, _worker=worker)
    return parameters


def _finish_in(connection: sa.Connection, message_id: int, worker: str, values: Mapping[str, Any]) -> bool:
    statement = _finish_statement(tuple(sorted(values)))
    return connection.execute(statement, _parameters(message_id, worker, values)).rowcount == 1


def _finish(engine: Engine, message_id: int, worker: str, values: dict[str, Any]) -> bool:
    """Record an outcome, only if this worker still holds the claim (a reclaimed row is not overwritten)."""
    with engine.begin() as connection:
        return _finish_in(connection, message_id, worker, values)


def finish_many(engine: Engine, worker: str, outcomes: Sequence[tuple[int, Mapping[str, Any]]]) -> list[bool]:
    """Record several outcomes in one transaction, each only if this worker still holds its claim."""
    try:
        return _finish_grouped(engine, worker, outcomes)
    except _RowByRow:  # rare: the whole group again, one row at a time, to learn which rows were ours
        with engine.begin() as connection:
            return [_finish_in(connection, i, worker, values) for i, values in outcomes]


class _RowByRow(Exception):
    """A group that must be recorded row by row (some claim was taken over): its transaction is rolled back."""


def _finish_grouped(
    engine: Engine, worker: str, outcomes: Sequence[tuple[int, Mapping[str, Any]]]
) -> list[bool]:
    """All outcomes that set the same columns in one executemany; :class:`_RowByRow` unless every row
    was still claimed by this worker."""
    kinds: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for message_id, values in outcomes:
        kinds.setdefault(tuple(sorted(values)), []).append(_parameters(message_id, worker, values))
    with engine.begin() as connection:
        if len(kinds) < len(outcomes) and not connection.dialect.supports_sane_multi_rowcount:
            raise _RowByRow  # cannot tell from an executemany: row by row
        for columns, parameters in kinds.items():
            if connection.execute(_finish_statement(columns), parameters).rowcount != len(parameters):
                raise _RowByRow
    return [True] * len(outcomes)


def sent_values(
    message: _Row, *, provider_id: str | None, at: datetime, written: bool = False
) -> dict[str, Any]:
    """What :func:`mark_sent` writes (provider ids beyond the column's width shortened: a record, never an error)."""
    if provider_id is not None and len(provider_id) > PARTS_COLUMN_CHARS:
        kept = provider_id[: PARTS_COLUMN_CHARS - 12].rsplit(",", 1)[0]
        provider_id = f"{kept},…({provider_id.count(',') + 1})"
    return {
        "status": OutboxStatus.WRITTEN if written else OutboxStatus.SENT,
        "provider_id": provider_id,
        "sent_at": at,
        "attempts": message.attempts + 1,
        "last_error": None,
    }


def mark_sent(
    engine: Engine,
    message: _Row,
    worker: str,
    *,
    provider_id: str | None,
    at: datetime,
    written: bool = False,
) -> bool:
    """Sent; or, for ``written``, only written to the file sink because the channel is not configured."""
    return _finish(
        engine, message.id or 0, worker, sent_values(message, provider_id=provider_id, at=at, written=written)
    )


PARTS_COLUMN_CHARS = 255  # outbox.provider_id
_COUNTED_PARTS = re.compile(r"([a-z]*:)?#(\d+)")  # parts_done beyond the column: "#8", "zns:#8"


def parts_done(provider_id: str | None) -> tuple[str, ...]:
    """The parts of a long message that earlier attempts delivered, as a row not yet sent keeps them.

    A row that is not sent keeps in ``provider_id`` the provider ids of the parts that went (a Telegram or
    Zalo message in parts), so the next attempt sends only the rest; "#N" (or "route:#N", the route a Zalo part
    went by) when the N ids did not fit: N parts of no known id, by that route.
    """
    if not provider_id:
        return ()
    counted = _COUNTED_PARTS.fullmatch(provider_id)
    if counted:
        return (counted.group(1) or "",) * int(counted.group(2))
    return tuple(provider_id.split(","))


def _parts_value(parts: tuple[str, ...]) -> dict[str, Any]:
    """The column that keeps ``parts`` (nothing to write when there are none)."""
    if not parts:
        return {}
    joined = ",".join(parts)
    if len(joined) <= PARTS_COLUMN_CHARS:
        return {"provider_id": joined}
    route = parts[0][: parts[0].index(":") + 1] if ":" in parts[0] else ""
    return {"provider_id": f"{route}#{len(parts)}"}


def mark_retry(
    engine: Engine,
    message: _Row,
    worker: str,
    *,
    error: str,
    next_attempt_at: datetime,
    parts: tuple[str, ...] = (),
) -> bool:
    """Tried and failed, to be tried again at ``next_attempt_at``; ``parts``: those of it already delivered."""
    return _finish(
        engine,
        message.id or 0,
        worker,
        {
            "status": OutboxStatus.PENDING,
            "attempts": message.attempts + 1,
            "last_error": error,
            "next_attempt_at": next_attempt_at,
        }
        | _parts_value(parts),
    )


def mark_wait(
    engine: Engine,
    message: _Row,
    worker: str,
    *,
    error: str,
    next_attempt_at: datetime,
    parts: tuple[str, ...] = (),
) -> bool:
    """The channel is down (its breaker is open): back to pending without spending an attempt."""
    return _finish(
        engine,
        message.id or 0,
        worker,
        {"status": OutboxStatus.PENDING, "last_error": error, "next_attempt_at": next_attempt_at}
        | _parts_value(parts),
    )


def mark_final(
    engine: Engine,
    message: _Row,
    worker: str,
    *,
    status: OutboxStatus,
    error: str,
    parts: tuple[str, ...] = (),
) -> bool:
    """A permanent failure (``failed``) or the last attempt spent (``dead``); a retry asked by hand sends only
    the parts not yet delivered."""
    return _finish(
        engine,
        message.id or 0,
        worker,
        {"status": status, "attempts": message.attempts + 1, "last_error": error} | _parts_value(parts),
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
    """Send again: the message of one key (its own or an item's; whatever its state but ``sending``), or
    every failed and dead-lettered message. A message written to the file sink goes through the sink again."""
    query = select(OutboxMessage)
    if key is not None:  # a message's key, or the key of an item it carries
        carrying = select(OutboxItem.message_id).where(OutboxItem.key == key)
        query = query.where(sa.or_(col(OutboxMessage.key) == key, col(OutboxMessage.id).in_(carrying)))
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
        if message.status in (OutboxStatus.SENT, OutboxStatus.WRITTEN):
            message.provider_id = (
                None  # sent again whole; a failed one keeps the parts that went (parts_done)
            )
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


def last_deliveries(session: Session) -> dict[str, dict[str, datetime]]:
    """Per channel, when a message was last sent and last written to the file sink: {channel: {status: at}}."""
    rows = session.execute(
        sa.select(_TABLE.c.channel, _TABLE.c.status, sa.func.max(_TABLE.c.sent_at))
        .where(_TABLE.c.status.in_([OutboxStatus.SENT, OutboxStatus.WRITTEN]))
        .group_by(_TABLE.c.channel, _TABLE.c.status)
    ).all()
    found: dict[str, dict[str, datetime]] = {}
    for channel, status, at in rows:  # max() keeps the column's type: aware UTC moments
        if at is not None:
            found.setdefault(channel, {})[status] = at
    return found


def pending_by_channel(session: Session) -> dict[str, tuple[int, int, datetime]]:
    """Per channel, the pending messages: how many, how many were already tried, and the earliest next try."""
    rows = session.execute(
        sa.select(
            _TABLE.c.channel,
            sa.func.count(),
            sa.func.count().filter(_TABLE.c.attempts > 0),
            sa.func.min(_TABLE.c.next_attempt_at),
        )
        .where(_TABLE.c.status == OutboxStatus.PENDING)
        .group_by(_TABLE.c.channel)
    ).all()
    return {channel: (count, tried, at) for channel, count, tried, at in rows if at is not None}


def written_since(session: Session, since: datetime) -> dict[str, int]:
    """Per channel, how many messages were only written to the file sink since ``since``."""
    rows = session.execute(
        sa.select(_TABLE.c.channel, sa.func.count())
        .where(_TABLE.c.status == OutboxStatus.WRITTEN, _TABLE.c.sent_at >= since)
        .group_by(_TABLE.c.channel)
    ).all()
    return {channel: count for channel, count in rows}


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
