"""The month calendar, the extension requests (approve / turn down), a unit's calendar subscription with its
ICS feed (read back by the ``icalendar`` package: an extension moves the event and raises its SEQUENCE), and a
task's page with the messages sent about it and "Gửi nhắc ngay"."""

from __future__ import annotations

import html
import re
from datetime import date
from urllib.parse import urlsplit

import icalendar
import pytest
from sqlalchemy.engine import Engine

from tests.support.web_pages import NOW, PLAN, client_for, csrf_of, last_event, post_form, text_of


@pytest.fixture
def engine(web_engine: Engine) -> Engine:
    """The sample plan with I.1 and IV.4 done, an admin and a TCCB account (tests/support/web_pages.py)."""
    return web_engine


def test_the_month_calendar_puts_each_due_date_on_its_day(engine: Engine) -> None:
    page = client_for(engine).get(f"/calendar?plan={PLAN}&month=2020-12")
    assert page.status_code == 200
    days = dict(
        re.findall(
            r'data-day="(\d{4}-\d{2}-\d{2})"(.*?)(?=<div class="day|</div>\s*</div>\s*{%|$)', page.text, re.S
        )
    )
    dec31 = days["2020-12-31"]
    assert 'data-code="IV.5"' in dec31 and 'data-code="III.1"' in dec31
    assert 'data-code="IV.5"' not in days["2020-12-30"]
    assert "Tháng 12/2020" in text_of(page.text) or "Lịch tháng 12/2020" in text_of(page.text)
    nov = client_for(engine).get(f"/calendar?plan={PLAN}&month=2020-11").text
    assert 'data-code="IV.4"' in nov  # done, still on its day
    assert "Chốt số liệu" in client_for(engine).get(f"/calendar?plan={PLAN}&month=2020-12").text
    assert 'href="/calendar?plan=CCHC-2020&amp;month=2020-11"' in page.text  # the month before
    unit = client_for(engine, "tccb").get(f"/calendar?plan={PLAN}&month=2020-12").text
    assert 'data-code="IV.5"' in unit and 'data-code="VII.5"' not in unit  # a unit sees its own tasks


def test_extension_requests_are_listed_and_approved_or_turned_down(engine: Engine) -> None:
    unit = client_for(engine, "tccb")
    assert (
        post_form(unit, "IV.5", "request-extension", to="31/01/2021", reason="Chờ Sở Nội vụ").status_code
        == 303
    )
    assert (
        post_form(unit, "IV.6", "request-extension", to="15/01/2021", reason="Thiếu kinh phí").status_code
        == 303
    )
    admin = client_for(engine)
    page = admin.get("/extensions")
    shown = text_of(page.text)
    assert "2 đề nghị đang chờ duyệt" in shown and "Chờ Sở Nội vụ" in shown and "31/01/2021" in shown
    csrf = csrf_of(admin, "/extensions")
    done = admin.post(f"/extensions/{PLAN}/IV.5/approve", data={"csrf": csrf, "to": ""})
    assert done.status_code == 303
    task, event = last_event(engine, "IV.5")
    assert task.effective_due == date(2021, 1, 31) and (event.kind, event.via) == ("extended", "web")
    refused = admin.post(f"/extensions/{PLAN}/IV.6/reject", data={"csrf": csrf, "reason": ""})
    assert refused.status_code == 400 and "lý do" in text_of(refused.text)
    assert (
        admin.post(
            f"/extensions/{PLAN}/IV.6/reject", data={"csrf": csrf, "reason": "Không đủ căn cứ"}
        ).status_code
        == 303
    )
    task, event = last_event(engine, "IV.6")
    assert event.kind == "ext_rejected" and task.effective_due == date(2020, 12, 31)
    assert "Không có đề nghị gia hạn nào đang chờ duyệt." in text_of(admin.get("/extensions").text)
    assert (
        unit.post(f"/extensions/{PLAN}/IV.5/approve", data={"csrf": csrf_of(unit, "/extensions")}).status_code
        == 403
    )


def _subscribe(client, unit: str, alarm: str = "3") -> str:  # type: ignore[no-untyped-def]
    page = client.post(
        "/subscribe", data={"csrf": csrf_of(client, "/subscribe"), "unit": unit, "alarm": alarm}
    )
    assert page.status_code == 200, text_of(page.text)
    assert (
        "<svg" in page.text and "data:image/png;base64," in page.text
    )  # the QR code, inline and to download
    link = re.search(r'class="feed-link" type="text" readonly value="([^"]+)"', page.text)
    assert link
    return html.unescape(link.group(1))


