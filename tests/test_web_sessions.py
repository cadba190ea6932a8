"""Sessions live on the server: sign-out, a new password, a new role, a disabled account or an admin end them,
and a copy of the cookie taken before is refused after. The sign-in limit holds against forged forwarded headers,
sprayed names and floods; forwarded headers count only from a trusted proxy."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from config.settings import Settings
from store.db import make_engine, session_scope
from store.users import add_user, set_disabled, set_password, set_role
from tests.support.web_support import FAST, sample_engine
from tests.test_web_auth import (
    ACCOUNTS,
    NOW,
    PASSWORD,
    SECRET,
    TZ,
    client_for,
    csrf_of,
    sign_in,
    signed_in,
)
from web.app import create_app
from web.config import WebSettings, client_origin, trusted_networks
from web.ratelimit import LoginLimiter
from web.sessions import COOKIE

_template: dict = {}  # type: ignore[type-arg]


@pytest.fixture
def engine(run_cli, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The sample plan with one account per role (as tests/test_web_auth.py)."""
    engine = sample_engine(run_cli, tmp_path_factory, _template)
    with session_scope(engine) as session:
        for name, (role, unit) in ACCOUNTS.items():
            add_user(session, name, PASSWORD, role, unit, hasher=FAST)
    yield engine
    engine.dispose()


def _copy(client: TestClient, engine: Engine) -> TestClient:
    """Another browser holding a copy of ``client``'s cookie (as an attacker who stole it would)."""
    thief = client_for(engine)
    thief.cookies.set(COOKIE, client.cookies[COOKIE])
    return thief


def test_a_cookie_copied_before_logout_is_refused_after(engine: Engine) -> None:
    client = signed_in(engine, "admin")
    thief = _copy(client, engine)
    assert thief.get("/").status_code == 200  # the copy works while the session is open
    assert client.post("/logout", data={"csrf": csrf_of(client, "/")}).status_code == 303
    refused = thief.get("/")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")


@pytest.mark.parametrize("change", ["password", "role", "disabled"])
def test_a_new_password_role_or_a_disabled_account_ends_its_sessions(engine: Engine, change: str) -> None:
    client = signed_in(engine, "viewer")
    other = signed_in(engine, "admin")
    with session_scope(engine) as db:
        if change == "password":
            set_password(db, "viewer", "mat-khau-moi-123", hasher=FAST)
        elif change == "role":
            set_role(db, "viewer", "admin")
        else:
            set_disabled(db, "viewer", True)
    assert client.get("/").status_code == 303
    assert other.get("/").status_code == 200  # another account's session is untouched


def test_an_admin_lists_and_ends_a_session_on_the_web(engine: Engine) -> None:
    admin = signed_in(engine, "admin")
    viewer = signed_in(engine, "viewer")
    page = admin.get("/sessions")
    assert page.status_code == 200 and "Phiên đăng nhập" in page.text
    assert "viewer" in page.text and "(phiên này)" in page.text
    import re

    ids = re.findall(r'<tr data-session="(\d+)">\s*<td>\d+</td>\s*<td>viewer', page.text)
    assert len(ids) == 1
    ended = admin.post(f"/sessions/{ids[0]}/end", data={"csrf": csrf_of(admin, "/sessions")})
    assert ended.status_code == 303
    assert viewer.get("/").status_code == 303
    assert admin.get("/").status_code == 200
    assert viewer_cannot_see_sessions(engine)


def viewer_cannot_see_sessions(engine: Engine) -> bool:
    return signed_in(engine, "viewer").get("/sessions").status_code == 403


