"""The plan seen another way: a month calendar of due dates and report cut-offs, the extension requests waiting
for the Office (approve or turn down), and a unit's "Theo dõi trên lịch" page (its ICS feed address and QR code).

Every change goes through store/ (store.reports for extensions, store.ics for feed tokens) with the user's
name as actor and ``via="web"``, like the CLI's ``extensions approve|reject`` and ``ics create``.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

import vocabulary
from inbound.invites import qr_svg
from plan.errors import UserError
from planner.model import TaskInput
from planner.periods import periods_for_year
from planner.progress import STATUS_LABELS, classify, due_in_force
from store.db import session_scope
from store.ics import DEFAULT_ALARM_DAYS, create_token
from store.models import Plan, UserRole
from store.planner_input import load_reporting
from store.reports import approve_extension, pending_extensions, reject_extension
from store.tasks import TaskError, find_task
from web.deps import PageNotFound, SignedIn, Text, context, csrf_protect, render
from web.permissions import Action, Forbidden, Principal, TaskUnits, allows, require
from web.queries import PlanData, load_plan_page, unit_names

router = APIRouter()

VIA = "web"
ALARM_CHOICES: dict[int, str] = {
    0: "Không nhắc",
    1: "1 ngày làm việc trước hạn",
    3: "3 ngày làm việc trước hạn",
    5: "5 ngày làm việc trước hạn",
    10: "10 ngày làm việc trước hạn",
}


# --- the month calendar ------------------------------------------------------------------------------


@dataclass
class Day:
    day: date | None  # None: a blank cell before the 1st or after the last day
    tasks: list[tuple[TaskInput, str]] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    today: bool = False


def _month(text: str, plan: Plan, today: date) -> tuple[int, int]:
    """``YYYY-MM`` from the address, else this month in the plan's year, else the plan's first month."""
    try:
        year, month = (int(part) for part in text.split("-", 1))
        if 1 <= month <= 12 and 1900 < year < 2200:
            return year, month
    except ValueError:
        pass
    return (today.year, today.month) if today.year == plan.year else (plan.year, 1)


def _report_cutoffs(db: Session, plan: Plan, year: int) -> dict[date, list[str]]:
    cutoffs: dict[date, list[str]] = {}
    for regime in load_reporting(db, [plan]):
        kinds = [kind for kind in regime.kinds if kind != "adhoc"]
        try:
            periods = periods_for_year(year, kinds)
        except ValueError:
            continue
        for period in periods:
            cutoffs.setdefault(period.cutoff, []).append(period.title)
    return cutoffs


def _weeks(
    year: int, month: int, data: PlanData, cutoffs: dict[date, list[str]], today: date
) -> list[list[Day]]:
    due: dict[date, list[tuple[TaskInput, str]]] = {}
    for task in data.tasks:
        state = classify(task, today)
        days = [d for d in task.occurrences if d.year == year and d.month == month]
        if len(task.occurrences) <= 1:
            latest = task.due_on(date.max)
            days = [latest] if latest is not None and (latest.year, latest.month) == (year, month) else []
        for day in days:
            due.setdefault(day, []).append((task, state))
    weeks = []
    for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        row = []
        for day in week:
            if day.month != month:
                row.append(Day(None))
            else:
                row.append(Day(day, due.get(day, []), cutoffs.get(day, []), day == today))
        weeks.append(row)
    return weeks


@router.get("/calendar")
def month_view(request: Request, user: SignedIn, plan: str | None = None, month: str = "") -> Response:
    require(user, Action.VIEW_TASKS)
    ctx = context(request)
    today = ctx.today()
    with session_scope(ctx.engine) as db:
        data = load_plan_page(request, db, plan, user)
        if not isinstance(data, PlanData):
            return data
        year, number = _month(month, data.plan, today)
        cutoffs = _report_cutoffs(db, data.plan, year)
    weeks = _weeks(year, number, data, cutoffs, today)
    first = date(year, number, 1)
    previous = date(year - 1, 12, 1) if number == 1 else date(year, number - 1, 1)
    following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)

    def link(day: date) -> str:
        return "/calendar?" + urlencode({"plan": data.plan.code, "month": f"{day:%Y-%m}"})

    count = sum(len(d.tasks) for week in weeks for d in week)
    return render(
        request,
        "calendar.html",
        data=data,
        weeks=weeks,
        first=first,
        count=count,
        previous=link(previous),
        following=link(following),
        this_month=link(today.replace(day=1)),
        weekdays=vocabulary.WEEKDAYS,
        status_labels=STATUS_LABELS,
        due_in_force=due_in_force,
        can_subscribe=allows(user, Action.SUBSCRIBE_CALENDAR, TaskUnits((user.unit,) if user.unit else ())),
    )


# --- extension requests --------------------------------------------------------------------------------


def _extensions_page(
    request: Request,
    user: Principal,
    plan: str | None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    flash: str | None = None,
) -> Response:
    ctx = context(request)
    with session_scope(ctx.engine) as db:
        data = load_plan_page(request, db, plan, user)
        if not isinstance(data, PlanData):
            return data
        visible = {t.code for t in data.tasks}
        requests = [r for r in pending_extensions(db, data.plan.code) if r.task.code in visible]
        names = unit_names(db)
        rows = [
            {
                "code": r.task.code,
                "content": r.task.content,
                "lead": "; ".join(names.get(c, c) for c in r.lead),
                "current": r.task.effective_due,
                "asked": r.event.new_due,
                "reason": r.event.note or "",
                "by": r.event.actor,
                "via": vocabulary.VIA.get(r.event.via, r.event.via),
                "on": r.event.effective_on,
            }
            for r in requests
        ]
    return render(
        request,
        "extensions.html",
        status_code,
        data=data,
        rows=rows,
        errors=errors or {},
        flash=flash,
        can_decide=allows(user, Action.EXTEND),
    )


@router.get("/extensions")
def extensions_list(request: Request, user: SignedIn, plan: str | None = None, ok: str = "") -> Response:
    require(user, Action.VIEW_TASKS)
    flash = {"approved": "Đã duyệt gia hạn.", "rejected": "Đã ghi nhận không duyệt gia hạn."}.get(ok)
    return _extensions_page(request, user, plan, flash=flash)


def _decide(
    request: Request, user: Principal, plan_code: str, code: str, approve: bool, text: str
) -> Response:
    require(user, Action.EXTEND)
    ctx = context(request)
    try:
        with session_scope(ctx.engine) as db:
            try:
                task = find_task(db, code, plan_code)
            except TaskError as error:
                raise PageNotFound(str(error)) from None
            if approve:
                to = None
                if text.strip():
                    from plan.dates import parse_date

                    to = parse_date(text.strip(), "hạn duyệt")
                approve_extension(db, task, on=ctx.today(), actor=user.name, via=VIA, to=to)
            else:
                reject_extension(db, task, reason=text, on=ctx.today(), actor=user.name, via=VIA)
    except UserError as error:
        return _extensions_page(request, user, plan_code, 400, errors={code: str(error)})
    query = urlencode({"plan": plan_code, "ok": "approved" if approve else "rejected"})
    return RedirectResponse(f"/extensions?{query}", status_code=303)


@router.post("/extensions/{plan_code}/{code}/approve", dependencies=[Depends(csrf_protect)])
def approve_form(request: Request, user: SignedIn, plan_code: str, code: str, to: Text = "") -> Response:
    return _decide(request, user, plan_code, code, True, to)


@router.post("/extensions/{plan_code}/{code}/reject", dependencies=[Depends(csrf_protect)])
def reject_form(request: Request, user: SignedIn, plan_code: str, code: str, reason: Text = "") -> Response:
    return _decide(request, user, plan_code, code, False, reason)


# --- a unit's calendar feed ----------------------------------------------------------------------------


def _subscriber_units(user: Principal, names: dict[str, str]) -> list[tuple[str, str]]:
    if user.role == UserRole.ADMIN:
        return sorted(names.items(), key=lambda item: item[1])
    if user.role == UserRole.UNIT and user.unit in names:
        return [(user.unit, names[user.unit])]
    raise Forbidden(Action.SUBSCRIBE_CALENDAR)


def _subscribe_page(
    request: Request,
    user: Principal,
    unit: str,
    status_code: int = 200,
    made: Mapping[str, object] | None = None,
    error: str | None = None,
    alarm: int = DEFAULT_ALARM_DAYS,
) -> Response:
    ctx = context(request)
    with session_scope(ctx.engine) as db:
        units = _subscriber_units(user, unit_names(db))
    chosen = unit if unit in dict(units) else units[0][0] if units else ""
    return render(
        request,
        "subscribe.html",
        status_code,
        units=units,
        chosen=chosen,
        alarms=ALARM_CHOICES,
        alarm=alarm,
        made=made,
        error=error,
    )


@router.get("/subscribe")
def subscribe_page(request: Request, user: SignedIn, unit: str = "") -> Response:
    return _subscribe_page(request, user, unit.upper())


@router.post("/subscribe", dependencies=[Depends(csrf_protect)])
def subscribe(request: Request, user: SignedIn, unit: Text = "", alarm: Text = "") -> Response:
    ctx = context(request)
    code = unit.strip().upper()
    days = int(alarm) if alarm.isdigit() and int(alarm) in ALARM_CHOICES else DEFAULT_ALARM_DAYS
    with session_scope(ctx.engine) as db:
        names = unit_names(db)
        allowed = dict(_subscriber_units(user, names))
        if code not in allowed:
            return _subscribe_page(
                request, user, code, 400, error="Hãy chọn một đơn vị trong danh sách.", alarm=days
            )
        given = create_token(db, code, created_by=user.name)
    base = (ctx.settings.base_url or str(request.base_url)).rstrip("/")
    query = {"token": given.token} | ({"alarm": str(days)} if days != DEFAULT_ALARM_DAYS else {})
    link = f"{base}/ics/{code}.ics?{urlencode(query)}"
    webcal = "webcal://" + link.split("://", 1)[1]
    made = {
        "unit": allowed[code],
        "link": link,
        "webcal": webcal,
        "qr": qr_svg(link),
        "png": segno.make(link, error="m").png_data_uri(scale=6),
        "alarm": ALARM_CHOICES[days],
    }
    return _subscribe_page(request, user, code, made=made, alarm=days)
