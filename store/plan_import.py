"""Writing a checked plan and the unit directory into the database.

The caller owns the transaction (``store.db.session_scope``): an import is all
or nothing. Re-importing a plan finds each row's stored task by content and lead unit, not by number
(plan.rematch): a task keeps its status history, extensions and occurrences when a clerk inserts a row
and renumbers the rest; a task that left the plan is marked removed, not deleted. A match that is not
certain is asked (``choices``), never guessed: the import refuses until it is answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, delete, select

from plan.check import CheckedPlan, CheckedTask
from plan.errors import UserError
from plan.rematch import Question, Row, rematch
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
    """What an import did (or, rolled back, would do): codes are the new file's, except ``removed``."""

    plan_code: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    archived_samples: list[str] = field(default_factory=list)  # sample plans a real plan's import archived
    renumbered: list[tuple[str, str]] = field(default_factory=list)  # (old code, new code)
    changes: dict[str, dict[str, tuple[Any, Any]]] = field(
        default_factory=dict
    )  # code -> field -> (old, new)
    rows: dict[str, int | None] = field(default_factory=dict)  # new code -> its row in the file
    removed_rows: dict[str, int | None] = field(default_factory=dict)  # old code -> its row before
    questions: list[Question] = field(default_factory=list)  # unanswered (dry run only)
    similarity: dict[str, float] = field(default_factory=dict)  # new code -> how alike its old content is

    def to_json(self) -> dict[str, object]:
        return {
            "plan": self.plan_code,
            "new": [{"code": code, "row": self.rows.get(code)} for code in self.created],
            "changed": [
                {
                    "code": code,
                    "row": self.rows.get(code),
                    "fields": {
                        name: {"old": _plain(old), "new": _plain(new)} for name, (old, new) in fields.items()
                    },
                }
                for code, fields in self.changes.items()
            ],
            "removed": [{"code": code, "row": self.removed_rows.get(code)} for code in self.removed],
            "renumbered": [
                {
                    "old_code": old,
                    "new_code": new,
                    "row": self.rows.get(new),
                    "similarity": self.similarity.get(new),
                }
                for old, new in self.renumbered
            ],
            "unchanged": len(self.unchanged),
            "uncertain": [
                {
                    "code": q.new,
                    "row": self.rows.get(q.new),
                    "candidates": [
                        {"code": code, "similarity": ratio, "row": self.removed_rows.get(code)}
                        for code, ratio in q.candidates
                    ],
                }
                for q in self.questions
            ],
        }


class UncertainMatchError(UserError):
    """Rows of the new file that may be stored tasks: the admin must say which (``--match``)."""

    def __init__(self, questions: list[Question]) -> None:
        self.questions = questions
        asked = "; ".join(
            f"{q.new} có thể là {' hoặc '.join(f'{code} ({ratio:.0%})' for code, ratio in q.candidates)}"
            for q in questions
        )
        first = questions[0]
        super().__init__(
            f"Không nhập: chưa chắc nhiệm vụ nào trong kế hoạch đang lưu ứng với dòng mới ({asked}); "
            f"hãy chọn bằng --match MÃ_CŨ=MÃ_MỚI (ví dụ --match {first.candidates[0][0]}={first.new}) "
            f"hoặc -={first.new} nếu là nhiệm vụ mới. Cơ sở dữ liệu giữ nguyên."
        )


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


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


_SHOWN_FIELDS = {  # what the diff shows, in order: the plan's own cells (derived dates follow the deadline)
    "section": "section",
    "content": "content",
    "products": "products",
    "lead": "lead",
    "coordinating": "coordinating",
    "deadline_text": "deadline",
    "due": "due",
    "note": "note",
}


