"""The web admin's rules, templates and upcoming-notifications pages over the sample plan."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from store.db import session_scope
from store.models import RuleEvent
from store.rules import get_rule
from tests.support.web_rules import client_for, csrf_of, text_of


@pytest.fixture
def engine(rules_web_engine: Engine) -> Engine:
    """The sample plan, nothing done yet; an admin, a viewer and a TCCB account (tests/support/web_rules.py)."""
    return rules_web_engine


def reminder_form(**changes: object) -> dict[str, object]:
    """The 'reminder' rule's form as the page shows it, with ``changes``."""
    form: dict[str, object] = {
        "title": "Nhắc trước hạn",
        "enabled": "1",
        "channels": ["email", "telegram"],
        "send_time": "",
        "offsets": "14, 7, 3, 1",
        "sections": "",
        "tasks": "",
        "lead_units": "",
        "deadline_kinds": ["date", "window", "unscheduled", "event"],
        "start": "2020-11-05",
        "preview_days": "30",
    }
    return form | changes


def rule_events(engine: Engine) -> list[tuple[str, str, str, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(RuleEvent).order_by(col(RuleEvent.id))).all()
        return [(e.rule_id, e.action, e.actor, e.via) for e in rows if e.action != "created"]


def upcoming_rows(page: str, task: str) -> list[tuple[str, str]]:
    """(day, kind) of each notification about ``task`` on the upcoming page."""
    rows = []
    for day, body in re.findall(
        r'<section class="card" data-day="([\d-]+)">(.*?)</section>', page, re.DOTALL
    ):
        rows += [
            (day, kind) for kind in re.findall(rf'data-kind="(\w+)" data-task="{re.escape(task)}"', body)
        ]
    return rows


# --- rules ---------------------------------------------------------------------------------------


def test_rule_list_shows_title_state_summary_and_channels(engine: Engine) -> None:
    page = client_for(engine, "xem").get("/rules")
    assert page.status_code == 200
    row = re.search(r'<tr data-rule="reminder".*?</tr>', page.text, re.DOTALL)
    assert row is not None
    assert (
        text_of(row.group())
        == "Nhắc trước hạn có trước hạn 14, 7, 3, 1 ngày làm việc Email, Telegram reminder"
    )
    assert "Chỉ quản trị viên mới sửa được." in text_of(page.text)


def test_preview_lists_what_a_change_adds_and_removes_and_saves_nothing(engine: Engine) -> None:
    client = client_for(engine)
    form = reminder_form(offsets="14, 7, 3, 2", tasks="IV.4")
    response = client.post(
        "/rules/reminder/preview", data={"csrf": csrf_of(client, "/rules/reminder"), **form}
    )
    assert response.status_code == 200
    added = re.search(r'<div data-changes="added">(.*?)</div>', response.text, re.DOTALL)
    removed = re.search(r'<div data-changes="removed">(.*?)</div>', response.text, re.DOTALL)
    assert added is not None and removed is not None
    # Only IV.4 (due 30/11/2020) stays reminded; its new reminder 2 working days before replaces the 1-day one.
    assert re.findall(r'data-task="([^"]*)"', added.group(1)) == ["IV.4"]
    assert "26/11/2020" in text_of(added.group(1))
    assert "IV.4" in re.findall(r'data-task="([^"]*)"', removed.group(1))
    assert "27/11/2020" in text_of(removed.group(1))
    assert 'data-form="confirm"' in response.text
    with session_scope(engine) as session:
        assert get_rule(session, "reminder").offsets == (14, 7, 3, 1)
    assert rule_events(engine) == []


def test_confirming_the_preview_saves_the_rule_with_the_users_name(engine: Engine) -> None:
    client = client_for(engine)
    form = reminder_form(offsets="10, 2", send_time="08:15", channels=["email"])
    response = client.post("/rules/reminder/save", data={"csrf": csrf_of(client, "/rules/reminder"), **form})
    assert response.status_code == 303 and response.headers["location"] == "/rules/reminder?ok=saved"
    with session_scope(engine) as session:
        rule = get_rule(session, "reminder")
    assert rule.offsets == (10, 2) and [str(c) for c in rule.channels] == ["email"]
    assert rule.send_time is not None and rule.send_time.strftime("%H:%M") == "08:15"
    assert rule_events(engine) == [("reminder", "updated", "chanh.vp", "web")]
    page = client.get(response.headers["location"]).text
    assert "Đã lưu quy tắc." in page and 'value="10, 2"' in page


def test_the_rule_form_sets_whether_its_messages_are_bundled(engine: Engine) -> None:
    client = client_for(engine)
    assert '<option value="1" selected>Gộp vào tin tổng hợp' in client.get("/rules/reminder").text
    csrf = csrf_of(client, "/rules/reminder")
    client.post("/rules/reminder/save", data={"csrf": csrf, **reminder_form(bundle="0")})
    with session_scope(engine) as session:
        assert get_rule(session, "reminder").bundle is False
    assert '<option value="0" selected>Gửi riêng từng tin' in client.get("/rules/reminder").text
    client.post(
        "/rules/reminder/save", data={"csrf": csrf, **reminder_form(offsets="10, 2")}
    )  # not sent: kept
    with session_scope(engine) as session:
        assert get_rule(session, "reminder").bundle is False
    client.post("/rules/reminder/save", data={"csrf": csrf, **reminder_form(bundle="1")})
    with session_scope(engine) as session:
        assert get_rule(session, "reminder").bundle is True


def test_a_broken_rule_is_explained_beside_each_field_and_changes_nothing(engine: Engine) -> None:
    client = client_for(engine)
    form = reminder_form(offsets="7, bay", send_time="25:00", lead_units="XYZ", channels=[])
    for action in ("preview", "save"):
        response = client.post(
            f"/rules/reminder/{action}", data={"csrf": csrf_of(client, "/rules/reminder"), **form}
        )
        assert response.status_code == 400
        errors = {
            field: html.unescape(message)
            for field, message in re.findall(r'data-field="(\w+)">([^<]+)</p>', response.text)
        }
        assert errors == {
            "offsets": "'bay' không phải số nguyên.",
            "send_time": "giờ gửi '25:00' không hợp lệ: viết dạng GIỜ:PHÚT, ví dụ 07:30.",
            "lead_units": "không có đơn vị mã 'XYZ' trong danh bạ.",
            "channels": "cần ít nhất một kênh gửi (email, telegram, zalo).",
        }
        assert 'value="7, bay"' in response.text  # what was typed is kept
        assert 'data-form="confirm"' not in response.text
    with session_scope(engine) as session:
        assert get_rule(session, "reminder").offsets == (14, 7, 3, 1)
    assert rule_events(engine) == []


def test_a_viewer_reads_rules_but_cannot_post_changes(engine: Engine) -> None:
    viewer = client_for(engine, "xem")
    page = viewer.get("/rules/reminder")
    assert page.status_code == 200 and 'value="14, 7, 3, 1"' in page.text
    assert "Xem trước thay đổi" not in page.text
    csrf = csrf_of(viewer, "/rules/reminder")
    for action in ("preview", "save"):
        response = viewer.post(f"/rules/reminder/{action}", data={"csrf": csrf, **reminder_form(offsets="1")})
        assert response.status_code == 403
        assert "Chỉ quản trị viên mới thay đổi được quy tắc" in text_of(response.text)
    assert rule_events(engine) == []
    assert client_for(engine, "tccb").get("/rules").status_code == 403


# --- upcoming ------------------------------------------------------------------------------------


def test_upcoming_shows_iv4_reminders_until_it_is_marked_done(engine: Engine) -> None:
    client = client_for(engine)
    page = client.get("/upcoming?days=25")
    assert page.status_code == 200
    # IV.4 is due 30/11/2020: reminders 14, 7, 3 and 1 working days before (05/11 to 29/11).
    assert upcoming_rows(page.text, "IV.4") == [
        ("2020-11-10", "reminder"),
        ("2020-11-19", "reminder"),
        ("2020-11-25", "reminder"),
        ("2020-11-27", "reminder"),
    ]
    assert upcoming_rows(client.get("/upcoming").text, "IV.4") == [("2020-11-10", "reminder")]
    tccb = client_for(engine, "tccb").get("/upcoming?days=25").text
    assert len(upcoming_rows(tccb, "IV.4")) == 4 and upcoming_rows(tccb, "VII.7") == []
    done = client.post(
        "/tasks/CCHC-2020/IV.4/done",
        data={"csrf": csrf_of(client, "/tasks/CCHC-2020/IV.4"), "on": "2020-11-05"},
    )
    assert done.status_code == 303
    assert upcoming_rows(client.get("/upcoming?days=25").text, "IV.4") == []


def test_upcoming_filters_by_kind_and_unit(engine: Engine) -> None:
    client = client_for(engine)
    page = client.get("/upcoming?days=30&kind=reminder&unit=TCCB").text
    kinds = set(re.findall(r'<tr data-kind="(\w+)"', page))
    assert kinds == {"reminder"}
    assert ("2020-11-10", "reminder") in upcoming_rows(page, "IV.4")
    # Overdue from 01/12/2020 (the first working day after its due date): only the escalation is left.
    assert upcoming_rows(client.get("/upcoming?days=30&kind=escalation").text, "IV.4") == [
        ("2020-12-01", "escalation")
    ]
    assert upcoming_rows(client.get("/upcoming?days=30&unit=KHTC").text, "IV.4") == []


# --- templates -----------------------------------------------------------------------------------


REMINDER_SUBJECT = "email/reminder.subject.j2"


def _template_post(client: TestClient, action: str, text: str, **fields: str):  # type: ignore[no-untyped-def]
    path = f"/templates-admin/{REMINDER_SUBJECT}"
    return client.post(f"{path}/{action}", data={"csrf": csrf_of(client, path), "text": text, **fields})


def test_template_list_says_overrides_are_disabled_without_a_folder(engine: Engine) -> None:
    page = client_for(engine).get("/templates-admin")
    assert page.status_code == 200
    assert 'data-template="email/reminder.subject.j2"' in page.text
    assert "NHACVIEC_TEMPLATES_DIR" in text_of(page.text)
    assert client_for(engine, "xem").get("/templates-admin").status_code == 403


def test_template_preview_refuses_a_runaway_template_fast_in_vietnamese(
    engine: Engine, tmp_path: Path
) -> None:
    import time

    client = client_for(engine, templates_dir=tmp_path / "mau")
    started = time.monotonic()
    response = _template_post(client, "preview", "Nhắc {{ 'a' * 1000000000 }}", task="IV.4")
    assert time.monotonic() - started < 10
    assert response.status_code == 400
    assert "quá giới hạn 1,000,000" in text_of(response.text)


def test_template_preview_renders_against_a_task_without_saving(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "mau"
    client = client_for(engine, templates_dir=folder)
    response = _template_post(
        client, "preview", "Nhắc hạn {{ task.code }} trước {{ due|vn_date }}", task="IV.4"
    )
    assert response.status_code == 200
    subject = re.search(r'<span class="subject">([^<]*)</span>', response.text)
    assert subject is not None and html.unescape(subject.group(1)) == "Nhắc hạn IV.4 trước 30/11/2020"
    assert not (folder / REMINDER_SUBJECT).exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nhắc {{ task.code }\n", "dòng 1: lỗi cú pháp Jinja"),
        ("Nhắc hạn\n{{ nhiem_vu.code }}", "dòng 2: biến 'nhiem_vu' không có trong dữ liệu của mẫu"),
    ],
)
def test_an_invalid_template_cannot_be_saved(
    engine: Engine, tmp_path: Path, text: str, expected: str
) -> None:
    folder = tmp_path / "mau"
    client = client_for(engine, templates_dir=folder)
    for action in ("preview", "save"):
        response = _template_post(client, action, text)
        assert response.status_code == 400
        assert f"{REMINDER_SUBJECT}, {expected}" in text_of(response.text)
    assert not (folder / REMINDER_SUBJECT).exists()


def test_a_valid_template_is_saved_into_the_override_folder(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "mau"
    client = client_for(engine, templates_dir=folder)
    response = _template_post(client, "save", "Nhắc hạn nhiệm vụ {{ task.code }}")
    assert response.status_code == 303
    assert (folder / REMINDER_SUBJECT).read_text(encoding="utf-8") == "Nhắc hạn nhiệm vụ {{ task.code }}"
    page = client_for(engine).get("/templates-admin/email/reminder.subject.j2")
    assert "đang dùng mẫu có sẵn" in text_of(page.text)  # this client has no override folder
    refused = _template_post(client_for(engine), "save", "Nhắc hạn")
    assert refused.status_code == 400 and "NHACVIEC_TEMPLATES_DIR" in text_of(refused.text)
