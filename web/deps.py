"""What every route shares: the app's context, the signed-in user, CSRF checks and page rendering."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from config.settings import Settings
from plan.errors import say
from plan.units import Directory
from store.db import session_scope
from store.models import UserRole
from store.users import get_user_by_id
from store.web_sessions import active_session
from templates.render import CheckedRenders
from web.config import WebSettings
from web.permissions import Principal
from web.ratelimit import LoginLimiter
from web.sessions import CSRF_FIELD, Session, SessionCodec, csrf_matches

# What to do about an error raised low (plan.errors.Fix), in the web's words: a page or a button.
FIX_HINTS = {
    "import_plan": "Hãy nhập kế hoạch ở trang Nhập kế hoạch.",
    "set_due": "đặt hạn bằng nút Đặt hạn trên trang của nhiệm vụ.",
    "extend": "để lùi hạn hãy dùng nút Gia hạn trên trang của nhiệm vụ.",
    "add_rule": "thêm quy tắc ở trang Quy tắc.",
    "list_tasks": "xem trang Nhiệm vụ.",
    "set_due_first": "hãy đặt hạn trước bằng nút Đặt hạn trên trang của nhiệm vụ.",
    "choose_plan": "hãy chọn kế hoạch ở ô Kế hoạch của biểu mẫu rồi bấm Xem trước.",
    "add_head": "thêm trưởng đơn vị ở trang của đơn vị rồi làm lại.",
    "passwd": "để đặt mật khẩu mới cho tài khoản đó, bấm Sửa ở dòng của nó trong bảng.",
}


def error_text(error: BaseException) -> str:
    """A user's error as the web says it: the problem, then the page or button that fixes it."""
    return say(error, FIX_HINTS)


Clock = Callable[[], datetime]
Text = Annotated[str, Form()]  # a text field of a posted form


def clock_in(tz: ZoneInfo) -> Clock:
    """The real clock, giving moments in ``tz`` (the settings' time zone)."""
    return lambda: datetime.now(tz)


@dataclass
class WebContext:
    """Everything the routes need, built once by the app factory (``app.state.ctx``)."""

    engine: Engine
    settings: Settings
    web: WebSettings
    clock: Clock
    hasher: PasswordHasher
    sessions: SessionCodec
    limiter: LoginLimiter
    templates: Jinja2Templates

    def now(self) -> datetime:
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the web admin's clock must give timezone-aware moments")
        return moment

    def today(self) -> date:
        """Today in the settings' time zone, from the app's clock (tests fix it)."""
        return self.now().astimezone(self.settings.tz).date()

    def check_templates(
        self, folder: Path, renders: Sequence[tuple[str, str, Mapping[str, Any]]] = ()
    ) -> CheckedRenders:
        """The folder validated and ``renders`` rendered in a child process within the web's template limits."""
        from web.isolation import check_templates

        return check_templates(
            folder, renders, seconds=self.web.template_seconds, memory_mb=self.web.template_memory_mb
        )

    def directory(self) -> Directory:
        """The unit directory from the database (seeded from the units file the first time)."""
        from store.directory import load_directory

        with session_scope(self.engine) as db:
            return load_directory(db, self.settings.units_file)


class LoginRequired(Exception):
    """No one is signed in: the browser is sent to the sign-in page."""


class PageNotFound(Exception):
    """Something the address names does not exist; ``message`` (Vietnamese) says what."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CsrfFailed(Exception):
    """A POST whose form token is missing or does not match the session's."""


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def browser_session(request: Request) -> Session:
    session: Session = request.state.session
    return session


def current_user(request: Request) -> Principal | None:
    """The signed-in user, or None: a session whose user is gone, disabled or changed password is anonymous."""
    if hasattr(request.state, "user"):
        cached: Principal | None = request.state.user
        return cached
    session = browser_session(request)
    user: Principal | None = None
    if session.user_id is not None:
        with session_scope(context(request).engine) as db:
            row = get_user_by_id(db, session.user_id)
            if (
                row is not None
                and row.id is not None
                and not row.disabled
                and session.password_stamp == row.password_changed_at.timestamp()
                and active_session(db, session.token, row.id, context(request).now()) is not None
            ):
                user = Principal(id=row.id, name=row.name, role=UserRole(row.role), unit=row.unit_code)
    request.state.user = user
    return user


def client_address(request: Request) -> str:
    """The client's address: the peer's, or the forwarded one when the peer is a trusted proxy (web.app)."""
    address = getattr(request.state, "client_ip", None)
    if address:
        return str(address)
    return request.client.host if request.client else "?"


def signed_in(request: Request) -> Principal:
    """FastAPI dependency: the signed-in user; anyone else is sent to the sign-in page."""
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    return user


SignedIn = Annotated[Principal, Depends(signed_in)]


async def csrf_protect(request: Request) -> None:
    """FastAPI dependency of every POST: the form's token must match the session's (constant time)."""
    form = await request.form()
    if not csrf_matches(browser_session(request).known_csrf, form.get(CSRF_FIELD)):
        raise CsrfFailed()


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    ctx = context(request)
    page = {
        "request": request,
        "user": current_user(request),
        "csrf": browser_session(request).csrf,
        "today": ctx.today(),
    }
    return ctx.templates.TemplateResponse(request, template, page | values, status_code=status_code)


def error_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code, title=title, message=message)
