"""Who may do what in the web admin: the permission matrix, CSRF, sign-in limits, cookies, password storage, server-side
sessions and the forwarded header."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli.users import app as users_app
from config.settings import Settings
from plan.errors import UserError
from store.db import make_engine, session_scope, upgrade_schema
from store.models import Unit
from store.tasks import find_task, history
from store.users import add_user, get_user, set_disabled, set_password, set_role, verify_password
from tests.support.web_support import FAST, sample_engine
from web.app import create_app, routers
from web.config import WebSettings, client_origin, session_secret, trusted_networks
from web.permissions import MATRIX, Action, Principal, TaskUnits, allows
from web.ratelimit import LoginLimiter
from web.sessions import COOKIE

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2020, 12, 7, 9, 0, tzinfo=TZ)
PASSWORD = "mat-khau-thu-nghiem"
SECRET = SecretStr("web-secret-for-the-tests-0123456789abcdef")
PLAN = "CCHC-2020"
ACCOUNTS = {
    "admin": ("admin", None),
    "viewer": ("viewer", None),
    "tccb": ("unit", "TCCB"),
    "khtc": ("unit", "KHTC"),
}
_template: dict[str, Path] = {}


@pytest.fixture
def engine(run_cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The sample plan loaded by ``nhacviec init`` (once; later tests get a copy) with one account per role."""
    engine = sample_engine(run_cli, tmp_path_factory, _template)
    with session_scope(engine) as session:
        for name, (role, unit) in ACCOUNTS.items():
            add_user(session, name, PASSWORD, role, unit, hasher=FAST)
    yield engine
    engine.dispose()


Clock = Callable[[], datetime]


def client_for(
    engine: Engine,
    clock: Clock = lambda: NOW,
    web: WebSettings | None = None,
    address: str = "203.0.113.7",
) -> TestClient:
    app = create_app(
        Settings(), engine, web_settings=web or WebSettings(secret=SECRET), clock=clock, hasher=FAST
    )
    return TestClient(app, client=(address, 50000), follow_redirects=False)


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(
        "/login", data={"csrf": csrf_of(client), "name": name, "password": password, "next": "/"}
    )


def signed_in(engine: Engine, who: str) -> TestClient:
    client = client_for(engine)
    if who != "anonymous":
        response = sign_in(client, who)
        assert response.status_code == 303 and response.headers["location"] == "/", who
    return client


def task_state(engine: Engine, code: str) -> tuple[str, object, int]:
    with session_scope(engine) as session:
        task = find_task(session, code, PLAN)
        return task.status, task.effective_due, len(history(session, task))


# --- the permission matrix -----------------------------------------------------------------------

ROLES = ("anonymous", "viewer", "tccb", "khtc", "admin")
# The unit account's own task (it leads it) and another unit's; admins and viewers use the same two.
OWN = {"tccb": "IV.4", "khtc": "V.1"}
OTHER = {"tccb": "V.1", "khtc": "IV.4"}


def _own(who: str) -> str:
    return OWN.get(who, "IV.4")


def _other(who: str) -> str:
    return OTHER.get(who, "V.1")


def _form(who: str, action: str) -> tuple[str, str, dict[str, str]]:
    """(task code, path, form fields) of each changing action."""
    if action == "done own":
        code = _own(who)
        return code, f"/tasks/{PLAN}/{code}/done", {"note": "Công văn số 12"}
    if action == "done other":
        code = _other(who)
        return code, f"/tasks/{PLAN}/{code}/done", {}
    if action == "extend":
        return "IV.4", f"/tasks/{PLAN}/IV.4/extend", {"to": "2020-12-20", "reason": "Chờ hướng dẫn"}
    assert action == "set due"
    return "II.2", f"/tasks/{PLAN}/II.2/set-due", {"due": "2020-12-31", "note": "Theo chỉ đạo"}


