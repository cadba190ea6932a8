"""Database tables (SQLModel). The schema itself is created by Alembic migrations.

Timestamps are stored timezone-aware in UTC; dates (due dates, windows) are
calendar dates in Asia/Ho_Chi_Minh and carry no time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def row_id(row: Any) -> int:
    """The id of a row already written (flushed); a row not yet in the database has none, and an event
    pointing at it would be written without its task."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} chưa được ghi vào cơ sở dữ liệu (flush trước khi dùng id).")
    return int(row.id)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A moment, stored in UTC and read back timezone-aware.

    SQLite has no time zone type: without this, an aware 07:30+07:00 would be
    stored as the bare wall time "07:30" and compared as text with moments in
    other offsets. Every moment is converted to UTC on the way in.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    REMOVED = "removed"  # no longer in the plan after a re-import; kept for its history


class EventKind(StrEnum):
    """What happened to a task: every change of status or due date is one event."""

    CREATED = "created"
    UPDATED = "updated"  # re-imported with different content, units or deadline
    DONE = "done"
    REOPENED = "reopened"
    EXTENDED = "extended"
    DUE_SET = "due_set"
    REMOVED = "removed"


class AssignmentRole(StrEnum):
    LEAD = "lead"
    COORDINATING = "coordinating"


class Unit(SQLModel, table=True):
    """A unit of the directory: the database is its one truth (seeded from config/units.yaml by init), edited
    with `nhacviec units` and the web's units page. ``is_office`` marks the Office that chases the plan."""

    __tablename__ = "units"

    code: str = Field(primary_key=True, max_length=32)
    name: str
    kind: str = Field(max_length=32)
    supervisor: str | None = Field(default=None, max_length=32)
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    contacts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    head: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    position: int = 0
    is_office: bool = False
    bundle: bool = True  # False: each message to the unit's mailbox or chat on its own (the head's: in head)


class Leader(SQLModel, table=True):
    """The Director (``role`` "director") or a Deputy Director ("deputy"): who escalations reach."""

    __tablename__ = "leaders"

    code: str = Field(primary_key=True, max_length=32)
    role: str = Field(max_length=16)
    name: str
    title: str
    contacts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    position: int = 0
    bundle: bool = True  # False: each message to this leader on its own


class PlanStatus(StrEnum):
    ACTIVE = "active"  # planned and sent
    ARCHIVED = "archived"  # kept with its history; plans and sends nothing


class Plan(SQLModel, table=True):
    """A plan the Office imported. Only active plans are planned; an archived one keeps its history.

    ``number`` and ``issued_on`` are the document's "Số: 15/KH-SGDĐT" and date as read from the file;
    ``closing_on`` is the day the plan closes (None: 31 March of the year after ``year``), after which
    it escalates no more; ``is_sample`` marks the demonstration plan ``init`` loads.
    """

    __tablename__ = "plans"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)
    title: str
    year: int
    source_file: str | None = None
    reporting: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    status: str = Field(default=PlanStatus.ACTIVE, max_length=16, index=True)
    is_sample: bool = False
    number: str | None = Field(default=None, max_length=64)
    issued_on: date | None = None
    closing_on: date | None = None
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime())

    @property
    def closes_on(self) -> date:
        """The plan's closing date: the one set, else 31 March of the year after the plan's year."""
        return self.closing_on or date(self.year + 1, 3, 31)

    @property
    def active(self) -> bool:
        return self.status == PlanStatus.ACTIVE


