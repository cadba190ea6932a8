"""The Telegram channel against a fake Bot API server over real HTTP, and its rate limiters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from itertools import pairwise
from typing import TypeVar

import pytest

from config.settings import Settings
from notifiers.base import OutgoingMessage, PermanentError, SendResult, TransientError
from notifiers.ratelimit import KeyedLimiter, RateLimiter
from notifiers.telegram import MAX_TEXT_LENGTH, TelegramNotifier, split_html, visible_length
from tests.support.fake_telegram import (
    FakeTelegram,
    ScriptedError,
    arrival_gaps,
    max_in_window,
    parse_html,
)

T = TypeVar("T")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def message(
    address: str, text: str = "Nhắc việc", html: str | None = None, key: str = "k1"
) -> OutgoingMessage:
    return OutgoingMessage(
        key=key,
        channel="telegram",
        address=address,
        recipient_name="Cán bộ",
        subject="",
        text=text,
        html=html,
    )


def with_notifier(notifier: TelegramNotifier, work: Callable[[TelegramNotifier], Awaitable[T]]) -> T:
    async def run() -> T:
        async with notifier:
            return await work(notifier)

    return asyncio.run(run())


def send(fake: FakeTelegram, outgoing: OutgoingMessage, **options: object) -> SendResult:
    notifier = TelegramNotifier(fake.token, api_url=fake.url, **options)  # type: ignore[arg-type]
    return with_notifier(notifier, lambda n: n.send(outgoing))


def send_error(fake: FakeTelegram, outgoing: OutgoingMessage) -> PermanentError | TransientError:
    with pytest.raises((PermanentError, TransientError)) as caught:
        send(fake, outgoing)
    return caught.value


# --- delivery -----------------------------------------------------------------------------------


def test_html_message_is_delivered_with_its_message_id_and_vietnamese_intact(fake: FakeTelegram) -> None:
    html = "<b>Nhắc việc</b>: nộp <i>Báo cáo tổng kết năm</i> trước 17 giờ ngày 15/12 &lt;gấp&gt;"
    result = send(fake, message("123456789", html=html))

    [sent] = fake.sent
    assert result == SendResult(provider_id=str(sent.message_id), new_address=None)
    assert sent.chat_id == "123456789"
    assert sent.text == html
    assert sent.parse_mode == "HTML"
    assert sent.visible_text == "Nhắc việc: nộp Báo cáo tổng kết năm trước 17 giờ ngày 15/12 <gấp>"
    assert sent.params["link_preview_options"] == '{"is_disabled": true}'


def test_plain_text_is_escaped_so_html_parse_mode_shows_it_unchanged(fake: FakeTelegram) -> None:
    text = "Chỉ tiêu <5% & hạn 15/12 > hôm nay"
    send(fake, message("42", text=text))

    [sent] = fake.sent
    assert sent.text == "Chỉ tiêu &lt;5% &amp; hạn 15/12 &gt; hôm nay"
    assert sent.visible_text == text


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own RetryAfter()
def test_flood_control_is_transient_with_the_seconds_telegram_asked_for(fake: FakeTelegram) -> None:
    fake.flood("42", retry_after=17)

    error = send_error(fake, message("42"))

    assert isinstance(error, TransientError)
    assert error.retry_after == 17.0
    assert not error.permanent
    assert fake.sent == []


def test_blocked_bot_is_permanent_but_not_a_configuration_problem(fake: FakeTelegram) -> None:
    fake.block("42")

    error = send_error(fake, message("42"))

    assert isinstance(error, PermanentError)
    assert not error.config_problem
    assert "bot was blocked by the user" in error.reason


def test_bot_kicked_from_a_group_is_permanent(fake: FakeTelegram) -> None:
    fake.kick("-4001")

    error = send_error(fake, message("-4001"))

    assert isinstance(error, PermanentError)
    assert "kicked" in error.reason


def test_unknown_chat_is_a_configuration_problem_naming_the_chat(fake: FakeTelegram) -> None:
    fake.forget("777")

    error = send_error(fake, message("777"))

    assert isinstance(error, PermanentError)
    assert error.config_problem
    assert "777" in error.reason
    assert "Không tìm thấy chat Telegram" in error.reason


@pytest.mark.parametrize("status", [500, 502])
def test_server_errors_are_transient(fake: FakeTelegram, status: int) -> None:
    fake.fail("42", ScriptedError(status, "Internal Server Error"))

    error = send_error(fake, message("42"))

    assert isinstance(error, TransientError)
    assert error.retry_after is None


def test_html_telegram_cannot_parse_is_a_template_problem(fake: FakeTelegram) -> None:
    error = send_error(fake, message("42", html="<div>Nhắc việc</div>"))

    assert isinstance(error, PermanentError)
    assert error.config_problem
    assert 'unsupported start tag "div"' in error.reason.lower()


def test_migrated_group_gets_the_message_once_at_its_new_id_and_the_new_id_is_returned(
    fake: FakeTelegram,
) -> None:
    fake.migrate("-4001", "-1009876543210")

    result = send(fake, message("-4001", html="<b>Họp giao ban</b> lúc 8 giờ"))

    [sent] = fake.sent
    assert sent.chat_id == "-1009876543210"
    assert result == SendResult(provider_id=str(sent.message_id), new_address="-1009876543210")
    assert [(r.chat_id, r.status) for r in fake.requests] == [("-4001", 400), ("-1009876543210", 200)]


def test_a_second_migration_is_not_followed(fake: FakeTelegram) -> None:
    fake.migrate("-4001", "-1001")
    fake.migrate("-1001", "-1002")

    error = send_error(fake, message("-4001"))

    assert isinstance(error, PermanentError)
    assert error.config_problem
    assert fake.sent == []
    assert len(fake.requests) == 2


# --- long messages ------------------------------------------------------------------------------


def long_report(paragraphs: int) -> str:
    """Paragraphs of formatted lines, one <pre> block spanning lines, ~100 visible chars per line."""
    blocks = []
    for number in range(1, paragraphs + 1):
        lines = [
            f"<b>{number}. Đơn vị số {number}</b>: chưa nộp <i>báo cáo tháng</i> &amp; kế hoạch quý, hạn 15/12",
            f'Chi tiết: <a href="https://example.gov.vn/{number}">hồ sơ {number}</a> — liên hệ Văn phòng Sở',
            f"<pre>mã {number}\ndòng 2 của khối</pre>",
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def test_long_html_is_split_into_valid_parts_within_the_limit_and_nothing_is_lost(fake: FakeTelegram) -> None:
    html = long_report(70)
    assert visible_length(html) > 2 * MAX_TEXT_LENGTH

    result = send(fake, message("42", html=html), chat_limiter=KeyedLimiter(0.0))

    sent = fake.sent
    assert len(sent) == 3
    assert result.provider_id == ",".join(str(m.message_id) for m in sent)
    assert all(visible_length(m.text) <= MAX_TEXT_LENGTH for m in sent)
    assert sent[0].visible_text.startswith("1. Đơn vị số 1")
    assert sent[1].text.startswith("<b>")  # each part starts at a paragraph
    original = parse_html(html).text
    assert "\n\n".join(m.visible_text for m in sent) == original


def test_split_keeps_elements_spanning_lines_whole() -> None:
    markup = "<pre>a\nb</pre>\n<b>c</b>\n<blockquote>d\ne\nf</blockquote>"

    parts = split_html(markup, limit=8)

    assert parts == ["<pre>a\nb</pre>\n<b>c</b>", "<blockquote>d\ne\nf</blockquote>"]
    assert [parse_html(part).text for part in parts] == ["a\nb\nc", "d\ne\nf"]


def test_split_prefers_a_paragraph_end_in_the_second_half() -> None:
    markup = "aaaa\nbbbb\n\ncccc\ndddd\neeee"

    assert split_html(markup, limit=20) == ["aaaa\nbbbb", "cccc\ndddd\neeee"]


def test_split_counts_visible_characters_not_markup() -> None:
    markup = "<b>ab</b> &amp;\n<i>cd</i>"  # visible: "ab &\ncd" (7)

    assert split_html(markup, limit=7) == [markup]
    assert split_html(markup, limit=6) == ["<b>ab</b> &amp;", "<i>cd</i>"]


def test_a_single_block_too_long_goes_as_plain_text_chunks_cut_at_spaces() -> None:
    words = " ".join(f"<b>từ{n}</b>" for n in range(40))  # visible: "từ0 từ1 ... từ39"
    visible = parse_html(words).text

    parts = split_html(f"Mở đầu\n{words}", limit=50)

    assert parts[0] == "Mở đầu"
    assert all(visible_length(part) <= 50 for part in parts)
    assert all(part.endswith("…") for part in parts[1:-1])
    assert "<b>" not in "".join(parts[1:])
    rejoined = " ".join(parse_html(part).text.removesuffix("…") for part in parts[1:])
    assert rejoined == visible


def test_plain_chunks_are_escaped_for_html() -> None:
    parts = split_html("<b>" + "a&lt;b " * 30 + "</b>", limit=40)  # visible: "a<b a<b ..." (119)

    assert parts == ["a&lt;b " * 9 + "a&lt;b…"] * 2 + ["a&lt;b " * 9 + "a&lt;b"]
    assert [visible_length(part) for part in parts] == [40, 40, 39]
    assert parse_html(parts[0]).text == "a<b " * 9 + "a<b…"


# --- the token stays secret ---------------------------------------------------------------------


def test_wrong_token_is_a_configuration_problem_and_the_token_never_shows(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "7012345678:AAHwrong-Token_that-must-stay-secret"
    notifier = TelegramNotifier(wrong, api_url=fake.url)

    with pytest.raises(PermanentError) as caught:
        with_notifier(notifier, lambda n: n.send(message("42")))

    error = caught.value
    assert error.config_problem
    assert "NHACVIEC_TELEGRAM_TOKEN" in error.reason
    assert wrong not in str(error) + repr(error) + repr(notifier)
    assert error.__cause__ is None and error.__suppress_context__
    assert "/bot<token>/sendMessage" in caplog.text  # httpx logged the URL, redacted
    assert wrong not in caplog.text
    assert not any(wrong in record.getMessage() for record in caplog.records)
    assert [r.status for r in fake.requests] == [401]


def test_token_is_redacted_from_errors_that_quote_the_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = "7012345678:AAHsecret-in-an-unreachable-url"
    notifier = TelegramNotifier(token, api_url="http://127.0.0.1:9", timeout=2.0)  # port 9: refused

    with pytest.raises(TransientError) as caught:
        with_notifier(notifier, lambda n: n.send(message("42")))

    assert token not in caught.value.reason
    assert token not in caplog.text


def test_notifier_from_settings_uses_the_token_and_the_self_hosted_api_url(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NHACVIEC_TELEGRAM_TOKEN", fake.token)
    monkeypatch.setenv("NHACVIEC_TELEGRAM_API_URL", fake.url + "/")
    notifier = TelegramNotifier.from_settings(Settings())

    with_notifier(notifier, lambda n: n.send(message("42")))

    assert fake.texts_to("42") == ["Nhắc việc"]
    assert fake.token not in repr(notifier)


def test_notifier_from_settings_without_a_token_names_the_variable() -> None:
    with pytest.raises(ValueError, match="NHACVIEC_TELEGRAM_TOKEN"):
        TelegramNotifier.from_settings(Settings())


# --- rate limiters on a fake clock --------------------------------------------------------------


class FakeClock:
    """Virtual time: sleeping advances it (one sleeper at a time)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def acquire_times(
    limiter: RateLimiter, clock: FakeClock, count: int, *, concurrently: bool = False
) -> list[float]:
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        times.append(clock.now)

    async def run() -> None:
        if concurrently:
            await asyncio.gather(*(one() for _ in range(count)))
        else:
            for _ in range(count):
                await one()

    asyncio.run(run())
    return times


