"""The Zalo channel against a fake Zalo API on 127.0.0.1: OA, ZNS, errors, and the single-use token refresh."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from notifiers.base import DeliveryError, OutgoingMessage, PermanentError, TransientError
from notifiers.ratelimit import RateLimiter
from notifiers.zalo import (
    DEFAULT_RATE_PER_MINUTE,
    REFRESH_REFUSED,
    ZaloNotifier,
    alert_text,
    expiry_warning,
    fit_text,
    normalise_phone,
    seconds_to_morning,
    tracking_id,
)
from rules.model import NotificationKind
from store.db import make_engine
from store.zalo_followers import DatabaseFollowers, record_event
from store.zalo_tokens import DatabaseTokenStore, InMemoryTokenStore, TokenPair
from templates.context import sample_context
from templates.render import Renderer, load_zns
from tests.support.fake_zalo import PASS, FakeZalo, Reply, error_reply, html_reply, running_fake

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
LONG_KEY = "reminder-3-days/KH-CCHC-2020:II.4.b/2020-06-30/d3|PHONG-TAI-CHINH-KE-HOACH|zalo"
ZNS_FILE = Path(__file__).resolve().parents[1] / "config" / "zns.yaml"
ZNS = {
    "template_id": "000002",  # the reminder of config/zns.yaml
    "template_data": {
        "task_code": "II.4.b",
        "task_name": "Rà soát thủ tục hành chính",
        "due_date": "30/06/2020",
        "days_left": "3",
        "unit_name": "Phòng Tài chính",
    },
}


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    """The fake Zalo with config/zns.yaml's templates approved; it must see no malformed request."""
    with running_fake() as fake:
        fake.register_zns_file(ZNS_FILE)
        yield fake
        assert fake.bad_requests == []


def message(
    address: str | None = "user-1", *, key: str = "k1", text: str = "Nhắc việc", **extra: Any
) -> OutgoingMessage:
    return OutgoingMessage(
        key=key,
        channel="zalo",
        address=address,  # type: ignore[arg-type]
        recipient_name="Phòng Tài chính",
        subject="Nhắc việc",
        text=text,
        extra=extra,
    )


def zns_message(address: str | None = None, phone: str = "0912345678", key: str = "k1") -> OutgoingMessage:
    return message(address, key=key, phone=phone, zns=ZNS)


def seeded_store(fake: FakeZalo) -> InMemoryTokenStore:
    access, refresh = fake.issue_pair()
    return InMemoryTokenStore(TokenPair(access, refresh, datetime.now(UTC) + timedelta(hours=24)))


def notifier(fake: FakeZalo, store: Any, **options: Any) -> ZaloNotifier:
    options.setdefault("bootstrap_refresh_token", None)
    options.setdefault("rate", 1_000_000)  # no pacing in tests (the default spaces requests 0.5 s apart)
    return ZaloNotifier(
        app_id=fake.app_id,
        secret_key=fake.secret_key,
        store=store,
        api_url=fake.url,
        business_api_url=fake.url,
        oauth_url=fake.url,
        timeout=5.0,
        **options,
    )


async def send(zalo: ZaloNotifier, *messages: OutgoingMessage) -> list[Any]:
    """Send concurrently; each outcome is a SendResult or the DeliveryError it raised."""
    async with zalo:
        return await asyncio.gather(*(zalo.send(m) for m in messages), return_exceptions=True)


def send_one(zalo: ZaloNotifier, one: OutgoingMessage) -> Any:
    return asyncio.run(send(zalo, one))[0]


def fixed_clock(moment: datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


# -- sending ---------------------------------------------------------------------------------------------


def test_oa_message_goes_to_the_user_id_and_returns_zalo_message_id(fake: FakeZalo) -> None:
    fake.interact("user-42")

    result = send_one(notifier(fake, seeded_store(fake)), message("user-42", text="Hạn nộp báo cáo: 30/06"))

    assert fake.oa_messages == [
        {
            "user_id": "user-42",
            "text": "Hạn nộp báo cáo: 30/06",
            "message_id": result.provider_id,
            "quota_type": "reply",  # within 48 h of the interaction: free
        }
    ]
    assert result.provider_id.startswith("oa")
    assert fake.counts["refresh"] == 0


def test_oa_text_longer_than_2000_characters_is_cut_and_ends_with_an_ellipsis(fake: FakeZalo) -> None:
    fake.interact("user-1")

    send_one(notifier(fake, seeded_store(fake)), message(text="việc " * 500))

    sent = fake.oa_messages[0]["text"]
    assert len(sent) <= 2000
    assert len(sent) > 1900
    assert sent.endswith("việc…")


@pytest.mark.parametrize(
    "phone", ["0912345678", "+84912345678", "84912345678", "091 234 5678", "+84 91.234.5678"]
)
def test_zns_goes_to_the_normalised_phone_with_a_short_tracking_id(fake: FakeZalo, phone: str) -> None:
    result = send_one(notifier(fake, seeded_store(fake)), zns_message(None, phone=phone, key=LONG_KEY))

    [sent] = fake.zns_messages
    assert sent["phone"] == "84912345678"
    assert sent["template_id"] == "000002"
    assert sent["template_data"] == ZNS["template_data"]
    assert sent["tracking_id"] == tracking_id(LONG_KEY)
    assert len(LONG_KEY) > 48 >= len(sent["tracking_id"])
    assert sent["mode"] is None
    assert result.provider_id == sent["msg_id"]
    assert fake.oa_messages == []


def test_tracking_ids_differ_per_outbox_key() -> None:
    assert tracking_id(LONG_KEY) != tracking_id(LONG_KEY.replace("d3", "d1"))
    assert tracking_id(LONG_KEY) == tracking_id(LONG_KEY)


def test_zns_development_mode_is_sent_when_configured(fake: FakeZalo) -> None:
    send_one(notifier(fake, seeded_store(fake), zns_development_mode=True), zns_message())

    assert fake.zns_messages[0]["mode"] == "development"


@pytest.mark.parametrize("raw", ["12345", "0912-abc-678", "+1 202 555 0100", ""])
def test_what_is_not_a_vietnamese_phone_number_does_not_normalise(raw: str) -> None:
    assert normalise_phone(raw) is None


def test_an_invalid_phone_is_a_config_problem_without_asking_zalo(fake: FakeZalo) -> None:
    error = send_one(notifier(fake, seeded_store(fake)), zns_message(phone="12345"))

    assert isinstance(error, PermanentError)
    assert error.config_problem
    assert "12345" in error.reason
    assert fake.counts["zns"] == 0


def test_no_user_id_and_no_zns_data_is_a_config_problem(fake: FakeZalo) -> None:
    error = send_one(notifier(fake, seeded_store(fake)), message(None, phone="0912345678"))

    assert isinstance(error, PermanentError)
    assert error.config_problem
    assert sum(fake.counts.values()) == 0


def test_fit_text_keeps_short_text_and_cuts_at_a_word_near_the_limit() -> None:
    assert fit_text("  ngắn  ") == "ngắn"
    assert fit_text("một hai ba bốn năm sáu bảy", limit=20) == "một hai ba bốn năm…"
    assert fit_text("x" * 30, limit=10) == "x" * 9 + "…"


def test_every_request_waits_for_the_rate_limiter(fake: FakeZalo) -> None:
    now = [100.0]  # a fake monotonic clock that sleeping moves forward
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)
        now[0] += delay

    limiter = RateLimiter(4000, 60.0, clock=lambda: now[0], sleep=sleep)
    zalo = notifier(fake, seeded_store(fake), limiter=limiter)
    fake.interact(*(f"user-{i}" for i in range(4)))

    asyncio.run(send(zalo, *(message(f"user-{i}", key=f"k{i}") for i in range(4))))

    assert len(fake.oa_messages) == 4
    assert now[0] - 100.0 == pytest.approx(0.045)  # 60 s / 4,000: one request every 15 ms
    assert waits == pytest.approx([0.015, 0.015, 0.015])


