"""Signing in and out; failed attempts are limited per name and address."""

from __future__ import annotations

import logging
import math
import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from store.db import session_scope
from store.users import normalise_name, verify_password
from store.web_sessions import end_session, open_session
from web.deps import WebContext, client_address, context, csrf_protect, current_user, render
from web.sessions import Session

log = logging.getLogger(__name__)

router = APIRouter()

WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


def safe_next(target: str | None) -> str:
    """Only a path on this site (no "//host", "/\\host", no control characters): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), name="", error=None)


def _blocked(request: Request, ctx: WebContext, target: str, name: str, wait: timedelta) -> Response:
    """The 429 page: how many failures, in what window, and how long to wait (also as Retry-After)."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    minutes = math.ceil(seconds / 60)
    message = (
        f"Đã đăng nhập sai {ctx.limiter.max_failures} lần trong {ctx.web.login_window_minutes:g} phút: tạm khóa "
        f"đăng nhập tài khoản này từ máy của anh/chị. Vui lòng thử lại sau {minutes} phút hoặc liên hệ Văn phòng "
        "để đặt lại mật khẩu."
    )
    response = render(request, "login.html", 429, next=target, name=name, error=message)
    response.headers["Retry-After"] = str(seconds)
    return response


def _loggable(name: str) -> str:
    """A typed name as it may appear in the log: short, and nothing that could forge a log line."""
    return re.sub(r"[^\w.@-]", "?", name[:64])


@router.post("/login", dependencies=[Depends(csrf_protect)])
def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    ctx = context(request)
    target = safe_next(next)
    key = (normalise_name(name)[:64], client_address(request))
    now = ctx.now()
    wait = ctx.limiter.retry_after(key, now)
    if wait is not None:
        log.warning("sign-in refused (too many failures) user=%s", _loggable(key[0]))
        return _blocked(request, ctx, target, name, wait)
    with session_scope(ctx.engine) as db:
        user = verify_password(db, name, password, hasher=ctx.hasher)
        user_id = user.id if user else None
        stamp = user.password_changed_at.timestamp() if user else None
    if user_id is None or stamp is None:
        ctx.limiter.fail(key, now)
        log.warning("sign-in failed user=%s", _loggable(key[0]))
        wait = ctx.limiter.retry_after(key, now)
        if wait is not None:
            return _blocked(request, ctx, target, name, wait)
        return render(request, "login.html", 401, next=target, name=name, error=WRONG)
    ctx.limiter.succeed(key)
    begin_session(request, user_id, stamp)
    log.info("signed in user=%s", _loggable(key[0]))
    return RedirectResponse(target, status_code=303)


def begin_session(request: Request, user_id: int, password_stamp: float) -> None:
    """A new server-side session for ``user_id``, and this browser signed in with it (sign-in, new password)."""
    ctx = context(request)
    with session_scope(ctx.engine) as db:
        token = open_session(
            db,
            user_id,
            hours=ctx.web.session_hours,
            now=ctx.now(),
            address=client_address(request),
            agent=request.headers.get("user-agent"),
        )
    session: Session = request.state.session
    session.sign_in(user_id, password_stamp, token)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    session: Session = request.state.session
    if session.token is not None:
        with session_scope(context(request).engine) as db:
            end_session(db, session.token, reason="logout")
    session.sign_out()
    return RedirectResponse("/login", status_code=303)
