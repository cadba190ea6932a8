"""Zalo: OA consultation messages to a unit's Zalo user id, ZNS template messages to its phone.

Contract: docs of the Zalo OA and ZNS APIs as summarised in the project's Zalo
spec. Every reply is judged by its body's ``error`` (0: sent), whatever the HTTP
status. The OA access token is refreshed when Zalo refuses it (or shortly
before it expires); the refresh token works once, so a refresh runs under the
token store's exclusive lock, only when the stored generation is still the one
whose token was refused, and the new pair is stored before it is used.

The notifier never logs or raises with a secret (app secret, tokens) in the text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

from notifiers.base import (
    DeliveryError,
    Notifier,
    OutgoingMessage,
    PermanentError,
    SendResult,
    TransientError,
)
from notifiers.ratelimit import RateLimiter
from store.zalo_tokens import StaleGenerationError, TokenPair, TokenStore

logger = logging.getLogger(__name__)

Route = Literal["oa", "zns"]

OA_TEXT_LIMIT = 2000
TRACKING_ID_LIMIT = 48
DEFAULT_EXPIRES_IN = 90_000  # seconds (25 h), when a refresh reply has no usable expires_in
REFRESH_MARGIN = timedelta(minutes=10)  # refresh proactively this long before the access token expires
RATE = 4000  # requests per period per OA (the spec: about 4,000 a minute)
RATE_PERIOD = 60.0
MORNING_HOUR = 6  # Zalo refuses some messages between 22:00 and 06:00 local time
NIGHT_HOURS = 8

TOKEN_ERRORS: Mapping[Route, frozenset[int]] = {"oa": frozenset({-216, -220}), "zns": frozenset({-124})}
UNREACHABLE = frozenset({-213, -217, -227, -230, -232, -244})
QUOTA = frozenset({-144, -211, -218, -320, -321})
RATE_LIMITED = -32
NIGHT = -234
NO_ZALO_ACCOUNT = -118
SERVER_ERROR = -100

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


def error_for(route: Route, code: int, detail: str, now: datetime, tz: ZoneInfo) -> DeliveryError:
    """What a (non-zero) Zalo error code means for this message, per the spec's table."""
    where = f"mã {code}" + (f": {detail}" if detail else "")
    if code == RATE_LIMITED:
        return TransientError(
            "Zalo: vượt giới hạn số tin mỗi phút (mã -32), gửi lại phút sau",
            retry_after=seconds_to_next_minute(now),
        )
    if code == NIGHT:
        return TransientError(
            "Zalo không cho gửi tin này vào ban đêm (mã -234): gửi lại lúc 06:00",
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
    if code in UNREACHABLE:
        return PermanentError(
            f"Zalo: người nhận không nhận được tin nhắn OA ({where}; chưa quan tâm OA, đã chặn "
            "hoặc quá lâu không tương tác) và không có số điện thoại + mẫu ZNS để gửi thay"
        )
    if code == NO_ZALO_ACCOUNT:
        return PermanentError(f"Zalo: số điện thoại chưa đăng ký tài khoản Zalo ({where})")
    if code in QUOTA:
        return PermanentError(
            f"Zalo: hết hạn mức gửi tin hoặc lỗi thanh toán ({where}): quản trị viên cần kiểm tra "
            "tài khoản OA/ZNS; các tin hôm nay không gửi được",
            config_problem=True,
        )
    if route == "zns" and -199 <= code <= -100:
        return PermanentError(
            f"Zalo ZNS từ chối tin ({where}): kiểm tra số điện thoại, mã mẫu ZNS và tham số trong config/zns.yaml",
            config_problem=True,
        )
    return PermanentError(f"Zalo từ chối tin ({where})", config_problem=True)


class _UnreachableError(PermanentError):
    """The OA cannot reach this user: the message may still go by ZNS."""


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
    then the message goes by ZNS when the unit has no Zalo user id, or when the OA
    cannot reach the user (not following, blocked, no recent interaction).
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
        rate: int = RATE,
        rate_period: float = RATE_PERIOD,
        limiter: RateLimiter | None = None,
        zns_development_mode: bool = False,
        timezone: str = "Asia/Ho_Chi_Minh",
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
        if message.address:
            try:
                return await self._send_oa(message)
            except _UnreachableError:
                if not _has_zns(message):
                    raise
                logger.info(
                    "Zalo OA cannot reach %s: sending %s by ZNS instead", message.address, message.key
                )
        elif not _has_zns(message):
            raise PermanentError(
                f"Không gửi được Zalo cho {message.recipient_name or 'người nhận'}: chưa có Zalo user id, "
                "cũng chưa có số điện thoại và mẫu ZNS",
                config_problem=True,
            )
        return await self._send_zns(message)

    async def _send_oa(self, message: OutgoingMessage) -> SendResult:
        text = fit_text(message.text)
        if not text:
            raise PermanentError("Tin nhắn Zalo rỗng: kiểm tra mẫu tin", config_problem=True)
        body = {"recipient": {"user_id": message.address}, "message": {"text": text}}
        reply = await self._authorised_post("oa", f"{self.api_url}/v3.0/oa/message/cs", body)
        return SendResult(provider_id=_provider_id(reply, "message_id"))

    async def _send_zns(self, message: OutgoingMessage) -> SendResult:
        zns = message.extra["zns"]
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
            "tracking_id": tracking_id(message.key),
        }
        if self.zns_development_mode:
            body["mode"] = "development"
        reply = await self._authorised_post("zns", f"{self.business_api_url}/message/template", body)
        return SendResult(provider_id=_provider_id(reply, "msg_id"))

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
        code = reply["error"]
        if code == 0:
            return reply
        detail = self._scrub(str(reply.get("message") or ""))[:200]
        error = error_for(route, code, detail, self._now(), self._tz)
        logger.warning("Zalo %s send refused: error %d (%s)", route, code, detail)
        if route == "oa" and code in UNREACHABLE:
            raise _UnreachableError(error.reason)
        raise error

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

    # -- tokens -----------------------------------------------------------------------------------------

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
                    fresh = await self._request_refresh(stored)
                    saved = await self._store_fresh(fresh, stored.generation)
            except DeliveryError:
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

    async def _store_fresh(self, fresh: TokenPair, expected_generation: int) -> TokenPair:
        """Store the pair Zalo just issued; the old refresh token is dead, so try hard before giving up."""
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                return await self._store.save(fresh, expected_generation=expected_generation)
            except StaleGenerationError:
                logger.error("Zalo token pair changed during a locked refresh: the new pair is lost")
                break
            except Exception as exc:
                logger.error(
                    "Storing the new Zalo token pair failed (%s), attempt %d of %d",
                    type(exc).__name__,
                    attempt,
                    SAVE_ATTEMPTS,
                )
                if attempt < SAVE_ATTEMPTS:
                    await asyncio.sleep(SAVE_BACKOFF * attempt)
        raise PermanentError(TOKEN_NOT_SAVED, config_problem=True)

    async def _request_refresh(self, stored: TokenPair) -> TokenPair:
        """Trade the stored refresh token for a new pair (not yet stored: the caller stores it)."""
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
        if reply is None and (response.status_code >= 500 or response.status_code in (408, 429)):
            logger.warning("Zalo token refresh answered HTTP %d without JSON", response.status_code)
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
        expires_at = self._now() + timedelta(seconds=_seconds(reply.get("expires_in") if reply else None))
        return TokenPair(access, refresh, expires_at, stored.generation)

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


def _has_zns(message: OutgoingMessage) -> bool:
    zns = message.extra.get("zns")
    return bool(message.extra.get("phone")) and isinstance(zns, Mapping) and bool(zns.get("template_id"))


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
