"""``nhacviec preview``: who gets what: the messages each channel will carry to one person or unit."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import groupby
from typing import Annotated

import typer
from rich.text import Text

from cli.common import console, load_directory, now, open_store, parse_date, settings
from plan.errors import UserError
from vocabulary import ROLES, label


def preview(
    person: Annotated[
        str | None,
        typer.Option(
            "--person",
            help="Lãnh đạo (GD, PGD1 hoặc họ tên) hoặc trưởng đơn vị (TCCB.head, hoặc mã/tên đơn vị).",
        ),
    ] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Hộp thư/nhóm chat của một đơn vị (mã hoặc tên).")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Ngày đầu, ví dụ 30/11/2020 (mặc định: hôm nay).")
    ] = None,
    days: Annotated[int, typer.Option("--days", help="Số ngày xem, tính cả ngày đầu.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    """The messages each channel will carry to one person or one unit on those days (nothing is sent)."""
    from delivery.preview import person as find_person
    from delivery.preview import preview_for, preview_json, window
    from delivery.preview import unit as find_unit
    from templates.render import Renderer

    if (person is None) == (unit is None):
        raise UserError("Hãy chọn đúng một trong hai: --person (một người) hoặc --unit (một đơn vị).")
    config = settings()
    directory = load_directory()
    who = find_person(directory, person) if person is not None else find_unit(directory, unit or "")
    start, end = window(parse_date(at, "ngày --at") if at else now().date(), days)
    renderer = Renderer(config.templates_dir, config.zns_templates_file)
    prepared = preview_for(open_store(), config, directory, renderer, who, start, end, now())
    data = preview_json(who, start, end, prepared)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    span = f"{start:%d/%m/%Y}" + (f" đến {end:%d/%m/%Y}" if end != start else "")
    console.print(Text(f"{who.name}: các tin sẽ nhận, {span}", style="bold"))
    if not data["messages"]:
        console.print("Không có tin nào.")
    for at_text, messages in groupby(data["messages"], key=lambda m: m["at"]):
        moment = datetime.fromisoformat(at_text)
        console.print(Text(f"\n{moment:%H:%M %d/%m/%Y}", style="bold"))
        for message in messages:
            parts = f", {message['parts']} phần" if message["parts"] > 1 else ""
            where = message["address"] or "chưa có địa chỉ"
            console.print(
                Text(
                    f"  {message['channel_label']} → {message['recipient_name']} <{where}>: "
                    f"{len(message['items'])} mục{parts} — {message['subject']}"
                )
            )
            for number, item in enumerate(message["items"], start=1):
                role = f" ({label(ROLES, item['role'])})" if item["role"] == "cc" else ""
                about = item["task"] or item["period"] or ""
                console.print(Text(f"    {number}. {item['kind_label']} {about}{role}".rstrip()))
    if data["already_in_outbox"]:
        console.print(f"\n{data['already_in_outbox']} mục đã có trong hộp thư đi nên không tính lại.")
    for problem in data["problems"]:
        console.print(Text.assemble(("Cần sửa cấu hình: ", "yellow"), problem))
