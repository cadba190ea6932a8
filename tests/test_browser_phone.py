"""Every page at a phone's width (390x844) and a desk's (1366x768) in Debian's Chromium: nothing wider than the window.

The pages are found by following the links of the signed-in admin's pages from the dashboard (one page per
address shape: ``/tasks/*/*`` once, ``/units/*`` once...), so a page added later is walked too. On each,
``document.documentElement.scrollWidth`` must not exceed the viewport's width. At the phone's width the menu is
folded behind its button, opens and closes again. Screenshots of both widths go to NHACVIEC_SCREENSHOT_DIR
(docs/screenshots) when it is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.browser_support import SAMPLE_TASKS, SKIP, Site, chromium_context, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 768}
SKIPPED_PREFIXES = ("/static/", "/ics/", "/done/", "/logout")
DOWNLOADS = (".xlsx", ".png", ".ics")
MAX_PAGES = 60


def shape(path: str) -> str:
    """``/tasks/CCHC-2020/IV.4`` -> ``tasks/*/*``: the pages walked are one per shape."""
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[:1] + ["*"] * (len(parts) - 1))


def walk(page: Any, base: str) -> list[str]:
    """The signed-in pages reachable from the dashboard by links, one per address shape, in the order found."""
    queue = ["/"]
    seen_shapes: set[str] = set()
    found: list[str] = []
    while queue and len(found) < MAX_PAGES:
        path = queue.pop(0)
        key = shape(urlsplit(path).path)
        if key in seen_shapes:
            continue
        seen_shapes.add(key)
        response = page.goto(base + path)
        if response is None or response.status != 200 or not page.url.startswith(base):
            continue
        found.append(path)
        hrefs: list[str] = page.locator("a[href]").evaluate_all(
            "links => links.map(a => new URL(a.getAttribute('href'), location.href).href)"
        )
        for href in hrefs:
            parts = urlsplit(href)
            if (
                f"{parts.scheme}://{parts.netloc}" != base
                or parts.path.startswith(SKIPPED_PREFIXES)
                or parts.path.endswith(DOWNLOADS)
            ):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if shape(parts.path) not in seen_shapes:
                queue.append(target)
    return found


def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its window (0 when it fits)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return max(0, width)


def shot_name(path: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", shape(urlsplit(path).path).replace("*", "x").lower()).strip("-")
    return name or "dashboard"


@pytest.fixture(scope="module", params=["phone", "desk"])
def tab(request: pytest.FixtureRequest, site: Site) -> Iterator[tuple[str, Any]]:
    viewport = PHONE if request.param == "phone" else DESK
    with chromium_context(viewport=viewport) as context:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, site)
        yield request.param, page


def test_every_page_fits_the_window_at_both_widths(tab: tuple[str, Any], site: Site) -> None:
    width, page = tab
    pages = walk(page, site.base)
    assert len(pages) >= 12, pages  # dashboard, tasks, a task, upcoming, outbox, rules, a rule, units...
    too_wide = {}
    for path in pages:
        page.goto(site.base + path)
        if overflow(page):
            too_wide[path] = overflow(page)
        if width == "phone" or path in ("/", "/tasks", "/calendar"):
            page.screenshot(path=str(site.shots / f"{width}-{shot_name(path)}.png"), full_page=True)
    assert too_wide == {}, f"wider than the {width}'s window (px): {too_wide}"


def test_the_menu_folds_on_a_phone_and_opens_and_closes(tab: tuple[str, Any], site: Site) -> None:
    width, page = tab
    page.goto(f"{site.base}/tasks")
    menu = page.locator("header.top nav a[href='/units']")
    toggle = page.locator("header.top label.menu-button")
    if width == "desk":  # the whole menu in one line, no button
        assert menu.is_visible()
        assert not toggle.is_visible()
        return
    assert not menu.is_visible()
    toggle.click()
    assert menu.is_visible()
    page.screenshot(path=str(site.shots / "phone-menu-open.png"))
    assert overflow(page) == 0
    toggle.click()
    assert not menu.is_visible()
    menu_header = page.locator("header.top").bounding_box()
    assert menu_header is not None and menu_header["height"] < 80  # one line, not a tall block


def test_search_without_accents_finds_a_task_and_the_export_downloads_every_task(
    tab: tuple[str, Any], site: Site, tmp_path: Path
) -> None:
    width, page = tab
    page.goto(f"{site.base}/tasks")
    status = page.locator("select[name=status]")
    if width == "phone":  # the other filters fold behind one line until asked for
        assert not status.is_visible()
        page.click("label.more-filters-button")
    assert status.is_visible()
    page.fill("input[name=q]", "boi duong can bo")  # "bồi dưỡng cán bộ", typed without accents
    page.click("form.task-filters button[type=submit]")
    page.wait_for_load_state()
    found = page.locator("table.tasks tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert "IV.4" in found and len(found) < SAMPLE_TASKS
    assert overflow(page) == 0
    page.goto(f"{site.base}/tasks")
    with page.expect_download() as caught:
        page.click("a.export")
    target = tmp_path / f"{width}.xlsx"
    caught.value.save_as(target)
    import openpyxl

    rows = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "STT")
    codes = [r[0] for r in rows[header + 1 :] if r[1]]  # task rows (a section's row has no content cell)
    assert len(codes) == SAMPLE_TASKS and "IV.4" in codes


def test_a_calendar_subscription_follows_an_extension(tab: tuple[str, Any], site: Site) -> None:
    """Made on the page "Theo dõi trên lịch", read by the icalendar package: an extension moves the event."""
    import httpx
    import icalendar

    width, page = tab
    task = "IV.6" if width == "phone" else "IV.7"  # each width its own task (the module's site is shared)
    page.goto(f"{site.base}/subscribe")
    page.select_option("select[name=unit]", "TCCB")
    page.click("form[data-form=subscribe] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("figure.qr svg").count() == 1
    assert overflow(page) == 0
    link = page.input_value("input.feed-link")

    def event() -> Any:
        calendar = icalendar.Calendar.from_ical(httpx.get(link, timeout=10).content)
        return next(e for e in calendar.walk("VEVENT") if f"[{task}]" in str(e["SUMMARY"]))

    before = event()
    page.goto(f"{site.base}/tasks/CCHC-2020/{task}")
    form = page.locator("form[data-form=extended]")
    form.locator("input[name=to]").fill("15/01/2021")
    form.locator("input[name=reason]").fill("Chờ hướng dẫn của Bộ")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    after = event()
    assert str(after["UID"]) == str(before["UID"])
    assert after.decoded("DTSTART").isoformat() == "2021-01-15"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.walk("VALARM")  # the default reminder, 3 working days before


def test_the_reports_preview_fits_the_window_and_offers_both_downloads(
    tab: tuple[str, Any], site: Site
) -> None:
    width, page = tab
    page.goto(f"{site.base}/report?period=H1&at=20/06/2020")
    assert page.locator("h2.report-title").inner_text().startswith("BÁO CÁO")
    assert page.locator("a.button[href*='format=docx']").is_visible()
    assert page.locator("table.report-appendix tbody tr[data-status]").count() == 35
    page.screenshot(path=str(site.shots / f"{width}-report.png"), full_page=False)
    assert overflow(page) == 0, f"the report's preview is wider than the {width}'s window"