# Expected outcome per action and role: an HTTP status, "login" (sent to the sign-in page) or "ok" (done,
# back to the task's page).
MATRIX_EXPECTED: dict[str, dict[str, int | str]] = {
    "view dashboard": {"anonymous": "login", "viewer": 200, "tccb": 200, "khtc": 200, "admin": 200},
    "view tasks": {"anonymous": "login", "viewer": 200, "tccb": 200, "khtc": 200, "admin": 200},
    "view TCCB task": {"anonymous": "login", "viewer": 200, "tccb": 200, "khtc": 403, "admin": 200},
    "done own": {"anonymous": "login", "viewer": 403, "tccb": "ok", "khtc": "ok", "admin": "ok"},
    "done other": {"anonymous": "login", "viewer": 403, "tccb": 403, "khtc": 403, "admin": "ok"},
    "extend": {"anonymous": "login", "viewer": 403, "tccb": 403, "khtc": 403, "admin": "ok"},
    "set due": {"anonymous": "login", "viewer": 403, "tccb": 403, "khtc": 403, "admin": "ok"},
}
VIEWS = {"view dashboard": "/", "view tasks": "/tasks", "view TCCB task": f"/tasks/{PLAN}/IV.4"}
CASES = [(action, who) for action in MATRIX_EXPECTED for who in ROLES]


def _outcome(response: httpx.Response) -> int | str:
    if response.status_code == 303:
        location = response.headers["location"]
        if location.startswith("/login"):
            return "login"
        assert location.startswith(f"/tasks/{PLAN}/"), location
        return "ok"
    return int(response.status_code)


@pytest.mark.parametrize(("action", "who"), CASES, ids=[f"{a}-{w}" for a, w in CASES])
def test_each_role_gets_exactly_what_the_permission_matrix_allows(
    engine: Engine, action: str, who: str
) -> None:
    client = signed_in(engine, who)
    expected = MATRIX_EXPECTED[action][who]
    if action in VIEWS:
        assert _outcome(client.get(VIEWS[action])) == expected
        return
    code, path, fields = _form(who, action)
    before = task_state(engine, code)
    token = csrf_of(client, "/login" if who == "anonymous" else "/tasks")
    response = client.post(path, data={"csrf": token, **fields})
    assert _outcome(response) == expected
    after = task_state(engine, code)
    if expected == "ok":
        assert after[2] == before[2] + 1  # one more history entry
    else:
        assert after == before  # refused: nothing changed
    if expected == 403:
        assert "Không được phép" in response.text


def test_a_unit_account_lists_only_tasks_its_unit_takes_part_in(engine: Engine) -> None:
    page = signed_in(engine, "khtc").get("/tasks").text
    codes = re.findall(r'data-code="([^"]+)"', page)
    assert codes == ["V.1", "V.2"]
    page = signed_in(engine, "viewer").get("/tasks").text
    assert len(re.findall(r'data-code="([^"]+)"', page)) == 35


def test_viewers_see_no_forms_and_admins_see_the_ones_the_task_allows(engine: Engine) -> None:
    viewer = signed_in(engine, "viewer").get(f"/tasks/{PLAN}/IV.4").text
    assert "data-form=" not in viewer
    admin = signed_in(engine, "admin").get(f"/tasks/{PLAN}/IV.4").text
    assert re.findall(r'<form[^>]*data-form="([^"]+)"', admin) == ["done", "extended", "remind-now"]
    undated = signed_in(engine, "admin").get(f"/tasks/{PLAN}/II.2").text
    assert re.findall(r'<form[^>]*data-form="([^"]+)"', undated) == ["done", "due_set", "remind-now"]
    unit = signed_in(engine, "tccb").get(f"/tasks/{PLAN}/IV.4").text
    assert re.findall(r'<form[^>]*data-form="([^"]+)"', unit) == ["done", "ext_requested"]


