"""`nhacviec run --once` end to end: plan the day, fill the outbox, send through the configured channels."""

from __future__ import annotations

import email
import email.policy
import json
import re
from pathlib import Path

import pytest
import yaml

from config import UNITS_FILE
from tests.support.smtp_server import running_smtp_server

pytestmark = pytest.mark.slow

AT = "2020-12-01 07:30"  # IV.4 is one working day overdue; VII.9 starts


def without_office_telegram(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Use a copy of the unit directory in which the Office (VP) has no Telegram chat."""
    units = yaml.safe_load(UNITS_FILE.read_text(encoding="utf-8"))
    for unit in units["units"]:
        if unit["code"] == "VP":
            unit["contacts"]["telegram_chat_id"] = None
    changed = tmp_path / "units.yaml"
    changed.write_text(yaml.safe_dump(units, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("NHACVIEC_UNITS_FILE", str(changed))


def test_without_any_channel_configured_messages_go_to_the_file_sink(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    result = run_cli("run", "--once", "--at", AT)
    assert result.exit_code == 0, result.stderr
    assert "Lượt 01/12/2020 07:30" in result.stdout
    sent = list((tmp_path / "var" / "sent").rglob("*.eml"))
    assert sent, "email messages are written as .eml files"
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sent]
    subjects = [str(m["Subject"]) for m in messages]
    assert any("IV.4" in s and "quá hạn" in s.lower() for s in subjects)
    assert list((tmp_path / "var" / "sent").rglob("*.txt")), "telegram messages are written as .txt files"
    outbox = json.loads(run_cli("outbox", "list", "--json").stdout)
    assert outbox and {m["status"] for m in outbox} == {"written"}  # never "sent": nobody received them
    escalation = next(
        m for m in outbox if m["kind"] == "escalation" and m["channel"] == "email" and m["role"] == "to"
    )
    assert (
        escalation["recipient"] == "TCCB.head" and escalation["task"] == "IV.4" and escalation["level"] == 1
    )


def test_a_second_pass_sends_nothing_again(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    run_cli("run", "--once", "--at", AT)
    before = json.loads(run_cli("outbox", "list", "--json").stdout)
    again = run_cli("run", "--once", "--at", AT)
    assert "0 tin mới" in again.stdout
    assert json.loads(run_cli("outbox", "list", "--json").stdout) == before


def test_run_once_delivers_real_email_through_smtp(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    with running_smtp_server() as server:
        monkeypatch.setenv("NHACVIEC_SMTP_HOST", server.host)
        monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(server.port))
        monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")
        monkeypatch.setenv("NHACVIEC_SMTP_FROM", "Văn phòng Sở GD&ĐT <vanphong@nhacviec.example>")
        result = run_cli("run", "--once", "--at", AT)
        assert result.exit_code == 0, result.stderr
        received = list(server.messages)
    outbox = json.loads(run_cli("outbox", "list", "--json").stdout)
    emails = [m for m in outbox if m["channel"] == "email"]
    assert len(received) == len(emails) > 0
    keys = {m.message["X-Nhacviec-Key"] for m in received}
    assert keys == {m["key"] for m in emails}
    head = next(m for m in received if m.recipients == ["truong-phong-tccb@nhacviec.example"])
    assert "IV.4" in str(head.message["Subject"])
    assert str(head.message["From"]).startswith("Văn phòng Sở GD&ĐT")
    body = head.message.get_body(("plain",)).get_content()
    assert "Trước tháng 12/2020" in body and "30/11/2020" in body
    assert head.message.get_body(("html",)) is not None


def test_a_unit_without_an_address_is_one_configuration_problem_not_a_retry(
    run_cli, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    without_office_telegram(tmp_path, monkeypatch)
    run_cli("init")
    first = run_cli("run", "--once", "--at", AT)
    assert "Cần sửa cấu hình" in first.stdout and "Văn phòng Sở chưa có địa chỉ Telegram" in first.stdout
    skipped = json.loads(run_cli("outbox", "list", "--status", "skipped", "--json").stdout)
    assert (
        skipped
        and {m["recipient"] for m in skipped} == {"VP"}
        and {m["channel"] for m in skipped} == {"telegram"}
    )
    second = run_cli("run", "--once", "--at", "2020-12-02 07:30")
    assert "Cần sửa cấu hình" not in second.stdout  # reported once
    assert all(
        m["attempts"] == 0
        for m in json.loads(run_cli("outbox", "list", "--status", "skipped", "--json").stdout)
    )


def test_outbox_retry_requires_a_key_or_all_failed(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    assert run_cli("outbox", "retry").exit_code == 1
    assert run_cli("outbox", "retry", "khong-co-khoa").exit_code == 1
    assert "0 tin" in run_cli("outbox", "retry", "--all-failed").stdout
    assert run_cli("outbox", "list", "--status", "lost").exit_code == 1


def test_one_pass_reaches_every_real_channel(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from tests.support.fake_telegram import FakeTelegram
    from tests.support.fake_zalo import FakeZalo

    run_cli("init")
    assert run_cli("rules", "set", "escalation", "channels=[email, telegram, zalo]").exit_code == 0
    zalo = FakeZalo().start()
    units = UNITS_FILE.read_text(encoding="utf-8")
    zalo.interact(
        *re.findall(r'zalo_user_id: "([^"]+)"', units)
    )  # every unit follows the OA and wrote lately
    try:
        with FakeTelegram() as telegram, running_smtp_server() as smtp:
            monkeypatch.setenv("NHACVIEC_SMTP_HOST", smtp.host)
            monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(smtp.port))
            monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")
            monkeypatch.setenv("NHACVIEC_TELEGRAM_TOKEN", telegram.token)
            monkeypatch.setenv("NHACVIEC_TELEGRAM_API_URL", telegram.url)
            monkeypatch.setenv("NHACVIEC_ZALO_APP_ID", zalo.app_id)
            monkeypatch.setenv("NHACVIEC_ZALO_SECRET_KEY", zalo.secret_key)
            monkeypatch.setenv("NHACVIEC_ZALO_REFRESH_TOKEN", zalo.issue_refresh_token())
            for name in ("API_URL", "BUSINESS_API_URL", "OAUTH_URL"):
                monkeypatch.setenv(f"NHACVIEC_ZALO_{name}", zalo.url)
            result = run_cli("run", "--once", "--at", AT)
            assert result.exit_code == 0, result.stderr
            emails, telegrams = list(smtp.messages), list(telegram.sent)
        outbox = json.loads(run_cli("outbox", "list", "--json").stdout)
    finally:
        zalo.stop()
    assert {m["status"] for m in outbox} == {"sent"}, [m for m in outbox if m["status"] != "sent"]
    by_channel = {c: [m for m in outbox if m["channel"] == c] for c in ("email", "telegram", "zalo")}
    assert len(emails) == len(by_channel["email"]) > 0
    assert len(telegrams) == len(by_channel["telegram"]) > 0
    assert len(zalo.oa_messages) == len(by_channel["zalo"]) > 0
    head_chat = next(m["address"] for m in by_channel["telegram"] if m["recipient"] == "TCCB.head")
    assert any("IV.4" in t.visible_text for t in telegrams if t.chat_id == head_chat)
    head_zalo = next(m for m in zalo.oa_messages if "IV.4" in m["text"])
    assert len(head_zalo["text"]) <= 2000 and "Trước tháng 12/2020" in head_zalo["text"]


def test_emails_to_the_lead_carry_a_signed_done_link_that_verifies(
    run_cli, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import re
    from datetime import UTC, datetime

    from inbound.links import verify_done_token

    monkeypatch.setenv("NHACVIEC_LINK_SECRET", "bi-mat-ky-lien-ket")
    monkeypatch.setenv("NHACVIEC_BASE_URL", "https://nhacviec.so-gd.example")
    run_cli("init")
    assert run_cli("run", "--once", "--at", "2020-11-27 07:30").exit_code == 0  # IV.4: 1 working day left
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in (tmp_path / "var" / "sent").rglob("*.eml")
    ]
    reminder = next(
        m for m in messages if "IV.4" in str(m["Subject"]) and m["To"].addresses[0].username == "tccb"
    )
    body = reminder.get_body(("plain",)).get_content()
    match = re.search(r"https://nhacviec\.so-gd\.example/done/(\S+)", body)
    assert match, body
    claim = verify_done_token("bi-mat-ky-lien-ket", match.group(1), datetime(2020, 11, 27, tzinfo=UTC))
    assert (claim.plan, claim.task, claim.unit) == ("CCHC-2020", "IV.4", "TCCB")


def test_a_message_skipped_for_want_of_an_address_goes_once_the_address_is_added(
    run_cli, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    without_office_telegram(tmp_path, monkeypatch)
    run_cli("init")
    run_cli("run", "--once", "--at", AT)
    skipped = json.loads(run_cli("outbox", "list", "--status", "skipped", "--json").stdout)
    assert skipped
    assert (
        "0 tin"
        in run_cli("outbox", "retry", skipped[0]["key"]).stderr
        + run_cli("outbox", "retry", "--all-failed").stdout
    )
    added = run_cli("units", "set", "VP", "telegram_chat_id=-1001000000001")  # the admin adds the chat id
    assert added.exit_code == 0, added.stderr
    run_cli("run", "--once", "--at", "2020-12-01 09:00")
    carried_by = {
        item["key"]: message
        for message in json.loads(run_cli("outbox", "list", "--json").stdout)
        for item in message["items"]
    }
    skipped_items = [item["key"] for m in skipped for item in m["items"]]
    assert skipped_items and all(
        carried_by[key]["status"] == "written" and carried_by[key]["address"] for key in skipped_items
    )
    assert json.loads(run_cli("outbox", "list", "--status", "skipped", "--json").stdout) == []