# -- errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [-211, -213, -217, -218, -224, -227, -230, -232, -244])
def test_an_oa_refusal_zns_can_cure_falls_back_to_zns_when_phone_and_template_are_there(
    fake: FakeZalo, code: int
) -> None:
    """Not following, blocked, out of the window, OA or user quota, OA tier: the reminder still goes (spec §4)."""
    fake.script_oa("user-1", error_reply(code, "OA cannot send this message"))

    result = send_one(notifier(fake, seeded_store(fake)), zns_message("user-1", phone="+84912345678"))

    assert fake.oa_messages == []
    assert [m["phone"] for m in fake.zns_messages] == ["84912345678"]
    assert result.provider_id == fake.zns_messages[0]["msg_id"]
    assert fake.counts == {"oa": 1, "zns": 1}


def test_a_user_out_of_the_window_without_zns_data_is_this_recipients_outcome(fake: FakeZalo) -> None:
    fake.interact("user-1", at=datetime.now(UTC) - timedelta(days=8))

    error = send_one(notifier(fake, seeded_store(fake)), message("user-1", phone="0912345678"))

    assert isinstance(error, PermanentError)
    assert not error.config_problem
    assert "-230" in error.reason and "lâu không tương tác" in error.reason
    assert fake.counts == {"oa": 1}


def test_phone_without_a_zalo_account_is_permanent(fake: FakeZalo) -> None:
    fake.refuse_zns("84912345678", -118)

    error = send_one(notifier(fake, seeded_store(fake)), zns_message())

    assert isinstance(error, PermanentError)
    assert not error.config_problem
    assert "-118" in error.reason


@pytest.mark.parametrize("code", [-108, -109, -111, -137])
def test_bad_zns_phone_template_or_data_is_a_config_problem(fake: FakeZalo, code: int) -> None:
    fake.script_zns("84912345678", error_reply(code, "Template data is invalid"))

    error = send_one(notifier(fake, seeded_store(fake)), zns_message())

    assert isinstance(error, PermanentError)
    assert error.config_problem
    assert f"mã {code}" in error.reason


@pytest.mark.parametrize(
    ("route", "code"), [("zns", -144), ("zns", -115), ("oa", -211), ("oa", -320), ("oa", -321)]
)
def test_quota_and_billing_refusals_hold_the_message_until_the_morning(
    fake: FakeZalo, route: str, code: int
) -> None:
    if route == "oa":
        fake.script_oa("user-1", error_reply(code, "Out of quota"))
        outgoing = message("user-1")
    else:
        fake.script_zns("84912345678", error_reply(code, "Out of quota"))
        outgoing = zns_message()
    at = datetime(2024, 5, 6, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội

    error = send_one(notifier(fake, seeded_store(fake), clock=fixed_clock(at)), outgoing)

    assert isinstance(error, TransientError)
    assert not error.config_problem  # the admin hears of it once a day, not once per message
    assert f"mã {code}" in error.reason
    assert (at + timedelta(seconds=error.retry_after)).astimezone(VIETNAM) == datetime(
        2024, 5, 7, 7, 0, tzinfo=VIETNAM
    )


def test_rate_limit_is_transient_until_the_next_minute(fake: FakeZalo) -> None:
    fake.script_oa("user-1", error_reply(-32, "Exceeded rate limit", status=429))
    clock = fixed_clock(datetime(2024, 5, 6, 3, 15, 42, 500_000, tzinfo=UTC))

    error = send_one(notifier(fake, seeded_store(fake), clock=clock), message("user-1"))

    assert isinstance(error, TransientError)
    assert error.retry_after == pytest.approx(17.5)


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2024, 5, 6, 16, 30, tzinfo=UTC), 6.5 * 3600),  # 23:30 in Hà Nội
        (datetime(2024, 5, 6, 20, 0, tzinfo=UTC), 3 * 3600),  # 03:00 in Hà Nội
        (datetime(2024, 5, 6, 22, 59, 30, tzinfo=UTC), 30),  # 05:59:30 in Hà Nội
    ],
)
def test_night_refusal_waits_until_six_in_the_morning_vietnam_time(
    fake: FakeZalo, utc: datetime, expected: float
) -> None:
    fake.script_oa("user-1", error_reply(-234, "Cannot send at night"))

    error = send_one(notifier(fake, seeded_store(fake), clock=fixed_clock(utc)), message("user-1"))

    assert isinstance(error, TransientError)
    assert error.retry_after == pytest.approx(expected)
    assert (utc + timedelta(seconds=error.retry_after)).astimezone(VIETNAM).hour == 6


def test_night_refusal_in_our_daytime_looks_again_in_half_an_hour() -> None:
    assert seconds_to_morning(datetime(2024, 5, 6, 5, 0, tzinfo=UTC), VIETNAM) == 1800  # noon in Hà Nội


@pytest.mark.parametrize(
    "reply",
    [
        error_reply(-100, "Unknown error"),
        html_reply(502),
        html_reply(503),
        error_reply(-100, "Unknown", status=500),
    ],
    ids=["error-100", "html-502", "html-503", "error-100-http-500"],
)
def test_server_errors_are_transient(fake: FakeZalo, reply: Reply) -> None:
    fake.script_oa("user-1", reply)

    error = send_one(notifier(fake, seeded_store(fake)), message("user-1"))

    assert isinstance(error, TransientError)
    assert error.retry_after is None


def test_an_error_in_the_body_wins_over_a_successful_http_status(fake: FakeZalo) -> None:
    fake.script_oa("user-1", error_reply(-118, "whatever", status=200), error_reply(0, "ok", status=503))

    first = send_one(notifier(fake, seeded_store(fake)), message("user-1"))
    second = send_one(notifier(fake, seeded_store(fake)), message("user-1"))

    assert isinstance(first, PermanentError)
    assert second.provider_id is None  # error 0 with HTTP 503: sent (this scripted reply carries no data)


def test_a_network_error_is_transient(fake: FakeZalo) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    zalo = notifier(fake, seeded_store(fake))
    zalo.api_url = f"http://127.0.0.1:{port}"

    error = send_one(zalo, message("user-1"))

    assert isinstance(error, TransientError)


# -- tokens ----------------------------------------------------------------------------------------------


def test_a_token_expiring_soon_is_refreshed_before_sending(fake: FakeZalo) -> None:
    fake.interact("user-1")
    access, refresh = fake.issue_pair()
    store = InMemoryTokenStore(TokenPair(access, refresh, datetime.now(UTC) + timedelta(minutes=2)))

    send_one(notifier(fake, store), message("user-1"))

    stored = asyncio.run(store.load())
    assert fake.counts == {"refresh": 1, "oa": 1}
    assert stored.generation == 1
    assert stored.expires_at > datetime.now(UTC) + timedelta(hours=24)
    assert fake.valid_refresh_tokens() == {stored.refresh_token}


def test_first_start_stores_the_configured_refresh_token_and_refreshes_once(
    engine: Engine, fake: FakeZalo
) -> None:
    store = DatabaseTokenStore(engine)
    bootstrap = fake.issue_refresh_token()
    messages = [message(f"user-{i}", key=f"k{i}") for i in range(50)]
    fake.interact(*(m.address for m in messages))

    results = asyncio.run(send(notifier(fake, store, bootstrap_refresh_token=bootstrap), *messages))

    assert not [r for r in results if isinstance(r, BaseException)]
    assert fake.counts["refresh"] == 1
    assert len(fake.oa_messages) == 50
    assert fake.used_refresh_tokens == [bootstrap]
    stored = asyncio.run(store.load())
    assert stored.generation == 1
    assert fake.valid_refresh_tokens() == {stored.refresh_token}


