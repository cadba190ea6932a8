"""Readiness: `nhacviec doctor` (who each channel reaches, unreachable units and tasks, placeholders, channels
answering, each check bounded) and `run` refusing placeholder addresses in production unless allowed."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_zalo import FakeZalo
from tests.support.smtp_server import running_smtp_server

AT = "2020-12-01 07:30"


def doctor(run_cli: Callable[..., Any], *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("doctor", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def real_tccb(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    """The sample, with TCCB's real contacts imported and a new unit KT that has none."""
    assert run_cli("init").exit_code == 0
    sheet = tmp_path / "danh-ba.csv"
    sheet.write_text(
        "Mã,Đơn vị,Email,Điện thoại,Telegram,Zalo\nTCCB,Phòng Tổ chức cán bộ,tccb@sgddt.hoabinh.gov.vn,091 234 5678,,\n",
        encoding="utf-8",
    )
    assert run_cli("units", "import", str(sheet)).exit_code == 0
    assert run_cli("units", "add", "KT", "Phòng Khảo thí").exit_code == 0


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with running_smtp_server(credentials=("vanphong", "mat-khau-smtp")) as server:
        monkeypatch.setenv("NHACVIEC_SMTP_HOST", server.host)
        monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(server.port))
        monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")
        monkeypatch.setenv("NHACVIEC_SMTP_USER", "vanphong")
        monkeypatch.setenv("NHACVIEC_SMTP_PASSWORD", "mat-khau-smtp")
        yield server


