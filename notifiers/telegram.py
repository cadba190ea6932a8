"""Telegram channel: one reminder to one chat through the Bot API (python-telegram-bot).

Messages go out as Telegram's HTML subset, split at line boundaries when longer
than the 4,096 characters a message may hold. Sends are paced to the Bot API's
limits (about 30 a second overall, 1 a second per chat, 20 a minute per group)
by the limiters of :mod:`notifiers.ratelimit`. Provider errors become
:class:`~notifiers.base.DeliveryError` s that say whether to retry.

The bot token is part of every Bot API URL, so it is scrubbed from the log
records of python-telegram-bot, httpx and httpcore (see :func:`protect_token`)
and never written into an error message or a ``repr``.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import warnings
from typing import TYPE_CHECKING
from urllib.parse import quote

from pydantic import SecretStr
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from notifiers.base import (
    DeliveryError,
    Notifier,
    OutgoingMessage,
    PermanentError,
    SendResult,
    TransientError,
)
from notifiers.ratelimit import KeyedLimiter, RateLimiter
from plan.text import nfc

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
MAX_TEXT_LENGTH = 4096  # per message, after entity parsing, counted in UTF-16 code units (the safe reading)
# 28, not 30: two messages of headroom, because Telegram counts arrivals, and the time from our
# grant to the request's arrival varies (connection set-up, a busy event loop, the network): with
# even spacing of 36 ms it takes a 70 ms swing to squeeze 31 messages into one of its seconds.
OVERALL_RATE, OVERALL_PERIOD = 28, 1.0
CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
GROUP_INTERVAL = 3.0  # 20 a minute in a group chat (ids starting with "-")
TOKEN_HINT = "kiểm tra biến môi trường NHACVIEC_TELEGRAM_TOKEN (mã bot do @BotFather cấp)"

# Errors a chat id can cause (Bad Request descriptions, lower case): an admin must fix the address.
_ADDRESS_PROBLEMS = ("chat not found", "peer_id_invalid", "chat_id is empty", "user not found")
# Forbidden descriptions that mean the setup is unfinished rather than the recipient's choice.
_SETUP_PROBLEMS = ("can't initiate conversation", "bot is not a member", "not enough rights")


class TelegramNotifier(Notifier):
    """Send rendered reminders to Telegram chats (``message.address`` is the chat id)."""

    channel = "telegram"
    max_concurrency = 8

    def __init__(
        self,
        token: str | SecretStr,
        *,
        api_url: str | None = None,
        timeout: float = 20.0,
        overall_limiter: RateLimiter | None = None,
        chat_limiter: KeyedLimiter | None = None,
        group_limiter: KeyedLimiter | None = None,
    ) -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        if not self._token.get_secret_value().strip():
            raise ValueError(f"Chưa có mã bot Telegram: {TOKEN_HINT}.")
        protect_token(self._token.get_secret_value())
        self.api_url = root_url(api_url or DEFAULT_API_URL)
        self._timeout = timeout
        self._overall = overall_limiter or RateLimiter(OVERALL_RATE, OVERALL_PERIOD)
        self._chats = chat_limiter or KeyedLimiter(CHAT_INTERVAL)
        self._groups = group_limiter or KeyedLimiter(GROUP_INTERVAL)
        self._request: HTTPXRequest | None = None
        self._bot: Bot | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramNotifier:
        """The notifier configured by ``NHACVIEC_TELEGRAM_TOKEN`` (and ``NHACVIEC_TELEGRAM_API_URL``)."""
        if settings.telegram_token is None:
            raise ValueError(f"Chưa cấu hình kênh Telegram: {TOKEN_HINT}.")
        return cls(settings.telegram_token, api_url=settings.telegram_api_url)

    def __repr__(self) -> str:
        return f"TelegramNotifier(api_url={self.api_url!r})"

    async def open(self) -> None:
        """Create the HTTP client and the bot; no request is made (the token is checked by the first send)."""
        if self._bot is not None:
            return
        timeout = self._timeout
        self._request = HTTPXRequest(
            connection_pool_size=self.max_concurrency,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
            pool_timeout=timeout,
        )
        self._bot = Bot(
            self._token.get_secret_value(),
            base_url=f"{self.api_url}/bot",
            base_file_url=f"{self.api_url}/file/bot",
            request=self._request,
            get_updates_request=self._request,
        )

    async def check(self) -> str:
        """Ask Telegram who the bot is (getMe): the bot's @name; a DeliveryError when the token is refused."""
        await self.open()
        assert self._bot is not None
        try:
            me = await self._bot.get_me()
        except TelegramError as exc:
            raise _translate(exc, "getMe") from None
        return f"bot @{me.username}"

    async def close(self) -> None:
        if self._request is not None:
            await self._request.shutdown()
        self._request = self._bot = None

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send ``message``, in several parts if too long; ``provider_id`` lists their message ids, first first."""
        await self.open()
        chat_id = message.address.strip()
        rendered_parts = message.extra.get("telegram_parts")  # the renderer already split a long message
        if rendered_parts:
            parts = [piece for part in rendered_parts for piece in split_html(nfc(part))]
        else:
            body = nfc(message.html) if message.html else html.escape(nfc(message.text), quote=False)
            parts = split_html(body)
        ids = list(message.parts_done)  # parts an earlier attempt delivered are not sent again
        new_address: str | None = None
        try:
            for part in parts[len(ids) :]:
                try:
                    ids.append(await self._send_part(chat_id, part))
                except ChatMigrated as exc:
                    if new_address is not None:
                        raise _translate(exc, chat_id) from None
                    new_address = str(exc.new_chat_id)
                    log.info("Telegram chat %s became %s: resending there", chat_id, new_address)
                    chat_id = new_address
                    ids.append(await self._send_part_translated(chat_id, part))
                except TelegramError as exc:
                    raise _translate(exc, chat_id) from None
        except DeliveryError as error:
            error.parts_done = tuple(ids)
            raise
        return SendResult(provider_id=",".join(ids), new_address=new_address)

    async def _send_part_translated(self, chat_id: str, text: str) -> str:
        try:
            return await self._send_part(chat_id, text)
        except TelegramError as exc:
            raise _translate(exc, chat_id) from None

    async def _send_part(self, chat_id: str, text: str) -> str:
        """One sendMessage call, paced by the per-chat (or per-group) and the overall limiters."""
        assert self._bot is not None
        limiter = self._groups if chat_id.startswith("-") else self._chats
        async with limiter.hold(chat_id):
            await self._overall.acquire()
            sent = await self._bot.send_message(
                chat_id=chat_id_value(chat_id),
                text=text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        log.debug("Telegram message %s delivered to chat %s", sent.message_id, chat_id)
        return str(sent.message_id)


# --- errors -------------------------------------------------------------------------------------


def _translate(exc: TelegramError, chat_id: str) -> DeliveryError:
    """The delivery error (in Vietnamese, without the token) for a python-telegram-bot exception."""
    detail = redact(exc.message)
    lowered = detail.lower()
    if isinstance(exc, RetryAfter):
        seconds = _retry_after_seconds(exc)
        return TransientError(
            f"Telegram yêu cầu chờ {seconds:g} giây (quá giới hạn gửi).", retry_after=seconds
        )
    if isinstance(exc, ChatMigrated):
        return PermanentError(
            f"Nhóm Telegram {chat_id} đã chuyển sang {exc.new_chat_id} nhiều lần: kiểm tra lại mã nhóm.",
            config_problem=True,
        )
    if isinstance(exc, InvalidToken):
        return PermanentError(f"Telegram từ chối mã bot: {TOKEN_HINT}.", config_problem=True)
    if isinstance(exc, Forbidden):
        setup = any(marker in lowered for marker in _SETUP_PROBLEMS)
        hint = " Người nhận cần mở bot và bấm Start (hoặc thêm bot vào nhóm)." if setup else ""
        return PermanentError(
            f"Telegram không cho gửi tới chat {chat_id}: {detail}.{hint}", config_problem=setup
        )
    if isinstance(exc, BadRequest):
        if any(marker in lowered for marker in _ADDRESS_PROBLEMS):
            return PermanentError(
                f"Không tìm thấy chat Telegram {chat_id}: kiểm tra mã chat của người nhận "
                f"(người nhận phải bấm Start với bot trước). ({detail})",
                config_problem=True,
            )
        template = "can't parse entities" in lowered
        return PermanentError(
            f"Telegram từ chối tin nhắn tới chat {chat_id}: {detail}", config_problem=template
        )
    if isinstance(exc, NetworkError):  # TimedOut, connection errors, 5xx
        return TransientError(f"Lỗi mạng hoặc máy chủ Telegram: {detail}")
    return TransientError(f"Lỗi Telegram: {detail}")


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that the int will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def chat_id_value(chat_id: str) -> int | str:
    """Numeric ids as ints, ``@channelname`` as is."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def root_url(api_url: str) -> str:
    """``https://host[:port]`` of a Bot API server, accepting a URL that already ends in ``/bot``."""
    url = api_url.strip().rstrip("/")
    return url.removesuffix("/bot")


