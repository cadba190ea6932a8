"""Server-side web sessions: each sign-in is a row, and ending the row ends the session wherever its cookie went.

The cookie carries a random token (``secrets.token_urlsafe``); the table keeps its SHA-256, the user, when it
began, was last seen and expires, the address and browser, and when and why it ended: ``logout``, ``password``
(a new password), ``role`` (a new role or unit), ``disabled`` (the account), ``admin`` (ended by an admin).
A copy of a cookie taken before any of these is worthless after it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from store.models import User, WebSession, utcnow
from store.users import UserAccountError, get_user

LAST_SEEN_EVERY = timedelta(
    minutes=5
)  # last_seen_at is written at most this often (not one write per request)
REASONS = {
    "logout": "đăng xuất",
    "password": "đổi mật khẩu",
    "role": "đổi vai trò",
    "disabled": "khóa tài khoản",
    "admin": "quản trị viên kết thúc",
    "expired": "hết hạn",
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(
    db: Session,
    user_id: int,
    *,
    hours: float,
    now: datetime | None = None,
    address: str | None = None,
    agent: str | None = None,
) -> str:
    """A new session for ``user_id``; returns its token (only its hash is stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.add(
        WebSession(
            token_hash=_hash(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
            address=(address or "")[:64] or None,
            agent=(agent or "")[:200] or None,
        )
    )
    db.flush()
    return token


def session_of(db: Session, token: str) -> WebSession | None:
    """The session row of a cookie's token (ended or not)."""
    return db.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()


def active_session(
    db: Session, token: str | None, user_id: int, now: datetime | None = None
) -> WebSession | None:
    """The live session of ``token`` for ``user_id`` (not ended, not expired), its last sight noted; else None."""
    if not token:
        return None
    now = now or utcnow()
    row = db.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()
    if row is None or row.user_id != user_id or row.ended_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at >= LAST_SEEN_EVERY:
        row.last_seen_at = now
        db.add(row)
    return row


def end_session(
    db: Session, token: str | None = None, *, session_id: int | None = None, reason: str = "logout"
) -> bool:
    """End one session (by its token, or by its id for an admin); whether a live one was ended."""
    if token is not None:
        row = db.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()
    else:
        row = db.get(WebSession, session_id) if session_id is not None else None
    if row is None or row.ended_at is not None:
        return False
    row.ended_at, row.ended_reason = utcnow(), reason
    db.add(row)
    db.flush()
    return True


def end_user_sessions(db: Session, user_id: int, reason: str) -> int:
    """End every live session of a user; how many."""
    rows = db.exec(
        select(WebSession).where(WebSession.user_id == user_id, col(WebSession.ended_at).is_(None))
    ).all()
    for row in rows:
        row.ended_at, row.ended_reason = utcnow(), reason
        db.add(row)
    db.flush()
    return len(rows)


def end_sessions_of(db: Session, name: str, reason: str = "admin") -> int:
    """End every live session of the account ``name`` (an admin's 'users end-session --user')."""
    user = get_user(db, name)
    if user is None or user.id is None:
        raise UserAccountError(f"Không có tài khoản '{name}'.")
    return end_user_sessions(db, user.id, reason)


def live_sessions(db: Session, now: datetime | None = None) -> list[tuple[WebSession, User]]:
    """Every session not ended nor expired, newest first, with its user."""
    now = now or utcnow()
    rows = db.exec(
        select(WebSession, User)
        .where(
            col(WebSession.user_id) == col(User.id),
            col(WebSession.ended_at).is_(None),
            col(WebSession.expires_at) > now,
        )
        .order_by(col(WebSession.created_at).desc(), col(WebSession.id).desc())
    ).all()
    return [(session, user) for session, user in rows]


def session_json(row: WebSession, user: User) -> dict[str, object]:
    return {
        "id": row.id,
        "user": user.name,
        "role": user.role,
        "created_at": row.created_at.isoformat(),
        "last_seen_at": row.last_seen_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "address": row.address,
        "agent": row.agent,
    }
