"""`nhacviec test-send`: a short test message per channel, put in the outbox and sent through the pipeline."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.smtp_server import running_smtp_server

pytestmark = pytest.mark.slow


def test_a_test_message_goes_through_the_outbox_on_every_channel_with_an_address(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("init").exit_code == 0
    with running_smtp_server() as smtp, FakeTelegram() as telegram:
        monkeypatch.setenv("NHACVIEC_SMTP_HOST", smtp.host)
        monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")
        monkeypatch.setenv("NHACVIEC_TELEGRAM_TOKEN", telegram.token)
        monkeypatch.setenv("NHACVIEC_TELEGRAM_API_URL", telegram.url)

        result = run_cli("test-send", "--to", "TCCB", "--json")

        assert result.exit_code == 0, result.stderr
        outcomes = {r["channel"]: (r["address"], r["outcome"]) for r in json.loads(result.stdout)}
        assert outcomes == {
            "email": ("tccb@nhacviec.example", "sent"),
            "telegram": ("-1001000000002", "sent"),
            "zalo": ("zalo-placeholder-tccb", "written"),  # Zalo not configured: the file sink
        }
        [mail] = smtp.messages
        assert mail.message["Subject"] == "[Nhắc việc] Tin thử"
        [chat] = telegram.messages_to("-1001000000002")
        assert chat.visible_text.startswith("Tin thử của Nhắc việc gửi Phòng Tổ chức cán bộ lúc ")

        again = json.loads(run_cli("test-send", "--to", "TCCB", "--channel", "email", "--json").stdout)
        assert [r["outcome"] for r in again] == ["sent"] and len(smtp.messages) == 2  # a new key each time
    rows = [m for m in json.loads(run_cli("outbox", "list", "--json").stdout) if m["key"].startswith("test/")]
    assert len(rows) == 4


def test_zalo_by_phone_only_and_unknown_recipients_are_refused_with_a_sentence(
    run_cli: Callable[..., Any], tmp_path: Any
) -> None:
    assert run_cli("init").exit_code == 0
    assert run_cli("units", "set", "KHTC", "zalo_user_id=").exit_code == 0

    refused = run_cli("test-send", "--to", "KHTC", "--channel", "zalo")

    assert refused.exit_code == 1
    assert "chỉ có số điện thoại cho Zalo" in refused.stdout and "--channel zalo" in refused.stdout
    unknown = run_cli("test-send", "--to", "XYZ")
    assert unknown.exit_code == 1 and "Không có đơn vị hay lãnh đạo mã 'XYZ'" in unknown.stderr
    head = run_cli("test-send", "--to", "PGD1", "--channel", "telegram")
    assert head.exit_code == 0 and "ghi ra tệp" in head.stdout  # no Telegram configured: written to var/sent
