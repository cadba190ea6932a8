"""The Telegram bot units answer with, over real HTTP against the fake Bot API's getUpdates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from telegram import Bot

from config import UNITS_FILE
from config.settings import Settings
from inbound.bot import HELP, SORRY, CompletionBot, poll
from plan.units import load_directory
from store.db import make_engine, session_scope
from store.models import AddressAlias, EventKind, TaskStatus
from store.reports import EXTENSION_REQUESTED, pending_extensions, reports_received
from store.tasks import find_task, history
from tests.support.fake_telegram import FakeTelegram

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2020, 11, 20, 9, 0, tzinfo=TZ)
TCCB = "-1001000000002"  # Phòng Tổ chức cán bộ's group
TCCB_HEAD = "-1001000000202"
PCMNV = "-1001000000007"  # a unit that sends periodic reports
OFFICE = "-1001000000001"  # Văn phòng Sở
STRANGER = "-1009999999999"
USER = 4242


@dataclass
class World:
    fake: FakeTelegram
    engine: Engine
    handler: CompletionBot

    def say(self, chat: str, text: str) -> None:
        self.fake.queue_text_from(chat, text, user_id=USER)

    def replies(self, chat: str) -> list[str]:
        return [message.visible_text for message in self.fake.messages_to(chat)]

    def run(self, expect: int, timeout: float = 5.0) -> None:
        """Poll until ``expect`` messages in all have been sent (or ``timeout``), then stop the loop."""
        asyncio.run(_run(self, expect, timeout))


async def _run(world: World, expect: int, timeout: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with Bot(world.fake.token, base_url=f"{world.fake.url}/bot") as bot:
        polling = asyncio.create_task(poll(bot, world.handler, stop, poll_timeout=1, clock=lambda: NOW))
        deadline = loop.time() + timeout
        while len(world.fake.sent) < expect and loop.time() < deadline and not polling.done():
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(polling, 5)


@pytest.fixture
def world(run_cli: Callable[..., object]) -> Iterator[World]:
    assert run_cli("init").exit_code == 0  # type: ignore[attr-defined]
    engine = make_engine(Settings().effective_database_url)
    with FakeTelegram() as fake:
        yield World(fake, engine, CompletionBot(engine, load_directory(UNITS_FILE)))
    engine.dispose()


def events(engine: Engine, code: str) -> list[tuple[str, str, str, str | None]]:
    with session_scope(engine) as session:
        return [(e.kind, e.actor, e.via, e.note) for e in history(session, find_task(session, code))]


# --- /nhiemvu --------------------------------------------------------------------------------------


def test_nhiemvu_lists_the_open_tasks_the_chats_unit_leads(world: World) -> None:
    world.say(TCCB, "/nhiemvu")
    world.run(expect=1)

    [reply] = world.replies(TCCB)
    lines = reply.splitlines()
    assert (
        lines[0]
        == "Nhiệm vụ Phòng Tổ chức cán bộ chủ trì chưa hoàn thành (kế hoạch CCHC-2020, tính đến 20/11/2020):"
    )
    codes = [line.split(" — ")[0].removeprefix("• ") for line in lines if line.startswith("• ")]
    assert codes == [
        "III.1",
        "III.2",
        "III.3",
        "IV.1",
        "IV.2",
        "IV.3",
        "IV.4",
        "IV.5",
        "IV.6",
        "IV.7",
        "IV.8",
    ]
    by_code = {line.split(" — ")[0].removeprefix("• "): line for line in lines if line.startswith("• ")}
    assert by_code["IV.3"].endswith("— hạn 31/03/2020 — QUÁ HẠN")
    assert by_code["IV.4"].endswith("— hạn 30/11/2020")
    assert by_code["IV.8"].endswith("— chưa có hạn")
    assert all(len(line.split(" — ")[1]) <= 91 for line in by_code.values())  # content shortened
    assert lines[-1] == "Báo hoàn thành: /xong MÃ [ghi chú]"


def test_the_unit_heads_chat_speaks_for_the_unit_and_done_tasks_drop_off(world: World) -> None:
    world.say(TCCB_HEAD, "/xong IV.3")
    world.say(TCCB_HEAD, "/nhiemvu")
    world.run(expect=2)

    done, listing = world.replies(TCCB_HEAD)
    assert done == "Đã ghi nhận nhiệm vụ IV.3 hoàn thành ngày 20/11/2020. Cảm ơn anh/chị!"
    assert "• IV.4" in listing and "• IV.3" not in listing


# --- /xong -----------------------------------------------------------------------------------------


def test_xong_marks_its_own_task_done_with_telegram_in_the_history(world: World) -> None:
    world.say(TCCB, "/xong iv.4 Đã ban hành Quyết định số 12/QĐ-SGDĐT")
    world.run(expect=1)

    assert world.replies(TCCB) == ["Đã ghi nhận nhiệm vụ IV.4 hoàn thành ngày 20/11/2020. Cảm ơn anh/chị!"]
    with session_scope(world.engine) as session:
        task = find_task(session, "IV.4")
        assert (task.status, task.done_on) == (TaskStatus.DONE, date(2020, 11, 20))
        last = history(session, task)[-1]
    assert (last.kind, last.actor, last.via, last.effective_on) == (
        EventKind.DONE,
        f"telegram:{USER}",
        "telegram",
        date(2020, 11, 20),
    )
    assert last.note == "Đã ban hành Quyết định số 12/QĐ-SGDĐT"


def test_xong_on_another_units_task_is_refused_logged_and_changes_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    before = events(world.engine, "I.1")
    world.say(TCCB, "/xong I.1 xong rồi")

    with caplog.at_level(logging.WARNING, logger="inbound.bot"):
        world.run(expect=1)

    assert world.replies(TCCB) == [
        "Nhiệm vụ I.1 do Văn phòng Sở chủ trì, đơn vị của anh/chị không cập nhật được."
    ]
    assert events(world.engine, "I.1") == before
    with session_scope(world.engine) as session:
        assert find_task(session, "I.1").status == TaskStatus.OPEN
    [refusal] = [r.getMessage() for r in caplog.records if "bot refused" in r.getMessage()]
    assert (
        refusal == f"bot refused chat={TCCB} user={USER} text='/xong I.1 xong rồi' reason=not the lead unit"
    )
    assert world.fake.token not in caplog.text


def test_xong_twice_says_it_is_already_done(world: World) -> None:
    world.say(TCCB, "/xong IV.4")
    world.say(TCCB, "/xong IV.4")
    world.run(expect=2)

    assert world.replies(TCCB)[1] == "Nhiệm vụ IV.4 đã được đánh dấu hoàn thành ngày 20/11/2020."
    assert [kind for kind, *_ in events(world.engine, "IV.4")].count(EventKind.DONE) == 1


# --- who may talk ----------------------------------------------------------------------------------


def test_an_unregistered_chat_is_refused_with_its_chat_id_and_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.say(STRANGER, "/xong IV.4")

    with caplog.at_level(logging.WARNING, logger="inbound.bot"):
        world.run(expect=1)

    [reply] = world.replies(STRANGER)
    assert reply.startswith("Nhóm chat này chưa được đăng ký với đơn vị nào")
    assert f"báo Văn phòng Sở mã chat {STRANGER}" in reply
    assert "reason=unregistered chat" in caplog.text
    with session_scope(world.engine) as session:
        assert find_task(session, "IV.4").status == TaskStatus.OPEN


def test_a_group_that_became_a_supergroup_keeps_its_unit(world: World) -> None:
    with session_scope(world.engine) as session:
        session.add(AddressAlias(channel="telegram", old=TCCB, new="-1001000000999"))
    world.say("-1001000000999", "/xong IV.4")
    world.run(expect=1)

    assert world.replies("-1001000000999") == [
        "Đã ghi nhận nhiệm vụ IV.4 hoàn thành ngày 20/11/2020. Cảm ơn anh/chị!"
    ]


def test_group_chatter_and_commands_for_other_bots_get_no_answer(world: World) -> None:
    world.say(TCCB, "Chào cả nhà")
    world.say(STRANGER, "Chào cả nhà")
    world.say(TCCB, "/nhiemvu@another_bot")
    world.say(TCCB, "/help@nhacviec_test_bot")
    world.run(expect=1)

    assert world.replies(TCCB) == [f"Nhóm chat này thuộc Phòng Tổ chức cán bộ.\n\n{HELP}"]
    assert world.replies(STRANGER) == []


def test_handled_commands_are_not_replayed_after_a_restart(world: World) -> None:
    world.say(TCCB, "/xong IV.4")
    world.run(expect=1)
    world.say(TCCB, "/help")
    world.run(expect=2)

    replies = world.replies(TCCB)
    assert len(replies) == 2 and replies[1].endswith(HELP)


def test_a_failure_inside_the_bot_is_answered_politely_and_polling_goes_on(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'no-schema.db'}")  # no tables: every query fails
    world.handler = CompletionBot(broken, world.handler.directory)
    world.say(TCCB, "/nhiemvu")
    world.say(TCCB, "/xong IV.4")

    with caplog.at_level(logging.ERROR, logger="inbound.bot"):
        world.run(expect=2)

    assert world.replies(TCCB) == [SORRY, SORRY]
    assert "bot could not handle update" in caplog.text
    broken.dispose()


# --- /baocao and /giahan ---------------------------------------------------------------------------


def test_baocao_records_the_units_report_once(world: World) -> None:
    world.say(PCMNV, "/baocao Q1")
    world.say(PCMNV, "/baocao quý I Công văn 45")
    world.run(expect=2)

    first, second = world.replies(PCMNV)
    assert first == (
        "Đã ghi nhận Báo cáo quý I năm 2020 của Các phòng chuyên môn, nghiệp vụ Sở (ngày nhận 20/11/2020). "
        "Cảm ơn anh/chị!"
    )
    assert second.endswith("đã được ghi nhận từ ngày 20/11/2020.")
    with session_scope(world.engine) as session:
        [report] = reports_received(session)
    assert (report.unit, report.period, report.received_on, report.actor, report.via, report.note) == (
        "PCMNV",
        "Q1",
        date(2020, 11, 20),
        f"telegram:{USER}",
        "telegram",
        "Công văn 45",
    )


def test_baocao_from_a_unit_that_does_not_report_is_explained(world: World) -> None:
    world.say(TCCB, "/baocao Q1")
    world.run(expect=1)

    [reply] = world.replies(TCCB)
    assert "Đơn vị TCCB không thuộc các đơn vị phải báo cáo định kỳ của kế hoạch CCHC-2020" in reply


def test_giahan_records_the_request_and_tells_the_office(world: World) -> None:
    world.say(TCCB, "/giahan IV.4 31/12/2020 Chờ ý kiến của Sở Nội vụ")
    world.run(expect=2)

    assert world.replies(TCCB) == [
        "Đã gửi Văn phòng Sở đề nghị gia hạn nhiệm vụ IV.4 đến ngày 31/12/2020. "
        "Hạn chỉ thay đổi khi đề nghị được duyệt."
    ]
    [notice] = world.replies(OFFICE)
    assert notice.startswith(
        "Đề nghị gia hạn nhiệm vụ IV.4 của Phòng Tổ chức cán bộ: hạn hiện tại 30/11/2020, đề nghị đến 31/12/2020."
    )
    assert "Lý do: Chờ ý kiến của Sở Nội vụ" in notice
    assert "nhacviec extensions approve IV.4" in notice
    with session_scope(world.engine) as session:
        task = find_task(session, "IV.4")
        [request] = pending_extensions(session)
        assert task.effective_due == date(2020, 11, 30)  # unchanged until approved
    assert (request.event.kind, request.event.note, request.event.new_due, request.event.via) == (
        EXTENSION_REQUESTED,
        "Chờ ý kiến của Sở Nội vụ",
        date(2020, 12, 31),
        "telegram",
    )


def test_giahan_on_another_units_task_is_refused(world: World) -> None:
    world.say(TCCB, "/giahan I.1 31/12/2020 Bận")
    world.run(expect=1)

    assert world.replies(TCCB) == [
        "Nhiệm vụ I.1 do Văn phòng Sở chủ trì, đơn vị của anh/chị không cập nhật được."
    ]
    assert world.replies(OFFICE) == []
    assert EXTENSION_REQUESTED not in [kind for kind, *_ in events(world.engine, "I.1")]


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("/xong", "Thiếu mã nhiệm vụ. Cú pháp: /xong MÃ [ghi chú]"),
        ("/baocao", "Thiếu kỳ báo cáo. Cú pháp: /baocao KỲ"),
        ("/giahan IV.4 31/12/2020", "Thiếu thông tin. Cú pháp: /giahan MÃ NGÀY lý do"),
        ("/lamgi IV.4", "Bot không có lệnh /lamgi."),
    ],
    ids=["xong-no-code", "baocao-no-period", "giahan-no-reason", "unknown-command"],
)
def test_malformed_commands_get_the_help(world: World, text: str, start: str) -> None:
    world.say(TCCB, text)
    world.run(expect=1)

    [reply] = world.replies(TCCB)
    assert reply.startswith(start)
    assert reply.endswith(HELP)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/xong IV.99", "Không có nhiệm vụ mã 'IV.99' trong kế hoạch CCHC-2020."),
        ("/baocao Q9", "Kỳ báo cáo không hợp lệ: «Q9»."),
        ("/giahan IV.4 31/13/2020 Chờ", "Ngày đề nghị gia hạn '31/13/2020' không hợp lệ"),
        ("/giahan IV.4 01/11/2020 Chờ", "Ngày đề nghị gia hạn 01/11/2020 phải sau hạn hiện tại 30/11/2020."),
    ],
    ids=["unknown-task", "bad-period", "bad-date", "earlier-date"],
)
def test_wrong_arguments_get_one_clear_sentence_and_change_nothing(
    world: World, text: str, expected: str
) -> None:
    before = events(world.engine, "IV.4")
    world.say(PCMNV if text.startswith("/baocao") else TCCB, text)
    world.run(expect=1)

    [reply] = world.fake.sent
    assert reply.visible_text.startswith(expected)
    assert events(world.engine, "IV.4") == before
