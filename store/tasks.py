"""Reading tasks and changing their status; every change is written to the task's history."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from plan.deadline import DeadlineError, EventOffset, parse_deadline
from plan.errors import UserError
from planner.calendar import WorkingCalendar
from planner.event_due import due_after_event
from planner.occurrences import current_index, is_recurring, normalise_period, occurrences_of
from store.models import (
    AssignmentRole,
    EventKind,
    Plan,
    PlanStatus,
    Section,
    Task,
    TaskEvent,
    TaskOccurrence,
    TaskStatus,
    TaskUnit,
    row_id,
)
from vocabulary import UNDATED_DEADLINE_KINDS


class TaskError(UserError):
    """A task operation the user asked for cannot be done; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class TaskView:
    """A task with what a listing needs: its plan, section and units."""

    task: Task
    plan_code: str
    plan_year: int
    section_code: str | None
    section_title: str | None
    lead: tuple[str, ...]
    coordinating: tuple[str, ...]
    calendar: WorkingCalendar | None = None  # moves a due date on a day off to the next working day
    occurrences: tuple[TaskOccurrence, ...] = ()  # recurring work: one per period, in due order

    @property
    def written_due(self) -> date | None:
        """The due date in force as written: for recurring work, the first open occurrence's (else the
        last one's)."""
        if self.occurrences:
            open_ = [o for o in self.occurrences if o.status == TaskStatus.OPEN]
            return (open_[0] if open_ else self.occurrences[-1]).effective_due
        return self.task.effective_due

    @property
    def due(self) -> date | None:
        """The day the task falls due: the date in force, or the next working day when that is a day off
        (Civil Code 2015, Art. 148)."""
        written = self.written_due
        if written is None or self.calendar is None:
            return written
        try:
            return self.calendar.next_working_day(written)
        except ValueError:  # a year the calendar does not cover: as written
            return written

    def is_overdue(self, at: date) -> bool:
        due = self.due
        return self.task.status == TaskStatus.OPEN and due is not None and due < at

    def display_status(self, at: date) -> str:
        if self.is_overdue(at):
            return "overdue"
        return self.task.status

    def to_json(self, at: date) -> dict[str, object]:
        task = self.task
        return {
            "code": task.code,
            "plan": self.plan_code,
            "section": self.section_code,
            "content": task.content,
            "products": list(task.products),
            "lead": list(self.lead),
            "coordinating": list(self.coordinating),
            "status": task.status,
            "overdue": self.is_overdue(at),
            "due": _iso(self.due),
            "due_as_written": _iso(self.written_due),
            "done_on": _iso(task.done_on),
            "deadline": {
                "text": task.deadline_text,
                "kind": task.deadline_kind,
                "start": _iso(task.start),
                "due": _iso(task.due),
                "occurrences": list(task.occurrences),
            },
            "occurrences": [occurrence_json(o, at, self.calendar) for o in self.occurrences],
        }


