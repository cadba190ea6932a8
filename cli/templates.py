"""``nhacviec templates``: list the message templates, preview one message, validate an admin's overrides."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.common import console, err_console, load_directory, open_store, parse_date, settings
from plan.errors import UserError
from vocabulary import TEMPLATE_SOURCES as SOURCE_LABELS

if TYPE_CHECKING:
    from planner.model import Notification, Recipient
    from templates.render import Renderer

app = typer.Typer(
    help="Mẫu thông báo: xem danh sách, xem trước một thông báo, kiểm tra thư mục mẫu tuỳ chỉnh.",
    no_args_is_help=True,
)


def _renderer() -> Renderer:
    from templates.render import Renderer

    config = settings()
    return Renderer(config.templates_dir, config.zns_templates_file)


@app.command("list", help="Danh sách mẫu đang dùng: loại thông báo, kênh, nguồn (có sẵn hay tuỳ chỉnh), tệp.")
def list_() -> None:
    from templates.render import BUILTIN_DIR

    renderer = _renderer()
    table = Table("Loại", "Kênh", "Nguồn", "Tệp", title="Mẫu thông báo")
    for info in renderer.templates():
        base = {"builtin": BUILTIN_DIR, "override": renderer.overrides_dir}.get(info.source)
        shown = info.path.relative_to(base).as_posix() if base is not None else str(info.path)
        table.add_row(info.kind, info.channel, SOURCE_LABELS.get(info.source, info.source), shown)
    console.print(table)
    if renderer.overrides_dir is not None:
        console.print(f"Thư mục mẫu tuỳ chỉnh: {renderer.overrides_dir}", highlight=False)


def _check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    value = value.strip().lower()
    if value not in allowed:
        raise UserError(f"{what} '{value}' không hợp lệ (chỉ nhận: {', '.join(allowed)}).")
    return value


def find_notification(kind: str, code: str, at: date | None, plan: str | None = None) -> Notification:
    """The first notification of ``kind`` for task ``code`` (of ``plan``, or of the one active plan that has
    it) on or after ``at`` (default: the start of that plan's year)."""
    from cli.simulate import timeline
    from store.db import session_scope
    from store.tasks import find_task, plan_of

    with session_scope(open_store()) as session:
        found = plan_of(session, find_task(session, code, plan))
        plan_code, plan_year = found.code, found.year
    year = at.year if at is not None else plan_year
    start = at or date(year, 1, 1)
    end = date(year, 12, 31)
    code = code.strip().upper()
    for notification in timeline(start, end, plan_code=plan_code):
        if notification.kind == kind and (notification.task or "").upper() == code:
            return notification
    raise UserError(
        f"Không có thông báo loại '{kind}' nào cho nhiệm vụ {code} từ {start:%d/%m/%Y} đến {end:%d/%m/%Y} "
        "(xem 'nhacviec simulate --task MÃ')."
    )


def _recipient(notification: Notification, channel: str) -> Recipient:
    wanted = "zalo" if channel == "zns" else channel
    for recipient in notification.recipients:
        if recipient.channel == wanted:
            return recipient
    first = notification.recipients[0]
    err_console.print(
        f"(Quy tắc '{notification.rule}' không gửi qua kênh {channel}; vẫn xem trước để tham khảo.)",
        highlight=False,
    )
    return first


def _plan_info(code: str | None):
    """The plan as messages name it (its document's number and date), from the database."""
    from store.db import session_scope
    from store.plan_life import find_plan
    from store.planner_input import plan_info

    if not code:
        return None
    with session_scope(open_store()) as session:
        return plan_info(find_plan(session, code))


def _task_context(
    kind: str, code: str, channel: str, at: date | None, plan: str | None = None
) -> dict[str, object]:
    from planner.model import Recipient
    from templates.context import message_context
    from vocabulary import TASK_KINDS

    if kind not in TASK_KINDS:
        raise UserError(
            f"Loại '{kind}' không gắn với một nhiệm vụ: bỏ --task để xem mẫu với dữ liệu minh hoạ."
        )
    notification = find_notification(kind, code, at, plan)
    chosen = _recipient(notification, channel)
    recipient = Recipient(chosen.code, chosen.role, chosen.channel)
    context = message_context(
        notification, recipient, load_directory(), plan_info=_plan_info(notification.plan)
    )
    context["channel"] = channel
    return context


@app.command("preview", help="Xem trước một thông báo (tiêu đề và nội dung) với dữ liệu thật hoặc minh hoạ.")
def preview(
    kind: Annotated[
        str, typer.Argument(help="Loại thông báo: kickoff, reminder, checkin, escalation, report_request...")
    ],
    task: Annotated[
        str | None,
        typer.Option("--task", help="Mã nhiệm vụ (ví dụ IV.4): lấy thông báo thật từ cơ sở dữ liệu."),
    ] = None,
    channel: Annotated[str, typer.Option("--channel", help="Kênh: email, telegram, zalo, zns.")] = "email",
    at: Annotated[
        str | None,
        typer.Option("--at", help="Thông báo đầu tiên từ ngày này (mặc định: đầu năm của kế hoạch)."),
    ] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="Mã kế hoạch của nhiệm vụ (khi nhiều kế hoạch có cùng mã).")
    ] = None,
) -> None:
    from rules.channels import CHANNELS as CHANNEL_SPECS
    from templates.context import sample_context
    from templates.render import CHANNELS, KINDS

    kind = _check_choice(kind, KINDS, "Loại thông báo")
    channel = _check_choice(channel, CHANNELS, "Kênh")
    day = parse_date(at, "ngày --at") if at else None
    renderer = _renderer()
    context = _task_context(kind, task, channel, day, plan) if task else sample_context(kind, channel)
    rendered = renderer.render(kind, channel, context)
    typer.echo(f"Tiêu đề: {rendered.subject}\n")
    spec = CHANNEL_SPECS.get(channel)
    if spec is None:  # zns: an approved template and its parameters
        typer.echo(json.dumps(rendered.extra["zns"], ensure_ascii=False, indent=2))
        return
    typer.echo((rendered.html or "") if spec.body == "html" else rendered.text)
    parts = rendered.extra.get("telegram_parts") or rendered.extra.get("zalo_parts")
    if parts:
        typer.echo(f"\n(Nội dung dài: sẽ gửi thành {len(parts)} tin.)")