def test_overall_limiter_spaces_grants_evenly_at_30_per_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(30, 1.0, clock=clock, sleep=clock.sleep)

    grants = acquire_times(limiter, clock, 61, concurrently=True)

    assert [t - 100.0 for t in grants[:4]] == pytest.approx([0.0, 1 / 30, 2 / 30, 3 / 30])
    assert grants[60] == pytest.approx(102.0)
    in_a_second = [sum(1 for t in grants if start <= t < start + 1.0 - 1e-9) for start in grants]
    assert max(in_a_second) == 30


def test_overall_limiter_does_not_bank_idle_time_into_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4000, 60.0, clock=clock, sleep=clock.sleep)  # Zalo's limit

    first = acquire_times(limiter, clock, 1)
    clock.now += 10.0  # idle for ten seconds
    later = acquire_times(limiter, clock, 2)

    assert first == [100.0]
    assert later == pytest.approx([110.0, 110.015])


def late_sleep(clock: FakeClock, lateness: list[float]) -> Callable[[float], Awaitable[None]]:
    """A sleep that wakes up late by the next of ``lateness`` (then on time), like a busy event loop."""

    async def sleep(seconds: float) -> None:
        clock.sleeps.append(seconds)
        clock.now += seconds + (lateness.pop(0) if lateness else 0.0)
        await asyncio.sleep(0)

    return sleep


