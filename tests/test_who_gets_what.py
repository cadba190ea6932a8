"""Who gets what (``nhacviec preview``, the web's preview page, the escalation ladder drawn) and honest
outcomes (a message written to the file sink is never "đã gửi"; ``status`` says per channel whether it is
configured and when it last delivered)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.support.web_pages import client_for, text_of


@pytest.fixture
def engine(web_engine: Engine) -> Engine:
    """The sample plan with I.1 and IV.4 done, an admin and a TCCB account (tests/support/web_pages.py)."""
    return web_engine


pytestmark = pytest.mark.slow


def preview(run_cli: Any, *args: str) -> dict[str, Any]:
    result = run_cli("preview", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_preview_shows_the_bundles_each_channel_will_carry_for_a_person(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    data = preview(run_cli, "--person", "GD", "--at", "30/11/2020", "--days", "7")
    assert data["who"] == {"codes": ["GD"], "name": "Giám đốc Sở Nguyễn Văn A"}
    assert (data["from"], data["to"]) == ("2020-11-30", "2020-12-06")
    messages = data["messages"]
    assert messages and {m["recipient"] for m in messages} == {"GD"}
    per_moment = {(m["at"], m["channel"]) for m in messages}
    assert len(per_moment) == len(messages)  # one message per channel and send time
    bundled = [m for m in messages if len(m["items"]) > 1]
    assert bundled and all(m["subject"].startswith("[Tổng hợp nhắc việc") for m in bundled)
    assert {item["kind"] for m in messages for item in m["items"]} == {"escalation"}
    assert set(messages[0]) >= {"at", "channel", "address", "subject", "parts", "items", "text", "status"}
    by_name = preview(run_cli, "--person", "Nguyễn Văn A", "--at", "30/11/2020", "--days", "7")
    assert by_name["messages"] == messages
    text = run_cli("preview", "--person", "GD", "--at", "30/11/2020", "--days", "7").stdout
    assert "Giám đốc Sở Nguyễn Văn A: các tin sẽ nhận, 30/11/2020 đến 06/12/2020" in text
    assert "quá hạn" in text


def test_preview_of_a_unit_and_of_a_units_head_and_what_is_already_in_the_outbox(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    unit = preview(run_cli, "--unit", "Phòng TCCB", "--at", "01/12/2020")
    assert unit["who"]["codes"] == ["TCCB"] and {m["recipient"] for m in unit["messages"]} <= {"TCCB"}
    head = preview(run_cli, "--person", "TCCB", "--at", "01/12/2020")
    assert head["who"]["codes"] == ["TCCB.head"]
    assert [item["task"] for m in head["messages"] for item in m["items"]] == [
        "IV.4",
        "IV.4",
    ]  # email, Telegram
    assert run_cli("run", "--once", "--at", "2020-12-01 07:30").exit_code == 0
    after = preview(run_cli, "--person", "TCCB.head", "--at", "01/12/2020")
    assert after["messages"] == [] and after["already_in_outbox"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Hãy chọn đúng một trong hai: --person"),
        (("--person", "GD", "--unit", "TCCB"), "Hãy chọn đúng một trong hai"),
        (("--person", "Ông Không Có"), "--person: không có người hay đơn vị 'Ông Không Có'"),
        (("--unit", "GD", "--days", "0"), "--unit: không có người hay đơn vị 'GD'"),
        (("--person", "GD", "--days", "100"), "--days phải từ 1 đến 62"),
    ],
)
def test_a_preview_mistake_is_one_vietnamese_sentence(run_cli, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("preview", *args)
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_a_message_written_to_the_file_sink_is_never_said_sent(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    run = run_cli("run", "--once", "--at", "2020-12-01 07:30")
    assert "Gửi: ghi ra tệp (chưa cấu hình kênh)" in run.stdout and "đã gửi" not in run.stdout
    listing = run_cli("outbox", "list").stdout
    assert "ghi ra tệp" in listing and "đã gửi" not in listing
    assert {m["status"] for m in json.loads(run_cli("outbox", "list", "--json").stdout)} == {"written"}
    assert json.loads(run_cli("outbox", "list", "--status", "written", "--json").stdout)
    status = run_cli("status").stdout
    lines = [line for line in status.splitlines() if re.match(r"^(Email|Telegram|Zalo):", line)]
    assert len(lines) == 3
    assert lines[0].startswith("Email: chưa cấu hình, tin chỉ được ghi ra tệp")
    assert "(đặt NHACVIEC_SMTP_HOST để gửi thật); ghi gần nhất 07:30 01/12/2020." in lines[0]
    assert lines[2].endswith("chưa ghi tin nào.")  # no rule sends by Zalo
    assert "đã gửi" not in status
    channels = json.loads(run_cli("status", "--json").stdout)["channels"]
    assert channels["email"]["configured"] is False and channels["email"]["last_sent_at"] is None
    assert channels["email"]["last_written_at"].startswith("2020-12-01T00:30")


def test_status_says_when_a_configured_channel_last_delivered(run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.support.smtp_server import running_smtp_server

    assert run_cli("init").exit_code == 0
    with running_smtp_server() as server:
        monkeypatch.setenv("NHACVIEC_SMTP_HOST", server.host)
        monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(server.port))
        monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")
        assert run_cli("run", "--once", "--at", "2020-12-01 07:30").exit_code == 0
        status = run_cli("status").stdout
    email = next(line for line in status.splitlines() if line.startswith("Email:"))
    assert email == "Email: đã cấu hình; gửi gần nhất 07:30 01/12/2020."
    telegram = next(line for line in status.splitlines() if line.startswith("Telegram:"))
    assert telegram.startswith("Telegram: chưa cấu hình") and "ghi gần nhất 07:30 01/12/2020" in telegram


# -- the web ----------------------------------------------------------------------------------------------


def test_the_web_preview_shows_a_persons_and_a_units_messages(engine: Engine) -> None:
    admin = client_for(engine)
    empty = admin.get("/preview")
    assert empty.status_code == 200 and "Ai nhận gì" in text_of(empty.text)
    page = admin.get("/preview?person=GD&at=30/11/2020&days=7")
    assert page.status_code == 200, text_of(page.text)
    sections = re.findall(r'data-channel="(\w+)" data-items="(\d+)"', page.text)
    assert sections and {channel for channel, _ in sections} == {"email", "telegram"}
    assert any(int(count) > 1 for _, count in sections)
    assert "Giám đốc Sở Nguyễn Văn A" in text_of(page.text)
    unit = admin.get("/preview?unit=TCCB&at=01/12/2020")
    assert unit.status_code == 200 and "Phòng Tổ chức cán bộ" in text_of(unit.text)
    wrong = admin.get("/preview?person=XYZ")
    assert wrong.status_code == 400 and "không có người hay đơn vị 'XYZ'" in text_of(wrong.text)
    assert client_for(engine, "tccb").get("/preview?person=GD").status_code == 403


def test_the_escalation_rule_page_draws_the_ladder_with_names_and_offsets(engine: Engine) -> None:
    admin = client_for(engine)
    page = text_of(admin.get("/rules/escalation").text)  # the first unit with a head: the Office
    assert "+1 ngày làm việc: Chánh Văn phòng Sở Phạm Thị D → +5: Phó Giám đốc Sở Trần Thị B" in page
    tccb = text_of(admin.get("/rules/escalation?unit=TCCB").text)
    assert (
        "+1 ngày làm việc: Trưởng phòng Tổ chức cán bộ Hoàng Văn E → +5: Phó Giám đốc Sở Trần Thị B → "
        "+10: Giám đốc Sở Nguyễn Văn A → mỗi 5 ngày làm việc"
    ) in tccb
    assert "đồng gửi: Văn phòng Sở" in tccb
    assert "Các bậc báo cáo quá hạn" not in text_of(admin.get("/rules/reminder").text)


def test_the_web_outbox_says_written_to_a_file_and_lists_what_a_message_carries(
    engine: Engine, run_cli
) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("run", "--once", "--at", "2020-12-01 07:30").exit_code == 0
    html = client_for(engine).get("/outbox").text
    statuses = re.findall(r'data-status="(\w+)">\s*<td>([^<]+)</td>', html)
    assert statuses and {status for status, _ in statuses} == {"written"}
    assert {label for _, label in statuses} == {"Ghi ra tệp (chưa cấu hình kênh)"}
    assert "quá hạn VII.6" in text_of(html) and "bắt đầu VII.9" in text_of(html)
