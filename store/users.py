"""People who sign in to the web admin: accounts, roles and Argon2 password hashes.

Passwords are never stored: only their Argon2id hash (argon2-cffi's
``PasswordHasher``), which carries its own salt and cost parameters, so a hash
made with other parameters still verifies and is upgraded at the next sign-in.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import datetime
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from plan.errors import UserError
from plan.text import nfc
from store.models import Unit, User, UserRole, utcnow

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # hashing a megabyte on every sign-in attempt is a cheap denial of service
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

DEFAULT_HASHER = PasswordHasher()


class UserAccountError(UserError):
    """An account cannot be created or changed as asked; the message says why, in Vietnamese."""


def normalise_name(name: str) -> str:
    """Sign-in names are compared lower-cased and trimmed ("Admin " is "admin")."""
    return nfc(name).strip().lower()


def check_name(name: str) -> str:
    key = normalise_name(name)
    if not _NAME.match(key):
        raise UserAccountError(
            f"Tên đăng nhập '{name}' không hợp lệ: dùng 2-64 ký tự gồm chữ cái không dấu, chữ số, '.', '_' "
            "hoặc '-', bắt đầu bằng chữ cái hoặc chữ số (ví dụ: nguyen.van.a)."
        )
    return key


def check_password(password: str) -> None:
    """The password policy: long enough to resist guessing, short enough to hash cheaply."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserAccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserAccountError(f"Mật khẩu dài quá {MAX_PASSWORD_CHARS} ký tự.")
    if not password.strip():
        raise UserAccountError("Mật khẩu không được chỉ gồm khoảng trắng.")


def _check_role(session: Session, role: str, unit_code: str | None) -> tuple[UserRole, str | None]:
    try:
        checked = UserRole(role)
    except ValueError:
        raise UserAccountError(
            f"Vai trò '{role}' không hợp lệ: dùng admin (quản trị), viewer (xem) hoặc unit (đơn vị)."
        ) from None
    if checked == UserRole.UNIT:
        if not unit_code:
            raise UserAccountError("Tài khoản vai trò 'unit' cần chỉ rõ đơn vị (--unit).")
        if session.get(Unit, unit_code) is None:
            raise UserAccountError(f"Không có đơn vị mã '{unit_code}' trong cơ sở dữ liệu;").with_fix("init")
        return checked, unit_code
    if unit_code:
        raise UserAccountError(f"Chỉ tài khoản vai trò 'unit' mới gắn với một đơn vị (vai trò '{role}').")
    return checked, None


def get_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == normalise_name(name))).first()


def get_user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.name))))


def add_user(
    session: Session,
    name: str,
    password: str,
    role: str,
    unit_code: str | None = None,
    *,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> User:
    """Create an account; the password is checked against the policy and stored only as a hash."""
    key = check_name(name)
    checked_role, unit = _check_role(session, role, unit_code)
    check_password(password)
    if get_user(session, key) is not None:
        raise UserAccountError(f"Tài khoản '{key}' đã có;").with_fix("passwd", user=key)
    user = User(name=key, password_hash=hasher.hash(password), role=checked_role, unit_code=unit)
    session.add(user)
    session.flush()
    return user


def set_password(
    session: Session,
    name: str,
    password: str,
    *,
    hasher: PasswordHasher = DEFAULT_HASHER,
    now: datetime | None = None,
) -> User:
    """Change a password; sessions opened with the old one stop working (see ``password_changed_at``)."""
    user = get_user(session, name)
    if user is None:
        raise UserAccountError(f"Không có tài khoản '{name}'.")
    check_password(password)
    user.password_hash = hasher.hash(password)
    user.password_changed_at = now or utcnow()
    session.add(user)
    session.flush()
    _end_sessions(session, user, "password")
    return user


def _end_sessions(session: Session, user: User, reason: str) -> None:
    from store.web_sessions import end_user_sessions

    if user.id is not None:
        end_user_sessions(session, user.id, reason)


def _keep_an_admin(session: Session, user: User, doing: str) -> None:
    """Refuse to take the last enabled admin away: nobody could manage accounts on the web after it.

    Every enabled admin's row is locked (PostgreSQL; SQLite has one writer at a time) in one order, so two
    admins taken away at the same moment cannot each count the other: the second waits for the first,
    then sees what it changed.
    """
    if user.role != UserRole.ADMIN or user.disabled:
        return
    admins = session.exec(
        select(User.id)
        .where(User.role == UserRole.ADMIN, User.disabled == False)  # noqa: E712
        .order_by(col(User.id))
        .with_for_update()
    ).all()
    if not [admin for admin in admins if admin != user.id]:
        raise UserAccountError(
            f"Không thể {doing} tài khoản {user.name}: đây là tài khoản quản trị cuối cùng còn dùng được; "
            "hãy tạo hoặc mở lại một tài khoản quản trị khác trước."
        )


def set_role(
    session: Session, name: str, role: str, unit_code: str | None = None, *, keep_an_admin: bool = False
) -> User:
    """A new role (and unit) for an account; its sessions end (they were opened with the old rights).

    With ``keep_an_admin`` (the web), the last enabled admin cannot be given another role; the command
    line, the way back in, may.
    """
    user = get_user(session, name)
    if user is None:
        raise UserAccountError(f"Không có tài khoản '{name}'.")
    checked_role, unit = _check_role(session, role, unit_code)
    if keep_an_admin and checked_role != UserRole.ADMIN:
        _keep_an_admin(session, user, "đổi vai trò")
    user.role, user.unit_code = checked_role, unit
    session.add(user)
    session.flush()
    _end_sessions(session, user, "role")
    return user


def set_disabled(session: Session, name: str, disabled: bool, *, keep_an_admin: bool = False) -> User:
    """Disable (its sessions end at once) or enable an account; ``keep_an_admin`` as for :func:`set_role`."""
    user = get_user(session, name)
    if user is None:
        raise UserAccountError(f"Không có tài khoản '{name}'.")
    if keep_an_admin and disabled:
        _keep_an_admin(session, user, "khóa")
    user.disabled = disabled
    session.add(user)
    session.flush()
    if disabled:
        _end_sessions(session, user, "disabled")
    return user


def verify_password(
    session: Session, name: str, password: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> User | None:
    """The account if ``password`` is its password and it is enabled; None otherwise (never says which).

    A hash made with weaker parameters than ``hasher``'s is replaced on success.
    """
    user = get_user(session, name) if len(password) <= MAX_PASSWORD_CHARS else None
    if user is None:
        _spend_time(hasher, password)
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user.disabled:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        session.add(user)
        session.flush()
    return user


@lru_cache(maxsize=8)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("nhacviec: no such user")


def _spend_time(hasher: PasswordHasher, password: str) -> None:
    """Verify against a dummy hash, so an unknown name costs as much time as a wrong password."""
    with suppress(VerificationError):
        hasher.verify(_dummy_hash(hasher), password[:MAX_PASSWORD_CHARS])
