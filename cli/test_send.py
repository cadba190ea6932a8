"""``nhacviec test-send``: a short test message to a unit, its head or a leader, through the outbox."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from cli.common import console, load_directory, now, open_store, settings
from plan.errors import UserError


def test_send(
    to: Annotated[
        str, typer.Option("--to", help="Mã đơn vị (TCCB), trưởng đơn vị (TCCB.head) hoặc lãnh đạo (PGD1).")
    ],
    channel: Annotated[
        list[str] | None,
        typer.Option(
            "--channel", help="email, telegram hoặc zalo (lặp lại được); mặc định: mọi kênh có địa chỉ."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    """Put a test message for each channel into the outbox and send what is due now (it included)."""
    from delivery.pipeline import send_test
    from rules.channels import CHANNELS
    from vocabulary import CHANNEL_LABELS, DISPATCH_OUTCOMES, label

    for name in channel or ():
        if name not in CHANNELS:
            raise UserError(f"Kênh '{name}' không có; chọn: {', '.join(CHANNELS)}.")
    directory = load_directory()
    try:
        directory.get(to.removesuffix(".head")) or directory.leader(to)
    except KeyError:
        raise UserError(
            f"Không có đơn vị hay lãnh đạo mã '{to}' trong danh bạ ('nhacviec units list')."
        ) from None
    if to.endswith(".head") and directory.unit(to.removesuffix(".head")).head is None:
        raise UserError(f"Đơn vị {to.removesuffix('.head')} chưa có trưởng đơn vị trong danh bạ.")
    config = settings()
    prepared, rows = asyncio.run(send_test(open_store(), config, directory, to, channel or [], now=now()))
    if not prepared.messages and not prepared.refused:
        raise UserError(
            f"{to} chưa có địa chỉ nào trong danh bạ: 'nhacviec units import' hoặc 'nhacviec units invite'."
        )
    results = []
    for message in prepared.messages:
        row = rows.get(message.channel)
        outcome = row.status if row else "pending"  # sent, written (to the file sink), pending, failed...
        results.append(
            {"channel": message.channel, "address": message.address, "outcome": outcome, "key": message.key,
             "error": row.last_error if row else None}
        )  # fmt: skip
    results += [
        {"channel": c, "address": None, "outcome": "refused", "key": None, "error": e}
        for c, e in prepared.refused.items()
    ]
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for result in results:
            word = (
                "không gửi" if result["outcome"] == "refused" else label(DISPATCH_OUTCOMES, result["outcome"])
            )
            where = f" tới {result['address']}" if result["address"] else ""
            detail = f": {result['error']}" if result["error"] else ""
            console.print(
                f"{label(CHANNEL_LABELS, result['channel'])}{where} — {word}{detail}",
                highlight=False,
                soft_wrap=True,
            )
    if any(r["outcome"] not in ("sent", "written") for r in results):
        raise typer.Exit(1)
