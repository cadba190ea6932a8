"""What units send back to the Office: periodic reports received, and requests to extend a task.

Reports land in ``report_submissions`` (one row per plan, unit and period; the
planner reads it to stop following up units that reported). Extension requests
have no table of their own: a request is a task event of kind
``ext_requested`` (reason in ``note``, the date asked for in ``new_due``), and it
is pending until a later event settles it (extended, date set, rejected, done, removed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from plan.errors import UserError
from planner.periods import DEFAULT_KINDS, ReportPeriod, parse_period
from store.models import (
    AssignmentRole,
    EventKind,
    Plan,
    ReportSubmission,
    Task,
    TaskEvent,
    TaskStatus,
    TaskUnit,
    row_id,
)
from store.tasks import TaskError, extend, get_plan, history, set_due

# task_events.kind holds 16 characters: "extension_requested" would not fit on PostgreSQL.
EXTENSION_REQUESTED = "ext_requested"
EXTENSION_REJECTED = "ext_rejected"
_SETTLES_REQUEST = frozenset(
    {EventKind.EXTENDED, EventKind.DUE_SET, EventKind.DONE, EventKind.REMOVED, EXTENSION_REJECTED}
)
_TABLE = ReportSubmission.__table__  # type: ignore[attr-defined]


class ReportError(UserError):
    """A report cannot be recorded as asked; the message says why, in Vietnamese."""


# --- periodic reports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedReport:
    submission: ReportSubmission
    period: ReportPeriod
    created: bool  # False: it had been recorded before (its first date is kept)
    note_updated: bool = False


@dataclass(frozen=True)
class ReceivedReport:
    """A report received, ready for a listing."""

    plan: str
    unit: str
    period: str
    period_title: str
    cutoff: date | None
    received_on: date
    actor: str
    via: str
    note: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "plan": self.plan,
            "unit": self.unit,
            "period": self.period,
            "period_title": self.period_title,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "received_on": self.received_on.isoformat(),
            "actor": self.actor,
            "via": self.via,
            "note": self.note,
        }


def regime(plan: Plan) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The units that must report and the kinds of period the plan asks for."""
    reporting: Mapping[str, object] = plan.reporting or {}
    units = tuple(str(u) for u in reporting.get("units") or ())  # type: ignore[attr-defined]
    kinds = tuple(str(k) for k in reporting.get("periods") or DEFAULT_KINDS)  # type: ignore[attr-defined]
    return units, kinds


def report_period(period_code: str, year: int) -> ReportPeriod:
    try:
        return parse_period(period_code, year)
    except ValueError as error:
        raise ReportError(str(error)) from None


def _check_regime(plan: Plan, unit_code: str, period: ReportPeriod) -> None:
    units, kinds = regime(plan)
    if not units:
        raise ReportError(f"Kế hoạch {plan.code} không có chế độ báo cáo định kỳ nên không ghi nhận báo cáo.")
    if unit_code not in units:
        raise ReportError(
            f"Đơn vị {unit_code} không thuộc các đơn vị phải báo cáo định kỳ của kế hoạch {plan.code} "
            f"({', '.join(units)})."
        )
    if period.kind not in kinds:
        raise ReportError(f"Kế hoạch {plan.code} không yêu cầu loại báo cáo này ({period.title}).")


