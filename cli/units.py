"""``nhacviec units list|add|alias|set``: the unit directory, kept in the database (the web edits the same)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import console, err_console, open_store, settings
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
    help="Sửa thông tin đơn vị: name, kind, supervisor, bundle (true/false: gộp tin), email, telegram_chat_id, zalo_user_id, phone, head.*; với mã lãnh đạo (GD, PGD1...): name, title, bundle và các địa chỉ.",
)
def set_(
    code: CodeArg,
    assignments: Annotated[list[str], typer.Argument(help="Một hoặc nhiều KHÓA=GIÁ_TRỊ (để trống để xoá).")],
) -> None:
    from store.db import session_scope
    from store.directory import load_directory, set_fields
    from store.models import Unit

    changes: dict[str, str] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep:
            raise UserError(f"'{assignment}' phải có dạng KHÓA=GIÁ_TRỊ, ví dụ email=tccb@so.gov.vn.")
        changes[key.strip()] = value
    with session_scope(open_store()) as session:
        load_directory(session, settings().units_file)
        row = set_fields(session, code, changes)
        who = "đơn vị" if isinstance(row, Unit) else "lãnh đạo"
    console.print(f"Đã cập nhật {who} {row.code}: {', '.join(changes)}.", highlight=False)


# --- invites -----------------------------------------------------------------------------------------

PersonOption = Annotated[
    str, typer.Option("--person", help="unit: nhóm/địa chỉ chung của đơn vị; head: trưởng đơn vị.")
]
ChannelOption = Annotated[str, typer.Option("--channel", help="telegram hoặc zalo.")]


def _moment(at: Any) -> str:
    from cli.common import tz

    return f"{at.astimezone(tz()):%H:%M %d/%m/%Y}"


@app.command(
    "invite",
    help="Tạo mã mời dùng một lần (hết hạn sau 7 ngày) để một nhóm/chat Telegram hoặc người dùng Zalo tự liên kết với đơn vị, trưởng đơn vị hoặc lãnh đạo.",
)
def invite(
    code: Annotated[str, typer.Argument(help="Mã đơn vị (TCCB) hoặc mã lãnh đạo (GD, PGD1).")],
    person: PersonOption = "unit",
    channel: ChannelOption = "telegram",
    days: Annotated[int, typer.Option("--days", help="Số ngày mã còn dùng được.", min=1, max=90)] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    from datetime import timedelta

    from cli.common import actor, now
    from inbound.invites import handover, qr_text
    from store.db import session_scope
    from store.directory import load_directory, target_code
    from store.invites import create_invite

    config = settings()
    with session_scope(open_store()) as session:
        load_directory(session, config.units_file)
        made = create_invite(
            session, target_code(code, person), channel, now=now(), actor=actor(), ttl=timedelta(days=days)
        )
        # the link needs the bot's name: asked before the transaction commits, so a failure keeps no code
        given = handover(config, channel, made.code, made.target.name)
    if as_json:
        payload = {
            "target": made.target.code,
            "name": made.target.name,
            "channel": channel,
            "code": made.code,
            "link": given.link,
            "group_link": given.group_link,
            "expires_at": made.invite.expires_at.isoformat(),
            "steps": list(given.steps),
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    console.print(
        f"Mã mời {channel} cho {made.target.name}: [bold]{made.code}[/] "
        f"(dùng một lần, hết hạn {_moment(made.invite.expires_at)}).",
        highlight=False,
    )
    if given.link:
        console.print(f"Liên kết: {given.link}", highlight=False, soft_wrap=True)
        print(qr_text(given.link), end="")
    for number, step in enumerate(given.steps, start=1):
        console.print(f"{number}. {step}", highlight=False, soft_wrap=True)
    console.print("Mã chỉ hiện lần này; ai giữ mã đều liên kết được, hãy gửi đúng người.", highlight=False)


@app.command(
    "invites", help="Các mã mời của một đơn vị (và trưởng đơn vị) hoặc lãnh đạo: trạng thái, ai đã tham gia."
)
def invites(
    code: Annotated[str, typer.Argument(help="Mã đơn vị hoặc mã lãnh đạo.")],
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    from cli.common import now
    from store.db import session_scope
    from store.directory import find_target, load_directory
    from store.invites import invites_for, invites_for_unit, state
    from vocabulary import INVITE_STATES, label

    moment = now()
    with session_scope(open_store()) as session:
        load_directory(session, settings().units_file)
        target = find_target(session, code)
        rows = (
            invites_for_unit(session, target.code)
            if target.kind == "unit"
            else invites_for(session, target.code)
        )
    listed = [
        {
            "id": row.id,
            "target": row.target,
            "channel": row.channel,
            "state": state(row, moment),
            "created_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat(),
            "used_at": row.used_at.isoformat() if row.used_at else None,
            "joined": row.bound_label,
            "address": row.bound_address,
        }
        for row in rows
    ]
    if as_json:
        print(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    if not listed:
        console.print(
            f"{target.name} chưa có mã mời nào: 'nhacviec units invite {target.code}'.", highlight=False
        )
        return
    table = Table("Số", "Cho", "Kênh", "Trạng thái", "Tạo lúc", "Hết hạn", "Người tham gia", title="Mã mời")
    for row, item in zip(rows, listed, strict=True):
        table.add_row(
            str(row.id),
            row.target,
            row.channel,
            label(INVITE_STATES, item["state"]),
            _moment(row.created_at),
            _moment(row.expires_at),
            f"{row.bound_label} — {_moment(row.used_at)}" if row.used_at else "—",
        )
    console.print(table)


@app.command("unbind", help="Gỡ liên kết Telegram hoặc Zalo của đơn vị, trưởng đơn vị hoặc lãnh đạo.")
def unbind(
    code: Annotated[str, typer.Argument(help="Mã đơn vị (TCCB) hoặc mã lãnh đạo (GD, PGD1).")],
    person: PersonOption = "unit",
    channel: ChannelOption = "telegram",
) -> None:
    from cli.common import now
    from store.db import session_scope
    from store.directory import load_directory, target_code
    from store.invites import unbind as unbind_target

    with session_scope(open_store()) as session:
        load_directory(session, settings().units_file)
        target, old = unbind_target(session, target_code(code, person), channel, now=now())
    if old is None:
        console.print(f"{target.name} không có liên kết {channel} nào để gỡ.", highlight=False)
    else:
        console.print(f"Đã gỡ liên kết {channel} {old} của {target.name}.", highlight=False)


# --- contacts from and to a sheet --------------------------------------------------------------------


@app.command(
    "import",
    help="Nạp danh bạ từ bảng tính (.xlsx, .csv): mỗi dòng một đơn vị hoặc một người; xem trước thay đổi, tất cả hoặc không gì cả.",
)
def import_(
    file: Annotated[Path, typer.Argument(help="Tệp danh bạ, ví dụ danh-ba.xlsx.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Chỉ xem trước, không ghi gì.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    from plan.contacts import read_contacts_file
    from store.contacts import apply, diff
    from store.db import session_scope
    from store.directory import load_directory

    sheet = read_contacts_file(file)
    with session_scope(open_store()) as session:
        load_directory(session, settings().units_file)
        found = diff(session, sheet)
        write = not found.problems and not dry_run and bool(found.changes)
        if write:
            apply(session, found.changes)
    if as_json:
        payload = {
            "ok": not found.problems,
            "applied": write,
            "changes": [change.as_json() for change in found.changes],
            "unchanged": found.unchanged,
            "problems": found.problems,
            "warnings": sheet.warnings,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        if found.problems:
            raise typer.Exit(1)
        return
    _print_diff(found.changes, found.unchanged)
    for warning in sheet.warnings:
        console.print(f"[yellow]Lưu ý:[/] {warning}", highlight=False, soft_wrap=True)
    if found.problems:
        for problem in found.problems:
            err_console.print(f"[red]Lỗi:[/] {problem}", highlight=False, soft_wrap=True)
        raise UserError(f"Danh bạ có {len(found.problems)} lỗi; chưa ghi gì, hãy sửa tệp rồi nạp lại.")
    if dry_run:
        console.print("Xem trước: chưa ghi gì (bỏ --dry-run để nạp).")
    elif write:
        console.print(f"Đã nạp danh bạ: {len(found.changes)} thay đổi.")


def _print_diff(changes: list[Any], unchanged: int) -> None:
    from store.contacts import FIELD_WORDS
    from vocabulary import label

    if not changes:
        console.print(f"Không có gì thay đổi ({unchanged} dòng giống danh bạ hiện có).")
        return
    table = Table("Dòng", "Ai", "Thay đổi", title="Thay đổi trong danh bạ")
    for change in changes:
        lines = [
            f"{label(FIELD_WORDS, name)}: {old or '(trống)'} → {new or '(trống)'}"
            for name, old, new in change.fields
        ]
        who = ("[green]Thêm[/] " if change.action == "add" else "") + f"{change.target} — {change.who}"
        table.add_row(str(change.row), who, "\n".join(lines))
    console.print(table)
    if unchanged:
        console.print(f"{unchanged} dòng không thay đổi.")


@app.command(
    "export", help="Xuất danh bạ ra bảng tính (.xlsx hoặc .csv) theo đúng mẫu mà 'units import' đọc."
)
def export(file: Annotated[Path, typer.Argument(help="Tệp sẽ ghi, ví dụ danh-ba.xlsx.")]) -> None:
    from cli.output_files import check_output_file, writing
    from plan.contacts import write_contacts_file
    from store.contacts import export_rows
    from store.db import session_scope
    from store.directory import load_directory

    if file.suffix.lower() not in (".xlsx", ".csv"):
        raise UserError(f"Tệp danh bạ xuất ra phải có đuôi .xlsx hoặc .csv (nhận được «{file.name}»).")
    check_output_file(file, "tệp danh bạ")
    with session_scope(open_store()) as session:
        load_directory(session, settings().units_file)
        rows = export_rows(session)
    with writing(file, "tệp danh bạ"):
        write_contacts_file(file, rows)
    console.print(f"Đã xuất {len(rows)} dòng danh bạ ra {file}.", highlight=False)
