"""``nhacviec run``: the service (APScheduler clock), or one pass with ``--once`` for cron and systemd timers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

import typer

from cli.common import console, load_directory, now, open_store, parse_datetime, settings


def run(
    once: Annotated[
        bool, typer.Option("--once", help="Chạy một lượt rồi thoát (cho cron hoặc systemd timer).")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Với --once: coi thời điểm này là 'bây giờ', ví dụ '2020-12-01 07:30' (để thử)."
        ),
    ] = None,
    web: Annotated[
        bool, typer.Option("--web", help="Chạy cả trang quản trị web trong cùng tiến trình.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Với --web: địa chỉ lắng nghe.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Với --web: cổng.")] = 8000,
) -> None:
    from delivery.readiness import placeholder_refusal
    from plan.errors import UserError
    from rules.channels import CHANNELS
    from scheduler.logs import configure_logging
    from templates.render import Renderer

    config = settings()
    engine = open_store()
    directory = load_directory()
    refusal = placeholder_refusal(config, directory)
    if refusal is not None:  # in production, never send to the sample's stand-in addresses
        raise UserError(refusal)
    renderer = Renderer(config.templates_dir, config.zns_templates_file)
    if once:
        from cli.output import progress
        from delivery.dispatcher import describe_outcomes
        from scheduler.passes import run_pass

        moment = parse_datetime(at, "--at") if at else now()
        with progress("Bù các ngày đã lỡ") as advance:

            def report(done: int, days: int, day: date) -> None:
                advance(done, f"Bù ngày {day:%d/%m/%Y}", days)

            summary = asyncio.run(run_pass(engine, config, directory, renderer, moment, progress=report))
        enqueued = summary.enqueued
        console.print(
            f"Lượt {moment:%d/%m/%Y %H:%M}: {enqueued.planned} thông báo đến hạn, {enqueued.new_messages} tin mới "
            "vào hộp thư đi"
            + (f" (gộp {enqueued.new_items} mục)" if enqueued.new_items > enqueued.new_messages else "")
            + (f", {enqueued.skipped} tin thiếu địa chỉ" if enqueued.skipped else "")
            + "."
        )
        for problem in enqueued.new_problems or []:
            console.print(f"[yellow]Cần sửa cấu hình:[/] {problem}", highlight=False)
        console.print(f"Gửi: {describe_outcomes(summary.sent)}.", highlight=False)
        if CHANNELS["zalo"].configured(config):  # a daily cron run keeps the Zalo token alive too (real time)
            from scheduler.keepalive import keep_zalo_alive

            console.print(asyncio.run(keep_zalo_alive(engine, config)))
        return

    from scheduler.service import Service, install_signal_handlers
    from store.calendar import working_calendar
    from store.db import session_scope

    if at:
        raise UserError("--at chỉ dùng cùng --once.")
    configure_logging(config.log_format, config.log_level)
    with session_scope(engine) as session:
        send_time = working_calendar(
            session, config.calendar_file, config.send_time, config.timezone
        ).send_time
    extra: list[Callable[[asyncio.Event], Awaitable[None]]] = []
    companions: list[Callable[[asyncio.Event], Awaitable[None]]] = []
    if config.telegram_token is not None:
        from inbound.bot import run_bot

        extra.append(lambda stop: run_bot(config, engine, directory, stop))
    if web:
        from cli.web import serve_until, web_server

        server = web_server(config, engine, host, port)
        companions.append(lambda stop: serve_until(server, stop))
    service = Service(
        engine,
        config,
        directory,
        renderer,
        send_time=send_time,
        retry_seconds=config.retry_job_seconds,
        standby_poll_seconds=config.standby_poll_seconds,
        extra_tasks=extra,
        companion_tasks=companions,
        reload_directory=load_directory,
    )

    async def main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await service.run(stop)

    asyncio.run(main())
