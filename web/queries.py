"""Reading a plan for the pages: its tasks as the planner sees them (with history), sections and unit names."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import Request, Response
from sqlmodel import Session, col, select

from planner.model import TaskInput
from store.models import Plan, Section, Task, TaskEvent, TaskUnit, Unit
from store.planner_input import load_task_inputs
from store.tasks import TaskError, get_plan
from web.deps import error_text
from web.permissions import Principal, TaskUnits, sees


@dataclass(frozen=True)
class PlanData:
    plan: Plan
    plans: tuple[Plan, ...]  # every plan, newest first (the plan switcher)
    tasks: tuple[TaskInput, ...]  # the tasks the user may see, in plan order
    sections: tuple[tuple[str, str], ...]  # (code, title) in plan order
    unit_names: dict[str, str]  # every unit: code -> name

    def lead_units(self) -> list[tuple[str, str]]:
        """The units leading the visible tasks, in the order they first lead one."""
        seen: dict[str, str] = {}
        for task in self.tasks:
            for code in task.lead:
                seen.setdefault(code, self.unit_names.get(code, code))
        return list(seen.items())

    def all_units(self) -> list[tuple[str, str]]:
        """Units taking part (lead or coordinating) in the visible tasks, in order of appearance."""
        seen: dict[str, str] = {}
        for task in self.tasks:
            for code in (*task.lead, *task.coordinating):
                seen.setdefault(code, self.unit_names.get(code, code))
        return list(seen.items())


def task_units(task: TaskInput) -> TaskUnits:
    return TaskUnits(lead=task.lead, coordinating=task.coordinating)


def unit_names(session: Session) -> dict[str, str]:
    return {unit.code: unit.name for unit in session.exec(select(Unit))}


def load_plan_page(
    request: Request, session: Session, plan_code: str | None, user: Principal
) -> PlanData | Response:
    """:func:`load_plan` for a page: a plan named but missing is a 404, no plan at all an explanatory page."""
    from web.deps import PageNotFound, render

    try:
        return load_plan(session, plan_code, user)
    except TaskError as error:
        if plan_code:
            raise PageNotFound(error_text(error)) from None
        return render(request, "empty.html", message=error_text(error))


def load_plan(session: Session, plan_code: str | None, user: Principal) -> PlanData:
    """The plan named (or the newest) with the tasks ``user`` may see; a TaskError when there is none."""
    plan = get_plan(session, plan_code or None)
    plans = tuple(session.exec(select(Plan).order_by(col(Plan.year).desc(), col(Plan.id).desc())))
    sections = tuple(
        (section.code, section.title)
        for section in session.exec(
            select(Section).where(Section.plan_id == plan.id).order_by(col(Section.position))
        )
    )
    tasks = tuple(task for task in plan_tasks(session, plan) if sees(user, task_units(task)))
    return PlanData(plan, plans, tasks, sections, unit_names(session))


_CACHE: dict[tuple[str, int], tuple[tuple[object, ...], tuple[TaskInput, ...]]] = {}
_CACHE_LOCK = threading.Lock()


def plan_tasks(session: Session, plan: Plan) -> tuple[TaskInput, ...]:
    """The plan's tasks with their history, cached until the plan changes.

    Every change to a task (done, extended, re-imported...) adds a task event, so
    (number of tasks, last event id) tells whether the cached copy is still right;
    that check is one small query, the full load is not (~0.4 s at 10,000 tasks).
    """
    fingerprint = tuple(
        session.exec(
            select(
                sa.func.count(sa.distinct(Task.id)), sa.func.max(TaskEvent.id), sa.func.max(TaskUnit.task_id)
            )
            .select_from(Task)
            .outerjoin(TaskEvent, col(TaskEvent.task_id) == Task.id)
            .outerjoin(TaskUnit, col(TaskUnit.task_id) == Task.id)
            .where(Task.plan_id == plan.id)
        ).one()
    )
    assert plan.id is not None
    key = (session.get_bind().url.render_as_string(hide_password=True), plan.id)  # one cache per database
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
    tasks = tuple(load_task_inputs(session, [plan]))
    with _CACHE_LOCK:
        _CACHE[key] = (fingerprint, tasks)
    return tasks