@app.command(
    "validate", help="Kiểm tra thư mục mẫu tuỳ chỉnh (mặc định: NHACVIEC_TEMPLATES_DIR); lỗi thì thoát mã 1."
)
def validate(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Thư mục mẫu (cùng cấu trúc với templates/: email/, telegram/, zalo/)."),
    ] = None,
) -> None:
    from templates.render import BUILTIN_DIR
    from web.isolation import check_templates

    config = settings()
    folder = directory or config.templates_dir
    if folder is None:
        console.print(
            "Chưa cấu hình thư mục mẫu tuỳ chỉnh (NHACVIEC_TEMPLATES_DIR): kiểm tra các mẫu có sẵn."
        )
        folder = BUILTIN_DIR
    elif not Path(folder).is_dir():
        what = "là một tệp" if Path(folder).exists() else "không tồn tại"
        raise UserError(
            f"Thư mục mẫu {folder} {what}: hãy chỉ ra một thư mục (cùng cấu trúc với templates/)."
        )
    # in a child process with a time and memory limit: what the sandbox misses is "too heavy", not a hang
    problems = check_templates(Path(folder), (), config.zns_templates_file).problems
    if problems:
        err_console.print(f"[bold red]{len(problems)} lỗi trong mẫu thông báo:[/]")
        for problem in problems:
            err_console.print(f"  - {problem}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1)
    count = sum(1 for file in Path(folder).rglob("*.j2") if file.is_file())
    console.print(f"Các mẫu trong {folder} đều hợp lệ ({count} tệp).", highlight=False, soft_wrap=True)
