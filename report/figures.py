"""The figures of the Office's report on a plan's execution, for one period: pure, from plain data.

No database, no clock, no files: :func:`build` takes the plan's tasks with their history (completions,
extensions, extension requests), the reports units sent, the reporting regime and a working-day function,
and returns what the report says. The store (``store.report_data``) reads the plain data; the writers
(``report.docx_writer``, ``report.xlsx_writer``), the CLI and the web only present the result.

A report's period is one of the reporting regime's (Decree 09/2019/NĐ-CP, :mod:`planner.periods`): the
data close on the period's cut-off (Q1: 14/3, H1: 14/6, 9M: 14/9, Y: 14/12); the periods are cumulative
from the start of the year. The state reported is the state **at the period's end**, ``as_of``: the
cut-off, or the report's date when it is drafted earlier (an ad hoc report closes on its date).

Every task of the plan is in exactly one status at ``as_of``:

* ``done_on_time``: done on or before its effective due date (a task without a date done counts here);
* ``done_late``: done after it;
* ``overdue``: open, its effective due date passed;
* ``in_progress``: open, its window started (or it has no start) and its due date not passed;
* ``not_yet_due``: open, its window starts after ``as_of`` ("Quý III" seen from March);
* ``no_date``: open, no due date ("Theo Kế hoạch" with no date set yet).

The **effective due date** is the due date in force at ``as_of`` (the plan's, or the latest extension or
date set by then), moved to the next working day when it falls on a day off (Civil Code 2015, art. 148(5):
a time limit ending on a day off ends on the next working day). ``due_in_period`` counts the tasks whose
effective due date falls in the period's data window (up to ``as_of``).

**Recurring work** ("Hằng tháng", "Định kỳ hằng quý"...: a task with occurrences, :mod:`planner.occurrences`)
is judged period by period, never on one due date. Its periods *in the report's window* are those whose
planned due date falls between the window's first day and the last day of the cut-off's month (Q1: the
periods due 15/12 - 31/3, so March's is listed even though the data close on 14/3; an ad hoc report of
04/05: those due up to 31/05). Each is, at ``as_of``, ``done_on_time``, ``done_late``, ``overdue`` or
``not_yet_due`` (open, its effective due date not passed), read from the history entries naming that
period. The task then counts once in the summary, by this rule:

* ``overdue`` if any of its periods in the window is overdue;
* else ``done_on_time`` / ``done_late`` if at least one of them is done (every period due by then is
  done, since none is overdue): ``done_late`` when any was done late;
* else (nothing done, nothing overdue: its periods are all still to come) ``in_progress`` when the first
  of them has started (the day after the previous period's due date; the task's start for the first
  period), ``not_yet_due`` otherwise; when none of its periods falls in the window, by the state of
  its next period (not yet due, unless done early).

It is due in the period when one of its periods' effective due dates falls in the data window up to
``as_of``. The per-period detail is :attr:`TaskLine.periods` (``periods`` in the JSON), the appendix's
line "Hằng tháng: 2/3 kỳ hoàn thành, 1 kỳ quá hạn (tháng 02/2026)" and the ``periods_*`` counts.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from planner.occurrences import period_words
from planner.periods import ReportPeriod, adhoc_period, fixed_period, parse_period

STATUSES: tuple[str, ...] = ("done_on_time", "done_late", "overdue", "in_progress", "not_yet_due", "no_date")
# The state of one period of recurring work at the period's end.
PERIOD_STATUSES: tuple[str, ...] = ("done_on_time", "done_late", "overdue", "not_yet_due")
# The periods a report may be built for (the CLI's --period), and the one each is compared with.
PERIOD_CODES: tuple[str, ...] = ("Q1", "H1", "9M", "Y", "adhoc")
_PREVIOUS: Mapping[str, str | None] = {"Q1": None, "H1": "Q1", "9M": "H1", "Y": "9M"}

# History entries the report reads (store.models.EventKind and store.reports' extension requests).
DONE, REOPENED, EXTENDED, DUE_SET = "done", "reopened", "extended", "due_set"
EXT_REQUESTED, EXT_REJECTED = "ext_requested", "ext_rejected"
_SETTLES_REQUEST = frozenset({EXTENDED, DUE_SET, DONE, EXT_REJECTED, "removed"})

WorkingDay = Callable[[date], date]  # a day -> that day if it is a working day, else the next one


def same_day(day: date) -> date:
    """No working calendar: a due date stays where the plan put it."""
    return day


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class Change:
    """One entry of a task's history, effective from ``on`` (the day done, extended, asked...)."""

    on: date
    kind: str  # done | reopened | extended | due_set | ext_requested | ext_rejected
    new_due: date | None = None
    old_due: date | None = None
    note: str | None = None  # done: the note (a document number); extension: its reason
    actor: str | None = None
    period: str | None = None  # recurring work: the period the entry is about ("2026-05"); None: the task


