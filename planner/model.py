"""What the planner reads and what it returns: plain, frozen data with no database behind it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from plan.deadline import DeadlineKind
from rules.model import Channel, NotificationKind, Role
from vocabulary import UNDATED_DEADLINE_KINDS

UNDATED_KINDS = frozenset(
    DeadlineKind(kind) for kind in UNDATED_DEADLINE_KINDS
)  # listed once, in the vocabulary


@dataclass(frozen=True)
class StatusChange:
    """One entry of a task's history that matters for planning, effective from ``on``."""

    on: date
    kind: str  # "done" | "reopened" | "extended" | "due_set"
    new_due: date | None = None


@dataclass(frozen=True)
class TaskInput:
    """A task as the planner sees it: its parsed deadline, units and status history."""

    plan: str
    code: str
    section: str | None
    content: str
    deadline_text: str
    kind: DeadlineKind
    start: date | None
    due: date | None
    occurrences: tuple[date, ...]
    lead: tuple[str, ...]
    coordinating: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    changes: tuple[StatusChange, ...] = ()  # in the order they were recorded (not sorted by date)
    position: int = 0
    # One occurrence of recurring work ("2026-11" of a monthly task): ``due`` is that period's due date,
    # ``start`` the first day of the period, ``changes`` its own history. None for a task done once.
    period: str | None = None

    def done_on(self, day: date) -> date | None:
        """The day the task was marked done, if it is done as of ``day`` (done that very day counts)."""
        done: date | None = None
        for change in self.changes:  # in the order they happened; a change dated later is not yet in force
            if change.on > day:
                continue
            if change.kind == "done":
                done = change.on
            elif change.kind == "reopened":
                done = None
        return done

    def due_on(self, day: date) -> date | None:
        """The due date in force on ``day``: the plan's, or the latest extension or date set by then."""
        due = self.due
        for change in self.changes:
            if change.on > day:
                continue
            if change.kind in ("extended", "due_set") and change.new_due is not None:
                due = change.new_due
        return due

    def due_versions(self) -> list[tuple[date | None, date | None]]:
        """Every due date the task has had, with the day it came into force (None: from the start)."""
        versions: list[tuple[date | None, date | None]] = [(None, self.due)]
        for change in self.changes:
            if change.kind in ("extended", "due_set") and change.new_due is not None:
                versions.append((change.on, change.new_due))
        return versions

    def is_undated(self, day: date) -> bool:
        return self.kind in UNDATED_KINDS and self.due_on(day) is None


@dataclass(frozen=True)
class PlanInfo:
    """A plan as messages name it: its code, title, the document's number and date, its closing date."""

    code: str
    title: str = ""
    number: str | None = None  # "15/KH-SGDĐT", as read from the document
    issued_on: date | None = None
    closing: date | None = None  # after this day the plan escalates no more; the Office gets its closing list

    @property
    def label(self) -> str:
        """``KH-2026 (số 15/KH-SGDĐT ngày 10/01/2026)``, or the code alone when the number is unknown."""
        if not self.number:
            return self.code
        dated = f" ngày {self.issued_on:%d/%m/%Y}" if self.issued_on else ""
        return f"{self.code} (số {self.number}{dated})"


@dataclass(frozen=True)
class ReportingInput:
    """A plan's reporting regime and what has been received (section III.7 of the sample plan)."""

    plan: str
    year: int
    units: tuple[str, ...]
    via: str | None = None
    kinds: tuple[str, ...] = ("quarterly", "6-month", "9-month", "annual")
    received: Mapping[tuple[str, str], date] = field(
        default_factory=dict
    )  # (unit, period code) -> day received


@dataclass(frozen=True, slots=True)
class Recipient:
    code: str  # a unit ("TCCB"), a unit's head ("TCCB.head") or a leader ("PGD1", "GD")
    role: Role
    channel: Channel

    def to_json(self) -> dict[str, str]:
        return {"unit": self.code, "role": str(self.role), "channel": str(self.channel)}


@dataclass(frozen=True, slots=True)
class Notification:
    """One message the planner decided to send, to one or more recipients on one or more channels.

    ``key`` identifies it for ever (rule, plan and task or report period,
    occurrence); each recipient and channel gets its own outbox key from
    :meth:`delivery_key`, which is what makes a send idempotent.
    """

    key: str
    at: datetime
    kind: NotificationKind
    rule: str
    template: str
    recipients: tuple[Recipient, ...]
    task: str | None = None
    plan: str | None = None
    period: str | None = None
    level: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def delivery_key(self, recipient: Recipient) -> str:
        return f"{self.key}|{recipient.code}|{recipient.channel}"

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": str(self.kind),
            "rule": self.rule,
            "plan": self.plan,
            "task": self.task,
            "period": self.period,
            "level": self.level,
            "recipients": [r.to_json() | {"key": self.delivery_key(r)} for r in self.recipients],
            "key": self.key,
        }
