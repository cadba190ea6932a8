"""Accounts on the web: an admin creates, changes and disables them; everyone changes their own password.

The command line (`nhacviec users ...`) stays the way back in: the web refuses to demote or disable the
last enabled admin, the command line may. Every change that alters what a session may do ends the
account's sessions (store/users.py); changing one's own password keeps this browser signed in with a
fresh session and ends the others.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from plan.errors import UserError
from store.db import session_scope
from store.users import (
    add_user,
    check_password,
    get_user,
    list_users,
    set_disabled,
    set_password,
    set_role,
    verify_password,
)
from store.web_sessions import live_sessions
from web.deps import SignedIn, Text, client_address, context, csrf_protect, error_text, render
from web.permissions import Action, Principal, require
from web.routes.auth import begin_session

router = APIRouter()

FLASHES = {
    "added": "Đã tạo tài khoản {name}.",
    "role": "Đã đổi vai trò của {name}; các phiên đăng nhập của tài khoản đã kết thúc.",
    "disabled": "Đã khóa tài khoản {name}; các phiên đăng nhập của tài khoản đã kết thúc.",
    "enabled": "Đã mở lại tài khoản {name}.",
    "password": "Đã đặt mật khẩu mới cho {name}; các phiên đăng nhập của tài khoản đã kết thúc.",
}
MISMATCH = "Hai lần nhập mật khẩu mới không giống nhau: hãy nhập lại."


def _unit_codes(request: Request) -> list[str]:
    return sorted(unit.code for unit in context(request).directory().units)


def _page(
    request: Request,
    status_code: int = 200,
    *,
    flash: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    ctx = context(request)
    with session_scope(ctx.engine) as db:
        signed = {account.id for _, account in live_sessions(db, ctx.now())}
        rows = [
            {
                "name": account.name,
                "role": account.role,
                "unit": account.unit_code or "",
                "disabled": account.disabled,
                "created": account.created_at,
                "password_changed": account.password_changed_at,
                "signed_in": account.id in signed,
            }
            for account in list_users(db)
        ]
    return render(
        request,
        "users.html",
        status_code,
        rows=rows,
        units=_unit_codes(request),
        flash=flash,
        error=error,
        form=form or {},
    )


def _done(what: str, name: str) -> Response:
    return RedirectResponse(f"/users?done={what}&name={quote(name)}", status_code=303)


@router.get("/users")
def users_page(request: Request, user: SignedIn, done: str = "", name: str = "") -> Response:
    require(user, Action.MANAGE_USERS)
    flash = FLASHES[done].format(name=name) if done in FLASHES else None
    return _page(request, flash=flash)


@router.post("/users", dependencies=[Depends(csrf_protect)])
def add(
    request: Request,
    user: SignedIn,
    name: Text = "",
    role: Text = "viewer",
    unit: Text = "",
    password: Text = "",
    password_again: Text = "",
) -> Response:
    require(user, Action.MANAGE_USERS)
    form = {"name": name, "role": role, "unit": unit}
    if password != password_again:
        return _page(request, 400, error=MISMATCH, form=form)
    try:
        with session_scope(context(request).engine) as db:
            account = add_user(db, name, password, role, unit.strip() or None, hasher=context(request).hasher)
            created = account.name
    except UserError as error:
        return _page(request, 400, error=error_text(error), form=form)
    return _done("added", created)


@router.post("/users/{name}/role", dependencies=[Depends(csrf_protect)])
def change_role(request: Request, user: SignedIn, name: str, role: Text = "", unit: Text = "") -> Response:
    require(user, Action.MANAGE_USERS)
    try:
        with session_scope(context(request).engine) as db:
            set_role(db, name, role, unit.strip() or None, keep_an_admin=True)
    except UserError as error:
        return _page(request, 400, error=error_text(error))
    return _done("role", name)


@router.post("/users/{name}/disable", dependencies=[Depends(csrf_protect)])
def disable(request: Request, user: SignedIn, name: str) -> Response:
    return _set_disabled(request, user, name, True)


@router.post("/users/{name}/enable", dependencies=[Depends(csrf_protect)])
def enable(request: Request, user: SignedIn, name: str) -> Response:
    return _set_disabled(request, user, name, False)


def _set_disabled(request: Request, user: Principal, name: str, disabled: bool) -> Response:
    require(user, Action.MANAGE_USERS)
    try:
        with session_scope(context(request).engine) as db:
            set_disabled(db, name, disabled, keep_an_admin=True)
    except UserError as error:
        return _page(request, 400, error=error_text(error))
    return _done("disabled" if disabled else "enabled", name)


@router.post("/users/{name}/password", dependencies=[Depends(csrf_protect)])
def reset_password(
    request: Request, user: SignedIn, name: str, password: Text = "", password_again: Text = ""
) -> Response:
    """An admin sets a new password for someone who forgot theirs (and tells them by other means)."""
    require(user, Action.MANAGE_USERS)
    if password != password_again:
        return _page(request, 400, error=MISMATCH)
    try:
        with session_scope(context(request).engine) as db:
            set_password(db, name, password, hasher=context(request).hasher)
    except UserError as error:
        return _page(request, 400, error=error_text(error))
    return _done("password", name)


# --- one's own account ------------------------------------------------------------------------------


@router.get("/account")
def account_page(request: Request, user: SignedIn, done: str = "") -> Response:
    require(user, Action.CHANGE_OWN_PASSWORD)
    flash = (
        "Đã đổi mật khẩu; các nơi khác đang đăng nhập bằng tài khoản này đã bị đăng xuất." if done else None
    )
    return render(request, "account.html", flash=flash, error=None)


@router.post("/account/password", dependencies=[Depends(csrf_protect)])
def change_own_password(
    request: Request,
    user: SignedIn,
    current: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
) -> Response:
    """The current password first (a borrowed session cannot take the account), counted as sign-in tries."""
    require(user, Action.CHANGE_OWN_PASSWORD)
    ctx = context(request)
    key = (user.name, client_address(request))
    now = ctx.now()
    if ctx.limiter.retry_after(key, now) is not None:
        error = "Đã nhập sai mật khẩu hiện tại quá nhiều lần: hãy thử lại sau ít phút."
        return render(request, "account.html", 429, flash=None, error=error)
    if password != password_again:
        return render(request, "account.html", 400, flash=None, error=MISMATCH)
    try:
        check_password(password)
    except UserError as error:
        return render(request, "account.html", 400, flash=None, error=error_text(error))
    with session_scope(ctx.engine) as db:
        if verify_password(db, user.name, current, hasher=ctx.hasher) is None:
            ctx.limiter.fail(key, now)
            wrong = "Mật khẩu hiện tại không đúng: hãy nhập lại."
            return render(request, "account.html", 400, flash=None, error=wrong)
        set_password(db, user.name, password, hasher=ctx.hasher)
    with session_scope(ctx.engine) as db:  # the stamp as stored, as the sign-in reads it
        account = get_user(db, user.name)
        assert account is not None and account.id is not None
        user_id, stamp = account.id, account.password_changed_at.timestamp()
    ctx.limiter.succeed(key)
    begin_session(request, user_id, stamp)  # this browser goes on with a fresh session
    return RedirectResponse("/account?done=1", status_code=303)
