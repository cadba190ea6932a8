"""The session cookie: who is signed in and the CSRF token, signed (not encrypted) with itsdangerous.

The cookie holds the user's id, the moment their password last changed (a new
password ends older sessions), the token of its server-side session (store.web_sessions:
sign-out, a new password or role, a disabled account or an admin end it, so a copied
cookie stops working) and a random CSRF token; the signature and its timestamp make it
tamper-proof and expiring.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "nhacviec_session"
CSRF_FIELD = "csrf"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: object) -> bool:
    """Constant-time comparison of the form's token with the session's."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


@dataclass
class Session:
    """One browser's session; ``dirty`` when the cookie must be (re)written."""

    user_id: int | None = None
    password_stamp: float | None = None
    _csrf: str | None = None
    token: str | None = None  # the server-side session's (store.web_sessions)
    dirty: bool = False

    @property
    def known_csrf(self) -> str | None:
        """The token the browser already has (None for a new visitor): what a POST is checked against."""
        return self._csrf

    @property
    def csrf(self) -> str:
        """The token to put in forms, created with the session on first use."""
        if self._csrf is None:
            self._csrf = new_token()
            self.dirty = True
        return self._csrf

    def sign_in(self, user_id: int, password_stamp: float, token: str | None = None) -> None:
        """A fresh token at sign-in, so a token seen before it (session fixation) is worthless after."""
        self.user_id = user_id
        self.password_stamp = password_stamp
        self.token = token
        self._csrf = new_token()
        self.dirty = True

    def sign_out(self) -> None:
        self.user_id = None
        self.password_stamp = None
        self.token = None
        self._csrf = new_token()
        self.dirty = True


class SessionCodec:
    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self.max_age_seconds = max_age_seconds
        self._serializer = URLSafeTimedSerializer(secret, salt="nhacviec.web.session")

    def dump(self, session: Session) -> str:
        payload: dict[str, Any] = {"c": session.csrf}
        if session.user_id is not None:
            payload["u"] = session.user_id
            payload["p"] = session.password_stamp
            payload["s"] = session.token
        return self._serializer.dumps(payload)

    def load(self, cookie: str | None) -> Session:
        """The session in the cookie; a new, empty one when it is missing, tampered with or expired."""
        if not cookie:
            return Session()
        try:
            payload = self._serializer.loads(cookie, max_age=self.max_age_seconds)
        except BadSignature:  # SignatureExpired is a BadSignature too
            return Session()
        if not isinstance(payload, dict) or not isinstance(payload.get("c"), str):
            return Session()
        user_id = payload.get("u")
        stamp = payload.get("p")
        if not isinstance(user_id, int) or not isinstance(stamp, int | float):
            return Session(_csrf=payload["c"])
        token = payload.get("s")
        return Session(
            user_id=user_id,
            password_stamp=float(stamp),
            _csrf=payload["c"],
            token=token if isinstance(token, str) else None,
        )