def _insert_for(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def record_report(
    session: Session,
    plan_code: str | None,
    unit_code: str,
    period_code: str,
    received_on: date,
    actor: str,
    via: str,
    note: str | None = None,
) -> RecordedReport:
    """Record that ``unit_code`` sent its report for the period (of the named plan, or the newest).

    Idempotent and safe against a concurrent recorder: the first date received is kept;
    a later call with a note replaces the note.
    """
    plan = get_plan(session, plan_code)
    period = report_period(period_code, plan.year)
    _check_regime(plan, unit_code, period)
    note = note.strip() or None if note else None
    values = {
        "plan_id": plan.id,
        "unit_code": unit_code,
        "period": period.code,
        "received_on": received_on,
        "actor": actor,
        "via": via,
        "note": note,
    }
    statement = (
        _insert_for(session)(_TABLE)
        .values(values)
        .on_conflict_do_nothing(index_elements=["plan_id", "unit_code", "period"])
        .returning(_TABLE.c.id)
    )
    created = session.execute(statement).first() is not None
    submission = session.exec(
        select(ReportSubmission).where(
            ReportSubmission.plan_id == plan.id,
            ReportSubmission.unit_code == unit_code,
            ReportSubmission.period == period.code,
        )
    ).one()
    note_updated = False
    if not created and note and note != submission.note:
        submission.note = note
        session.add(submission)
        session.flush()
        note_updated = True
    return RecordedReport(submission, period, created, note_updated)


def reports_received(session: Session, plan_code: str | None = None) -> list[ReceivedReport]:
    """The reports received for a plan (the newest by default), by period cut-off, then unit."""
    plan = get_plan(session, plan_code)
    reports = []
    for row in session.exec(select(ReportSubmission).where(ReportSubmission.plan_id == plan.id)):
        try:
            period: ReportPeriod | None = parse_period(row.period, plan.year)
        except ValueError:  # a code written by another tool: listed as it is
            period = None
        reports.append(
            ReceivedReport(
                plan=plan.code,
                unit=row.unit_code,
                period=row.period,
                period_title=period.title if period else row.period,
                cutoff=period.cutoff if period else None,
                received_on=row.received_on,
                actor=row.actor,
                via=row.via,
                note=row.note,
            )
        )
    return sorted(reports, key=lambda r: (r.cutoff or date.max, r.period, r.unit))


# --- extension requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtensionRequest:
    """A pending request to move a task's due date."""

    plan: str
    task: Task
    lead: tuple[str, ...]
    event: TaskEvent

    def to_json(self) -> dict[str, object]:
        event = self.event
        return {
            "plan": self.plan,
            "task": self.task.code,
            "lead": list(self.lead),
            "current_due": _iso(self.task.effective_due),
            "requested_due": _iso(event.new_due),
            "reason": event.note,
            "requested_by": event.actor,
            "via": event.via,
            "requested_on": _iso(event.effective_on),
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def pending_request(events: Sequence[TaskEvent]) -> TaskEvent | None:
    """The extension request still waiting in a task's history (the latest one), if any."""
    pending: TaskEvent | None = None
    for event in events:
        if event.kind == EXTENSION_REQUESTED:
            pending = event
        elif event.kind in _SETTLES_REQUEST:
            pending = None
    return pending


def lead_units(session: Session, task: Task) -> tuple[str, ...]:
    return tuple(
        session.exec(
            select(TaskUnit.unit_code)
            .where(TaskUnit.task_id == task.id, TaskUnit.role == AssignmentRole.LEAD)
            .order_by(col(TaskUnit.position))
        )
    )


def request_extension(
    session: Session, task: Task, *, to: date, reason: str, on: date, actor: str, via: str
) -> TaskEvent:
    """Record a unit's request to move an open task's due date to ``to``; an admin approves it later."""
    if task.status != TaskStatus.OPEN:
        state = "đã hoàn thành" if task.status == TaskStatus.DONE else "không còn trong kế hoạch"
        raise TaskError(f"Nhiệm vụ {task.code} {state} nên không cần gia hạn.")
    current = task.effective_due
    if current is not None and to <= current:
        raise TaskError(f"Ngày đề nghị gia hạn {to:%d/%m/%Y} phải sau hạn hiện tại {current:%d/%m/%Y}.")
    if not reason.strip():
        raise TaskError("Cần ghi lý do đề nghị gia hạn.")
    event = TaskEvent(
        task_id=row_id(task),
        kind=EXTENSION_REQUESTED,
        effective_on=on,
        actor=actor,
        via=via,
        note=reason.strip(),
        old_due=current,
        new_due=to,
    )
    session.add(event)
    session.flush()
    return event


def pending_extensions(session: Session, plan_code: str | None = None) -> list[ExtensionRequest]:
    """Every extension request of a plan (the newest by default) still waiting, in plan order."""
    plan = get_plan(session, plan_code)
    tasks = session.exec(
        select(Task)
        .where(
            Task.plan_id == plan.id,
            col(Task.id).in_(select(TaskEvent.task_id).where(TaskEvent.kind == EXTENSION_REQUESTED)),
        )
        .order_by(col(Task.position))
    )
    requests = []
    for task in tasks:
        event = pending_request(history(session, task))
        if event is not None:
            requests.append(ExtensionRequest(plan.code, task, lead_units(session, task), event))
    return requests


def _pending_or_fail(session: Session, task: Task) -> TaskEvent:
    event = pending_request(history(session, task))
    if event is None:
        raise TaskError(f"Nhiệm vụ {task.code} không có đề nghị gia hạn nào đang chờ duyệt.")
    return event


def approve_extension(
    session: Session, task: Task, *, on: date, actor: str, via: str, to: date | None = None
) -> TaskEvent:
    """Grant the pending request (or a date of the admin's, ``to``): the task's due date moves."""
    request = _pending_or_fail(session, task)
    new_due = to or request.new_due
    assert new_due is not None  # a request always carries the date asked for
    asked = f"{request.effective_on:%d/%m/%Y}" if request.effective_on else "trước đó"
    reason = f"{request.note} (theo đề nghị của {request.actor} ngày {asked})"
    if task.effective_due is None:
        set_due(session, task, due=new_due, on=on, actor=actor, via=via, note=reason)
    else:
        extend(session, task, to=new_due, reason=reason, on=on, actor=actor, via=via)
    return history(session, task)[-1]


def reject_extension(
    session: Session, task: Task, *, reason: str, on: date, actor: str, via: str
) -> TaskEvent:
    """Turn the pending request down, with the reason the unit will be given."""
    request = _pending_or_fail(session, task)
    if not reason.strip():
        raise TaskError("Cần ghi lý do không duyệt gia hạn (--reason).")
    event = TaskEvent(
        task_id=row_id(task),
        kind=EXTENSION_REJECTED,
        effective_on=on,
        actor=actor,
        via=via,
        note=reason.strip(),
        old_due=task.effective_due,
        new_due=request.new_due,
    )
    session.add(event)
    session.flush()
    return event
