"""What the execution report reads from the database, as plain data (``report.figures.ReportData``).

:func:`report_task` is the one adapter from a task's stored fields to what the report reads: when the
task model changes (an effective due date stored with the task...), only it changes. Recurring work gives
its periods (``task_occurrences``) and each history entry the period it is about, so the report judges it
period by period.

A history entry without an effective day is dated by its moment in the settings' time zone
(``Settings.tz``, NHACVIEC_TIMEZONE): the callers pass it, there is no fallback zone here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, tzinfo

from sqlmodel import Session, col, select

from planner.calendar import WorkingCalendar
from report.figures import (
    Change,
    PeriodDue,
    Report,
    ReportData,
    ReportTask,
    build,
    report_period,
    same_day,
)
from report.text import Letterhead
from store.models import (
    AssignmentRole,
    Leader,
    Plan,
    ReportSubmission,
    Section,
    Task,
    TaskEvent,
    TaskOccurrence,
    TaskStatus,
    TaskUnit,
    Unit,
)
from store.reports import regime
from store.tasks import TaskError, get_plan

_REPORTED_EVENTS = ("done", "reopened", "extended", "due_set", "ext_requested", "ext_rejected")


def report_task(
    task: Task,
    section: str | None,
    units: Mapping[str, Sequence[str]],
    events: Sequence[TaskEvent],
    position: int,
    tz: tzinfo,
    occurrences: Sequence[TaskOccurrence] = (),
) -> ReportTask:
    """A stored task, its units, its history and (recurring work) its periods as the report reads them
    (the one adapter); ``tz`` is the settings' time zone, the day of an entry without an effective day."""
    return ReportTask(
        code=task.code,
        section=section,
        content=task.content,
        products=tuple(task.products or ()),
        lead=tuple(units.get(AssignmentRole.LEAD, ())),
        coordinating=tuple(units.get(AssignmentRole.COORDINATING, ())),
        deadline_text=task.deadline_text,
        kind=task.deadline_kind,
        start=task.start,
        due=task.due,
        changes=tuple(
            Change(
                on=event.effective_on or event.at.astimezone(tz).date(),
                kind=event.kind,
                new_due=event.new_due,
                old_due=event.old_due,
                note=event.note,
                actor=event.actor,
                period=event.period,
            )
            for event in events
            if event.kind in _REPORTED_EVENTS
        ),
        note=task.note or "",
        position=position,
        occurrences=tuple(PeriodDue(o.period, o.due) for o in occurrences),
    )


def working_day(calendar: WorkingCalendar | None) -> Callable[[date], date]:
    """A due date on a day off moves to the next working day of ``calendar`` (outside the years the
    calendar knows, the date stays as it is)."""
    if calendar is None:
        return same_day

    def move(day: date) -> date:
        try:
            return calendar.next_working_day(day)
        except ValueError:
            return day

    return move


def report_plan(session: Session, plan_code: str | None, year: int | None) -> Plan:
    """The plan to report on: the one named (it must be of ``year`` when both are given), else the newest
    plan of ``year``, else the newest plan."""
    if plan_code is not None or year is None:
        plan = get_plan(session, plan_code)
        if year is not None and plan.year != year:
            raise TaskError(f"Kế hoạch {plan.code} là kế hoạch năm {plan.year}, không phải năm {year}.")
        return plan
    newest = session.exec(select(Plan).where(Plan.year == year).order_by(col(Plan.id).desc())).first()
    if newest is None:
        known = ", ".join(f"{p.code} ({p.year})" for p in session.exec(select(Plan))) or "chưa có"
        raise TaskError(f"Không có kế hoạch nào của năm {year} (các kế hoạch hiện có: {known}).")
    return newest