def test_overall_limiter_keeps_its_timeline_despite_small_late_wakeups() -> None:
    clock = FakeClock()
    limiter = RateLimiter(30, 1.0, clock=clock, sleep=late_sleep(clock, [0.004] * 30))

    grants = acquire_times(limiter, clock, 31, concurrently=True)

    assert grants[30] == pytest.approx(101.0 + 0.004)  # no drift: 30 intervals, one wake-up's lateness


def test_overall_limiter_catches_up_at_most_half_an_interval_after_a_late_wakeup() -> None:
    clock = FakeClock()
    limiter = RateLimiter(30, 1.0, clock=clock, sleep=late_sleep(clock, [0.5]))

    grants = acquire_times(limiter, clock, 3, concurrently=True)

    assert [later - earlier for earlier, later in pairwise(grants)] == pytest.approx([1 / 30 + 0.5, 1 / 60])


def test_overall_limiter_never_grants_more_than_rate_in_a_period_even_when_catching_up() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, clock=clock, sleep=late_sleep(clock, [0.25]))

    grants = acquire_times(limiter, clock, 4, concurrently=True)

    # pacing alone would allow 101.5: three grants within [100.75, 101.75)
    assert grants == pytest.approx([100.0, 100.75, 101.0, 101.75])


def test_overall_limiter_serves_one_event_loop_after_another() -> None:
    limiter = RateLimiter(1000, 1.0)

    async def contended() -> None:
        await asyncio.gather(*(limiter.acquire() for _ in range(3)))

    asyncio.run(contended())
    asyncio.run(contended())  # a lock bound to the first loop would raise here

    assert len(limiter._recent) == 6


