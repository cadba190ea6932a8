"""Zalo: OA consultation messages to a unit's Zalo user id, ZNS template messages to its phone.

Contract: the Zalo OA and ZNS APIs as summarised in the project's Zalo spec
(../shared/specs/zalo-api.md); each rule below names the public page it comes
from. Every reply is judged by its body's ``error`` (0: sent), whatever the
HTTP status.

Which route a message takes:
- The OA may send a consultation message only within days of the user's last
  interaction with it (free for 48 h, from the OA's paid quota up to 7 days,
  refused after). When the OA webhook is configured, the notifier knows each
  user's last interaction (``followers``) and sends straight by ZNS when the
  window is closed; without the webhook the window is unknown and the OA is tried.
- An OA refusal that another route can cure (not following, blocked, window
  closed, OA or user quota, OA tier) falls back to ZNS when the message has a
  phone and a ZNS template; otherwise it is this recipient's outcome.
- Refusals on the recipient's side (no Zalo account, ZNS turned off, an outdated
  app) are per-recipient outcomes, never configuration problems. Quota and
  billing refusals are one admin alert a day (``alert``), and the message is
  held until the next morning.

Tokens: the OA access token is refreshed when Zalo refuses it (or shortly
before it expires), and by ``keep_alive`` at least daily, since a refresh token
unused for about three months dies. The refresh token works once, so a refresh
runs under the token store's exclusive lock, only when the stored generation is
still the one whose token was refused, and the new pair is stored before it is
used. A refresh answered with HTTP 5xx or 429 (whatever the body), or lost on
the network, is transient: a failed refresh does not consume the token.

The notifier never logs or raises with a secret (app secret, tokens) in the text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

from config import DEFAULT_TIMEZONE
from notifiers.base import (
    DeliveryError,
    Notifier,
    OutgoingMessage,
    PermanentError,
    SendResult,
    TransientError,
)
from notifiers.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

Route = Literal["oa", "zns"]
Window = Literal["open", "closed", "unknown"]
Alert = Callable[[str, str], Awaitable[object]]  # (problem key, message) -> recorded for the admin

OA_TEXT_LIMIT = 2000
TRACKING_ID_LIMIT = 48
DEFAULT_EXPIRES_IN = 90_000  # seconds (25 h), when a refresh reply has no usable expires_in
REFRESH_MARGIN = timedelta(minutes=10)  # refresh proactively this long before the access token expires
# Spec §3 (oauth v4 refresh; "refresh token about 3 months", corrected 2026-11-29 from partner docs): a refresh
# token unused for that long expires, so keep_alive refreshes once the current one is this old, and the digest
# warns this long before it would expire.
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
KEEPALIVE_AGE = timedelta(hours=20)
EXPIRY_WARNING = timedelta(days=14)
# Spec §1: no public rate limit (a third-party guide says about 20 a second); -32 means rate limited. Start
# conservative; NHACVIEC_ZALO_RATE_PER_MINUTE raises it.
DEFAULT_RATE_PER_MINUTE = 120
# Spec §1 (partner docs of Zalo Cloud resellers): consultation messages are free within 48 h of the user's last
# interaction, paid up to 7 days after it, refused after (-230/-232). NHACVIEC_ZALO_OA_WINDOW_DAYS changes it.
DEFAULT_OA_WINDOW = timedelta(days=7)
MORNING_HOUR = 6  # Zalo refuses some messages between 22:00 and 06:00 local time
NIGHT_HOURS = 8
HOLD_UNTIL_HOUR = 7  # a message held for a quota goes the next morning, at this local hour

# -- the error codes (spec §4), and where each rule comes from --------------------------------------------

RATE_LIMITED = -32  # spec §1/§4: rate limit, wait for the next minute
SERVER_ERROR = -100  # spec §4: unknown server error, transient
TOKEN_ERRORS: Mapping[Route, frozenset[int]] = {"oa": frozenset({-216, -220}), "zns": frozenset({-124})}
# OA (spec §1 and §4, from partner docs and open-source OA clients): refusals another route can cure.
OA_UNREACHABLE = frozenset({-213, -217, -227, -244})  # not following, blocked the OA, ...
OA_WINDOW_CLOSED = frozenset({-230, -232})  # no interaction within the window
OA_OUT_OF_QUOTA = -211  # the OA's consultation quota is spent: admin alert, held when no ZNS
OA_USER_QUOTA = -218  # this user has received as many as Zalo allows for now
OA_TIER = -224  # the OA's tier does not allow consultation messages: admin alert
OA_FALLBACK = OA_UNREACHABLE | OA_WINDOW_CLOSED | {OA_OUT_OF_QUOTA, OA_USER_QUOTA, OA_TIER}
# A message delivered in parts remembers which way each part went (parts_done), so a retry goes on the same way.
OA_PART, ZNS_PART = "oa:", "zns:"
OA_NIGHT = -234  # spec §4: broadcasts at night (not /cs); deferred to the morning should it ever come
BILLING = frozenset({-320, -321})  # spec §4: billing; admin alert, held
# ZNS: zalo.cloud, "Cách xử lý mã lỗi" (https://zalo.cloud/zns/guidelines/handle-error-code).
ZNS_NO_ACCOUNT = -118  # "Zalo account not existed": the recipient's side
# "Zalo version unsupported" (-110); "User is inactive, or reject the message, or using an outdated Zalo version"
# (-114); "Account can not receive ZNS" (-119). -114 and -119 are read from the table's order (unconfirmed).
ZNS_USER_SIDE = frozenset({-110, -114, -119})
# "Out of quota" (-115, the ZNS balance; unconfirmed number) and the OA's daily ZNS quota (-144, spec §4).
ZNS_QUOTA = frozenset({-115, -144})
ZNS_NIGHT = -133  # a template not allowed between 22:00 and 06:00 (unconfirmed number): deferred
DAILY_ALERTS: Mapping[int, str] = {
    OA_OUT_OF_QUOTA: "oa-quota",
    OA_TIER: "oa-tier",
    **{code: "zns-quota" for code in ZNS_QUOTA},
    **{code: "billing" for code in BILLING},
}

REFRESH_REFUSED = "Zalo từ chối làm mới token: quản trị viên cần cấp quyền lại cho ứng dụng"
TOKEN_NOT_SAVED = (
    "Không lưu được token Zalo mới vào cơ sở dữ liệu: quản trị viên cần cấp quyền lại cho ứng dụng"
)
STORE_UNAVAILABLE = "Không đọc được token Zalo trong cơ sở dữ liệu ({}), sẽ thử lại"
SAVE_ATTEMPTS = 3
SAVE_BACKOFF = 0.5  # seconds, times the attempt number
NO_TOKEN = (
    "Chưa có token Zalo: đặt NHACVIEC_ZALO_REFRESH_TOKEN (lần chạy đầu tiên) hoặc cấp quyền lại cho ứng dụng"
)


# -- what the notifier needs from where its state is kept (store.zalo_tokens, store.zalo_followers) --------
# The notifier names the shapes it reads; the store's classes have them. A notifier imports no store.


class Follower(Protocol):
    """What the webhook learnt of a user: their last interaction with the OA, and whether they follow it."""

    @property
    def last_interaction_at(self) -> datetime | None: ...
    @property
    def following(self) -> bool | None: ...


class FollowerLookup(Protocol):
    """Where the notifier reads a user's last interaction with the OA (store.zalo_followers)."""

    async def get(self, user_id: str) -> Follower | None: ...


