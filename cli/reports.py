"""``nhacviec reports`` (periodic reports received) and ``nhacviec extensions`` (requests to move a due date)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.common import actor, console, load_directory, open_store, parse_date, today
from plan.errors import UserError

app = typer.Typer(help="Ghi nhận và xem các báo cáo định kỳ đơn vị đã gửi.", no_args_is_help=True)
extensions_app = typer.Typer(
    help="Xem, duyệt hoặc không duyệt đề nghị gia hạn nhiệm vụ.", no_args_is_help=True
)

PlanOpt = Annotated[str | None, typer.Option("--plan", help="Mã kế hoạch (mặc định: kế hoạch mới nhất).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="In dạng JSON.")]


def resolve_unit(text: str) -> str:
    """One unit code from a code or a name as people write it ("Phòng TCCB", "tccb", "Văn phòng Sở")."""
    codes = load_directory().resolve(text)
    if len(codes) != 1:
        raise UserError(f"'{text}' chỉ nhiều đơn vị ({', '.join(codes)}); hãy chọn một.")
    return codes[0]


@app.command("received", help="Ghi nhận đơn vị đã gửi báo cáo của một kỳ (Q1…Q4, H1, 9M, Y, adhoc-NGÀY).")
def received(
    unit: Annotated[str, typer.Argument(help="Đơn vị (mã hoặc tên, như 'Các phòng CM, NV').")],
    period: Annotated[str, typer.Argument(help="Kỳ báo cáo: Q1, Quý II, H1, 9M, Y...")],
    at: Annotated[
        str | None, typer.Option("--at", help="Ngày nhận (mặc định: hôm nay), dạng 31/03/2020.")
    ] = None,
    plan: PlanOpt = None,
    note: Annotated[str | None, typer.Option("--note", help="Ghi chú (số văn bản báo cáo...).")] = None,
) -> None:
    from store.db import session_scope
    from store.reports import record_report

    code = resolve_unit(unit)
    day = parse_date(at, "ngày nhận --at") if at else today()
    with session_scope(open_store()) as session:
        recorded = record_report(session, plan, code, period, day, actor(), "cli", note)
    title, first = recorded.period.title, recorded.submission.received_on
    if recorded.created:
        console.print(f"Đã ghi nhận {title} của {code} ngày {first:%d/%m/%Y}.", highlight=False)
    elif recorded.note_updated:
        console.print(
            f"{title} của {code} đã ghi nhận ngày {first:%d/%m/%Y}; đã cập nhật ghi chú.", highlight=False
        )
    else:
        console.print(f"{title} của {code} đã được ghi nhận từ ngày {first:%d/%m/%Y}.", highlight=False)


@app.command("list", help="Các báo cáo đã nhận của một kế hoạch.")
def list_(plan: PlanOpt = None, as_json: JsonOpt = False) -> None:
    from store.db import session_scope
    from store.reports import reports_received

    with session_scope(open_store()) as session:
        reports = reports_received(session, plan)
    if as_json:
        print(json.dumps([report.to_json() for report in reports], ensure_ascii=False, indent=2))
        return
    if not reports:
        console.print("Chưa ghi nhận báo cáo nào.")
        return
    table = Table(
        "Kỳ",
        "Báo cáo",
        "Đơn vị",
        "Ngày nhận",
        "Người ghi",
        "Qua",
        "Ghi chú",
        title=f"Kế hoạch {reports[0].plan}",
    )
    for report in reports:
        table.add_row(
            report.period,
            report.period_title,
            report.unit,
            f"{report.received_on:%d/%m/%Y}",
            report.actor,
            report.via,
            report.note or "",
        )
    console.print(table)


@extensions_app.command("list", help="Các đề nghị gia hạn đang chờ duyệt.")
def list_extensions(plan: PlanOpt = None, as_json: JsonOpt = False) -> None:
    from store.db import session_scope
    from store.reports import pending_extensions

    with session_scope(open_store()) as session:
        requests = pending_extensions(session, plan)
    if as_json:
        print(json.dumps([request.to_json() for request in requests], ensure_ascii=False, indent=2))
        return
    if not requests:
        console.print("Không có đề nghị gia hạn nào đang chờ duyệt.")
        return
    table = Table("Mã", "Chủ trì", "Hạn hiện tại", "Đề nghị đến", "Lý do", "Người đề nghị", "Ngày đề nghị")
    for request in requests:
        event, due = request.event, request.task.effective_due
        table.add_row(
            request.task.code,
            ", ".join(request.lead),
            f"{due:%d/%m/%Y}" if due else "chưa có",
            f"{event.new_due:%d/%m/%Y}" if event.new_due else "",
            event.note or "",
            event.actor,
            f"{event.effective_on:%d/%m/%Y}" if event.effective_on else "",
        )
    console.print(table)


@extensions_app.command("approve", help="Duyệt đề nghị gia hạn: hạn của nhiệm vụ chuyển sang ngày đề nghị.")
def approve(
    code: str,
    to: Annotated[
        str | None, typer.Option("--to", help="Duyệt đến ngày khác ngày đơn vị đề nghị, dạng 31/12/2020.")
    ] = None,
    plan: PlanOpt = None,
) -> None:
    from store.db import session_scope
    from store.reports import approve_extension
    from store.tasks import find_task

    new_due = parse_date(to, "hạn mới --to") if to else None
    with session_scope(open_store()) as session:
        task = find_task(session, code, plan)
        event = approve_extension(session, task, on=today(), actor=actor(), via="cli", to=new_due)
    console.print(f"Đã duyệt gia hạn {task.code} đến {event.new_due:%d/%m/%Y}.", highlight=False)


@extensions_app.command("reject", help="Không duyệt đề nghị gia hạn (hạn giữ nguyên), kèm lý do.")
def reject(
    code: str,
    reason: Annotated[str, typer.Option("--reason", help="Lý do không duyệt.")],
    plan: PlanOpt = None,
) -> None:
    from store.db import session_scope
    from store.reports import reject_extension
    from store.tasks import find_task

    with session_scope(open_store()) as session:
        task = find_task(session, code, plan)
        reject_extension(session, task, reason=reason, on=today(), actor=actor(), via="cli")
    console.print(f"Đã ghi nhận không duyệt gia hạn {task.code}.", highlight=False)
