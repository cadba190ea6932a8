"""``nhacviec status``: is the service running, when did it last pass, what is waiting, what is broken."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import console, open_store, settings, tz
from vocabulary import CHANNEL_STATE, OUTBOX_STATUS, SCHEDULER_JOBS, label

if TYPE_CHECKING:
    from rules.channels import ChannelSpec


def collect() -> dict[str, Any]:
    import asyncio

    from rules.channels import CHANNELS
    from store.db import session_scope
    from store.outbox import config_problems, counts_by_status, last_deliveries, pending_by_channel
    from store.state import LAST_PASS, SCHEDULER, breaker_states, get_state
    from store.zalo_tokens import DatabaseTokenStore

    config = settings()
    engine = open_store()
    with session_scope(engine) as session:
        counts = counts_by_status(session)
        problems = [
            {"key": p.key, "message": p.message, "occurrences": p.occurrences}
            for p in config_problems(session)
        ]
        last = last_deliveries(session)
        pending = pending_by_channel(session)
    breakers = breaker_states(engine)
    now = datetime.now(tz())
    channels: dict[str, dict[str, Any]] = {}
    for code, spec in CHANNELS.items():
        configured = spec.configured(config)
        sent = last.get(code, {}).get("sent")
        written = last.get(code, {}).get("written")
        channels[code] = {
            "configured": configured,
            "sink": not configured,
            "last_sent_at": sent.isoformat() if sent else None,
            "last_written_at": written.isoformat() if written else None,
            "line": channel_line(spec, configured, sent, written, config.effective_sink_dir),
        }
        channels[code].update(waiting_lines(code, pending.get(code), breakers.get(code, {}), now))
    pair = asyncio.run(DatabaseTokenStore(engine).load())
    if pair is not None:
        from notifiers.zalo import expiry_warning, refresh_token_expiry

        expires, refresh_expires = pair.expires_at, refresh_token_expiry(pair)
        channels["zalo"].update(
            token_expires_at=expires.isoformat(),
            token_valid=expires > datetime.now(tz()),
            token_generation=pair.generation,
            refresh_token_expires_at=refresh_expires.isoformat() if refresh_expires else None,
            warning=expiry_warning(pair, datetime.now(tz()), tz()),
        )
    return {
        "last_pass": get_state(engine, LAST_PASS) or None,
        "scheduler": scheduler_truth(get_state(engine, SCHEDULER) or None, datetime.now(tz())),
        "outbox": counts,
        "dead_letters": counts.get("dead", 0),
        "failed": counts.get("failed", 0),
        "config_problems": problems,
        "channels": channels,
    }


def scheduler_truth(state: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """The recorded scheduler state, told truly: an "active" leader whose heartbeat stopped (killed, frozen) is
    "unresponsive", and a next run already past is not shown as to come."""
    if not state:
        return None
    state = dict(state)
    beat = state.get("heartbeat_at")
    every = float(state.get("heartbeat_seconds") or 5.0)
    if state.get("state") == "active":
        alive = beat is not None and (now - datetime.fromisoformat(beat)).total_seconds() <= 3 * every
        state["alive"] = alive
        if not alive:
            state["state"] = "unresponsive"
    runs = {}
    for job, at in (state.get("next_runs") or {}).items():
        moment = datetime.fromisoformat(at).astimezone(tz())
        runs[job] = moment.isoformat()
    state["next_runs"] = runs
    return state


_STATES = {"active": "đang chạy", "stopped": "đã dừng", "unresponsive": "không phản hồi"}


def channel_line(
    spec: ChannelSpec, configured: bool, sent: datetime | None, written: datetime | None, sink_dir: Path
) -> str:
    """One Vietnamese line: is the channel configured, and when did it last deliver (or write to a file)."""
    if configured:
        state = f"{spec.label}: {CHANNEL_STATE['configured']}"
        last = f"gửi gần nhất {_moment(sent)}" if sent else "chưa gửi tin nào"
        if written:
            last += f" (trước khi cấu hình, tin được ghi ra tệp; lần cuối {_moment(written)})"
        return f"{state}; {last}."
    state = f"{spec.label}: {CHANNEL_STATE['sink']} trong {sink_dir} (đặt {spec.settings_hint} để gửi thật)"
    last = f"ghi gần nhất {_moment(written)}" if written else "chưa ghi tin nào"
    if sent:
        last += f"; gửi thật lần cuối {_moment(sent)}"
    return f"{state}; {last}."


def waiting_lines(
    channel: str, pending: tuple[int, int, datetime] | None, breaker: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The channel's outage (its breaker open) and when its pending messages are really tried next."""
    from rules.channels import CHANNELS

    found: dict[str, Any] = {}
    label_ = CHANNELS[channel].label
    outage = breaker.get("state") == "open"
    probe = datetime.fromisoformat(breaker["probe_at"]) if outage and breaker.get("probe_at") else None
    if outage:
        since = datetime.fromisoformat(breaker["opened_at"]) if breaker.get("opened_at") else None
        found["outage"] = {
            "since": since.isoformat() if since else None,
            "probe_at": probe.isoformat() if probe else None,
            "error": breaker.get("last_error"),
        }
        found["outage_line"] = (
            f"{label_}: đang gián đoạn"
            + (f" từ {_moment(since)}" if since else "")
            + f" ({breaker.get('last_error') or 'không rõ lỗi'}); tin chờ kênh hoạt động lại, không mất lượt thử."
        )
    if pending is None:
        return found
    count, tried, earliest = pending
    next_try = max(earliest, probe) if probe else earliest
    found["pending"] = count
    found["next_attempt_at"] = next_try.astimezone(tz()).isoformat()
    if tried or outage:
        when = (
            "ngay ở lượt gửi tới (trong vòng một phút khi dịch vụ đang chạy)"
            if next_try <= now
            else f"lúc {_moment(next_try)}"
        )
        found["retry_line"] = f"{label_}: {count} tin chờ gửi, thử lại {when}."
    return found


