"""``nhacviec zalo``: the Official Account's tokens (state, and a new authorisation by an admin)."""

from __future__ import annotations

import asyncio

import typer

from cli.common import TZ, console, open_store

app = typer.Typer(help="Zalo OA: tình trạng token và cấp quyền lại.", no_args_is_help=True)


@app.command(
    "status", help="Token Zalo đang lưu: còn hạn đến khi nào, đã làm mới bao nhiêu lần (không in token)."
)
def status() -> None:
    from store.zalo_tokens import DatabaseTokenStore

    pair = asyncio.run(DatabaseTokenStore(open_store()).load())
    if pair is None:
        console.print(
            "Chưa có token Zalo: đặt NHACVIEC_ZALO_REFRESH_TOKEN rồi chạy dịch vụ, hoặc 'nhacviec zalo reauthorise'."
        )
        return
    console.print(
        f"Token truy cập hết hạn lúc {pair.expires_at.astimezone(TZ):%d/%m/%Y %H:%M}; đã làm mới {pair.generation} lần."
    )


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
