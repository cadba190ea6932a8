"""The email channel: aiosmtplib over a small pool of persistent SMTP connections.

Messages are built once by :func:`build_email` (shared with the file sink, so a
``.eml`` file is exactly what would have been sent). The ``Message-ID`` derives
from the outbox key, so a message sent twice (a retry after a lost reply) has
the same id and mail clients fold the copies; ``X-Nhacviec-Key`` carries the
key itself for reconciliation.

Every failure becomes a :class:`~notifiers.base.DeliveryError`: 5xx on an
address or the content is permanent, 4xx and network trouble are transient,
bad credentials or TLS are a configuration problem. The SMTP password never
appears in a message, a log line or a repr.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.errors
import email.utils
import hashlib
import logging
import re
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.charset import Charset
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from typing import TYPE_CHECKING, Any, Literal

import aiosmtplib
from aiosmtplib import SMTPStatus
from pydantic import SecretStr

from notifiers.base import (
    DeliveryError,
    Notifier,
    OutgoingMessage,
    PermanentError,
    SendResult,
    TransientError,
)
from plan.errors import causes
from plan.text import clean

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)

TlsMode = Literal["none", "starttls", "tls"]
DEFAULT_PORTS: dict[str, int] = {"tls": 465, "starttls": 587, "none": 25}
AUTH_HINT = "Sai tên đăng nhập hoặc mật khẩu SMTP (NHACVIEC_SMTP_USER / NHACVIEC_SMTP_PASSWORD)"
AUTH_REQUIRED = 530
AUTH_REQUIRED_HINT = "Máy chủ SMTP yêu cầu đăng nhập: đặt NHACVIEC_SMTP_USER và NHACVIEC_SMTP_PASSWORD"
STARTTLS_REQUIRED_HINT = "Máy chủ SMTP yêu cầu mã hóa: đặt NHACVIEC_SMTP_TLS=starttls"
KEY_HEADER = "X-Nhacviec-Key"
RETRY_ON_FRESH_CONNECTION = 421  # "service closing": the server dropped an idle pooled connection


class _HeaderSafePolicy(EmailPolicy):
    """The SMTP policy, with our own RFC 2047 encoding of non-ASCII Subject, From and To.

    Python 3.11's folder puts the space between two words *between* two encoded
    words, where RFC 2047 says to ignore it: "kết quả cải" comes back as "kết
    quảcải". Subjects are encoded by :class:`email.header.Header` instead, which
    keeps every space inside an encoded word; a display name becomes one encoded
    word, because parsers disagree on the space between encoded words in a phrase.
    """

    def fold(self, name: str, value: Any) -> str:
        folded = _fold_encoded(name, value, self)
        return super().fold(name, value) if folded is None else folded

    def fold_binary(self, name: str, value: Any) -> bytes:
        folded = _fold_encoded(name, value, self)
        return super().fold_binary(name, value) if folded is None else folded.encode("ascii")


# Every part is quoted-printable, so the message is 7-bit clean: no SMTPUTF8 or 8BITMIME needed.
POLICY = _HeaderSafePolicy(linesep="\r\n", cte_type="7bit")
_ADDRESS_HEADERS = frozenset({"from", "to"})
_TEXT_HEADERS = frozenset({"subject", KEY_HEADER.lower()})
_UTF8 = Charset("utf-8")
_NAME_AND_ADDRESS = re.compile(r"^(?P<name>.*?)\s*<(?P<address>[^<>]*)>\s*$", re.DOTALL)


def _fold_encoded(name: str, value: Any, policy: EmailPolicy) -> str | None:
    """``name: value`` encoded our way, or None to let the standard folder do it (ASCII, other headers)."""
    text = str(value)
    if text.isascii():
        return None
    width = policy.max_line_length or 78
    if name.lower() in _TEXT_HEADERS:
        body = Header(text, "utf-8", header_name=name).encode(linesep=policy.linesep, maxlinelen=width)
    elif name.lower() in _ADDRESS_HEADERS and not any(group.display_name for group in value.groups):
        body = ("," + policy.linesep + " ").join(
            _encode_address(address, len(name) + 2, width, policy.linesep) for address in value.addresses
        )
    else:
        return None
    return f"{name}: {body}{policy.linesep}"


def _encode_address(address: Address, indent: int, width: int, linesep: str) -> str:
    display = address.display_name
    if not display:
        return address.addr_spec
    if display.isascii():
        return str(address)
    encoded = _UTF8.header_encode(display)
    separator = " " if indent + len(encoded) + len(address.addr_spec) + 3 <= width else linesep + " "
    return f"{encoded}{separator}<{address.addr_spec}>"


def parse_sender(sender: str) -> Address:
    """``"Văn phòng Sở <nhacviec@so.gov.vn>"`` (commas, quotes and all) or a bare address, as an Address.

    :raises ValueError: no valid address in ``sender``
    """
    match = _NAME_AND_ADDRESS.match(sender.strip())
    if match is None:
        return make_address("", sender)
    return make_address(match["name"].strip().strip('"'), match["address"])


def make_address(name: str, address: str) -> Address:
    """``name <address>``, with the name cleaned and an international domain in IDNA form.

    :raises ValueError: ``address`` is not a usable email address (no SMTPUTF8 local parts)
    """
    local, _, domain = address.strip().rpartition("@")
    if not local or not domain or not local.isascii():
        raise ValueError(f"not an email address: {address!r}")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
        return Address(display_name=clean(name), addr_spec=f"{local}@{ascii_domain}")
    except (ValueError, IndexError, UnicodeError, email.errors.HeaderParseError) as error:
        raise ValueError(f"not an email address: {address!r}") from error


def message_id_for(key: str, domain: str) -> str:
    """A Message-ID that depends only on the outbox key (and the sender's domain)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<nhacviec.{digest}@{domain}>"


def build_email(message: OutgoingMessage, sender: str, *, sent_at: datetime | None = None) -> EmailMessage:
    """The RFC 5322 message for ``message``: text only, or multipart/alternative when there is HTML.

    Headers keep Vietnamese as is; :data:`POLICY` encodes them (RFC 2047) when the
    message is serialised (:func:`email_bytes`). ``sent_at`` defaults to now.

    :raises ValueError: the sender or the recipient address is not a valid email address
    """
    from_ = parse_sender(sender)
    mail = EmailMessage(policy=POLICY)
    mail["From"] = from_
    mail["To"] = make_address(message.recipient_name, message.address)
    mail["Subject"] = clean(message.subject)
    mail["Date"] = email.utils.format_datetime(sent_at or datetime.now(UTC).astimezone())
    mail["Message-ID"] = message_id_for(message.key, from_.domain)
    mail[KEY_HEADER] = clean(message.key)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to reminders
    mail.set_content(message.text, cte="quoted-printable")
    if message.html:
        mail.add_alternative(message.html, subtype="html", cte="quoted-printable")
    return mail


def prebuilt_email(message: OutgoingMessage) -> bytes:
    """The message's bytes without its From, Date and Message-ID lines, built once when it is enqueued
    (:func:`finish_email` adds them at send time: they depend on the sender and the moment).

    :raises ValueError: the recipient address is not a valid email address
    """
    mail = EmailMessage(policy=POLICY)
    mail["To"] = make_address(message.recipient_name, message.address)
    mail["Subject"] = clean(message.subject)
    mail[KEY_HEADER] = clean(message.key)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text, cte="quoted-printable")
    if message.html:
        mail.add_alternative(message.html, subtype="html", cte="quoted-printable")
    return email_bytes(mail)


