"""Secrets in the URLs of calendar (ICS) feeds: created, listed, revoked and checked.

A token is 32 random bytes (URL-safe text) shown once when it is created; only
its SHA-256 is stored, so a copy of the database gives no feed away. A token
names one unit (that unit's deadlines) or none (the whole plan, for leadership).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from plan.errors import UserError
from store.models import IcsToken, Unit, utcnow

# A feed's reminder (VALARM): working days before each due day, at the send time; 0 = none. The feed's
# address chooses it (``?alarm=N``, from the web's subscribe page or `ics create --alarm N`).
DEFAULT_ALARM_DAYS = 3
MAX_ALARM_DAYS = 30

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 128


class IcsTokenError(UserError):
    """A feed token cannot be created or revoked as asked; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class NewToken:
    record: IcsToken
    token: str  # the secret itself: give it to the user now, it cannot be shown again


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, unit_code: str | None, *, created_by: str) -> NewToken:
    """A new feed token for ``unit_code`` (None: the whole plan)."""
    if unit_code is not None and session.get(Unit, unit_code) is None:
        raise IcsTokenError(f"Không có đơn vị mã '{unit_code}' trong cơ sở dữ liệu.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record = IcsToken(token_hash=token_hash(token), unit_code=unit_code, created_by=created_by[:64])
    session.add(record)
    session.flush()
    return NewToken(record, token)


def list_tokens(session: Session) -> list[IcsToken]:
    return list(session.exec(select(IcsToken).order_by(col(IcsToken.id))))


def revoke_token(session: Session, token_id: int, *, now: datetime | None = None) -> IcsToken:
    record = session.get(IcsToken, token_id)
    if record is None:
        raise IcsTokenError(f"Không có mã lịch số {token_id};").with_fix("ics_list")
    if record.revoked_at is not None:
        raise IcsTokenError(f"Mã lịch số {token_id} đã bị thu hồi trước đó.")
    record.revoked_at = now or utcnow()
    session.add(record)
    session.flush()
    return record


def verify_token(session: Session, token: str, unit_code: str | None) -> IcsToken | None:
    """The live token record allowing the feed of ``unit_code`` (None: the whole plan), or None.

    A whole-plan token also opens every unit's feed; a unit's token opens only its own.
    The lookup is by hash, so the comparison never touches the secret itself.
    """
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    record = session.exec(select(IcsToken).where(IcsToken.token_hash == token_hash(token))).first()
    if record is None or record.revoked_at is not None:
        return None
    if record.unit_code is None or record.unit_code == unit_code:
        return record
    return None