def test_the_matrix_gives_units_their_own_lead_tasks_only() -> None:
    unit = Principal(1, "tccb", "unit", "TCCB")  # type: ignore[arg-type]
    leads = TaskUnits(lead=("TCCB",), coordinating=("PCMNV",))
    coordinates = TaskUnits(lead=("VP",), coordinating=("TCCB",))
    assert allows(unit, Action.MARK_DONE, leads) and not allows(unit, Action.MARK_DONE, coordinates)
    assert allows(unit, Action.VIEW_TASKS, coordinates)
    assert not allows(unit, Action.VIEW_TASKS, TaskUnits(lead=("VP",)))
    assert set(MATRIX) == set(Action)  # every action has its row


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "wrong-token", "other-session"])
def test_a_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    engine: Engine, token: str | None
) -> None:
    client = signed_in(engine, "admin")
    if token == "other-session":
        token = csrf_of(signed_in(engine, "admin"), "/")
    before = task_state(engine, "IV.4")
    data = {"note": "x"} if token is None else {"csrf": token, "note": "x"}
    response = client.post(f"/tasks/{PLAN}/IV.4/done", data=data)
    assert response.status_code == 403
    assert "Biểu mẫu đã hết hiệu lực" in response.text
    assert task_state(engine, "IV.4") == before


def test_every_post_route_checks_the_csrf_token_first(engine: Engine) -> None:
    client = signed_in(engine, "admin")
    values = {
        "plan_code": PLAN,
        "code": "IV.4",
        "token": "x",
        "rule_id": "reminder",
        "channel": "email",
        "name": "reminder",
        "invite_id": "1",
        "kind": "reminder",
        "session_id": "1",
    }
    posts = [route.path for router in routers() for route in router.routes if "POST" in route.methods]
    assert len(posts) >= 18
    for path in posts:
        response = client.post(path.format(**values), data={"csrf": "forged"})
        assert response.status_code == 403, path


def test_signing_in_needs_the_forms_csrf_token(engine: Engine) -> None:
    client = client_for(engine)
    response = client.post("/login", data={"name": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/").status_code == 303


def test_signing_in_renews_the_csrf_token(engine: Engine) -> None:
    client = client_for(engine)
    before = csrf_of(client)
    sign_in(client, "admin")
    assert csrf_of(client, "/") != before


def test_signing_out_ends_the_session(engine: Engine) -> None:
    client = signed_in(engine, "admin")
    response = client.post("/logout", data={"csrf": csrf_of(client, "/")})
    assert response.status_code == 303
    assert client.get("/").headers["location"] == "/login?next=/"


# --- sign-in -------------------------------------------------------------------------------------


def test_a_wrong_password_or_unknown_name_gets_one_vietnamese_sentence(engine: Engine) -> None:
    client = client_for(engine)
    for name, password in (("admin", "sai-mat-khau"), ("khong-co", PASSWORD)):
        response = sign_in(client, name, password)
        assert response.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.text
    assert client.get("/").status_code == 303


def test_five_failures_in_ten_minutes_block_that_name_from_that_address(engine: Engine) -> None:
    moment = [NOW]
    client = client_for(engine, clock=lambda: moment[0])
    codes = []
    for minute in range(5):
        moment[0] = NOW + timedelta(minutes=minute)
        codes.append(sign_in(client, "admin", "sai-mat-khau").status_code)
    assert codes == [401, 401, 401, 401, 429]
    blocked = sign_in(client, "admin")  # even the right password
    assert blocked.status_code == 429
    assert "Đã đăng nhập sai 5 lần trong 10 phút" in blocked.text
    assert "thử lại sau 6 phút" in blocked.text
    assert blocked.headers["retry-after"] == str(6 * 60)
    # Another account from the same address, and the same account from elsewhere, are not blocked.
    assert sign_in(client_for(engine, clock=lambda: moment[0]), "viewer").status_code == 303
    elsewhere = client_for(engine, clock=lambda: moment[0], address="198.51.100.9")
    assert sign_in(elsewhere, "admin").status_code == 303
    # Ten minutes after the first failure, one attempt is allowed again.
    moment[0] = NOW + timedelta(minutes=10)
    assert sign_in(client, "admin").status_code == 303


def test_the_next_page_after_sign_in_stays_on_this_site(engine: Engine) -> None:
    client = client_for(engine)
    data = {"csrf": csrf_of(client), "name": "admin", "password": PASSWORD}
    assert client.post("/login", data=data | {"next": "//evil.example/x"}).headers["location"] == "/"
    for evil in ("/\\evil.example", "/\t/evil.example", "https://evil.example"):
        client = client_for(engine)
        data["csrf"] = csrf_of(client)
        assert client.post("/login", data=data | {"next": evil}).headers["location"] == "/"
    client = client_for(engine)
    data["csrf"] = csrf_of(client)
    assert (
        client.post("/login", data=data | {"next": "/tasks?unit=TCCB"}).headers["location"]
        == "/tasks?unit=TCCB"
    )


# --- the cookie ----------------------------------------------------------------------------------


def _set_cookie(response: httpx.Response) -> str:
    return next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE))


