"""Calendar feeds: a unit's due dates (``/ics/TCCB.ics``) or the whole plan's (``/ics/all.ics``).

Calendar apps cannot sign in, so the feed's address carries a revocable token
(``?token=``, see store/ics.py). A missing, wrong or revoked token gets a 404,
as does a unit the token does not cover: the answer never says which.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from store.calendar import working_calendar
from store.db import session_scope
from store.ics import DEFAULT_ALARM_DAYS, MAX_ALARM_DAYS, verify_token
from store.models import Plan, Task, TaskEvent
from store.planner_input import load_task_inputs
from store.tasks import TaskError, get_plan
from web.deps import PageNotFound, context
from web.ics import plan_calendar
from web.queries import unit_names

router = APIRouter()

NOT_FOUND = "Không có lịch này, hoặc mã lịch đã bị thu hồi. Hãy xin Văn phòng địa chỉ lịch mới."


def _alarm_days(text: str) -> int:
    return int(text) if text.isdigit() and int(text) <= MAX_ALARM_DAYS else DEFAULT_ALARM_DAYS


def _modified(db: Session, plan_id: int | None) -> dict[str, datetime]:
    """When each task of the plan last changed (its newest history entry), by "PLAN/CODE"."""
    rows = db.exec(
        select(Plan.code, Task.code, sa.func.max(TaskEvent.at))
        .join(Task, col(Task.plan_id) == Plan.id)
        .join(TaskEvent, col(TaskEvent.task_id) == Task.id)
        .where(Plan.id == plan_id)
        .group_by(Plan.code, Task.code)
    )
    return {f"{plan}/{code}": at for plan, code, at in rows if at is not None}


@router.get("/ics/{feed}")
def feed(request: Request, feed: str, token: str = "", plan: str | None = None, alarm: str = "") -> Response:
    if not feed.endswith(".ics"):
        raise PageNotFound(NOT_FOUND)
    name = feed.removesuffix(".ics")
    unit = None if name.lower() == "all" else name.upper()
    ctx = context(request)
    with session_scope(ctx.engine) as db:
        names = unit_names(db)
        if (unit is not None and unit not in names) or verify_token(db, token, unit) is None:
            raise PageNotFound(NOT_FOUND)
        try:
            chosen = get_plan(db, plan)
        except TaskError:
            raise PageNotFound(NOT_FOUND) from None
        tasks = [
            t
            for t in load_task_inputs(db, [chosen], ctx.settings.tz)
            if unit is None or unit in t.lead or unit in t.coordinating
        ]
        modified = _modified(db, chosen.id)
        calendar = working_calendar(
            db, ctx.settings.calendar_file, ctx.settings.send_time, ctx.settings.timezone
        )
    days = _alarm_days(alarm)

    def alarm_at(day: date) -> datetime | None:
        if days == 0:
            return None
        try:
            return calendar.at_send_time(calendar.add_working_days(day, -days))
        except ValueError:  # a year the working calendar does not cover
            return None

    title = f"Hạn việc {unit} {chosen.year}" if unit else f"Hạn việc {chosen.code}"
    base = ctx.settings.base_url
    urls = (
        {f"{t.plan}/{t.code}": f"{base.rstrip('/')}/tasks/{t.plan}/{t.code}" for t in tasks} if base else None
    )
    body = plan_calendar(
        title,
        tasks,
        names,
        ctx.now(),
        urls,
        unit=unit,
        modified=modified,
        alarm=alarm_at,
        timezone=ctx.settings.timezone,
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{"all" if unit is None else unit}.ics"'},
    )