def _events(client, link: str, unit: str = "TCCB") -> dict[str, icalendar.Event]:  # type: ignore[no-untyped-def]
    parts = urlsplit(link)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == f"Hạn việc {unit} 2020"
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_a_units_feed_moves_an_extended_event_and_raises_its_sequence(engine: Engine) -> None:
    unit = client_for(engine, "tccb")
    link = _subscribe(unit, "TCCB")
    assert link.startswith("http") and "/ics/TCCB.ics?token=" in link
    before = _events(unit, link)
    iv5 = before["CCHC-2020-IV.5@nhacviec"]
    assert iv5.decoded("DTSTART") == date(2020, 12, 31)
    alarm = iv5.walk("VALARM")[0]
    trigger = alarm.decoded("TRIGGER")
    assert trigger.date() == date(2020, 12, 28) and trigger.astimezone(NOW.tzinfo).hour == 7  # 3 working days
    admin = client_for(engine)
    post_form(admin, "IV.5", "extend", to="20/01/2021", reason="Chờ UBND tỉnh")
    after = _events(unit, link)
    moved = after["CCHC-2020-IV.5@nhacviec"]
    assert moved.decoded("DTSTART") == date(2021, 1, 20)
    assert int(moved["SEQUENCE"]) > int(iv5["SEQUENCE"])
    assert moved.decoded("LAST-MODIFIED") >= iv5.decoded("LAST-MODIFIED")
    assert all("(phối hợp)" not in str(e["SUMMARY"]) for e in after.values())  # TCCB coordinates nothing
    other = {"csrf": csrf_of(unit, "/subscribe"), "unit": "KHTC", "alarm": "3"}
    assert unit.post("/subscribe", data=other).status_code == 400  # a unit makes its own link only


def test_a_units_feed_has_the_tasks_it_coordinates_marked(engine: Engine) -> None:
    admin = client_for(engine)
    events = _events(admin, _subscribe(admin, "PCMNV"), "PCMNV")  # the departments coordinate 32 tasks
    assert len(events) == 30  # II.2 and IV.8 have no date yet
    for event in events.values():
        assert "(phối hợp)" in str(event["SUMMARY"])
        assert "Phối hợp" in event.get("CATEGORIES").cats
        assert "Đơn vị phối hợp thực hiện" in str(event["DESCRIPTION"])


def test_a_unit_may_choose_its_reminder_or_none(engine: Engine) -> None:
    admin = client_for(engine)
    none = _events(admin, _subscribe(admin, "TCCB", alarm="0"))
    assert all(not e.walk("VALARM") for e in none.values())
    week = _events(admin, _subscribe(admin, "TCCB", alarm="5"))
    trigger = week["CCHC-2020-IV.5@nhacviec"].walk("VALARM")[0].decoded("TRIGGER")
    assert trigger.date() == date(2020, 12, 24)  # 5 working days before Thursday 31/12/2020


def test_a_task_page_lists_its_messages_and_offers_to_remind_now(engine: Engine, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("remind", "--task", "IV.5", "--at", "25/11/2020").exit_code == 0
    admin = client_for(engine)
    page = admin.get(f"/tasks/{PLAN}/IV.5").text
    shown = text_of(page)
    assert "Tin đã gửi về nhiệm vụ này" in shown
    assert re.search(r'<tr data-status="\w+">', page)
    assert 'action="/manual/preview"' in page and 'name="task" value="IV.5"' in page
    form = {"csrf": csrf_of(admin, f"/tasks/{PLAN}/IV.5"), "kind": "remind", "task": "IV.5"}
    preview = admin.post("/manual/preview", data=form)
    assert preview.status_code == 200 and "Xem trước" in text_of(preview.text)
    unit = client_for(engine, "tccb").get(f"/tasks/{PLAN}/IV.5").text
    assert "Tin đã gửi về nhiệm vụ này" not in unit and 'action="/manual/preview"' not in unit


def test_a_date_that_cannot_be_read_is_explained_with_an_example_of_the_plans_year(engine: Engine) -> None:
    page = post_form(client_for(engine), "IV.5", "extend", to="mai", reason="Chờ UBND")
    assert page.status_code == 400
    assert (
        "Hạn mới 'mai' không hợp lệ: hãy viết dạng NGÀY/THÁNG/NĂM (31/03/2020) hoặc 2020-03-31."
        in text_of(page.text)
    )
