"""``nhacviec units list|add|alias|set``: the unit directory, kept in the database (the web edits the same)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import console, open_store, settings
from plan.errors import UserError

app = typer.Typer(
    help="Danh bạ đơn vị (trong cơ sở dữ liệu): xem, thêm đơn vị, thêm tên gọi, sửa thông tin liên lạc.",
    no_args_is_help=True,
)

CodeArg = Annotated[str, typer.Argument(help="Mã đơn vị, ví dụ TCCB.")]
_CHANNEL_OPTIONS = {
    "email": "email",
    "telegram": "telegram_chat_id",
    "zalo": "zalo_user_id",
    "phone": "phone",
}


def _unit_json(unit: Any, office: str) -> dict[str, object]:
    def contacts(value: Any) -> dict[str, str | None]:
        return {
            "email": value.email,
            "telegram_chat_id": value.telegram_chat_id,
            "zalo_user_id": value.zalo_user_id,
            "phone": value.phone,
        }

    head = unit.head
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "aliases": list(unit.aliases),
        "supervisor": unit.supervisor,
        "office": unit.code == office,
        "contacts": contacts(unit.contacts),
        "head": {"name": head.name, "title": head.title, "contacts": contacts(head.contacts)}
        if head
        else None,
    }


@app.command("list", help="Các đơn vị trong danh bạ với tên gọi và kênh liên lạc.")
def list_(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    from cli.common import load_directory
    from vocabulary import CHANNEL_LABELS

    directory = load_directory()
    if as_json:
        print(
            json.dumps(
                [_unit_json(u, directory.office) for u in directory.units], ensure_ascii=False, indent=2
            )
        )
        return
    table = Table("Mã", "Tên", "Tên gọi khác", "Trưởng đơn vị", "Liên lạc", title="Danh bạ đơn vị")
    for unit in directory.units:
        channels = [
            label
            for label, value in (
                (CHANNEL_LABELS["email"], unit.contacts.email),
                (CHANNEL_LABELS["telegram"], unit.contacts.telegram_chat_id),
                (CHANNEL_LABELS["zalo"], unit.contacts.zalo_user_id),
                ("Điện thoại", unit.contacts.phone),
            )
            if value
        ]
        name = unit.name + (" (Văn phòng)" if unit.code == directory.office else "")
        head = f"{unit.head.name} — {unit.head.title}" if unit.head else "—"
        table.add_row(
            unit.code, name, "; ".join(unit.aliases) or "—", head, ", ".join(channels) or "[red]chưa có[/]"
        )
    console.print(table)


@app.command("add", help="Thêm một đơn vị vào danh bạ.")
def add(
    code: CodeArg,
    name: Annotated[str, typer.Argument(help="Tên đơn vị, ví dụ 'Phòng Khảo thí'.")],
    kind: Annotated[
        str, typer.Option("--kind", help="Loại: department, office, inspectorate, team, group...")
    ] = ("department"),
    aliases: Annotated[list[str] | None, typer.Option("--alias", help="Tên gọi khác (lặp lại được).")] = None,
    supervisor: Annotated[str | None, typer.Option("--supervisor", help="Mã lãnh đạo phụ trách.")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    telegram: Annotated[str | None, typer.Option("--telegram", help="Mã nhóm/chat Telegram.")] = None,
    zalo: Annotated[str | None, typer.Option("--zalo", help="Mã người dùng Zalo.")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
) -> None:
    from store.db import session_scope
    from store.directory import add_unit, load_directory

    contacts = {"email": email, "telegram_chat_id": telegram, "zalo_user_id": zalo, "phone": phone}
    with session_scope(open_store()) as session:
        load_directory(session, settings().units_file)  # seeded first, if this is a new database
        row = add_unit(
            session, code, name, kind=kind, aliases=aliases or (), supervisor=supervisor, contacts=contacts
        )
    console.print(f"Đã thêm đơn vị {row.code} — {row.name}.", highlight=False)
    if not any(contacts.values()):
        console.print(
            f"Đơn vị chưa có địa chỉ liên lạc: 'nhacviec units set {row.code} email=...'.", highlight=False
        )


@app.command("alias", help="Thêm (hoặc bỏ, với --remove) một tên gọi mà kế hoạch dùng cho đơn vị.")
def alias(
    code: CodeArg,
    name: Annotated[str, typer.Argument(help="Tên gọi như kế hoạch ghi, ví dụ 'P. Khảo thí'.")],
    remove: Annotated[bool, typer.Option("--remove", help="Bỏ tên gọi này.")] = False,
) -> None:
    from store.db import session_scope
    from store.directory import load_directory, set_alias

    with session_scope(open_store()) as session:
        load_directory(session, settings().units_file)
        row = set_alias(session, code, name, remove=remove)
    console.print(f"Tên gọi của {row.code}: {'; '.join(row.aliases) or '—'}.", highlight=False)


@app.command(
    "set",
    help="Sửa thông tin đơn vị: name, kind, supervisor, bundle (true/false: gộp tin), email, telegram_chat_id, zalo_user_id, phone, head.*.",
)
def set_(
    code: CodeArg,
    assignments: Annotated[list[str], typer.Argument(help="Một hoặc nhiều KHÓA=GIÁ_TRỊ (để trống để xoá).")],
) -> None:
    from store.db import session_scope
    from store.directory import load_directory, set_fields

    changes: dict[str, str] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep:
            raise UserError(f"'{assignment}' phải có dạng KHÓA=GIÁ_TRỊ, ví dụ email=tccb@so.gov.vn.")
        changes[key.strip()] = value
    with session_scope(open_store()) as session:
        load_directory(session, settings().units_file)
        row = set_fields(session, code, changes)
    console.print(f"Đã cập nhật đơn vị {row.code}: {', '.join(changes)}.", highlight=False)
