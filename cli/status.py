"""``nhacviec status``: is the service running, when did it last pass, what is waiting, what is broken."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.common import TZ, console, open_store, settings


def collect() -> dict[str, Any]:
    import asyncio
    from datetime import datetime

    from delivery.channels import CHANNELS, is_configured
    from store.db import session_scope
    from store.outbox import config_problems, counts_by_status
    from store.state import LAST_PASS, SCHEDULER, get_state
    from store.zalo_tokens import DatabaseTokenStore

    config = settings()
    engine = open_store()
    with session_scope(engine) as session:
        counts = counts_by_status(session)
        problems = [
            {"key": p.key, "message": p.message, "occurrences": p.occurrences}
            for p in config_problems(session)
        ]
    channels: dict[str, dict[str, Any]] = {}
    for channel in CHANNELS:
        configured = is_configured(config, channel)
        channels[channel] = {"configured": configured, "sink": not configured}
    pair = asyncio.run(DatabaseTokenStore(engine).load())
    if pair is not None:
        from notifiers.zalo import expiry_warning, refresh_token_expiry

        expires, refresh_expires = pair.expires_at, refresh_token_expiry(pair)
        channels["zalo"].update(
            token_expires_at=expires.isoformat(),
            token_valid=expires > datetime.now(TZ),
            token_generation=pair.generation,
            refresh_token_expires_at=refresh_expires.isoformat() if refresh_expires else None,
            warning=expiry_warning(pair, datetime.now(TZ), TZ),
        )
    return {
        "last_pass": get_state(engine, LAST_PASS) or None,
        "scheduler": get_state(engine, SCHEDULER) or None,
        "outbox": counts,
        "dead_letters": counts.get("dead", 0),
        "failed": counts.get("failed", 0),
        "config_problems": problems,
        "channels": channels,
    }


def status(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    data = collect()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    last = data["last_pass"]
    scheduler = data["scheduler"]
    console.print(f"Lượt gần nhất: {last['at'] if last else 'chưa chạy lượt nào'}")
    if scheduler:
        console.print(f"Bộ lập lịch: {scheduler['state']} ({scheduler['worker']}, từ {scheduler['since']})")
        for job, at in scheduler.get("next_runs", {}).items():
            console.print(f"  lần chạy tới của '{job}': {at}")
    else:
        console.print("Bộ lập lịch: chưa chạy ('nhacviec run').")
    console.print(
        "Hộp thư đi: " + (", ".join(f"{k} {v}" for k, v in sorted(data["outbox"].items())) or "trống")
    )
    console.print(f"Tin hết lượt thử: {data['dead_letters']}; tin lỗi: {data['failed']}")
    for channel, info in data["channels"].items():
        state = "đã cấu hình" if info["configured"] else "chưa cấu hình (ghi ra tệp)"
        if "token_expires_at" in info:
            state += f"; token hết hạn {info['token_expires_at']} ('nhacviec zalo status' để xem thêm)"
        console.print(f"Kênh {channel}: {state}")
        if info.get("warning"):
            console.print(f"[yellow]{info['warning']}[/]", highlight=False)
    for problem in data["config_problems"]:
        console.print(
            f"[yellow]Cần sửa cấu hình:[/] {problem['message']} ({problem['occurrences']} lần)",
            highlight=False,
        )