@dataclass(frozen=True)
class PeriodDue:
    """One period of a recurring task as the plan gives it (store.models.TaskOccurrence)."""

    period: str  # its label: "2026-05", "2026-Q3", "2026-H1", "2026"...
    due: date  # the plan's due date of that period


@dataclass(frozen=True)
class ReportTask:
    """A task of the plan as the report reads it (``store.report_data`` is the one adapter that fills it)."""

    code: str
    section: str | None
    content: str
    products: tuple[str, ...]
    lead: tuple[str, ...]
    deadline_text: str
    kind: str  # plan.deadline.DeadlineKind's value
    start: date | None
    due: date | None  # the plan's due date (the deadline as parsed)
    changes: tuple[Change, ...] = ()  # in the order they were recorded
    coordinating: tuple[str, ...] = ()
    note: str = ""  # the plan's "Ghi chú" cell
    position: int = 0
    occurrences: tuple[PeriodDue, ...] = ()  # recurring work: its periods in due order; empty otherwise

    @property
    def recurring(self) -> bool:
        return bool(self.occurrences)

    def done_at(self, day: date, period: str | None = None) -> Change | None:
        """The completion in force on ``day`` (the task done on or before it and not reopened since); for
        recurring work, of the period ``period``."""
        done: Change | None = None
        for change in self.changes:
            if change.on > day or change.period != period:
                continue
            if change.kind == DONE:
                done = change
            elif change.kind == REOPENED:
                done = None
        return done

    def due_at(self, day: date, period: str | None = None) -> date | None:
        """The due date in force on ``day``: the plan's, or the latest extension or date set by then; for
        recurring work, of the period ``period``."""
        due = self.due
        if period is not None:
            due = next((o.due for o in self.occurrences if o.period == period), None)
        for change in self.changes:
            if (
                change.on <= day
                and change.period == period
                and change.kind in (EXTENDED, DUE_SET)
                and change.new_due is not None
            ):
                due = change.new_due
        return due

    def extensions_at(self, day: date) -> list[Change]:
        """The extensions granted (and dates set) on or before ``day``, in order."""
        return [c for c in self.changes if c.on <= day and c.kind in (EXTENDED, DUE_SET)]

    def requests_at(self, day: date) -> list[tuple[Change, str]]:
        """Each extension request made on or before ``day``, with what became of it by then:
        "granted", "rejected", "pending" (or "moot": the task was done or removed meanwhile)."""
        requests: list[tuple[Change, str]] = []
        open_index: int | None = None
        for change in self.changes:
            if change.on > day:
                continue
            if change.kind == EXT_REQUESTED:
                requests.append((change, "pending"))
                open_index = len(requests) - 1
            elif change.kind in _SETTLES_REQUEST and open_index is not None:
                outcome = {EXTENDED: "granted", DUE_SET: "granted", EXT_REJECTED: "rejected"}.get(
                    change.kind, "moot"
                )
                requests[open_index] = (requests[open_index][0], outcome)
                open_index = None
        return requests


