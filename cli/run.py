"""``nhacviec run``: the service's pass — plan, put what is due into the outbox, send."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cli.common import console, load_directory, now, open_store, parse_datetime, settings
from plan.errors import UserError


def run(
    once: Annotated[
        bool, typer.Option("--once", help="Chạy một lượt rồi thoát (cho cron hoặc systemd timer).")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Chạy như thể lúc này là thời điểm đó, ví dụ '2020-12-01 07:30' (để thử, mô phỏng)."
        ),
    ] = None,
) -> None:
    from delivery.service import enqueue_interval, send_due
    from templates.render import Renderer

    if not once:
        raise UserError("Hãy dùng 'nhacviec run --once' (chế độ chạy thường trực chưa có trong bản này).")
    config = settings()
    moment = parse_datetime(at, "--at") if at else now()
    engine = open_store()
    directory = load_directory()
    renderer = Renderer(config.templates_dir, config.zns_templates_file)
    summary = enqueue_interval(
        engine, config, directory, renderer, start=moment.date(), end=moment.date(), until=moment, now=moment
    )
    console.print(
        f"Lượt {moment:%d/%m/%Y %H:%M}: {summary.planned} thông báo đến hạn, {summary.new_rows} tin mới vào hộp thư đi"
        + (f", {summary.skipped_rows} tin thiếu địa chỉ" if summary.skipped_rows else "")
        + "."
    )
    for problem in summary.new_problems or []:
        console.print(f"[yellow]Cần sửa cấu hình:[/] {problem}", highlight=False)
    result = asyncio.run(send_due(engine, config, moment))
    console.print(f"Gửi: {result}.")
