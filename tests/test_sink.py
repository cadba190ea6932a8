"""The file sink (.eml / .txt per message, atomic, idempotent) and the console notifier."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings
from notifiers.base import OutgoingMessage, PermanentError, SendResult
from notifiers.email import message_id_for
from notifiers.sink import ConsoleNotifier, FileSinkNotifier, safe_key

SENT_AT = datetime(2024, 3, 10, 7, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
SUBJECT = "Nhắc việc: nộp báo cáo kết quả cải cách hành chính quý I năm 2024 trước ngày 15/3 — Sở Nội vụ"


def outgoing(
    channel: str = "email", key: str = "nhac:42:2024-03-10:tccb", **changes: object
) -> OutgoingMessage:
    fields: dict[str, object] = {
        "key": key,
        "channel": channel,
        "address": "tccb@snv.gov.vn" if channel == "email" else "-100123456",
        "recipient_name": "Phòng Tổ chức cán bộ",
        "subject": SUBJECT,
        "text": "Kính gửi Phòng Tổ chức cán bộ,\nhạn nộp báo cáo là ngày 15/3/2024.\n",
        "html": "<p>Kính gửi <b>Phòng Tổ chức cán bộ</b></p>",
    }
    fields.update(changes)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def sink(channel: str, directory: Path) -> FileSinkNotifier:
    return FileSinkNotifier(
        channel, directory, sender="Văn phòng Sở Nội vụ <nhacviec@snv.gov.vn>", clock=lambda: SENT_AT
    )


def send(notifier: FileSinkNotifier | ConsoleNotifier, *messages: OutgoingMessage) -> list[SendResult]:
    async def send_all() -> list[SendResult]:
        async with notifier:
            return [await notifier.send(message) for message in messages]

    return asyncio.run(send_all())


def files_under(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())


def test_email_sink_writes_an_eml_that_parses_back_to_the_same_message(tmp_path: Path) -> None:
    [result] = send(sink("email", tmp_path), outgoing())
    path = tmp_path / "2024-03-10" / f"{safe_key('nhac:42:2024-03-10:tccb')}.eml"
    assert result.provider_id == str(path)
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == SUBJECT
    assert parsed["To"].addresses[0].display_name == "Phòng Tổ chức cán bộ"
    assert parsed["Message-ID"] == message_id_for("nhac:42:2024-03-10:tccb", "snv.gov.vn")
    assert parsed["X-Nhacviec-Key"] == "nhac:42:2024-03-10:tccb"
    assert parsed["Date"].datetime == SENT_AT
    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    assert plain.get_content().replace("\r\n", "\n") == outgoing().text
    assert html.get_content().replace("\r\n", "\n") == "<p>Kính gửi <b>Phòng Tổ chức cán bộ</b></p>\n"


def test_email_sink_refuses_an_invalid_address_permanently_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(PermanentError):
        send(sink("email", tmp_path), outgoing(address="khong phai dia chi"))
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
def test_other_channels_get_a_txt_with_a_header_block_and_the_text(channel: str, tmp_path: Path) -> None:
    [result] = send(sink(channel, tmp_path), outgoing(channel, key="nhac-7", extra={"phone": "0912345678"}))
    assert result.provider_id == str(tmp_path / "2024-03-10" / "nhac-7.txt")
    assert (tmp_path / "2024-03-10" / "nhac-7.txt").read_text(encoding="utf-8") == (
        f"Kênh: {channel}\n"
        "Người nhận: Phòng Tổ chức cán bộ\n"
        "Địa chỉ: -100123456\n"
        "Khóa: nhac-7\n"
        f"Tiêu đề: {SUBJECT}\n"
        'Dữ liệu: {"phone": "0912345678"}\n'
        "\n"
        "Kính gửi Phòng Tổ chức cán bộ,\n"
        "hạn nộp báo cáo là ngày 15/3/2024.\n"
    )


def test_the_same_key_twice_leaves_one_file_with_the_latest_content(tmp_path: Path) -> None:
    send(sink("telegram", tmp_path), outgoing("telegram", key="nhac-7", text="bản cũ"))
    send(sink("telegram", tmp_path), outgoing("telegram", key="nhac-7", text="bản mới"))
    assert files_under(tmp_path) == ["2024-03-10/nhac-7.txt"]  # no temporary file left behind either
    assert (tmp_path / "2024-03-10" / "nhac-7.txt").read_text(encoding="utf-8").endswith("\n\nbản mới\n")


def test_keys_that_differ_only_in_unsafe_characters_get_different_files(tmp_path: Path) -> None:
    send(
        sink("zalo", tmp_path),
        outgoing("zalo", key="a/b"),
        outgoing("zalo", key="a:b"),
        outgoing("zalo", key="../x"),
    )
    names = files_under(tmp_path)
    assert len(names) == 3
    assert all(name.startswith("2024-03-10/") and "/" not in name[len("2024-03-10/") :] for name in names)


def test_safe_key_keeps_harmless_keys_and_cleans_and_tags_the_others() -> None:
    assert safe_key("nhac-7_2024.03") == "nhac-7_2024.03"
    cleaned = safe_key("nhac:42:2024-03-10:tccb")
    assert (
        cleaned.startswith("nhac_42_2024-03-10_tccb-")
        and len(cleaned) == len("nhac_42_2024-03-10_tccb-") + 10
    )


def test_settings_put_the_sink_under_the_data_folder(tmp_path: Path) -> None:
    notifier = FileSinkNotifier.from_settings(
        Settings(data_dir=tmp_path, smtp_from="Sở <nv@snv.gov.vn>"), "email"
    )
    assert (notifier.directory, notifier.channel, notifier.sender) == (
        tmp_path / "sent",
        "email",
        "Sở <nv@snv.gov.vn>",
    )


def test_console_shows_channel_recipient_key_subject_and_text() -> None:
    stream = io.StringIO()
    send(ConsoleNotifier(stream), outgoing())
    assert stream.getvalue() == (
        "── email → Phòng Tổ chức cán bộ <tccb@snv.gov.vn> [nhac:42:2024-03-10:tccb]\n"
        f"   {SUBJECT}\n"
        "   Kính gửi Phòng Tổ chức cán bộ,\n"
        "   hạn nộp báo cáo là ngày 15/3/2024.\n"
        "\n"
    )


def test_console_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    send(ConsoleNotifier(), outgoing("zalo"))
    out = capsys.readouterr().out
    assert "── zalo → Phòng Tổ chức cán bộ <-100123456>" in out and SUBJECT in out


def test_console_that_cannot_encode_vietnamese_still_prints() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    send(ConsoleNotifier(stream), outgoing())
    assert raw.getvalue().startswith(b"?? email ? Ph?ng T? ch?c c?n b? <tccb@snv.gov.vn>")