@dataclass(frozen=True)
class ReportData:
    """Everything the report is computed from."""

    plan_code: str
    plan_title: str
    year: int
    tasks: tuple[ReportTask, ...]  # in plan order
    sections: Mapping[str, str] = field(default_factory=dict)  # code -> title, in plan order
    units: Mapping[str, str] = field(default_factory=dict)  # code -> name, in directory order
    reporting_units: tuple[str, ...] = ()  # units that must send periodic reports
    reporting_kinds: tuple[str, ...] = ("quarterly", "6-month", "9-month", "annual")
    received: Mapping[tuple[str, str], date] = field(default_factory=dict)  # (unit, period code) -> day

    def unit_name(self, code: str) -> str:
        return self.units.get(code, code)


# --------------------------------------------------------------------------- output


@dataclass(frozen=True)
class Counts:
    total: int = 0
    due_in_period: int = 0
    due_done_on_time: int = 0  # of the tasks due in the period
    due_done_late: int = 0
    due_overdue: int = 0
    done: int = 0
    done_on_time: int = 0
    done_late: int = 0
    overdue: int = 0
    in_progress: int = 0
    not_yet_due: int = 0
    no_date: int = 0
    extended: int = 0  # tasks with an extension granted by the period's end
    extension_requests_pending: int = 0
    # Recurring work (counted above once each, by the module's rule), and its periods in the window.
    recurring: int = 0
    periods: int = 0
    periods_done_on_time: int = 0
    periods_done_late: int = 0
    periods_overdue: int = 0
    periods_not_yet_due: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ExtensionLine:
    on: date
    old_due: date | None
    new_due: date | None
    reason: str
    kind: str  # extended | due_set
    period: str | None = None  # recurring work: the period extended

    def to_json(self) -> dict[str, object]:
        return {
            "on": self.on.isoformat(),
            "old_due": _iso(self.old_due),
            "new_due": _iso(self.new_due),
            "reason": self.reason,
            "kind": self.kind,
            "period": self.period,
        }


@dataclass(frozen=True)
class PeriodLine:
    """One period of recurring work in the report's window and its state at the period's end."""

    period: str  # "2026-05"
    due: date  # in force at the period's end (plan's or extended)
    effective_due: date  # the same moved off days off
    status: str  # one of PERIOD_STATUSES
    done_on: date | None
    done_note: str | None
    overdue_days: int

    @property
    def words(self) -> str:
        """ "tháng 05/2026"."""
        return period_words(self.period)

    def to_json(self) -> dict[str, object]:
        return {
            "period": self.period,
            "label": self.words,
            "due": self.due.isoformat(),
            "effective_due": self.effective_due.isoformat(),
            "status": self.status,
            "done_on": _iso(self.done_on),
            "done_note": self.done_note,
            "overdue_days": self.overdue_days,
        }


@dataclass(frozen=True)
class TaskLine:
    """One row of the appendix: a task and its state at the period's end."""

    code: str
    number: str  # the row's STT within its section ("4" for IV.4)
    section: str | None
    content: str
    products: tuple[str, ...]
    lead: tuple[str, ...]  # codes
    lead_names: tuple[str, ...]
    deadline_text: str
    due: date | None  # in force at the period's end (plan's or extended), as written in the history
    effective_due: date | None  # the same moved off days off
    status: str  # one of STATUSES
    due_in_period: bool
    done_on: date | None
    done_note: str | None
    extensions: tuple[ExtensionLine, ...]
    overdue_days: int  # calendar days past the effective due date at the period's end (0 unless overdue)
    note: str  # the plan's "Ghi chú"
    # Recurring work: its periods in the report's window (the status above is the module's rule over
    # them; due/effective_due/overdue_days are those of the period that decides it). Empty otherwise.
    periods: tuple[PeriodLine, ...] = ()
    recurring: bool = False

    def periods_with(self, *statuses: str) -> list[PeriodLine]:
        return [p for p in self.periods if p.status in statuses]

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "section": self.section,
            "content": self.content,
            "products": list(self.products),
            "lead": list(self.lead),
            "deadline": self.deadline_text,
            "due": _iso(self.due),
            "effective_due": _iso(self.effective_due),
            "status": self.status,
            "due_in_period": self.due_in_period,
            "done_on": _iso(self.done_on),
            "done_note": self.done_note,
            "extensions": [e.to_json() for e in self.extensions],
            "overdue_days": self.overdue_days,
            "recurring": self.recurring,
            "periods": [p.to_json() for p in self.periods],
        }