@pytest.mark.slow
def test_expired_token_under_50_concurrent_sends_is_refreshed_exactly_once(
    engine: Engine, fake: FakeZalo
) -> None:
    store = DatabaseTokenStore(engine)
    asyncio.run(store.bootstrap(fake.issue_refresh_token()))
    zalo = notifier(fake, store)
    # OA messages meet -216 and ZNS messages -124 once the token has expired.
    messages = [message(f"user-{i}", key=f"oa{i}") for i in range(25)]
    messages += [zns_message(phone=f"09120000{i:02d}", key=f"zns{i}") for i in range(25)]
    fake.interact("warm-up", *(m.address for m in messages if m.address))

    async def scenario() -> list[Any]:
        async with zalo:
            await zalo.send(message("warm-up"))  # the first refresh (bootstrap), then the token is in use
            old = await store.load()
            fake.expire_access_tokens()
            fake.counts.clear()
            results = await asyncio.gather(*(zalo.send(m) for m in messages), return_exceptions=True)
            return [old, results]

    old, results = asyncio.run(scenario())

    assert not [r for r in results if isinstance(r, BaseException)]
    assert fake.counts["refresh"] == 1
    assert len(fake.oa_messages) == 1 + 25
    assert len(fake.zns_messages) == 25
    stored = asyncio.run(store.load())
    assert stored.generation == old.generation + 1 == 2
    assert fake.valid_refresh_tokens() == {stored.refresh_token}
    _status, reply = fake.refresh(old.refresh_token)
    assert "access_token" not in reply
    assert reply["error"] == -14014


