"""Upcoming notifications: what the planner will send over the next days, grouped by day.

:func:`plan_window` is the one place the web admin runs the planner (this page,
the rule preview, the template preview): the database's tasks and rules (or a
candidate rule set) over the working calendar, like ``nhacviec simulate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from itertools import groupby

from fastapi import APIRouter, Request
from fastapi.responses import Response

from planner.describe import concerns_unit, recipients_text, subject_text
from planner.model import Notification
from planner.planner import plan_notifications
from rules.model import Rule
from store.calendar import working_calendar
from store.db import session_scope
from store.directory import load_directory
from store.models import UserRole
from store.planner_input import load_planner_input
from store.rules import load_rules
from vocabulary import KIND_SHORT as KIND_LABELS
from web.deps import SignedIn, WebContext, context, render
from web.permissions import Action, require
from web.queries import unit_names

router = APIRouter()

DEFAULT_DAYS = 14
MAX_DAYS = 366


def plan_window(
    ctx: WebContext, start: date, end: date, rules: Sequence[Rule] | None = None
) -> list[Notification]:
    """Every notification from ``start`` to ``end`` (inclusive) for the stored rules, or ``rules`` instead."""
    settings = ctx.settings
    with session_scope(ctx.engine) as db:
        inputs = load_planner_input(db, load_directory(db, settings.units_file), tz=settings.tz)
        current = list(rules) if rules is not None else load_rules(db)
        calendar = working_calendar(db, settings.calendar_file, settings.send_time, settings.timezone)
    return plan_notifications(inputs, current, calendar, start, end)


def clamp_days(days: int) -> int:
    return max(1, min(days, MAX_DAYS))


def notification_row(n: Notification) -> dict[str, str]:
    """What a page shows for one notification."""
    return {
        "time": f"{n.at:%H:%M}",
        "kind": str(n.kind),
        "kind_label": KIND_LABELS.get(n.kind, str(n.kind)),
        "subject": subject_text(n),
        "task": n.task or "",
        "plan": n.plan or "",
        "rule": n.rule,
        "recipients": recipients_text(n),
    }


def by_day(notifications: Sequence[Notification]) -> list[tuple[date, list[dict[str, str]]]]:
    return [
        (day, [notification_row(n) for n in group])
        for day, group in groupby(notifications, key=lambda n: n.at.date())
    ]


@router.get("/upcoming")
def upcoming(
    request: Request, user: SignedIn, days: int = DEFAULT_DAYS, unit: str = "", kind: str = ""
) -> Response:
    require(user, Action.VIEW_UPCOMING)
    ctx = context(request)
    days = clamp_days(days)
    start = ctx.today()
    notifications = plan_window(ctx, start, start + timedelta(days=days - 1))
    if user.role == UserRole.UNIT:
        own = user.unit or ""
        notifications = [n for n in notifications if own and concerns_unit(n, own)]
    unit = unit.strip().upper()
    if unit:
        notifications = [n for n in notifications if concerns_unit(n, unit)]
    if kind in KIND_LABELS:
        notifications = [n for n in notifications if n.kind == kind]
    else:
        kind = ""
    with session_scope(ctx.engine) as db:
        names = unit_names(db)
    return render(
        request,
        "upcoming.html",
        days=days,
        start=start,
        end=start + timedelta(days=days - 1),
        groups=by_day(notifications),
        total=len(notifications),
        filters={"unit": unit, "kind": kind},
        units=sorted(names.items()),
        kind_labels=KIND_LABELS,
    )
