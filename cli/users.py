"""``nhacviec users``: the web admin's accounts (add, change password, role, disable, list) and their sessions."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, open_store, tz
from vocabulary import USER_ROLES

app = typer.Typer(help="Tài khoản đăng nhập trang quản trị web.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Đọc mật khẩu từ dòng đầu của đầu vào chuẩn (cho script)."),
]


def _has_terminal() -> bool:
    return sys.stdin.isatty()


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice without echo."""
    from plan.errors import UserError

    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise UserError("Không đọc được mật khẩu từ đầu vào chuẩn (dòng đầu trống).")
        return password
    if not _has_terminal():  # getpass would read it echoed and warn in English
        raise UserError(
            "Không có bàn phím để gõ mật khẩu (đầu vào không phải terminal): "
            "hãy dùng --password-stdin và đưa mật khẩu ở dòng đầu của đầu vào chuẩn."
        )
    password = typer.prompt("Mật khẩu", hide_input=True)
    again = typer.prompt("Nhập lại mật khẩu", hide_input=True)
    if password != again:
        raise UserError("Hai lần nhập mật khẩu không khớp; chưa thay đổi gì.")
    return password


def _unit_code(text: str) -> str:
    """A unit as typed ("Phòng TCCB", "tccb") resolved through the unit directory to one code."""
    from cli.common import load_directory
    from plan.errors import UserError

    codes = load_directory().resolve(text)
    if len(codes) != 1:
        raise UserError(f"'{text}' chỉ {len(codes)} đơn vị ({', '.join(codes)}); hãy chọn một.")
    return codes[0]


