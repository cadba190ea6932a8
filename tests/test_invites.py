"""Invite codes: made by `nhacviec units invite`, they bind a Telegram chat (the bot, over the fake Bot API) or a
Zalo follower (a signed webhook call) to a unit, its head or a leader, once, before they expire."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from telegram import Bot

from config.settings import Settings
from inbound.bot import HELP, CompletionBot, poll
from store.db import make_engine, session_scope
from store.directory import current_directory
from store.invites import codes_in, create_invite, normalise_code, redeem
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_zalo import FakeZalo
from tests.support.web_support import FAST
from web.app import create_app
from web.config import WebSettings
from web.routes.zalo_webhook import PATH

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NEW_GROUP = "-1005555555555"
OTHER_GROUP = "-1006666666666"


@dataclass
class World:
    fake: FakeTelegram
    engine: Engine
    handler: CompletionBot
    run_cli: Callable[..., Any]

    def say(self, chat: str, text: str) -> None:
        self.fake.queue_text_from(chat, text, user_id=4242)

    def replies(self, chat: str) -> list[str]:
        return [message.visible_text for message in self.fake.messages_to(chat)]

    def run(self, expect: int, now: datetime | None = None) -> None:
        asyncio.run(_run(self, expect, now or datetime.now(TZ)))

    def invite(self, *args: str) -> dict[str, Any]:
        result = self.run_cli("units", "invite", *args, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    def directory(self) -> Any:
        with session_scope(self.engine) as session:
            return current_directory(session)


async def _run(world: World, expect: int, now: datetime) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with Bot(world.fake.token, base_url=f"{world.fake.url}/bot") as bot:
        polling = asyncio.create_task(poll(bot, world.handler, stop, poll_timeout=1, clock=lambda: now))
        deadline = loop.time() + 5
        while len(world.fake.sent) < expect and loop.time() < deadline and not polling.done():
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(polling, 5)


@pytest.fixture
def world(run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    assert run_cli("init").exit_code == 0
    engine = make_engine(Settings().effective_database_url)
    with FakeTelegram() as fake:
        monkeypatch.setenv("NHACVIEC_TELEGRAM_TOKEN", fake.token)
        monkeypatch.setenv("NHACVIEC_TELEGRAM_API_URL", fake.url)
        with session_scope(engine) as session:
            directory = current_directory(session)
        yield World(fake, engine, CompletionBot(engine, directory), run_cli)
    engine.dispose()


@pytest.mark.slow
def test_an_invite_link_binds_the_group_that_starts_the_bot_with_it(world: World) -> None:
    made = world.invite("TCCB")  # the bot's name asked of Telegram (getMe)
    code = made["code"]
    assert made["link"] == f"https://t.me/nhacviec_test_bot?start={code.replace('-', '')}"
    assert made["group_link"] == f"https://t.me/nhacviec_test_bot?startgroup={code.replace('-', '')}"
    assert made["target"] == "TCCB" and made["channel"] == "telegram"

    world.say(NEW_GROUP, "/nhiemvu")  # not bound yet: refused
    world.say(NEW_GROUP, f"/start@nhacviec_test_bot {code.replace('-', '').lower()}")  # the deep link's form
    world.say(NEW_GROUP, "/nhiemvu")  # heard at once, no restart
    world.run(expect=3)

    refused, bound, listing = world.replies(NEW_GROUP)
    assert refused.startswith("Nhóm chat này chưa được đăng ký")
    assert bound == (
        "Nhóm chat này đã được liên kết với Phòng Tổ chức cán bộ: từ nay nhắc việc gửi Phòng Tổ chức cán bộ "
        f"qua Telegram sẽ đến đây.\n\n{HELP}"
    )
    assert listing.startswith("Nhiệm vụ Phòng Tổ chức cán bộ chủ trì chưa hoàn thành")
    assert world.directory().unit("TCCB").contacts.telegram_chat_id == NEW_GROUP

    listed = json.loads(world.run_cli("units", "invites", "TCCB", "--json").stdout)
    assert [(i["state"], i["address"], i["joined"]) for i in listed] == [
        ("joined", NEW_GROUP, "Nhóm nhắc việc (4242)")
    ]


@pytest.mark.slow
def test_a_used_code_is_refused_with_a_sentence_and_binds_nothing(world: World) -> None:
    code = world.invite("TCCB", "--person", "head")["code"]
    world.say(NEW_GROUP, f"/start {code}")
    world.run(expect=1)
    world.say(OTHER_GROUP, f"/start {code}")
    world.run(expect=2)

    [refused] = world.replies(OTHER_GROUP)
    assert refused.startswith("Mã mời này đã được dùng lúc ")
    assert refused.endswith("mỗi mã chỉ dùng một lần, đề nghị Văn phòng Sở tạo mã mới nếu cần liên kết thêm.")
    head = world.directory().unit("TCCB").head
    assert head.contacts.telegram_chat_id == NEW_GROUP


def test_an_expired_code_is_refused_with_a_sentence(world: World) -> None:
    made = world.invite("KHTC")
    world.say(NEW_GROUP, f"/start {made['code']}")
    world.run(expect=1, now=datetime.now(TZ) + timedelta(days=7, minutes=1))

    [refused] = world.replies(NEW_GROUP)
    expires = datetime.fromisoformat(made["expires_at"]).astimezone(TZ)
    assert refused == (
        f"Mã mời này đã hết hạn lúc {expires:%H:%M ngày %d/%m/%Y}; đề nghị Văn phòng Sở tạo mã mới."
    )
    assert world.directory().unit("KHTC").contacts.telegram_chat_id == "-1001000000003"  # unchanged


def test_a_wrong_code_and_a_zalo_code_are_refused_on_telegram(world: World) -> None:
    zalo = world.invite("KHTC", "--channel", "zalo")["code"]
    world.say(NEW_GROUP, "/start AAAA-BBBB-CCCC")
    world.say(NEW_GROUP, f"/start {zalo}")
    world.run(expect=2)

    wrong, other = world.replies(NEW_GROUP)
    assert wrong.startswith("Mã mời 'AAAA-BBBB-CCCC' không đúng;")
    assert other == "Mã mời này dành cho Zalo; anh/chị hãy gửi mã trên Zalo."


@pytest.mark.slow
def test_unbind_removes_the_chat_and_the_bot_stops_hearing_it(world: World) -> None:
    code = world.invite("TCCB")["code"]
    world.say(NEW_GROUP, f"/start {code}")
    world.run(expect=1)

    result = world.run_cli("units", "unbind", "TCCB", "--channel", "telegram")
    assert result.exit_code == 0 and f"Đã gỡ liên kết telegram {NEW_GROUP}" in result.stdout
    world.say(NEW_GROUP, "/nhiemvu")
    world.run(expect=2)

    assert world.replies(NEW_GROUP)[1].startswith("Nhóm chat này chưa được đăng ký")
    assert world.directory().unit("TCCB").contacts.telegram_chat_id is None
    [listed] = json.loads(world.run_cli("units", "invites", "TCCB", "--json").stdout)
    assert listed["state"] == "unbound"


def test_a_leaders_private_chat_is_bound_by_its_invite(world: World) -> None:
    code = world.invite("PGD1")["code"]
    world.say("777000111", f"/start {code}")
    world.run(expect=1)

    [reply] = world.replies("777000111")
    assert reply.startswith("Chat này đã được liên kết với Phó Giám đốc Sở Trần Thị B:")
    assert world.directory().deputy("PGD1").contacts.telegram_chat_id == "777000111"


@pytest.mark.slow
def test_without_a_bot_name_the_invite_says_what_to_set_and_keeps_no_code(
    run_cli: Callable[..., Any],
) -> None:
    assert run_cli("init").exit_code == 0
    result = run_cli("units", "invite", "TCCB")
    assert result.exit_code == 1
    assert "NHACVIEC_TELEGRAM_BOT_USERNAME" in result.stderr
    assert json.loads(run_cli("units", "invites", "TCCB", "--json").stdout) == []


@pytest.mark.slow
def test_a_named_bot_needs_no_token(run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("init").exit_code == 0
    monkeypatch.setenv("NHACVIEC_TELEGRAM_BOT_USERNAME", "@so_gddt_bot")
    result = run_cli("units", "invite", "VP", "--person", "head")
    assert result.exit_code == 0, result.stderr
    assert "https://t.me/so_gddt_bot?start=" in result.stdout
    assert "▄" in result.stdout or "▀" in result.stdout  # the QR code, drawn for a terminal


# --- Zalo -----------------------------------------------------------------------------------------------


@pytest.fixture
def zalo_client(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, FakeZalo, Engine]]:
    assert run_cli("init").exit_code == 0
    fake = FakeZalo()
    monkeypatch.setenv("NHACVIEC_ZALO_APP_ID", fake.app_id)
    monkeypatch.setenv("NHACVIEC_ZALO_OA_SECRET_KEY", fake.oa_secret_key)
    engine = make_engine(Settings().effective_database_url)
    web = WebSettings(secret="s" * 40)  # type: ignore[call-arg]
    with TestClient(create_app(Settings(), engine, web_settings=web, hasher=FAST)) as client:
        yield client, fake, engine
    engine.dispose()


def _text(user_id: str, text: str) -> dict[str, Any]:
    return {
        "event_name": "user_send_text",
        "sender": {"id": user_id},
        "recipient": {"id": "oa-1"},
        "message": {"text": text, "msg_id": "m1"},
    }


@pytest.mark.slow
def test_a_zalo_follower_sending_the_code_is_bound_through_the_signed_webhook_and_answered(
    zalo_client: tuple[TestClient, FakeZalo, Engine],
    run_cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, fake, engine = zalo_client
    made = json.loads(
        run_cli("units", "invite", "TCCB", "--person", "head", "--channel", "zalo", "--json").stdout
    )
    assert made["link"] is None and "Gửi cho Official Account tin nhắn: " + made["code"] in made["steps"][1]
    spaced = made["code"].replace("-", " ").lower()

    body, headers = fake.signed_event(_text("8410001", f"Mã mời của tôi: {spaced}"))
    assert client.post(PATH, content=body, headers=headers).status_code == 200
    assert client.post(PATH, content=body, headers=headers).status_code == 200  # Zalo repeats: answered once
    body, headers = fake.signed_event(_text("8410002", made["code"]))  # someone else, the same code
    assert client.post(PATH, content=body, headers=headers).status_code == 200

    with session_scope(engine) as session:
        head = current_directory(session).unit("TCCB").head
    assert head.contacts.zalo_user_id == "8410001"
    [listed] = json.loads(run_cli("units", "invites", "TCCB", "--json").stdout)
    assert (listed["state"], listed["address"], listed["channel"]) == ("joined", "8410001", "zalo")

    # both are answered through the outbox, by an OA message (each has just written: the window is open)
    replies = {m["address"]: m for m in json.loads(run_cli("outbox", "list", "--json").stdout)}
    assert set(replies) == {"8410001", "8410002"}
    fake.start()
    try:
        fake.interact("8410001", "8410002")
        for name, value in {
            "SECRET_KEY": fake.secret_key,
            "REFRESH_TOKEN": fake.issue_refresh_token(),
            "API_URL": fake.url,
            "BUSINESS_API_URL": fake.url,
            "OAUTH_URL": fake.url,
        }.items():
            monkeypatch.setenv(f"NHACVIEC_ZALO_{name}", value)
        assert run_cli("outbox", "send").exit_code == 0
        texts = {m["user_id"]: m["text"] for m in fake.oa_messages}
    finally:
        fake.stop()
    assert texts["8410001"] == (
        "Tài khoản Zalo này đã được liên kết với Trưởng phòng Phòng Tổ chức cán bộ (Hoàng Văn E): từ nay nhắc "
        "việc gửi Trưởng phòng Phòng Tổ chức cán bộ (Hoàng Văn E) qua Zalo sẽ đến đây."
    )
    assert texts["8410002"].startswith("Mã mời này đã được dùng lúc ")
    assert len(fake.oa_messages) == 2


def test_an_unsigned_call_binds_nothing(
    zalo_client: tuple[TestClient, FakeZalo, Engine], run_cli: Callable[..., Any]
) -> None:
    client, fake, engine = zalo_client
    code = json.loads(run_cli("units", "invite", "KHTC", "--channel", "zalo", "--json").stdout)["code"]
    body, headers = fake.signed_event(_text("8410003", code), secret="not-the-oa-secret")
    assert client.post(PATH, content=body, headers=headers).status_code == 403
    with session_scope(engine) as session:
        assert current_directory(session).unit("KHTC").contacts.zalo_user_id == "zalo-placeholder-khtc"


# --- the codes themselves ---------------------------------------------------------------------------------


def test_codes_are_read_back_as_people_type_them() -> None:
    assert normalise_code("k7qx-9pdm-3hta") == "K7QX9PDM3HTA"
    assert normalise_code(" K7QX 9PDM 3HTA ") == "K7QX9PDM3HTA"
    assert normalise_code("K7QX-9PDM-3HTO") == "K7QX9PDM3HT0"  # O read as zero
    assert normalise_code("K7QX-9PDM-3HT") is None
    assert codes_in("Chào, mã của em là k7qx-9pdm-3hta ạ") == ["K7QX9PDM3HTA"]
    assert codes_in("Chào Văn phòng, em gửi báo cáo") == []


def test_two_chats_racing_for_one_code_bind_one(engine: Engine, run_cli: Callable[..., Any]) -> None:
    from config import UNITS_FILE
    from plan.units import load_directory
    from store.directory import seed_directory

    now = datetime.now(TZ)
    with session_scope(engine) as session:
        seed_directory(session, load_directory(UNITS_FILE))
        made = create_invite(session, "TCCB", "telegram", now=now, actor="test")
    with session_scope(engine) as session:
        redeem(session, made.code, "telegram", NEW_GROUP, "a", now=now)
    with session_scope(engine) as session, pytest.raises(Exception, match="đã được dùng"):
        redeem(session, made.code, "telegram", OTHER_GROUP, "b", now=now)
    with session_scope(engine) as session:
        assert current_directory(session).unit("TCCB").contacts.telegram_chat_id == NEW_GROUP
