"""A long message goes in parts (Telegram's 4,096 characters, Zalo's 2,000): when a part fails, the parts before it
have reached the recipient, so the retry sends only the rest. The outbox row keeps what went (its provider ids)
between attempts, through the dispatcher, on SQLite and PostgreSQL; a message sent again by hand goes whole."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from delivery.dispatcher import Dispatcher
from delivery.retry import RetryPolicy
from notifiers.base import DeliveryError, OutgoingMessage
from notifiers.telegram import TelegramNotifier
from store import outbox
from store.db import session_scope
from store.models import OutboxMessage, OutboxStatus
from tests.support.fake_telegram import FakeTelegram, ScriptedError
from tests.support.outbox_fill import T0, add, row

CHAT = "5001"
PARTS = [f"<b>Phần {i}</b>\n" + "nội dung " * 40 for i in range(1, 4)]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def flood_on_second_part(fake: FakeTelegram) -> None:
    """The first part goes, the second is refused once (flood control), as Telegram does under load."""
    fake.fail(CHAT, ScriptedError(429, "Too Many Requests: retry after 1", {"retry_after": 1}, after=1))


def firsts(fake: FakeTelegram) -> list[str]:
    return [m.visible_text.split("\n")[0] for m in fake.messages_to(CHAT)]


def long_message(**fields: object) -> OutgoingMessage:
    values: dict[str, object] = {
        "key": "bundle/x|PGD1|telegram",
        "channel": "telegram",
        "address": CHAT,
        "recipient_name": "Phó Giám đốc",
        "subject": "Bản tin",
        "text": "",
        "html": PARTS[0],
        "extra": {"telegram_parts": PARTS},
    }
    return OutgoingMessage(**(values | fields))  # type: ignore[arg-type]


async def send(fake: FakeTelegram, message: OutgoingMessage) -> object:
    async with TelegramNotifier(fake.token, api_url=fake.url) as notifier:
        try:
            return await notifier.send(message)
        except DeliveryError as error:
            return error


def test_the_notifier_says_which_parts_went_and_sends_only_the_rest_when_told(fake: FakeTelegram) -> None:
    flood_on_second_part(fake)
    failed = asyncio.run(send(fake, long_message()))

    assert isinstance(failed, DeliveryError) and not failed.permanent
    assert firsts(fake) == ["Phần 1"]
    assert failed.parts_done == (str(fake.messages_to(CHAT)[0].message_id),)

    result = asyncio.run(send(fake, long_message(parts_done=failed.parts_done)))

    assert firsts(fake) == ["Phần 1", "Phần 2", "Phần 3"]  # each part once
    ids = [str(m.message_id) for m in fake.messages_to(CHAT)]
    assert getattr(result, "provider_id", None) == ",".join(ids)


def dispatcher(engine: Engine, fake: FakeTelegram) -> Dispatcher:
    notifier = TelegramNotifier(fake.token, api_url=fake.url)
    policy = RetryPolicy(
        max_attempts=3, base_seconds=1, max_seconds=1, window_seconds=60, rng=random.Random(1)
    )
    return Dispatcher(engine, {"telegram": notifier}, policy=policy)


def the_row(engine: Engine) -> OutboxMessage:
    with session_scope(engine) as session:
        found = session.exec(select(OutboxMessage)).one()
        session.expunge(found)
        return found


def telegram_row() -> outbox.NewMessage:
    return row(
        "bundle/x|PGD1|telegram",
        channel="telegram",
        address=CHAT,
        body_html=PARTS[0],
        extra={"telegram_parts": PARTS},
    )


def test_the_dispatcher_keeps_the_parts_that_went_and_the_retry_sends_the_rest(
    engine: Engine, fake: FakeTelegram
) -> None:
    add(engine, telegram_row())
    flood_on_second_part(fake)

    asyncio.run(dispatcher(engine, fake).run_once(T0))
    waiting = the_row(engine)
    assert waiting.status == OutboxStatus.PENDING and waiting.attempts == 1
    assert waiting.provider_id == str(fake.messages_to(CHAT)[0].message_id)  # what went, kept with the row

    asyncio.run(dispatcher(engine, fake).run_once(waiting.next_attempt_at + timedelta(seconds=1)))
    sent = the_row(engine)
    assert sent.status == OutboxStatus.SENT
    assert firsts(fake) == ["Phần 1", "Phần 2", "Phần 3"]
    assert sent.provider_id == ",".join(str(m.message_id) for m in fake.messages_to(CHAT))


def test_a_message_sent_again_by_hand_goes_whole(engine: Engine, fake: FakeTelegram) -> None:
    add(engine, telegram_row())
    asyncio.run(dispatcher(engine, fake).run_once(T0))
    assert the_row(engine).status == OutboxStatus.SENT and len(firsts(fake)) == 3

    with session_scope(engine) as session:
        assert outbox.requeue(session, key="bundle/x|PGD1|telegram", now=T0) == ["bundle/x|PGD1|telegram"]
    asyncio.run(dispatcher(engine, fake).run_once(T0 + timedelta(seconds=1)))

    assert firsts(fake) == ["Phần 1", "Phần 2", "Phần 3"] * 2


def test_parts_that_do_not_fit_the_column_are_kept_as_a_count() -> None:
    many = tuple(str(10**12 + n) for n in range(30))
    kept = outbox._parts_value(many)["provider_id"]
    assert kept == "#30" and outbox.parts_done(kept) == ("",) * 30
    assert outbox.parts_done(",".join(many[:3])) == many[:3]
    assert outbox.parts_done(None) == ()


def test_a_zalo_route_survives_when_the_ids_do_not_fit() -> None:
    """Eight ZNS items of long ids: the row keeps "zns:#8", so the retry goes on by ZNS and skips all eight."""
    zns = tuple(f"zns:{'9' * 32}" for _ in range(8))
    kept = outbox._parts_value(zns)["provider_id"]
    assert kept == "zns:#8" and outbox.parts_done(kept) == ("zns:",) * 8


def test_a_sent_rows_long_provider_ids_are_shortened_to_the_column() -> None:
    ids = ",".join(str(10**12 + n) for n in range(40))
    values = outbox.sent_values(outbox_row(), provider_id=ids, at=T0)
    assert len(values["provider_id"]) <= outbox.PARTS_COLUMN_CHARS and values["provider_id"].endswith("…(40)")


def outbox_row():  # type: ignore[no-untyped-def]
    class Row:
        id, attempts = 1, 0

    return Row()