def _moment(at: datetime, seconds: bool = False) -> str:
    return f"{at.astimezone(tz()):%H:%M:%S %d/%m/%Y}" if seconds else f"{at.astimezone(tz()):%H:%M %d/%m/%Y}"


def _pass_moment(at: str | None) -> str:
    """When the last pass ran, as every moment of this screen reads: "07:30 30/11/2026" in the settings' zone."""
    if not at:
        return "chưa rõ"
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _moment(moment)


def status(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    data = collect()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    last = data["last_pass"]
    scheduler = data["scheduler"]
    console.print(
        f"Lượt gần nhất: {_pass_moment(last.get('at')) if last else 'chưa chạy lượt nào'}", highlight=False
    )
    if scheduler:
        shown = _STATES.get(scheduler["state"], scheduler["state"])
        since = _moment(datetime.fromisoformat(scheduler["since"]))
        console.print(f"Bộ lập lịch: {shown} ({scheduler['worker']}, từ {since})", highlight=False)
        if scheduler["state"] == "unresponsive":
            beat = scheduler.get("heartbeat_at")
            last = _moment(datetime.fromisoformat(beat), seconds=True) if beat else "chưa rõ"
            console.print(
                f"[yellow]Tiến trình dẫn đầu không báo hiệu từ {last}: có thể đã dừng; "
                "bản dự phòng (nếu có) sẽ tiếp quản, hoặc chạy lại 'nhacviec run'.[/]",
                highlight=False,
            )
        elif scheduler["state"] == "active":
            for job, at in scheduler.get("next_runs", {}).items():
                console.print(
                    f"  lần chạy tới của việc {label(SCHEDULER_JOBS, job)}: {_moment(datetime.fromisoformat(at))}",
                    highlight=False,
                )
    else:
        console.print("Bộ lập lịch: chưa chạy ('nhacviec run').")
    console.print(
        "Hộp thư đi: "
        + (", ".join(f"{label(OUTBOX_STATUS, k)} {v}" for k, v in sorted(data["outbox"].items())) or "trống"),
        highlight=False,
    )
    console.print(f"Tin hết lượt thử: {data['dead_letters']}; tin lỗi: {data['failed']}")
    for info in data["channels"].values():
        line = info["line"]
        if "token_expires_at" in info:
            line += f" Token Zalo hết hạn {_moment(datetime.fromisoformat(info['token_expires_at']))} ('nhacviec zalo status' để xem thêm)."
        console.print(line, highlight=False, soft_wrap=True)
        if info.get("warning"):
            console.print(f"[yellow]{info['warning']}[/]", highlight=False)
        if info.get("outage_line"):
            console.print(f"[red]{info['outage_line']}[/]", highlight=False, soft_wrap=True)
        if info.get("retry_line"):
            console.print(info["retry_line"], highlight=False, soft_wrap=True)
    for problem in data["config_problems"]:
        console.print(
            f"[yellow]Cần sửa cấu hình:[/] {problem['message']} ({problem['occurrences']} lần)",
            highlight=False,
        )