def test_an_admin_lists_and_ends_sessions_from_the_cli(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    engine = make_engine(Settings().effective_database_url)
    with session_scope(engine) as db:
        add_user(db, "chanh.vp", PASSWORD, "admin", hasher=FAST)
    app = create_app(
        Settings(),
        engine,
        web_settings=WebSettings(secret=SECRET),
        clock=lambda: datetime.now(TZ),
        hasher=FAST,
    )
    browser = TestClient(app, client=("203.0.113.7", 50000), follow_redirects=False)
    assert sign_in(browser, "chanh.vp").status_code == 303
    listed = run_cli("users", "sessions", "--json")
    assert listed.exit_code == 0
    [row] = json.loads(listed.stdout)
    assert row["user"] == "chanh.vp" and row["address"] == "203.0.113.7"
    assert run_cli("users", "end-session", str(row["id"])).exit_code == 0
    assert browser.get("/").status_code == 303
    assert json.loads(run_cli("users", "sessions", "--json").stdout) == []
    missing = run_cli("users", "end-session", str(row["id"]))
    assert missing.exit_code == 1 and "Không có phiên" in missing.stderr
    assert run_cli("users", "disable", "chanh.vp").exit_code == 0
    assert sign_in(browser, "chanh.vp").status_code == 401
    engine.dispose()


# -- the sign-in limit ---------------------------------------------------------------------------------------


def test_a_new_x_forwarded_for_per_try_does_not_bypass_the_limit(engine: Engine) -> None:
    moment = [NOW]
    client = client_for(engine, clock=lambda: moment[0], address="198.51.100.20")
    codes = []
    for attempt in range(7):
        response = client.post(
            "/login",
            data={"csrf": csrf_of(client), "name": "admin", "password": "sai", "next": "/"},
            headers={"X-Forwarded-For": f"10.0.{attempt}.1"},
        )
        codes.append(response.status_code)
    assert codes == [401, 401, 401, 401, 429, 429, 429]


def test_forwarded_headers_count_only_from_a_trusted_proxy() -> None:
    proxies = trusted_networks(WebSettings(trusted_proxies="10.0.0.0/8, 127.0.0.1"))
    headers = {"x-forwarded-for": "1.2.3.4, 203.0.113.5", "x-forwarded-proto": "https"}
    assert client_origin("198.51.100.1", headers, "http", proxies) == ("198.51.100.1", False)
    assert client_origin("10.1.2.3", headers, "http", proxies) == ("203.0.113.5", True)
    chained = {"x-forwarded-for": "203.0.113.5, 10.9.9.9"}  # two proxies of ours: the client is left of them
    assert client_origin("127.0.0.1", chained, "http", proxies) == ("203.0.113.5", False)
    assert client_origin("10.1.2.3", {}, "http", trusted_networks(WebSettings())) == ("10.1.2.3", False)


def test_a_sprayed_name_per_address_and_overall_are_limited() -> None:
    limiter = LoginLimiter(5, timedelta(minutes=10), per_name=20, per_address=30, overall=100)
    for index in range(30):
        limiter.fail((f"ten-{index}", "198.51.100.1"), NOW)
    assert limiter.retry_after(("ai-do", "198.51.100.1"), NOW) is not None  # one address spraying names
    assert limiter.retry_after(("ai-do", "198.51.100.2"), NOW) is None
    for index in range(20):
        limiter.fail(("admin", f"203.0.113.{index}"), NOW)
    assert limiter.retry_after(("admin", "192.0.2.1"), NOW) is not None  # one name from many addresses
    for index in range(50):
        limiter.fail((f"x-{index}", f"192.0.2.{index}"), NOW)
    assert limiter.retry_after(("moi", "192.0.2.250"), NOW) is not None  # everyone together
    assert limiter.retry_after(("moi", "192.0.2.250"), NOW + timedelta(minutes=11)) is None


def test_a_flood_of_other_names_does_not_flush_a_block() -> None:
    limiter = LoginLimiter(
        5, timedelta(minutes=10), per_name=10**6, per_address=10**6, overall=10**6, max_keys=100
    )
    blocked = ("admin", "198.51.100.1")
    for _ in range(5):
        limiter.fail(blocked, NOW)
    for index in range(10_000):
        limiter.fail((f"ten-{index}", f"10.{index // 250}.{index % 250}.1"), NOW)
    assert limiter.retry_after(blocked, NOW) is not None


def test_secure_cookie_and_hsts_when_https_through_a_trusted_proxy(engine: Engine) -> None:
    web = WebSettings(secret=SECRET, trusted_proxies="10.0.0.1")
    app = create_app(Settings(), engine, web_settings=web, clock=lambda: NOW, hasher=FAST)
    behind = TestClient(app, client=("10.0.0.1", 50000), follow_redirects=False)
    page = behind.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "; secure" in page.headers["set-cookie"].lower()
    assert page.headers["strict-transport-security"].startswith("max-age=")
    direct = TestClient(app, client=("198.51.100.1", 50000), follow_redirects=False)
    forged = direct.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in forged.headers["set-cookie"].lower()
    assert "strict-transport-security" not in forged.headers