def test_the_session_cookie_is_httponly_and_samesite_lax_and_secure_only_when_asked(engine: Engine) -> None:
    cookie = _set_cookie(client_for(engine).get("/login")).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    secure = client_for(engine, web=WebSettings(secret=SECRET, secure_cookies=True))
    assert "; secure" in _set_cookie(secure.get("/login")).lower()


def test_a_tampered_session_cookie_is_no_session(engine: Engine) -> None:
    client = signed_in(engine, "admin")
    value = client.cookies[COOKIE]
    client.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/").status_code == 303


def test_a_session_from_another_secret_is_no_session(engine: Engine) -> None:
    client = signed_in(engine, "admin")
    other = client_for(engine, web=WebSettings(secret=SecretStr("another-secret-0123456789-abcdefghij")))
    other.cookies.set(COOKIE, client.cookies[COOKIE])
    assert other.get("/").status_code == 303


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(engine: Engine) -> None:
    client = signed_in(engine, "admin")
    assert client.get("/").status_code == 200
    with session_scope(engine) as session:
        set_password(session, "admin", "mat-khau-moi-2020", hasher=FAST)
    assert client.get("/").status_code == 303
    assert sign_in(client_for(engine), "admin", "mat-khau-moi-2020").status_code == 303


def test_pages_carry_strict_security_headers(engine: Engine) -> None:
    response = signed_in(engine, "admin").get("/")
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


# --- accounts and passwords ----------------------------------------------------------------------


def users_cli(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(users_app, list(args), input=input)


def test_users_add_stores_an_argon2_hash_and_never_the_password(engine: Engine) -> None:
    result = users_cli(
        "add",
        "Nguyen.Van.A",
        "--role",
        "unit",
        "--unit",
        "Phòng TCCB",
        "--password-stdin",
        input="Bí-mật-2020\n",
    )
    assert result.exit_code == 0, result.output
    assert "Đã tạo tài khoản nguyen.van.a (vai trò đơn vị, đơn vị TCCB)." in result.output
    with session_scope(engine) as session:
        user = get_user(session, "nguyen.van.a")
        assert user is not None and user.unit_code == "TCCB" and user.role == "unit"
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert "Bí-mật-2020" not in user.password_hash
        assert verify_password(session, "NGUYEN.VAN.A", "Bí-mật-2020") is not None
        assert verify_password(session, "nguyen.van.a", "Bi-mat-2020") is None
    engine.dispose()
    database = Path(str(engine.url.database)).read_bytes()
    for wal in Path(str(engine.url.database)).parent.glob("*.db-wal"):
        database += wal.read_bytes()
    assert "Bí-mật-2020".encode() not in database


def test_users_add_asks_the_password_twice_without_echo(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cli.users

    monkeypatch.setattr(cli.users, "_has_terminal", lambda: True)  # typed at a terminal (the runner feeds it)
    result = users_cli("add", "thu.ky", "--role", "viewer", input="mat-khau-1\nmat-khau-1\n")
    assert result.exit_code == 0, result.output
    assert "mat-khau-1" not in result.output
    mismatch = users_cli("add", "thu.ky2", "--role", "viewer", input="mat-khau-1\nmat-khau-2\n")
    assert isinstance(mismatch.exception, UserError)
    assert str(mismatch.exception) == "Hai lần nhập mật khẩu không khớp; chưa thay đổi gì."
    with session_scope(engine) as session:
        assert get_user(session, "thu.ky") is not None and get_user(session, "thu.ky2") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x y", "--role", "admin"), "Tên đăng nhập 'x y' không hợp lệ"),
        (("bao", "--role", "boss"), "Vai trò 'boss' không hợp lệ"),
        (("bao", "--role", "unit"), "Tài khoản vai trò 'unit' cần chỉ rõ đơn vị (--unit)."),
        (
            ("bao", "--role", "viewer", "--unit", "TCCB"),
            "Chỉ tài khoản vai trò 'unit' mới gắn với một đơn vị",
        ),
        (("admin", "--role", "admin"), "Tài khoản 'admin' đã có"),
    ],
)
def test_users_add_refuses_with_one_clear_sentence(
    engine: Engine, args: tuple[str, ...], message: str
) -> None:
    result = users_cli("add", *args, "--password-stdin", input="mat-khau-du-dai\n")
    assert isinstance(result.exception, UserError)
    assert str(result.exception).startswith(message)