def sender_line(sender: str) -> bytes:
    """The From header line of ``sender``, encoded as :func:`build_email` encodes it."""
    mail = EmailMessage(policy=POLICY)
    mail["From"] = parse_sender(sender)
    return email_bytes(mail).removesuffix(b"\r\n")  # the headers' blank line


def finish_email(
    prebuilt: bytes,
    from_line: bytes,
    key: str,
    domain: str,
    at: datetime | None = None,
    *,
    message_id: str | None = None,
) -> bytes:
    """A prebuilt message (:func:`prebuilt_email`) with its From, Date and Message-ID lines: what is sent.

    ``message_id``: :func:`message_id_for` ``(key, domain)`` when the caller already has it.
    """
    date = email.utils.format_datetime(at) if at is not None else _date_now()
    head = b"%sDate: %s\r\nMessage-ID: %s\r\n" % (
        from_line,
        date.encode("ascii"),
        (message_id or message_id_for(key, domain)).encode("ascii"),
    )
    return head + prebuilt


_date_cache: tuple[int, str] = (0, "")


def _date_now() -> str:
    """The Date header's value for now, formatted once a second (every message sent in it shares it)."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, email.utils.format_datetime(datetime.now(UTC).astimezone()))
    return _date_cache[1]


def email_bytes(mail: EmailMessage) -> bytes:
    """The message as it goes over the wire (CRLF line ends, 7-bit ASCII)."""
    return mail.as_bytes(policy=POLICY)


_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)


def envelope_address(address: str) -> str:
    """The address for RCPT TO (international domains in IDNA form), checked as :func:`make_address` does.

    :raises ValueError: not a usable email address
    """
    if _PLAIN_ADDRESS.fullmatch(address):  # the usual case, without the header parser's cost
        return address
    return make_address("", address).addr_spec


def smtp_payload(data: bytes) -> bytes:
    """``data`` as it goes after DATA, less the final ".": CRLF line ends, a CRLF at the end, and every line
    that starts with "." given another one (RFC 5321 4.5.2), as aiosmtplib's ``sendmail`` sends it."""
    crlf = data.count(b"\r\n")
    if data.count(b"\n") != crlf or data.count(b"\r") != crlf:
        data = _LINE_ENDS.sub(b"\r\n", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\r\n.", b"\r\n..")


@dataclass
class _Lane:
    """One of the sends that may run at once, and the outcome its next end of data waits for."""

    previous: asyncio.Future[Any] | None = None


class EmailNotifier(Notifier):
    """Send email through one SMTP server, reusing up to ``pool_size`` connections concurrently.

    It ``waits_for_records`` (see :meth:`_transact`): a crash while sending can make at most
    ``pool_size`` messages go twice, whatever the dispatcher's way of recording outcomes.
    """

    channel = "email"
    waits_for_records = True

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        port: int | None = None,
        user: str | None = None,
        password: SecretStr | str | None = None,
        tls: TlsMode = "starttls",
        timeout: float = 30.0,
        pool_size: int = Notifier.max_concurrency,
        tls_context: ssl.SSLContext | None = None,
        validate_certs: bool = True,
        local_hostname: str | None = None,
    ) -> None:
        if tls not in DEFAULT_PORTS:
            raise ValueError(f"tls must be one of {sorted(DEFAULT_PORTS)}, not {tls!r}")
        self.host = host
        self.port = port or DEFAULT_PORTS[tls]
        self.sender = sender
        self.envelope_from = parse_sender(sender).addr_spec  # a bad NHACVIEC_SMTP_FROM fails here, early
        self.domain = parse_sender(sender).domain
        self.from_line = sender_line(sender)
        self.user = user or None
        self._password = (
            password if isinstance(password, SecretStr) or password is None else SecretStr(password)
        )
        self.tls = tls
        self.timeout = timeout
        self.pool_size = pool_size
        self.max_concurrency = (
            pool_size  # the dispatcher sends at most as many at once as there are connections
        )
        self.tls_context = tls_context
        self.validate_certs = validate_certs
        self.local_hostname = local_hostname
        self._envelope_from = self.envelope_from.encode("ascii")
        self._idle: list[aiosmtplib.SMTP] = []
        self._clients: set[aiosmtplib.SMTP] = set()
        self._slots = asyncio.Semaphore(pool_size)
        self._lanes = [_Lane() for _ in range(pool_size)]  # one per slot: see _transact

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailNotifier:
        if not settings.smtp_host:
            raise ValueError("Chưa đặt máy chủ SMTP (NHACVIEC_SMTP_HOST)")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
            timeout=settings.smtp_timeout,
            pool_size=settings.smtp_pool_size,
        )

    @property
    def server(self) -> str:
        """The server as "host:port", as error reasons name the server (no user, no password)."""
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"EmailNotifier(host={self.host!r}, port={self.port}, tls={self.tls!r}, user={self.user!r})"

    async def send(self, message: OutgoingMessage) -> SendResult:
        try:
            recipient = envelope_address(message.address)
            message_id = message_id_for(message.key, self.domain)
            if message.wire is not None:  # built when it was enqueued
                data = finish_email(
                    message.wire, self.from_line, message.key, self.domain, message_id=message_id
                )
            else:
                data = email_bytes(build_email(message, self.sender))
        except ValueError as error:
            raise PermanentError(f"Địa chỉ email không hợp lệ: {message.address!r}") from error
        payload = smtp_payload(data)
        async with self._slots:
            lane = self._lanes.pop()
            gate, lane.previous = lane.previous, None
            try:
                await self._send_pooled(payload, recipient, gate)
            except Exception as error:
                raise self._scrub(classify(error, message.address, self.server)) from error
            finally:
                # whatever happened, the next message on this lane ends its data only once this one's
                # outcome is recorded (a message that failed before its end of data is recorded quickly)
                lane.previous = message.recorded
                self._lanes.append(lane)
        return SendResult(provider_id=message_id)

    async def check(self) -> str:
        """Connect, say EHLO, STARTTLS or TLS as set, log in when a user is set, then QUIT: what answered.

        Raises :class:`DeliveryError` (its reason in Vietnamese, never the password) when any step fails.
        """
        try:
            client = await self._connect()
        except Exception as error:
            raise self._scrub(classify(error, self.envelope_from, self.server)) from error
        self._discard(client)
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            await client.quit(timeout=min(self.timeout, 5.0))
        login = f", đăng nhập {self.user}" if self.user else ""
        return f"máy chủ {self.host}:{self.port} trả lời{login}"

    async def close(self) -> None:
        """Say QUIT on every connection (politely, ignoring servers that already left)."""
        clients, self._idle, self._clients = list(self._clients), [], set()
        for client in clients:
            if client.is_connected:
                try:
                    await client.quit(timeout=min(self.timeout, 5.0))
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()

    async def _send_pooled(self, payload: bytes, recipient: str, gate: asyncio.Future[Any] | None) -> None:
        """Send on an idle connection, or a fresh one; a stale pooled connection gets one retry."""
        client = self._take_idle()
        if client is None:
            await self._send_on(await self._connect(), payload, recipient, gate)
            return
        try:
            await self._send_on(client, payload, recipient, gate)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPResponseException) as error:
            if not _connection_went_stale(error):
                raise
            log.debug(
                "pooled SMTP connection to %s:%s was closed by the server; reconnecting", self.host, self.port
            )
            self._discard(client)
            await self._send_on(await self._connect(), payload, recipient, gate)

    async def _send_on(
        self, client: aiosmtplib.SMTP, payload: bytes, recipient: str, gate: asyncio.Future[Any] | None
    ) -> None:
        try:
            await self._transact(client, payload, recipient, gate)
        finally:
            self._release(client)

    async def _transact(
        self, client: aiosmtplib.SMTP, payload: bytes, recipient: str, gate: asyncio.Future[Any] | None
    ) -> None:
        """One mail transaction, as ``aiosmtplib.SMTP.sendmail`` does it (same commands, same errors,
        RSET after a refusal), with two differences: the addresses are already checked (no parsing per
        command), and the end of data waits for ``gate``.

        A server delivers a message only once its end of data (".") has arrived: a crash before it
        sends nothing. Waiting for the previous message's outcome to be recorded there keeps at most one
        sent-but-unrecorded message per lane, while the recording overlaps MAIL, RCPT and DATA.
        """
        options = [b"SIZE=%d" % len(payload)] if client.supports_extension("size") else []
        try:
            response = await client.execute_command(b"MAIL", b"FROM:<%s>" % self._envelope_from, *options)
            if response.code != SMTPStatus.completed:
                raise aiosmtplib.SMTPSenderRefused(response.code, response.message, self.envelope_from)
            response = await client.execute_command(b"RCPT", b"TO:<%s>" % recipient.encode("ascii"))
            if response.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
                refused = aiosmtplib.SMTPRecipientRefused(response.code, response.message, recipient)
                raise aiosmtplib.SMTPRecipientsRefused([refused])
            response = await client.execute_command(b"DATA")
            if response.code != SMTPStatus.start_input:
                raise aiosmtplib.SMTPDataError(response.code, response.message)
            protocol = client.protocol
            if protocol is None:
                raise aiosmtplib.SMTPServerDisconnected("Connection lost")
            try:
                if gate is not None and not gate.done():
                    protocol.write(payload)
                    await asyncio.shield(gate)
                    response = await client.execute_command(b".")
                else:  # nothing to wait for: the data and its end in one write, as sendmail does
                    protocol.write(payload + b".\r\n")
                    response = await _read_response(client, protocol)
            except BaseException:
                # stopped inside the data (cancelled while waiting, or no reply): the server may still be
                # reading this message, so the connection is never used again (what follows would be
                # taken as its data); closed before its end, it delivers nothing
                client.close()
                raise
            if response.code != SMTPStatus.completed:
                raise aiosmtplib.SMTPDataError(response.code, response.message)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
            with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
                await client.rset()
            raise

    def _take_idle(self) -> aiosmtplib.SMTP | None:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
            self._discard(client)
        return None

    def _release(self, client: aiosmtplib.SMTP) -> None:
        if client.is_connected and client in self._clients:
            self._idle.append(client)
        else:
            self._discard(client)

    def _discard(self, client: aiosmtplib.SMTP) -> None:
        client.close()
        self._clients.discard(client)
        if client in self._idle:
            self._idle.remove(client)

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.user,
            password=self._password.get_secret_value() if self.user and self._password else None,
            timeout=self.timeout,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            validate_certs=self.validate_certs,
            tls_context=self.tls_context,
            local_hostname=self.local_hostname,
        )
        await client.connect()
        self._clients.add(client)
        if client.is_ehlo_or_helo_needed:  # as sendmail would before its first message (_transact does not)
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                if not client.is_connected:
                    raise
                await client.helo()
        log.debug("connected to SMTP %s:%s (tls=%s, user=%s)", self.host, self.port, self.tls, self.user)
        return client

    def _scrub(self, error: DeliveryError) -> DeliveryError:
        """Belt and braces: a server echoing the password back must not put it in our records."""
        secret = self._password.get_secret_value() if self._password else ""
        if secret and secret in error.reason:
            error.reason = error.reason.replace(secret, "***")
            error.args = (error.reason,)
        return error


