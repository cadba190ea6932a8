"""Reading what the planner needs from the database: tasks with their history, and reporting regimes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from plan.deadline import DeadlineKind
from plan.units import Directory
from planner.model import ReportingInput, StatusChange, TaskInput
from planner.planner import PlannerInput
from store.models import (
    AssignmentRole,
    EventKind,
    Plan,
    ReportSubmission,
    Section,
    Task,
    TaskEvent,
    TaskStatus,
    TaskUnit,
)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

_PLANNING_EVENTS = {
    EventKind.DONE: "done",
    EventKind.REOPENED: "reopened",
    EventKind.EXTENDED: "extended",
    EventKind.DUE_SET: "due_set",
}


def load_task_inputs(session: Session, plans: Iterable[Plan]) -> list[TaskInput]:
    """Every task of the given plans (except those removed from their plan), in plan order, with history."""
    plan_by_id = {plan.id: plan for plan in plans}
    if not plan_by_id:
        return []
    plan_ids = list(plan_by_id)
    tasks = list(
        session.exec(
            select(Task)
            .where(col(Task.plan_id).in_(plan_ids), Task.status != TaskStatus.REMOVED)
            .order_by(col(Task.plan_id), col(Task.position))
        )
    )
    task_ids = [task.id for task in tasks]
    sections = {s.id: s.code for s in session.exec(select(Section).where(col(Section.plan_id).in_(plan_ids)))}
    units: dict[int, dict[str, list[str]]] = {}
    for assignment in session.exec(
        select(TaskUnit).where(col(TaskUnit.task_id).in_(task_ids)).order_by(col(TaskUnit.position))
    ):
        units.setdefault(assignment.task_id, {}).setdefault(assignment.role, []).append(assignment.unit_code)
    changes: dict[int, list[StatusChange]] = {}
    for event in session.exec(
        select(TaskEvent)
        .where(col(TaskEvent.task_id).in_(task_ids), col(TaskEvent.kind).in_(list(_PLANNING_EVENTS)))
        .order_by(col(TaskEvent.id))
    ):
        on = event.effective_on or event.at.astimezone(VIETNAM).date()
        changes.setdefault(event.task_id, []).append(
            StatusChange(on, _PLANNING_EVENTS[EventKind(event.kind)], event.new_due)
        )

    inputs = []
    for position, task in enumerate(tasks):
        assert task.id is not None
        assigned = units.get(task.id, {})
        inputs.append(
            TaskInput(
                plan=plan_by_id[task.plan_id].code,
                code=task.code,
                section=sections.get(task.section_id),
                content=task.content,
                deadline_text=task.deadline_text,
                kind=DeadlineKind(task.deadline_kind),
                start=task.start,
                due=task.due,
                occurrences=tuple(date.fromisoformat(d) for d in task.occurrences),
                lead=tuple(assigned.get(AssignmentRole.LEAD, ())),
                coordinating=tuple(assigned.get(AssignmentRole.COORDINATING, ())),
                products=tuple(task.products),
                changes=tuple(changes.get(task.id, ())),  # in the order they happened (event id)
                position=position,
            )
        )
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
        reporting: Mapping[str, object] = plan.reporting or {}
        units = tuple(str(u) for u in reporting.get("units", ()) or ())  # type: ignore[union-attr]
        if not units:
            continue
        kinds = tuple(
            k
            for k in (reporting.get("periods") or ("quarterly", "6-month", "9-month", "annual"))  # type: ignore[union-attr]
            if k != "adhoc"
        )
        regimes.append(
            ReportingInput(
                plan=plan.code,
                year=plan.year,
                units=units,
                via=reporting.get("via"),  # type: ignore[arg-type]
                kinds=kinds,
                received=received.get(plan.id or -1, {}),
            )
        )
    return regimes


def plans_for(session: Session, plan_code: str | None = None) -> list[Plan]:
    """The plans to plan for: the one named, or all of them."""
    query = select(Plan).order_by(col(Plan.year), col(Plan.id))
    if plan_code is not None:
        query = query.where(Plan.code == plan_code)
    return list(session.exec(query))


def load_planner_input(session: Session, directory: Directory, plan_code: str | None = None) -> PlannerInput:
    plans = plans_for(session, plan_code)
    return PlannerInput(
        tasks=load_task_inputs(session, plans), directory=directory, reporting=load_reporting(session, plans)
    )
