"""Calendar feeds: a unit's due dates (``/ics/TCCB.ics``) or the whole plan's (``/ics/all.ics``).

Calendar apps cannot sign in, so the feed's address carries a revocable token
(``?token=``, see store/ics.py). A missing, wrong or revoked token gets a 404,
as does a unit the token does not cover: the answer never says which.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from store.db import session_scope
from store.ics import verify_token
from store.planner_input import load_task_inputs
from store.tasks import TaskError, get_plan
from web.deps import PageNotFound, context
from web.ics import plan_calendar
from web.queries import unit_names

router = APIRouter()

NOT_FOUND = "Không có lịch này, hoặc mã lịch đã bị thu hồi. Hãy xin Văn phòng địa chỉ lịch mới."


@router.get("/ics/{feed}")
def feed(request: Request, feed: str, token: str = "", plan: str | None = None) -> Response:
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
        tasks = [t for t in load_task_inputs(db, [chosen]) if unit is None or unit in t.lead]
    title = f"Nhắc việc — {names[unit]} — {chosen.title}" if unit else f"Nhắc việc — {chosen.title}"
    base = ctx.settings.base_url
    urls = (
        {f"{t.plan}/{t.code}": f"{base.rstrip('/')}/tasks/{t.plan}/{t.code}" for t in tasks} if base else None
    )
    body = plan_calendar(title, tasks, names, ctx.now(), urls)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{"all" if unit is None else unit}.ics"'},
    )
