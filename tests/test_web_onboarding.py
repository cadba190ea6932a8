"""The web side of onboarding: a unit's invites (made, shown once with their QR code, revoked), who joined,
unbinding in one click, and the page "Sẵn sàng"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.directory import add_unit, current_directory
from store.invites import redeem
from store.users import add_user
from tests.support.web_pages import FAST, NOW, PASSWORD, client_for, csrf_of, text_of
from web.routes import readiness, units


@pytest.fixture
def engine(web_engine: Engine) -> Engine:
    """The sample plan with I.1 and IV.4 done, an admin and a TCCB account (tests/support/web_pages.py)."""
    return web_engine


@pytest.fixture
def admin(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("NHACVIEC_TELEGRAM_BOT_USERNAME", "so_gddt_bot")
    return client_for(engine, "chanh.vp")


def make_invite(client: TestClient, person: str = "unit", channel: str = "telegram") -> str:
    data = {"csrf": csrf_of(client, "/units/TCCB"), "person": person, "channel": channel}
    response = client.post("/units/TCCB/invites", data=data)
    assert response.status_code == 200, text_of(response.text)
    match = re.search(r'data-code="([0-9A-Z-]+)"', response.text)
    assert match
    return match.group(1)


def test_an_invite_is_shown_once_with_its_link_and_qr_then_listed_with_who_joined(
    admin: TestClient, engine: Engine
) -> None:
    data = {"csrf": csrf_of(admin, "/units/TCCB"), "person": "head", "channel": "telegram"}
    page = admin.post("/units/TCCB/invites", data=data)

    assert page.status_code == 200
    code = re.search(r'data-code="([0-9A-Z-]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert f'href="https://t.me/so_gddt_bot?start={code.replace("-", "")}"' in page.text
    assert "<svg" in page.text and 'href="data:image/png;base64,' in page.text
    assert "Mã chỉ hiện một lần" in text_of(page.text)
    unit_page = admin.get("/units/TCCB").text
    assert code not in unit_page  # only its hash is kept
    assert 'data-state="pending"' in unit_page

    with session_scope(engine) as db:
        redeem(db, code, "telegram", "-1005555555555", "Nhóm TCCB (4242)", now=NOW + timedelta(hours=1))

    listed = admin.get("/units/TCCB").text
    assert 'data-state="joined"' in listed
    assert "Nhóm TCCB (4242)" in listed
    assert 'data-binding="head-telegram"' in listed and "-1005555555555" in listed


def test_unbinding_is_one_click(admin: TestClient, engine: Engine) -> None:
    data = {"csrf": csrf_of(admin, "/units/TCCB"), "person": "unit", "channel": "telegram"}
    response = admin.post("/units/TCCB/unbind", data=data)

    assert response.status_code == 303 and response.headers["location"] == "/units/TCCB?ok=unbound"
    with session_scope(engine) as db:
        assert current_directory(db).unit("TCCB").contacts.telegram_chat_id is None
    page = admin.get("/units/TCCB?ok=unbound").text
    assert "Đã gỡ liên kết." in text_of(page) and 'data-binding="unit-telegram"' not in page


def test_a_pending_invite_can_be_revoked_and_then_binds_nothing(admin: TestClient, engine: Engine) -> None:
    code = make_invite(admin, channel="zalo")
    page = admin.get("/units/TCCB").text
    invite_id = re.search(r'data-invite="(\d+)" data-state="pending"', page).group(1)  # type: ignore[union-attr]

    response = admin.post(
        f"/units/TCCB/invites/{invite_id}/revoke", data={"csrf": csrf_of(admin, "/units/TCCB")}
    )

    assert response.status_code == 303
    assert 'data-state="revoked"' in admin.get("/units/TCCB").text
    with session_scope(engine) as db, pytest.raises(Exception, match="đã bị huỷ"):
        redeem(db, code, "zalo", "8410001", "Zalo 8410001", now=NOW)


def test_without_a_bot_name_the_page_says_what_to_set(engine: Engine) -> None:
    client = client_for(engine, "chanh.vp")
    data = {"csrf": csrf_of(client, "/units/TCCB"), "person": "unit", "channel": "telegram"}
    response = client.post("/units/TCCB/invites", data=data)
    assert response.status_code == 400
    assert "NHACVIEC_TELEGRAM_BOT_USERNAME" in text_of(response.text)
    assert "data-invite=" not in client.get("/units/TCCB").text


def test_the_readiness_page_names_unreachable_units_tasks_and_placeholders(engine: Engine) -> None:
    with session_scope(engine) as db:
        add_unit(db, "KT", "Phòng Khảo thí")
        add_user(db, "xem", PASSWORD, "viewer", hasher=FAST)
    viewer = client_for(engine, "xem")

    page = viewer.get("/readiness")

    assert page.status_code == 200
    assert 'data-unreachable="KT"' in page.text
    assert 'data-placeholder="TCCB-email"' in page.text
    assert 'data-task="IV.4"' not in page.text  # done: not listed
    assert 'data-task="IV.3"' in page.text  # open, its lead reached by no configured channel
    assert "Chưa sẵn sàng" in text_of(page.text)
    checked = viewer.get("/readiness?check=1").text
    assert 'data-channel="email" data-answering="None"' in checked  # nothing configured: nothing asked


def test_a_unit_account_cannot_see_readiness_and_a_viewer_cannot_invite(engine: Engine) -> None:
    assert client_for(engine, "tccb").get("/readiness").status_code == 403
    with session_scope(engine) as db:
        add_user(db, "xem", PASSWORD, "viewer", hasher=FAST)
    viewer = client_for(engine, "xem")
    csrf = csrf_of(viewer, "/units/TCCB")
    for path in ("/units/TCCB/invites", "/units/TCCB/unbind", "/units/TCCB/invites/1/revoke"):
        assert viewer.post(path, data={"csrf": csrf}).status_code == 403, path


def test_the_new_post_routes_check_the_csrf_token() -> None:
    from web.deps import csrf_protect

    for module in (units, readiness):
        for route in module.router.routes:
            if "POST" in getattr(route, "methods", set()):
                dependencies = [d.dependency for d in route.dependencies]  # type: ignore[attr-defined]
                assert csrf_protect in dependencies, route.path  # type: ignore[attr-defined]


def test_an_expired_invite_shows_as_expired(admin: TestClient) -> None:
    make_invite(admin)
    later = client_for(
        admin.app.state.ctx.engine, "chanh.vp", now=datetime.fromisoformat("2021-01-01T08:00:00+07:00")
    )
    assert 'data-state="expired"' in later.get("/units/TCCB").text
