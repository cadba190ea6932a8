"""Invites: a single-use code that binds a Telegram chat or a Zalo follower to a recipient of the directory.

An admin makes a code for a unit, its head or a leader (``nhacviec units invite``, the unit's web page) and
hands it over as a Telegram deep link (``/start CODE`` in the chat to bind) or as a text to send the Zalo
Official Account. Whoever sends it first binds their chat (or Zalo user id) to the recipient: the address
is written into the directory, the one truth the planner and the bot read.

Contracts:

* a code is 12 characters of Crockford's base 32 (no I, L, O, U: nothing to misread), shown as
  ``XXXX-XXXX-XXXX``; typed back in any case, with or without the dashes or spaces, O read as 0 and I/L as 1;
* only its SHA-256 is stored; the code itself is shown once, when it is made;
* it works once: the use is claimed with ``UPDATE ... WHERE used_at IS NULL``, so two chats sending the same
  code at once bind one of them (the chat that used it may send it again: nothing changes); it expires (7 days
  by default), and an admin may revoke it before use;
* every refusal is a :class:`InviteRefused`, one Vietnamese sentence saying what to do, and changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from plan.errors import UserError
from store.directory import Target, contacts_of, find_target, set_contacts
from store.models import Invite, Unit

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
CODE_LENGTH = 12
DEFAULT_TTL = timedelta(days=7)
CHANNEL_FIELDS = {"telegram": "telegram_chat_id", "zalo": "zalo_user_id"}
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]")
_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])([0-9A-Za-z]{4})[\s-]?([0-9A-Za-z]{4})[\s-]?([0-9A-Za-z]{4})(?![0-9A-Za-z])"
)


class InviteRefused(UserError):
    """A code that cannot bind: unknown, for another channel, used, expired or revoked (one sentence)."""


def new_code() -> str:
    """A fresh random code, as shown: "K7QX-9PDM-3HTA" (60 bits)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(text: str) -> str | None:
    """The code as stored and hashed (12 characters, no dashes), or None when ``text`` cannot be one."""
    raw = _SEPARATORS.sub("", text.strip()).upper().translate(_TYPOS)
    if len(raw) != CODE_LENGTH or any(char not in ALPHABET for char in raw):
        return None
    return raw


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def codes_in(text: str) -> list[str]:
    """Every code a message may carry ("Mã của tôi: k7qx 9pdm 3hta"), normalised, in order."""
    found = []
    for match in _IN_TEXT.finditer(text):
        code = normalise_code("".join(match.groups()))
        if code is not None and code not in found:
            found.append(code)
    return found


def _moment(at: datetime, now: datetime) -> str:
    """``at`` in the time zone of ``now`` (the caller's clock, in the settings' time zone)."""
    return f"{at.astimezone(now.tzinfo):%H:%M ngày %d/%m/%Y}"


def _check_channel(channel: str) -> str:
    if channel not in CHANNEL_FIELDS:
        raise UserError(f"Kênh '{channel}' không có mã mời; chọn telegram hoặc zalo.")
    return channel


# --- making, listing, revoking --------------------------------------------------------------------------


@dataclass(frozen=True)
class NewInvite:
    invite: Invite
    code: str  # as shown, with its dashes: the only time it exists outside the holder's hands
    target: Target


def create_invite(
    session: Session,
    target: str,
    channel: str,
    *,
    now: datetime,
    actor: str,
    ttl: timedelta = DEFAULT_TTL,
) -> NewInvite:
    """A new code for the recipient ``target`` ("TCCB", "TCCB.head", "PGD1") on ``channel``."""
    found = find_target(session, target)
    if ttl <= timedelta(0):
        raise UserError("Thời hạn của mã mời phải lớn hơn 0.")
    code = new_code()
    invite = Invite(
        code_hash=code_hash(normalise_code(code) or ""),
        target=found.code,
        channel=_check_channel(channel),
        created_at=now,
        created_by=actor[:128],
        expires_at=now + ttl,
    )
    session.add(invite)
    session.flush()
    return NewInvite(invite, code, found)


def state(invite: Invite, now: datetime) -> str:
    """pending | joined | unbound | expired | revoked (vocabulary.INVITE_STATES)."""
    if invite.used_at is not None:
        return "unbound" if invite.unbound_at is not None else "joined"
    if invite.revoked_at is not None:
        return "revoked"
    return "expired" if invite.expires_at <= now else "pending"


def invites_for_unit(session: Session, unit_code: str) -> list[Invite]:
    """The invites of a unit and of its head, newest first."""
    return list(
        session.exec(
            select(Invite)
            .where(col(Invite.target).in_([unit_code, f"{unit_code}.head"]))
            .order_by(col(Invite.created_at).desc(), col(Invite.id).desc())
        )
    )


