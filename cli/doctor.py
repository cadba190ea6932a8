"""``nhacviec doctor``: can nhacviec reach the people of the plan? (delivery.readiness)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, load_directory, open_store, settings


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Không hỏi thử các kênh (SMTP, Telegram, Zalo), chỉ xem cấu hình."),
    ] = False,
) -> None:
    """Per unit, head and leader: which channels reach them; unreachable tasks; placeholders; channels answering.

    Exits 1 when something needs fixing, so a script can wait for a clean bill of health.
    """
    from delivery.readiness import check_channels, load, unchecked

    config = settings()
    engine = open_store()
    directory = load_directory()
    checks = unchecked(config) if offline else asyncio.run(check_channels(config, engine))
    readiness = load(engine, config, directory, checks)
    if as_json:
        print(json.dumps(readiness.as_json(), ensure_ascii=False, indent=2))
    else:
        _print(readiness)
    if not readiness.ready:
        raise typer.Exit(1)


def _print(readiness) -> None:
    from vocabulary import CHANNEL_LABELS, CONTACT_FIELDS, REACH_STATES, RECIPIENT_KINDS, label

    mode = (
        "đang chạy thật (có kênh gửi ra ngoài)"
        if readiness.production
        else "chạy thử (không kênh nào được cấu hình)"
    )
    console.print(f"[bold]Kênh gửi[/] — {mode}:", highlight=False)
    for check in readiness.checks:
        mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "·"}[check.answering]
        console.print(f" {mark} {check.detail}", highlight=False, soft_wrap=True)
    table = Table("Mã", "Ai", *(CHANNEL_LABELS[c] for c in ("email", "telegram", "zalo")), title="Người nhận")
    for reach in readiness.reaches:
        cells = []
        for channel in ("email", "telegram", "zalo"):
            state = reach.channels[channel]["state"]
            color = {"ok": "green", "placeholder": "yellow", "not_configured": "yellow"}.get(state, "red")
            cells.append(f"[{color}]{label(REACH_STATES, state)}[/]")
        kind = label(RECIPIENT_KINDS, reach.recipient.kind)
        table.add_row(reach.recipient.code, f"{reach.recipient.name} ({kind})", *cells)
    console.print(table)
    if readiness.unreachable_units:
        console.print(
            f"[red]Đơn vị không liên lạc được (cả đơn vị và trưởng đơn vị):[/] {', '.join(readiness.unreachable_units)}",
            highlight=False,
        )
    if readiness.unreachable_tasks:
        console.print(
            f"[red]{len(readiness.unreachable_tasks)} nhiệm vụ có đơn vị chủ trì không liên lạc được:[/]"
        )
        for task in readiness.unreachable_tasks:
            lead = ", ".join([*task.lead, *(f"'{name}' (chưa có trong danh bạ)" for name in task.unlisted)])
            console.print(f"  {task.task} ({task.plan}) — chủ trì: {lead or 'chưa ghi'}", highlight=False)
    if readiness.placeholders:
        console.print(f"[yellow]{len(readiness.placeholders)} địa chỉ giữ chỗ, chưa phải địa chỉ thật:[/]")
        by_code: dict[str, list[str]] = {}
        for placeholder in readiness.placeholders:
            by_code.setdefault(placeholder.code, []).append(
                f"{label(CONTACT_FIELDS, placeholder.field)} {placeholder.value}"
            )
        for code, values in by_code.items():
            console.print(f"  {code}: {', '.join(values)}", highlight=False, soft_wrap=True)
    for problem in readiness.problems:
        console.print(f"[yellow]Cần sửa cấu hình:[/] {problem}", highlight=False, soft_wrap=True)
    if readiness.ready:
        console.print("[green]Sẵn sàng:[/] mọi đơn vị đều liên lạc được.")
    else:
        console.print(
            "Chưa sẵn sàng: nạp danh bạ ('nhacviec units import'), gửi mã mời ('nhacviec units invite'), "
            "rồi chạy lại 'nhacviec doctor'."
        )
