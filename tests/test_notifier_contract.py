"""One contract, every channel: what a notifier promises the dispatcher (notifiers/base.py), checked the same way
for email (a real SMTP server, aiosmtpd), Telegram (the fake Bot API), Zalo (the fake OpenAPI) and the file sink.

The cases: a message that goes through (delivered at the address given, the provider's id returned, nothing
written but what was sent); a permanent refusal (PermanentError, nothing delivered, no delay); a transient one
(TransientError, and the same message goes through when sent again); a provider asking to wait (the delay it
gave, in seconds); an address the provider moved (the new address returned, the message delivered there once).
A channel whose provider cannot say a thing says so with a reason, not with a pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifiers.base import (
    DeliveryError,
    Notifier,
    OutgoingMessage,
    PermanentError,
    SendResult,
    TransientError,
)
from notifiers.email import EmailNotifier
from notifiers.sink import FileSinkNotifier
from notifiers.telegram import TelegramNotifier
from notifiers.zalo import ZaloNotifier
from store.zalo_tokens import InMemoryTokenStore, TokenPair
from tests.support.fake_telegram import FakeTelegram, ScriptedError
from tests.support.fake_zalo import FakeZalo, error_reply, html_reply
from tests.support.smtp_server import SmtpTestServer

CHANNELS = ("email", "telegram", "zalo", "file")
MARK = "Nhắc việc IV.4: hạn 30/11/2020"
NOON_UTC = datetime(2024, 5, 6, 3, 15, 42, 500_000, tzinfo=UTC)  # 10:15:42.5 in Hà Nội


@dataclass
class Channel:
    """One channel under the contract: its notifier, how to provoke each case, and what its provider received."""

    name: str
    code: str  # the channel its messages are for (the file sink stands in for email here)
    notifier: Notifier
    address: str
    other_address: str
    delivered: Callable[[], list[tuple[str, str]]]  # (address, text) of every message the provider accepted
    provoke_permanent: Callable[[str], None]
    provoke_transient: Callable[[str], None]
    provoke_retry_after: Callable[[str], float | None] | None  # arranges it; the delay the provider asked for
    provoke_move: Callable[[str], str] | None  # arranges it; the address the provider moved the recipient to
    written: bool = False  # a file sink records that nobody received it
    after_each: Callable[[], None] | None = None  # undo what a case broke, before the next send

    def message(self, address: str | None = None, key: str = "contract/1") -> OutgoingMessage:
        return OutgoingMessage(
            key=key,
            channel=self.code,
            address=address or self.address,
            recipient_name="Phòng Tổ chức cán bộ",
            subject="Nhắc việc",
            text=MARK,
            html=f"<b>{MARK}</b>" if self.code != "zalo" else None,
        )


def _email(server: SmtpTestServer, tmp_path: Path) -> Channel:
    def delivered() -> list[tuple[str, str]]:
        return [
            (address, received.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            for received in server.messages
            for address in received.recipients
        ]

    def retry_after(address: str) -> None:
        server.fail_next(1, "421 4.7.0 Thử lại sau")  # SMTP has no way to say how long

    return Channel(
        "email",
        "email",
        EmailNotifier(host=server.host, port=server.port, sender="Văn phòng Sở <vp@so.example>", tls="none"),
        "tccb@so.example",
        "tccb.moi@so.example",
        delivered,
        provoke_permanent=server.reject,
        provoke_transient=lambda address: server.fail_next(1),
        provoke_retry_after=retry_after,
        provoke_move=None,
    )


def _telegram(fake: FakeTelegram, tmp_path: Path) -> Channel:
    def moved(address: str) -> str:
        fake.migrate(address, "-1009876543210")
        return "-1009876543210"

    def flood(address: str) -> float:
        fake.flood(address, retry_after=7)
        return 7.0

    return Channel(
        "telegram",
        "telegram",
        TelegramNotifier(fake.token, api_url=fake.url),
        "-4001",
        "-4002",
        lambda: [(sent.chat_id, sent.visible_text) for sent in fake.sent],
        provoke_permanent=fake.block,
        provoke_transient=lambda address: fake.fail(address, ScriptedError(502, "Bad Gateway", times=1)),
        provoke_retry_after=flood,
        provoke_move=moved,
    )


def _zalo(fake: FakeZalo, tmp_path: Path) -> Channel:
    access, refresh = fake.issue_pair()
    store = InMemoryTokenStore(TokenPair(access, refresh, datetime.now(UTC) + timedelta(hours=24)))
    clock = {"now": datetime.now(UTC)}
    notifier = ZaloNotifier(
        app_id=fake.app_id,
        secret_key=fake.secret_key,
        store=store,
        api_url=fake.url,
        business_api_url=fake.url,
        oauth_url=fake.url,
        timeout=5.0,
        rate=1_000_000,
        bootstrap_refresh_token=None,
        clock=lambda: clock["now"],
    )
    fake.interact("user-1", "user-2")  # both wrote to the OA a moment ago: its window is open

    def rate_limited(address: str) -> float:
        fake.script_oa(address, error_reply(-32, "Exceeded rate limit", status=429))
        clock["now"] = NOON_UTC
        return 17.5  # Zalo counts per minute: until the next one starts

    def out_of_window(address: str) -> None:
        fake.interact(address, at=datetime.now(UTC) - timedelta(days=8))

    return Channel(
        "zalo",
        "zalo",
        notifier,
        "user-1",
        "user-2",
        lambda: [(sent["user_id"], sent["text"]) for sent in fake.oa_messages],
        provoke_permanent=out_of_window,
        provoke_transient=lambda address: fake.script_oa(address, html_reply(502)),
        provoke_retry_after=rate_limited,
        provoke_move=None,
    )


def _file(tmp_path: Path) -> Channel:
    folder = tmp_path / "sent"

    def delivered() -> list[tuple[str, str]]:
        import email
        import email.policy

        found = []
        for path in sorted(folder.rglob("*.eml")):
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = parsed.get_body(("plain",))  # type: ignore[attr-defined]
            found.append((str(parsed["To"]).split("<")[-1].rstrip(">"), body.get_content()))
        return found

    def blocked(address: str) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_text("not a folder")  # the sink's folder is a file: nothing can be written

    def unblocked() -> None:
        if folder.is_file():
            folder.unlink()

    return Channel(
        "file",
        "email",
        FileSinkNotifier("email", folder),
        "tccb@so.example",
        "tccb.moi@so.example",
        delivered,
        provoke_permanent=lambda address: None,  # an address that can never be written: see ``address_for``
        provoke_transient=blocked,
        provoke_retry_after=None,
        provoke_move=None,
        written=True,
        after_each=unblocked,
    )


@pytest.fixture(params=CHANNELS)
def channel(request: pytest.FixtureRequest, tmp_path: Path) -> Channel:
    name = request.param
    if name == "email":
        return _email(request.getfixturevalue("smtp_server"), tmp_path)
    if name == "telegram":
        return _telegram(request.getfixturevalue("telegram_server"), tmp_path)
    if name == "zalo":
        return _zalo(request.getfixturevalue("zalo_server"), tmp_path)
    return _file(tmp_path)


def send(channel: Channel, *messages: OutgoingMessage) -> list[SendResult | DeliveryError]:
    """Send in order with one opened notifier; each outcome is a SendResult or the DeliveryError raised."""

    async def run() -> list[SendResult | DeliveryError]:
        outcomes: list[SendResult | DeliveryError] = []
        async with channel.notifier:
            for message in messages:
                try:
                    outcomes.append(await channel.notifier.send(message))
                except DeliveryError as error:
                    outcomes.append(error)
                if channel.after_each is not None:
                    channel.after_each()
        return outcomes

    return asyncio.run(run())


def delivered_texts(channel: Channel, address: str) -> list[str]:
    return [text for at, text in channel.delivered() if at == address and MARK in text]


# --- the contract --------------------------------------------------------------------------------------


def test_a_message_that_goes_through_is_delivered_once_at_its_address_with_the_providers_id(
    channel: Channel,
) -> None:
    [result] = send(channel, channel.message())

    assert isinstance(result, SendResult)
    assert result.provider_id
    assert result.new_address is None
    assert result.written is channel.written
    assert len(delivered_texts(channel, channel.address)) == 1
    assert [at for at, _ in channel.delivered()] == [channel.address]


def test_a_permanent_refusal_says_so_and_delivers_nothing(channel: Channel) -> None:
    address = "không phải địa chỉ email" if channel.name == "file" else channel.address
    channel.provoke_permanent(address)

    [outcome] = send(channel, channel.message(address))

    assert isinstance(outcome, PermanentError)
    assert outcome.permanent and outcome.retry_after is None
    assert outcome.reason and "Traceback" not in outcome.reason
    assert channel.delivered() == []


def test_a_transient_refusal_says_so_and_the_same_message_goes_through_when_sent_again(
    channel: Channel,
) -> None:
    channel.provoke_transient(channel.address)

    first, second = send(channel, channel.message(), channel.message())

    assert isinstance(first, TransientError)
    assert not first.permanent and not first.config_problem
    assert isinstance(second, SendResult)
    assert len(delivered_texts(channel, channel.address)) == 1


def test_a_provider_asking_to_wait_gives_the_delay_it_asked_for(channel: Channel) -> None:
    if channel.provoke_retry_after is None:
        pytest.skip(f"{channel.name}: no provider to ask for a delay (a file is written or not)")
    asked = channel.provoke_retry_after(channel.address)

    [outcome] = send(channel, channel.message())

    assert isinstance(outcome, TransientError)
    assert not outcome.permanent
    if asked is None:  # the protocol cannot say how long (SMTP): the dispatcher's backoff decides
        assert outcome.retry_after is None
    else:
        assert outcome.retry_after == pytest.approx(asked)
    assert channel.delivered() == []


def test_an_address_the_provider_moved_is_returned_and_the_message_delivered_there_once(
    channel: Channel,
) -> None:
    if channel.provoke_move is None:
        # The provider never moves a recipient: a message to another address goes there, and no new
        # address is ever reported (the dispatcher would record it as an alias).
        [result] = send(channel, channel.message(channel.other_address))
        assert isinstance(result, SendResult) and result.new_address is None
        assert len(delivered_texts(channel, channel.other_address)) == 1
        return
    new = channel.provoke_move(channel.address)

    [result] = send(channel, channel.message())

    assert isinstance(result, SendResult)
    assert result.new_address == new
    assert len(delivered_texts(channel, new)) == 1
    assert delivered_texts(channel, channel.address) == []


def test_every_channel_of_the_registry_is_under_the_contract() -> None:
    from rules.channels import CHANNELS as REGISTRY

    assert set(REGISTRY) | {"file"} == set(CHANNELS)
