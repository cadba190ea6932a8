"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, a free port, told how to misbehave.

Usage::

    with running_smtp_server() as server:            # plain SMTP
        ... EmailNotifier(host=server.host, port=server.port, tls="none", ...)
        server.messages[0].message["Subject"]

    certificate = make_self_signed_certificate(tmp_path)
    with running_smtp_server(tls="starttls", certificate=certificate, credentials=("user", "pw")) as server:
        ...

The server stores every accepted message (envelope and parsed ``EmailMessage``),
counts the connections it accepted, and can reject a recipient with 550, answer
4xx to the next N messages, require AUTH, close every open connection, close
idle ones after a timeout, or hold every message after the Nth at its MAIL FROM
(before any of it is sent: a sender killed then has nothing in flight). Certificates come from the ``openssl`` command line
(the ``cryptography`` package is not installed).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import subprocess
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 / localhost and its private key (PEM files)."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A context that trusts only this certificate, with full verification (hostname included)."""
        return ssl.create_default_context(cafile=str(self.cert))


def make_self_signed_certificate(directory: Path) -> Certificate:
    """Generate an EC certificate valid for IP 127.0.0.1 and DNS localhost (one ``openssl`` call)."""
    directory.mkdir(parents=True, exist_ok=True)
    certificate = Certificate(directory / "smtp-cert.pem", directory / "smtp-key.pem")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(certificate.key), "-out", str(certificate.cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return certificate


@dataclass(frozen=True)
class Received:
    """One accepted message: the SMTP envelope and the parsed message."""

    envelope_from: str
    recipients: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class RecordingHandler:
    """Stores accepted messages; rejects or defers on request (aiosmtpd handler hooks)."""

    rejected: set[str] = field(default_factory=set)
    messages: list[Received] = field(default_factory=list)
    temporary_failures: int = 0
    temporary_code: str = "451 4.3.0 Tạm thời không nhận thư"
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold_after: int | None = None  # messages accepted before the next MAIL FROM is held
    holding: threading.Event = field(default_factory=threading.Event)  # a MAIL FROM is being held
    released: threading.Event = field(default_factory=threading.Event)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if (
            self.hold_after is not None
            and len(self.messages) >= self.hold_after
            and not self.released.is_set()
        ):
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.02)
            return "421 4.3.2 Máy chủ đang tạm dừng"  # to a sender that is gone by then
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.rejected:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                return self.temporary_code
            raw = cast(bytes, envelope.original_content or envelope.content)
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            self.messages.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), raw, cast(EmailMessage, parsed))
            )
        return "250 2.0.0 OK"


class _Controller(Controller):
    """aiosmtpd's Controller, bound to port 0 and counting/tracking the connections it serves."""

    def __init__(self, handler: RecordingHandler, port: int = 0, **kwargs: Any) -> None:
        super().__init__(handler, hostname=HOST, port=port, server_hostname="localhost", **kwargs)
        self.sessions: list[SMTP] = []
        self.connections = 0

    def factory(self) -> SMTP:
        with warnings.catch_warnings():  # "auth_required without TLS": intended here
            warnings.simplefilter("ignore")
            smtp = super().factory()
        self.sessions.append(smtp)
        self.connections += 1
        return cast(SMTP, smtp)

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpTestServer:
    """What a test sees: address, received messages, connection count, and the knobs."""

    host: str
    port: int
    handler: RecordingHandler
    controller: _Controller

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    @property
    def connections(self) -> int:
        """Connections accepted since the server started (its own start-up probe excluded)."""
        return self.controller.connections

    def reject(self, address: str) -> None:
        """Answer RCPT TO:<address> with 550."""
        self.handler.rejected.add(address)

    def fail_next(self, count: int, reply: str = "451 4.3.0 Tạm thời không nhận thư") -> None:
        """Answer DATA with ``reply`` (a 4xx or 5xx line) for the next ``count`` messages."""
        with self.handler.lock:
            self.handler.temporary_failures = count
            self.handler.temporary_code = reply

    def hold_after(self, count: int) -> None:
        """Hold every message after the ``count``-th at its MAIL FROM, until :meth:`release`."""
        self.handler.hold_after = count

    def release(self) -> None:
        self.handler.released.set()

    def drop_connections(self) -> None:
        """Close every open connection from the server side (as an MTA restart would)."""

        async def close_all() -> None:
            for session in self.controller.sessions:
                if session.transport is not None:
                    session.transport.close()

        asyncio.run_coroutine_threadsafe(close_all(), self.controller.loop).result(timeout=5)


def _authenticator(credentials: tuple[str, str]) -> Any:
    login, password = (part.encode() for part in credentials)

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == login and data.password == password
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

    return authenticate


@contextmanager
def running_smtp_server(
    *,
    tls: Literal["none", "starttls", "tls"] = "none",
    certificate: Certificate | None = None,
    credentials: tuple[str, str] | None = None,
    idle_timeout: float = 300.0,
    port: int = 0,
) -> Iterator[SmtpTestServer]:
    """Start aiosmtpd on 127.0.0.1 (a free port) and stop it on exit.

    ``tls``: "starttls" requires STARTTLS before anything else, "tls" speaks TLS
    from the first byte; both need ``certificate``. ``credentials``: AUTH
    (PLAIN/LOGIN) is required and only this user/password pass.
    ``idle_timeout``: seconds after which the server closes a silent connection.
    """
    if tls != "none" and certificate is None:
        raise ValueError("a TLS server needs a certificate (make_self_signed_certificate)")
    options: dict[str, Any] = {"timeout": idle_timeout}
    if tls == "starttls":
        assert certificate is not None
        options.update(tls_context=certificate.server_context(), require_starttls=True)
    elif tls == "tls":
        assert certificate is not None
        options.update(ssl_context=certificate.server_context())
    if credentials is not None:
        options.update(
            authenticator=_authenticator(credentials),
            auth_required=True,
            auth_require_tls=tls == "starttls",
        )
    handler = RecordingHandler()
    controller = _Controller(handler, port, **options)
    controller.start()
    controller.connections = 0  # forget the start-up probe
    try:
        yield SmtpTestServer(HOST, controller.port, handler, controller)
    finally:
        controller.stop()
