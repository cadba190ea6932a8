"""``POST /zalo/webhook``: the Official Account's events, verified, recorded for the notifier.

Zalo calls this address (set in the app's Webhook settings on developers.zalo.me) for each event of the
OA: a user follows or unfollows it, sends it a message, reacts... We keep each follower's last
interaction, which the notifier needs: the OA may send a consultation message only within days of it
(notifiers.zalo). A text carrying an invite code (store.invites) binds its sender to the code's unit, head or
leader, and the sender is answered (bound, or why not) by an OA message put in the outbox: the user has just
written, so the OA's window is open; a repeated event answers once (the message's key is the event's).

The signature (Zalo for Developers, Official Account API, "Webhook"; the portal could not be read, so as
quoted by the PHP guide https://hainh.me/zalo-api-php-webhook-callback-official-account.html and by
open-source OA clients): the header ``X-ZEvent-Signature`` carries ``mac=`` + the hexadecimal
SHA-256 of ``app_id + body + timestamp + OA secret key``, where ``body`` is the request body exactly as
received, ``timestamp`` the body's own ``timestamp`` field (epoch milliseconds) and the OA secret key the
one shown in the app's Webhook settings (NHACVIEC_ZALO_OA_SECRET_KEY), not the app's secret key.
Uncertain, so accepted either way: the ``mac=`` prefix (with or without) and the case of the hex digits.
The ``app_id`` must be ours. Zalo expects HTTP 200 within 2 seconds and repeats an event that did not get
it, so every event is safe to receive twice (store.zalo_followers keeps the latest facts only).

Events are handled by one function each (``HANDLERS``: event name -> function); an event we do not use
is acknowledged and ignored. Which events count as the user's interaction for the OA's window is our
reading of Zalo's consultation-message rule (the user wrote, followed, submitted information or reacted),
unconfirmed for reactions and submissions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from delivery.pipeline import reply
from store.invites import InviteRefused, redeem_in_text
from store.zalo_followers import record_event
from web.deps import context

log = logging.getLogger(__name__)

router = APIRouter()

PATH = "/zalo/webhook"
MAX_BODY_BYTES = 64 * 1024  # an event is a few hundred bytes; a bigger body is not Zalo's
SIGNATURE_HEADER = "X-ZEvent-Signature"


@dataclass(frozen=True)
class ZaloEvent:
    """One verified event: its name, when it happened (never later than now), and Zalo's JSON."""

    name: str
    at: datetime
    data: Mapping[str, Any]

    def user(self, role: str) -> str | None:
        """The OA-scoped user id under ``role`` ("sender", "follower"...), the id the OA sends to."""
        part = self.data.get(role)
        value = part.get("id") if isinstance(part, Mapping) else None
        return str(value) if isinstance(value, str | int) and str(value) else None


@dataclass(frozen=True)
class Answer:
    """A text to send back to the user who wrote (through the outbox, after the event is recorded)."""

    recipient: str  # the directory's code when bound ("TCCB.head"), else "zalo:<user id>"
    name: str
    user: str
    text: str
    key: str


Handler = Callable[[Connection, ZaloEvent], Answer | None]


def _interaction(connection: Connection, event: ZaloEvent) -> None:
    user = event.user("sender")
    if user is not None:
        record_event(connection, user, event.at, event.name, interaction=True)


def on_follow(connection: Connection, event: ZaloEvent) -> None:
    user = event.user("follower")
    if user is not None:
        record_event(connection, user, event.at, event.name, interaction=True, following=True)


def on_unfollow(connection: Connection, event: ZaloEvent) -> None:
    user = event.user("follower")
    if user is not None:
        record_event(connection, user, event.at, event.name, interaction=False, following=False)


def on_user_send_text(connection: Connection, event: ZaloEvent) -> Answer | None:
    """A text from a user: an interaction, and maybe an invite code that binds the sender (store.invites);
    the sender is told either way (bound, or why not)."""
    _interaction(connection, event)
    user = event.user("sender")
    message = event.data.get("message")
    text = message.get("text") if isinstance(message, Mapping) else None
    if user is None or not isinstance(text, str) or not text.strip():
        return None
    message_id = message.get("msg_id") if isinstance(message, Mapping) else None
    key = f"reply/zalo:{user}/{message_id or int(event.at.timestamp() * 1000)}"
    with Session(bind=connection) as session:  # joins the event's transaction: committed with it
        try:
            bound = redeem_in_text(session, text, "zalo", user, f"Zalo {user}", now=event.at)
        except InviteRefused as error:  # refused before anything is written
            log.info("zalo webhook: invite refused for user=%s: %s", user, error)
            return Answer(f"zalo:{user}", "Người dùng Zalo", user, str(error), f"{key}|zalo:{user}|zalo")
        session.flush()
    if bound is None:
        return None
    log.info("zalo webhook: user=%s bound to %s by invite", user, bound.target.code)
    target = bound.target
    text = (
        f"Tài khoản Zalo này đã được liên kết với {target.name}: từ nay nhắc việc gửi {target.name} "
        "qua Zalo sẽ đến đây."
    )
    return Answer(target.code, target.name, user, text, f"{key}|zalo:{user}|zalo")


