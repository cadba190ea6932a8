"""The page "Báo cáo": the Office's report on the plan's execution for a period, previewed, then downloaded as
.docx or .xlsx. The same draft as ``nhacviec report build`` (store.report_data.build_report); admins and
viewers see it (it covers every unit)."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from plan.dates import parse_date
from plan.errors import UserError
from report.figures import Report
from report.text import (
    APPENDIX_HEADERS,
    NO_DIFFICULTY,
    NO_RECOMMENDATION,
    UNIT_HEADERS,
    Letterhead,
    appendix_rows,
    comparison,
    general,
    official_date,
    opening,
    title_lines,
    unit_row,
)
from store.models import Plan, PlanStatus
from store.report_data import build_report
from vocabulary import REPORT_PERIODS
from web.deps import SignedIn, WebContext, context, error_text, render
from web.permissions import Action, require

router = APIRouter()

MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _plans(ctx: WebContext) -> list[tuple[str, str, int, bool]]:
    """Every plan (code, title, year, archived), the active ones first, each group newest first."""
    with Session(ctx.engine) as session:
        rows = session.exec(select(Plan).order_by(col(Plan.year).desc(), col(Plan.id).desc()))
        plans = [(p.code, p.title, p.year, p.status == PlanStatus.ARCHIVED) for p in rows]
    return sorted(plans, key=lambda p: p[3])  # stable: newest first within each group


def _build(ctx: WebContext, period: str, plan: str, at: str) -> tuple[Report, Letterhead]:
    day = parse_date(at, "ngày lập báo cáo") if at.strip() else ctx.today()
    with Session(ctx.engine) as session:
        return build_report(session, ctx.settings, period, None, plan or None, day)


@router.get("/report")
async def report_page(
    request: Request,
    user: SignedIn,
    period: str = "",
    plan: str = "",
    at: str = "",
) -> Response:
    require(user, Action.VIEW_REPORTS)
    ctx = context(request)
    plans = await run_in_threadpool(_plans, ctx)
    form = {"period": period, "plan": plan or (plans[0][0] if plans else ""), "at": at}
    page: dict[str, Any] = {
        "plans": plans,
        "periods": REPORT_PERIODS,
        "form": form,
        "error": None,
        "report": None,
    }
    if not period:
        return render(request, "report.html", **page)
    try:
        report, letterhead = await run_in_threadpool(_build, ctx, period, form["plan"], at)
    except UserError as error:
        return render(request, "report.html", 400, **(page | {"error": error_text(error)}))
    draft = {
        "title": title_lines(report),
        "dated": official_date(letterhead.place, report.at),
        "letterhead": letterhead,
        "opening": opening(report, letterhead),
        "general": general(report),
        "comparison": comparison(report),
        "unit_headers": UNIT_HEADERS,
        "unit_rows": [unit_row(n, u) for n, u in enumerate(report.units, start=1)],
        "difficulties": [d.text for d in report.difficulties],
        "no_difficulty": NO_DIFFICULTY,
        "recommendations": list(report.recommendations) or [NO_RECOMMENDATION],
        "appendix_headers": APPENDIX_HEADERS,
        "appendix": appendix_rows(report),
        "statuses": [line.status for line in report.tasks],
        "downloads": {
            kind: "/report/download?"
            + urlencode(
                {"period": period, "plan": form["plan"], "at": f"{report.at:%d/%m/%Y}", "format": kind}
            )
            for kind in MEDIA_TYPES
        },
    }
    return render(request, "report.html", **(page | {"report": report, "draft": draft}))


@router.get("/report/download")
async def report_download(
    request: Request,
    user: SignedIn,
    period: str,
    file_format: Annotated[str, Query(alias="format")] = "docx",
    plan: str = "",
    at: str = "",
) -> Response:
    require(user, Action.VIEW_REPORTS)
    ctx = context(request)
    if file_format not in MEDIA_TYPES:
        message = "Chỉ tải được báo cáo dạng docx hoặc xlsx."
        return render(request, "error.html", 400, title="Chưa lập được báo cáo", message=message)
    try:
        report, letterhead = await run_in_threadpool(_build, ctx, period, plan, at)
    except UserError as error:
        return render(request, "error.html", 400, title="Chưa lập được báo cáo", message=error_text(error))

    def write() -> bytes:
        buffer = BytesIO()
        if file_format == "docx":
            from report.docx_writer import write_docx

            write_docx(report, letterhead, buffer)
        else:
            from report.xlsx_writer import write_xlsx

            write_xlsx(report, letterhead, buffer)
        return buffer.getvalue()

    content = await run_in_threadpool(write)
    plan_code = re.sub(r"[^A-Za-z0-9-]+", "-", report.plan_code).strip("-") or "ke-hoach"
    name = f"bao-cao-{plan_code}-{report.code}-{report.at:%Y%m%d}.{file_format}"
    return Response(
        content,
        media_type=MEDIA_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