def invites_for(session: Session, target: str) -> list[Invite]:
    return list(
        session.exec(select(Invite).where(Invite.target == target).order_by(col(Invite.created_at).desc()))
    )


def revoke_invite(session: Session, invite_id: int, *, now: datetime) -> Invite:
    """Cancel a code not used yet (a used one is unbound instead)."""
    invite = session.get(Invite, invite_id)
    if invite is None:
        raise UserError(f"Không có mã mời số {invite_id}.")
    if invite.used_at is not None:
        raise UserError("Mã mời này đã được dùng; hãy gỡ liên kết thay vì huỷ mã.")
    if invite.revoked_at is None:
        invite.revoked_at = now
        session.add(invite)
    return invite


# --- binding and unbinding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    target: Target
    channel: str
    address: str
    previous: str | None  # the address the target had on the channel before (now replaced)


def redeem(session: Session, code: str, channel: str, address: str, label: str, *, now: datetime) -> Bound:
    """Bind ``address`` (a chat id, a Zalo user id) to the recipient of ``code``, using the code up.

    Raises :class:`InviteRefused` with the sentence to show the sender; nothing is changed then.
    """
    normal = normalise_code(code)
    invite = None
    if normal is not None:
        invite = session.exec(select(Invite).where(Invite.code_hash == code_hash(normal))).first()
    office = _office_name(session)
    if invite is None:
        raise InviteRefused(
            f"Mã mời '{code.strip()[:40]}' không đúng; anh/chị kiểm tra lại mã, hoặc đề nghị {office} gửi mã mới."
        )
    if invite.channel != channel:
        other = "Zalo" if invite.channel == "zalo" else "Telegram"
        raise InviteRefused(f"Mã mời này dành cho {other}; anh/chị hãy gửi mã trên {other}.")
    if invite.used_at is not None and invite.bound_address == address and invite.unbound_at is None:
        return Bound(find_target(session, invite.target), channel, address, None)  # the same chat, again
    if invite.used_at is not None:
        raise InviteRefused(
            f"Mã mời này đã được dùng lúc {_moment(invite.used_at, now)}; mỗi mã chỉ dùng một lần, "
            f"đề nghị {office} tạo mã mới nếu cần liên kết thêm."
        )
    if invite.revoked_at is not None:
        raise InviteRefused(f"Mã mời này đã bị huỷ; đề nghị {office} tạo mã mới.")
    if invite.expires_at <= now:
        raise InviteRefused(
            f"Mã mời này đã hết hạn lúc {_moment(invite.expires_at, now)}; đề nghị {office} tạo mã mới."
        )
    target = find_target(session, invite.target)
    claimed = session.execute(
        sa.update(Invite)
        .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None))
        .values(used_at=now, bound_address=address[:255], bound_label=label[:255] or None)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult; someone else used it a moment ago
        raise InviteRefused(f"Mã mời này vừa được dùng; đề nghị {office} tạo mã mới nếu cần.")
    field = CHANNEL_FIELDS[channel]
    previous = contacts_of(session, target).get(field)
    set_contacts(session, target, {field: address})
    return Bound(target, channel, address, previous if previous != address else None)


def redeem_in_text(
    session: Session, text: str, channel: str, address: str, label: str, *, now: datetime
) -> Bound | None:
    """A chat message that may carry a code (Zalo): bind with the first code of an invite it names.

    None when the text carries no invite code (plain chatter); :class:`InviteRefused` when it names a
    known code that cannot bind, or when the whole message is something shaped like a code that is not one.
    """
    candidates = codes_in(text)
    for code in candidates:
        if session.exec(select(Invite.id).where(Invite.code_hash == code_hash(code))).first() is not None:
            return redeem(session, code, channel, address, label, now=now)
    if normalise_code(text) is not None:
        return redeem(session, text, channel, address, label, now=now)  # refused: not a code of ours
    return None


def unbind(session: Session, target: str, channel: str, *, now: datetime) -> tuple[Target, str | None]:
    """Remove the target's address on ``channel`` (the chat or follower it was bound to); returns the old one.

    The invites that bound it are marked unbound, so the pages show who left and when.
    """
    found = find_target(session, target)
    field = CHANNEL_FIELDS[_check_channel(channel)]
    old = contacts_of(session, found).get(field)
    if old:
        set_contacts(session, found, {field: None})
    for invite in session.exec(
        select(Invite).where(
            Invite.target == found.code,
            Invite.channel == channel,
            col(Invite.used_at).is_not(None),
            col(Invite.unbound_at).is_(None),
        )
    ):
        invite.unbound_at = now
        session.add(invite)
    session.flush()
    return found, old


def _office_name(session: Session) -> str:
    office = session.exec(select(Unit.name).where(col(Unit.is_office).is_(True))).first()
    return office or "Văn phòng"
