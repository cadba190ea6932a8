"""The web admin's own settings (``NHACVIEC_WEB_*``), apart from the service's."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from collections.abc import Mapping
from typing import Any

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
    login_max_failures: int = 5  # per (name, address)
    login_window_minutes: float = 10.0
    login_max_failures_per_name: int = 20  # one account, from any address
    login_max_failures_per_address: int = 30  # one address, any names (spraying)
    login_max_failures_global: int = 500  # everyone together (a spray from many addresses)
    # Set by ``nhacviec web --workers N`` for its workers: each keeps 1/N of every sign-in limit, so that N
    # processes together allow no more tries than one would (each worker counts in its own memory).
    login_limit_shares: int = 1
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks, comma
    # separated); none by default: a header from anyone else is ignored.
    trusted_proxies: str = ""
    work_seconds: float = 120.0  # reading an uploaded plan, in a child process (web.isolation)
    work_memory_mb: int = 1536  # that child's address space
    # checking an admin's templates and rendering a preview, in a child process (web.isolation.check_templates)
    template_seconds: float = 30.0
    template_memory_mb: int = 1024
    # plan uploads/confirmations at once in one web process (each may take a child as above)
    import_jobs: int = 1
    import_wait_seconds: float = 20.0  # how long another waits for its turn before being told to try again


def trusted_networks(
    settings: WebSettings,
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network | str, ...]:
    """NHACVIEC_WEB_TRUSTED_PROXIES parsed: networks, or a bare name (a test client's "testclient")."""
    found: list[ipaddress.IPv4Network | ipaddress.IPv6Network | str] = []
    for item in re.split(r"[,\s]+", settings.trusted_proxies.strip()):
        if not item:
            continue
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            found.append(item)
    return tuple(found)


def is_trusted(
    address: str | None, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network | str, ...]
) -> bool:
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address in networks
    return any(not isinstance(net, str) and ip.version == net.version and ip in net for net in networks)


def client_origin(
    peer: str | None, headers: Mapping[str, str], scheme: str, networks: tuple[Any, ...]
) -> tuple[str, bool]:
    """(the client's address, whether it came over https): the forwarded headers count only from a trusted
    proxy, and the client is the right-most address of X-Forwarded-For that is not a trusted proxy."""
    if not is_trusted(peer, networks):
        return peer or "?", scheme == "https"
    client = peer or "?"
    forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        client = address[:64]
        if not is_trusted(address, networks):
            break
    proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return client, (proto or scheme) == "https"


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