def test_a_short_password_is_refused(engine: Engine) -> None:
    result = users_cli("add", "bao", "--role", "viewer", "--password-stdin", input="ngan\n")
    assert str(result.exception) == "Mật khẩu phải có ít nhất 8 ký tự."


def test_users_passwd_and_list(engine: Engine) -> None:
    result = users_cli("passwd", "tccb", "--password-stdin", input="mat-khau-moi-tccb\n")
    assert result.exit_code == 0 and "Đã đổi mật khẩu tài khoản tccb." in result.output
    with session_scope(engine) as session:
        assert verify_password(session, "tccb", "mat-khau-moi-tccb", hasher=FAST) is not None
        assert verify_password(session, "tccb", PASSWORD, hasher=FAST) is None
    listing = users_cli("list").output
    for name, role in (("admin", "quản trị"), ("viewer", "xem"), ("tccb", "đơn vị"), ("khtc", "đơn vị")):
        assert re.search(rf"{re.escape(name)}\s+│\s+{role}", listing), name
    assert "$argon2" not in listing and PASSWORD not in listing
    assert isinstance(users_cli("passwd", "khong.co", "--password-stdin", input="x" * 9).exception, UserError)


def test_a_disabled_account_cannot_sign_in(engine: Engine) -> None:
    with session_scope(engine) as session:
        user = get_user(session, "viewer")
        assert user is not None
        user.disabled = True
        session.add(user)
    assert sign_in(client_for(engine), "viewer").status_code == 401


def test_a_weaker_hash_is_upgraded_at_sign_in(engine: Engine) -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    with session_scope(engine) as session:
        assert verify_password(session, "viewer", PASSWORD, hasher=stronger) is not None
        user = get_user(session, "viewer")
        assert user is not None and "$m=2048,t=2,p=1$" in user.password_hash


def test_accounts_and_sessions_work_on_each_database(database_url: str) -> None:
    """SQLite and PostgreSQL: the hash, the password stamp in the session and a new password's effect."""
    engine = make_engine(database_url)
    upgrade_schema(engine)
    with session_scope(engine) as session:
        session.add(Unit(code="TCCB", name="Phòng Tổ chức cán bộ", kind="department"))
    with session_scope(engine) as session:
        add_user(session, "tccb", PASSWORD, "unit", "TCCB", hasher=FAST)
    client = client_for(engine)
    assert sign_in(client, "tccb").status_code == 303
    page = client.get("/")
    assert page.status_code == 200 and "Chưa có kế hoạch nào trong cơ sở dữ liệu." in page.text
    with session_scope(engine) as session:
        set_password(session, "tccb", "mat-khau-moi-2020", hasher=FAST)
    assert client.get("/").status_code == 303
    engine.dispose()