class Section(SQLModel, table=True):
    __tablename__ = "sections"
    __table_args__ = (sa.UniqueConstraint("plan_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    code: str = Field(max_length=16)
    title: str
    position: int = 0


class Task(SQLModel, table=True):
    """A task of a plan with its parsed deadline and its current status.

    ``due_override`` is set by an extension or by an admin giving an
    unscheduled task a date; the effective due date is the override when
    present, else the parsed ``due``.
    """

    __tablename__ = "tasks"
    __table_args__ = (sa.UniqueConstraint("plan_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    section_id: int | None = Field(default=None, foreign_key="sections.id")
    code: str = Field(max_length=32)
    position: int = 0
    content: str
    products: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    deadline_text: str
    deadline_kind: str = Field(max_length=16)
    start: date | None = None
    due: date | None = None
    occurrences: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    due_override: date | None = None
    status: str = Field(default=TaskStatus.OPEN, max_length=16, index=True)
    done_on: date | None = None
    source_row: int | None = None
    note: str = ""  # the plan's "Ghi chú" cell for the task
    # units the plan names that the directory does not have, as written: [{"role": "lead", "name": "..."}]
    unlisted_units: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)

    @property
    def effective_due(self) -> date | None:
        return self.due_override or self.due


class TaskUnit(SQLModel, table=True):
    """A unit's part in a task: lead (chủ trì) or coordinating (phối hợp)."""

    __tablename__ = "task_units"

    task_id: int = Field(foreign_key="tasks.id", primary_key=True)
    unit_code: str = Field(foreign_key="units.code", primary_key=True, max_length=32)
    role: str = Field(primary_key=True, max_length=16)
    position: int = 0


class TaskEvent(SQLModel, table=True):
    """The task's history: who changed what, when, how and why."""

    __tablename__ = "task_events"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", index=True)
    kind: str = Field(max_length=16)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    effective_on: date | None = None  # the day the change takes effect (done on, extended on)
    actor: str = Field(default="system", max_length=128)
    via: str = Field(default="cli", max_length=32)
    note: str | None = None
    old_due: date | None = None
    new_due: date | None = None
    period: str | None = Field(default=None, max_length=32)  # the occurrence of recurring work it is about
    event_on: date | None = None  # due set from an event ("30 ngày kể từ khi ..."): the event's date


class TaskOccurrence(SQLModel, table=True):
    """One period of a recurring task ("Hằng tháng": 2026-11), done on its own.

    ``period`` is the label of planner.occurrences; ``due`` the due date the plan gives it,
    ``due_override`` an extension of that occurrence only. Its history is the task's events that
    name the period.
    """

    __tablename__ = "task_occurrences"
    __table_args__ = (sa.UniqueConstraint("task_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", index=True)
    period: str = Field(max_length=32)
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    position: int = 0
    due: date
    due_override: date | None = None
    status: str = Field(default=TaskStatus.OPEN, max_length=16)
    done_on: date | None = None

    @property
    def effective_due(self) -> date:
        return self.due_override or self.due


class RuleRecord(SQLModel, table=True):
    """A rule as admins edit it; ``data`` is the mapping rules.model.parse_rule reads."""

    __tablename__ = "rules"

    id: str = Field(primary_key=True, max_length=64)
    position: int = 0
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_by: str = Field(default="system", max_length=128)


class RuleEvent(SQLModel, table=True):
    """The rules' history: every change with who made it, and the rule before and after."""

    __tablename__ = "rule_events"

    id: int | None = Field(default=None, primary_key=True)
    rule_id: str = Field(max_length=64, index=True)
    action: str = Field(max_length=16)  # created | updated | deleted | enabled | disabled
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    actor: str = Field(default="system", max_length=128)
    via: str = Field(default="cli", max_length=32)
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


class CalendarDay(SQLModel, table=True):
    """A day an admin declared: an extra day off, or a make-up working day (usually a Saturday)."""

    __tablename__ = "calendar_days"

    day: date = Field(primary_key=True)
    kind: str = Field(max_length=16)  # "off" | "working"
    note: str | None = None


class ReportSubmission(SQLModel, table=True):
    """A unit's periodic report received by the Office (from the bot, the web, or entered by hand)."""

    __tablename__ = "report_submissions"
    __table_args__ = (sa.UniqueConstraint("plan_id", "unit_code", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    unit_code: str = Field(foreign_key="units.code", max_length=32)
    period: str = Field(max_length=32)  # "Q1", "H1", "9M", "Y", "adhoc-2020-05-04"
    received_on: date
    actor: str = Field(default="system", max_length=128)
    via: str = Field(default="cli", max_length=32)
    note: str | None = None


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its send time or its next attempt
    SENDING = "sending"  # claimed by a dispatcher; reclaimed if that dispatcher died
    SENT = "sent"
    FAILED = "failed"  # a permanent failure (address rejected, bot blocked...): not retried
    DEAD = "dead"  # transient failures until the last attempt: the dead-letter list
    SKIPPED = "skipped"  # nothing to send to (no address for the channel): a configuration problem
    WRITTEN = "written"  # the channel is not configured: written to the file sink, not sent to anyone


class OutboxMessage(SQLModel, table=True):
    """One message to one address on one channel, rendered when it was planned: what the dispatcher sends.

    A message carries one or more items (:class:`OutboxItem`, one per planned notification and
    recipient): everything planned for one address on one channel at one send time is bundled into one
    message. ``key`` is the item's delivery key for a message of one item, and for a bundle a key
    derived from its items' keys (``bundle/...``). The columns that describe what a message is about
    (kind, rule, plan, task, period, level, role, notification_key) are its item's for a message of
    one item; a bundle has kind ``bundle`` and its items say the rest. What it says (texts, bytes) is in
    :class:`OutboxContent`, one row per message.
    """

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=255)
    notification_key: str = Field(max_length=255, index=True)
    kind: str = Field(max_length=32)
    rule: str = Field(max_length=64)
    plan: str | None = Field(default=None, max_length=64)
    task: str | None = Field(default=None, max_length=32)
    period: str | None = Field(default=None, max_length=32)
    level: int | None = None
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=64)
    role: str = Field(default="to", max_length=8)
    recipient_name: str = ""
    address: str | None = Field(default=None, max_length=255)
    subject: str = ""
    status: str = Field(default=OutboxStatus.PENDING, max_length=16, index=True)
    due_at: datetime = Field(sa_type=UTCDateTime())
    next_attempt_at: datetime = Field(sa_type=UTCDateTime())
    attempts: int = 0
    last_error: str | None = None
    provider_id: str | None = Field(default=None, max_length=255)
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    origin: str = Field(default="planner", max_length=32)  # planner | manual


class OutboxContent(SQLModel, table=True):
    """What an outbox message says: its texts, the channel's extra data and, for email, its bytes.

    Kept apart from :class:`OutboxMessage` so that claiming a message and recording its outcome rewrite a
    row of a few hundred bytes, not the ~16 KB of an email with its HTML and its built bytes (on SQLite an
    UPDATE writes the whole row again). Written once with its message, read when the message is sent.
    """

    __tablename__ = "outbox_content"

    message_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
        )
    )
    body_text: str = ""
    body_html: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # email: the message's bytes built when it was enqueued, less From/Date/Message-ID (notifiers.email)
    wire: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


class OutboxItem(SQLModel, table=True):
    """One planned notification to one recipient on one channel, and the message that carries it.

    ``key`` is the planner's delivery key (rule, plan and task or period, occurrence, recipient,
    channel): unique, so an item is in one message only, whatever is planned again or bundled anew.
    An item of a ``skipped`` message (no address) is taken out of it and planned again once the
    address exists.
    """

    __tablename__ = "outbox_items"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=255)
    message_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    position: int = 0  # order in its message (by urgency)
    notification_key: str = Field(max_length=255, index=True)
    kind: str = Field(max_length=32)
    rule: str = Field(max_length=64)
    plan: str | None = Field(default=None, max_length=64)
    task: str | None = Field(default=None, max_length=32)
    period: str | None = Field(default=None, max_length=32)
    level: int | None = None
    recipient: str = Field(max_length=64)
    role: str = Field(default="to", max_length=8)


class ConfigProblemRecord(SQLModel, table=True):
    """A configuration problem the admin must fix (a unit with no address for a channel), reported once."""

    __tablename__ = "config_problems"

    key: str = Field(primary_key=True, max_length=255)
    message: str
    first_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    last_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    occurrences: int = 1


class AddressAlias(SQLModel, table=True):
    """An address a provider told us changed (a Telegram group migrated to a supergroup)."""

    __tablename__ = "address_aliases"

    channel: str = Field(primary_key=True, max_length=16)
    old: str = Field(primary_key=True, max_length=255)
    new: str = Field(max_length=255)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class ZaloToken(SQLModel, table=True):
    """The Zalo OA token pair. The refresh token works once: the new pair is stored before it is used."""

    __tablename__ = "zalo_tokens"

    id: int = Field(default=1, primary_key=True)
    access_token: str
    refresh_token: str
    expires_at: datetime = Field(sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    generation: int = 0  # increases with every refresh; a refresh that lost the race sees it moved
    # The last refresh attempt, whatever its outcome (``zalo status``); a failed one leaves the pair as it was.
    last_refresh_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    last_refresh_ok: bool | None = None
    last_refresh_error: str | None = None


class ZaloFollower(SQLModel, table=True):
    """What the OA webhook told us about a Zalo user (OA-scoped id): when they last interacted, do they follow.

    The OA may send a consultation message only within days of the user's last interaction, so the notifier
    reads this to choose between an OA message and a ZNS template message.
    """

    __tablename__ = "zalo_followers"

    user_id: str = Field(primary_key=True, max_length=64)
    last_interaction_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    following: bool | None = None  # None: no follow or unfollow event seen yet
    following_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    last_event: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class ServiceState(SQLModel, table=True):
    """Small facts the service keeps between runs: the watermark of the last pass, who leads, next runs."""

    __tablename__ = "service_state"

    key: str = Field(primary_key=True, max_length=64)
    value: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class UserRole(StrEnum):
    ADMIN = "admin"  # changes anything
    VIEWER = "viewer"  # reads everything
    UNIT = "unit"  # sees and acts on its own unit's tasks


class User(SQLModel, table=True):
    """A person who signs in to the web admin; the password is kept only as an Argon2 hash."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    password_hash: str
    role: str = Field(max_length=16)
    unit_code: str | None = Field(default=None, foreign_key="units.code", max_length=32)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class WebSession(SQLModel, table=True):
    """A signed-in browser, kept on the server so it can be ended: sign-out, a new password, a new role, a
    disabled account, or an admin. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    address: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=200)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    ended_reason: str | None = Field(default=None, max_length=32)


class IcsToken(SQLModel, table=True):
    """A revocable secret in an ICS feed's URL: one unit's deadlines, or the whole plan (``unit_code`` None)."""

    __tablename__ = "ics_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(
        unique=True, max_length=128
    )  # sha256 of the token; the token itself is shown once
    unit_code: str | None = Field(default=None, foreign_key="units.code", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    created_by: str = Field(default="system", max_length=64)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class Invite(SQLModel, table=True):
    """A single-use code that binds a Telegram chat or a Zalo follower to a recipient of the directory.

    ``target`` is the recipient code the planner uses: a unit ("TCCB"), its head ("TCCB.head") or a leader
    ("PGD1"). Only the code's SHA-256 is kept; the code itself is shown once, when it is made. ``used_at``
    is set once (the code's single use), with who joined (``bound_address``: the chat or Zalo user id;
    ``bound_label``: a name to show); ``unbound_at`` when an admin later removed that binding.
    """

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    target: str = Field(max_length=48, index=True)
    channel: str = Field(max_length=16)  # telegram | zalo
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    created_by: str = Field(default="system", max_length=128)
    expires_at: datetime = Field(sa_type=UTCDateTime())
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    bound_address: str | None = Field(default=None, max_length=255)
    bound_label: str | None = Field(default=None, max_length=255)
    unbound_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