@dataclass(frozen=True)
class UnitLine:
    """A unit's row of the per-unit table (the index self-assessment)."""

    code: str
    name: str
    led: int
    due_in_period: int
    done_on_time: int  # of the tasks due in the period
    done_late: int  # of the tasks due in the period
    on_time_percent: float | None  # done_on_time / due_in_period, None when nothing was due
    overdue_at_period_end: int
    overdue_now: int  # on the report's date
    reports_due: int | None  # periodic reports due by the period's end (None: not a reporting unit)
    reports_on_time: int | None
    reports_late: int | None
    reports_missing: int | None

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Difficulty:
    """One point of "Khó khăn, vướng mắc": an extension asked or granted, or an overdue task."""

    task: str
    units: tuple[str, ...]  # names
    source: str  # extension | request | overdue
    text: str  # the drafted sentence

    def to_json(self) -> dict[str, object]:
        return {"task": self.task, "units": list(self.units), "source": self.source, "text": self.text}


@dataclass(frozen=True)
class Report:
    plan_code: str
    plan_title: str
    period: ReportPeriod
    at: date  # the report's date
    as_of: date  # the state reported: the period's end, or the report's date when earlier
    counts: Counts
    tasks: tuple[TaskLine, ...]
    sections: Mapping[str, str]
    units: tuple[UnitLine, ...]
    difficulties: tuple[Difficulty, ...]
    recommendations: tuple[str, ...]
    previous: ReportPeriod | None = None
    previous_counts: Counts | None = None

    @property
    def code(self) -> str:
        return "adhoc" if self.period.kind == "adhoc" else self.period.code

    def to_json(self) -> dict[str, object]:
        return {
            "period": self.code,
            "year": self.period.year,
            "counts": self.counts.to_json(),
            "units": [u.to_json() for u in self.units],
            "tasks": [t.to_json() for t in self.tasks],
            "plan": self.plan_code,
            "period_title": period_label(self.period),
            "data_from": _iso(self.period.data_from),
            "cutoff": self.period.cutoff.isoformat(),
            "as_of": self.as_of.isoformat(),
            "at": self.at.isoformat(),
            "previous": (
                {
                    "period": self.previous.code,
                    "as_of": self.previous.cutoff.isoformat(),
                    "counts": self.previous_counts.to_json(),
                }
                if self.previous and self.previous_counts
                else None
            ),
            "difficulties": [d.to_json() for d in self.difficulties],
            "recommendations": list(self.recommendations),
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --------------------------------------------------------------------------- periods


def report_period(code: str, year: int, at: date) -> ReportPeriod:
    """The period of ``--period CODE --year YEAR``; "adhoc" closes on the report's date ``at``.

    Raises ValueError (a Vietnamese sentence) for a code the report does not know.
    """
    if code.strip().lower() in ("adhoc", "dot xuat", "đột xuất"):
        return adhoc_period(at)
    period = parse_period(code, year)
    if period.code not in _PREVIOUS:
        raise ValueError(
            f"Kỳ báo cáo «{code}» không dùng cho báo cáo kết quả thực hiện kế hoạch: chọn Q1, H1, 9M, Y "
            "hoặc adhoc."
        )
    return period


def previous_period(period: ReportPeriod) -> ReportPeriod | None:
    """The period a report is compared with: H1 with Q1, 9M with H1, Y with 9M; an ad hoc report with the
    last fixed period closed before it in the same year; Q1 with none (the plan's first report)."""
    if period.kind == "adhoc":
        earlier = [
            fixed_period(code, period.year)
            for code in ("Y", "9M", "H1", "Q1")
            if fixed_period(code, period.year).cutoff < period.cutoff
        ]
        return earlier[0] if earlier else None
    code = _PREVIOUS.get(period.code)
    return fixed_period(code, period.year) if code else None


def period_label(period: ReportPeriod) -> str:
    """The period as a report's title says it: "quý I năm 2020", "6 tháng đầu năm 2020"..."""
    if period.kind == "adhoc":
        return f"đột xuất, tính đến ngày {period.cutoff:%d/%m/%Y}"
    title = period.title.removeprefix("Báo cáo ")
    return title


def data_window(period: ReportPeriod) -> tuple[date | None, date]:
    """First and last day of the period's data (an ad hoc report: the year so far)."""
    start = period.data_from if period.data_from else date(period.year, 1, 1)
    return start, period.cutoff


def month_end(day: date) -> date:
    """The last day of ``day``'s month: the end of the report's window for recurring work's periods."""
    return date(day.year, day.month, monthrange(day.year, day.month)[1])


# --------------------------------------------------------------------------- computing


@dataclass(frozen=True)
class _Judgement:
    """A task's state at ``as_of``: its status, the due date that decides it, its completion, its periods."""

    status: str
    due: date | None  # in force, as written
    effective: date | None  # moved off days off
    done_on: date | None
    done_note: str | None
    due_in_window: bool
    periods: tuple[PeriodLine, ...] = ()


def _status(task: ReportTask, as_of: date, working_day: WorkingDay) -> tuple[str, date | None, Change | None]:
    """A task done once: its status at ``as_of``, effective due date and completion."""
    due = task.due_at(as_of)
    effective = working_day(due) if due else None
    done = task.done_at(as_of)
    if done is not None:
        on_time = effective is None or done.on <= effective
        return ("done_on_time" if on_time else "done_late"), effective, done
    if effective is None:
        return "no_date", None, None
    if effective < as_of:
        return "overdue", effective, None
    if task.start is not None and task.start > as_of:
        return "not_yet_due", effective, None
    return "in_progress", effective, None


def _period_line(task: ReportTask, period: str, as_of: date, working_day: WorkingDay) -> PeriodLine:
    due = task.due_at(as_of, period)
    assert due is not None  # every period has its due date
    effective = working_day(due)
    done = task.done_at(as_of, period)
    if done is not None:
        status = "done_on_time" if done.on <= effective else "done_late"
    else:
        status = "overdue" if effective < as_of else "not_yet_due"
    return PeriodLine(
        period=period,
        due=due,
        effective_due=effective,
        status=status,
        done_on=done.on if done else None,
        done_note=(done.note or None) if done else None,
        overdue_days=(as_of - effective).days if status == "overdue" else 0,
    )


def _period_start(task: ReportTask, index: int) -> date | None:
    """The first day of the task's ``index``-th period: the day after the previous period's due date."""
    return task.start if index == 0 else task.occurrences[index - 1].due + timedelta(days=1)


def _judge_recurring(
    task: ReportTask, start: date | None, end: date, as_of: date, working_day: WorkingDay
) -> _Judgement:
    """Recurring work over its periods in the window ``start``..``end`` (the module's rule)."""
    inside = [(i, o) for i, o in enumerate(task.occurrences) if _in_window(o.due, start, end)]
    periods = tuple(_period_line(task, o.period, as_of, working_day) for _, o in inside)
    due_in = any(_in_window(p.effective_due, start, as_of) for p in periods)
    overdue = [p for p in periods if p.status == "overdue"]
    done = [p for p in periods if p.status in ("done_on_time", "done_late")]
    if overdue:
        first = overdue[0]
        return _Judgement("overdue", first.due, first.effective_due, None, None, due_in, periods)
    if done:
        late = any(p.status == "done_late" for p in done)
        last = done[-1]
        return _Judgement(
            "done_late" if late else "done_on_time",
            last.due,
            last.effective_due,
            max(p.done_on for p in done if p.done_on),
            last.done_note,
            due_in,
            periods,
        )
    if periods:
        index, _ = inside[0]
        began = _period_start(task, index)
        status = "in_progress" if began is None or began <= as_of else "not_yet_due"
        first_period = periods[0]
        return _Judgement(status, first_period.due, first_period.effective_due, None, None, due_in, periods)
    # None of its periods falls in the window: judged by the next one (or the last, after them all).
    later = [o for o in task.occurrences if o.due > end] or list(task.occurrences[-1:])
    line = _period_line(task, later[0].period, as_of, working_day)
    return _Judgement(line.status, line.due, line.effective_due, line.done_on, line.done_note, False)


def _judge(
    task: ReportTask, start: date | None, end: date, as_of: date, working_day: WorkingDay
) -> _Judgement:
    """``task``'s state at ``as_of`` for the window ``start``..``end`` (``end`` only matters to recurring
    work: the last day its periods may fall due to be in the window)."""
    if task.recurring:
        return _judge_recurring(task, start, end, as_of, working_day)
    status, effective, done = _status(task, as_of, working_day)
    return _Judgement(
        status,
        task.due_at(as_of),
        effective,
        done.on if done else None,
        (done.note or None) if done else None,
        _in_window(effective, start, as_of),
    )


def _in_window(day: date | None, start: date | None, end: date) -> bool:
    return day is not None and (start is None or start <= day) and day <= end


def counts_at(
    tasks: Sequence[ReportTask], period: ReportPeriod, as_of: date, working_day: WorkingDay = same_day
) -> Counts:
    """The counts of the summary for ``tasks`` at ``as_of`` (also used for the previous period)."""
    start, cutoff = data_window(period)
    end = month_end(cutoff)
    tally = dict.fromkeys(STATUSES, 0)
    by_period = dict.fromkeys(PERIOD_STATUSES, 0)
    due_in = due_on_time = due_late = due_overdue = extended = pending = recurring = 0
    for task in tasks:
        judged = _judge(task, start, end, as_of, working_day)
        status = judged.status
        tally[status] += 1
        if judged.due_in_window:
            due_in += 1
            due_on_time += status == "done_on_time"
            due_late += status == "done_late"
            due_overdue += status == "overdue"
        extended += any(c.kind == EXTENDED for c in task.extensions_at(as_of))
        pending += any(outcome == "pending" for _, outcome in task.requests_at(as_of))
        recurring += task.recurring
        for line in judged.periods:
            by_period[line.status] += 1
    return Counts(
        total=len(tasks),
        due_in_period=due_in,
        due_done_on_time=due_on_time,
        due_done_late=due_late,
        due_overdue=due_overdue,
        done=tally["done_on_time"] + tally["done_late"],
        extended=extended,
        extension_requests_pending=pending,
        **tally,
        recurring=recurring,
        periods=sum(by_period.values()),
        periods_done_on_time=by_period["done_on_time"],
        periods_done_late=by_period["done_late"],
        periods_overdue=by_period["overdue"],
        periods_not_yet_due=by_period["not_yet_due"],
    )


def _number(code: str, section: str | None) -> str:
    if section and code.upper().startswith(section.upper() + "."):
        return code[len(section) + 1 :]
    return code


def _task_line(
    task: ReportTask, data: ReportData, start: date | None, end: date, as_of: date, working_day: WorkingDay
) -> TaskLine:
    judged = _judge(task, start, end, as_of, working_day)
    status, effective = judged.status, judged.effective
    return TaskLine(
        code=task.code,
        number=_number(task.code, task.section),
        section=task.section,
        content=task.content,
        products=task.products,
        lead=task.lead,
        lead_names=tuple(data.unit_name(u) for u in task.lead),
        deadline_text=task.deadline_text,
        due=judged.due,
        effective_due=effective,
        status=status,
        due_in_period=judged.due_in_window,
        done_on=judged.done_on,
        done_note=judged.done_note,
        extensions=tuple(
            ExtensionLine(c.on, c.old_due, c.new_due, (c.note or "").strip(), c.kind, c.period)
            for c in task.extensions_at(as_of)
        ),
        overdue_days=(as_of - effective).days if status == "overdue" and effective else 0,
        note=task.note,
        periods=judged.periods,
        recurring=task.recurring,
    )


def _reporting_groups(data: ReportData, as_of: date, start: date | None) -> list[list[ReportPeriod]]:
    """The regime's reports due by ``as_of``, grouped by cut-off (Q2 and H1 are one report)."""
    from planner.periods import periods_for_year

    kinds = [k for k in data.reporting_kinds if k != "adhoc"]
    groups: dict[date, list[ReportPeriod]] = {}
    for period in periods_for_year(data.year, kinds):
        if period.cutoff <= as_of and (start is None or period.cutoff >= start):
            groups.setdefault(period.cutoff, []).append(period)
    return [groups[day] for day in sorted(groups)]


def _unit_lines(
    data: ReportData, lines: Sequence[TaskLine], now: list[str], as_of: date, working_day: WorkingDay
) -> tuple[UnitLine, ...]:
    order = list(data.units)
    led_codes = {u for line in lines for u in line.lead}
    codes = [c for c in order if c in led_codes or c in data.reporting_units]
    codes += sorted((led_codes | set(data.reporting_units)) - set(codes))
    result = []
    for code in codes:
        mine = [(line, current) for line, current in zip(lines, now, strict=True) if code in line.lead]
        due = [line for line, _ in mine if line.due_in_period]
        on_time = sum(line.status == "done_on_time" for line in due)
        late = sum(line.status == "done_late" for line in due)
        reports: tuple[int, int, int, int] | None = None
        if code in data.reporting_units:
            reports = _reports_of(data, code, as_of, working_day)
        result.append(
            UnitLine(
                code=code,
                name=data.unit_name(code),
                led=len(mine),
                due_in_period=len(due),
                done_on_time=on_time,
                done_late=late,
                on_time_percent=round(100 * on_time / len(due), 1) if due else None,
                overdue_at_period_end=sum(line.status == "overdue" for line, _ in mine),
                overdue_now=sum(current == "overdue" for _, current in mine),
                reports_due=reports[0] if reports else None,
                reports_on_time=reports[1] if reports else None,
                reports_late=reports[2] if reports else None,
                reports_missing=reports[3] if reports else None,
            )
        )
    return tuple(result)


def _reports_of(
    data: ReportData, unit: str, as_of: date, working_day: WorkingDay
) -> tuple[int, int, int, int]:
    due = on_time = late = missing = 0
    for group in _reporting_groups(data, as_of, None):
        due += 1
        cutoff = working_day(group[0].cutoff)
        received = [d for p in group if (d := data.received.get((unit, p.code))) is not None and d <= as_of]
        if not received:
            missing += 1
        elif min(received) <= cutoff:
            on_time += 1
        else:
            late += 1
    return due, on_time, late, missing


_REQUEST_OUTCOMES: Mapping[str, str] = {
    "granted": "đã được chấp thuận",
    "rejected": "không được chấp thuận",
    "pending": "đang chờ Lãnh đạo Sở xem xét",
    "moot": "",
}


def _names(names: Iterable[str]) -> str:
    return ", ".join(names) or "chưa xác định đơn vị chủ trì"


def _difficulties(
    data: ReportData, lines: Sequence[TaskLine], start: date | None, as_of: date
) -> tuple[Difficulty, ...]:
    result: list[Difficulty] = []
    by_code = {task.code: task for task in data.tasks}
    for line in lines:
        task = by_code[line.code]
        units = line.lead_names
        for request, outcome in task.requests_at(as_of):
            if start is not None and request.on < start:
                continue
            reason = (request.note or "").strip().rstrip(".")
            asked = f" đến ngày {request.new_due:%d/%m/%Y}" if request.new_due else ""
            settled = _REQUEST_OUTCOMES[outcome]
            text = (
                f"Nhiệm vụ {line.code} ({_names(units)}): ngày {request.on:%d/%m/%Y} đơn vị đề nghị gia hạn"
                f"{asked}, lý do: {reason or 'không nêu'}" + (f"; {settled}" if settled else "") + "."
            )
            result.append(Difficulty(line.code, units, "request", text))
        asked_days = {r.on for r, _ in task.requests_at(as_of)}
        for extension in line.extensions:
            if (start is not None and extension.on < start) or extension.kind != EXTENDED:
                continue
            if any(extension.reason.endswith(f"ngày {d:%d/%m/%Y})") for d in asked_days):
                continue  # granted on the unit's request: said above
            reason = extension.reason.rstrip(".") or "không nêu"
            old = f" từ {extension.old_due:%d/%m/%Y}" if extension.old_due else ""
            new = f" đến {extension.new_due:%d/%m/%Y}" if extension.new_due else ""
            result.append(
                Difficulty(
                    line.code,
                    units,
                    "extension",
                    f"Nhiệm vụ {line.code} ({_names(units)}) được gia hạn{old}{new}, lý do: {reason}.",
                )
            )
        if line.status == "overdue" and line.effective_due:
            notes = [
                c.note.strip()
                for c in task.changes
                if c.on <= as_of
                and c.note
                and c.note.strip()
                and c.kind not in (DONE, EXTENDED, DUE_SET, EXT_REQUESTED)
            ]
            said = notes[-1] if notes else line.note.strip()
            if line.recurring:
                late = line.periods_with("overdue")
                text = (
                    f"Nhiệm vụ {line.code} ({_names(units)}) có {len(late)} kỳ quá hạn chưa hoàn thành: "
                    + ", ".join(
                        f"{p.words} (hạn {p.effective_due:%d/%m/%Y}, quá hạn {p.overdue_days} ngày)"
                        for p in late
                    )
                )
            else:
                text = (
                    f"Nhiệm vụ {line.code} ({_names(units)}) quá hạn {line.overdue_days} ngày "
                    f"(hạn {line.effective_due:%d/%m/%Y}), chưa hoàn thành"
                )
            text += (f"; ghi chú: {said.rstrip('.')}" if said else "") + "."
            result.append(Difficulty(line.code, units, "overdue", text))
    return tuple(result)


def _recommendations(lines: Sequence[TaskLine], counts: Counts) -> tuple[str, ...]:
    result = []
    overdue = [line for line in lines if line.status == "overdue"]
    if overdue:
        result.append(
            "Đề nghị Lãnh đạo Sở chỉ đạo các đơn vị chủ trì khẩn trương hoàn thành "
            f"{len(overdue)} nhiệm vụ quá hạn ({', '.join(line.code for line in overdue)})."
        )
    if counts.extension_requests_pending:
        result.append(
            f"Đề nghị Lãnh đạo Sở xem xét {counts.extension_requests_pending} đề nghị gia hạn đang chờ duyệt."
        )
    undated = [line for line in lines if line.status == "no_date"]
    if undated:
        result.append(
            "Đề nghị các đơn vị chủ trì xác định thời hạn cụ thể cho "
            f"{len(undated)} nhiệm vụ chưa có thời hạn ({', '.join(line.code for line in undated)})."
        )
    return tuple(result)


def build(data: ReportData, period: ReportPeriod, at: date, working_day: WorkingDay = same_day) -> Report:
    """The report of ``data`` for ``period``, drafted on ``at``.

    ``working_day`` moves a due date falling on a day off to the next working day
    (``WorkingCalendar.next_working_day``); without it due dates stay as written.
    """
    as_of = min(at, period.cutoff)
    start, cutoff = data_window(period)
    tasks = data.tasks
    lines = [_task_line(task, data, start, month_end(cutoff), as_of, working_day) for task in tasks]
    # on the report's date: recurring work's periods due by the end of that month count too
    now = [
        _judge(task, start, max(month_end(cutoff), month_end(at)), at, working_day).status for task in tasks
    ]
    counts = counts_at(tasks, period, as_of, working_day)
    previous = previous_period(period)
    previous_counts = (
        counts_at(tasks, previous, min(at, previous.cutoff), working_day) if previous is not None else None
    )
    return Report(
        plan_code=data.plan_code,
        plan_title=data.plan_title,
        period=period,
        at=at,
        as_of=as_of,
        counts=counts,
        tasks=tuple(lines),
        sections=dict(data.sections),
        units=_unit_lines(data, lines, now, as_of, working_day),
        difficulties=_difficulties(data, lines, start, as_of),
        recommendations=_recommendations(lines, counts),
        previous=previous,
        previous_counts=previous_counts,
    )