def test_web_settings_come_from_the_environment_and_a_missing_secret_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NHACVIEC_WEB_SECRET", "s" * 40)
    monkeypatch.setenv("NHACVIEC_WEB_SECURE_COOKIES", "true")
    settings = WebSettings()
    assert settings.secure_cookies is True and session_secret(settings) == "s" * 40
    assert "s" * 40 not in repr(settings)
    monkeypatch.setenv("NHACVIEC_WEB_SECRET", "short")
    with pytest.raises(ValueError, match="NHACVIEC_WEB_SECRET phải dài ít nhất 32 ký tự"):
        session_secret(WebSettings())
    monkeypatch.delenv("NHACVIEC_WEB_SECRET")
    with caplog.at_level("WARNING", logger="web.config"):
        first, second = session_secret(WebSettings()), session_secret(WebSettings())
    assert first != second and len(first) >= 43
    assert (
        "NHACVIEC_WEB_SECRET is not set" in caplog.text and "end when the web admin restarts" in caplog.text
    )


# --- server-side sessions, the forwarded header, the limiter's counters ---------------------------------


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
    # everyone together: a name that failed from its address in the window waits ...
    assert limiter.retry_after(("x-7", "192.0.2.7"), NOW) is not None
    assert limiter.retry_after(("x-7", "192.0.2.7"), NOW + timedelta(minutes=11)) is None
    # ... another name from the same (shared) address, or anyone who made no mistake, still signs in, once
    assert limiter.retry_after(("moi", "192.0.2.7"), NOW) is None
    assert limiter.retry_after(("xem", "192.0.2.250"), NOW) is None
    limiter.fail(("xem", "192.0.2.250"), NOW)
    assert limiter.retry_after(("xem", "192.0.2.250"), NOW) is not None


def test_a_spray_from_many_addresses_does_not_lock_out_the_office(engine: Engine) -> None:
    """520 failures from 26 addresses under made-up names: the admin, from an address that made no mistake, signs
    in with the right password (a QA probe found everyone refused for 10 minutes)."""
    clock = [NOW]
    app = client_for(engine, clock=lambda: clock[0]).app
    limiter = app.state.ctx.limiter  # type: ignore[attr-defined]
    for address in range(26):
        for name in range(20):
            limiter.fail((f"bia-{address}-{name}", f"198.51.100.{address}"), NOW)
    assert limiter.retry_after(("bia-3-4", "198.51.100.3"), NOW) is not None  # the sprayers wait
    admin = client_for(engine, clock=lambda: clock[0], address="192.0.2.200")
    admin.app.state.ctx.limiter = limiter  # type: ignore[attr-defined]
    response = sign_in(admin, "admin")
    assert response.status_code == 303 and response.headers["location"] == "/"


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


def test_workers_together_allow_no_more_tries_than_one_process(engine: Engine, monkeypatch) -> None:
    """``web --workers N``: each worker counts in its own memory, so each keeps 1/N of every limit."""
    workers = [LoginLimiter(5, timedelta(minutes=10), shares=2) for _ in range(2)]
    key = ("admin", "198.51.100.1")
    allowed = 0
    for attempt in range(20):  # the tries reach the workers in turn, as uvicorn's shared socket spreads them
        worker = workers[attempt % 2]
        if worker.retry_after(key, NOW) is None:
            allowed += 1
            worker.fail(key, NOW)
    assert allowed == 6  # ceil(5 / 2) on each of 2 workers; without shares it would be 10
    assert all(worker.retry_after(key, NOW) is not None for worker in workers)

    import uvicorn

    import scheduler.logs
    from cli.web import web

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.update(kwargs))
    # the command sets up the root logger on the stream of the moment: not in a test (later tests would log to
    # a stream pytest has closed)
    monkeypatch.setattr(scheduler.logs, "configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("NHACVIEC_WEB_SECRET", SECRET.get_secret_value())
    monkeypatch.delenv("NHACVIEC_WEB_LOGIN_LIMIT_SHARES", raising=False)
    web(host="127.0.0.1", port=8000, workers=3)
    assert started["workers"] == 3
    shared = WebSettings()
    assert shared.login_limit_shares == 3  # what each worker's create_app reads
    app = create_app(Settings(), engine, web_settings=shared, clock=lambda: NOW, hasher=FAST)
    assert app.state.ctx.limiter.max_failures == 2  # ceil(5 / 3)


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
