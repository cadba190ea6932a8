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


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    """A unit of the directory (config/units.yaml), mirrored so the database is self-contained."""

    __tablename__ = "units"

    code: str = Field(primary_key=True, max_length=32)
    name: str
    kind: str = Field(max_length=32)
    supervisor: str | None = Field(default=None, max_length=32)
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    contacts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    head: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


class Plan(SQLModel, table=True):
    __tablename__ = "plans"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)
    title: str
    year: int
    source_file: str | None = None
    reporting: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))


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
    at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    effective_on: date | None = None  # the day the change takes effect (done on, extended on)
    actor: str = Field(default="system", max_length=128)
    via: str = Field(default="cli", max_length=32)
    note: str | None = None
    old_due: date | None = None
    new_due: date | None = None


class RuleRecord(SQLModel, table=True):
    """A rule as admins edit it; ``data`` is the mapping rules.model.parse_rule reads."""

    __tablename__ = "rules"

    id: str = Field(primary_key=True, max_length=64)
    position: int = 0
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    updated_by: str = Field(default="system", max_length=128)


class RuleEvent(SQLModel, table=True):
    """The rules' history: every change with who made it, and the rule before and after."""

    __tablename__ = "rule_events"

    id: int | None = Field(default=None, primary_key=True)
    rule_id: str = Field(max_length=64, index=True)
    action: str = Field(max_length=16)  # created | updated | deleted | enabled | disabled
    at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
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
