"""Accounts on the web: an admin creates, changes, disables and re-enables accounts and sets a forgotten password;
everyone changes their own password. Each change ends the sessions it should, and the last admin stays."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from config.settings import Settings
from plan.errors import UserError
from store.db import session_scope
from store.users import add_user, get_user, list_users, set_disabled, set_role, verify_password
from tests.support.web_support import FAST, sample_engine
from web.app import create_app
from web.config import WebSettings
from web.sessions import COOKIE

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2020, 12, 7, 9, 0, tzinfo=TZ)
PASSWORD = "mat-khau-thu-nghiem"
NEW = "mat-khau-moi-2020"
SECRET = SecretStr("web-secret-for-the-users-tests-0123456789")
_template: dict[str, Path] = {}


@pytest.fixture
def engine(run_cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = sample_engine(run_cli, tmp_path_factory, _template)
    with session_scope(engine) as db:
        add_user(db, "admin", PASSWORD, "admin", hasher=FAST)
        add_user(db, "viewer", PASSWORD, "viewer", hasher=FAST)
        add_user(db, "tccb", PASSWORD, "unit", "TCCB", hasher=FAST)
    yield engine
    engine.dispose()


def browser(engine: Engine) -> TestClient:
    app = create_app(
        Settings(), engine, web_settings=WebSettings(secret=SECRET), clock=lambda: NOW, hasher=FAST
    )
    return TestClient(app, client=("203.0.113.9", 50000), follow_redirects=False)


def csrf_of(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)


def signed_in(engine: Engine, name: str, password: str = PASSWORD) -> TestClient:
    client = browser(engine)
    answer = client.post(
        "/login", data={"csrf": csrf_of(client, "/login"), "name": name, "password": password, "next": "/"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/", name
    return client


def post(client: TestClient, path: str, **fields: str) -> httpx.Response:
    return client.post(path, data={"csrf": csrf_of(client, "/account"), **fields})


def is_signed_in(client: TestClient) -> bool:
    return client.get("/").status_code == 200


def test_an_admin_creates_an_account_that_can_then_sign_in(engine: Engine) -> None:
    admin = signed_in(engine, "admin")
    answer = post(
        admin, "/users", name="Nguyen.Van.A", role="unit", unit="KHTC", password=NEW, password_again=NEW
    )
    assert answer.status_code == 303
    page = admin.get(answer.headers["location"])
    assert "Đã tạo tài khoản nguyen.van.a." in page.text
    assert re.search(r'data-user="nguyen.van.a">.*?đơn vị · KHTC', page.text, re.S)
    assert is_signed_in(signed_in(engine, "nguyen.van.a", NEW))


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"name": "viewer", "role": "viewer"}, "Tài khoản 'viewer' đã có; để đặt mật khẩu mới"),
        ({"name": "a b", "role": "viewer"}, "Tên đăng nhập 'a b' không hợp lệ"),
        ({"name": "x.unit", "role": "unit"}, "cần chỉ rõ đơn vị"),
        (
            {"name": "x.short", "role": "viewer", "password": "ngan", "password_again": "ngan"},
            "ít nhất 8 ký tự",
        ),
        ({"name": "x.twice", "role": "viewer", "password_again": NEW + "!"}, "không giống nhau"),
    ],
)
def test_a_bad_new_account_gets_one_vietnamese_sentence_and_changes_nothing(
    engine: Engine, fields: dict[str, str], says: str
) -> None:
    admin = signed_in(engine, "admin")
    with session_scope(engine) as db:
        before = sorted(user.name for user in list_users(db))
    answer = post(admin, "/users", **({"password": NEW, "password_again": NEW} | fields))
    assert answer.status_code == 400 and says in html.unescape(answer.text)
    assert "Traceback" not in answer.text
    with session_scope(engine) as db:
        assert sorted(user.name for user in list_users(db)) == before


def test_a_role_change_on_the_web_ends_that_accounts_sessions_and_gives_the_new_rights(
    engine: Engine,
) -> None:
    admin = signed_in(engine, "admin")
    viewer = signed_in(engine, "viewer")
    assert viewer.get("/manual").status_code == 403
    assert post(admin, "/users/viewer/role", role="admin", unit="").status_code == 303
    assert not is_signed_in(viewer)
    assert signed_in(engine, "viewer").get("/manual").status_code == 200
    assert is_signed_in(admin)


def test_disabling_on_the_web_signs_the_account_out_everywhere_and_enabling_lets_it_back(
    engine: Engine,
) -> None:
    admin = signed_in(engine, "admin")
    unit = signed_in(engine, "tccb")
    assert post(admin, "/users/tccb/disable").status_code == 303
    assert not is_signed_in(unit)
    with session_scope(engine) as db:
        assert verify_password(db, "tccb", PASSWORD, hasher=FAST) is None
    assert "đã khóa" in admin.get("/users").text
    assert post(admin, "/users/tccb/enable").status_code == 303
    assert is_signed_in(signed_in(engine, "tccb"))


def test_an_admin_sets_a_forgotten_password(engine: Engine) -> None:
    admin = signed_in(engine, "admin")
    viewer = signed_in(engine, "viewer")
    assert post(admin, "/users/viewer/password", password=NEW, password_again=NEW).status_code == 303
    assert not is_signed_in(viewer)
    assert is_signed_in(signed_in(engine, "viewer", NEW))


@pytest.mark.parametrize("change", ["role", "disable"])
def test_the_web_keeps_the_last_admin_and_says_why(engine: Engine, change: str) -> None:
    admin = signed_in(engine, "admin")
    path, fields = (
        ("/users/admin/role", {"role": "viewer"}) if change == "role" else ("/users/admin/disable", {})
    )
    answer = post(admin, path, **fields)
    assert answer.status_code == 400
    assert "tài khoản quản trị cuối cùng còn dùng được" in answer.text
    assert is_signed_in(admin)
    with session_scope(engine) as db:
        account = get_user(db, "admin")
        assert account is not None and account.role == "admin" and not account.disabled
    # With a second admin the first may step down.
    with session_scope(engine) as db:
        set_role(db, "viewer", "admin")
    assert post(admin, path, **fields).status_code == 303


def test_the_command_line_may_still_disable_the_last_admin(engine: Engine) -> None:
    with session_scope(engine) as db, pytest.raises(UserError):
        set_disabled(db, "admin", True, keep_an_admin=True)  # as the web asks
    with session_scope(engine) as db:
        set_disabled(db, "admin", True)  # as `nhacviec users disable admin` does: the way back in stays open
    with session_scope(engine) as db:
        account = get_user(db, "admin")
        assert account is not None and account.disabled


def test_only_admins_manage_accounts(engine: Engine) -> None:
    for who in ("viewer", "tccb"):
        client = signed_in(engine, who)
        assert client.get("/users").status_code == 403
        assert post(client, "/users/admin/disable").status_code == 403
        assert (
            post(client, "/users", name="x.y", role="admin", password=NEW, password_again=NEW).status_code
            == 403
        )
    with session_scope(engine) as db:
        assert get_user(db, "x.y") is None


def test_changing_ones_own_password_keeps_this_browser_and_ends_the_others(engine: Engine) -> None:
    here = signed_in(engine, "tccb")
    elsewhere = signed_in(engine, "tccb")
    thief = browser(engine)
    thief.cookies.set(COOKIE, elsewhere.cookies[COOKIE])
    answer = post(here, "/account/password", current=PASSWORD, password=NEW, password_again=NEW)
    assert answer.status_code == 303
    assert "Đã đổi mật khẩu" in here.get(answer.headers["location"]).text
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere) and not is_signed_in(thief)
    assert is_signed_in(signed_in(engine, "tccb", NEW))


def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_sign_in(engine: Engine) -> None:
    here = signed_in(engine, "viewer")
    for _ in range(5):
        answer = post(here, "/account/password", current="sai-mat-khau", password=NEW, password_again=NEW)
        assert answer.status_code == 400 and "Mật khẩu hiện tại không đúng" in answer.text
    blocked = post(here, "/account/password", current=PASSWORD, password=NEW, password_again=NEW)
    assert blocked.status_code == 429 and "quá nhiều lần" in blocked.text
    with session_scope(engine) as db:
        assert verify_password(db, "viewer", PASSWORD, hasher=FAST) is not None
    assert is_signed_in(here)


def test_every_page_names_the_account_page_and_admins_see_the_accounts_link(engine: Engine) -> None:
    admin = signed_in(engine, "admin").get("/").text
    unit = signed_in(engine, "tccb").get("/").text
    assert 'href="/account"' in admin and 'href="/users"' in admin
    assert 'href="/account"' in unit and 'href="/users"' not in unit
