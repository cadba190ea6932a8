"""Reading what the planner needs from the database: tasks with their history, and reporting regimes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from config import DEFAULT_TIMEZONE
from plan.deadline import DeadlineKind
from plan.units import Directory
from planner.model import PlanInfo, ReportingInput, StatusChange, TaskInput
from planner.planner import PlannerInput
from store.models import (
    AssignmentRole,
    EventKind,
    Plan,
    PlanStatus,
    ReportSubmission,
    Section,
    Task,
    TaskEvent,
    TaskOccurrence,
    TaskStatus,
    TaskUnit,
)

DEFAULT_TZ = ZoneInfo(DEFAULT_TIMEZONE)  # the settings' own when the caller gives it (NHACVIEC_TIMEZONE)

_PLANNING_EVENTS = {
    EventKind.DONE: "done",
    EventKind.REOPENED: "reopened",
    EventKind.EXTENDED: "extended",
    EventKind.DUE_SET: "due_set",
}


def load_task_inputs(
    session: Session, plans: Iterable[Plan], tz: tzinfo = DEFAULT_TZ, *, by_period: bool = True
) -> list[TaskInput]:
    """Every task of the given plans (except those removed from their plan), in plan order, with history.

    Recurring work comes as one input per occurrence (``period`` set, its own due date and history);
    ``by_period=False`` gives one input per task (its plan-level history only), for views that count tasks.
    Plain columns, not ORM objects: a plan of 10,000 tasks loads in a fraction of a second.
    """
    plan_codes = {plan.id: plan.code for plan in plans}
    if not plan_codes:
        return []
    in_plans = (col(Task.plan_id).in_(list(plan_codes)), col(Task.status) != TaskStatus.REMOVED)
    task_rows = session.execute(
        sa.select(
            col(Task.id),
            col(Task.plan_id),
            col(Task.code),
            col(Task.section_id),
            col(Task.content),
            col(Task.deadline_text),
            col(Task.deadline_kind),
            col(Task.start),
            col(Task.due),
            col(Task.occurrences),
            col(Task.products),
        )
        .where(*in_plans)
        .order_by(col(Task.plan_id), col(Task.position))
    ).all()
    section_rows = session.exec(
        select(Section.id, Section.code).where(col(Section.plan_id).in_(list(plan_codes)))
    )
    sections = {section_id: code for section_id, code in section_rows}
    units: dict[int, dict[str, list[str]]] = {}
    for task_id, role, unit_code in session.exec(
        select(TaskUnit.task_id, TaskUnit.role, TaskUnit.unit_code)
        .join(Task, col(Task.id) == TaskUnit.task_id)
        .where(*in_plans)
        .order_by(col(TaskUnit.position))
    ):
        units.setdefault(task_id, {}).setdefault(role, []).append(unit_code)
    changes: dict[int, list[StatusChange]] = {}
    period_changes: dict[tuple[int, str], list[StatusChange]] = {}
    for task_id, kind, effective_on, at, new_due, period in session.execute(
        sa.select(
            col(TaskEvent.task_id),
            col(TaskEvent.kind),
            col(TaskEvent.effective_on),
            col(TaskEvent.at),
            col(TaskEvent.new_due),
            col(TaskEvent.period),
        )
        .join(Task, col(Task.id) == TaskEvent.task_id)
        .where(*in_plans, col(TaskEvent.kind).in_(list(_PLANNING_EVENTS)))
        .order_by(col(TaskEvent.id))
    ):
        on = effective_on or at.astimezone(tz).date()
        change = StatusChange(on, _PLANNING_EVENTS[EventKind(kind)], new_due)
        if period is None:
            changes.setdefault(task_id, []).append(change)
        else:
            period_changes.setdefault((task_id, period), []).append(change)
    occurrences: dict[int, list[tuple[str, date]]] = {}
    if by_period:
        for task_id, period, due in session.execute(
            sa.select(col(TaskOccurrence.task_id), col(TaskOccurrence.period), col(TaskOccurrence.due))
            .join(Task, col(Task.id) == TaskOccurrence.task_id)
            .where(*in_plans)
            .order_by(col(TaskOccurrence.task_id), col(TaskOccurrence.position))
        ):
            occurrences.setdefault(task_id, []).append((period, due))

    inputs = []
    for position, row in enumerate(task_rows):
        assigned = units.get(row.id, {})
        task = TaskInput(
            plan=plan_codes[row.plan_id],
            code=row.code,
            section=sections.get(row.section_id),
            content=row.content,
            deadline_text=row.deadline_text,
            kind=DeadlineKind(row.deadline_kind),
            start=row.start,
            due=row.due,
            occurrences=tuple(date.fromisoformat(d) for d in row.occurrences),
            lead=tuple(assigned.get(AssignmentRole.LEAD, ())),
            coordinating=tuple(assigned.get(AssignmentRole.COORDINATING, ())),
            products=tuple(row.products),
            changes=tuple(changes.get(row.id, ())),  # in the order they happened (event id)
            position=position,
        )
        periods = occurrences.get(row.id)
        if not periods:
            inputs.append(task)
            continue
        start = task.start
        for period, due in periods:
            inputs.append(
                replace(
                    task,
                    start=start,
                    due=due,
                    occurrences=(due,),
                    changes=tuple(period_changes.get((row.id, period), ())),
                    period=period,
                )
            )
            start = due + timedelta(days=1)
    return inputs


def load_reporting(session: Session, plans: Iterable[Plan]) -> list[ReportingInput]:
    """The reporting regime of each plan that has one, with the reports received so far."""
    received: dict[int, dict[tuple[str, str], date]] = {}
    plans = list(plans)
    for submission in session.exec(
        select(ReportSubmission).where(col(ReportSubmission.plan_id).in_([p.id for p in plans]))
    ):
        received.setdefault(submission.plan_id, {})[(submission.unit_code, submission.period)] = (
            submission.received_on
        )
    regimes = []
    for plan in plans:
        reporting: Mapping[str, Any] = plan.reporting or {}
        units = tuple(str(u) for u in reporting.get("units", ()) or ())
        if not units:
            continue
        kinds = tuple(
            k
            for k in (reporting.get("periods") or ("quarterly", "6-month", "9-month", "annual"))
            if k != "adhoc"
        )
        regimes.append(
            ReportingInput(
                plan=plan.code,
                year=plan.year,
                units=units,
                via=reporting.get("via"),
                kinds=kinds,
                received=received.get(plan.id or -1, {}),
            )
        )
    return regimes


def plans_for(session: Session, plan_code: str | None = None) -> list[Plan]:
    """The plans to plan for: the active ones (or the one named, if active). An archived plan plans and
    sends nothing."""
    query = select(Plan).where(Plan.status == PlanStatus.ACTIVE).order_by(col(Plan.year), col(Plan.id))
    if plan_code is not None:
        query = query.where(Plan.code == plan_code)
    return list(session.exec(query))


def load_planner_input(
    session: Session, directory: Directory, plan_code: str | None = None, tz: tzinfo = DEFAULT_TZ
) -> PlannerInput:
    plans = plans_for(session, plan_code)
    return PlannerInput(
        tasks=load_task_inputs(session, plans, tz),
        directory=directory,
        reporting=load_reporting(session, plans),
        plans={plan.code: plan_info(plan) for plan in plans},
    )


def plan_info(plan: Plan) -> PlanInfo:
    """What messages say of a plan: its code, title, the document's number and date, its closing date."""
    return PlanInfo(plan.code, plan.title, plan.number, plan.issued_on, plan.closes_on)
