"""The weekly digest: where a leader's units stand on a given day, as plain data for the digest template.

Pure: the tasks (with their history), the reporting regimes and the failed deliveries
come in, a frozen :class:`Digest` comes out; the day is an argument, never the clock.

Status on ``as_of`` follows the planner's reading of a task's history
(:meth:`TaskInput.done_on`, :meth:`TaskInput.due_on`). Every task in scope is in
exactly one of: done, overdue (its due date in force is before ``as_of``),
needing a date (no due date in force), on track (open, with a due date not yet
passed). "Due within 7 days" is the part of "on track" due by ``as_of`` + 7 days.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from planner.model import ReportingInput, TaskInput
from planner.periods import ReportPeriod
from planner.planner import has_reported, merged_periods

SOON_DAYS = 7  # the "due within 7 days" count
UPCOMING_DAYS = 14  # the "due in the next 14 days" list
DONE_WINDOW_DAYS = 7  # "done last week": the 7 days before as_of


@dataclass(frozen=True)
class DigestCounts:
    total: int
    done: int
    on_track: int  # open, with a due date on or after as_of (includes due_soon)
    due_soon: int  # on track and due within SOON_DAYS days
    overdue: int
    needs_date: int


@dataclass(frozen=True)
class DigestTask:
    """One line of a digest list."""

    plan: str
    code: str
    content: str
    lead: tuple[str, ...]
    deadline_text: str
    due: date | None  # the due date in force on as_of (the next occurrence for recurring tasks)
    days_left: int | None = None  # calendar days from as_of to due (due_soon)
    days_overdue: int | None = None  # calendar days from due to as_of (overdue)
    done_on: date | None = None  # done_last_week


@dataclass(frozen=True)
class UnitOverdue:
    unit: str  # unit code
    tasks: tuple[DigestTask, ...]  # most overdue first


@dataclass(frozen=True)
class OutstandingReport:
    """A report whose data cut-off has passed and that some units have not sent yet."""

    plan: str
    period: ReportPeriod  # the period the request was named after (H1 for Q2 + H1)
    covers: tuple[str, ...]  # every period code closing that day ("Q2", "H1")
    units: tuple[str, ...]  # unit codes that have not reported


@dataclass(frozen=True)
class FailedDelivery:
    """A message that could not be delivered (a dead letter of the outbox)."""

    recipient: str
    channel: str
    error: str
    task: str | None = None
    kind: str | None = None
    at: Any = None  # when it was due (a datetime from the outbox), if known


@dataclass(frozen=True)
class Digest:
    as_of: date
    counts: DigestCounts
    overdue_by_unit: tuple[UnitOverdue, ...]
    due_soon: tuple[DigestTask, ...]  # due in the next UPCOMING_DAYS days, soonest first
    done_last_week: tuple[DigestTask, ...]
    needs_date: tuple[DigestTask, ...]
    reports_outstanding: tuple[OutstandingReport, ...]
    failed_deliveries: tuple[FailedDelivery, ...]


def build_digest(
    tasks: Sequence[TaskInput],
    as_of: date,
    *,
    units: Collection[str] | None,
    reporting: Sequence[ReportingInput] = (),
    failed_deliveries: Sequence[Mapping[str, Any]] = (),
) -> Digest:
    """The digest of ``tasks`` led by ``units`` (None: every task) as of ``as_of``.

    Reports outstanding are limited to ``units`` too, so a Deputy Director sees the
    units he supervises; failed deliveries are listed as given.
    """
    scope = [t for t in tasks if units is None or any(code in units for code in t.lead)]
    done: list[DigestTask] = []
    overdue: list[DigestTask] = []
    upcoming: list[DigestTask] = []
    undated: list[DigestTask] = []
    on_track = due_soon = done_count = 0
    for task in scope:
        done_on = task.done_on(as_of)
        due = _due(task, as_of)
        if done_on is not None:
            done_count += 1
            if as_of - timedelta(days=DONE_WINDOW_DAYS) <= done_on < as_of:
                done.append(_line(task, due, done_on=done_on))
        elif due is None:
            undated.append(_line(task, None))
        elif due < as_of:
            overdue.append(_line(task, due, days_overdue=(as_of - due).days))
        else:
            on_track += 1
            left = (due - as_of).days
            due_soon += left <= SOON_DAYS
            if left <= UPCOMING_DAYS:
                upcoming.append(_line(task, due, days_left=left))
    counts = DigestCounts(
        total=len(scope),
        done=done_count,
        on_track=on_track,
        due_soon=due_soon,
        overdue=len(overdue),
        needs_date=len(undated),
    )
    return Digest(
        as_of=as_of,
        counts=counts,
        overdue_by_unit=_by_unit(overdue, units),
        due_soon=tuple(sorted(upcoming, key=lambda t: t.days_left or 0)),
        done_last_week=tuple(sorted(done, key=lambda t: t.done_on or as_of)),
        needs_date=tuple(undated),
        reports_outstanding=tuple(_outstanding(reporting, as_of, units)),
        failed_deliveries=tuple(_failed(entry) for entry in failed_deliveries),
    )


def _due(task: TaskInput, as_of: date) -> date | None:
    """The due date in force; for a recurring task, its next occurrence (or its last one, once all passed)."""
    if len(task.occurrences) > 1:
        upcoming = [day for day in task.occurrences if day >= as_of]
        return upcoming[0] if upcoming else task.occurrences[-1]
    return task.due_on(as_of)


def _line(
    task: TaskInput,
    due: date | None,
    *,
    days_left: int | None = None,
    days_overdue: int | None = None,
    done_on: date | None = None,
) -> DigestTask:
    return DigestTask(
        plan=task.plan,
        code=task.code,
        content=task.content,
        lead=task.lead,
        deadline_text=task.deadline_text,
        due=due,
        days_left=days_left,
        days_overdue=days_overdue,
        done_on=done_on,
    )


def _by_unit(overdue: Sequence[DigestTask], units: Collection[str] | None) -> tuple[UnitOverdue, ...]:
    """Overdue tasks under each of their lead units in scope; units in the order given, else as met."""
    groups: dict[str, list[DigestTask]] = {code: [] for code in units or ()}
    for line in overdue:
        for code in line.lead:
            if units is None or code in units:
                groups.setdefault(code, []).append(line)
    return tuple(
        UnitOverdue(code, tuple(sorted(lines, key=lambda t: -(t.days_overdue or 0))))
        for code, lines in groups.items()
        if lines
    )


def _outstanding(
    reporting: Sequence[ReportingInput], as_of: date, units: Collection[str] | None
) -> list[OutstandingReport]:
    """Periods of each regime closed by ``as_of`` that some unit (in scope) has not reported.

    Periods closing the same day count as one report, as the planner asks for one
    (a unit that sent H1 has also answered Q2).
    """
    outstanding = []
    for regime in reporting:
        for period, covers in merged_periods(regime):
            if period.cutoff > as_of or period.year != regime.year:
                continue
            missing = tuple(
                unit
                for unit in regime.units
                if (units is None or unit in units) and not has_reported(regime, unit, covers, as_of)
            )
            if missing:
                outstanding.append(
                    OutstandingReport(regime.plan, period, tuple(p.code for p in covers), missing)
                )
    return outstanding


def _failed(entry: Mapping[str, Any]) -> FailedDelivery:
    return FailedDelivery(
        recipient=str(entry.get("recipient") or ""),
        channel=str(entry.get("channel") or ""),
        error=str(entry.get("error") or entry.get("last_error") or ""),
        task=entry.get("task"),
        kind=entry.get("kind"),
        at=entry.get("at") or entry.get("due_at"),
    )
