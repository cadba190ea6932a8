"""Tasks: the filtered list, one task's page with its history, and the forms that change it.

Every change goes through store.tasks (or store.reports for a unit's extension
request) with the user's name as actor and ``via="web"``, so it lands in the
task's history like a change from the CLI or the bot. A refused change (a
TaskError, a date that cannot be read) is shown beside its form, in Vietnamese.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from math import ceil
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

import vocabulary
from plan.dates import parse_date
from plan.errors import UserError
from plan.text import fold
from planner.model import TaskInput
from planner.occurrences import current_occurrences
from planner.progress import STATUS_LABELS, STATUSES, classify, due_in_force
from store.calendar import working_calendar
from store.db import session_scope
from store.models import AssignmentRole, OutboxItem, OutboxMessage, Plan, Section, Task, TaskStatus, TaskUnit
from store.planner_input import load_task_inputs
from store.reports import pending_request, request_extension
from store.tasks import (
    TaskError,
    event_in_force,
    event_offset,
    extend,
    find_task,
    get_plan,
    history,
    mark_done,
    reopen,
    set_due,
    set_due_from_event,
    task_occurrences,
)
from vocabulary import UNDATED_DEADLINE_KINDS
from web.deps import PageNotFound, SignedIn, Text, context, csrf_protect, error_text, render
from web.permissions import Action, Principal, TaskUnits, allows, require
from web.queries import PlanData, load_plan_page, unit_names

FLASH = {
    "done": "Đã ghi nhận nhiệm vụ hoàn thành.",
    "reopened": "Đã mở lại nhiệm vụ.",
    "extended": "Đã gia hạn nhiệm vụ.",
    "due_set": "Đã đặt hạn cho nhiệm vụ.",
    "event_set": "Đã tính hạn từ ngày xảy ra sự kiện.",
    "ext_requested": "Đã gửi đề nghị gia hạn; hạn chỉ thay đổi khi Văn phòng duyệt.",
}

router = APIRouter()

VIA = "web"
# Each form and the permission flag (``can``) that shows it on the task's page.
FORM_FLAGS = {
    "done": "done",
    "reopened": "reopen",
    "extended": "extend",
    "due_set": "set_due",
    "event_set": "set_due_event",
    "ext_requested": "request_extension",
}
_UNDATED = UNDATED_DEADLINE_KINDS
PER_PAGE = 100
MAX_PER_PAGE = 500


def _positive(text: str, default: int) -> int:
    """A page number or size typed into the address bar: anything unreadable or below 1 falls back."""
    try:
        value = int(text)
    except ValueError:
        return default
    return value if value >= 1 else default


def _thousands(n: int) -> str:
    """10000 -> "10.000", the Vietnamese way of grouping digits."""
    return f"{n:,}".replace(",", ".")


def _pager(total: int, page: int, per_page: int, query: dict[str, str]) -> dict[str, Any]:
    """Which slice of the filtered rows to show, and links to the pages around it.

    A page past the end is clamped to the last page; the links keep the filters (``query``).
    """
    pages = max(1, ceil(total / per_page))
    page = min(page, pages)
    keep = {k: v for k, v in query.items() if v}
    if per_page != PER_PAGE:
        keep["per_page"] = str(per_page)

    def link(n: int) -> str:
        return "/tasks?" + urlencode(keep | {"page": str(n)})

    return {
        "page": page,
        "pages": pages,
        "start": (page - 1) * per_page,
        "stop": page * per_page,
        "total": _thousands(total),
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
    }


@router.get("/tasks")
def task_list(
    request: Request,
    user: SignedIn,
    plan: str | None = None,
    section: str = "",
    unit: str = "",
    status: str = "",
    q: str = "",
    role: str = "",
    month: str = "",
    page: str = "1",
    per_page: str = str(PER_PAGE),
) -> Response:
    require(user, Action.VIEW_TASKS)
    ctx = context(request)
    today = ctx.today()
    with session_scope(ctx.engine) as db:
        data = load_plan_page(request, db, plan, user, today)
    if not isinstance(data, PlanData):
        return data
    filters = task_filters(section, unit, status, q, role, month)
    matching = filter_tasks(data, filters, today)
    size = min(_positive(per_page, PER_PAGE), MAX_PER_PAGE)
    query = {"plan": data.plan.code} | filters
    pager = _pager(len(matching), _positive(page, 1), size, query)
    rows = [
        {"task": task, "status": state, "due": due_in_force(task, today)}
        for task, state in matching[pager["start"] : pager["stop"]]
    ]
    return render(
        request,
        "tasks.html",
        data=data,
        rows=rows,
        pager=pager,
        filters=filters,
        statuses=STATUSES,
        status_labels=STATUS_LABELS,
        roles=ROLES,
        months=range(1, 13),
        export_link="/tasks/export.xlsx?" + urlencode({k: v for k, v in query.items() if v}),
    )


ROLES = {"lead": "chủ trì", "coordinating": "phối hợp"}


def task_filters(section: str, unit: str, status: str, q: str, role: str, month: str) -> dict[str, str]:
    """The list's filters as typed, anything unknown dropped (an address edited by hand)."""
    return {
        "q": " ".join(q.split())[:200],
        "section": section,
        "unit": unit,
        "role": role if role in ROLES else "",
        "status": status if status in STATUSES else "",
        "month": month if month.isdigit() and 1 <= int(month) <= 12 else "",
    }