async def _read_response(client: aiosmtplib.SMTP, protocol: Any) -> aiosmtplib.SMTPResponse:
    """The reply to what was just written on ``protocol``, handled as ``SMTP.execute_command`` does."""
    try:
        response: aiosmtplib.SMTPResponse = await protocol.read_response(timeout=client.timeout)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()  # a lost or late reply leaves the connection out of step
        raise
    if response.code == SMTPStatus.domain_unavailable:
        client.close()
    return response


def _connection_went_stale(error: Exception) -> bool:
    if isinstance(error, aiosmtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, aiosmtplib.SMTPResponseException) and error.code == RETRY_ON_FRESH_CONNECTION


def classify(error: BaseException, address: str, server: str = "") -> DeliveryError:
    """Map an aiosmtplib (or network) failure to a transient, permanent or configuration error.

    Every reason is one Vietnamese sentence: network and TLS trouble name ``server`` ("host:port") and the setting
    to check, never aiosmtplib's or the system's English (a server's own reply to a command is kept, with its code).
    """
    where = f" {server}" if server else ""
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        if _is_temporary(error.code):
            return TransientError(f"Máy chủ SMTP tạm thời không đăng nhập được ({error.code})")
        return PermanentError(f"{AUTH_HINT} ({error.code})", config_problem=True)
    if isinstance(error, aiosmtplib.SMTPResponseException) and error.code == AUTH_REQUIRED:
        hint = STARTTLS_REQUIRED_HINT if "STARTTLS" in error.message.upper() else AUTH_REQUIRED_HINT
        return PermanentError(f"{hint} ({error.code})", config_problem=True)
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return _refused(error.recipients[0].code, error.recipients[0].message, address)
    if isinstance(error, aiosmtplib.SMTPRecipientRefused):
        return _refused(error.code, error.message, address)
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        if _is_temporary(error.code):
            return TransientError(f"Máy chủ thư tạm thời từ chối người gửi ({error.code} {error.message})")
        return PermanentError(
            f"Máy chủ thư không cho phép gửi từ {error.sender} ({error.code} {error.message}); "
            "kiểm tra NHACVIEC_SMTP_FROM",
            config_problem=True,
        )
    if isinstance(error, aiosmtplib.SMTPConnectResponseError | aiosmtplib.SMTPHeloError):
        return TransientError(f"Máy chủ thư không nhận kết nối ({error.code} {error.message})")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        if _is_temporary(error.code):
            return TransientError(f"Máy chủ thư tạm thời từ chối thư ({error.code} {error.message})")
        return PermanentError(f"Máy chủ thư từ chối thư gửi {address} ({error.code} {error.message})")
    chain = causes(error, depth=5)  # aiosmtplib wraps the socket's error
    if any(isinstance(one, ssl.SSLCertVerificationError) for one in chain):
        return PermanentError(
            f"Chứng chỉ TLS của máy chủ thư{where} không hợp lệ: kiểm tra NHACVIEC_SMTP_HOST và NHACVIEC_SMTP_TLS",
            config_problem=True,
        )
    if any(isinstance(one, ssl.SSLError) for one in chain):
        return TransientError(
            f"Không bắt tay TLS được với máy chủ thư{where}: kiểm tra NHACVIEC_SMTP_TLS (tls, starttls hoặc none) "
            "và NHACVIEC_SMTP_PORT"
        )
    if any(isinstance(one, socket.gaierror) for one in chain):
        return TransientError(
            f"Không tìm thấy máy chủ thư{where} (tên máy không phân giải được): kiểm tra NHACVIEC_SMTP_HOST và DNS"
        )
    if any(isinstance(one, ConnectionRefusedError) for one in chain):
        return TransientError(
            f"Máy chủ thư{where} từ chối kết nối (cổng đóng hoặc dịch vụ thư chưa chạy): "
            "kiểm tra NHACVIEC_SMTP_HOST và NHACVIEC_SMTP_PORT"
        )
    if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError) or any(
        isinstance(one, TimeoutError) for one in chain
    ):
        return TransientError(
            f"Hết thời gian chờ máy chủ thư{where}: kiểm tra mạng, tường lửa và NHACVIEC_SMTP_PORT"
        )
    if isinstance(error, aiosmtplib.SMTPServerDisconnected) or any(
        isinstance(one, aiosmtplib.SMTPServerDisconnected | ConnectionResetError | BrokenPipeError)
        for one in chain
    ):
        return TransientError(f"Máy chủ thư{where} ngắt kết nối giữa chừng: sẽ thử lại sau")
    if isinstance(error, aiosmtplib.SMTPConnectError | OSError):
        number = next((one.errno for one in chain if isinstance(one, OSError) and one.errno), None)
        code = f" (lỗi mạng số {number})" if number else ""
        return TransientError(
            f"Không kết nối được máy chủ thư{where}{code}: kiểm tra mạng, NHACVIEC_SMTP_HOST và NHACVIEC_SMTP_PORT"
        )
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        text = str(error).upper()
        if "STARTTLS" in text:
            return PermanentError(
                f"Máy chủ thư{where} không hỗ trợ STARTTLS: đặt NHACVIEC_SMTP_TLS=tls hoặc none cho đúng máy chủ",
                config_problem=True,
            )
        if "AUTH" in text:
            return PermanentError(
                f"Máy chủ thư{where} không nhận đăng nhập (AUTH): bỏ NHACVIEC_SMTP_USER hoặc bật mã hóa "
                "(NHACVIEC_SMTP_TLS)",
                config_problem=True,
            )
        return PermanentError(f"Máy chủ thư{where} không hỗ trợ gửi tới địa chỉ {address!r}")
    if isinstance(error, aiosmtplib.SMTPException):
        # What is left happens while setting up the session: STARTTLS or AUTH not offered.
        return PermanentError(
            f"Máy chủ thư{where} không hỗ trợ cấu hình hiện tại: kiểm tra NHACVIEC_SMTP_TLS và NHACVIEC_SMTP_USER",
            config_problem=True,
        )
    if isinstance(error, ValueError):
        return PermanentError(f"Địa chỉ email không hợp lệ: {address!r}")
    return DeliveryError(f"Lỗi không mong đợi khi gửi thư: {type(error).__name__}")


def _is_temporary(code: int) -> bool:
    return 400 <= code < 500


def _refused(code: int, text: str, address: str) -> DeliveryError:
    if _is_temporary(code):
        return TransientError(f"Máy chủ thư tạm thời không nhận thư cho {address} ({code} {text})")
    return PermanentError(f"Máy chủ thư từ chối địa chỉ {address} ({code} {text})")