# --- keeping the token out of logs --------------------------------------------------------------

_SECRETS: set[str] = set()
_THIRD_PARTY_LOGGERS = ("telegram", "httpx", "httpcore")


class _RedactSecrets(logging.Filter):
    """Replace every known token in a record (message, arguments, traceback) with ``<token>``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _SECRETS:
            return True
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = _RedactSecrets()


def redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "<token>").replace(quote(secret, safe=""), "<token>")
    return text


def protect_token(token: str) -> None:
    """Remember ``token`` and attach the redacting filter to every logger that may print a Bot API URL.

    A filter on a logger only sees records created on that very logger, so it goes on
    each existing ``telegram.*``/``httpx``/``httpcore.*`` logger (they are created on
    import) and on the names those libraries log under.
    """
    _SECRETS.add(token)
    names = {"telegram", "telegram.Bot", "telegram.request.BaseRequest", "telegram.request.HTTPXRequest"}
    names |= {"httpx", "httpcore", "httpcore.http11", "httpcore.connection"}
    names |= {
        name
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.split(".")[0] in _THIRD_PARTY_LOGGERS
    }
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


# --- splitting long messages --------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#[xX][0-9a-fA-F]+);")
_SPACE = re.compile(r"\s")


def visible_length(markup: str) -> int:
    """Length Telegram counts for ``markup`` (HTML parse mode): tags removed, entities decoded, UTF-16 units."""
    return _utf16_len(_visible_text(markup))


def split_html(markup: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """Cut Telegram HTML into messages of at most ``limit`` visible characters each.

    Cuts happen only at line ends outside any tag, preferring a blank line (a
    paragraph end) in the second half of a part. A single line (or element)
    longer than ``limit`` is sent as plain text in word-boundary chunks ending
    in "…". Every part is valid markup when the input is.
    """
    if visible_length(markup) <= limit:
        return [markup]
    parts: list[str] = []
    current: list[str] = []
    sizes: list[int] = []
    for piece in _lines_outside_tags(markup):
        size = visible_length(piece)
        if size > limit:
            parts += _finish(current)
            current, sizes = [], []
            parts += _plain_chunks(_visible_text(piece).strip(), limit)
            continue
        while current and sum(sizes) + size > limit:
            cut = _paragraph_cut(current, sizes, limit)
            parts += _finish(current[:cut])
            current, sizes = current[cut:], sizes[cut:]
        current.append(piece)
        sizes.append(size)
    parts += _finish(current)
    return parts


def _lines_outside_tags(markup: str) -> list[str]:
    """``markup`` cut after each newline that is not inside an element."""
    pieces: list[str] = []
    depth, start, position = 0, 0, 0
    for tag in [*_TAG.finditer(markup), None]:
        text_end = tag.start() if tag else len(markup)
        if depth == 0:
            newline = markup.find("\n", position, text_end)
            while newline != -1:
                pieces.append(markup[start : newline + 1])
                start = newline + 1
                newline = markup.find("\n", start, text_end)
        if tag is None:
            break
        depth += -1 if tag.group().startswith("</") else 1
        position = tag.end()
    if start < len(markup):
        pieces.append(markup[start:])
    return pieces


def _paragraph_cut(pieces: list[str], sizes: list[int], limit: int) -> int:
    """Where to end the current part: the last blank line past half the limit, else after everything."""
    for index in range(len(pieces) - 1, 0, -1):
        if not pieces[index].strip() and sum(sizes[:index]) >= limit // 2:
            return index
    return len(pieces)


def _finish(pieces: list[str]) -> list[str]:
    """The part made of ``pieces``, without the white space Telegram would trim; none if nothing shows."""
    part = "".join(pieces).strip()
    return [part] if _visible_text(part).strip() else []


def _plain_chunks(text: str, limit: int) -> list[str]:
    """Escaped plain-text chunks of at most ``limit`` characters, cut at a space when one is near."""
    chunks: list[str] = []
    while _utf16_len(text) > limit:
        cut = max(_fit(text, limit - 1), 1)
        space = max((m.start() for m in _SPACE.finditer(text, 0, cut + 1)), default=-1)
        if space > cut // 2:
            cut = space
        chunks.append(html.escape(text[:cut].rstrip(), quote=False) + "…")
        text = text[cut:].lstrip()
    if text:
        chunks.append(html.escape(text, quote=False))
    return chunks


def _fit(text: str, units: int) -> int:
    """The longest prefix length of ``text`` that takes at most ``units`` UTF-16 code units."""
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > units:
            return index
    return len(text)


def _visible_text(markup: str) -> str:
    return _ENTITY.sub(lambda m: html.unescape(m.group()), _TAG.sub("", markup))


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
