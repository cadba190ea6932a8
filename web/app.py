"""The app factory: ``create_app()`` builds the web admin (tests call it with their own engine and clock).

Safety that holds for every page lives here: the session cookie (HttpOnly,
SameSite=Lax, Secure behind HTTPS), strict security headers (no scripts at all,
no framing, no referrer, so a completion link never leaks to another site),
Vietnamese error pages instead of tracebacks, and an access log without tokens.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

import vocabulary
from config.settings import Settings
from store.users import DEFAULT_HASHER
from vocabulary import FILE_KINDS, USER_ROLES
from web.config import WebSettings, client_origin, session_secret, trusted_networks
from web.deps import (
    Clock,
    CsrfFailed,
    LoginRequired,
    PageNotFound,
    WebContext,
    clock_in,
    error_page,
)
from web.permissions import Forbidden
from web.ratelimit import LoginLimiter
from web.sessions import COOKIE, Session, SessionCodec

log = logging.getLogger(__name__)
access_log = logging.getLogger("web.access")

HERE = Path(__file__).resolve().parent

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_TOKEN_IN_PATH = re.compile(r"^/done/[^/]+")

HTTP_TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không được phép",
    404: "Không tìm thấy trang",
    405: "Không hỗ trợ thao tác này",
    500: "Hệ thống gặp sự cố",
}


def _day(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else "—"


def _moment(tz: ZoneInfo) -> Callable[[datetime | None], str]:
    def moment(value: datetime | None) -> str:
        return f"{value.astimezone(tz):%d/%m/%Y %H:%M}" if value else "—"

    return moment


def _diff_value(value: object) -> str:
    """A field's value in the import preview's diff: a list joined, a date as 31/12/2026, empty said so."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value) or "(trống)"
    if isinstance(value, date):
        return _day(value)
    return "(trống)" if value is None or value == "" else str(value)


def make_templates(tz: ZoneInfo) -> Jinja2Templates:
    """The pages' templates; moments are shown in ``tz`` (the settings' time zone)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined)
    env.filters["day"] = _day
    env.filters["moment"] = _moment(tz)
    env.filters["diff_value"] = _diff_value
    env.globals["role_labels"] = USER_ROLES
    env.globals["file_kinds"] = FILE_KINDS
    env.globals["unit_kinds"] = vocabulary.UNIT_KINDS
    env.globals["words"] = vocabulary
    return Jinja2Templates(env=env)


def _safe_path(request: Request) -> str:
    """The path for the access log: no query string (ICS tokens) and no completion token."""
    return _TOKEN_IN_PATH.sub("/done/…", request.url.path)


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    web_settings: WebSettings | None = None,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
) -> FastAPI:
    """The web admin over ``engine`` (default: the configured database, its schema brought up to date)."""
    settings = settings or Settings()
    web_settings = web_settings or WebSettings()
    if engine is None:
        from store.db import make_engine, upgrade_schema

        engine = make_engine(settings.effective_database_url)
        upgrade_schema(engine)
    ctx = WebContext(
        engine=engine,
        settings=settings,
        web=web_settings,
        clock=clock or clock_in(settings.tz),
        hasher=hasher or DEFAULT_HASHER,
        sessions=SessionCodec(session_secret(web_settings), int(web_settings.session_hours * 3600)),
        limiter=LoginLimiter(
            web_settings.login_max_failures,
            timedelta(minutes=web_settings.login_window_minutes),
            per_name=web_settings.login_max_failures_per_name,
            per_address=web_settings.login_max_failures_per_address,
            overall=web_settings.login_max_failures_global,
            shares=web_settings.login_limit_shares,
        ),
        templates=make_templates(settings.tz),
    )
    app = FastAPI(title="Nhắc việc", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _add_middleware(app, ctx)
    _add_error_pages(app)

    for router in routers() + webhooks():
        app.include_router(router)
    return app


def webhooks() -> list[APIRouter]:
    """Calls from other services, not pages: each verifies its caller's signature instead of a CSRF token."""
    from web.routes import zalo_webhook

    return [zalo_webhook.router]


def routers() -> list[APIRouter]:
    """Every page's router (tests walk them: every POST route must check the CSRF token)."""
    from web.routes import (
        auth,
        dashboard,
        done,
        feeds,
        manual,
        outbox,
        plan_import,
        plan_views,
        preview,
        readiness,
        report,
        rules,
        sessions,
        tasks,
        templates_admin,
        units,
        upcoming,
        users,
        wording,
    )

    return [
        module.router
        for module in (
            auth,
            dashboard,
            tasks,
            plan_views,
            upcoming,
            rules,
            templates_admin,
            wording,
            outbox,
            preview,
            manual,
            units,
            readiness,
            report,
            plan_import,
            sessions,
            users,
            done,
            feeds,
        )
    ]


def _add_middleware(app: FastAPI, ctx: WebContext) -> None:
    proxies = trusted_networks(ctx.web)

    @app.middleware("http")
    async def sessions_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        peer = request.client.host if request.client else None
        request.state.client_ip, https = client_origin(peer, request.headers, request.url.scheme, proxies)
        request.state.session = ctx.sessions.load(request.cookies.get(COOKIE))
        response = await call_next(request)
        session: Session = request.state.session
        if session.dirty:
            response.set_cookie(
                COOKIE,
                ctx.sessions.dump(session),
                max_age=ctx.sessions.max_age_seconds,
                path="/",
                httponly=True,
                samesite="lax",
                secure=ctx.web.secure_cookies or https,
            )
        if https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        access_log.info(
            "%s %s status=%s ms=%.0f",
            request.method,
            _safe_path(request),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _: Exception) -> Response:
        if request.method != "GET":  # the form is lost anyway: start again from the dashboard
            return RedirectResponse("/login", status_code=303)
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Exception) -> Response:
        message = error.message if isinstance(error, Forbidden) else str(error)
        return error_page(request, 403, HTTP_TITLES[403], message)

    @app.exception_handler(PageNotFound)
    async def not_found(request: Request, error: Exception) -> Response:
        message = error.message if isinstance(error, PageNotFound) else str(error)
        return error_page(request, 404, HTTP_TITLES[404], message)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _: Exception) -> Response:
        return error_page(
            request,
            403,
            "Biểu mẫu đã hết hiệu lực",
            "Biểu mẫu không có mã bảo vệ hợp lệ (có thể trang đã mở quá lâu hoặc anh/chị đã đăng nhập lại "
            "ở nơi khác). Vui lòng tải lại trang rồi thao tác lại.",
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, _: Exception) -> Response:
        return error_page(request, 400, HTTP_TITLES[400], "Dữ liệu gửi lên không hợp lệ.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, StarletteHTTPException) else 500
        messages = {
            404: "Trang anh/chị tìm không có. Hãy kiểm tra lại địa chỉ hoặc quay về trang tổng quan.",
            405: "Địa chỉ này không hỗ trợ thao tác vừa gửi.",
        }
        title = HTTP_TITLES.get(status, "Có lỗi xảy ra")
        return error_page(request, status, title, messages.get(status, title + "."))

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, _safe_path(request))
        message = "Hệ thống gặp sự cố nên chưa xử lý được yêu cầu. Vui lòng thử lại sau hoặc báo Văn phòng."
        try:
            response: Response = error_page(request, 500, HTTP_TITLES[500], message)
        except Exception:  # the page itself needs what failed (the database): plain text then
            response = PlainTextResponse(message, status_code=500)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
