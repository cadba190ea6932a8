"""Writing a checked plan and the unit directory into the database.

The caller owns the transaction (``store.db.session_scope``): an import is all
or nothing. Re-importing a plan updates its tasks by code and keeps their
status history; a task that left the plan is marked removed, not deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, delete, select

from plan.check import CheckedPlan, CheckedTask
from plan.units import Directory
from store.models import (
    AssignmentRole,
    EventKind,
    Plan,
    Section,
    Task,
    TaskEvent,
    TaskStatus,
    TaskUnit,
    row_id,
)
from store.tasks import sync_occurrences


@dataclass
class ImportSummary:
    plan_code: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    archived_samples: list[str] = field(default_factory=list)  # sample plans a real plan's import archived


def sync_units(session: Session, directory: Directory) -> None:
    """Write ``directory``'s units into the database, inserting or updating (tests and benchmarks build
    their directory this way; the program's directory is the database's, store.directory)."""
    from store.directory import write_units

    write_units(session, directory)


def _task_fields(task: CheckedTask) -> dict[str, Any]:
    deadline = task.deadline
    assert deadline is not None, "a plan with unreadable deadlines is never imported"
    return {
        "content": task.raw.content,
        "products": list(task.raw.products),
        "deadline_text": task.raw.deadline,
        "deadline_kind": str(deadline.kind),
        "start": deadline.start,
        "due": deadline.due,
        "occurrences": [d.isoformat() for d in deadline.occurrences],
        "source_row": task.raw.row,
        "note": task.raw.note,
        "unlisted_units": [{"role": role, "name": name} for role, name in task.unlisted],
    }


def _assignments(task: CheckedTask) -> list[tuple[str, AssignmentRole]]:
    return [(code, AssignmentRole.LEAD) for code in task.lead] + [
        (code, AssignmentRole.COORDINATING) for code in task.coordinating
    ]


def import_plan(
    session: Session,
    checked: CheckedPlan,
    plan_code: str,
    *,
    actor: str,
    via: str = "cli",
    sample: bool = False,
) -> ImportSummary:
    """Create or update the plan ``plan_code`` from a checked plan without problems.

    ``sample``: the demonstration plan ``init`` loads. Importing a real plan archives every active sample
    plan (their codes in ``summary.archived_samples``)."""
    if checked.problems:
        raise ValueError("a plan with problems cannot be imported")
    summary = ImportSummary(plan_code)
    plan = session.exec(select(Plan).where(Plan.code == plan_code)).first()
    reporting = {
        "units": list(checked.reporting_units),
        "via": checked.reporting_via,
        "periods": list(checked.reporting_periods),
    }
    if plan is None:
        plan = Plan(code=plan_code, title=checked.title or plan_code, year=checked.year)
    plan.title = checked.title or plan.title
    plan.year = checked.year
    plan.source_file = checked.file
    plan.reporting = reporting
    plan.number = checked.number or plan.number
    plan.issued_on = checked.issued_on or plan.issued_on
    plan.is_sample = sample or plan.is_sample  # re-importing the sample keeps it the sample
    session.add(plan)
    session.flush()
    assert plan.id is not None

    sections = {s.code: s for s in session.exec(select(Section).where(Section.plan_id == plan.id))}
    for position, raw_section in enumerate(checked.sections):
        section = sections.get(raw_section.code) or Section(plan_id=plan.id, code=raw_section.code, title="")
        section.title = raw_section.title
        section.position = position
        session.add(section)
        sections[raw_section.code] = section
    session.flush()

    tasks = {t.code: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}
    assignments: dict[int, list[tuple[str, str]]] = {}
    for task_id, unit_code, role in session.exec(
        select(TaskUnit.task_id, TaskUnit.unit_code, TaskUnit.role)
        .join(Task, col(Task.id) == TaskUnit.task_id)
        .where(Task.plan_id == plan.id)
        .order_by(col(TaskUnit.position))
    ):
        assignments.setdefault(task_id, []).append((unit_code, role))

    for position, checked_task in enumerate(checked.tasks):
        fields = _task_fields(checked_task)
        task_section = sections.get(checked_task.raw.section)
        fields["section_id"] = task_section.id if task_section else None
        fields["position"] = position
        task = tasks.pop(checked_task.code, None)
        if task is None:
            task = Task(plan_id=plan.id, code=checked_task.code, **fields)
            session.add(task)
            session.flush()
            session.add(
                TaskEvent(
                    task_id=row_id(task), kind=EventKind.CREATED, actor=actor, via=via, new_due=task.due
                )
            )
            summary.created.append(task.code)
        else:
            changed = [
                name for name, value in fields.items() if getattr(task, name) != value and name != "position"
            ]
            old_assignments = assignments.get(task.id or -1, [])
            if old_assignments != _assignments(checked_task):
                changed.append("units")
            was_removed = task.status == TaskStatus.REMOVED
            old_due = task.due
            for name, value in fields.items():
                setattr(task, name, value)
            if was_removed:
                task.status = TaskStatus.DONE if task.done_on else TaskStatus.OPEN
                changed.append("status")
            session.add(task)
            if changed:
                note = "Cập nhật khi nhập lại kế hoạch: " + ", ".join(sorted(changed))
                session.add(
                    TaskEvent(
                        task_id=row_id(task),
                        kind=EventKind.UPDATED,
                        actor=actor,
                        via=via,
                        note=note,
                        old_due=old_due,
                        new_due=task.due,
                    )
                )
                summary.updated.append(task.code)
            else:
                summary.unchanged.append(task.code)
        assert task.id is not None
        sync_occurrences(session, task)
        session.exec(delete(TaskUnit).where(col(TaskUnit.task_id) == task.id))
        for unit_position, (unit_code, role) in enumerate(_assignments(checked_task)):
            session.add(
                TaskUnit(task_id=row_id(task), unit_code=unit_code, role=role, position=unit_position)
            )

    for task in tasks.values():
        if task.status != TaskStatus.REMOVED:
            task.status = TaskStatus.REMOVED
            session.add(task)
            session.add(
                TaskEvent(
                    task_id=row_id(task),
                    kind=EventKind.REMOVED,
                    actor=actor,
                    via=via,
                    note="Không còn trong kế hoạch khi nhập lại.",
                )
            )
            summary.removed.append(task.code)
    if not plan.is_sample:
        from store.plan_life import archive_samples

        summary.archived_samples = archive_samples(session, keep=plan_code)
    session.flush()
    return summary
