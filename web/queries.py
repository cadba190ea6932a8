"""Reading a plan for the pages: its tasks as the planner sees them (with history), sections and unit names."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from fastapi import Request, Response
from sqlmodel import Session, col, select

from planner.model import TaskInput
from planner.occurrences import current_occurrences
from store.models import Plan, Section, Task, TaskEvent, TaskUnit, Unit
from store.planner_input import load_task_inputs
from store.tasks import TaskError, get_plan
from web.deps import error_text
from web.permissions import Principal, TaskUnits, sees, visible_unit


@dataclass(frozen=True)
class PlanData:
    plan: Plan
    plans: tuple[Plan, ...]  # every plan, newest first (the plan switcher)
    tasks: tuple[TaskInput, ...]  # the tasks the user may see, in plan order
    sections: tuple[tuple[str, str], ...]  # (code, title) in plan order
    unit_names: dict[str, str]  # every unit: code -> name
    shared: bool = False  # ``tasks`` is the plan's shared tuple (the user sees every task)

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
    request: Request, session: Session, plan_code: str | None, user: Principal, as_of: date | None = None
) -> PlanData | Response:
    """:func:`load_plan` for a page: a plan named but missing is a 404, no plan at all an explanatory page."""
    from web.deps import PageNotFound, render

    try:
        return load_plan(session, plan_code, user, as_of)
    except TaskError as error:
        if plan_code:
            raise PageNotFound(error_text(error)) from None
        return render(request, "empty.html", message=error_text(error))


def load_plan(
    session: Session, plan_code: str | None, user: Principal, as_of: date | None = None
) -> PlanData:
    """The plan named (or the newest) with the tasks ``user`` may see; a TaskError when there is none.

    Recurring work is one line per task: the occurrence that matters on ``as_of`` (each one with None)."""
    plan = get_plan(session, plan_code or None)
    plans = tuple(session.exec(select(Plan).order_by(col(Plan.year).desc(), col(Plan.id).desc())))
    sections = tuple(
        (section.code, section.title)
        for section in session.exec(
            select(Section).where(Section.plan_id == plan.id).order_by(col(Section.position))
        )
    )
    every = plan_tasks(session, plan)
    if as_of is not None:  # recurring work: one line per task, the occurrence that matters that day
        every = _current(every, as_of)
    if visible_unit(user) is None:  # sees every task: no need to ask task by task
        tasks = every
    else:
        tasks = tuple(task for task in every if sees(user, task_units(task)))
    shared = len(tasks) == len(every)
    if shared:
        tasks = every  # the shared tuple itself: what is computed from it can be shared too (web.dashboard)
    return PlanData(plan, plans, tasks, sections, unit_names(session), shared)


def _current(tasks: tuple[TaskInput, ...], as_of: date) -> tuple[TaskInput, ...]:
    """:func:`current_occurrences` of the plan's shared tuple, itself shared (one tuple per tuple and day)."""
    key = (id(tasks), as_of)
    cached = _CURRENT.get(key)
    if cached is not None and cached[0] is tasks:  # the very tuple: an id may be reused once it is freed
        return cached[1]
    current = tuple(current_occurrences(tasks, as_of))
    _CURRENT.put(key, (tasks, current))
    return current


class Bounded:
    """A small LRU mapping shared by a process's requests (threads): at most ``size`` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


PLAN_CACHE_SIZE = 4  # plans whose tasks a worker keeps in memory (10,000 tasks: some tens of MB each)
_CACHE = Bounded(PLAN_CACHE_SIZE)
_CURRENT = Bounded(PLAN_CACHE_SIZE)
_LOADING = threading.Lock()


def plan_tasks(session: Session, plan: Plan) -> tuple[TaskInput, ...]:
    """The plan's tasks with their history, cached until the plan changes.

    Every change to a task (done, extended, re-imported...) adds a task event, so
    (number of tasks, last event id) tells whether the cached copy is still right;
    that check is one small query, the full load is not (~0.4 s at 10,000 tasks).
    """
    # Three index look-ups (a join of tasks, events and units to count them took 30-60 ms at 10,000 tasks, on
    # every page); the newest event and assignment of any plan: a change elsewhere only reloads this one.
    fingerprint = tuple(
        session.exec(
            select(
                select(sa.func.count(col(Task.id))).where(Task.plan_id == plan.id).scalar_subquery(),
                select(sa.func.max(TaskEvent.id)).scalar_subquery(),
                select(sa.func.max(TaskUnit.task_id)).scalar_subquery(),
            )
        ).one()
    )
    assert plan.id is not None
    key = (
        session.get_bind().engine.url.render_as_string(hide_password=True),
        plan.id,
    )  # one cache per database
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    with _LOADING:  # one load at a time: twenty requests arriving together wait for one copy, not make twenty
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        tasks = tuple(load_task_inputs(session, [plan]))
        _CACHE.put(key, (fingerprint, tasks))
    return tasks