def on_user_message(connection: Connection, event: ZaloEvent) -> None:
    """Anything else a user sends the OA (an image, a file, a sticker, a location...): an interaction."""
    _interaction(connection, event)


def on_user_action(connection: Connection, event: ZaloEvent) -> None:
    """A user submits information or reacts to a message of the OA: an interaction."""
    _interaction(connection, event)


_USER_MESSAGES = ("image", "link", "audio", "video", "sticker", "location", "business_card", "file", "gif")
HANDLERS: dict[str, Handler] = {
    "follow": on_follow,
    "unfollow": on_unfollow,
    "user_send_text": on_user_send_text,
    **{f"user_send_{kind}": on_user_message for kind in _USER_MESSAGES},
    "user_submit_info": on_user_action,
    "user_reacted_message": on_user_action,
}


def signature_matches(raw: bytes, event: Mapping[str, Any], header: str, secret: str) -> bool:
    """Whether ``header`` is Zalo's signature of this body (see the module doc), in constant time."""
    supplied = header.strip()
    if supplied[:4].lower() == "mac=":
        supplied = supplied[4:].strip()
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    signed = f"{event.get('app_id', '')}{body}{event.get('timestamp', '')}{secret}"
    expected = hashlib.sha256(signed.encode("utf-8")).hexdigest()
    return hmac.compare_digest(supplied.lower().encode(), expected.encode())


def event_time(event: Mapping[str, Any], now: datetime) -> datetime | None:
    """The event's moment (``timestamp``, epoch milliseconds), never after ``now``; None when unreadable."""
    try:
        at = datetime.fromtimestamp(int(str(event.get("timestamp"))) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return min(at, now.astimezone(UTC))


def _answer(status: int, message: str | None = None, **fields: Any) -> JSONResponse:
    body: dict[str, Any] = {"ok": status == 200, **fields}
    if message:
        body["error"] = message
    return JSONResponse(body, status_code=status)


async def _read(request: Request) -> bytes | None:
    """The body, or None when it is larger than MAX_BODY_BYTES (read no further than that)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(PATH)
async def zalo_webhook(request: Request) -> JSONResponse:
    ctx = context(request)
    secret, app_id = ctx.settings.zalo_oa_secret_key, ctx.settings.zalo_app_id
    if secret is None or not app_id:
        return _answer(
            503, "Webhook Zalo chưa được cấu hình: đặt NHACVIEC_ZALO_APP_ID và NHACVIEC_ZALO_OA_SECRET_KEY."
        )
    raw = await _read(request)
    if raw is None:
        return _answer(413, "Sự kiện Zalo quá lớn.")
    try:
        event = json.loads(raw)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return _answer(400, "Sự kiện Zalo không phải JSON.")
    header = request.headers.get(SIGNATURE_HEADER, "")
    if str(event.get("app_id")) != app_id or not signature_matches(
        raw, event, header, secret.get_secret_value()
    ):
        log.warning("zalo webhook: signature or app id does not match; event ignored")
        return _answer(403, "Chữ ký sự kiện Zalo không hợp lệ.")
    name = str(event.get("event_name") or "")
    at = event_time(event, ctx.now())
    if at is None:
        return _answer(400, "Sự kiện Zalo thiếu thời điểm (timestamp).")
    handler = HANDLERS.get(name)
    if handler is None:
        return _answer(200, ignored=name)
    local = at.astimezone(ctx.settings.tz)  # the moment replies show (an expired invite's hour)
    await run_in_threadpool(_handle, ctx.engine, handler, ZaloEvent(name, local, event), ctx.now())
    log.info("zalo webhook: %s recorded", name)
    return _answer(200)


def _handle(engine: Any, handler: Handler, event: ZaloEvent, now: datetime) -> None:
    with engine.begin() as connection:
        answer = handler(connection, event)
    if answer is not None:  # the event is recorded; the answer goes through the outbox (the next dispatch)
        reply(engine, answer.key, "zalo", answer.recipient, answer.name, answer.user, answer.text, now=now)