@pytest.mark.slow
def test_doctor_lists_who_is_reached_the_unreachable_units_and_tasks_and_the_placeholders(
    run_cli: Callable[..., Any], real_tccb: None, smtp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeTelegram() as telegram:
        monkeypatch.setenv("NHACVIEC_TELEGRAM_TOKEN", telegram.token)
        monkeypatch.setenv("NHACVIEC_TELEGRAM_API_URL", telegram.url)
        code, report = doctor(run_cli)

    assert code == 1 and not report["ready"] and report["production"]
    channels = {c["channel"]: c for c in report["channels"]}
    assert channels["email"]["answering"] is True and "đăng nhập vanphong" in channels["email"]["detail"]
    assert (
        channels["telegram"]["answering"] is True and "@nhacviec_test_bot" in channels["telegram"]["detail"]
    )
    assert channels["zalo"] == {
        "channel": "zalo",
        "configured": False,
        "answering": None,
        "detail": "Zalo: chưa cấu hình (tin được ghi vào thư mục var/sent).",
    }
    recipients = {r["code"]: r for r in report["recipients"]}
    assert recipients["TCCB"]["reachable"] == ["email"]
    assert recipients["TCCB"]["channels"]["telegram"] == {"address": None, "state": "no_address"}
    assert recipients["TCCB"]["channels"]["zalo"] == {"address": "ZNS 0912345678", "state": "not_configured"}
    assert recipients["KHTC"]["channels"]["email"] == {
        "address": "khtc@nhacviec.example",
        "state": "placeholder",
    }
    assert "KT" in report["unreachable_units"] and "KHTC" in report["unreachable_units"]
    assert "TCCB" not in report["unreachable_units"]
    unreachable_tasks = {t["task"]: t for t in report["unreachable_tasks"]}
    assert "IV.4" not in unreachable_tasks  # TCCB leads it
    assert unreachable_tasks["I.1"]["lead"] and unreachable_tasks["I.1"]["plan"] == "CCHC-2020"
    placeholders = {(p["code"], p["field"]): p for p in report["placeholders"]}
    assert placeholders[("KHTC", "email")] == {
        "code": "KHTC",
        "field": "email",
        "value": "khtc@nhacviec.example",
        "reason": "địa chỉ mẫu của danh bạ mẫu",
    }
    assert ("TCCB", "email") not in placeholders
    assert "mat-khau-smtp" not in json.dumps(report) and telegram.token not in json.dumps(report)


@pytest.mark.slow
def test_a_channel_that_refuses_or_does_not_answer_is_named_within_the_timeout(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("init").exit_code == 0
    silent = socket.socket()  # accepts connections, never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    monkeypatch.setenv("NHACVIEC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(silent.getsockname()[1]))
    monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")
    monkeypatch.setenv("NHACVIEC_CHECK_TIMEOUT_SECONDS", "0.5")
    with FakeTelegram(token="7012345678:AAH3other-Token_not-the-bots-000") as telegram:
        monkeypatch.setenv("NHACVIEC_TELEGRAM_TOKEN", "7012345678:AAH3wrong-Token_for-nhacviec-test0")
        monkeypatch.setenv("NHACVIEC_TELEGRAM_API_URL", telegram.url)
        _, report = doctor(run_cli)
    silent.close()

    channels = {c["channel"]: c for c in report["channels"]}
    assert channels["email"]["answering"] is False
    assert channels["email"]["detail"] == "Email: không trả lời trong 0.5 giây."
    assert channels["telegram"]["answering"] is False
    assert channels["telegram"]["detail"].startswith("Telegram: Telegram từ chối mã bot")
    assert "wrong-Token" not in json.dumps(report)


@pytest.mark.slow
def test_the_zalo_token_is_checked_against_the_oa(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("init").exit_code == 0
    zalo = FakeZalo().start()
    try:
        monkeypatch.setenv("NHACVIEC_ZALO_APP_ID", zalo.app_id)
        monkeypatch.setenv("NHACVIEC_ZALO_SECRET_KEY", zalo.secret_key)
        monkeypatch.setenv("NHACVIEC_ZALO_REFRESH_TOKEN", zalo.issue_refresh_token())
        for name in ("API_URL", "BUSINESS_API_URL", "OAUTH_URL"):
            monkeypatch.setenv(f"NHACVIEC_ZALO_{name}", zalo.url)
        _, report = doctor(run_cli)
        assert zalo.counts["oa_info"] == 1
        zalo.expire_access_tokens()
        _, again = doctor(run_cli)  # an expired access token: refreshed once, then asked again
    finally:
        zalo.stop()
    for checked in (report, again):
        [channel] = [c for c in checked["channels"] if c["channel"] == "zalo"]
        assert channel == {
            "channel": "zalo",
            "configured": True,
            "answering": True,
            "detail": "Zalo: Official Account Sở GD&ĐT (thử).",
        }


def test_doctor_offline_asks_no_channel(run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("init").exit_code == 0
    monkeypatch.setenv("NHACVIEC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NHACVIEC_SMTP_PORT", "1")  # nothing listens there
    code, report = doctor(run_cli, "--offline")
    assert code == 1
    assert report["channels"][0] == {
        "channel": "email",
        "configured": True,
        "answering": None,
        "detail": "Email: đã cấu hình (chưa kiểm tra).",
    }
    human = run_cli("doctor", "--offline")
    assert "Chưa sẵn sàng" in human.stdout and "địa chỉ giữ chỗ" in human.stdout


# --- run refuses placeholders in production ---------------------------------------------------------------


@pytest.mark.slow
def test_run_refuses_placeholder_addresses_in_production_unless_allowed(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NHACVIEC_ALLOW_PLACEHOLDERS")
    assert run_cli("init").exit_code == 0
    with running_smtp_server() as server:
        monkeypatch.setenv("NHACVIEC_SMTP_HOST", server.host)
        monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(server.port))
        monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")

        refused = run_cli("run", "--once", "--at", AT)

        assert refused.exit_code == 1
        assert "Danh bạ còn địa chỉ giữ chỗ" in refused.stderr
        assert "GD Email 'giam-doc@nhacviec.example'" in refused.stderr  # named
        assert "NHACVIEC_ALLOW_PLACEHOLDERS=true" in refused.stderr
        assert server.messages == []
        assert json.loads(run_cli("outbox", "list", "--json").stdout) == []

        monkeypatch.setenv("NHACVIEC_ALLOW_PLACEHOLDERS", "true")  # a demonstration
        allowed = run_cli("run", "--once", "--at", AT)
        assert allowed.exit_code == 0, allowed.stderr
        assert server.messages


@pytest.mark.slow
def test_the_readmes_two_commands_still_run_the_sample_on_a_fresh_machine(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NHACVIEC_ALLOW_PLACEHOLDERS")
    assert run_cli("init").exit_code == 0
    result = run_cli("run", "--once", "--at", AT)  # no channel configured: the file sink, not production
    assert result.exit_code == 0, result.stderr
    assert "tin mới vào hộp thư đi" in result.stdout


@pytest.mark.slow
def test_init_without_the_sample_keeps_the_units_but_none_of_their_placeholder_addresses(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NHACVIEC_ALLOW_PLACEHOLDERS")
    result = run_cli("init", "--no-sample")
    assert result.exit_code == 0 and "bỏ 68 địa chỉ giữ chỗ" in result.stdout
    _, report = doctor(run_cli, "--offline")
    assert report["placeholders"] == []
    assert report["unreachable_units"] == ["VP", "TCCB", "KHTC", "TTRA", "CNTT", "LDS", "PCMNV", "DVTH"]
    monkeypatch.setenv("NHACVIEC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NHACVIEC_SMTP_PORT", "1")
    refused = run_cli("run", "--once", "--at", AT)
    assert "giữ chỗ" not in refused.stderr  # no placeholder left to refuse