def test_per_chat_limiter_waits_a_second_after_each_use_of_the_same_chat_only() -> None:
    clock = FakeClock()
    chats = KeyedLimiter(1.0, clock=clock, sleep=clock.sleep)
    started: list[tuple[str, float]] = []

    async def use(chat: str) -> None:
        async with chats.hold(chat):
            started.append((chat, clock.now))
            await clock.sleep(0.25)  # the request itself

    async def scenario() -> None:
        await use("a")
        await use("b")  # another chat: no wait
        await use("a")  # 1 s after the end of the first use of "a"

    asyncio.run(scenario())

    assert started == [("a", 100.0), ("b", 100.25), ("a", pytest.approx(101.25))]


def test_per_chat_limiter_serialises_concurrent_uses_of_one_chat() -> None:
    clock = FakeClock()
    chats = KeyedLimiter(1.0, clock=clock, sleep=clock.sleep)
    inside: list[int] = []
    starts: list[float] = []

    async def use() -> None:
        async with chats.hold("a"):
            inside.append(1)
            assert len(inside) == 1
            starts.append(clock.now)
            await clock.sleep(0.1)
            inside.pop()

    async def scenario() -> None:
        await asyncio.gather(use(), use(), use())

    asyncio.run(scenario())

    assert starts == pytest.approx([100.0, 101.1, 102.2])
    assert chats._locks == {}  # nothing kept for a chat no one is using