_OWN_TEXT: dict[
    int, tuple[TaskInput, str]
] = {}  # id(task) -> (task, its folded text): tasks live in plan_tasks' cache
_OWN_TEXT_MAX = 200_000


def _own_text(task: TaskInput) -> str:
    cached = _OWN_TEXT.get(id(task))
    if cached is not None and cached[0] is task:
        return cached[1]
    text = fold(
        " ".join(
            [task.code, task.content, task.deadline_text, *task.products, *task.lead, *task.coordinating]
        )
    )
    if len(_OWN_TEXT) >= _OWN_TEXT_MAX:
        _OWN_TEXT.clear()
    _OWN_TEXT[id(task)] = (task, text)
    return text


def search_key(task: TaskInput, folded_names: dict[str, str]) -> str:
    """What the search box looks in: code, content, products, deadline and units (codes and names), folded.

    A task's own text is folded once (kept while the task object lives); the units' names are folded per request
    (``folded_names``), so a renamed unit is found by its new name at once.
    """
    names = " ".join(folded_names.get(code, "") for code in (*task.lead, *task.coordinating))
    return f"{_own_text(task)} {names}"


def filter_tasks(data: PlanData, filters: dict[str, str], today: date) -> list[tuple[TaskInput, str]]:
    """The plan's visible tasks that pass every filter, with their status; the search ignores accents and case
    ("bao cao" finds "Báo cáo") and needs every word typed."""
    words = fold(filters["q"]).split()
    folded_names = {code: fold(name) for code, name in data.unit_names.items()} if words else {}
    unit, role = filters["unit"], filters["role"]
    matching = []
    for task in data.tasks:
        state = classify(task, today)
        if filters["section"] and task.section != filters["section"]:
            continue
        if unit:
            units = task.lead if role == "lead" else task.coordinating if role == "coordinating" else ()
            if role and unit not in units:
                continue
            if not role and unit not in task.lead and unit not in task.coordinating:
                continue
        if filters["status"] and state != filters["status"]:
            continue
        if filters["month"]:
            due = due_in_force(task, today)
            if due is None or due.month != int(filters["month"]):
                continue
        if words:
            key = search_key(task, folded_names)
            if not all(word in key for word in words):
                continue
        matching.append((task, state))
    return matching


@router.get("/tasks/export.xlsx")
def task_export(
    request: Request,
    user: SignedIn,
    plan: str | None = None,
    section: str = "",
    unit: str = "",
    status: str = "",
    q: str = "",
    role: str = "",
    month: str = "",
) -> Response:
    """The tasks of the list (same filters) as an .xlsx in the plan's layout."""
    from store.export import export_plan

    require(user, Action.VIEW_TASKS)
    ctx = context(request)
    today = ctx.today()
    with session_scope(ctx.engine) as db:
        data = load_plan_page(request, db, plan, user, today)
        if not isinstance(data, PlanData):
            return data
        matching = filter_tasks(data, task_filters(section, unit, status, q, role, month), today)
        codes = [task.code for task, _ in matching]
        body, _ = export_plan(db, data.plan, today, data.unit_names, only=codes)
    filename = f"nhiem-vu-{data.plan.code}-{today:%Y%m%d}.xlsx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- one task ------------------------------------------------------------------------------------


def _units(db: Session, task: Task) -> TaskUnits:
    lead: list[str] = []
    coordinating: list[str] = []
    for row in db.exec(select(TaskUnit).where(TaskUnit.task_id == task.id).order_by(col(TaskUnit.position))):
        (lead if row.role == AssignmentRole.LEAD else coordinating).append(row.unit_code)
    return TaskUnits(tuple(lead), tuple(coordinating))


def _find(db: Session, plan_code: str, code: str) -> tuple[Task, TaskUnits]:
    try:
        task = find_task(db, code, plan_code)
    except TaskError as error:
        raise PageNotFound(error_text(error)) from None
    return task, _units(db, task)