@pytest.mark.slow
def test_two_processes_sharing_the_database_refresh_only_once(database_url: str, engine: Engine) -> None:
    """Two notifiers, each with its own engine, event loop and thread (as two processes would have)."""
    with running_fake(refresh_delay=0.1) as fake:
        fake.interact("warm-up", "warm-up-2", *(f"p{n}-user-{i}" for n in (0, 1) for i in range(25)))
        asyncio.run(DatabaseTokenStore(engine).bootstrap(fake.issue_refresh_token()))
        engines = [make_engine(database_url), make_engine(database_url)]
        start = threading.Barrier(2)
        warmed = threading.Barrier(2)
        outcomes: dict[int, list[Any]] = {}

        def process(number: int) -> None:
            zalo = notifier(fake, DatabaseTokenStore(engines[number]))
            batch = [message(f"p{number}-user-{i}", key=f"p{number}-{i}") for i in range(25)]

            async def run() -> list[Any]:
                async with zalo:
                    if number == 0:
                        await zalo.send(message("warm-up"))  # refreshes the bootstrapped token
                    warmed.wait()
                    if number == 1:
                        await zalo.send(message("warm-up-2"))  # loads the stored pair: no refresh
                        fake.expire_access_tokens()
                        fake.counts.clear()
                    start.wait()
                    return await asyncio.gather(*(zalo.send(m) for m in batch), return_exceptions=True)

            outcomes[number] = asyncio.run(run())

        threads = [threading.Thread(target=process, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        for extra in engines:
            extra.dispose()

        failures = [r for results in outcomes.values() for r in results if isinstance(r, BaseException)]
        assert not failures
        assert len(outcomes[0]) == len(outcomes[1]) == 25
        assert fake.counts["refresh"] == 1
        assert len({m["user_id"] for m in fake.oa_messages if m["user_id"].startswith("p")}) == 50
        stored = asyncio.run(DatabaseTokenStore(engine).load())
        assert stored.generation == 2
        assert fake.valid_refresh_tokens() == {stored.refresh_token}


@pytest.mark.parametrize(
    "refusal",
    [
        Reply(200, {"error": -14014, "message": "Invalid refresh token"}),
        Reply(200, {"access_token": "at-only-half", "expires_in": "90000"}),
        Reply(400, {"error_name": "invalid_grant"}),
    ],
    ids=["error-reply", "access-token-only", "http-400"],
)
def test_a_refresh_reply_without_both_tokens_is_a_config_problem_asked_once(
    fake: FakeZalo, refusal: Reply
) -> None:
    store = seeded_store(fake)
    fake.expire_access_tokens()
    fake.script_refresh(refusal, forever=True)

    results = asyncio.run(
        send(notifier(fake, store), *(message(f"user-{i}", key=f"k{i}") for i in range(10)))
    )

    assert all(isinstance(r, PermanentError) and r.config_problem for r in results)
    assert {r.reason for r in results} == {REFRESH_REFUSED}
    assert fake.counts["refresh"] == 1
    assert asyncio.run(store.load()).generation == 0


def test_after_a_refused_refresh_an_admins_new_refresh_token_brings_the_channel_back(
    engine: Engine, fake: FakeZalo
) -> None:
    store = DatabaseTokenStore(engine)
    asyncio.run(store.bootstrap("rt-revoked-by-zalo"))
    zalo = notifier(fake, store)
    fake.interact("user-1", "user-2")

    async def scenario() -> list[Any]:
        async with zalo:
            refused = await asyncio.gather(zalo.send(message("user-1")), return_exceptions=True)
            await store.reauthorise(fake.issue_refresh_token())
            return [*refused, await zalo.send(message("user-2"))]

    refused, result = asyncio.run(scenario())

    assert isinstance(refused, PermanentError) and refused.reason == REFRESH_REFUSED
    assert result.provider_id == fake.oa_messages[0]["message_id"]
    assert fake.counts["refresh"] == 2
    assert fake.counts["oa"] == 1  # the new refresh token is traded before sending, not after a -216
    assert asyncio.run(store.load()).generation == 2


def test_a_sender_cancelled_during_a_refresh_does_not_lose_the_new_pair(fake: FakeZalo) -> None:
    store = seeded_store(fake)
    fake.expire_access_tokens()
    fake.refresh_delay = 0.3
    zalo = notifier(fake, store)
    fake.interact("user-1", "user-2")

    async def scenario() -> Any:
        async with zalo:
            sender = asyncio.create_task(zalo.send(message("user-1")))
            await asyncio.sleep(0.1)  # the refresh request is on its way
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            return await zalo.send(message("user-2"))

    result = asyncio.run(scenario())

    stored = asyncio.run(store.load())
    assert stored.generation == 1
    assert fake.valid_refresh_tokens() == {stored.refresh_token}
    assert fake.counts["refresh"] == 1
    assert [m["user_id"] for m in fake.oa_messages] == ["user-2"]
    assert result.provider_id == fake.oa_messages[0]["message_id"]


def test_a_token_refused_again_after_a_refresh_is_a_config_problem(fake: FakeZalo) -> None:
    fake.script_oa("user-1", error_reply(-216, "Access token is invalid"), error_reply(-220, "expired"))

    error = send_one(notifier(fake, seeded_store(fake)), message("user-1"))

    assert isinstance(error, PermanentError)
    assert error.config_problem
    assert "-220" in error.reason
    assert fake.counts == {"oa": 2, "refresh": 1}


def test_a_refresh_that_cannot_reach_zalo_is_transient(fake: FakeZalo) -> None:
    store = seeded_store(fake)
    fake.expire_access_tokens()
    fake.script_refresh(html_reply(502))

    error = send_one(notifier(fake, store), message("user-1"))

    assert isinstance(error, TransientError)
    assert asyncio.run(store.load()).generation == 0


def test_no_stored_token_and_none_configured_is_a_config_problem(fake: FakeZalo) -> None:
    error = send_one(notifier(fake, InMemoryTokenStore()), message("user-1"))

    assert isinstance(error, PermanentError)
    assert error.config_problem
    assert "NHACVIEC_ZALO_REFRESH_TOKEN" in error.reason


def test_secrets_never_appear_in_errors_logs_or_reprs(
    fake: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.interact("user-1")
    bootstrap = fake.issue_refresh_token()
    store = InMemoryTokenStore()
    zalo = notifier(fake, store, bootstrap_refresh_token=bootstrap)
    errors: list[DeliveryError] = []
    # A first send refreshes (the bootstrap token and the new pair travel); then Zalo quotes them back in errors.
    assert not isinstance(send_one(zalo, message("user-1")), BaseException)
    pair = asyncio.run(store.load())
    secrets = [fake.secret_key, bootstrap, pair.access_token, pair.refresh_token]
    echo = " ".join(secrets)
    fake.script_oa("user-1", error_reply(-201, f"bad request {echo}"))
    fake.script_zns("84912345678", error_reply(-111, f"bad data {echo}"))
    errors += [send_one(zalo, message("user-1")), send_one(zalo, zns_message())]
    fake.expire_access_tokens()
    fake.script_refresh(Reply(200, {"error": -14014, "message": f"refused {echo}"}))
    errors.append(send_one(zalo, message("user-1")))

    assert all(isinstance(e, DeliveryError) for e in errors)
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [e.reason for e in errors]
    texts += [repr(zalo), repr(store), repr(pair), caplog.text]
    texts += [r.getMessage() for r in caplog.records]
    for secret in secrets:
        assert not [t for t in texts if secret in t], "a secret leaked"
    assert "-14014" in caplog.text  # the refusal is logged, scrubbed


def test_settings_build_the_notifier_and_keep_the_secret_out_of_its_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from config.settings import Settings

    monkeypatch.setenv("NHACVIEC_ZALO_APP_ID", "app-9")
    monkeypatch.setenv("NHACVIEC_ZALO_SECRET_KEY", "s3cr3t-from-env")
    monkeypatch.setenv("NHACVIEC_ZALO_API_URL", "http://127.0.0.1:9/")

    zalo = ZaloNotifier.from_settings(Settings(), InMemoryTokenStore())

    assert (zalo.app_id, zalo.api_url, zalo.oauth_url) == (
        "app-9",
        "http://127.0.0.1:9",
        "https://oauth.zaloapp.com",
    )
    assert "s3cr3t" not in repr(zalo)
    monkeypatch.delenv("NHACVIEC_ZALO_SECRET_KEY")
    with pytest.raises(ValueError):
        ZaloNotifier.from_settings(Settings(), InMemoryTokenStore())


# -- the token store -------------------------------------------------------------------------------------


def test_bootstrap_stores_the_refresh_token_only_when_no_pair_exists(engine: Engine) -> None:
    store = DatabaseTokenStore(engine)

    first = asyncio.run(store.bootstrap("rt-first"))
    saved = asyncio.run(store.save(TokenPair("at-2", "rt-2", datetime(2030, 1, 1, tzinfo=UTC)), 0))
    again = asyncio.run(store.bootstrap("rt-from-env-again"))

    assert (first.access_token, first.refresh_token, first.generation) == ("", "rt-first", 0)
    assert first.expires_at < datetime.now(UTC)
    assert saved.generation == 1
    assert again == TokenPair("at-2", "rt-2", datetime(2030, 1, 1, tzinfo=UTC), 1)


def test_save_bumps_the_generation_and_refuses_a_stale_one(engine: Engine) -> None:
    store = DatabaseTokenStore(engine)
    asyncio.run(store.bootstrap("rt-0"))
    asyncio.run(store.save(TokenPair("at-1", "rt-1", datetime(2030, 1, 1, tzinfo=UTC)), 0))

    assert asyncio.run(store.save(TokenPair("at-x", "rt-x", datetime(2030, 1, 1, tzinfo=UTC)), 0)) is None

    stored = asyncio.run(store.load())
    assert (stored.access_token, stored.refresh_token, stored.generation) == ("at-1", "rt-1", 1)


def test_save_inside_the_lock_is_durable_and_visible_to_another_connection(
    database_url: str, engine: Engine
) -> None:
    store = DatabaseTokenStore(engine)
    other = make_engine(database_url)

    async def scenario() -> TokenPair | None:
        await store.bootstrap("rt-0")
        async with store.refresh_lock():
            await store.save(TokenPair("at-1", "rt-1", datetime(2030, 1, 1, tzinfo=UTC)), 0)
            return await asyncio.wait_for(DatabaseTokenStore(other).load(), timeout=5)

    seen = asyncio.run(scenario())
    other.dispose()
    assert seen is not None and (seen.refresh_token, seen.generation) == ("rt-1", 1)


def test_refresh_lock_excludes_another_connection_until_released(database_url: str, engine: Engine) -> None:
    first, second = DatabaseTokenStore(engine), DatabaseTokenStore(make_engine(database_url))
    events: list[str] = []

    async def hold() -> None:
        async with first.refresh_lock():
            events.append("first in")
            await asyncio.sleep(0.3)
            events.append("first out")

    async def wait() -> None:
        await asyncio.sleep(0.05)
        async with second.refresh_lock():
            events.append("second in")

    async def scenario() -> None:
        await first.bootstrap("rt-0")
        await asyncio.gather(hold(), wait())

    began = time.monotonic()
    asyncio.run(scenario())
    second.engine.dispose()
    assert events == ["first in", "first out", "second in"]
    assert time.monotonic() - began >= 0.3


def test_the_refresh_lock_never_blocks_other_writers_of_the_database(
    database_url: str, engine: Engine
) -> None:
    """The lock is held across a request to Zalo; meanwhile the dispatcher must still record outcomes.

    On SQLite the lock used to be the database's write lock (BEGIN IMMEDIATE): every outcome waited
    behind the HTTP call, and a pass whose worker threads all waited there could not finish the refresh
    either, until the busy timeout said "database is locked" (the flaky test_run_once).
    """
    store = DatabaseTokenStore(engine)
    writer = make_engine(database_url)

    def write() -> int:
        with writer.begin() as connection:
            if writer.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA busy_timeout=200")
            return connection.execute(
                sa.text("UPDATE zalo_tokens SET updated_at = :now"), {"now": datetime.now(UTC)}
            ).rowcount

    async def scenario() -> int:
        await store.bootstrap("rt-0")
        async with store.refresh_lock():
            return await asyncio.wait_for(asyncio.to_thread(write), timeout=5)

    assert asyncio.run(scenario()) == 1
    writer.dispose()


def test_a_lock_wait_cancelled_midway_leaves_the_lock_free(database_url: str, engine: Engine) -> None:
    first, second = DatabaseTokenStore(engine), DatabaseTokenStore(make_engine(database_url))

    async def enter(store: DatabaseTokenStore) -> None:
        async with store.refresh_lock():
            pass

    async def scenario() -> None:
        await first.bootstrap("rt-0")
        async with first.refresh_lock():
            waiting = asyncio.create_task(enter(second))
            await asyncio.sleep(0.1)
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
        await asyncio.sleep(0.1)  # the abandoned wait gets the lock in its thread, and gives it back
        await asyncio.wait_for(enter(first), timeout=5)

    asyncio.run(scenario())
    second.engine.dispose()


# -- config/zns.yaml -------------------------------------------------------------------------------------


def test_zns_templates_file_names_a_template_and_its_parameters_for_every_kind() -> None:
    path = Path(__file__).resolve().parents[1] / "config" / "zns.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    assert set(data) == {str(kind) for kind in NotificationKind}
    for kind, entry in data.items():
        assert isinstance(entry["template_id"], str) and entry["template_id"], kind
        assert entry["params"], kind
    assert data["reminder"]["params"] == {
        "task_code": {"path": "task.code", "type": "code"},
        "task_name": {"path": "task.content", "type": "product_name"},
        "due_date": {"path": "due", "type": "time"},
        "days_left": {"path": "days_left", "type": "amount"},
        "unit_name": {"path": "recipient.name", "type": "customer_name"},
    }
    templates, problems = load_zns(path)  # the renderer's reading: every path exists in its context
    assert problems == []
    assert set(templates) == set(data)


@pytest.mark.filterwarnings(
    "ignore::getpass.GetPassWarning"
)  # no terminal in tests: getpass falls back to stdin
def test_admin_reauthorises_zalo_from_the_cli_without_echoing_the_token(run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io

    run_cli("init", "--no-sample")
    assert "Chưa có token Zalo" in run_cli("zalo", "status").stdout
    monkeypatch.setattr("sys.stdin", io.StringIO("refresh-token-BI-MAT-123\n"))
    result = run_cli("zalo", "reauthorise")
    assert result.exit_code == 0, result.stderr
    assert "refresh-token-BI-MAT-123" not in result.stdout + result.stderr
    status = run_cli("zalo", "status")
    assert "đã làm mới" in status.stdout and "refresh-token-BI-MAT-123" not in status.stdout


# -- issue 16: Zalo as it really behaves -------------------------------------------------------------------

LONG_UNIT = "Phòng Giáo dục Mầm non và Giáo dục Tiểu học, Giáo dục thường xuyên"


def reminder_zns_payload(unit_name: str) -> dict[str, Any]:
    """The ZNS payload config/zns.yaml gives a reminder to a unit called ``unit_name``."""
    context = sample_context("reminder", "zns")
    context["recipient"] = {**context["recipient"], "name": unit_name}
    return Renderer(zns_file=ZNS_FILE).zns_payload("reminder", context)


def test_a_long_unit_name_fits_its_zns_parameter(fake: FakeZalo) -> None:
    payload = reminder_zns_payload(LONG_UNIT)

    result = send_one(notifier(fake, seeded_store(fake)), message(None, phone="0912345678", zns=payload))

    [sent] = fake.zns_messages
    assert result.provider_id == sent["msg_id"]
    unit = sent["template_data"]["unit_name"]
    assert unit == "Phòng Giáo dục Mầm non và…"  # customer_name: 30 characters, cut between words
    assert len(unit) <= 30 and LONG_UNIT.startswith(unit.removesuffix("…"))


def test_the_fake_refuses_a_value_longer_than_its_registered_type(fake: FakeZalo) -> None:
    payload = reminder_zns_payload("Phòng Tài chính")
    payload["template_data"]["unit_name"] = LONG_UNIT  # what was sent before: every value cut at 100

    error = send_one(notifier(fake, seeded_store(fake)), message(None, phone="0912345678", zns=payload))

    assert isinstance(error, PermanentError) and error.config_problem and "mã -112" in error.reason
    assert fake.bad_requests == [
        f"ZNS template data: unit_name has {len(LONG_UNIT)} characters, its type customer_name takes 30"
    ]
    fake.bad_requests.clear()


def followers_with(
    engine: Engine, user_id: str, at: datetime, *, following: bool | None = None
) -> DatabaseFollowers:
    with engine.begin() as connection:
        record_event(connection, user_id, at, "user_send_text", interaction=True, following=following)
    return DatabaseFollowers(engine)


def test_a_user_outside_the_7_day_window_gets_the_zns_message(engine: Engine, fake: FakeZalo) -> None:
    eight_days_ago = datetime.now(UTC) - timedelta(days=8)
    fake.interact("user-1", at=eight_days_ago)  # Zalo would refuse the OA message (-230)
    followers = followers_with(engine, "user-1", eight_days_ago)  # and the webhook told us so

    result = send_one(notifier(fake, seeded_store(fake), followers=followers), zns_message("user-1"))

    assert fake.counts == {"zns": 1}  # straight to ZNS: no OA request refused first
    assert result.provider_id == fake.zns_messages[0]["msg_id"]


def test_a_user_inside_the_window_gets_the_oa_message(engine: Engine, fake: FakeZalo) -> None:
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    fake.interact("user-1", at=three_days_ago)
    followers = followers_with(engine, "user-1", three_days_ago)

    send_one(notifier(fake, seeded_store(fake), followers=followers), zns_message("user-1"))

    assert fake.counts == {"oa": 1}
    assert fake.oa_messages[0]["quota_type"] == "purchase_quota"  # 48 h to 7 days: the OA's paid quota


def test_an_unfollower_or_a_user_never_heard_of_gets_the_zns_message(engine: Engine, fake: FakeZalo) -> None:
    followers = followers_with(engine, "user-gone", datetime.now(UTC) - timedelta(hours=1), following=False)
    zalo = notifier(fake, seeded_store(fake), followers=followers)

    asyncio.run(send(zalo, zns_message("user-gone", key="a"), zns_message("user-unknown", key="b")))

    assert fake.counts == {"zns": 2}


def test_without_the_webhook_the_window_is_unknown_and_the_oa_is_tried_first(fake: FakeZalo) -> None:
    fake.interact("user-1", at=datetime.now(UTC) - timedelta(days=8))

    result = send_one(notifier(fake, seeded_store(fake)), zns_message("user-1"))

    assert fake.counts == {"oa": 1, "zns": 1}  # -230, then ZNS
    assert result.provider_id == fake.zns_messages[0]["msg_id"]


def test_a_closed_window_without_zns_data_still_tries_the_oa(engine: Engine, fake: FakeZalo) -> None:
    """Our record may be incomplete (the webhook set up later than the user wrote): Zalo decides."""
    fake.interact("user-1")
    followers = followers_with(engine, "user-1", datetime.now(UTC) - timedelta(days=30))

    result = send_one(notifier(fake, seeded_store(fake), followers=followers), message("user-1"))

    assert result.provider_id == fake.oa_messages[0]["message_id"]


@pytest.mark.parametrize(
    "setting", [{"oa_tier_allows_cs": False}, {"oa_paid_quota": 0}, {"oa_user_daily_cap": 0}]
)
def test_the_fakes_tier_and_quotas_send_the_reminder_by_zns(fake: FakeZalo, setting: dict[str, Any]) -> None:
    for name, value in setting.items():
        setattr(fake, name, value)
    fake.interact("user-1", at=datetime.now(UTC) - timedelta(days=3))  # past the free 48 h
    alerts: list[tuple[str, str]] = []

    async def alert(key: str, text: str) -> None:
        alerts.append((key, text))

    result = send_one(notifier(fake, seeded_store(fake), alert=alert), zns_message("user-1"))

    assert fake.counts == {"oa": 1, "zns": 1}
    assert result.provider_id == fake.zns_messages[0]["msg_id"]
    code = {"oa_tier_allows_cs": -224, "oa_paid_quota": -211, "oa_user_daily_cap": -218}[next(iter(setting))]
    assert [text for _, text in alerts] == (
        [] if code == -218 else [alert_text(code)]
    )  # -218: this user only


@pytest.mark.parametrize("code", [-114, -110, -119, -118])
def test_user_side_zns_refusals_are_the_recipients_outcome_not_a_config_problem(
    fake: FakeZalo, code: int
) -> None:
    fake.refuse_zns("84912345678", code)

    error = send_one(notifier(fake, seeded_store(fake)), zns_message())

    assert isinstance(error, PermanentError)
    assert not error.config_problem
    assert f"mã {code}" in error.reason


def test_a_zns_fallback_refused_too_says_both_why(fake: FakeZalo) -> None:
    fake.interact("user-1", at=datetime.now(UTC) - timedelta(days=9))
    fake.refuse_zns("84912345678", -114)

    error = send_one(notifier(fake, seeded_store(fake)), zns_message("user-1"))

    assert isinstance(error, PermanentError) and not error.config_problem
    assert error.reason.startswith("Tin OA bị từ chối (mã -230); ZNS: ")
    assert "mã -114" in error.reason


def test_a_quota_refusal_alerts_the_admin_once_a_day(fake: FakeZalo) -> None:
    fake.zns_daily_quota = 0
    alerts: list[str] = []
    moment = [datetime(2024, 5, 6, 3, 0, tzinfo=UTC)]

    async def alert(key: str, text: str) -> None:
        alerts.append(key)

    zalo = notifier(fake, seeded_store(fake), alert=alert, clock=lambda: moment[0])
    first = asyncio.run(send(zalo, *(zns_message(key=f"k{i}") for i in range(3))))
    moment[0] += timedelta(days=1)
    second = asyncio.run(send(zalo, zns_message(key="k9")))

    assert all(isinstance(e, TransientError) and "mã -144" in e.reason for e in first + second)
    assert alerts == ["zalo:zns-quota:2024-05-06", "zalo:zns-quota:2024-05-07"]


def test_zns_at_night_waits_for_the_morning(fake: FakeZalo) -> None:
    fake.script_zns("84912345678", error_reply(-133, "Template cannot be sent at night"))
    at = datetime(2024, 5, 6, 16, 30, tzinfo=UTC)  # 23:30 in Hà Nội

    error = send_one(notifier(fake, seeded_store(fake), clock=fixed_clock(at)), zns_message())

    assert isinstance(error, TransientError)
    assert (at + timedelta(seconds=error.retry_after)).astimezone(VIETNAM).hour == 6


@pytest.mark.parametrize(
    "reply",
    [
        Reply(429, {"error": -32, "message": "Too many requests"}),
        Reply(503, {"error": -14014, "error_name": "Invalid refresh token"}),  # whatever the body says
        Reply(500, {"access_token": "", "message": "Internal error"}),
    ],
    ids=["429-json", "503-invalid-token-body", "500-json"],
)
def test_a_429_or_5xx_during_refresh_keeps_the_token(engine: Engine, fake: FakeZalo, reply: Reply) -> None:
    store = DatabaseTokenStore(engine)
    asyncio.run(store.bootstrap(fake.issue_refresh_token()))
    before = asyncio.run(store.load())
    fake.script_refresh(reply)
    fake.interact("user-1")
    zalo = notifier(fake, store)

    error = send_one(zalo, message("user-1"))

    assert isinstance(error, TransientError)
    assert asyncio.run(store.load()) == before
    assert before.refresh_token in fake.valid_refresh_tokens()  # Zalo did not consume it
    outcome = asyncio.run(store.last_refresh())
    assert outcome is not None and not outcome.ok and f"HTTP {reply.status}" in (outcome.error or "")
    result = send_one(zalo, message("user-1", key="k2"))  # the next attempt uses the same token
    assert result.provider_id == fake.oa_messages[0]["message_id"]
    assert fake.used_refresh_tokens == [before.refresh_token]
    assert asyncio.run(store.last_refresh()).ok


@pytest.mark.slow
def test_a_quiet_80_days_still_leaves_a_valid_token(engine: Engine) -> None:
    moment = [datetime(2024, 6, 1, 1, 0, tzinfo=UTC)]
    with running_fake(clock=lambda: moment[0]) as fake:
        store = DatabaseTokenStore(engine)
        asyncio.run(store.bootstrap(fake.issue_refresh_token()))
        for _day in range(80):  # nothing to send all summer; the service's daily keep-alive job runs
            moment[0] += timedelta(days=1)
            asyncio.run(notifier(fake, store, clock=lambda: moment[0]).keep_alive())
        stored = asyncio.run(store.load())
        assert fake.valid_refresh_tokens() == {stored.refresh_token}
        assert stored.issued_at == moment[0]
        assert fake.counts["refresh"] == 80
        fake.interact("user-1")
        result = send_one(notifier(fake, store, clock=lambda: moment[0]), message("user-1"))
        assert result.provider_id == fake.oa_messages[0]["message_id"]


def test_without_the_keep_alive_a_quiet_summer_ends_the_channel() -> None:
    moment = [datetime(2024, 6, 1, 1, 0, tzinfo=UTC)]
    with running_fake(clock=lambda: moment[0]) as fake:
        store = InMemoryTokenStore()
        asyncio.run(store.bootstrap(fake.issue_refresh_token()))
        moment[0] += timedelta(days=91)
        fake.interact("user-1")

        error = send_one(notifier(fake, store, clock=lambda: moment[0]), message("user-1"))

        assert isinstance(error, PermanentError) and error.reason == REFRESH_REFUSED


def test_keep_alive_leaves_a_token_refreshed_today_alone(fake: FakeZalo) -> None:
    store = seeded_store(fake)
    asyncio.run(store.save(replace(asyncio.run(store.load()), issued_at=datetime.now(UTC)), 0))
    zalo = notifier(fake, store)

    assert asyncio.run(zalo.keep_alive()) is False
    assert fake.counts["refresh"] == 0
    later = notifier(fake, store, clock=lambda: datetime.now(UTC) + timedelta(hours=21))
    assert asyncio.run(later.keep_alive()) is True
    assert fake.counts["refresh"] == 1


@pytest.mark.parametrize(("age_days", "warns"), [(70, False), (77, True), (95, True)])
def test_the_refresh_token_expiry_warning_starts_two_weeks_before(age_days: int, warns: bool) -> None:
    issued = datetime(2024, 6, 1, tzinfo=UTC)
    pair = TokenPair("at", "rt", issued, 3, issued_at=issued)

    warning = expiry_warning(pair, issued + timedelta(days=age_days), VIETNAM)

    assert (warning is not None) == warns
    if warns:
        assert "30/08/2024" in warning and "nhacviec zalo" in warning  # 90 days after 01/06/2024


def test_the_fake_refuses_what_the_real_zalo_would_not_parse(fake: FakeZalo) -> None:
    access, _refresh = fake.issue_pair()
    body = {"recipient": {"user_id": "user-1"}, "message": {"text": "x"}}

    as_form = httpx.post(
        fake.url + "/v3.0/oa/message/cs", data=body["message"], headers={"access_token": access}
    )
    refresh_as_json = httpx.post(
        fake.url + "/v4/oa/access_token",
        json={"app_id": fake.app_id, "grant_type": "refresh_token", "refresh_token": _refresh},
        headers={"secret_key": fake.secret_key},
    )

    assert as_form.json()["error"] != 0 and "access_token" not in refresh_as_json.json()
    assert fake.bad_requests == [
        "OA message sent as 'application/x-www-form-urlencoded'",
        "token refresh sent as 'application/json'",
    ]
    fake.bad_requests.clear()


def test_the_rate_per_minute_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import Settings

    monkeypatch.setenv("NHACVIEC_ZALO_APP_ID", "app-9")
    monkeypatch.setenv("NHACVIEC_ZALO_SECRET_KEY", "s3cr3t")
    default = ZaloNotifier.from_settings(Settings(), InMemoryTokenStore())
    monkeypatch.setenv("NHACVIEC_ZALO_RATE_PER_MINUTE", "30")
    configured = ZaloNotifier.from_settings(Settings(), InMemoryTokenStore())

    assert (default._limiter.rate, default._limiter.period) == (DEFAULT_RATE_PER_MINUTE, 60.0)
    assert DEFAULT_RATE_PER_MINUTE <= 300  # conservative: Zalo publishes no figure
    assert configured._limiter.interval == 2.0


def zalo_settings(fake: FakeZalo, monkeypatch: pytest.MonkeyPatch, **extra: str) -> Any:
    from config.settings import Settings

    monkeypatch.setenv("NHACVIEC_ZALO_APP_ID", fake.app_id)
    monkeypatch.setenv("NHACVIEC_ZALO_SECRET_KEY", fake.secret_key)
    monkeypatch.setenv("NHACVIEC_ZALO_RATE_PER_MINUTE", "600000")
    for name in ("API_URL", "BUSINESS_API_URL", "OAUTH_URL"):
        monkeypatch.setenv(f"NHACVIEC_ZALO_{name}", fake.url)
    for name, value in extra.items():
        monkeypatch.setenv(f"NHACVIEC_ZALO_{name}", value)
    return Settings()


def outbox_row(key: str, recipient: str, name: str, phone: str, address: str | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "key": f"reminder/CCHC-2020:IV.4/d3|{recipient}|zalo|{key}",
        "notification_key": "reminder/CCHC-2020:IV.4/d3",
        "kind": "reminder",
        "rule": "reminder",
        "plan": "CCHC-2020",
        "task": "IV.4",
        "channel": "zalo",
        "recipient": recipient,
        "role": "to",
        "recipient_name": name,
        "address": address,
        "subject": "Nhắc việc",
        "body_text": "Nhắc hạn nhiệm vụ IV.4",
        "extra": {"phone": phone, "zns": ZNS},
        "status": "pending",
        "due_at": now,
        "next_attempt_at": now,
        "created_at": now,
        "attempts": 0,
    }


def dispatch_zalo(engine: Engine, settings: Any, *rows: dict[str, Any]) -> None:
    from delivery.channels import build_notifiers
    from delivery.dispatcher import dispatch
    from store import outbox
    from store.db import session_scope

    with session_scope(engine) as session:
        outbox.enqueue(session, [outbox.NewMessage.single(row) for row in rows])
    notifiers = {"zalo": build_notifiers(settings, engine)["zalo"]}
    asyncio.run(dispatch(engine, notifiers))


def test_user_side_refusals_appear_per_recipient_not_as_config_alerts(
    engine: Engine, fake: FakeZalo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from delivery.pipeline import recent_deliveries
    from planner.digest import build_digest
    from store.db import session_scope
    from store.outbox import config_problems, list_messages
    from templates.context import digest_context, sample_directory, sample_tasks

    asyncio.run(DatabaseTokenStore(engine).bootstrap(fake.issue_refresh_token()))
    fake.refuse_zns("84900000102", -114)
    dispatch_zalo(
        engine,
        zalo_settings(fake, monkeypatch),
        outbox_row("a", "TCCB", "Phòng Tổ chức cán bộ", "0900000101"),
        outbox_row("b", "PGD1", "Phòng GD&ĐT huyện Lương Sơn", "0900000102"),
    )

    with session_scope(engine) as session:
        rows = {m.recipient: m for m in list_messages(session)}
        problems = config_problems(session)
    assert (rows["TCCB"].status, rows["PGD1"].status) == ("sent", "failed")
    assert "không nhận tin ZNS" in rows["PGD1"].last_error and "mã -114" in rows["PGD1"].last_error
    assert problems == []  # the recipient's choice, not the Office's configuration
    failed = recent_deliveries(engine, datetime.now(UTC))["failed"]
    assert [(f["recipient"], f["channel"]) for f in failed] == [("Phòng GD&ĐT huyện Lương Sơn", "zalo")]
    digest = build_digest(sample_tasks(), date(2020, 12, 7), units=None, failed_deliveries=failed)
    section = digest_context(digest, sample_directory())["failed_deliveries"]
    assert [(f["recipient"], f["channel"]) for f in section] == [("Phòng GD&ĐT huyện Lương Sơn", "Zalo")]
    assert "không nhận tin ZNS" in section[0]["error"]


def test_a_quota_refusal_is_one_admin_alert_a_day_however_many_messages(
    engine: Engine, fake: FakeZalo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store.db import session_scope
    from store.outbox import config_problems, list_messages

    asyncio.run(DatabaseTokenStore(engine).bootstrap(fake.issue_refresh_token()))
    fake.zns_balance = 0
    settings = zalo_settings(fake, monkeypatch)

    dispatch_zalo(
        engine, settings, *(outbox_row(str(i), f"U{i}", f"Đơn vị {i}", "0900000101") for i in range(5))
    )

    with session_scope(engine) as session:
        problems = config_problems(session)
        rows = list_messages(session)
    today = datetime.now(VIETNAM).date().isoformat()
    assert [(p.key, p.occurrences) for p in problems] == [(f"zalo:zns-quota:{today}", 1)]
    assert "nạp tiền" in problems[0].message
    assert {m.status for m in rows} == {"pending"}  # held: they go tomorrow morning
    assert all(m.next_attempt_at.astimezone(VIETNAM).hour == 7 for m in rows)


def test_the_webhooks_interactions_steer_the_real_delivery_path(
    engine: Engine, fake: FakeZalo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the OA secret key set, channels.build_notifiers gives the notifier the followers table."""
    asyncio.run(DatabaseTokenStore(engine).bootstrap(fake.issue_refresh_token()))
    fake.interact("zalo-tccb", at=datetime.now(UTC) - timedelta(days=10))
    followers_with(engine, "zalo-tccb", datetime.now(UTC) - timedelta(days=10))
    settings = zalo_settings(fake, monkeypatch, OA_SECRET_KEY=fake.oa_secret_key)

    dispatch_zalo(
        engine, settings, outbox_row("a", "TCCB", "Phòng Tổ chức cán bộ", "0900000101", "zalo-tccb")
    )

    assert fake.counts == {"refresh": 1, "zns": 1}


def test_the_service_clock_runs_the_keep_alive_at_start_and_every_six_hours(
    engine: Engine, fake: FakeZalo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plan.units import load_directory
    from scheduler.service import Service
    from store.state import SCHEDULER, get_state
    from templates.render import Renderer

    store = DatabaseTokenStore(engine)
    asyncio.run(store.bootstrap(fake.issue_refresh_token()))
    asyncio.run(
        store.save(replace(asyncio.run(store.load()), issued_at=datetime.now(UTC) - timedelta(days=2)), 0)
    )
    settings = zalo_settings(fake, monkeypatch)
    service = Service(
        engine,
        settings,
        load_directory(settings.units_file),
        Renderer(),
        send_time=clock_time(7, 30),
        retry_seconds=3600,
    )
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.ensure_future(service.run(stop))
        for _ in range(200):
            await asyncio.sleep(0.05)
            state = get_state(engine, SCHEDULER) or {}
            if state.get("state") == "active":
                seen.update(state)
                break
        stop.set()
        await running

    asyncio.run(scenario())

    assert "zalo-keepalive" in seen["next_runs"]
    next_run = datetime.fromisoformat(seen["next_runs"]["zalo-keepalive"])
    assert timedelta(hours=5, minutes=59) < next_run - datetime.now(UTC) <= timedelta(hours=6)
    assert fake.counts["refresh"] == 1  # at start: the token was two days old
    assert asyncio.run(store.load()).generation == 2


def test_zalo_status_shows_the_tokens_age_expiry_and_last_refresh_outcome(run_cli) -> None:  # type: ignore[no-untyped-def]
    from cli.common import open_store

    run_cli("init", "--no-sample")
    store = DatabaseTokenStore(open_store())
    issued = datetime.now(UTC) - timedelta(days=80)
    asyncio.run(store.bootstrap("rt-bi-mat-0"))
    asyncio.run(
        store.save(TokenPair("at-bi-mat", "rt-bi-mat-1", issued + timedelta(hours=25), issued_at=issued), 0)
    )
    asyncio.run(
        store.record_refresh_failure(datetime.now(UTC), "Máy chủ xác thực Zalo trả lời HTTP 503, sẽ thử lại")
    )

    text = run_cli("zalo", "status").stdout
    state = json.loads(run_cli("zalo", "status", "--json").stdout)

    assert (
        "(80 ngày trước)" in text and f"{(issued + timedelta(days=90)).astimezone(VIETNAM):%d/%m/%Y}" in text
    )
    assert "không thành công: Máy chủ xác thực Zalo trả lời HTTP 503" in text
    assert "Token Zalo sẽ hết hạn ngày" in text  # within two weeks of expiring
    assert "bi-mat" not in text + json.dumps(state)
    assert state["refresh_token_age_days"] == 80 and state["generation"] == 1
    assert state["last_refresh"]["ok"] is False and state["warning"]


@pytest.mark.slow
def test_the_weekly_digest_warns_two_weeks_before_the_refresh_token_would_expire(run_cli) -> None:  # type: ignore[no-untyped-def]
    from cli.common import open_store

    run_cli("init")
    issued = datetime(2020, 9, 18, 2, 0, tzinfo=UTC)  # unrefreshed since: expires 17/12/2020
    store = DatabaseTokenStore(open_store())
    asyncio.run(store.bootstrap("rt-0"))
    asyncio.run(store.save(TokenPair("at-1", "rt-1", issued + timedelta(hours=25), issued_at=issued), 0))

    assert run_cli("run", "--once", "--at", "2020-11-30 07:30").exit_code == 0  # Monday, 17 days before
    assert run_cli("run", "--once", "--at", "2020-12-07 07:30").exit_code == 0  # Monday, 10 days before

    digests = list_messages_of_kind(open_store(), "digest")
    early = [m for m in digests if m.due_at.astimezone(VIETNAM).day == 30]
    late = [m for m in digests if m.due_at.astimezone(VIETNAM).day == 7]
    assert early and late
    assert not any("Token Zalo" in m.body_text for m in early)
    assert all("Token Zalo sẽ hết hạn ngày 17/12/2020" in m.body_text for m in late)
    assert all(
        "Token Zalo sẽ hết hạn" not in m.body_text for m in list_messages_of_kind(open_store(), "reminder")
    )


def list_messages_of_kind(engine: Engine, kind: str) -> list[Any]:
    """The messages of ``kind``, each with its ``body_text`` (from its content row)."""
    from types import SimpleNamespace

    from store.db import session_scope
    from store.outbox import content_of, list_messages

    with session_scope(engine) as session:
        messages = [m for m in list_messages(session) if m.kind == kind]
        texts = {i: c.body_text for i, c in content_of(session, [m.id for m in messages]).items()}
        return [SimpleNamespace(due_at=m.due_at, body_text=texts[m.id]) for m in messages]


def test_the_pipeline_gives_zalo_messages_their_zns_form_so_the_reminder_reaches_the_phone(
    run_cli, fake: FakeZalo, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """End to end: `remind` renders each Zalo message with its ZNS templates and the phone; the OA refuses
    users who do not follow it (-213), and the reminder goes by ZNS instead of being lost."""
    zalo_settings(fake, monkeypatch, REFRESH_TOKEN=fake.issue_refresh_token())
    assert run_cli("init").exit_code == 0
    assert run_cli("rules", "set", "reminder", "channels=zalo").exit_code == 0

    result = run_cli("remind", "--task", "IV.4", "--at", "25/11/2020")

    assert result.exit_code == 0, result.stderr
    assert fake.oa_messages == []  # nobody follows the OA yet: every OA message refused (-213)
    sent = {m["phone"]: m for m in fake.zns_messages}
    assert set(sent) == {"84900000002", "84900000007", "84900000008"}  # TCCB, and the two units in cc
    lead = sent["84900000002"]
    assert lead["template_id"] == "000002"  # config/zns.yaml's reminder
    assert lead["template_data"]["task_code"] == "IV.4"
    assert lead["template_data"]["due_date"] == "30/11/2020"
    rows = json.loads(run_cli("outbox", "list", "--json").stdout)
    assert {row["status"] for row in rows} == {"sent"}


def test_a_bundle_goes_by_zns_as_one_template_message_per_item_in_order(fake: FakeZalo) -> None:
    second = {**ZNS, "template_data": {**ZNS["template_data"], "task_code": "IV.4"}}
    bundle = message(None, key="bundle/2020-11-25T07:30/TCCB|zalo/abc", phone="0912345678", zns=[ZNS, second])

    result = send_one(notifier(fake, seeded_store(fake)), bundle)

    assert not isinstance(result, Exception), result
    assert [m["template_data"]["task_code"] for m in fake.zns_messages] == ["II.4.b", "IV.4"]
    assert len({m["tracking_id"] for m in fake.zns_messages}) == 2  # each item tracked on its own
    assert result.provider_id == ",".join(m["msg_id"] for m in fake.zns_messages)


# -- a message in parts: a retry sends only the parts that did not go -----------------------------------


def test_a_failed_oa_part_is_retried_alone_and_the_parts_before_it_are_not_sent_again(fake: FakeZalo) -> None:
    fake.interact("user-7")
    parts = ["Phần 1: nhắc việc", "Phần 2: nhắc việc", "Phần 3: nhắc việc"]
    long = message("user-7", key="bundle/x|TCCB|zalo", text="\n\n".join(parts), zalo_parts=parts)
    fake.script_oa("user-7", PASS, html_reply(502))

    first = send_one(notifier(fake, seeded_store(fake)), long)

    assert isinstance(first, DeliveryError) and not first.permanent
    assert [m["text"] for m in fake.oa_messages] == ["Phần 1: nhắc việc"]
    assert first.parts_done == (f"oa:{fake.oa_messages[0]['message_id']}",)

    again = replace(long, parts_done=first.parts_done)
    second = send_one(notifier(fake, seeded_store(fake)), again)

    assert [m["text"] for m in fake.oa_messages] == parts  # each part once, in order
    assert second.provider_id == ",".join(m["message_id"] for m in fake.oa_messages)


def test_a_failed_zns_item_of_a_bundle_is_retried_alone(fake: FakeZalo) -> None:
    second_item = {**ZNS, "template_data": {**ZNS["template_data"], "task_code": "IV.4"}}
    bundle = message(None, key="bundle/y|TCCB|zalo", phone="0912345678", zns=[ZNS, second_item])
    fake.script_zns("84912345678", PASS, html_reply(503))

    first = send_one(notifier(fake, seeded_store(fake)), bundle)

    assert isinstance(first, DeliveryError) and not first.permanent
    assert [m["template_data"]["task_code"] for m in fake.zns_messages] == ["II.4.b"]
    second = send_one(notifier(fake, seeded_store(fake)), replace(bundle, parts_done=first.parts_done))

    assert [m["template_data"]["task_code"] for m in fake.zns_messages] == ["II.4.b", "IV.4"]
    assert second.provider_id == ",".join(m["msg_id"] for m in fake.zns_messages)
