"""The weekly digest: where a leader's units stand on a given day, as plain data for the digest template.

Pure: the tasks (with their history), the reporting regimes and the failed deliveries
come in, a frozen :class:`Digest` comes out; the day is an argument, never the clock.

Status on ``as_of`` follows the planner's reading of a task's history
(:meth:`TaskInput.done_on`, :meth:`TaskInput.due_on`). Every task in scope is in
exactly one of: done, overdue (its due date in force is before ``as_of``),
needing a date (no due date in force), on track (open, with a due date not yet
passed). "Due within 7 days" is the part of "on track" due by ``as_of`` + 7 days.

With the working calendar (as the service builds it), everything counts in working days, as reminders and
escalations do: a due date on a day off is due the next working day; "due soon" is one window
(SOON_WORKING_DAYS working days) for the count and the list alike, so the subject agrees with the body;
days overdue and days left are working days. ``since`` (the previous digest's day) bounds "done since"
and "became overdue since"; the per-unit table gives total, done, overdue and done on time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from planner.calendar import WorkingCalendar
from planner.model import ReportingInput, TaskInput
from planner.occurrences import current_occurrences
from planner.periods import ReportPeriod
from planner.planner import has_reported, merged_periods

SOON_DAYS = 7  # the "due within 7 days" count
UPCOMING_DAYS = 14  # the "due in the next 14 days" list
DONE_WINDOW_DAYS = 7  # "done last week": the 7 days before as_of
SOON_WORKING_DAYS = 10  # with the calendar: the "due soon" count and list, in working days (two weeks)


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
    days_left: int | None = None  # days from as_of to due (due_soon): working days with the calendar
    days_overdue: int | None = None  # days from due to as_of (overdue): working days with the calendar
    done_on: date | None = None  # done_last_week
    due_as_written: date | None = None  # the date in force as written (due is the next working day if off)


@dataclass(frozen=True)
class UnitOverdue:
    unit: str  # unit code
    tasks: tuple[DigestTask, ...]  # most overdue first


@dataclass(frozen=True)
class UnitRow:
    """One line of the digest's per-unit table (tasks the unit leads)."""

    unit: str
    total: int
    done: int
    overdue: int
    done_on_time: int  # done on or before the day they were due

    @property
    def on_time_percent(self) -> int | None:
        """Done on time, in percent of the tasks done; None when none is done."""
        return round(100 * self.done_on_time / self.done) if self.done else None


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
    since: date | None = None  # the previous digest's day (the start of "done since", "became overdue")
    became_overdue: tuple[DigestTask, ...] = ()  # overdue now, not yet at ``since``
    units: tuple[UnitRow, ...] = ()  # per lead unit in scope
    working_days: bool = False  # days are working days (built with the calendar)
    soon_days: int = SOON_DAYS  # the "due soon" count's window
    upcoming_days: int = UPCOMING_DAYS  # the "due soon" list's window
    plans: tuple[str, ...] = ()  # the plans the tasks in scope belong to


def build_digest(
    tasks: Sequence[TaskInput],
    as_of: date,
    *,
    units: Collection[str] | None,
    reporting: Sequence[ReportingInput] = (),
    failed_deliveries: Sequence[Mapping[str, Any]] = (),
    calendar: WorkingCalendar | None = None,
    since: date | None = None,
) -> Digest:
    """The digest of ``tasks`` led by ``units`` (None: every task) as of ``as_of``.

    Reports outstanding are limited to ``units`` too, so a Deputy Director sees the
    units he supervises; failed deliveries are listed as given. With ``calendar``, days are working
    days and a due date on a day off is due the next working day; ``since`` (default: 7 days before)
    is the previous digest's day.
    """
    tasks = current_occurrences(tasks, as_of)  # recurring work: the occurrence that matters that day
    scope = [t for t in tasks if units is None or any(code in units for code in t.lead)]
    start = since if since is not None else as_of - timedelta(days=DONE_WINDOW_DAYS)
    soon_days, upcoming_days = (
        (SOON_WORKING_DAYS, SOON_WORKING_DAYS) if calendar is not None else (SOON_DAYS, UPCOMING_DAYS)
    )

    def effective(day: date) -> date:
        if calendar is None:
            return day
        try:
            return calendar.next_working_day(day)
        except ValueError:  # a year the calendar does not cover
            return day

    def between(a: date, b: date) -> int:
        if calendar is None:
            return (b - a).days
        try:
            return calendar.working_days_between(a, b)
        except ValueError:
            return (b - a).days

    done: list[DigestTask] = []
    overdue: list[DigestTask] = []
    became: list[DigestTask] = []
    upcoming: list[DigestTask] = []
    undated: list[DigestTask] = []
    tallies: dict[str, list[int]] = {code: [0, 0, 0, 0] for code in units or ()}
    on_track = due_soon = done_count = 0
    for task in scope:
        done_on = task.done_on(as_of)
        written = _due(task, as_of)
        due = effective(written) if written is not None else None
        rows = [
            tallies.setdefault(code, [0, 0, 0, 0]) for code in task.lead if units is None or code in units
        ]
        for row in rows:
            row[0] += 1
        if done_on is not None:
            done_count += 1
            on_time = due is None or done_on <= due
            for row in rows:
                row[1] += 1
                row[3] += on_time
            if start <= done_on < as_of:
                done.append(_line(task, due, written, done_on=done_on))
        elif due is None:
            undated.append(_line(task, None, None))
        elif due < as_of:
            line = _line(task, due, written, days_overdue=between(due, as_of))
            overdue.append(line)
            if due >= start:
                became.append(line)
            for row in rows:
                row[2] += 1
        else:
            on_track += 1
            left = between(as_of, due)
            due_soon += left <= soon_days
            if left <= upcoming_days:
                upcoming.append(_line(task, due, written, days_left=left))
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
        since=since,
        became_overdue=tuple(sorted(became, key=lambda t: (t.due or as_of, t.plan, t.code))),
        units=tuple(UnitRow(code, *row) for code, row in tallies.items()),
        working_days=calendar is not None,
        soon_days=soon_days,
        upcoming_days=upcoming_days,
        plans=tuple(dict.fromkeys(t.plan for t in scope)),
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
    written: date | None = None,
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
        due_as_written=written if written is not None else due,
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
