"""The admin's own pages in a real browser: Upcoming, a rule's form, a manual send that reaches aiosmtpd.

Same set-up as tests/test_browser.py (Debian's Chromium under Playwright, ``nhacviec web`` in its own
process, the real clock), plus an aiosmtpd server on 127.0.0.1 that the web server sends email to.
The sample plan is of 2020, so a task is first extended to a date near today (the server's today, read
from the task's page) for its reminders to show on Upcoming. Each test uses its own task.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support.browser_support import (
    LINK_SECRET,
    PASSWORD,
    PLAN,
    SKIP,
    WEB_SECRET,
    Site,
    cli,
    free_port,
    screenshot_dir,
    shoot,
    sign_in,
    web_server,
)
from tests.support.smtp_server import Received, SmtpTestServer, running_smtp_server

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

TCCB_EMAIL = "tccb@nhacviec.example"  # config/units.yaml: the lead unit of IV.4


@dataclass(frozen=True)
class AdminSite(Site):
    smtp: SmtpTestServer


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminSite]:
    """``nhacviec init`` + an admin account, served by ``nhacviec web`` that sends email to aiosmtpd."""
    shots = screenshot_dir(tmp_path_factory.mktemp("screenshots"))  # read before conftest clears NHACVIEC_*
    folder = tmp_path_factory.mktemp("browser-admin-site")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_smtp_server() as smtp:
        env = {name: value for name, value in os.environ.items() if not name.startswith("NHACVIEC_")}
        env.update(
            NHACVIEC_DATA_DIR=str(folder / "var"),
            NHACVIEC_CONSOLE_SINK="false",
            NHACVIEC_WEB_SECRET=WEB_SECRET,
            NHACVIEC_LINK_SECRET=LINK_SECRET,
            NHACVIEC_BASE_URL=base,
            NHACVIEC_SMTP_HOST=smtp.host,
            NHACVIEC_SMTP_PORT=str(smtp.port),
            NHACVIEC_SMTP_TLS="none",
            COLUMNS="200",
        )
        cli(env, "init")
        cli(env, "users", "add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
        with web_server(env, folder / "web.log", port) as url:
            yield AdminSite(url, env, "", shots, smtp)


def upcoming_rows(page: Any, site: AdminSite, task: str) -> tuple[int, list[str]]:
    """Upcoming's total and the kinds of its rows about ``task``."""
    page.goto(f"{site.base}/upcoming")
    total = int(page.locator("p.count-line").inner_text().split()[0])
    kinds: list[str] = page.locator(f"table.upcoming tr[data-task='{task}']").evaluate_all(
        "rows => rows.map(r => r.dataset.kind)"
    )
    return total, kinds


# --- done tasks leave Upcoming ------------------------------------------------------------------------


def test_a_task_marked_done_disappears_from_upcoming(page: Any, site: AdminSite) -> None:
    sign_in(page, site)
    page.goto(f"{site.base}/tasks/{PLAN}/VII.6")
    today = datetime.strptime(
        page.input_value("form[data-form=done] input[name=on]"), "%d/%m/%Y"
    ).date()  # server's
    extend = page.locator("form[data-form=extended]")
    extend.locator("input[name=to]").fill(f"{today + timedelta(days=10):%d/%m/%Y}")
    extend.locator("input[name=reason]").fill("Chờ số liệu điều tra của tỉnh")
    extend.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == f"{site.base}/tasks/{PLAN}/VII.6?ok=extended"

    total, kinds = upcoming_rows(page, site, "VII.6")
    assert "reminder" in kinds  # due in 10 days: its 3- and 1-working-day reminders fall in the 14 shown
    assert total >= len(kinds)
    shoot(page, site, "upcoming")
    page.locator("table.upcoming tr[data-task='VII.6'] a").first.click()
    page.wait_for_load_state()
    assert page.url == f"{site.base}/tasks/{PLAN}/VII.6"
    done = page.locator("form[data-form=done]")
    done.locator("input[name=note]").fill("Đã nộp phiếu điều tra")
    done.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == f"{site.base}/tasks/{PLAN}/VII.6?ok=done"
    assert page.locator("h1 .badge").inner_text() == "Hoàn thành"

    total_after, kinds_after = upcoming_rows(page, site, "VII.6")
    assert kinds_after == []
    assert total_after == total - len(kinds)