def occurrence_json(
    occurrence: TaskOccurrence, at: date, calendar: WorkingCalendar | None = None
) -> dict[str, object]:
    """One period of recurring work: ``due`` the effective day (a day off moves it to the next working
    day), ``due_as_written`` the date in force as written, ``planned_due`` the plan's own."""
    written = occurrence.effective_due
    due = written
    if calendar is not None:
        try:
            due = calendar.next_working_day(written)
        except ValueError:  # a year the calendar does not cover: as written
            due = written
    return {
        "period": occurrence.period,
        "due": due.isoformat(),
        "status": occurrence.status,
        "done_on": _iso(occurrence.done_on),
        "overdue": occurrence.status == TaskStatus.OPEN and due < at,
        "due_as_written": written.isoformat(),
        "planned_due": occurrence.due.isoformat(),
        "aliases": list(occurrence.aliases),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def latest_plan(session: Session) -> Plan | None:
    """The newest active plan; the newest plan at all when every plan is archived."""
    newest = (col(Plan.year).desc(), col(Plan.id).desc())
    active = session.exec(select(Plan).where(Plan.status == PlanStatus.ACTIVE).order_by(*newest)).first()
    return active or session.exec(select(Plan).order_by(*newest)).first()


def get_plan(session: Session, plan_code: str | None) -> Plan:
    """The named plan, or the newest one; a clear error when there is none."""
    if plan_code is None:
        plan = latest_plan(session)
        if plan is None:
            raise TaskError("Chưa có kế hoạch nào trong cơ sở dữ liệu.").with_fix("import_plan")
        return plan
    plan = session.exec(select(Plan).where(Plan.code == plan_code)).first()
    if plan is None:
        known = ", ".join(session.exec(select(Plan.code)).all()) or "chưa có"
        raise TaskError(f"Không có kế hoạch mã '{plan_code}' (các kế hoạch hiện có: {known}).")
    return plan


def list_tasks(
    session: Session,
    *,
    plan_code: str | None = None,
    unit: str | None = None,
    status: str | None = None,
    overdue_at: date | None = None,
    include_removed: bool = False,
    calendar: WorkingCalendar | None = None,
) -> list[TaskView]:
    """Tasks of a plan (the newest by default), in plan order, filtered.

    ``unit`` is a unit code and matches the lead and coordinating units;
    ``overdue_at`` keeps only open tasks whose due date is before that day.
    """
    plan = get_plan(session, plan_code)
    query = select(Task).where(Task.plan_id == plan.id).order_by(col(Task.position))
    if status:
        query = query.where(Task.status == status)
    elif not include_removed:
        query = query.where(Task.status != TaskStatus.REMOVED)
    tasks = list(session.exec(query))
    sections = {s.id: s for s in session.exec(select(Section).where(Section.plan_id == plan.id))}
    units: dict[int, list[TaskUnit]] = {}
    task_ids = [t.id for t in tasks]
    for assignment in session.exec(
        select(TaskUnit).where(col(TaskUnit.task_id).in_(task_ids)).order_by(col(TaskUnit.position))
    ):
        units.setdefault(assignment.task_id, []).append(assignment)
    periods = occurrences_by_task(session, task_ids)
    views = []
    for task in tasks:
        assigned = units.get(task.id or -1, [])
        section = sections.get(task.section_id)
        view = TaskView(
            task=task,
            plan_code=plan.code,
            plan_year=plan.year,
            section_code=section.code if section else None,
            section_title=section.title if section else None,
            lead=tuple(a.unit_code for a in assigned if a.role == AssignmentRole.LEAD),
            coordinating=tuple(a.unit_code for a in assigned if a.role == AssignmentRole.COORDINATING),
            calendar=calendar,
            occurrences=tuple(periods.get(task.id or -1, ())),
        )
        if unit and unit not in view.lead and unit not in view.coordinating:
            continue
        if overdue_at and not view.is_overdue(overdue_at):
            continue
        views.append(view)
    return views


def find_task(
    session: Session, code: str, plan_code: str | None = None, *, units: Collection[str] | None = None
) -> Task:
    """The task ``code`` of the plan named, or, without one, of the one active plan that has it.

    A code that several active plans have is refused with their list (remedy ``choose_plan``); archived
    plans are looked in only when no active plan has the code. ``units`` (the bot: the chat's units)
    settles such a code when only one of those plans' tasks is led by one of them.
    """
    wanted = code.strip().upper()
    if plan_code is not None:
        plan = get_plan(session, plan_code)
        task = session.exec(select(Task).where(Task.plan_id == plan.id, Task.code == wanted)).first()
        if task is None:
            raise TaskError(f"Không có nhiệm vụ mã '{code}' trong kế hoạch {plan.code}.")
        return task
    found = list(
        session.exec(
            select(Task, Plan)
            .join(Plan, col(Plan.id) == Task.plan_id)
            .where(Task.code == wanted)
            .order_by(col(Plan.year).desc(), col(Plan.id).desc())
        )
    )
    active = [(task, plan) for task, plan in found if plan.status == PlanStatus.ACTIVE]
    candidates = active or found
    if not candidates:
        newest = get_plan(session, None)  # the "no plan yet" sentence when there is none
        active_codes = session.exec(
            select(Plan.code).where(Plan.status == PlanStatus.ACTIVE).order_by(col(Plan.id))
        ).all()
        where = ", ".join(active_codes) if active_codes else newest.code
        plural = "các kế hoạch" if len(active_codes) > 1 else "kế hoạch"
        raise TaskError(f"Không có nhiệm vụ mã '{code}' trong {plural} {where}.")
    if len(candidates) > 1 and units:
        led = set(
            session.exec(
                select(TaskUnit.task_id).where(
                    col(TaskUnit.task_id).in_([task.id for task, _ in candidates]),
                    col(TaskUnit.unit_code).in_(list(units)),
                    TaskUnit.role == AssignmentRole.LEAD,
                )
            ).all()
        )
        ours = [(task, plan) for task, plan in candidates if task.id in led]
        if len(ours) == 1:
            return ours[0][0]
    if len(candidates) > 1:
        plans = ", ".join(plan.code for _, plan in candidates)
        raise TaskError(f"Mã nhiệm vụ '{wanted}' có trong nhiều kế hoạch ({plans}):").with_fix("choose_plan")
    return candidates[0][0]


def plan_of(session: Session, task: Task) -> Plan:
    plan = session.get(Plan, task.plan_id)
    assert plan is not None
    return plan


def history(session: Session, task: Task) -> list[TaskEvent]:
    return list(
        session.exec(select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(col(TaskEvent.id)))
    )


def _record(
    session: Session,
    task: Task,
    kind: EventKind,
    *,
    on: date,
    actor: str,
    via: str,
    note: str | None,
    occurrence: TaskOccurrence | None = None,
    old_due: date | None = None,
    new_due: date | None = None,
    event_on: date | None = None,
) -> None:
    """Store ``task`` and the history entry of what just happened to it (to ``occurrence``'s period, if any);
    ``event_on`` is the date of the event a due date was computed from."""
    session.add(task)
    session.add(
        TaskEvent(
            task_id=row_id(task),
            kind=kind,
            effective_on=on,
            actor=actor,
            via=via,
            note=note,
            old_due=old_due,
            new_due=new_due,
            period=occurrence.period if occurrence else None,
            event_on=event_on,
        )
    )
    session.flush()


def occurrences_by_task(session: Session, task_ids: list[int | None]) -> dict[int, list[TaskOccurrence]]:
    found: dict[int, list[TaskOccurrence]] = {}
    ids = [i for i in task_ids if i is not None]
    if not ids:
        return found
    for occurrence in session.exec(
        select(TaskOccurrence)
        .where(col(TaskOccurrence.task_id).in_(ids))
        .order_by(col(TaskOccurrence.task_id), col(TaskOccurrence.position))
    ):
        found.setdefault(occurrence.task_id, []).append(occurrence)
    return found


def task_occurrences(session: Session, task: Task) -> list[TaskOccurrence]:
    """A recurring task's occurrences in due order (empty for a task done once)."""
    return occurrences_by_task(session, [task.id]).get(task.id or -1, [])


def sync_occurrences(session: Session, task: Task) -> None:
    """Give a recurring task one row per period of its deadline (at import and re-import).

    An occurrence keeps its status, extension and history while its period stays in the plan; an open
    occurrence whose period left the plan is deleted, a done one is kept.
    """
    dues = [date.fromisoformat(d) for d in task.occurrences or []]
    wanted = occurrences_of(task.deadline_text, dues) if is_recurring(task.deadline_kind, dues) else []
    existing = {o.period: o for o in task_occurrences(session, task)}
    for position, occurrence in enumerate(wanted):
        row = existing.pop(occurrence.period, None) or TaskOccurrence(
            task_id=task.id or 0, period=occurrence.period, due=occurrence.due
        )
        row.due = occurrence.due
        row.aliases = list(occurrence.aliases)
        row.position = position
        session.add(row)
    for row in existing.values():
        if row.status == TaskStatus.DONE:
            row.position = len(wanted) + row.position
            session.add(row)
        else:
            session.delete(row)
    session.flush()


def choose_occurrence(session: Session, task: Task, period: str | None, at: date) -> TaskOccurrence | None:
    """The occurrence ``period`` names, or the one current on ``at``; None for a task done once."""
    occurrences = task_occurrences(session, task)
    if not occurrences:
        if period is not None:
            raise TaskError(
                f'Nhiệm vụ {task.code} không phải việc định kỳ (thời hạn "{task.deadline_text}") nên không có kỳ.'
            )
        return None
    if period is None:
        return occurrences[current_index([o.effective_due for o in occurrences], at)]
    label = normalise_period(period)
    names = ", ".join(o.period for o in occurrences)
    if label is None:
        raise TaskError(
            f"Kỳ '{period}' không hợp lệ: ghi như 2026-11 (tháng), 2026-Q3 (quý), 2026-H1 (6 tháng), "
            f"2026 (năm); các kỳ của {task.code}: {names}."
        )
    for occurrence in occurrences:
        if occurrence.period == label:
            return occurrence
    for occurrence in occurrences:
        if label in (occurrence.aliases or []):
            return occurrence
    raise TaskError(f"Nhiệm vụ {task.code} không có kỳ {label}; các kỳ của nhiệm vụ: {names}.")


def _sync_task_status(session: Session, task: Task) -> None:
    occurrences = task_occurrences(session, task)
    if not occurrences or task.status == TaskStatus.REMOVED:
        return
    if all(o.status == TaskStatus.DONE for o in occurrences):
        task.status = TaskStatus.DONE
        task.done_on = max(o.done_on for o in occurrences if o.done_on)
    else:
        task.status = TaskStatus.OPEN
        task.done_on = None
    session.add(task)


def _label(task: Task, occurrence: TaskOccurrence | None) -> str:
    return f"{task.code} kỳ {occurrence.period}" if occurrence else task.code


def mark_done(
    session: Session,
    task: Task,
    *,
    on: date,
    actor: str,
    via: str,
    note: str | None = None,
    period: str | None = None,
) -> TaskOccurrence | None:
    """Mark a task done; for recurring work, one occurrence (``period``, or the one current on ``on``)."""
    if task.status == TaskStatus.REMOVED:
        raise TaskError(f"Nhiệm vụ {task.code} không còn trong kế hoạch.")
    occurrence = choose_occurrence(session, task, period, on)
    if occurrence is not None:
        if occurrence.status == TaskStatus.DONE:
            raise TaskError(
                f"Nhiệm vụ {_label(task, occurrence)} đã được đánh dấu hoàn thành ngày "
                f"{occurrence.done_on:%d/%m/%Y}."
            )
        occurrence.status = TaskStatus.DONE
        occurrence.done_on = on
        session.add(occurrence)
        session.flush()
        _sync_task_status(session, task)
    else:
        if task.status == TaskStatus.DONE:
            raise TaskError(f"Nhiệm vụ {task.code} đã được đánh dấu hoàn thành ngày {task.done_on:%d/%m/%Y}.")
        task.status = TaskStatus.DONE
        task.done_on = on
    _record(session, task, EventKind.DONE, on=on, actor=actor, via=via, note=note, occurrence=occurrence)
    return occurrence


def reopen(
    session: Session,
    task: Task,
    *,
    on: date,
    actor: str,
    via: str,
    note: str | None = None,
    period: str | None = None,
) -> TaskOccurrence | None:
    """Reopen a task marked done by mistake; for recurring work, the occurrence ``period`` (default: the
    last one marked done)."""
    occurrences = task_occurrences(session, task)
    occurrence: TaskOccurrence | None = None
    if occurrences:
        if period is None:
            done = [o for o in occurrences if o.status == TaskStatus.DONE]
            if not done:
                raise TaskError(f"Nhiệm vụ {task.code} chưa có kỳ nào hoàn thành nên không cần mở lại.")
            occurrence = max(done, key=lambda o: (o.done_on or date.min, o.position))
        else:
            occurrence = choose_occurrence(session, task, period, on)
            assert occurrence is not None
            if occurrence.status != TaskStatus.DONE:
                raise TaskError(f"Nhiệm vụ {_label(task, occurrence)} chưa hoàn thành nên không cần mở lại.")
        occurrence.status = TaskStatus.OPEN
        occurrence.done_on = None
        session.add(occurrence)
        session.flush()
        _sync_task_status(session, task)
    else:
        if period is not None:
            choose_occurrence(session, task, period, on)  # refuses --period for a task done once
        if task.status != TaskStatus.DONE:
            raise TaskError(f"Nhiệm vụ {task.code} chưa hoàn thành nên không cần mở lại.")
        task.status = TaskStatus.OPEN
        task.done_on = None
    _record(session, task, EventKind.REOPENED, on=on, actor=actor, via=via, note=note, occurrence=occurrence)
    return occurrence


def extend(
    session: Session,
    task: Task,
    *,
    to: date,
    reason: str,
    on: date,
    actor: str,
    via: str,
    period: str | None = None,
) -> TaskOccurrence | None:
    """Give an open task a later due date (gia hạn); for recurring work, one occurrence (``period``, or
    the one current on ``on``)."""
    occurrence = choose_occurrence(session, task, period, on)
    status = occurrence.status if occurrence else task.status
    if status != TaskStatus.OPEN:
        raise TaskError(
            f"Chỉ gia hạn được nhiệm vụ đang thực hiện; {_label(task, occurrence)} đang ở trạng thái '{status}'."
        )
    current = occurrence.effective_due if occurrence else task.effective_due
    if current is None:
        raise TaskError(f'Nhiệm vụ {task.code} chưa có hạn ("{task.deadline_text}"):').with_fix(
            "set_due", task=task.code
        )
    if to <= current:
        raise TaskError(f"Ngày gia hạn {to:%d/%m/%Y} phải sau hạn hiện tại {current:%d/%m/%Y}.")
    if not reason.strip():
        raise TaskError("Cần ghi lý do gia hạn (--reason).")
    if occurrence is not None:
        occurrence.due_override = to
        session.add(occurrence)
    else:
        task.due_override = to
    _record(
        session,
        task,
        EventKind.EXTENDED,
        on=on,
        actor=actor,
        via=via,
        note=reason,
        old_due=current,
        new_due=to,
        occurrence=occurrence,
    )
    return occurrence


def set_due(
    session: Session, task: Task, *, due: date, on: date, actor: str, via: str, note: str | None = None
) -> None:
    """Give a task with no date ("Theo Kế hoạch", "Sau khi ...") its due date."""
    if task.deadline_kind not in UNDATED_DEADLINE_KINDS:
        raise TaskError(f'Nhiệm vụ {task.code} đã có thời hạn "{task.deadline_text}";').with_fix(
            "extend", task=task.code
        )
    if task.status == TaskStatus.REMOVED:
        raise TaskError(f"Nhiệm vụ {task.code} không còn trong kế hoạch.")
    old = task.effective_due
    task.due_override = due
    _record(
        session, task, EventKind.DUE_SET, on=on, actor=actor, via=via, note=note, old_due=old, new_due=due
    )


def event_offset(task: Task, year: int) -> EventOffset | None:
    """The duration an event-relative deadline counts from its event ("Trong 30 ngày kể từ khi ..." = +30
    days), read again from the phrase; None when the phrase is not one (or names no duration)."""
    if task.deadline_kind != "event":
        return None
    try:
        return parse_deadline(task.deadline_text, year).offset
    except DeadlineError:
        return None


def set_due_from_event(
    session: Session,
    task: Task,
    *,
    event: date,
    calendar: WorkingCalendar,
    on: date,
    actor: str,
    via: str,
    note: str | None = None,
) -> date:
    """Give a task planned "Trong 30 ngày kể từ khi ..." its due date, counted from the event's date
    (planner.event_due); the history entry keeps both. Returns the due date computed (as counted: a day off
    is moved to the next working day where due dates are read, as for any due date)."""
    if task.status == TaskStatus.REMOVED:
        raise TaskError(f"Nhiệm vụ {task.code} không còn trong kế hoạch.")
    if task.deadline_kind not in UNDATED_DEADLINE_KINDS:  # a dated phrase: only an extension moves it
        raise TaskError(
            f'Thời hạn của nhiệm vụ {task.code} ("{task.deadline_text}") đã có ngày, không tính từ một sự kiện;'
        ).with_fix("extend", task=task.code)
    if task.deadline_kind != "event":
        raise TaskError(
            f'Thời hạn của nhiệm vụ {task.code} ("{task.deadline_text}") không tính từ một sự kiện nên không '
            "tính hạn từ ngày xảy ra sự kiện được:"
        ).with_fix("set_due", task=task.code)
    offset = event_offset(task, plan_of(session, task).year)
    if offset is None:
        raise TaskError(
            f'Thời hạn của nhiệm vụ {task.code} ("{task.deadline_text}") không nói bao lâu sau sự kiện nên '
            "không tính được hạn từ ngày xảy ra sự kiện:"
        ).with_fix("set_due", task=task.code)
    try:
        due = due_after_event(event, offset, calendar)
    except ValueError:
        raise TaskError(
            f"Không tính được hạn của nhiệm vụ {task.code} từ ngày {event:%d/%m/%Y} ({offset}): "
            "ngày nằm ngoài lịch làm việc."
        ) from None
    old = task.effective_due
    task.due_override = due
    _record(
        session,
        task,
        EventKind.DUE_SET,
        on=on,
        actor=actor,
        via=via,
        note=note,
        old_due=old,
        new_due=due,
        event_on=event,
    )
    return due


def event_in_force(events: list[TaskEvent]) -> TaskEvent | None:
    """The history entry that set the due date in force from an event's date, if the last date set was one
    (a later extension keeps it: the event still happened that day)."""
    for entry in reversed(events):
        if entry.kind == EventKind.DUE_SET:
            return entry if entry.event_on is not None else None
    return None


def task_grid(view: TaskView, at: date) -> dict[str, object]:
    """The sheet the Office keeps for recurring work: a row per lead unit, a column per period, each cell
    the occurrence's status on ``at`` (done, overdue, open), due date and day done."""
    if not view.occurrences:
        raise TaskError(
            f'Nhiệm vụ {view.task.code} không phải việc định kỳ (thời hạn "{view.task.deadline_text}") '
            "nên không có bảng theo kỳ."
        )
    cells = [
        {
            "period": o.period,
            "due": o.effective_due.isoformat(),
            "status": "overdue" if o.status == TaskStatus.OPEN and o.effective_due < at else o.status,
            "done_on": _iso(o.done_on),
        }
        for o in view.occurrences
    ]
    return {
        "plan": view.plan_code,
        "code": view.task.code,
        "content": view.task.content,
        "at": at.isoformat(),
        "periods": [o.period for o in view.occurrences],
        "rows": [{"unit": unit, "role": "lead", "cells": cells} for unit in view.lead],
    }