@app.command(
    "add", help="Tạo tài khoản: vai trò admin (quản trị), viewer (xem) hoặc unit (đơn vị, cần --unit)."
)
def add(
    name: Annotated[str, typer.Argument(help="Tên đăng nhập, ví dụ nguyen.van.a")],
    role: Annotated[str, typer.Option("--role", help="admin | viewer | unit")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Đơn vị của tài khoản vai trò unit (mã hoặc tên).")
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    from plan.errors import UserError
    from store.db import session_scope
    from store.users import add_user, check_name, check_password, get_user

    key = check_name(name)  # said before the password is asked for
    unit_code = _unit_code(unit) if unit else None
    engine = open_store()
    with session_scope(engine) as session:
        if get_user(session, key) is not None:
            raise UserError(f"Tài khoản '{key}' đã có; đổi mật khẩu bằng 'nhacviec users passwd {key}'.")
    password = _password(password_stdin)
    check_password(password)
    with session_scope(engine) as session:
        user = add_user(session, name, password, role, unit_code)
    where = f", đơn vị {user.unit_code}" if user.unit_code else ""
    console.print(f"Đã tạo tài khoản {user.name} (vai trò {USER_ROLES[user.role]}{where}).", highlight=False)


@app.command("passwd", help="Đổi mật khẩu một tài khoản (các phiên đăng nhập cũ của tài khoản bị đăng xuất).")
def passwd(
    name: Annotated[str, typer.Argument(help="Tên đăng nhập.")],
    password_stdin: PasswordStdin = False,
) -> None:
    from plan.errors import UserError
    from store.db import session_scope
    from store.users import get_user, set_password

    engine = open_store()
    with session_scope(engine) as session:
        if get_user(session, name) is None:
            raise UserError(f"Không có tài khoản '{name}' (xem 'nhacviec users list').")
    password = _password(password_stdin)
    with session_scope(engine) as session:
        user = set_password(session, name, password)
    console.print(f"Đã đổi mật khẩu tài khoản {user.name}.", highlight=False)


@app.command("list", help="Danh sách tài khoản (không bao giờ in mật khẩu).")
def list_() -> None:
    from store.db import session_scope
    from store.users import list_users

    with session_scope(open_store()) as session:
        users = list_users(session)
    if not users:
        console.print("Chưa có tài khoản nào: tạo bằng 'nhacviec users add TÊN --role admin'.")
        return
    table = Table("Tên đăng nhập", "Vai trò", "Đơn vị", "Tạo lúc", "Đổi mật khẩu lúc", "Trạng thái")
    for user in users:
        table.add_row(
            user.name,
            USER_ROLES.get(user.role, user.role),
            user.unit_code or "",
            f"{user.created_at.astimezone(tz()):%d/%m/%Y %H:%M}",
            f"{user.password_changed_at.astimezone(tz()):%d/%m/%Y %H:%M}",
            "đã khóa" if user.disabled else "đang dùng",
        )
    console.print(table)


@app.command(
    "role", help="Đổi vai trò (và đơn vị) của một tài khoản; các phiên đăng nhập của tài khoản kết thúc."
)
def role(
    name: Annotated[str, typer.Argument(help="Tên đăng nhập.")],
    new_role: Annotated[str, typer.Argument(metavar="VAI_TRO", help="admin | viewer | unit")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Đơn vị của tài khoản vai trò unit (mã hoặc tên).")
    ] = None,
) -> None:
    from store.db import session_scope
    from store.users import set_role
    from vocabulary import USER_ROLES

    unit_code = _unit_code(unit) if unit else None
    with session_scope(open_store()) as session:
        user = set_role(session, name, new_role, unit_code)
    where = f", đơn vị {user.unit_code}" if user.unit_code else ""
    console.print(
        f"Tài khoản {user.name} nay có vai trò {USER_ROLES[user.role]}{where}; các phiên đăng nhập cũ đã kết thúc.",
        highlight=False,
    )


@app.command("disable", help="Khóa một tài khoản: không đăng nhập được nữa, các phiên đang mở kết thúc ngay.")
def disable(name: Annotated[str, typer.Argument(help="Tên đăng nhập.")]) -> None:
    from store.db import session_scope
    from store.users import set_disabled

    with session_scope(open_store()) as session:
        user = set_disabled(session, name, True)
    console.print(
        f"Đã khóa tài khoản {user.name}; các phiên đăng nhập của tài khoản đã kết thúc.", highlight=False
    )


@app.command("enable", help="Mở lại một tài khoản đã khóa.")
def enable(name: Annotated[str, typer.Argument(help="Tên đăng nhập.")]) -> None:
    from store.db import session_scope
    from store.users import set_disabled

    with session_scope(open_store()) as session:
        user = set_disabled(session, name, False)
    console.print(f"Đã mở lại tài khoản {user.name}.", highlight=False)


@app.command("sessions", help="Các phiên đăng nhập trang quản trị đang mở (ai, từ đâu, từ lúc nào).")
def sessions(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    import json

    from store.db import session_scope
    from store.web_sessions import live_sessions, session_json

    with session_scope(open_store()) as session:
        rows = [session_json(row, user) for row, user in live_sessions(session)]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("Không có phiên đăng nhập nào đang mở.")
        return
    table = Table("Mã phiên", "Tài khoản", "Từ lúc", "Lần cuối", "Hết hạn", "Địa chỉ", "Trình duyệt")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["user"]),
            *(
                f"{datetime.fromisoformat(str(row[k])).astimezone(tz()):%d/%m/%Y %H:%M}"
                for k in ("created_at", "last_seen_at", "expires_at")
            ),
            str(row["address"] or ""),
            str(row["agent"] or "")[:40],
        )
    console.print(table)


@app.command(
    "end-session",
    help="Kết thúc một phiên đăng nhập (theo mã phiên) hoặc mọi phiên của một tài khoản (--user).",
)
def end_session(
    session_id: Annotated[
        int | None, typer.Argument(metavar="MA_PHIEN", help="Mã phiên (xem 'nhacviec users sessions').")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Kết thúc mọi phiên của tài khoản này.")] = None,
) -> None:
    from plan.errors import UserError
    from store.db import session_scope
    from store.web_sessions import end_session as end_one
    from store.web_sessions import end_sessions_of

    if (session_id is None) == (user is None):
        raise UserError("Hãy nêu một mã phiên hoặc --user TÊN (xem 'nhacviec users sessions').")
    with session_scope(open_store()) as session:
        if user is not None:
            count = end_sessions_of(session, user, "admin")
            console.print(f"Đã kết thúc {count} phiên đăng nhập của tài khoản {user}.", highlight=False)
            return
        if not end_one(session, session_id=session_id, reason="admin"):
            raise UserError(f"Không có phiên đang mở nào mã {session_id} (xem 'nhacviec users sessions').")
    console.print(f"Đã kết thúc phiên {session_id}.", highlight=False)
