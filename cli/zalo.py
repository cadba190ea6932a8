"""``nhacviec zalo``: the Official Account's tokens (state, and a new authorisation by an admin)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any

import typer

from cli.common import console, now, open_store, tz

app = typer.Typer(help="Zalo OA: tình trạng token và cấp quyền lại.", no_args_is_help=True)


def _moment(at: datetime) -> str:
    return f"{at.astimezone(tz()):%d/%m/%Y %H:%M}"


def token_status(at: datetime) -> dict[str, Any] | None:
    """The stored token's state at ``at``: ages, expiries, the last refresh (never a token itself)."""
    from notifiers.zalo import expiry_warning, refresh_token_expiry
    from store.zalo_tokens import DatabaseTokenStore

    store = DatabaseTokenStore(open_store())
    pair = asyncio.run(store.load())
    if pair is None:
        return None
    outcome = asyncio.run(store.last_refresh())
    expiry = refresh_token_expiry(pair)
    return {
        "generation": pair.generation,
        "access_token_expires_at": pair.expires_at.isoformat() if pair.access_token else None,
        "refresh_token_issued_at": pair.issued_at.isoformat() if pair.issued_at else None,
        "refresh_token_age_days": (at - pair.issued_at).days if pair.issued_at else None,
        "refresh_token_expires_at": expiry.isoformat() if expiry else None,
        "last_refresh": (
            {"at": outcome.at.isoformat(), "ok": outcome.ok, "error": outcome.error} if outcome else None
        ),
        "warning": expiry_warning(pair, at, tz()),
    }


@app.command(
    "status",
    help="Token Zalo đang lưu: tuổi, hạn dùng, lần làm mới gần nhất và kết quả (không in token).",
)
def status(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    state = token_status(now())
    if as_json:
        print(json.dumps(state, ensure_ascii=False, indent=2))
        return
    if state is None:
        console.print(
            "Chưa có token Zalo: đặt NHACVIEC_ZALO_REFRESH_TOKEN rồi chạy dịch vụ, hoặc 'nhacviec zalo reauthorise'."
        )
        return
    access = state["access_token_expires_at"]
    console.print(
        (
            f"Token truy cập hết hạn lúc {_moment(datetime.fromisoformat(access))}"
            if access
            else "Chưa có token truy cập"
        )
        + f"; đã làm mới {state['generation']} lần."
    )
    if state["refresh_token_issued_at"]:
        console.print(
            f"Refresh token cấp lúc {_moment(datetime.fromisoformat(state['refresh_token_issued_at']))} "
            f"({state['refresh_token_age_days']} ngày trước); nếu không được làm mới sẽ hết hạn khoảng "
            f"{datetime.fromisoformat(state['refresh_token_expires_at']).astimezone(tz()):%d/%m/%Y}."
        )
    last = state["last_refresh"]
    if last is None:
        console.print("Lần làm mới gần nhất: chưa có.")
    elif last["ok"]:
        console.print(f"Lần làm mới gần nhất: {_moment(datetime.fromisoformat(last['at']))}, thành công.")
    else:
        console.print(
            f"Lần làm mới gần nhất: {_moment(datetime.fromisoformat(last['at']))}, không thành công: {last['error']}",
            highlight=False,
        )
    if state["warning"]:
        console.print(f"[yellow]{state['warning']}[/]", highlight=False)


@app.command(
    "reauthorise",
    help="Nhập refresh token mới (sau khi Zalo từ chối làm mới); token được hỏi kín, không in ra.",
)
def reauthorise() -> None:
    from store.zalo_tokens import DatabaseTokenStore

    token = typer.prompt("Refresh token mới", hide_input=True).strip()
    if not token:
        raise typer.BadParameter("Token trống.")
    pair = asyncio.run(DatabaseTokenStore(open_store()).reauthorise(token))
    console.print(
        f"Đã lưu refresh token mới (lần {pair.generation}); lượt gửi kế tiếp sẽ lấy token truy cập mới."
    )
