"""``nhacviec ics``: the tokens in the addresses of calendar feeds (create, list, revoke)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.common import actor, console, open_store, settings, tz

app = typer.Typer(
    help="Địa chỉ lịch (ICS) theo dõi hạn nhiệm vụ: tạo, xem, thu hồi mã.", no_args_is_help=True
)


def feed_url(base_url: str | None, unit_code: str | None, token: str, alarm: int | None = None) -> str:
    """The feed's address; ``alarm`` (working days before each due day, 0 = none) is written only when it
    is not the feed's default."""
    from store.ics import DEFAULT_ALARM_DAYS

    path = f"/ics/{unit_code or 'all'}.ics?token={token}"
    if alarm is not None and alarm != DEFAULT_ALARM_DAYS:
        path += f"&alarm={alarm}"
    return f"{base_url.rstrip('/')}{path}" if base_url else path


@app.command(
    "create",
    help="Tạo mã lịch cho một đơn vị (các nhiệm vụ đơn vị chủ trì) hoặc --all (cả kế hoạch, cho lãnh đạo).",
)
def create(
    unit: Annotated[str | None, typer.Argument(help="Đơn vị (mã hoặc tên, như 'Phòng TCCB').")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Lịch của cả kế hoạch.")] = False,
    alarm: Annotated[
        int | None,
        typer.Option(
            "--alarm",
            help="Nhắc trên lịch N ngày làm việc trước mỗi hạn, vào giờ gửi tin (0: không nhắc; mặc định 3, "
            "như lịch tạo trên trang web).",
            metavar="N",
        ),
    ] = None,
) -> None:
    from cli.common import load_directory
    from plan.errors import UserError
    from store.db import session_scope
    from store.ics import DEFAULT_ALARM_DAYS, MAX_ALARM_DAYS, create_token

    if bool(unit) == all_:
        raise UserError("Hãy ghi một đơn vị (ví dụ: nhacviec ics create TCCB) hoặc --all, không cả hai.")
    if alarm is not None and not 0 <= alarm <= MAX_ALARM_DAYS:
        raise UserError(
            f"--alarm {alarm} không hợp lệ: ghi số ngày làm việc nhắc trước hạn, từ 0 (không nhắc) "
            f"đến {MAX_ALARM_DAYS}."
        )
    days = DEFAULT_ALARM_DAYS if alarm is None else alarm
    unit_code = None
    if unit:
        codes = load_directory().resolve(unit)
        if len(codes) != 1:
            raise UserError(f"'{unit}' chỉ {len(codes)} đơn vị ({', '.join(codes)}); hãy chọn một.")
        unit_code = codes[0]
    with session_scope(open_store()) as session:
        new = create_token(session, unit_code, created_by=actor())
        token_id = new.record.id
    what = f"đơn vị {unit_code}" if unit_code else "cả kế hoạch"
    console.print(f"Đã tạo mã lịch số {token_id} cho {what}. Địa chỉ lịch (chỉ hiện một lần, hãy lưu lại):")
    console.print(feed_url(settings().base_url, unit_code, new.token, days), highlight=False, soft_wrap=True)
    reminder = f"{days} ngày làm việc trước mỗi hạn, vào giờ gửi tin" if days else "không nhắc"
    console.print(f"Nhắc trên lịch: {reminder}.", highlight=False)
    if not settings().base_url:
        console.print("Ghép địa chỉ trên sau địa chỉ trang web (đặt NHACVIEC_BASE_URL để in đủ).")


@app.command("list", help="Các mã lịch đã tạo (không in mã, chỉ số, đơn vị và tình trạng).")
def list_() -> None:
    from store.db import session_scope
    from store.ics import list_tokens

    with session_scope(open_store()) as session:
        tokens = list_tokens(session)
    if not tokens:
        console.print(
            "Chưa có mã lịch nào: tạo bằng 'nhacviec ics create ĐƠN_VỊ' hoặc 'nhacviec ics create --all'."
        )
        return
    table = Table("Số", "Lịch của", "Tạo lúc", "Người tạo", "Tình trạng")
    for token in tokens:
        state = (
            f"đã thu hồi {token.revoked_at.astimezone(tz()):%d/%m/%Y %H:%M}"
            if token.revoked_at
            else "đang dùng"
        )
        table.add_row(
            str(token.id),
            token.unit_code or "cả kế hoạch",
            f"{token.created_at.astimezone(tz()):%d/%m/%Y %H:%M}",
            token.created_by,
            state,
        )
    console.print(table)


@app.command("revoke", help="Thu hồi một mã lịch: địa chỉ lịch đó không dùng được nữa.")
def revoke(token_id: Annotated[int, typer.Argument(help="Số của mã (xem 'nhacviec ics list').")]) -> None:
    from store.db import session_scope
    from store.ics import revoke_token

    with session_scope(open_store()) as session:
        record = revoke_token(session, token_id)
    console.print(f"Đã thu hồi mã lịch số {record.id} ({record.unit_code or 'cả kế hoạch'}).")
