"""Signed, expiring "Đã hoàn thành" links: the token format and its verification.

A token says "unit U may confirm task T of plan P until E" (T is "CODE@PERIOD" for one occurrence of
recurring work, "IV.4@2026-11"). It is URL-safe
base64 (no padding) of::

    version (1 byte) | expires_at (8 bytes, epoch seconds, big-endian)
    | len(plan) plan | len(task) task | len(unit) unit     (1-byte lengths, UTF-8)
    | HMAC-SHA256(secret, purpose label + all the bytes above)   (32 bytes)

The purpose label keeps a MAC made for another kind of link from passing as this
one, and the version byte lets the format change later. Verification checks the
signature (in constant time) before it reads any field, then the expiry; every
failure is a :class:`LinkError` whose message, in Vietnamese, never contains the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import SecretStr

from plan.errors import UserError
from planner.model import Notification, Recipient

VERSION = 1
MIN_SECRET_BYTES = 16
MAX_TOKEN_CHARS = 1024
_PURPOSE = b"nhacviec/done-link\x00"
_MAC_BYTES = 32
_HEADER = struct.Struct(">BQ")  # version, expires_at
_MIN_BYTES = _HEADER.size + 3 + _MAC_BYTES  # three empty fields at least
_URLSAFE = re.compile(r"[A-Za-z0-9_-]+")
_FIELD_LIMITS = {"plan": 64, "task": 48, "unit": 32}  # the columns' lengths (store/models.py), task@period
PERIOD_SEPARATOR = "@"  # the task field of a link to one occurrence: "IV.4@2026-11"

Secret = str | bytes | SecretStr


class LinkError(UserError):
    """A completion link that cannot be honoured; ``reason`` is expired | tampered | malformed."""

    reason: ClassVar[str] = "invalid"


class ExpiredLinkError(LinkError):
    reason = "expired"

    def __init__(self, expired_at: datetime) -> None:
        self.expired_at = expired_at
        super().__init__(
            f"Liên kết xác nhận hoàn thành đã hết hạn (ngày {expired_at:%d/%m/%Y}). "
            "Đề nghị dùng liên kết trong thông báo mới nhất, trả lời /xong trên Telegram hoặc báo Văn phòng."
        )


class TamperedLinkError(LinkError):
    reason = "tampered"

    def __init__(self) -> None:
        super().__init__(
            "Liên kết xác nhận hoàn thành không hợp lệ (chữ ký không khớp): liên kết đã bị sửa "
            "hoặc không do hệ thống Nhắc việc cấp."
        )


class MalformedLinkError(LinkError):
    reason = "malformed"

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Liên kết xác nhận hoàn thành không đúng định dạng ({detail}): có thể liên kết bị cắt "
            "ngắn khi sao chép."
        )


@dataclass(frozen=True)
class DoneClaim:
    """What a verified token allows: ``unit`` may mark ``task`` of ``plan`` done until ``expires_at``."""

    plan: str
    task: str
    unit: str
    expires_at: datetime  # UTC
    version: int = VERSION
    period: str | None = None  # one occurrence of recurring work ("2026-11"); None for a task done once


def _key(secret: Secret) -> bytes:
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    key = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(
            f"Khoá ký liên kết (NHACVIEC_LINK_SECRET) phải dài ít nhất {MIN_SECRET_BYTES} byte; "
            "hãy tạo một chuỗi ngẫu nhiên dài."
        )
    return key


def _epoch(moment: datetime, what: str) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")
    return int(moment.timestamp())


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _PURPOSE + payload, hashlib.sha256).digest()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _field(name: str, value: str) -> bytes:
    data = value.encode("utf-8")
    if not value or len(value) > _FIELD_LIMITS[name] or len(data) > 255:
        raise ValueError(f"{name} code {value!r} cannot go into a link (empty or too long)")
    return bytes([len(data)]) + data


def make_done_token(secret: Secret, plan: str, task: str, unit: str, expires_at: datetime) -> str:
    """A signed token letting ``unit`` confirm ``task`` of ``plan`` as done until ``expires_at``."""
    expires = _epoch(expires_at, "expires_at")
    if expires < 0:
        raise ValueError("expires_at is before 1970")
    payload = (
        _HEADER.pack(VERSION, expires) + _field("plan", plan) + _field("task", task) + _field("unit", unit)
    )
    return _encode(payload + _mac(_key(secret), payload))


def _decode(token: object) -> bytes:
    if not isinstance(token, str) or not token:
        raise MalformedLinkError("mã trống")
    if len(token) > MAX_TOKEN_CHARS or not _URLSAFE.fullmatch(token):
        raise MalformedLinkError("mã chứa ký tự lạ hoặc quá dài")
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        raise MalformedLinkError("mã không giải được") from None
    if _encode(data) != token:  # a non-canonical spelling of the same bytes is not the token we issued
        raise MalformedLinkError("mã không giải được")
    if len(data) < _MIN_BYTES:
        raise MalformedLinkError("mã quá ngắn")
    return data


def _fields(payload: bytes) -> list[str]:
    values: list[str] = []
    position = _HEADER.size
    for _ in range(3):
        if position >= len(payload):
            raise MalformedLinkError("thiếu thông tin")
        length = payload[position]
        value = payload[position + 1 : position + 1 + length]
        if len(value) != length or not length:
            raise MalformedLinkError("thiếu thông tin")
        try:
            values.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            raise MalformedLinkError("thông tin sai mã hoá") from None
        position += 1 + length
    if position != len(payload):
        raise MalformedLinkError("thừa dữ liệu")
    return values


def verify_done_token(secret: Secret, token: str, now: datetime) -> DoneClaim:
    """The claim a token carries, once its signature and expiry check out; else a :class:`LinkError`."""
    key = _key(secret)
    current = _epoch(now, "now")
    data = _decode(token)
    if data[0] != VERSION:
        raise MalformedLinkError("phiên bản liên kết không được hỗ trợ")
    payload, mac = data[:-_MAC_BYTES], data[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise TamperedLinkError()
    _, expires = _HEADER.unpack_from(payload)
    plan, task, unit = _fields(payload)
    try:
        expires_at = datetime.fromtimestamp(expires, UTC)
    except (OverflowError, OSError, ValueError):  # past year 9999: only a token we made can say so
        expires_at = datetime.max.replace(tzinfo=UTC)
    if current >= expires:
        raise ExpiredLinkError(expires_at)
    task, _, period = task.partition(PERIOD_SEPARATOR)
    return DoneClaim(plan=plan, task=task, unit=unit, expires_at=expires_at, period=period or None)


def done_url(base_url: str, token: str) -> str:
    """The web address that confirms a task with ``token`` (the page itself lives in the web app)."""
    return f"{base_url.rstrip('/')}/done/{token}"


def lead_unit_of(recipient: Recipient, lead: tuple[str, ...]) -> str | None:
    """The lead unit ``recipient`` speaks for: the unit itself or its head ("TCCB.head"); else None."""
    unit, _, rest = recipient.code.partition(".")
    if unit in lead and rest in ("", "head"):
        return unit
    return None


def links_for(
    notification: Notification,
    recipient: Recipient,
    secret: Secret | None,
    base_url: str | None,
    now: datetime,
    ttl: timedelta,
) -> dict[str, Any] | None:
    """``{"done_url": ...}`` for a task notification to its lead unit (or that unit's head); None otherwise.

    None as well when links are not configured (no secret or no base URL), so the
    templates fall back to "reply /xong on Telegram or tell the Office".
    """
    task = notification.data.get("task")
    if secret is None or not base_url or task is None or notification.task is None:
        return None
    unit = lead_unit_of(recipient, tuple(task.lead))
    if unit is None:
        return None
    plan = notification.plan or task.plan
    subject = notification.task
    if getattr(task, "period", None):  # one occurrence of recurring work: the link confirms that period
        subject = f"{subject}{PERIOD_SEPARATOR}{task.period}"
    token = make_done_token(secret, plan, subject, unit, now + ttl)
    return {"done_url": done_url(base_url, token)}


def secret_from_settings(settings: object) -> SecretStr | None:
    """``NHACVIEC_LINK_SECRET`` once config/settings.py has ``link_secret``; None until then."""
    value = getattr(settings, "link_secret", None)
    return value if isinstance(value, SecretStr) or value is None else SecretStr(str(value))
