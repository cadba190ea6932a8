"""Manual triggers: `nhacviec remind`, `digest`, `report-request`, through the same outbox as the planner."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from delivery.manual import (
    digest_notifications,
    forced,
    period_for,
    pick_rule,
    reminder_notifications,
    select_tasks,
)
from plan.errors import UserError
from planner.model import StatusChange
from planner.planner import PlannerInput
from rules.model import NotificationKind
from templates.render import Renderer
from tests.support.planning_fixtures import (
    calendar,
    default_rules,
    directory,
    renderer_for,
    sample_tasks,
    simulate,
)
from tests.support.smtp_server import running_smtp_server

TZ = calendar().tz


def _at(day: date, hour: int = 7, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _task(code: str):  # type: ignore[no-untyped-def]
    return next(t for t in sample_tasks() if t.code == code)


REMINDER = pick_rule(default_rules(), NotificationKind.REMINDER)


# -- the pure builders ------------------------------------------------------------------------------------


def test_the_rule_named_reminder_is_used_even_when_another_reminder_rule_comes_first() -> None:
    rules = default_rules()
    recurring = next(r for r in rules if r.id == "recurring-reminder")
    assert pick_rule((recurring, *rules), NotificationKind.REMINDER).id == "reminder"
    assert pick_rule((recurring,), NotificationKind.REMINDER).id == "recurring-reminder"
    assert pick_rule(rules, NotificationKind.DIGEST).id == "weekly-digest"
    with pytest.raises(UserError, match="Chưa có quy tắc loại 'digest'"):
        pick_rule((recurring,), NotificationKind.DIGEST)


def test_a_manual_reminder_reaches_whom_the_planners_reminder_reaches_with_the_same_data() -> None:
    planned = next(
        n for n in simulate(start=date(2020, 12, 1)) if n.rule == "reminder" and n.task == "IV.5"
    )  # 14 working days before 31/12/2020
    [manual] = reminder_notifications([_task("IV.5")], REMINDER, directory(), calendar(), planned.at)
    assert manual.key == f"manual/remind/CCHC-2020:IV.5/{planned.at.date().isoformat()}"
    assert manual.rule == "manual-reminder" and manual.template == "reminder" and manual.level is None
    assert manual.recipients == planned.recipients
    for name in ("due", "working_days_left", "days_left", "task", "day"):
        assert manual.data[name] == planned.data[name], name


def test_an_overdue_task_gets_negative_days_left_and_the_reminder_says_it_is_overdue() -> None:
    moment = _at(date(2020, 12, 3))  # IV.4 was due on Monday 30/11/2020
    [notification] = reminder_notifications([_task("IV.4")], REMINDER, directory(), calendar(), moment)
    assert notification.kind == NotificationKind.REMINDER
    assert (notification.template, notification.level) == ("reminder", None)
    data = notification.data
    assert (data["working_days_left"], data["days_left"]) == (-3, -3)
    assert (data["working_days_overdue"], data["days_overdue"]) == (3, 3)
    assert [(r.code, r.role, r.channel) for r in notification.recipients] == [
        ("TCCB", "to", "email"),
        ("TCCB", "to", "telegram"),
        ("PCMNV", "cc", "email"),
        ("PCMNV", "cc", "telegram"),
        ("DVTH", "cc", "email"),
        ("DVTH", "cc", "telegram"),
    ]
    render = renderer_for(PlannerInput(sample_tasks(), directory()), directory(), Renderer())
    email_ = render(notification, notification.recipients[0])
    assert email_.subject == "[Nhắc việc] Nhiệm vụ IV.4 đã quá hạn 3 ngày làm việc (hạn 30/11/2020)"
    assert "đã quá hạn 3 ngày làm việc (hạn Thứ Hai, 30/11/2020)" in email_.text
    assert "Còn -" not in email_.text
    telegram = render(notification, notification.recipients[1])
    assert "<b>Đã quá hạn 3 ngày làm việc</b>" in (telegram.html or "")


def test_a_task_due_today_is_the_last_working_day_before_the_deadline() -> None:
    moment = _at(date(2020, 11, 30))
    [notification] = reminder_notifications([_task("IV.4")], REMINDER, directory(), calendar(), moment)
    assert (notification.data["working_days_left"], notification.data["days_left"]) == (0, 0)
    render = renderer_for(PlannerInput(sample_tasks(), directory()), directory(), Renderer())
    text = render(notification, notification.recipients[0]).text
    assert "Hôm nay là ngày làm việc cuối cùng trước hạn (Thứ Hai, 30/11/2020)." in text


def test_without_task_or_unit_the_open_tasks_due_within_the_window_or_overdue_are_chosen() -> None:
    tasks = [
        replace(t, changes=(StatusChange(date(2020, 5, 4), "done"),)) if t.code == "IV.3" else t
        for t in sample_tasks()
    ]
    chosen = select_tasks(tasks, directory(), calendar(), REMINDER, date(2020, 6, 1))
    # Overdue on 1/6/2020 and not done; VII.8 (due 30/06) is 21 working days away, beyond the 14 of the rule.
    assert [t.code for t in chosen.tasks] == ["I.1", "I.2", "II.1", "VI.1"]
    later = select_tasks(tasks, directory(), calendar(), REMINDER, date(2020, 6, 10))
    assert "VII.8" in [t.code for t in later.tasks]  # 14 working days before 30/06/2020


def test_forcing_takes_the_first_key_not_in_the_outbox() -> None:
    [notification] = reminder_notifications(
        [_task("IV.5")], REMINDER, directory(), calendar(), _at(date(2020, 12, 21))
    )
    sent = {notification.delivery_key(r) for r in notification.recipients}
    assert forced([notification], lambda keys: sent & set(keys))[0].key == notification.key + "/2"
    assert forced([notification], lambda keys: set())[0].key == notification.key
    sent |= {f"{notification.key}/2|TCCB|email"}
    assert forced([notification], lambda keys: sent & set(keys))[0].key == notification.key + "/3"


def test_the_manual_digest_goes_to_each_deputy_with_the_units_they_supervise_like_the_planners() -> None:
    rule = pick_rule(default_rules(), NotificationKind.DIGEST)
    planned = [n for n in simulate(start=date(2020, 12, 7), end=date(2020, 12, 7)) if n.kind == "digest"]
    manual = digest_notifications(rule, directory(), calendar(), planned[0].at)
    assert [n.key for n in manual] == ["manual/digest/2020-12-07/PGD1", "manual/digest/2020-12-07/PGD2"]
    assert [n.recipients for n in manual] == [n.recipients for n in planned]
    assert [n.data["units"] for n in manual] == [n.data["units"] for n in planned]


def test_a_period_is_read_as_the_office_writes_it_and_due_moves_its_cutoff() -> None:
    assert period_for("Quý I", 2020).cutoff == date(2020, 3, 14)
    assert period_for("Q1", 2020, date(2020, 3, 20)).cutoff == date(2020, 3, 20)
    assert period_for("Q1", 2020, date(2020, 3, 20)).data_from == date(2019, 12, 15)
    adhoc = period_for("adhoc", 2020, date(2020, 6, 15))
    assert (adhoc.code, adhoc.title, adhoc.data_from) == ("adhoc-2020-06-15", "Báo cáo đột xuất", None)
    with pytest.raises(UserError, match="cần ngày chốt số liệu"):
        period_for("adhoc", 2020)
    with pytest.raises(UserError, match="Kỳ báo cáo không hợp lệ: «Q5»"):
        period_for("Q5", 2020)


# -- through the CLI ------------------------------------------------------------------------------------


@pytest.fixture
def cli(run_cli) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    """``run_cli`` on a database with the sample plan loaded."""
    assert run_cli("init").exit_code == 0
    return run_cli


def _outbox(cli: Callable[..., Any]) -> list[dict[str, Any]]:
    return json.loads(cli("outbox", "list", "--json").stdout)


def _sent_emails(tmp_path: Path) -> list[EmailMessage]:
    files = sorted((tmp_path / "var" / "sent").rglob("*.eml"))
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]  # type: ignore[misc]


def test_remind_task_delivers_to_the_lead_and_cc_through_a_real_smtp_server(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    with running_smtp_server() as server:
        monkeypatch.setenv("NHACVIEC_SMTP_HOST", server.host)
        monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(server.port))
        monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")
        result = cli("remind", "--task", "IV.5", "--at", "2020-12-21 07:30")
        assert result.exit_code == 0, result.stderr
        received = list(server.messages)
    assert sorted(r for m in received for r in m.recipients) == [
        "cac-phong-chuyen-mon@nhacviec.example",
        "tccb@nhacviec.example",
    ]
    subjects = {str(m.message["Subject"]) for m in received}
    assert subjects == {"[Nhắc việc] Nhiệm vụ IV.5 còn 8 ngày làm việc đến hạn 31/12/2020"}
    rows = _outbox(cli)
    assert {(m["recipient"], m["role"], m["channel"]) for m in rows} == {
        ("TCCB", "to", "email"),
        ("TCCB", "to", "telegram"),
        ("PCMNV", "cc", "email"),
        ("PCMNV", "cc", "telegram"),
    }
    assert {m["status"] for m in rows if m["channel"] == "email"} == {"sent"}
    assert {m["status"] for m in rows if m["channel"] == "telegram"} == {"written"}  # no bot configured
    assert {m["rule"] for m in rows} == {"manual-reminder"}
    assert {m.message["X-Nhacviec-Key"] for m in received} == {
        "manual/remind/CCHC-2020:IV.5/2020-12-21|TCCB|email",
        "manual/remind/CCHC-2020:IV.5/2020-12-21|PCMNV|email",
    }


def test_the_same_reminder_the_same_day_sends_nothing_and_force_sends_it_again(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = cli("remind", "--task", "IV.4", "--at", "2020-12-01 07:30")
    assert first.exit_code == 0, first.stderr
    assert "6 tin mới" in first.stdout and "ghi ra tệp (chưa cấu hình kênh) 6" in first.stdout
    overdue = [m for m in _sent_emails(tmp_path) if m["To"].addresses[0].addr_spec == "tccb@nhacviec.example"]
    assert [str(m["Subject"]) for m in overdue] == [
        "[Nhắc việc] Nhiệm vụ IV.4 đã quá hạn 1 ngày làm việc (hạn 30/11/2020)"
    ]
    again = cli("remind", "--task", "IV.4", "--at", "2020-12-01 16:00")
    assert again.exit_code == 0, again.stderr
    assert "6 tin đã vào hộp thư đi hôm nay nên không gửi lại (dùng --force để gửi lại)" in again.stdout
    assert len(_outbox(cli)) == 6 and len(_sent_emails(tmp_path)) == 3
    forced_ = cli("remind", "--task", "IV.4", "--at", "2020-12-01 16:00", "--force")
    assert forced_.exit_code == 0, forced_.stderr
    rows = _outbox(cli)
    assert len(rows) == 12 and {m["status"] for m in rows} == {"written"}
    assert "manual/remind/CCHC-2020:IV.4/2020-12-01/2|TCCB|email" in {m["key"] for m in rows}
    assert len(_sent_emails(tmp_path)) == 6
    next_day = cli("remind", "--task", "IV.4", "--at", "2020-12-02 07:30")
    assert "6 tin mới" in next_day.stdout


def test_dry_run_shows_recipients_and_the_first_message_and_writes_nothing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("remind", "--task", "IV.4", "--at", "2020-12-01 07:30", "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for header in ("Kênh", "Người nhận", "Địa chỉ", "Tiêu đề"):
        assert header in out
    for address in (
        "tccb@nhacviec.example",
        "cac-phong-chuyen-mon@nhacviec.example",
        "don-vi-truong-hoc@nhacviec.example",
    ):
        assert address in out
    assert "Kính gửi: Phòng Tổ chức cán bộ" in out  # the first message, rendered
    assert "đã quá hạn 1 ngày làm việc (hạn Thứ Hai, 30/11/2020)" in out
    assert "Chạy thử: không gửi tin nào" in out
    assert _outbox(cli) == []
    assert not (tmp_path / "var" / "sent").exists() or not any((tmp_path / "var" / "sent").rglob("*.*"))


def test_remind_unit_covers_only_the_open_dated_tasks_the_unit_leads(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("tasks", "done", "IV.1", "--at", "2020-11-20").exit_code == 0
    result = cli("remind", "--unit", "Phòng TCCB", "--at", "2020-12-01 07:30")
    assert result.exit_code == 0, result.stderr
    assert "Bỏ qua 1 nhiệm vụ chưa có thời hạn: IV.8." in result.stdout
    rows = _outbox(cli)
    assert len(rows) == 6  # one message per address and channel: TCCB, PCMNV, DVTH, by email and Telegram
    items = [item | {"subject": m["subject"], "channel": m["channel"]} for m in rows for item in m["items"]]
    assert {item["task"] for item in items} == {
        "III.1",
        "III.2",
        "III.3",
        "IV.2",
        "IV.3",
        "IV.4",
        "IV.5",
        "IV.6",
        "IV.7",
    }
    assert {item["recipient"] for item in items if item["role"] == "to"} == {"TCCB"}
    lead = next(m for m in rows if m["recipient"] == "TCCB" and m["channel"] == "email")
    assert lead["kind"] == "bundle"
    assert lead["subject"] == "[Tổng hợp nhắc việc 01/12/2020] 2 nhiệm vụ quá hạn, 7 sắp đến hạn"
    assert [item["task"] for item in lead["items"]][:2] == ["IV.3", "IV.4"]  # the overdue ones first


def test_digest_sends_one_to_each_deputy_once_a_day(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("digest", "--at", "2020-12-07")
    assert result.exit_code == 0, result.stderr
    rows = _outbox(cli)
    assert sorted(m["key"] for m in rows) == [
        "manual/digest/2020-12-07/PGD1|PGD1|email",
        "manual/digest/2020-12-07/PGD2|PGD2|email",
    ]
    assert {m["status"] for m in rows} == {"written"}  # no SMTP server configured: the file sink
    assert sorted(m["To"].addresses[0].addr_spec for m in _sent_emails(tmp_path)) == [
        "pho-giam-doc-1@nhacviec.example",
        "pho-giam-doc-2@nhacviec.example",
    ]
    pgd1 = next(m for m in rows if m["recipient"] == "PGD1")
    assert pgd1["subject"].startswith("[Bản tin tuần] Tình hình nhiệm vụ đến 07/12/2020: 11 quá hạn")
    assert "0 tin mới" in cli("digest", "--at", "2020-12-07 15:00").stdout
    assert "2 tin mới" in cli("digest", "--at", "2020-12-07 15:00", "--force").stdout


def test_report_request_for_q1_2020_reaches_the_reporting_units_with_the_office_in_cc(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from cli.common import today

    result = cli("report-request", "--period", "Q1", "--year", "2020")
    assert result.exit_code == 0, result.stderr
    rows = _outbox(cli)
    key = f"manual/report-request/CCHC-2020:2020-Q1/{today().isoformat()}"
    assert sorted((m["key"], m["role"]) for m in rows) == [
        (f"{key}|DVTH|email", "to"),
        (f"{key}|PCMNV|email", "to"),
        (f"{key}|VP|email", "cc"),
    ]
    assert {m["status"] for m in rows} == {"written"} and {m["period"] for m in rows} == {"2020-Q1"}
    message = next(m for m in _sent_emails(tmp_path) if "don-vi-truong-hoc" in str(m["To"]))
    assert str(message["Subject"]) == (
        "[Báo cáo định kỳ] Đề nghị gửi Báo cáo quý I năm 2020 (chốt số liệu 14/03/2020)"
    )
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "từ 15/12/2019 đến 14/03/2020" in body
    again = cli("report-request", "--period", "Quý I", "--year", "2020")
    assert "3 tin đã vào hộp thư đi hôm nay nên không gửi lại." in again.stdout and len(_outbox(cli)) == 3


def test_an_adhoc_report_request_goes_to_the_units_given_with_the_cutoff_given(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("report-request", "--period", "adhoc", "--due", "15/06/2020", "--units", "Phòng TCCB, KHTC")
    assert result.exit_code == 0, result.stderr
    rows = _outbox(cli)
    assert {(m["recipient"], m["role"]) for m in rows} == {("TCCB", "to"), ("KHTC", "to"), ("VP", "cc")}
    assert {m["period"] for m in rows} == {"2020-adhoc-2020-06-15"}
    assert {m["subject"] for m in rows} == {
        "[Báo cáo định kỳ] Đề nghị gửi Báo cáo đột xuất (chốt số liệu 15/06/2020)"
    }


def test_report_request_dry_run_lists_the_units_and_writes_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("report-request", "--period", "H1", "--year", "2020", "--due", "20/06/2020", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Các phòng chuyên môn, nghiệp vụ Sở" in result.stdout
    assert "Văn phòng Sở (cc)" in result.stdout
    assert "Báo cáo 6 tháng đầu năm 2020 (chốt số liệu 20/06/2020)" in result.stdout
    assert _outbox(cli) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("remind", "--task", "IX.9"), "Không có nhiệm vụ mã 'IX.9'"),
        (("remind", "--unit", "Phòng XYZ"), "Không biết đơn vị 'Phòng XYZ'"),
        (("remind", "--task", "II.2"), "Nhiệm vụ II.2 chưa có thời hạn"),
        (("remind", "--task", "IV.4", "--unit", "TCCB"), "Chọn --task hoặc --unit"),
        (("remind", "--task", "IV.4", "--at", "31/02/2020"), "--at '31/02/2020' không hợp lệ"),
        (("report-request", "--period", "Q5", "--year", "2020"), "Kỳ báo cáo không hợp lệ: «Q5»"),
        (("report-request", "--period", "adhoc"), "cần ngày chốt số liệu: thêm --due NGÀY"),
        (("report-request", "--period", "Q1", "--units", "XYZ"), "--units: Không biết đơn vị 'XYZ'"),
    ],
)
def test_a_users_mistake_is_one_vietnamese_sentence_and_exit_1(
    cli, args: tuple[str, ...], message: str
) -> None:  # type: ignore[no-untyped-def]
    result = cli(*args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert _outbox(cli) == []


def test_a_task_already_done_is_not_reminded(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("tasks", "done", "IV.4", "--at", "2020-11-25").exit_code == 0
    result = cli("remind", "--task", "IV.4", "--at", "2020-12-01")
    assert result.exit_code == 1
    assert "Nhiệm vụ IV.4 đã hoàn thành ngày 25/11/2020, không cần nhắc." in result.stderr
