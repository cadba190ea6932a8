"""The dashboard: counts by status, progress per section and per unit, the year timeline."""

from __future__ import annotations

import logging
import threading
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from planner.model import TaskInput
from planner.progress import (
    STATUS_LABELS,
    STATUSES,
    classify,
    progress_by_section,
    progress_by_unit,
    status_counts,
)
from store.db import session_scope
from store.models import UserRole
from web.deps import SignedIn, WebContext, context, render
from web.permissions import Action, Principal, require
from web.queries import Bounded, PlanData, load_plan, load_plan_page
from web.timeline import TimelineRow, build_timeline

router = APIRouter()
log = logging.getLogger("nhacviec.web")

MAX_TIMELINE_ROWS = 300  # above this, the timeline shows one row per section
URGENCY = ("overdue", "due_soon", "needs_date", "on_track", "done")


def task_href(task: TaskInput) -> str:
    return f"/tasks/{task.plan}/{task.code}"


def timeline_rows(data: PlanData, today: date) -> list[TimelineRow]:
    rows = []
    for task in data.tasks:
        content = task.content if len(task.content) <= 100 else task.content[:99] + "…"
        rows.append(
            TimelineRow(
                key=task.code,
                title=f"{task.code}: {content} — Thời hạn: {task.deadline_text}",
                start=task.start,
                due=task.due_on(today),
                status=classify(task, today),
                href=task_href(task),
            )
        )
    if len(rows) <= MAX_TIMELINE_ROWS:
        return rows
    return section_rows(data, today)


def section_rows(data: PlanData, today: date) -> list[TimelineRow]:
    """One row per section: from its earliest start to its latest due date, coloured by its most urgent task."""
    groups: dict[str | None, list[TaskInput]] = {}
    for task in data.tasks:
        groups.setdefault(task.section, []).append(task)
    titles = dict(data.sections)
    rows = []
    for code, tasks in groups.items():
        starts = [d for t in tasks if (d := t.start or t.due_on(today))]
        dues = [d for t in tasks if (d := t.due_on(today))]
        statuses = {classify(t, today) for t in tasks}
        rows.append(
            TimelineRow(
                key=code or "—",
                title=f"{code}. {titles.get(code or '', '')}: {len(tasks)} nhiệm vụ",
                start=min(starts) if starts else None,
                due=max(dues) if dues else None,
                status=next(s for s in URGENCY if s in statuses),
                href=f"/tasks?plan={data.plan.code}&section={code or ''}",
            )
        )
    return rows


@router.get("/")
def dashboard(request: Request, user: SignedIn, plan: str | None = None) -> Response:
    require(user, Action.VIEW_DASHBOARD)
    ctx = context(request)
    today = ctx.today()
    with session_scope(ctx.engine) as db:
        data = load_plan_page(request, db, plan, user, today)
    if not isinstance(data, PlanData):
        return data
    return render(
        request,
        "dashboard.html",
        data=data,
        statuses=STATUSES,
        status_labels=STATUS_LABELS,
        **dashboard_figures(data, today),
    )


FIGURES_CACHE_SIZE = 16  # (plan, its tasks as loaded, day, sections): a worker keeps this many dashboards
_FIGURES = Bounded(FIGURES_CACHE_SIZE)
_COMPUTING = threading.Lock()


def dashboard_figures(data: PlanData, today: date) -> dict[str, Any]:
    """The dashboard's figures for ``data`` on ``today``: shared by every request that sees the same tasks
    (the whole plan, as web.queries loaded it) on the same day, recomputed when the plan changes."""
    key = (id(data.tasks), data.plan.id, today, data.sections, tuple(data.unit_names.items()))
    if data.shared:
        with _COMPUTING:  # requests arriving together wait for one computation
            cached = _FIGURES.get(key)
            # the very tuple: an id may be reused once its tuple is freed
            if cached is not None and cached[0] is data.tasks:
                return cached[1]
            figures = compute_figures(data, today)
            _FIGURES.put(key, (data.tasks, figures))
            return figures
    return compute_figures(data, today)


def compute_figures(data: PlanData, today: date) -> dict[str, Any]:
    year = data.plan.year
    rows = timeline_rows(data, today)
    figures = {
        "counts": status_counts(data.tasks, today),
        "sections": progress_by_section(data.tasks, data.sections, today),
        "units": progress_by_unit(data.tasks, data.lead_units(), today),
        "timeline": build_timeline(rows, date(year, 1, 1), date(year, 12, 31), today),
        "by_section": len(data.tasks) > MAX_TIMELINE_ROWS,
        "undated": sum(1 for row in rows if row.start is None and row.due is None),
    }
    return figures


def warm(ctx: WebContext) -> None:
    """Load the newest plan's tasks and today's dashboard figures into this process's caches, so the first
    people after a start (or a restart of a worker) do not wait for them together: at 10,000 tasks the first
    dashboard took 1-2 s while twenty requests queued behind it. Nothing is written; any failure (no plan
    yet, a database not reachable) only leaves the caches to fill on the first request, as before."""
    everyone = Principal(id=0, name="", role=UserRole.ADMIN)  # sees every task: the shared copy
    try:
        today = ctx.today()
        with session_scope(ctx.engine) as db:
            data = load_plan(db, None, everyone, today)
        dashboard_figures(data, today)
    except Exception as error:  # a start must never fail for a cache
        log.info("dashboard not prepared at start (%s): the first request prepares it", type(error).__name__)


def warm_in_background(ctx: WebContext) -> threading.Thread:
    """:func:`warm` in a daemon thread: the server answers at once; a request arriving meanwhile waits for
    the same load (web.queries loads a plan once at a time) instead of making its own."""
    thread = threading.Thread(target=warm, args=(ctx,), name="nhacviec-web-warm", daemon=True)
    thread.start()
    return thread
