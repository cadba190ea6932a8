"""The sample plan as planner input, built without a database (the planner is pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import cache
from typing import Any

from config.settings import Settings
from plan.check import check_plan
from plan.importers.yaml_plan import read_yaml_plan
from plan.units import Directory, load_directory
from planner.calendar import WorkingCalendar, load_calendar
from planner.model import Notification, Recipient, ReportingInput, StatusChange, TaskInput
from planner.planner import PlannerInput, plan_notifications
from rules.model import Rule
from store.rules import read_rules_file

SETTINGS = Settings()
PLAN = "CCHC-2020"


@cache
def directory() -> Directory:
    return load_directory(SETTINGS.units_file)


@cache
def calendar() -> WorkingCalendar:
    return load_calendar(SETTINGS.calendar_file)


@cache
def default_rules() -> tuple[Rule, ...]:
    return tuple(read_rules_file(SETTINGS.rules_file))


@cache
def sample_tasks() -> tuple[TaskInput, ...]:
    checked = check_plan(read_yaml_plan(SETTINGS.sample_plan), directory(), 2020)
    tasks = []
    for position, task in enumerate(checked.tasks):
        deadline = task.deadline
        assert deadline is not None
        tasks.append(
            TaskInput(
                plan=PLAN,
                code=task.code,
                section=task.raw.section,
                content=task.raw.content,
                deadline_text=task.raw.deadline,
                kind=deadline.kind,
                start=deadline.start,
                due=deadline.due,
                occurrences=deadline.occurrences,
                lead=task.lead,
                coordinating=task.coordinating,
                products=task.raw.products,
                position=position,
            )
        )
    return tuple(tasks)


def sample_reporting(received: dict[tuple[str, str], date] | None = None) -> ReportingInput:
    return ReportingInput(plan=PLAN, year=2020, units=("PCMNV", "DVTH"), via="VP", received=received or {})


def with_changes(code: str, *changes: StatusChange) -> tuple[TaskInput, ...]:
    return tuple(replace(t, changes=t.changes + changes) if t.code == code else t for t in sample_tasks())


def simulate(
    tasks: tuple[TaskInput, ...] | None = None,
    rules: tuple[Rule, ...] | None = None,
    start: date = date(2020, 1, 1),
    end: date = date(2020, 12, 31),
    reporting: ReportingInput | None = None,
):  # type: ignore[no-untyped-def]
    inputs = PlannerInput(
        tasks=tasks if tasks is not None else sample_tasks(),
        directory=directory(),
        reporting=(reporting or sample_reporting(),),
    )
    return plan_notifications(inputs, rules if rules is not None else default_rules(), calendar(), start, end)


def renderer_for(
    inputs: PlannerInput, units: Directory, renderer: Any
) -> Callable[[Notification, Recipient], Any]:
    """Render one notification for one recipient as the delivery pipeline does (its contexts, the renderer)."""
    from delivery.pipeline import Contexts

    contexts = Contexts(inputs, units)
    return lambda n, r: renderer.render(n.template, str(r.channel), contexts.item(n, r))
