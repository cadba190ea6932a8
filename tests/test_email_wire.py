"""Email at the speed of the wire: built once when enqueued (bytes stored with the row), outcomes recorded
in groups."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

import store.outbox
from delivery.dispatcher import Dispatcher
from delivery.pipeline import enqueue
from notifiers.base import OutgoingMessage
from notifiers.email import EmailNotifier, build_email, email_bytes, finish_email, prebuilt_email, sender_line
from store.db import session_scope
from store.models import OutboxMessage, OutboxStatus
from store.outbox import content_of
from tests.support.outbox_fill import row
from tests.support.smtp_server import running_smtp_server

SENDER = "Văn phòng Sở Nội vụ, tỉnh Quảng Nam <nhacviec@snv.gov.vn>"
AT = datetime(2020, 12, 1, 0, 30, tzinfo=UTC)

MESSAGE = OutgoingMessage(
    key="reminder/CCHC-2020:IV.4/2020-12-01/d1|TCCB.head|email",
    channel="email",
    address="truong.phong@snv.gov.vn",
    recipient_name="Trưởng phòng Tổ chức cán bộ (Hoàng Văn E)",
    subject="[Nhắc việc] IV.4 quá hạn 1 ngày làm việc: kết quả cải cách hành chính năm 2020",
    text="Kính gửi anh Hoàng Văn E,\nnhiệm vụ IV.4 đã quá hạn.\n" * 20,
    html="<p>Kính gửi anh <b>Hoàng Văn E</b>,</p><p>nhiệm vụ IV.4 đã quá hạn.</p>" * 20,
)


def parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def test_a_prebuilt_message_is_the_message_build_email_makes() -> None:
    whole = email_bytes(build_email(MESSAGE, SENDER, sent_at=AT))
    domain = "snv.gov.vn"
    finished = finish_email(prebuilt_email(MESSAGE), sender_line(SENDER), MESSAGE.key, domain, AT)
    assert finished.isascii() and all(len(line) <= 998 for line in finished.split(b"\r\n"))
    one, other = parsed(whole), parsed(finished)
    assert sorted(one.keys()) == sorted(other.keys())
    for name in one:
        if name != "Content-Type":  # its multipart boundary is random
            assert str(one[name]) == str(other[name]), name
    assert one.get_content_type() == other.get_content_type() == "multipart/alternative"
    assert other["From"].addresses[0].display_name == "Văn phòng Sở Nội vụ, tỉnh Quảng Nam"
    assert one.get_body(("plain",)).get_content() == other.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert one.get_body(("html",)).get_content() == other.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_email_rows_are_built_when_enqueued_and_sent_as_built(engine: Engine) -> None:
    rows = [
        row(f"k{i}", address=f"unit{i}@nhacviec.example", subject=f"Nhắc việc số {i}", recipient=f"U{i}")
        for i in range(30)
    ]
    telegram = row("chat", channel="telegram", address="-100123")
    enqueue(engine, [*rows, telegram], {}, now=AT)
    with session_scope(engine) as session:
        messages = {m.id: m.key for m in session.exec(select(OutboxMessage))}
        stored = {messages[i]: c for i, c in content_of(session, list(messages)).items()}
    assert all(stored[f"k{i}"].wire for i in range(30)) and stored["chat"].wire is None
    assert parsed(stored["k7"].wire)["To"].addresses[0].addr_spec == "unit7@nhacviec.example"

    built: list[str] = []
    original = build_email

    def counting(message: OutgoingMessage, sender: str, **kw: object) -> object:
        built.append(message.key)
        return original(message, sender, **kw)  # type: ignore[arg-type]

    import notifiers.email

    notifiers.email.build_email = counting  # type: ignore[assignment]
    groups: list[int] = []
    finish_many = store.outbox.finish_many

    def counted(engine: Engine, worker: str, outcomes: list[tuple[int, dict[str, object]]]) -> list[bool]:
        groups.append(len(outcomes))
        return finish_many(engine, worker, outcomes)

    store.outbox.finish_many = counted  # type: ignore[assignment]
    try:
        with running_smtp_server() as server:
            notifier = EmailNotifier(
                host=server.host, port=server.port, sender=SENDER, tls="none", pool_size=4
            )

            async def send() -> None:
                async with notifier:
                    await Dispatcher(engine, {"email": notifier}).run_once(AT + timedelta(minutes=1))

            asyncio.run(send())
            received = {m.message["X-Nhacviec-Key"]: m.message for m in server.messages}
    finally:
        notifiers.email.build_email = original
        store.outbox.finish_many = finish_many  # type: ignore[assignment]
    assert built == [], "nothing is built in the send loop"
    assert sorted(received) == sorted(f"k{i}" for i in range(30))
    assert str(received["k7"]["Subject"]) == "Nhắc việc số 7"
    assert (
        received["k7"]["From"].addresses[0].addr_spec == "nhacviec@snv.gov.vn"
        and received["k7"]["Date"]
        and received["k7"]["Message-ID"]
    )
    with session_scope(engine) as session:
        sent = {m.key: m for m in session.exec(select(OutboxMessage).where(OutboxMessage.channel == "email"))}
    assert {m.status for m in sent.values()} == {OutboxStatus.SENT}
    assert sent["k7"].provider_id == received["k7"]["Message-ID"]
    assert sum(groups) == 30 and len(groups) < 30, f"outcomes recorded in groups: {groups}"
    assert max(groups) <= 4, "a group holds at most what was in flight (one per connection)"


def test_while_outcomes_go_unrecorded_at_most_one_message_per_connection_is_delivered(engine: Engine) -> None:
    """The dispatcher frees a slot as soon as a send returns; the notifier holds the next message's end of
    data until the previous outcome on that connection is recorded. With recording stuck, no more than
    ``pool_size`` messages may reach the server (what a crash then could send twice), and they all go once
    recording works again."""
    rows = [row(f"k{i}", address=f"unit{i}@nhacviec.example", recipient=f"U{i}") for i in range(20)]
    enqueue(engine, rows, {}, now=AT)
    pool = 3
    stuck = threading.Event()
    finish_many = store.outbox.finish_many

    def slow(engine: Engine, worker: str, outcomes: list[tuple[int, dict[str, object]]]) -> list[bool]:
        stuck.wait(10)
        return finish_many(engine, worker, outcomes)

    store.outbox.finish_many = slow  # type: ignore[assignment]
    try:
        with running_smtp_server() as server:
            notifier = EmailNotifier(
                host=server.host, port=server.port, sender=SENDER, tls="none", pool_size=pool
            )

            async def send() -> tuple[int, int]:
                async with notifier:
                    run = asyncio.create_task(
                        Dispatcher(engine, {"email": notifier}).run_once(AT + timedelta(minutes=1))
                    )
                    await asyncio.sleep(1.0)  # plenty for 20 messages if nothing held them
                    while_stuck = len(server.messages)
                    stuck.set()
                    summary = await run
                    return while_stuck, summary.sent

            while_stuck, sent = asyncio.run(send())
            arrived = [m.message["X-Nhacviec-Key"] for m in server.messages]
    finally:
        stuck.set()
        store.outbox.finish_many = finish_many  # type: ignore[assignment]
    assert 1 <= while_stuck <= pool, f"{while_stuck} delivered while nothing was recorded"
    assert sent == 20 and sorted(arrived) == sorted(f"k{i}" for i in range(20))


def test_a_send_stopped_while_holding_its_end_of_data_delivers_nothing_and_spoils_no_other() -> None:
    first, second, third = (
        OutgoingMessage(
            key=f"m{i}",
            channel="email",
            address=f"unit{i}@nhacviec.example",
            recipient_name="",
            subject=f"Thư {i}",
            text=f"Nội dung {i}\n",
            recorded=None,
        )
        for i in range(3)
    )
    with running_smtp_server() as server:
        notifier = EmailNotifier(host=server.host, port=server.port, sender=SENDER, tls="none", pool_size=1)

        async def send() -> None:
            async with notifier:
                unrecorded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                await notifier.send(replace(first, recorded=unrecorded))
                held = asyncio.create_task(notifier.send(second))  # waits for the first one's record
                await asyncio.sleep(0.3)
                assert not held.done()
                held.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await held
                unrecorded.set_result(None)
                await notifier.send(third)

        asyncio.run(send())
        time.sleep(0.2)
        arrived = {m.message["X-Nhacviec-Key"]: m.message for m in server.messages}
    assert sorted(arrived) == ["m0", "m2"], "the held message was never delivered"
    assert arrived["m2"].get_content().strip() == "Nội dung 2", "the next message arrived whole"