# --- a broken rule ------------------------------------------------------------------------------------


def test_a_broken_rule_shows_the_vietnamese_message_beside_the_field_and_is_not_saved(
    page: Any, site: AdminSite
) -> None:
    stored = cli(site.env, "rules", "show", "reminder")
    assert "- 14\n  - 7\n  - 3\n  - 1\n" in stored
    sign_in(page, site)
    page.goto(f"{site.base}/rules/reminder")
    page.fill("form[data-form=rule] input[name=offsets]", "7, -3")
    page.fill("form[data-form=rule] input[name=send_time]", "25:00")
    page.click("form[data-form=rule] button[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{site.base}/rules/reminder/preview"
    assert page.locator("p.form-error[data-field=offsets]").inner_text() == (
        "số ngày trước hạn không được âm (-3)."
    )
    assert page.locator("p.form-error[data-field=send_time]").inner_text() == (
        "giờ gửi '25:00' không hợp lệ: viết dạng GIỜ:PHÚT, ví dụ 07:30."
    )
    beside = "name => document.querySelector(`input[name=${name}]`).closest('label')"
    beside += ".nextElementSibling.dataset.field"  # the message right after the field's label
    assert page.evaluate(beside, "offsets") == "offsets"
    assert page.evaluate(beside, "send_time") == "send_time"
    assert page.input_value("input[name=offsets]") == "7, -3"  # what was typed is kept
    assert page.locator("form[data-form=confirm]").count() == 0
    shoot(page, site, "rules-reminder-error")
    assert cli(site.env, "rules", "show", "reminder") == stored


# --- a manual reminder --------------------------------------------------------------------------------


def received_about(smtp: SmtpTestServer, task: str, timeout: float = 5.0) -> list[Received]:
    """The messages whose subject names ``task`` (waiting a little: the send ends as the page loads)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in list(smtp.messages) if task in str(m.message["Subject"])]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_manual_reminder_is_previewed_then_sent_to_the_lead_units_mailbox(
    page: Any, site: AdminSite
) -> None:
    sign_in(page, site)
    page.goto(f"{site.base}/manual")
    remind = page.locator("form[action='/manual/preview']").filter(has=page.locator("input[value=remind]"))
    remind.locator("input[name=task]").fill("IV.4")
    remind.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == f"{site.base}/manual/preview"
    assert page.locator("h1").inner_text() == "Xem trước: Nhắc việc"
    lead = page.locator("table.recipients tr[data-recipient=TCCB][data-channel=email]")
    assert lead.count() == 1
    assert TCCB_EMAIL in lead.inner_text()
    assert "IV.4" in lead.locator("td").nth(3).inner_text()
    assert "Chưa gửi tin nào." in page.locator("p.sub").inner_text()
    previewed = page.locator("table.recipients tr[data-channel=email] td:nth-child(3)").all_inner_texts()
    shoot(page, site, "manual-preview")
    assert received_about(site.smtp, "IV.4", timeout=0) == []  # the preview sends nothing

    page.click("form[action='/manual/send'] button[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{site.base}/manual/send"
    assert "tin mới vào hộp thư đi" in page.locator("p.flash").inner_text()
    mails = received_about(site.smtp, "IV.4")
    assert sorted(r for m in mails for r in m.recipients) == sorted(previewed)  # what the preview showed
    to_lead = [m for m in mails if m.recipients == [TCCB_EMAIL]]
    assert len(to_lead) == 1
    assert TCCB_EMAIL in str(to_lead[0].message["To"])
    assert str(to_lead[0].message["X-Nhacviec-Key"]).startswith(f"manual/remind/{PLAN}:IV.4/")