def load_report_data(session: Session, plan: Plan, tz: tzinfo) -> ReportData:
    """The plan with its tasks, history, recurring work's periods, units and reports received; ``tz`` is
    the settings' time zone (``Settings.tz``)."""
    tasks = list(
        session.exec(
            select(Task)
            .where(Task.plan_id == plan.id, Task.status != TaskStatus.REMOVED)
            .order_by(col(Task.position))
        )
    )
    task_ids = [t.id for t in tasks]
    sections = list(
        session.exec(select(Section).where(Section.plan_id == plan.id).order_by(col(Section.position)))
    )
    section_codes = {s.id: s.code for s in sections}
    units: dict[int, dict[str, list[str]]] = {}
    for assignment in session.exec(
        select(TaskUnit).where(col(TaskUnit.task_id).in_(task_ids)).order_by(col(TaskUnit.position))
    ):
        units.setdefault(assignment.task_id, {}).setdefault(assignment.role, []).append(assignment.unit_code)
    events: dict[int, list[TaskEvent]] = {}
    for event in session.exec(
        select(TaskEvent)
        .where(col(TaskEvent.task_id).in_(task_ids), col(TaskEvent.kind).in_(_REPORTED_EVENTS))
        .order_by(col(TaskEvent.id))
    ):
        events.setdefault(event.task_id, []).append(event)
    occurrences: dict[int, list[TaskOccurrence]] = {}
    for occurrence in session.exec(
        select(TaskOccurrence)
        .where(col(TaskOccurrence.task_id).in_(task_ids))
        .order_by(col(TaskOccurrence.task_id), col(TaskOccurrence.due), col(TaskOccurrence.position))
    ):
        occurrences.setdefault(occurrence.task_id, []).append(occurrence)
    reporting_units, kinds = regime(plan)
    received = {
        (s.unit_code, s.period): s.received_on
        for s in session.exec(select(ReportSubmission).where(ReportSubmission.plan_id == plan.id))
    }
    directory = session.exec(select(Unit).order_by(col(Unit.position), col(Unit.code)))
    return ReportData(
        plan_code=plan.code,
        plan_title=plan.title,
        year=plan.year,
        tasks=tuple(
            report_task(
                task,
                section_codes.get(task.section_id),
                units.get(task.id or -1, {}),
                events.get(task.id or -1, []),
                position,
                tz,
                occurrences.get(task.id or -1, ()),
            )
            for position, task in enumerate(tasks)
        ),
        sections={s.code: s.title for s in sections},
        units={u.code: u.name for u in directory},
        reporting_units=reporting_units,
        reporting_kinds=kinds,
        received=received,
    )


def make_letterhead(session: Session, settings: object) -> Letterhead:
    """The report's letterhead: the ``NHACVIEC_REPORT_*`` settings, signed by the directory's Director."""
    director = session.exec(select(Leader).where(Leader.role == "director")).first()
    title = (director.title if director else "Giám đốc").strip()
    title = title.removesuffix(" Sở").removesuffix(" sở") or "Giám đốc"
    return Letterhead(
        authority=settings.report_authority,  # type: ignore[attr-defined]
        issuer=settings.report_issuer,  # type: ignore[attr-defined]
        symbol=settings.report_symbol,  # type: ignore[attr-defined]
        place=settings.report_place,  # type: ignore[attr-defined]
        recipient=settings.report_recipient,  # type: ignore[attr-defined]
        signer_title=title,
        signer_name=director.name if director else "",
    )


def build_report(
    session: Session, settings: object, period: str, year: int | None, plan_code: str | None, at: date
) -> tuple[Report, Letterhead]:
    """The report of ``period`` (Q1, H1, 9M, Y, adhoc) drafted on ``at``, with its letterhead: what the CLI
    and the web page write. A mistake (an unknown plan or period) is a UserError in Vietnamese."""
    from store.calendar import working_calendar

    plan = report_plan(session, plan_code, year)
    try:
        period_of = report_period(period, plan.year, at)
    except ValueError as error:
        raise TaskError(str(error)) from None
    data = load_report_data(session, plan, settings.tz)  # type: ignore[attr-defined]
    calendar = working_calendar(
        session,
        settings.calendar_file,  # type: ignore[attr-defined]
        settings.send_time,  # type: ignore[attr-defined]
        settings.timezone,  # type: ignore[attr-defined]
    )
    return build(data, period_of, at, working_day(calendar)), make_letterhead(session, settings)