class TokenPair(Protocol):
    """An access token, the single-use refresh token that replaces it, when the access token expires, the
    pair's generation in the store, and when the refresh token was issued (None: not known)."""

    @property
    def access_token(self) -> str: ...
    @property
    def refresh_token(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def generation(self) -> int: ...
    @property
    def issued_at(self) -> datetime | None: ...

    def rotated(
        self, access_token: str, refresh_token: str, expires_at: datetime, issued_at: datetime
    ) -> TokenPair: ...


class TokenStore(Protocol):
    """Where the pair lives (store.zalo_tokens: its lock and generations are explained there)."""

    async def load(self) -> TokenPair | None: ...
    async def bootstrap(self, refresh_token: str) -> TokenPair: ...
    def refresh_lock(self) -> AbstractAsyncContextManager[None]: ...
    async def save(self, pair: TokenPair, expected_generation: int) -> TokenPair | None:
        """The pair stored with its new generation, or None when the generation moved (nothing written)."""
        ...

    async def record_refresh_failure(self, at: datetime, error: str) -> None: ...


# -- pure helpers ---------------------------------------------------------------------------------------


def normalise_phone(raw: str) -> str | None:
    """A Vietnamese phone number as ZNS wants it (84xxxxxxxxx), or None when it is not one."""
    digits = re.sub(r"[\s.\-()]", "", raw)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0"):
        digits = "84" + digits[1:]
    if not re.fullmatch(r"84\d{8,10}", digits):
        return None
    return digits


def tracking_id(key: str) -> str:
    """Our id for a ZNS message (at most 48 characters), derived from the outbox key so it can be recomputed."""
    return "nv" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def fit_text(text: str, limit: int = OA_TEXT_LIMIT) -> str:
    """Text within Zalo's limit; a longer one is cut at a word boundary when one is close, and ends with "…"."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def oa_window(follower: Follower | None, now: datetime, window: timedelta = DEFAULT_OA_WINDOW) -> Window:
    """Whether the OA may send a consultation message to a user the webhook knows (or has never heard from)."""
    if follower is None or follower.following is False or follower.last_interaction_at is None:
        return "closed"
    return "open" if now - follower.last_interaction_at <= window else "closed"


def refresh_token_expiry(pair: TokenPair) -> datetime | None:
    """When the stored refresh token would expire unused (about three months after it was issued)."""
    return pair.issued_at + REFRESH_TOKEN_LIFETIME if pair.issued_at is not None else None


def expiry_warning(pair: TokenPair | None, now: datetime, tz: tzinfo) -> str | None:
    """A sentence for the admin when the refresh token expires within two weeks (refreshes keep failing)."""
    expiry = refresh_token_expiry(pair) if pair is not None else None
    if expiry is None or expiry - now > EXPIRY_WARNING:
        return None
    if expiry <= now:
        return (
            f"Token Zalo đã hết hạn từ {expiry.astimezone(tz):%d/%m/%Y}: tin Zalo không gửi được cho đến khi "
            "quản trị viên cấp quyền lại ('nhacviec zalo reauthorise')."
        )
    return (
        f"Token Zalo sẽ hết hạn ngày {expiry.astimezone(tz):%d/%m/%Y} vì chưa làm mới được: quản trị viên xem "
        "'nhacviec zalo status' và cấp quyền lại nếu cần ('nhacviec zalo reauthorise')."
    )


def seconds_to_next_minute(now: datetime) -> float:
    """Zalo counts its rate limit per minute: wait for the next one to start."""
    start = now.replace(second=0, microsecond=0)
    return (start + timedelta(minutes=1) - now).total_seconds()


def seconds_to_morning(now: datetime, tz: ZoneInfo) -> float:
    """Seconds until the next 06:00 local time; 30 minutes if our clock says it is not night at all."""
    local = now.astimezone(tz)
    morning = local.replace(hour=MORNING_HOUR, minute=0, second=0, microsecond=0)
    if local >= morning:
        morning += timedelta(days=1)
    wait = (morning - local).total_seconds()
    if wait > NIGHT_HOURS * 3600:  # Zalo says night, our clock says day: clocks disagree, look again soon
        return 1800.0
    return wait


def seconds_to_tomorrow(now: datetime, tz: ZoneInfo) -> float:
    """Seconds until HOLD_UNTIL_HOUR tomorrow, local time (a daily quota is spent: try again then)."""
    local = now.astimezone(tz)
    tomorrow = (local + timedelta(days=1)).replace(hour=HOLD_UNTIL_HOUR, minute=0, second=0, microsecond=0)
    return (tomorrow - local).total_seconds()


def error_for(route: Route, code: int, detail: str, now: datetime, tz: ZoneInfo) -> DeliveryError:
    """What a (non-zero) Zalo error code means for this message, per the spec's table."""
    where = f"mã {code}" + (f": {detail}" if detail else "")
    if code == RATE_LIMITED:
        return TransientError(
            "Zalo: vượt giới hạn số tin mỗi phút (mã -32), gửi lại phút sau",
            retry_after=seconds_to_next_minute(now),
        )
    if code == OA_NIGHT or (route == "zns" and code == ZNS_NIGHT):
        return TransientError(
            f"Zalo không cho gửi tin này vào ban đêm (mã {code}): gửi lại lúc 06:00",
            retry_after=seconds_to_morning(now, tz),
        )
    if code == SERVER_ERROR:
        return TransientError(f"Zalo báo lỗi máy chủ ({where}), sẽ thử lại")
    if code in TOKEN_ERRORS[route]:
        return PermanentError(
            f"Zalo vẫn từ chối access token sau khi làm mới ({where}): "
            "quản trị viên cần kiểm tra ứng dụng Zalo và cấp quyền lại",
            config_problem=True,
        )
    if route == "oa" and code in OA_UNREACHABLE:
        return PermanentError(
            f"Zalo: người nhận không nhận được tin nhắn OA ({where}; chưa quan tâm OA hoặc đã chặn OA) "
            "và không có số điện thoại + mẫu ZNS để gửi thay"
        )
    if route == "oa" and code in OA_WINDOW_CLOSED:
        return PermanentError(
            f"Zalo: người nhận đã lâu không tương tác với OA nên OA không được gửi tin ({where}), "
            "và không có số điện thoại + mẫu ZNS để gửi thay"
        )
    if route == "oa" and code == OA_USER_QUOTA:
        return TransientError(
            f"Zalo: người nhận đã nhận đủ số tin OA được phép ({where}); gửi lại sáng mai",
            retry_after=seconds_to_tomorrow(now, tz),
        )
    if route == "oa" and code == OA_TIER:
        return PermanentError(
            f"Zalo: gói OA hiện tại không cho gửi tin tư vấn ({where}) và không có số điện thoại + mẫu ZNS "
            "để gửi thay"
        )
    if code in DAILY_ALERTS:
        return TransientError(
            f"Zalo: hết hạn mức gửi tin hoặc lỗi thanh toán ({where}); tin được giữ lại, gửi lại sáng mai",
            retry_after=seconds_to_tomorrow(now, tz),
        )
    if route == "zns" and code == ZNS_NO_ACCOUNT:
        return PermanentError(f"Zalo: số điện thoại chưa đăng ký tài khoản Zalo ({where})")
    if route == "zns" and code in ZNS_USER_SIDE:
        return PermanentError(
            f"Zalo: người nhận không nhận tin ZNS ({where}; tài khoản không hoạt động, đã tắt nhận tin ZNS "
            "hoặc dùng Zalo phiên bản cũ)"
        )
    if route == "zns" and -199 <= code <= -100:
        return PermanentError(
            f"Zalo ZNS từ chối tin ({where}): kiểm tra số điện thoại, mã mẫu ZNS và tham số trong config/zns.yaml",
            config_problem=True,
        )
    return PermanentError(f"Zalo từ chối tin ({where})", config_problem=True)


def alert_text(code: int) -> str:
    """The admin's daily alert for a quota, tier or billing refusal."""
    if code == OA_TIER:
        return (
            "Zalo: gói Official Account hiện tại không cho gửi tin tư vấn (mã -224): tin Zalo đi bằng ZNS nếu "
            "có số điện thoại và mẫu ZNS; nâng gói OA để gửi tin OA."
        )
    if code == OA_OUT_OF_QUOTA:
        return (
            "Zalo: Official Account đã hết hạn mức tin tư vấn (mã -211): tin Zalo đi bằng ZNS nếu có số điện "
            "thoại và mẫu ZNS, các tin khác được giữ lại đến sáng mai; kiểm tra hạn mức OA."
        )
    return (
        f"Zalo: hết hạn mức gửi tin, hết số dư hoặc lỗi thanh toán (mã {code}): các tin Zalo hôm nay được giữ "
        "lại và gửi lại sáng mai; nạp tiền hoặc kiểm tra tài khoản ZNS/OA trên zalo.cloud."
    )


class _Fallback(Exception):
    """The OA refused in a way ZNS can cure: ``error`` is what to report when there is no ZNS to fall back to."""

    def __init__(self, code: int, error: DeliveryError) -> None:
        super().__init__(error.reason)
        self.code = code
        self.error = error


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _secret(value: SecretStr | str | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


# -- the notifier ---------------------------------------------------------------------------------------


class ZaloNotifier(Notifier):
    """Zalo OA message to ``message.address`` (the OA-scoped user id), ZNS by phone when there is none.

    ``message.extra`` may carry ``{"phone": "...", "zns": {"template_id": "...", "template_data": {...}}}``:
    then the message goes by ZNS when the unit has no Zalo user id, when the OA's window is closed for the
    user, or when the OA refuses it in a way ZNS can cure.
    """

    channel = "zalo"
    max_concurrency = 8

    def __init__(
        self,
        *,
        app_id: str,
        secret_key: SecretStr | str,
        store: TokenStore,
        bootstrap_refresh_token: SecretStr | str | None = None,
        api_url: str = "https://openapi.zalo.me",
        business_api_url: str = "https://business.openapi.zalo.me",
        oauth_url: str = "https://oauth.zaloapp.com",
        timeout: float = 30.0,
        rate: int = DEFAULT_RATE_PER_MINUTE,
        rate_period: float = 60.0,
        limiter: RateLimiter | None = None,
        followers: FollowerLookup | None = None,
        oa_window: timedelta = DEFAULT_OA_WINDOW,
        alert: Alert | None = None,
        zns_development_mode: bool = False,
        timezone: str = DEFAULT_TIMEZONE,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.app_id = app_id
        self._secret_key = _secret(secret_key)
        self._bootstrap_token = _secret(bootstrap_refresh_token)
        self._store = store
        self.api_url = api_url.rstrip("/")
        self.business_api_url = business_api_url.rstrip("/")
        self.oauth_url = oauth_url.rstrip("/")
        self.timeout = timeout
        self.zns_development_mode = zns_development_mode
        self._followers = followers  # None: the OA webhook is not configured, the window is unknown
        self._window = oa_window
        self._alert = alert
        self._alerted: set[str] = set()
        self._tz = ZoneInfo(timezone)
        self._now = clock
        self._limiter = limiter or RateLimiter(rate, rate_period)  # every OA/ZNS request, retries too
        self._client: httpx.AsyncClient | None = None
        self._pair: TokenPair | None = None
        self._lock: asyncio.Lock | None = None
        self._refused_generation: int | None = None  # the refresh token of this generation was refused

    @classmethod
    def from_settings(cls, settings: Any, store: TokenStore, **options: Any) -> ZaloNotifier:
        """The notifier the settings describe (``NHACVIEC_ZALO_*``); raises ValueError when it is incomplete."""
        if not settings.zalo_app_id or settings.zalo_secret_key is None:
            raise ValueError("Thiếu NHACVIEC_ZALO_APP_ID hoặc NHACVIEC_ZALO_SECRET_KEY")
        return cls(
            app_id=settings.zalo_app_id,
            secret_key=settings.zalo_secret_key,
            store=store,
            bootstrap_refresh_token=settings.zalo_refresh_token,
            api_url=settings.zalo_api_url,
            business_api_url=settings.zalo_business_api_url,
            oauth_url=settings.zalo_oauth_url,
            rate=settings.zalo_rate_per_minute,
            oa_window=timedelta(days=settings.zalo_oa_window_days),
            timezone=settings.timezone,
            **options,
        )

    def __repr__(self) -> str:
        return f"ZaloNotifier(app_id={self.app_id!r}, api_url={self.api_url!r})"

    # -- lifecycle --------------------------------------------------------------------------------------

    async def open(self) -> None:
        self._http()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    def _token_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    # -- sending ----------------------------------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> SendResult:
        zns = _has_zns(message)
        if not message.address:
            if not zns:
                raise PermanentError(
                    f"Không gửi được Zalo cho {message.recipient_name or 'người nhận'}: chưa có Zalo user id, "
                    "cũng chưa có số điện thoại và mẫu ZNS",
                    config_problem=True,
                )
            return await self._send_zns(message)
        if message.parts_done:  # an earlier attempt delivered some parts: the rest go the same way
            if message.parts_done[0].startswith(ZNS_PART):
                return await self._send_zns(message)
            return await self._send_oa(message)
        if zns and await self.window_of(message.address) == "closed":
            logger.info("Zalo OA window closed for %s: sending %s by ZNS", message.address, message.key)
            return await self._send_zns(message, after="Người nhận không tương tác với OA gần đây;")
        try:
            return await self._send_oa(message)
        except _Fallback as refused:
            if not zns:
                raise refused.error from None
            logger.info("Zalo OA refused %s (error %d): sending it by ZNS", message.key, refused.code)
            return await self._send_zns(message, after=f"Tin OA bị từ chối (mã {refused.code});")

    async def window_of(self, user_id: str) -> Window:
        """The OA window for ``user_id``: unknown without the webhook, or when the followers cannot be read."""
        if self._followers is None:
            return "unknown"
        try:
            follower = await self._followers.get(user_id)
        except Exception as exc:  # the database, not Zalo: try the OA, which says itself if it may not send
            logger.warning("Zalo followers could not be read (%s): OA window unknown", type(exc).__name__)
            return "unknown"
        return oa_window(follower, self._now(), self._window)

    async def _send_oa(self, message: OutgoingMessage) -> SendResult:
        """One OA message, or one per part of a long bundled message (``extra["zalo_parts"]``), in order."""
        parts = [fit_text(part) for part in message.extra.get("zalo_parts") or [message.text]]
        if not any(parts):
            raise PermanentError("Tin nhắn Zalo rỗng: kiểm tra mẫu tin", config_problem=True)
        texts = [part for part in parts if part]
        ids = _ids_of(message.parts_done, OA_PART)  # delivered by an earlier attempt: not sent again
        try:
            for text in texts[len(ids) :]:
                body = {"recipient": {"user_id": message.address}, "message": {"text": text}}
                reply = await self._authorised_post("oa", f"{self.api_url}/v3.0/oa/message/cs", body)
                if reply["error"] != 0:
                    error = await self._refusal("oa", reply)
                    if reply["error"] in OA_FALLBACK and not ids:  # nothing went by OA yet: ZNS may carry it
                        raise _Fallback(reply["error"], error)
                    raise error
                ids.append(_provider_id(reply, "message_id") or "")
        except DeliveryError as error:
            error.parts_done = tuple(OA_PART + i for i in ids)
            raise
        return SendResult(provider_id=",".join(ids) if len(ids) > 1 else ids[0] or None)

    async def _send_zns(self, message: OutgoingMessage, after: str = "") -> SendResult:
        """The message by ZNS: one approved template, or one per item of a bundle (``extra["zns"]`` a list),
        in order. A refusal after some went fails the message; a retry sends only the rest."""
        payloads = _zns_payloads(message)
        ids = _ids_of(message.parts_done, ZNS_PART)
        for index, zns in list(enumerate(payloads))[len(ids) :]:
            key = message.key if len(payloads) == 1 else f"{message.key}#{index + 1}"
            try:
                ids.append(await self._send_one_zns(message, zns, key, after) or "")
            except DeliveryError as error:
                error.parts_done = tuple(ZNS_PART + i for i in ids)
                raise
        return SendResult(provider_id=",".join(ids) if len(ids) > 1 else ids[0] or None)

    async def _send_one_zns(
        self, message: OutgoingMessage, zns: Mapping[str, Any], key: str, after: str
    ) -> str | None:
        raw_phone = str(message.extra["phone"])
        phone = normalise_phone(raw_phone)
        if phone is None:
            raise PermanentError(
                f"Số điện thoại Zalo của {message.recipient_name or 'người nhận'} không hợp lệ: {raw_phone}",
                config_problem=True,
            )
        body: dict[str, Any] = {
            "phone": phone,
            "template_id": str(zns["template_id"]),
            "template_data": dict(zns.get("template_data") or {}),
            "tracking_id": tracking_id(key),
        }
        if self.zns_development_mode:
            body["mode"] = "development"
        reply = await self._authorised_post("zns", f"{self.business_api_url}/message/template", body)
        if reply["error"] == 0:
            return _provider_id(reply, "msg_id")
        error = await self._refusal("zns", reply)
        if after:  # the reason the OA was not used comes first: "OA từ chối (...); Zalo: ..."
            error.reason = f"{after} ZNS: {error.reason}"
            error.args = (error.reason,)
        raise error

    async def _refusal(self, route: Route, reply: Mapping[str, Any]) -> DeliveryError:
        """The error for a refused send; quota, tier and billing refusals also alert the admin (once a day)."""
        code = reply["error"]
        detail = self._scrub(str(reply.get("message") or ""))[:200]
        logger.warning("Zalo %s send refused: error %d (%s)", route, code, detail)
        if code in DAILY_ALERTS:
            await self._alert_daily(DAILY_ALERTS[code], alert_text(code))
        return error_for(route, code, detail, self._now(), self._tz)

    async def _alert_daily(self, topic: str, text: str) -> None:
        key = f"zalo:{topic}:{self._now().astimezone(self._tz):%Y-%m-%d}"
        if key in self._alerted:
            return
        self._alerted.add(key)
        if self._alert is None:
            logger.warning("Zalo alert for the admin: %s", text)
            return
        try:
            await self._alert(key, text)
        except Exception as exc:  # the alert is a courtesy: the message's own outcome is recorded anyway
            logger.error("Zalo alert could not be recorded (%s): %s", type(exc).__name__, text)

    async def _authorised_post(self, route: Route, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST with the access token; on a token error, refresh once (single flight) and retry once."""
        pair = await self._usable_pair()
        reply = await self._post(url, body, pair.access_token)
        if reply["error"] in TOKEN_ERRORS[route]:
            logger.info(
                "Zalo refused the access token (generation %d, error %d): refreshing",
                pair.generation,
                reply["error"],
            )
            pair = await self._refresh(seen_generation=pair.generation)
            reply = await self._post(url, body, pair.access_token)
        return reply

    async def _post(self, url: str, body: Mapping[str, Any], access_token: str) -> dict[str, Any]:
        """One request; the reply as a dict whose ``error`` is an int, or a DeliveryError."""
        await self._limiter.acquire()
        try:
            response = await self._http().post(url, json=body, headers={"access_token": access_token})
        except httpx.HTTPError as exc:
            raise TransientError(
                f"Không kết nối được Zalo ({type(exc).__name__}); tin có thể đã đi, sẽ thử lại"
            ) from None
        reply = _json_object(response)
        code = _error_code(reply)
        if reply is None or code is None:
            raise _unexpected_reply(response.status_code)
        reply["error"] = code
        return reply

    async def check(self) -> str:
        """Whether the stored token works: the OA's profile (``GET /v2.0/oa/getoa``), refreshed once when refused.

        Returns the OA's name; raises DeliveryError (no token, refused, unreachable) otherwise.
        """
        url = f"{self.api_url}/v2.0/oa/getoa"
        pair = await self._usable_pair()
        reply = await self._get(url, pair.access_token)
        if reply["error"] in TOKEN_ERRORS["oa"]:
            pair = await self._refresh(seen_generation=pair.generation)
            reply = await self._get(url, pair.access_token)
        if reply["error"] != 0:
            raise PermanentError(
                f"Zalo từ chối token của Official Account (mã {reply['error']}): {str(reply.get('message', ''))[:200]}"
            )
        data = reply.get("data")
        name = data.get("name") if isinstance(data, Mapping) else None
        return f"Official Account {name}" if name else "Official Account trả lời"

    async def _get(self, url: str, access_token: str) -> dict[str, Any]:
        await self._limiter.acquire()
        try:
            response = await self._http().get(url, headers={"access_token": access_token})
        except httpx.HTTPError as exc:
            raise TransientError(f"Không kết nối được Zalo ({type(exc).__name__})") from None
        reply = _json_object(response)
        code = _error_code(reply)
        if reply is None or code is None:
            raise _unexpected_reply(response.status_code)
        reply["error"] = code
        return reply

    # -- tokens -----------------------------------------------------------------------------------------

    async def keep_alive(self) -> bool:
        """Refresh when the refresh token is KEEPALIVE_AGE old (or the access token expires soon).

        Run at least daily whether or not anything is sent: a refresh token unused for about three months
        expires. Returns whether a refresh was made; raises DeliveryError when it failed.
        """
        pair = await self._load_pair()
        now = self._now()
        young = pair.issued_at is not None and now - pair.issued_at < KEEPALIVE_AGE
        if young and _fresh_enough(pair, now):
            return False
        await self._refresh(seen_generation=pair.generation)
        return True

    async def _usable_pair(self) -> TokenPair:
        """The access token to send with, refreshed first when it expires within REFRESH_MARGIN."""
        pair = self._pair or await self._load_pair()
        now = self._now()
        if _fresh_enough(pair, now):
            return pair
        try:
            return await self._refresh(seen_generation=pair.generation)
        except TransientError:
            if pair.access_token and pair.expires_at > now:
                logger.warning("Zalo token refresh failed; the current access token is still valid, using it")
                return pair
            raise

    async def _load_pair(self) -> TokenPair:
        async with self._token_lock():
            if self._pair is None:
                try:
                    pair = await self._store.load()
                    if pair is None and self._bootstrap_token is not None:
                        pair = await self._store.bootstrap(self._bootstrap_token.get_secret_value())
                        logger.info("Zalo token store initialised from NHACVIEC_ZALO_REFRESH_TOKEN")
                except Exception as exc:
                    raise _store_unavailable(exc) from None
                if pair is None:
                    raise PermanentError(NO_TOKEN, config_problem=True)
                self._pair = pair
            return self._pair

    async def _refresh(self, seen_generation: int) -> TokenPair:
        """Replace the pair of ``seen_generation``, unless another task or process already did.

        The work runs in its own task, shielded: a sender cancelled mid-refresh (a timeout)
        must not abandon a pair Zalo has already rotated before it is stored.
        """
        work = asyncio.ensure_future(self._refresh_exclusive(seen_generation))
        work.add_done_callback(_consume_exception)
        return await asyncio.shield(work)

    async def _refresh_exclusive(self, seen_generation: int) -> TokenPair:
        async with self._token_lock():
            if self._pair is not None and self._pair.generation != seen_generation:
                return self._pair  # another task of this process refreshed meanwhile
            asked = False  # whether Zalo was asked: only then is there an outcome to record
            try:
                async with self._store.refresh_lock():
                    stored = await self._store.load()
                    if stored is None:
                        raise PermanentError(NO_TOKEN, config_problem=True)
                    if stored.generation != seen_generation and _fresh_enough(stored, self._now()):
                        logger.info("Zalo token was refreshed elsewhere (generation %d)", stored.generation)
                        self._pair = stored
                        return stored
                    if stored.generation == self._refused_generation:
                        raise PermanentError(REFRESH_REFUSED, config_problem=True)
                    asked = True
                    fresh = await self._request_refresh(stored)
                    saved = await self._store_fresh(fresh, stored.generation)
            except DeliveryError as error:
                if asked:
                    await self._record_refresh_failure(error.reason)
                raise
            except Exception as exc:  # the database, not Zalo: nothing was rotated (or _store_fresh said so)
                raise _store_unavailable(exc) from None
            self._pair = saved
            logger.info(
                "Zalo token refreshed: generation %d, access token valid until %s",
                saved.generation,
                saved.expires_at.isoformat(timespec="seconds"),
            )
            return saved

    async def _record_refresh_failure(self, reason: str) -> None:
        try:
            await self._store.record_refresh_failure(self._now(), reason)
        except Exception as exc:
            logger.error("The failed Zalo refresh could not be recorded (%s)", type(exc).__name__)

    async def _store_fresh(self, fresh: TokenPair, expected_generation: int) -> TokenPair:
        """Store the pair Zalo just issued; the old refresh token is dead, so try hard before giving up."""
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                saved = await self._store.save(fresh, expected_generation=expected_generation)
            except Exception as exc:
                logger.error(
                    "Storing the new Zalo token pair failed (%s), attempt %d of %d",
                    type(exc).__name__,
                    attempt,
                    SAVE_ATTEMPTS,
                )
                if attempt < SAVE_ATTEMPTS:
                    await asyncio.sleep(SAVE_BACKOFF * attempt)
                continue
            if saved is None:
                logger.error("Zalo token pair changed during a locked refresh: the new pair is lost")
                break
            return saved
        raise PermanentError(TOKEN_NOT_SAVED, config_problem=True)

    async def _request_refresh(self, stored: TokenPair) -> TokenPair:
        """Trade the stored refresh token for a new pair (not yet stored: the caller stores it).

        Spec §3 (oauth v4): a form-encoded POST with the app secret in a ``secret_key`` header; a failed
        refresh does not consume the token, so HTTP 5xx, 408 and 429 are transient whatever the body says,
        and only another answer without both tokens (an invalid or expired refresh token) is final.
        """
        secret = self._secret_key.get_secret_value() if self._secret_key else ""
        try:
            response = await self._http().post(
                f"{self.oauth_url}/v4/oa/access_token",
                headers={"secret_key": secret},
                data={
                    "app_id": self.app_id,
                    "grant_type": "refresh_token",
                    "refresh_token": stored.refresh_token,
                },
            )
        except httpx.HTTPError as exc:
            logger.warning("Zalo token refresh did not complete (%s): outcome unknown", type(exc).__name__)
            raise TransientError(
                f"Không kết nối được máy chủ xác thực Zalo ({type(exc).__name__}), sẽ thử lại"
            ) from None
        reply = _json_object(response)
        if response.status_code >= 500 or response.status_code in (408, 429):
            logger.warning(
                "Zalo token refresh answered HTTP %d (%s): the token is kept, retrying later",
                response.status_code,
                self._scrub(_describe_refusal(reply))[:300],
            )
            raise TransientError(f"Máy chủ xác thực Zalo trả lời HTTP {response.status_code}, sẽ thử lại")
        access = (reply or {}).get("access_token")
        refresh = (reply or {}).get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            self._refused_generation = stored.generation
            logger.error(
                "Zalo refused the token refresh: HTTP %d, %s",
                response.status_code,
                self._scrub(_describe_refusal(reply))[:300],
            )
            raise PermanentError(REFRESH_REFUSED, config_problem=True)
        now = self._now()
        expires_at = now + timedelta(seconds=_seconds(reply.get("expires_in") if reply else None))
        return stored.rotated(access, refresh, expires_at, issued_at=now)

    def _scrub(self, text: str) -> str:
        """``text`` with every secret we know replaced (Zalo's own messages may quote what it was sent)."""
        secrets = [self._secret_key, self._bootstrap_token]
        values = [s.get_secret_value() for s in secrets if s is not None]
        if self._pair is not None:
            values += [self._pair.access_token, self._pair.refresh_token]
        for value in sorted((v for v in values if v), key=len, reverse=True):
            text = text.replace(value, "***")
        return text


# -- reply parsing --------------------------------------------------------------------------------------


def _fresh_enough(pair: TokenPair, now: datetime) -> bool:
    """An access token to send with, not about to expire (a bootstrapped pair has none yet)."""
    return bool(pair.access_token) and pair.expires_at - now > REFRESH_MARGIN


def _store_unavailable(exc: Exception) -> TransientError:
    logger.warning("Zalo token store failed: %s", type(exc).__name__)
    return TransientError(STORE_UNAVAILABLE.format(type(exc).__name__))


def _consume_exception(task: asyncio.Future[Any]) -> None:
    """A shielded refresh whose caller was cancelled: nobody awaits it, so read its outcome here."""
    if not task.cancelled():
        task.exception()


def _zns_payloads(message: OutgoingMessage) -> list[Mapping[str, Any]]:
    """The ZNS templates a message carries: one, or one per item of a bundle."""
    zns = message.extra.get("zns")
    payloads = zns if isinstance(zns, list) else [zns]
    return [p for p in payloads if isinstance(p, Mapping) and p.get("template_id")]


def _has_zns(message: OutgoingMessage) -> bool:
    zns = message.extra.get("zns")
    expected = len(zns) if isinstance(zns, list) else 1
    return bool(message.extra.get("phone")) and len(_zns_payloads(message)) == expected > 0


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _error_code(reply: Mapping[str, Any] | None) -> int | None:
    value = (reply or {}).get("error")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _unexpected_reply(status: int) -> DeliveryError:
    if status >= 500 or status in (408, 429):
        return TransientError(f"Zalo trả lời HTTP {status} không kèm kết quả; tin có thể đã đi, sẽ thử lại")
    return PermanentError(
        f"Zalo trả lời HTTP {status} không đúng định dạng: kiểm tra địa chỉ API Zalo trong cấu hình",
        config_problem=True,
    )


def _ids_of(parts_done: tuple[str, ...], route: str) -> list[str]:
    """The provider ids of the parts an earlier attempt delivered by ``route`` (OA_PART or ZNS_PART)."""
    return [part.removeprefix(route) for part in parts_done if part.startswith(route)]


def _provider_id(reply: Mapping[str, Any], name: str) -> str | None:
    data = reply.get("data")
    value = data.get(name) if isinstance(data, Mapping) else None
    return None if value is None else str(value)


def _seconds(value: Any) -> int:
    try:
        seconds = int(str(value).strip())
    except ValueError:
        return DEFAULT_EXPIRES_IN
    return seconds if seconds > 0 else DEFAULT_EXPIRES_IN


def _describe_refusal(reply: Mapping[str, Any] | None) -> str:
    if reply is None:
        return "no JSON body"
    fields = {
        k: reply[k]
        for k in ("error", "error_name", "error_reason", "error_description", "message")
        if k in reply
    }
    return f"{fields or 'no error fields'}; keys {sorted(reply)}"
