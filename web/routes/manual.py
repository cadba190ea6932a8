"""Manual sends from the browser: a reminder (one task or a unit's tasks), the digest or a report request.

Always two steps: the preview POST builds the messages exactly as ``nhacviec remind``
/ ``digest`` / ``report-request`` do (delivery/manual.py, then delivery/pipeline.py up to
rendering) without writing anything (the recipients and the text of the first message);
the confirm POST builds them again at that moment, puts them in the outbox and sends what
is due (the pipeline's commit and dispatch). Admin only. Mistakes (unknown task or unit, a task
with no date, a bad period) are shown beside the form, in Vietnamese.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from delivery.manual import (
    digest_notifications,
    period_for,
    pick_rule,
    regime_for,
    reminder_notifications,
    report_request_notification,
    resolve_units,
    select_tasks,
)
from delivery.pipeline import (
    Prepared,
    Setup,
    commit,
    completion_links,
    dispatch,
    prepare_manual,
    with_retries,
)
from plan.dates import parse_date
from plan.errors import UserError
from plan.units import Directory
from planner.calendar import WorkingCalendar
from planner.model import Notification, ReportingInput
from rules.model import NotificationKind, Rule
from store.db import session_scope
from store.planner_input import plans_for
from templates.render import Renderer
from vocabulary import CHANNEL_LABELS, MANUAL_KINDS
from web.deps import SignedIn, Text, WebContext, context, csrf_protect, error_text, render
from web.permissions import Action, require

router = APIRouter()

KINDS = MANUAL_KINDS


@dataclass
class ManualAsk:
    """What the admin asked for (the form's fields, carried from the preview to the confirmation)."""

    kind: str = "remind"
    task: str = ""
    unit: str = ""
    period: str = ""
    year: str = ""
    due: str = ""
    units: str = ""
    plan: str = ""  # a reminder of one task: the plan, when several active plans share its code

    def fields(self) -> dict[str, str]:
        return dict(self.__dict__)


@dataclass
class Built:
    notifications: list[Notification]
    prepared: Prepared
    skipped: list[str]  # chosen tasks with no due date
    build: Callable[[], Prepared]  # the same messages built again (when a concurrent send took an item)


def _notifications(ctx: WebContext, asked: ManualAsk, moment: datetime) -> Built:
    settings = ctx.settings
    setup = Setup.load(ctx.engine, settings, ctx.directory())
    with session_scope(ctx.engine) as db:
        plans = plans_for(db)
        latest = plans[-1].code if plans else None
    inputs, rules, directory, calendar = setup.inputs, setup.rules, setup.directory, setup.calendar
    skipped: list[str] = []
    if asked.kind == "remind":
        if not asked.task.strip() and not asked.unit.strip():
            raise UserError("Hãy ghi mã nhiệm vụ hoặc đơn vị cần nhắc.")
        rule = pick_rule(rules, NotificationKind.REMINDER)
        selection = select_tasks(
            inputs.tasks, directory, calendar, rule, moment.date(),
            code=asked.task.strip() or None, unit=asked.unit.strip() or None, plan=asked.plan.strip() or None,
        )  # fmt: skip
        skipped = [t.code for t in selection.undated]
        notifications = reminder_notifications(selection.tasks, rule, directory, calendar, moment)
    elif asked.kind == "digest":
        rule = pick_rule(rules, NotificationKind.DIGEST)
        notifications = digest_notifications(rule, directory, calendar, moment)
    elif asked.kind == "report":
        notifications = [_report_request(asked, inputs.reporting, rules, directory, calendar, moment, latest)]
    else:
        raise UserError("Loại tin gửi tay không hợp lệ.")
    if not notifications:
        raise UserError("Không có tin nào để gửi với lựa chọn này.")
    renderer = Renderer(settings.templates_dir, settings.zns_templates_file)
    links = completion_links(settings, moment)

    def build() -> Prepared:
        return prepare_manual(ctx.engine, setup, renderer, notifications, now=moment, links=links)

    return Built(notifications, build(), skipped, build)


def _report_request(
    asked: ManualAsk,
    reporting: Sequence[ReportingInput],
    rules: Sequence[Rule],
    directory: Directory,
    calendar: WorkingCalendar,
    moment: datetime,
    latest: str | None,
) -> Notification:
    if not asked.period.strip():
        raise UserError("Hãy chọn kỳ báo cáo (Q1, Q2, Q3, Q4, H1, 9M, Y hoặc adhoc).")
    year_text = asked.year.strip()
    if year_text and not year_text.isdigit():
        raise UserError(f"Năm '{year_text}' không hợp lệ: ghi năm bốn chữ số, ví dụ 2021.")
    year = int(year_text) if year_text else None
    regime = regime_for(reporting, year)
    cutoff = parse_date(asked.due, "ngày chốt số liệu") if asked.due.strip() else None
    period = period_for(asked.period, year or (regime.year if regime else moment.year), cutoff)
    if asked.units.strip():
        codes = resolve_units(directory, asked.units, "Đơn vị nhận")
    elif regime is not None:
        codes = list(regime.units)
    else:
        raise UserError("Kế hoạch chưa có danh sách đơn vị báo cáo: hãy ghi đơn vị nhận.")
    rule = pick_rule(rules, NotificationKind.REPORT_REQUEST)
    return report_request_notification(
        period, codes, rule, directory, calendar, moment,
        plan=regime.plan if regime else latest, via=regime.via if regime else None,
    )  # fmt: skip


def _asked(
    kind: str, task: str, unit: str, period: str, year: str, due: str, units: str, plan: str = ""
) -> ManualAsk:
    return ManualAsk(kind if kind in KINDS else "remind", task, unit, period, year, due, units, plan)


def _form_page(
    request: Request, asked: ManualAsk, error: str | None = None, status_code: int = 200
) -> Response:
    with session_scope(context(request).engine) as db:
        plans = [(p.code, p.title) for p in reversed(plans_for(db))]  # the active plans, newest first
    return render(request, "manual.html", status_code, asked=asked, kinds=KINDS, error=error, plans=plans)


@router.get("/manual")
def manual_page(request: Request, user: SignedIn, kind: str = "remind") -> Response:
    require(user, Action.MANUAL_SEND)
    return _form_page(request, _asked(kind, "", "", "", "", "", ""))


def asked_in_form(
    kind: Text = "remind",
    task: Text = "",
    unit: Text = "",
    period: Text = "",
    year: Text = "",
    due: Text = "",
    units: Text = "",
    plan: Text = "",
) -> ManualAsk:
    """The manual-send form's fields (the preview posts them, and the confirmation posts them again)."""
    return _asked(kind, task, unit, period, year, due, units, plan)


Asked = Annotated[ManualAsk, Depends(asked_in_form)]


@router.post("/manual/preview", dependencies=[Depends(csrf_protect)])
def preview(request: Request, user: SignedIn, asked: Asked) -> Response:
    require(user, Action.MANUAL_SEND)
    ctx = context(request)
    moment = ctx.now()
    try:
        built = _notifications(ctx, asked, moment)
    except UserError as error:
        return _form_page(request, asked, error_text(error), 400)
    prepared = built.prepared
    return render(
        request,
        "manual_preview.html",
        asked=asked,
        what=KINDS[asked.kind],
        moment=moment,
        rows=prepared.messages,
        first=prepared.sendable[0] if prepared.sendable else None,
        already_sent=prepared.already,
        problems=list(prepared.problems.values()),
        skipped=built.skipped,
        channels=CHANNEL_LABELS,
        notifications=len(built.notifications),
    )


@router.post("/manual/send", dependencies=[Depends(csrf_protect)])
def send(request: Request, user: SignedIn, asked: Asked) -> Response:
    require(user, Action.MANUAL_SEND)
    ctx = context(request)
    moment = ctx.now()
    try:
        built = _notifications(ctx, asked, moment)
    except UserError as error:
        return _form_page(request, asked, error_text(error), 400)
    prepared, enqueued = with_retries(
        built.build, lambda p: commit(ctx.engine, p, now=moment), built=built.prepared
    )
    summary = asyncio.run(dispatch(ctx.engine, ctx.settings, moment)) if enqueued.new_messages else None
    return render(
        request,
        "manual_sent.html",
        what=KINDS[asked.kind],
        notifications=len(built.notifications),
        new_rows=enqueued.new_messages,
        already_sent=prepared.already,
        problems=enqueued.new_problems,
        summary=str(summary) if summary is not None else None,
    )