def _task_page(
    request: Request,
    user: Principal,
    plan_code: str,
    code: str,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    flash: str | None = None,
) -> Response:
    ctx = context(request)
    today = ctx.today()
    with session_scope(ctx.engine) as db:
        task, units = _find(db, plan_code, code)
        require(user, Action.VIEW_TASKS, units)
        plan = get_plan(db, plan_code)
        section = db.get(Section, task.section_id) if task.section_id else None
        events = history(db, task)
        as_input = next(
            iter(
                current_occurrences(
                    [t for t in load_task_inputs(db, [plan], ctx.settings.tz) if t.code == task.code], today
                )
            ),
            None,
        )
        occurrence_rows = task_occurrences(db, task)
        names = unit_names(db)
        sent = messages_about(db, plan.code, task.code) if allows(user, Action.VIEW_OUTBOX) else None
    state = classify(as_input, today) if as_input else "removed"
    offset = event_offset(task, plan.year)
    is_open = task.status == TaskStatus.OPEN
    pending = pending_request(events)
    can = {
        "done": is_open and allows(user, Action.MARK_DONE, units),
        "reopen": (
            task.status == TaskStatus.DONE or any(o.status == TaskStatus.DONE for o in occurrence_rows)
        )
        and allows(user, Action.REOPEN, units),
        "extend": is_open and task.effective_due is not None and allows(user, Action.EXTEND, units),
        "set_due": task.deadline_kind in _UNDATED
        and task.status != TaskStatus.REMOVED
        and allows(user, Action.SET_DUE, units),
        "set_due_event": offset is not None
        and task.status != TaskStatus.REMOVED
        and allows(user, Action.SET_DUE, units),
        "request_extension": is_open and pending is None and allows(user, Action.REQUEST_EXTENSION, units),
    }
    errors = errors or {}
    return render(
        request,
        "task.html",
        status_code,
        plan=plan,
        task=task,
        section=section,
        lead=[(c, names.get(c, c)) for c in units.lead],
        coordinating=[(c, names.get(c, c)) for c in units.coordinating],
        state=state,
        state_label=STATUS_LABELS.get(state, "Đã bỏ khỏi kế hoạch"),
        due_now=due_in_force(as_input, today) if as_input else task.effective_due,
        occurrences=[date.fromisoformat(d) for d in task.occurrences],
        periods=occurrence_rows,
        period_now=as_input.period if as_input else None,
        events=events,
        offset=offset,
        from_event=event_in_force(events),
        pending=pending,
        labels=vocabulary,
        can=can,
        errors=errors,
        stray_errors=[message for form, message in errors.items() if not can[FORM_FLAGS[form]]],
        values=values or {},
        flash=flash,
        sent=sent,
        can_remind=is_open and allows(user, Action.MANUAL_SEND),
    )


MESSAGES_SHOWN = 50


def messages_about(db: Session, plan_code: str, code: str) -> list[dict[str, Any]]:
    """The outbox's messages carrying an item about the task, newest first (a bundle counts once)."""
    ids = select(OutboxItem.message_id).where(OutboxItem.plan == plan_code, OutboxItem.task == code)
    rows = db.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .order_by(col(OutboxMessage.due_at).desc(), col(OutboxMessage.id).desc())
        .limit(MESSAGES_SHOWN)
    )
    return [
        {
            "at": message.sent_at or message.due_at,
            "channel": vocabulary.CHANNEL_LABELS.get(message.channel, message.channel),
            "to": message.recipient_name or message.recipient,
            "subject": message.subject,
            "kind": vocabulary.KIND_TITLES.get(message.kind, message.kind),
            "status": message.status,
            "status_label": vocabulary.OUTBOX_STATUS.get(message.status, message.status),
            "manual": message.origin == "manual",
        }
        for message in rows
    ]


@router.get("/tasks/{plan_code}/{code}")
def task_page(request: Request, user: SignedIn, plan_code: str, code: str, ok: str = "") -> Response:
    return _task_page(request, user, plan_code, code, flash=FLASH.get(ok))


Apply = Callable[[Session, Task, date], Any]


def _act(
    request: Request,
    user: Principal,
    plan_code: str,
    code: str,
    action: Action,
    form: str,
    values: dict[str, str],
    apply: Apply,
) -> Response:
    """Check the permission, apply the change in one transaction, then go back to the task's page."""
    ctx = context(request)
    try:
        with session_scope(ctx.engine) as db:
            task, units = _find(db, plan_code, code)
            require(user, Action.VIEW_TASKS, units)
            require(user, action, units)
            apply(db, task, ctx.today())
            task_code = task.code
    except UserError as error:  # TaskError and unreadable dates: said beside the form, nothing changed
        return _task_page(
            request, user, plan_code, code, 400, errors={form: error_text(error)}, values=values
        )
    return RedirectResponse(f"/tasks/{plan_code}/{task_code}?ok={form}", status_code=303)


