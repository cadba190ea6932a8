"""The web admin in a real browser: Debian's Chromium (Playwright) against ``nhacviec web`` on 127.0.0.1.

The server is the installed command in its own process, over a database made by ``nhacviec init`` and
``nhacviec users add``, with the real clock (the sample plan is of 2020, so its open tasks are overdue).
Each test uses its own task, so they pass in any order. Screenshots of the main pages go to the pytest
temporary folder, or to NHACVIEC_SCREENSHOT_DIR (e.g. docs/screenshots) when it is set.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from inbound.links import make_done_token
from tests.support.browser_support import (
    LINK_SECRET,
    PLAN,
    SAMPLE_TASKS,
    SKIP,
    Site,
    counts,
    field,
    shoot,
    sign_in,
    unfold,
    vevents,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]


# --- signing in ---------------------------------------------------------------------------------------


def test_signing_in_leads_to_the_dashboard_with_counts_and_the_timeline(page: Any, site: Site) -> None:
    page.goto(f"{site.base}/")
    assert page.url.startswith(f"{site.base}/login?next=")
    assert page.locator("h1").inner_text() == "Đăng nhập"
    shoot(page, site, "login")
    sign_in(page, site)
    assert page.url == f"{site.base}/"
    found = counts(page)
    assert found["total"] == SAMPLE_TASKS
    assert sum(found[s] for s in ("done", "on_track", "due_soon", "overdue", "needs_date")) == SAMPLE_TASKS
    assert found["overdue"] > 0  # a plan of 2020 read today: its open dated tasks are late
    assert page.locator("section.counts .label").first.inner_text() == "Hoàn thành"
    timeline = page.locator("svg")
    assert timeline.count() >= 1
    assert timeline.last.locator("a, rect, path, line").count() > SAMPLE_TASKS // 2
    shoot(page, site, "dashboard")


def test_a_wrong_password_shows_the_vietnamese_error_and_stays_on_the_login_page(
    page: Any, site: Site
) -> None:
    sign_in(page, site, password="khong-dung-mat-khau")
    assert page.url.startswith(f"{site.base}/login")
    assert page.locator("p.form-error").inner_text() == "Tên đăng nhập hoặc mật khẩu không đúng."
    assert page.input_value("input[name=name]") == "admin"
    shoot(page, site, "login-error")


# --- tasks --------------------------------------------------------------------------------------------


def test_marking_iv4_done_through_its_form_changes_its_status(page: Any, site: Site) -> None:
    sign_in(page, site)
    page.goto(f"{site.base}/tasks?plan={PLAN}")
    assert page.locator("p.count-line").inner_text() == f"{SAMPLE_TASKS} nhiệm vụ"
    assert page.locator("table.tasks tbody tr").count() == SAMPLE_TASKS
    shoot(page, site, "tasks")
    page.click("tr[data-code='IV.4'] td.code a")
    assert page.url == f"{site.base}/tasks/{PLAN}/IV.4"
    assert page.locator("h1 .badge").inner_text() == "Quá hạn"
    shoot(page, site, "task")
    form = page.locator("form[data-form=done]")
    form.locator("input[name=on]").fill("2020-11-24")
    form.locator("input[name=note]").fill("Quyết định số 12/QĐ-SGDĐT")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == f"{site.base}/tasks/{PLAN}/IV.4?ok=done"
    assert page.locator("p.flash").inner_text() == "Đã ghi nhận nhiệm vụ hoàn thành."
    assert page.locator("h1 .badge").inner_text() == "Hoàn thành"
    assert field(page, "done_on") == "24/11/2020"
    assert page.locator("form[data-form=done]").count() == 0
    assert page.locator("form[data-form=reopened]").count() == 1
    done_row = page.locator("table.history tr[data-kind=done]")
    assert done_row.locator("td.actor").inner_text() == "admin"
    assert done_row.locator("td.via").get_attribute("data-via") == "web"
    page.goto(f"{site.base}/tasks?plan={PLAN}&status=done")
    assert "IV.4" in page.locator("table.tasks tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.code)"
    )


# --- the completion link ------------------------------------------------------------------------------


def done_link(site: Site, task: str, unit: str, expires_at: datetime) -> str:
    return f"{site.base}/done/{make_done_token(LINK_SECRET, PLAN, task, unit, expires_at)}"


def test_a_completion_link_changes_nothing_until_the_confirm_button_is_pressed(page: Any, site: Site) -> None:
    link = done_link(site, "IV.3", "TCCB", datetime.now(UTC) + timedelta(days=7))
    page.goto(link)
    assert page.locator("h1").inner_text() == "Xác nhận hoàn thành nhiệm vụ IV.3"
    assert page.locator("form[data-form=confirm] button").inner_text() == "Xác nhận đã hoàn thành"
    shoot(page, site, "completion")
    page.goto(link)  # a second visit (a mail scanner, a preview) still changes nothing
    assert page.locator("form[data-form=confirm]").count() == 1
    assert page.locator("[data-result]").count() == 0
    page.fill("form[data-form=confirm] input[name=note]", "Đã nộp báo cáo")
    page.click("form[data-form=confirm] button")
    page.wait_for_load_state()
    assert page.url == f"{link}?ok=1"
    assert (
        page.locator("[data-result=done]")
        .inner_text()
        .startswith("Đã ghi nhận nhiệm vụ IV.3 hoàn thành ngày")
    )
    shoot(page, site, "completion-done")
    page.goto(link)
    assert page.locator("[data-result=already-done]").count() == 1
    assert page.locator("form[data-form=confirm]").count() == 0


def test_an_expired_completion_link_shows_the_clear_page(page: Any, site: Site) -> None:
    link = done_link(site, "I.2", "VP", datetime(2021, 1, 31, tzinfo=UTC))
    response = page.goto(link)
    assert response.status == 410
    assert page.locator("h1").inner_text() == "Liên kết đã hết hạn"
    body = page.locator("body").inner_text()
    assert "Liên kết xác nhận hoàn thành đã hết hạn (ngày 31/01/2021)." in body
    assert page.locator("form[data-form=confirm]").count() == 0
    shoot(page, site, "completion-expired")


# --- the calendar feed --------------------------------------------------------------------------------


def test_a_units_ics_feed_parses_into_its_lead_tasks_with_dates(site: Site) -> None:
    response = httpx.get(f"{site.base}/ics/TCCB.ics", params={"token": site.ics_token}, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    lines = unfold(response.text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    events = vevents(lines)
    assert events, "no VEVENT in the TCCB feed"
    summaries = " ".join(event.get("SUMMARY", "") for event in events)
    assert "IV.3" in summaries and "IV.4" in summaries  # TCCB leads both
    for event in events:
        assert re.fullmatch(r"\d{8}(T\d{6}Z?)?", event["DTSTART"]), event
        assert event["DTSTART"].startswith("2020")
    assert httpx.get(f"{site.base}/ics/TCCB.ics", params={"token": "sai"}, timeout=10).status_code == 404
