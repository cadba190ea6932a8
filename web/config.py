"""The web admin's own settings (``NHACVIEC_WEB_*``), apart from the service's."""

from __future__ import annotations

import logging
import secrets

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

MIN_SECRET_CHARS = 32


class WebSettings(BaseSettings):
    """``NHACVIEC_WEB_SECRET`` signs session cookies; set it, or every restart signs everyone out."""

    model_config = SettingsConfigDict(env_prefix="NHACVIEC_WEB_", extra="ignore")

    secret: SecretStr | None = None
    secure_cookies: bool = False  # true behind HTTPS: the browser sends the cookie only over HTTPS
    session_hours: float = 12.0
    login_max_failures: int = 5
    login_window_minutes: float = 10.0


def session_secret(settings: WebSettings) -> str:
    """The configured secret, or a random one for this process only (with a warning in the log)."""
    if settings.secret is None:
        log.warning(
            "NHACVIEC_WEB_SECRET is not set: sessions are signed with a random secret and end when the "
            "web admin restarts"
        )
        return secrets.token_urlsafe(32)
    value = settings.secret.get_secret_value()
    if len(value) < MIN_SECRET_CHARS:
        raise ValueError(
            f"NHACVIEC_WEB_SECRET phải dài ít nhất {MIN_SECRET_CHARS} ký tự; hãy tạo một chuỗi ngẫu nhiên, "
            "ví dụ: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'."
        )
    return value
