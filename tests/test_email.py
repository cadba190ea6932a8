"""The email notifier against a real SMTP server (aiosmtpd on 127.0.0.1): content, pooling, errors, TLS."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import socket
import ssl
import traceback
from collections.abc import Coroutine
from dataclasses import replace
from email.message import EmailMessage, Message
from typing import Any, TypeVar

import pytest

from config.settings import Settings
from notifiers.base import DeliveryError, OutgoingMessage, PermanentError, SendResult, TransientError
from notifiers.email import AUTH_HINT, EmailNotifier, TlsMode, build_email, email_bytes, message_id_for
from tests.support.smtp_server import (
    Certificate,
    SmtpTestServer,
    make_self_signed_certificate,
    running_smtp_server,
)

T = TypeVar("T")
SENDER = "Văn phòng Sở Nội vụ <nhacviec@snv.gov.vn>"
SUBJECT = "Nhắc việc: nộp báo cáo kết quả cải cách hành chính quý I năm 2024 trước ngày 15/3 — Sở Nội vụ"
RECIPIENT = "Phòng Tổ chức cán bộ"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def outgoing(
    key: str = "nhac:42:2024-03-10:tccb",
    *,
    address: str = "tccb@snv.gov.vn",
    html: str | None = "<p>Kính gửi <b>Phòng Tổ chức cán bộ</b>: hạn nộp là <i>15/3/2024</i>.</p>",
) -> OutgoingMessage:
    return OutgoingMessage(
        key=key,
        channel="email",
        address=address,
        recipient_name=RECIPIENT,
        subject=SUBJECT,
        text="Kính gửi Phòng Tổ chức cán bộ,\nhạn nộp báo cáo là ngày 15/3/2024.\n",
        html=html,
    )


def notifier_for(server: SmtpTestServer, **options: Any) -> EmailNotifier:
    options.setdefault("tls", "none")
    options.setdefault("timeout", 5.0)
    return EmailNotifier(host=server.host, port=server.port, sender=SENDER, **options)


async def send_all(notifier: EmailNotifier, messages: list[OutgoingMessage]) -> list[SendResult]:
    async with notifier:
        return list(await asyncio.gather(*(notifier.send(message) for message in messages)))


async def send_one(notifier: EmailNotifier, message: OutgoingMessage) -> SendResult:
    async with notifier:
        return await notifier.send(message)


def content(part: EmailMessage | Message | None) -> str:
    """A text part's decoded content, with the wire's CRLF line ends back to \\n."""
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_self_signed_certificate(tmp_path_factory.mktemp("tls"))


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_vietnamese_subject_and_display_names_decode_to_the_exact_original() -> None:
    with running_smtp_server() as server:
        run(send_one(notifier_for(server), outgoing()))
    received = server.messages[0].message
    assert received["Subject"] == SUBJECT
    assert received["To"].addresses[0].display_name == RECIPIENT
    assert received["To"].addresses[0].addr_spec == "tccb@snv.gov.vn"
    assert received["From"].addresses[0].display_name == "Văn phòng Sở Nội vụ"
    assert received["Date"].datetime is not None
    assert received["Auto-Submitted"] == "auto-generated"
    assert server.messages[0].envelope_from == "nhacviec@snv.gov.vn"
    assert server.messages[0].recipients == ["tccb@snv.gov.vn"]
    headers = server.messages[0].raw.split(b"\r\n\r\n")[0]
    assert headers.isascii() and b"=?utf-8?" in headers  # RFC 2047 encoded words


@pytest.mark.parametrize(
    "name",
    [
        "Trung tâm Phục vụ hành chính công tỉnh — Bộ phận tiếp nhận và trả kết quả",
        "Văn phòng Ủy ban nhân dân tỉnh Thừa Thiên Huế và các đơn vị trực thuộc Sở Nội vụ",
        "Phòng Cải cách hành chính, Sở Nội vụ",
        'Ban Quan ly "Du an" (ASCII, with specials)',
    ],
)
def test_long_or_awkward_display_names_survive_folding_exactly(name: str) -> None:
    message = replace(outgoing(), recipient_name=name, subject=f"{SUBJECT} — {name}")
    wire = email_bytes(build_email(message, f"{name} <nhacviec@snv.gov.vn>"))
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    assert parsed["To"].addresses[0].display_name == name
    assert parsed["From"].addresses[0].display_name == name
    assert parsed["Subject"] == f"{SUBJECT} — {name}"
    assert wire.isascii() and max(len(line) for line in wire.split(b"\r\n")) <= 998


def test_html_message_arrives_as_multipart_alternative_with_both_parts_decoding() -> None:
    with running_smtp_server() as server:
        run(send_one(notifier_for(server), outgoing()))
    received = server.messages[0].message
    assert received.get_content_type() == "multipart/alternative"
    assert content(received.get_body(("plain",))) == outgoing().text
    assert content(received.get_body(("html",))) == f"{outgoing().html}\n"
    assert all(part["Content-Transfer-Encoding"] == "quoted-printable" for part in received.iter_parts())


def test_message_without_html_is_a_single_text_part() -> None:
    with running_smtp_server() as server:
        run(send_one(notifier_for(server), outgoing(html=None)))
    received = server.messages[0].message
    assert received.get_content_type() == "text/plain"
    assert content(received) == outgoing().text


def test_message_id_depends_only_on_the_key_and_is_the_provider_id() -> None:
    messages = [outgoing("nhac:1"), outgoing("nhac:2")]
    with running_smtp_server() as server:
        first = run(send_all(notifier_for(server), messages))
        again = run(send_all(notifier_for(server), [outgoing("nhac:1")]))
    ids = [received.message["Message-ID"] for received in server.messages]
    by_key = {
        received.message["X-Nhacviec-Key"]: received.message["Message-ID"] for received in server.messages
    }
    assert by_key["nhac:1"] == message_id_for("nhac:1", "snv.gov.vn") == again[0].provider_id
    assert by_key["nhac:1"] != by_key["nhac:2"]
    assert sorted(ids) == sorted([by_key["nhac:1"], by_key["nhac:2"], by_key["nhac:1"]])
    assert {result.provider_id for result in first} == {by_key["nhac:1"], by_key["nhac:2"]}
    assert by_key["nhac:1"].endswith("@snv.gov.vn>")


def test_a_concurrent_batch_of_twenty_uses_at_most_pool_size_connections() -> None:
    messages = [outgoing(f"nhac:{i}", address=f"unit{i}@snv.gov.vn") for i in range(20)]
    with running_smtp_server() as server:
        results = run(send_all(notifier_for(server, pool_size=4), messages))
    assert len(server.messages) == 20
    assert 1 <= server.connections <= 4
    assert sorted(received.recipients[0] for received in server.messages) == sorted(
        m.address for m in messages
    )
    assert len({result.provider_id for result in results}) == 20


def test_sequential_sends_share_one_connection() -> None:
    async def sequential(notifier: EmailNotifier) -> None:
        async with notifier:
            for i in range(10):
                await notifier.send(outgoing(f"nhac:{i}"))

    with running_smtp_server() as server:
        run(sequential(notifier_for(server)))
    assert len(server.messages) == 10
    assert server.connections == 1


def test_reconnects_transparently_after_the_server_drops_the_connection() -> None:
    async def send_around_a_drop(notifier: EmailNotifier, server: SmtpTestServer) -> None:
        async with notifier:
            await notifier.send(outgoing("nhac:before"))
            server.drop_connections()
            await notifier.send(outgoing("nhac:after"))

    with running_smtp_server() as server:
        run(send_around_a_drop(notifier_for(server), server))
    assert [received.message["X-Nhacviec-Key"] for received in server.messages] == [
        "nhac:before",
        "nhac:after",
    ]
    assert server.connections == 2


def test_reconnects_after_the_server_closes_an_idle_connection() -> None:
    async def send_with_a_pause(notifier: EmailNotifier) -> None:
        async with notifier:
            await notifier.send(outgoing("nhac:first"))
            await asyncio.sleep(0.7)
            await notifier.send(outgoing("nhac:second"))

    with running_smtp_server(idle_timeout=0.3) as server:
        run(send_with_a_pause(notifier_for(server)))
    assert len(server.messages) == 2
    assert server.connections == 2


def test_a_421_on_a_pooled_connection_is_retried_once_on_a_fresh_connection() -> None:
    async def send_three(notifier: EmailNotifier, server: SmtpTestServer) -> TransientError:
        async with notifier:
            await notifier.send(outgoing("nhac:1"))
            server.fail_next(1, "421 4.3.2 Hệ thống đang khởi động lại")
            await notifier.send(outgoing("nhac:2"))  # 421 on the pooled connection, then delivered
            server.fail_next(2, "421 4.3.2 Hệ thống đang khởi động lại")
            with pytest.raises(TransientError) as still_closing:
                await notifier.send(outgoing("nhac:3"))  # 421 again on the fresh connection: give up
        return still_closing.value

    with running_smtp_server() as server:
        error = run(send_three(notifier_for(server), server))
    assert [received.message["X-Nhacviec-Key"] for received in server.messages] == ["nhac:1", "nhac:2"]
    assert "421" in error.reason
    assert server.connections == 3


def test_rejected_recipient_is_a_permanent_error_and_the_connection_stays_usable() -> None:
    async def send_both(notifier: EmailNotifier) -> PermanentError:
        async with notifier:
            with pytest.raises(PermanentError) as refused:
                await notifier.send(outgoing("nhac:bad", address="khongco@snv.gov.vn"))
            await notifier.send(outgoing("nhac:good"))
        return refused.value

    with running_smtp_server() as server:
        server.reject("khongco@snv.gov.vn")
        error = run(send_both(notifier_for(server)))
    assert error.permanent and not error.config_problem
    assert "khongco@snv.gov.vn" in error.reason and "550" in error.reason
    assert [received.message["X-Nhacviec-Key"] for received in server.messages] == ["nhac:good"]
    assert server.connections == 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("451 4.3.0 Thử lại sau", TransientError),
        ("452 4.3.1 Hết chỗ", TransientError),
        ("554 5.6.0 Nội dung bị từ chối", PermanentError),
    ],
)
def test_data_replies_map_4xx_to_transient_and_5xx_to_permanent(
    reply: str, expected: type[Exception]
) -> None:
    with running_smtp_server() as server:
        server.fail_next(1, reply)
        with pytest.raises(expected) as failure:
            run(send_one(notifier_for(server), outgoing()))
    assert reply[:3] in str(failure.value)
    assert server.messages == []


def test_a_451_is_transient_and_the_next_attempt_is_delivered() -> None:
    async def attempt_twice(notifier: EmailNotifier) -> TransientError:
        async with notifier:
            with pytest.raises(TransientError) as deferred:
                await notifier.send(outgoing())
            await notifier.send(outgoing())
        return deferred.value

    with running_smtp_server() as server:
        server.fail_next(1)
        error = run(attempt_twice(notifier_for(server)))
    assert not error.permanent and "451" in error.reason
    assert len(server.messages) == 1


def test_nothing_listening_is_a_transient_error() -> None:
    notifier = EmailNotifier(host="127.0.0.1", port=free_port(), sender=SENDER, tls="none", timeout=2.0)
    with pytest.raises(TransientError) as failure:
        run(send_one(notifier, outgoing()))
    assert not failure.value.permanent and not failure.value.config_problem


NETWORK_ENGLISH = (
    "Error",
    "Errno",
    "error",
    "Connect call failed",
    "Timed out",
    "on port",
    "refused",
    "Name or service",
    "SSL",
    "certificate verify",
    "not supported",
)


def _vietnamese_with_server(reason: str, server: str) -> None:
    assert server in reason, reason
    assert not [word for word in NETWORK_ENGLISH if word in reason], reason
    assert "NHACVIEC_SMTP_" in reason, reason  # says what to check


def test_a_closed_port_is_one_vietnamese_sentence_naming_host_and_port() -> None:
    port = free_port()
    notifier = EmailNotifier(host="127.0.0.1", port=port, sender=SENDER, tls="none", timeout=2.0)
    with pytest.raises(TransientError) as failure:
        run(send_one(notifier, outgoing()))
    assert "từ chối kết nối" in failure.value.reason
    _vietnamese_with_server(failure.value.reason, f"127.0.0.1:{port}")


def test_a_server_that_never_greets_is_a_vietnamese_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = int(silent.getsockname()[1])
        notifier = EmailNotifier(host="127.0.0.1", port=port, sender=SENDER, tls="none", timeout=0.5)
        with pytest.raises(TransientError) as failure:
            run(send_one(notifier, outgoing()))
    assert "Hết thời gian chờ" in failure.value.reason
    _vietnamese_with_server(failure.value.reason, f"127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("cause", "words", "config_problem"),
    [
        (socket.gaierror(-2, "Name or service not known"), "Không tìm thấy máy chủ thư", False),
        (ConnectionRefusedError(111, "Connect call failed ('10.0.0.1', 25)"), "từ chối kết nối", False),
        (TimeoutError(), "Hết thời gian chờ", False),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "TLS", False),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), "Chứng chỉ TLS", True),
        (OSError(113, "No route to host"), "Không kết nối được máy chủ thư", False),
    ],
)
def test_network_failures_are_each_one_vietnamese_sentence(
    cause: OSError, words: str, config_problem: bool
) -> None:
    import aiosmtplib

    from notifiers.email import classify

    wrapped = aiosmtplib.SMTPConnectError(f"Error connecting to smtp.so.vn on port 25: {cause}")
    wrapped.__cause__ = cause
    error = classify(wrapped, "tccb@so.gov.vn", "smtp.so.vn:25")
    assert words in error.reason and error.config_problem == config_problem
    _vietnamese_with_server(error.reason, "smtp.so.vn:25")


def test_wrong_password_is_a_configuration_problem_that_never_reveals_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = "Mk-bi-mat-7f3Zq9!"
    caplog.set_level(logging.DEBUG, logger="notifiers")
    caplog.set_level(logging.DEBUG, logger="aiosmtplib")
    with running_smtp_server(credentials=("nhacviec", "dung-mat-khau")) as server:
        notifier = notifier_for(server, user="nhacviec", password=password)
        with pytest.raises(PermanentError) as failure:
            run(send_one(notifier, outgoing()))
    error = failure.value
    assert error.config_problem and error.permanent
    assert AUTH_HINT in error.reason and "535" in error.reason
    rendered = [str(error), repr(error), error.reason, repr(notifier), caplog.text]
    rendered.append("".join(traceback.format_exception(error)))
    assert all(password not in text for text in rendered)
    assert "dung-mat-khau" not in caplog.text
    assert server.messages == []


def test_right_credentials_log_in_and_deliver() -> None:
    with running_smtp_server(credentials=("nhacviec", "dung-mat-khau")) as server:
        run(send_one(notifier_for(server, user="nhacviec", password="dung-mat-khau"), outgoing()))
    assert len(server.messages) == 1


def test_server_requiring_login_without_a_configured_user_is_a_configuration_problem() -> None:
    with (
        running_smtp_server(credentials=("nhacviec", "dung-mat-khau")) as server,
        pytest.raises(PermanentError) as failure,
    ):
        run(send_one(notifier_for(server), outgoing()))
    assert failure.value.config_problem
    assert "530" in failure.value.reason and "NHACVIEC_SMTP_USER" in failure.value.reason


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_starttls_and_implicit_tls_deliver_with_a_verified_certificate(
    tls: TlsMode, certificate: Certificate
) -> None:
    credentials = ("nhacviec", "dung-mat-khau")
    with running_smtp_server(tls=tls, certificate=certificate, credentials=credentials) as server:
        notifier = notifier_for(
            server,
            tls=tls,
            tls_context=certificate.client_context(),
            user="nhacviec",
            password="dung-mat-khau",
        )
        run(send_all(notifier, [outgoing(f"nhac:{i}") for i in range(6)]))
    assert len(server.messages) == 6
    assert server.messages[0].message["Subject"] == SUBJECT


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_untrusted_certificate_is_a_configuration_problem_unless_validation_is_off(
    tls: TlsMode, certificate: Certificate
) -> None:
    with running_smtp_server(tls=tls, certificate=certificate) as server:
        with pytest.raises(PermanentError) as failure:
            run(send_one(notifier_for(server, tls=tls), outgoing("nhac:verified")))
        run(send_one(notifier_for(server, tls=tls, validate_certs=False), outgoing("nhac:unverified")))
    assert failure.value.config_problem and "TLS" in failure.value.reason
    assert [received.message["X-Nhacviec-Key"] for received in server.messages] == ["nhac:unverified"]


@pytest.mark.parametrize(
    ("server_tls", "client_tls", "expected"),
    [
        ("starttls", "none", PermanentError),  # 530 "Must issue a STARTTLS command first"
        ("none", "starttls", PermanentError),  # STARTTLS not offered
        ("none", "tls", TransientError),  # TLS handshake against plain SMTP: could be the network, say TLS
    ],
)
def test_tls_mode_mismatch_names_the_tls_setting(
    server_tls: TlsMode, client_tls: TlsMode, expected: type[Exception], certificate: Certificate
) -> None:
    with (
        running_smtp_server(tls=server_tls, certificate=certificate) as server,
        pytest.raises(expected) as failure,
    ):
        run(send_one(notifier_for(server, tls=client_tls, validate_certs=False), outgoing()))
    assert "NHACVIEC_SMTP_TLS" in str(failure.value)
    assert (
        isinstance(failure.value, DeliveryError) and failure.value.config_problem == failure.value.permanent
    )


def test_malformed_address_is_permanent_and_never_reaches_the_server() -> None:
    with running_smtp_server() as server, pytest.raises(PermanentError):
        run(send_one(notifier_for(server), outgoing(address="khong phai dia chi")))
    assert server.connections == 0


@pytest.mark.parametrize(("tls", "port"), [("tls", 465), ("starttls", 587), ("none", 25)])
def test_settings_build_the_notifier_with_the_default_port_of_the_tls_mode(tls: str, port: int) -> None:
    settings = Settings(smtp_host="mail.snv.gov.vn", smtp_tls=tls, smtp_user="u", smtp_password="Mk-bi-mat")  # type: ignore[arg-type]
    notifier = EmailNotifier.from_settings(settings)
    assert (notifier.host, notifier.port, notifier.tls, notifier.user) == ("mail.snv.gov.vn", port, tls, "u")
    assert notifier.sender == "Văn phòng Sở <nhacviec@localhost>"
    assert "Mk-bi-mat" not in repr(notifier)


def test_explicit_port_in_settings_wins() -> None:
    notifier = EmailNotifier.from_settings(Settings(smtp_host="mail", smtp_port=2525, smtp_tls="tls"))
    assert notifier.port == 2525


def test_test_send_to_a_closed_port_says_it_in_vietnamese_on_screen_and_in_the_outbox(
    run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    assert run_cli("init").exit_code == 0
    port = free_port()
    monkeypatch.setenv("NHACVIEC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(port))
    monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")

    result = run_cli("test-send", "--to", "TCCB", "--channel", "email")

    assert result.exit_code == 1
    _vietnamese_with_server(result.stdout + result.stderr, f"127.0.0.1:{port}")
    [row] = [
        m for m in json.loads(run_cli("outbox", "list", "--json").stdout) if m["key"].startswith("test/")
    ]
    _vietnamese_with_server(row["last_error"], f"127.0.0.1:{port}")