def import_plan(
    session: Session,
    checked: CheckedPlan,
    plan_code: str,
    *,
    actor: str,
    via: str = "cli",
    sample: bool = False,
    choices: dict[str, str] | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Create or update the plan ``plan_code`` from a checked plan without problems.

    ``sample``: the demonstration plan ``init`` loads. Importing a real plan archives every active sample
    plan (their codes in ``summary.archived_samples``). Each row finds its stored task by content and lead
    unit (plan.rematch; ``choices`` are the admin's answers, old code -> new code). An uncertain match
    raises :class:`UncertainMatchError`, except in a ``dry_run`` (the caller rolls back), whose summary
    lists the questions.
    """
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
    section_codes = {s.id: s.code for s in sections.values()}
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

    def units_of(task: Task, role: str) -> tuple[str, ...]:
        return tuple(code for code, r in assignments.get(task.id or -1, []) if r == role)

    old_rows = [
        Row(t.code, t.content, units_of(t, AssignmentRole.LEAD), t.source_row) for t in tasks.values()
    ]
    new_rows = [Row(t.code, t.raw.content, tuple(t.lead), t.raw.row) for t in checked.tasks]
    matched = rematch(old_rows, new_rows, choices)
    if matched.questions and not dry_run:
        raise UncertainMatchError(matched.questions)
    summary.questions = matched.questions
    summary.rows = {t.code: t.raw.row for t in checked.tasks}
    summary.removed_rows = {t.code: t.source_row for t in tasks.values()}
    summary.similarity = {pair.new: pair.similarity for pair in matched.pairs}
    successor = matched.successor()
    asked_new = {question.new for question in matched.questions}

    # Renumbered tasks take their new codes in two steps, so that I.2 -> I.3 and I.1 -> I.2 never collide.
    # A stored task with no successor gives its code up to the new row that has it ("IX.5" -> "IX.5~38").
    renumbered = [(tasks[pair.old], pair.new) for pair in matched.renumbered]
    paired = {pair.old for pair in matched.pairs}
    wanted = {row.code for row in new_rows}
    renumbered += [
        (task, f"{code}~{task.id}"[:32])
        for code, task in tasks.items()
        if code not in paired and code in wanted
    ]
    for task, _ in renumbered:
        task.code = f"~{task.id}"
        session.add(task)
    session.flush()
    renamed_from: dict[int | None, str] = {}
    for task, new_code in renumbered:
        renamed_from[task.id] = _old_code(tasks, task)
        task.code = new_code
        session.add(task)
    session.flush()
    summary.renumbered = [(pair.old, pair.new) for pair in matched.renumbered]

    for position, checked_task in enumerate(checked.tasks):
        fields = _task_fields(checked_task)
        task_section = sections.get(checked_task.raw.section)
        fields["section_id"] = task_section.id if task_section else None
        fields["position"] = position
        old_code = successor.get(checked_task.code)
        found = tasks.get(old_code) if old_code is not None else None
        if found is None:
            task = Task(plan_id=plan.id, code=checked_task.code, **fields)
            session.add(task)
            session.flush()
            session.add(
                TaskEvent(
                    task_id=row_id(task), kind=EventKind.CREATED, actor=actor, via=via, new_due=task.due
                )
            )
            if task.code not in asked_new:  # a row still asked about is listed as a question, not as new
                summary.created.append(task.code)
        else:
            task = found
            shown = _shown(task, units_of, section_codes)
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
            after = {
                **{name: getattr(task, name) for name in ("content", "deadline_text", "due", "note")},
                "products": list(task.products),
                "section": checked_task.raw.section,
                "lead": tuple(checked_task.lead),
                "coordinating": tuple(checked_task.coordinating),
            }
            differences = {
                _SHOWN_FIELDS[name]: (shown[name], after[name])
                for name in _SHOWN_FIELDS
                if shown[name] != after[name]
            }
            if differences:
                summary.changes[task.code] = differences
            if task.id in renamed_from:
                changed.append("code")
            if changed:
                note = "Cập nhật khi nhập lại kế hoạch: " + ", ".join(sorted(changed))
                if task.id in renamed_from:
                    note += f" (đổi mã {renamed_from[task.id]} → {task.code})"
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

    asked = {code for question in matched.questions for code, _ in question.candidates}
    for old_code in [*matched.removed, *sorted(asked)]:
        task = tasks[old_code]
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
            if old_code not in asked:
                summary.removed.append(old_code)
    if not plan.is_sample:
        from store.plan_life import archive_samples

        summary.archived_samples = archive_samples(session, keep=plan_code)
    session.flush()
    return summary


def _old_code(tasks: dict[str, Task], task: Task) -> str:
    return next(code for code, t in tasks.items() if t is task)


def _shown(task: Task, units_of: Any, section_codes: dict[int | None, str]) -> dict[str, Any]:
    return {
        "section": section_codes.get(task.section_id),
        "content": task.content,
        "products": list(task.products),
        "lead": units_of(task, AssignmentRole.LEAD),
        "coordinating": units_of(task, AssignmentRole.COORDINATING),
        "deadline_text": task.deadline_text,
        "due": task.due,
        "note": task.note,
    }