# --- rate limits end to end ---------------------------------------------------------------------


def send_all(notifier: TelegramNotifier, outgoing: list[OutgoingMessage]) -> list[SendResult]:
    async def work(n: TelegramNotifier) -> list[SendResult]:
        gate = asyncio.Semaphore(n.max_concurrency)

        async def one(item: OutgoingMessage) -> SendResult:
            async with gate:
                return await n.send(item)

        return await asyncio.gather(*(one(item) for item in outgoing))

    return with_notifier(notifier, work)


@pytest.mark.slow
def test_messages_to_one_chat_arrive_at_least_the_chat_interval_apart(fake: FakeTelegram) -> None:
    notifier = TelegramNotifier(fake.token, api_url=fake.url, chat_limiter=KeyedLimiter(0.05))

    results = send_all(notifier, [message("42", text=f"Tin {n}", key=f"k{n}") for n in range(40)])

    assert len(fake.messages_to("42")) == 40
    assert len({r.provider_id for r in results}) == 40
    assert min(arrival_gaps(fake.sent)) >= 0.05


def test_group_chats_use_the_slower_group_interval(fake: FakeTelegram) -> None:
    notifier = TelegramNotifier(
        fake.token, api_url=fake.url, chat_limiter=KeyedLimiter(0.0), group_limiter=KeyedLimiter(0.1)
    )

    send_all(notifier, [message("-4001", key=f"g{n}") for n in range(4)] + [message("42", key="p")])

    assert min(arrival_gaps(fake.messages_to("-4001"))) >= 0.1
    assert (
        fake.messages_to("42")[0].arrived < fake.messages_to("-4001")[1].arrived
    )  # not held up by the group


@pytest.mark.slow
def test_messages_to_many_chats_respect_the_overall_rate(fake: FakeTelegram) -> None:
    rate, period, count = 5, 0.25, 30  # 20 a second: the real 30 a second, scaled for speed
    notifier = TelegramNotifier(fake.token, api_url=fake.url, overall_limiter=RateLimiter(rate, period))

    send_all(notifier, [message(str(1000 + n), key=f"k{n}") for n in range(count)])

    sent = fake.sent
    assert len({m.chat_id for m in sent}) == count
    span = sent[-1].arrived - sent[0].arrived
    assert span >= (count - 1) * period / rate * 0.95
    assert (
        max_in_window([m.arrived for m in sent], period) <= rate + 1
    )  # +1: network jitter at the window's edges


@pytest.mark.slow
def test_parts_split_by_the_renderer_are_all_sent_in_order(fake: FakeTelegram) -> None:
    parts = [f"<b>Phần {i}</b>\n" + "nội dung " * 50 for i in range(1, 4)]
    outgoing = OutgoingMessage(
        key="digest/x|PGD1|telegram",
        channel="telegram",
        address="5001",
        recipient_name="Phó Giám đốc",
        subject="Bản tin",
        text="",
        html=parts[0],
        extra={"telegram_parts": parts},
    )
    result = send(fake, outgoing)
    texts = [m.visible_text for m in fake.messages_to("5001")]
    assert [t.split("\n")[0] for t in texts] == ["Phần 1", "Phần 2", "Phần 3"]
    assert result.provider_id is not None and len(result.provider_id.split(",")) == 3