def _date(text: str, what: str, db: Session | None = None, task: Task | None = None) -> date:
    if not text.strip():
        raise UserError(f"Cần nhập {what}.")
    plan = db.get(Plan, task.plan_id) if db is not None and task is not None else None
    return parse_date(text, what, plan.year if plan is not None else None)  # examples in the plan's year


def _note(text: str) -> str | None:
    return text.strip() or None


@router.post("/tasks/{plan_code}/{code}/done", dependencies=[Depends(csrf_protect)])
def done_form(
    request: Request,
    user: SignedIn,
    plan_code: str,
    code: str,
    on: Text = "",
    note: Text = "",
    period: Text = "",
) -> Response:
    def apply(db: Session, task: Task, today: date) -> None:
        day = _date(on, "ngày hoàn thành", db, task) if on.strip() else today
        if day > today:
            raise UserError(f"Ngày hoàn thành {day:%d/%m/%Y} không được sau hôm nay ({today:%d/%m/%Y}).")
        mark_done(db, task, on=day, actor=user.name, via=VIA, note=_note(note), period=period.strip() or None)

    values = {"on": on, "note": note, "period": period}
    return _act(request, user, plan_code, code, Action.MARK_DONE, "done", values, apply)


@router.post("/tasks/{plan_code}/{code}/reopen", dependencies=[Depends(csrf_protect)])
def reopen_form(
    request: Request, user: SignedIn, plan_code: str, code: str, note: Text = "", period: Text = ""
) -> Response:
    def apply(db: Session, task: Task, today: date) -> None:
        reopen(db, task, on=today, actor=user.name, via=VIA, note=_note(note), period=period.strip() or None)

    values = {"note": note, "period": period}
    return _act(request, user, plan_code, code, Action.REOPEN, "reopened", values, apply)


@router.post("/tasks/{plan_code}/{code}/extend", dependencies=[Depends(csrf_protect)])
def extend_form(
    request: Request,
    user: SignedIn,
    plan_code: str,
    code: str,
    to: Text = "",
    reason: Text = "",
    period: Text = "",
) -> Response:
    def apply(db: Session, task: Task, today: date) -> None:
        new_due = _date(to, "hạn mới", db, task)
        if not reason.strip():
            raise UserError("Cần ghi lý do gia hạn.")
        extend(
            db,
            task,
            to=new_due,
            reason=reason.strip(),
            on=today,
            actor=user.name,
            via=VIA,
            period=period.strip() or None,
        )

    values = {"to": to, "reason": reason, "period": period}
    return _act(request, user, plan_code, code, Action.EXTEND, "extended", values, apply)


@router.post("/tasks/{plan_code}/{code}/set-due", dependencies=[Depends(csrf_protect)])
def set_due_form(
    request: Request,
    user: SignedIn,
    plan_code: str,
    code: str,
    due: Text = "",
    note: Text = "",
) -> Response:
    def apply(db: Session, task: Task, today: date) -> None:
        set_due(
            db, task, due=_date(due, "hạn", db, task), on=today, actor=user.name, via=VIA, note=_note(note)
        )

    values = {"due": due, "note": note}
    return _act(request, user, plan_code, code, Action.SET_DUE, "due_set", values, apply)


@router.post("/tasks/{plan_code}/{code}/set-due-event", dependencies=[Depends(csrf_protect)])
def set_due_event_form(
    request: Request,
    user: SignedIn,
    plan_code: str,
    code: str,
    event: Text = "",
    note: Text = "",
) -> Response:
    """A task planned "Trong 30 ngày kể từ khi ...": its due date counted from the day the event happened."""
    settings = context(request).settings

    def apply(db: Session, task: Task, today: date) -> None:
        happened = _date(event, "ngày xảy ra sự kiện", db, task)
        calendar = working_calendar(db, settings.calendar_file, settings.send_time, settings.timezone)
        set_due_from_event(
            db, task, event=happened, calendar=calendar, on=today, actor=user.name, via=VIA, note=_note(note)
        )

    values = {"event": event, "note": note}
    return _act(request, user, plan_code, code, Action.SET_DUE, "event_set", values, apply)


@router.post("/tasks/{plan_code}/{code}/request-extension", dependencies=[Depends(csrf_protect)])
def request_extension_form(
    request: Request,
    user: SignedIn,
    plan_code: str,
    code: str,
    to: Text = "",
    reason: Text = "",
) -> Response:
    def apply(db: Session, task: Task, today: date) -> None:
        new_due = _date(to, "ngày đề nghị gia hạn", db, task)
        request_extension(db, task, to=new_due, reason=reason, on=today, actor=user.name, via=VIA)

    values = {"to": to, "reason": reason}
    return _act(request, user, plan_code, code, Action.REQUEST_EXTENSION, "ext_requested", values, apply)
