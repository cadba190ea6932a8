"""The web admin's pages over the sample plan: dashboard, task list and page, forms, the completion link."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from config.settings import Settings
from inbound.links import make_done_token
from store.db import session_scope
from store.models import TaskStatus
from store.tasks import find_task, get_plan, history, mark_done
from tests.support.web_pages import (
    LINK_SECRET,
    NOW,
    PLAN,
    TODAY,
    client_for,
    codes,
    counts,
    csrf_of,
    last_event,
    post_form,
    text_of,
)
from web.app import create_app
from web.config import WebSettings
from web.timeline import CHART_WIDTH, LABEL_WIDTH


@pytest.fixture
def engine(web_engine: Engine) -> Engine:
    """The sample plan with I.1 and IV.4 done, an admin and a TCCB account (tests/support/web_pages.py)."""
    return web_engine


# --- dashboard -----------------------------------------------------------------------------------


def test_dashboard_counts_each_task_once_by_its_status_on_the_fixed_day(engine: Engine) -> None:
    page = client_for(engine).get("/")
    assert page.status_code == 200
    # On 25/11/2020: I.1 and IV.4 done; I.2, II.1, IV.3, VI.1, VI.2, VII.2, VII.8 overdue; VII.6 and VII.7
    # due on 30/11 (within 7 days); II.2 ("Theo Kế hoạch") and IV.8 ("Sau khi ...") need a date.
    assert counts(page.text) == {
        "done": 2,
        "on_track": 22,
        "due_soon": 2,
        "overdue": 7,
        "needs_date": 2,
        "total": 35,
    }


def test_dashboard_shows_progress_per_section_and_per_lead_unit(engine: Engine) -> None:
    page = client_for(engine).get("/").text
    rows = dict(re.findall(r'<tr data-key="([^"]*)">.*?<td class="num">([^<]+)</td>', page, re.DOTALL))
    assert rows["I"] == "1/4 (25%)"
    assert rows["IV"] == "1/8 (13%)"
    assert rows["TCCB"] == "1/11 (9%)"
    assert rows["VP"] == "1/19 (5%)"
    tccb = re.search(r'<tr data-key="TCCB">.*?</tr>', page, re.DOTALL)
    assert tccb is not None
    segments = re.findall(r'class="seg status-(\w+)" x="[\d.]+" y="0" width="([\d.]+)"', tccb.group())
    # TCCB: IV.4 done, IV.3 overdue, IV.8 undated, the other 8 on track: widths in percent of the bar.
    assert segments == [
        ("done", "9.091"),
        ("on_track", "72.727"),
        ("overdue", "9.091"),
        ("needs_date", "9.091"),
    ]


def test_dashboard_timeline_is_an_svg_with_each_window_and_today_marked(engine: Engine) -> None:
    page = client_for(engine).get("/").text
    svg = re.search(r'<svg class="timeline".*?</svg>', page, re.DOTALL)
    assert svg is not None
    month_lines = r'<line class="grid" x1="([\d.]+)"[^>]*></line>\s*<text class="tick"[^>]*>([^<]+)</text>'
    ticks = {label: float(x) for x, label in re.findall(month_lines, svg.group())}
    assert list(ticks) == [f"Tháng {month}" for month in range(1, 13)]
    today = re.search(r'<g class="today" data-day="2020-11-25">\s*<line x1="([\d.]+)"', svg.group())
    assert today is not None
    x = float(today.group(1))
    # 25 November is 24.5 days into November's 30 (the marker is in the middle of its day).
    expected = ticks["Tháng 11"] + 24.5 / 30 * (ticks["Tháng 12"] - ticks["Tháng 11"])
    assert x == pytest.approx(expected, abs=0.05)
    assert "Hôm nay 25/11/2020" in svg.group()
    # I.1 ("Trong tháng 01/2020") spans January: from the chart's left edge to the February tick.
    bar = re.search(
        r'href="/tasks/CCHC-2020/I.1".*?<rect class="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"',
        svg.group(),
        re.DOTALL,
    )
    assert bar is not None
    assert float(bar.group(1)) == LABEL_WIDTH
    assert float(bar.group(1)) + float(bar.group(2)) == pytest.approx(ticks["Tháng 2"], abs=0.05)
    assert ticks["Tháng 2"] == pytest.approx(LABEL_WIDTH + 31 * CHART_WIDTH / 366, abs=0.01)
    # IV.4 ("Trước tháng 12/2020") is a single day: a diamond; II.2 (no date) has no shape.
    assert re.search(
        r'href="/tasks/CCHC-2020/IV.4" class="row status-done">.*?<path class="bar"', svg.group(), re.DOTALL
    )
    ii2 = re.search(r'href="/tasks/CCHC-2020/II.2".*?</a>', svg.group(), re.DOTALL)
    assert ii2 is not None and "<rect" not in ii2.group() and "<path" not in ii2.group()


def test_a_unit_account_sees_the_dashboard_of_its_own_tasks(engine: Engine) -> None:
    page = client_for(engine, "tccb").get("/").text
    assert counts(page) == {
        "done": 1,
        "on_track": 8,
        "due_soon": 0,
        "overdue": 1,
        "needs_date": 1,
        "total": 11,
    }


# --- task list -----------------------------------------------------------------------------------


def test_task_list_filters_by_section_unit_and_status(engine: Engine) -> None:
    client = client_for(engine)
    assert codes(client.get("/tasks?section=V").text) == ["V.1", "V.2"]
    assert codes(client.get("/tasks?unit=TTRA").text) == ["I.3", "VII.5"]
    assert codes(client.get("/tasks?status=overdue").text) == [
        "I.2",
        "II.1",
        "IV.3",
        "VI.1",
        "VI.2",
        "VII.2",
        "VII.8",
    ]
    assert codes(client.get("/tasks?status=due_soon").text) == ["VII.6", "VII.7"]
    assert codes(client.get("/tasks?status=done&section=IV").text) == ["IV.4"]
    assert codes(client.get("/tasks?unit=KHTC&status=overdue").text) == []
    assert len(codes(client.get("/tasks?status=nonsense").text)) == 35


def test_an_unknown_plan_or_task_is_a_vietnamese_404(engine: Engine) -> None:
    client = client_for(engine)
    missing = client.get("/tasks/CCHC-2020/IX.9")
    assert missing.status_code == 404
    assert "Không có nhiệm vụ mã 'IX.9' trong kế hoạch CCHC-2020." in text_of(missing.text)
    assert client.get("/tasks?plan=KH-1999").status_code == 404
    assert client.get("/khong-co").status_code == 404


# --- task page and forms -------------------------------------------------------------------------


def test_task_page_shows_the_phrase_its_dates_units_and_history(engine: Engine) -> None:
    page = text_of(client_for(engine).get("/tasks/CCHC-2020/IV.4").text)
    assert "Thời hạn ghi trong kế hoạch “Trước tháng 12/2020”" in page
    assert "Hạn theo kế hoạch 30/11/2020" in page
    assert "Hoàn thành ngày 24/11/2020" in page
    assert "Đơn vị chủ trì Phòng Tổ chức cán bộ (TCCB)" in page
    assert (
        "Đơn vị phối hợp Các phòng chuyên môn, nghiệp vụ Sở (PCMNV); Các đơn vị, trường học trực thuộc (DVTH)"
        in page
    )
    assert "Tạo từ kế hoạch" in page
    assert "Hoàn thành 24/11/2020" in page and "QĐ số 12" in page
    window = text_of(client_for(engine).get("/tasks/CCHC-2020/VII.7").text)
    assert (
        "“Tháng 11/2020”" in window
        and "Bắt đầu 01/11/2020" in window
        and "Hạn theo kế hoạch 30/11/2020" in window
    )


def test_done_through_the_form_is_recorded_with_the_users_name_via_web(engine: Engine) -> None:
    client = client_for(engine)
    response = post_form(client, "VII.7", "done", on="2020-11-23", note="Báo cáo số 45")
    assert response.status_code == 303 and response.headers["location"] == "/tasks/CCHC-2020/VII.7?ok=done"
    task, event = last_event(engine, "VII.7")
    assert task.status == TaskStatus.DONE and task.done_on == date(2020, 11, 23)
    assert (event.kind, event.actor, event.via, event.note) == ("done", "chanh.vp", "web", "Báo cáo số 45")
    page = text_of(client.get(response.headers["location"]).text)
    assert "Đã ghi nhận nhiệm vụ hoàn thành." in page
    assert "chanh.vp trang quản trị" in page


def test_extend_and_set_due_through_the_forms(engine: Engine) -> None:
    client = client_for(engine)
    assert (
        post_form(client, "VII.7", "extend", to="2020-12-15", reason="Chờ số liệu của các trường").status_code
        == 303
    )
    task, event = last_event(engine, "VII.7")
    assert task.effective_due == date(2020, 12, 15)
    assert (event.kind, event.actor, event.via, event.old_due, event.new_due) == (
        "extended",
        "chanh.vp",
        "web",
        date(2020, 11, 30),
        date(2020, 12, 15),
    )
    assert post_form(client, "II.2", "set-due", due="31/12/2020", note="Theo KH số 7").status_code == 303
    task, event = last_event(engine, "II.2")
    assert task.effective_due == date(2020, 12, 31)
    assert (event.kind, event.actor, event.via, event.note) == ("due_set", "chanh.vp", "web", "Theo KH số 7")
    assert "Hạn đang áp dụng 31/12/2020" in text_of(client.get("/tasks/CCHC-2020/II.2").text)


def test_a_refused_change_is_explained_beside_its_form_and_changes_nothing(engine: Engine) -> None:
    client = client_for(engine)
    response = post_form(client, "VII.7", "extend", to="2020-11-15", reason="Nhầm ngày")
    assert response.status_code == 400
    error = re.search(r'<p class="form-error" role="alert" data-form="extended">([^<]+)</p>', response.text)
    assert error is not None
    assert html.unescape(error.group(1)) == "Ngày gia hạn 15/11/2020 phải sau hạn hiện tại 30/11/2020."
    assert 'value="Nhầm ngày"' in response.text  # what was typed is kept
    task, event = last_event(engine, "VII.7")
    assert task.effective_due == date(2020, 11, 30) and event.kind == "created"
    unreadable = post_form(client, "VII.7", "extend", to="30/02/2020", reason="x")
    assert "Hạn mới '30/02/2020' không hợp lệ" in html.unescape(unreadable.text)
    future = post_form(client, "VII.7", "done", on="2020-12-01")
    assert "Ngày hoàn thành 01/12/2020 không được sau hôm nay (25/11/2020)." in html.unescape(future.text)
    twice = post_form(client, "IV.4", "done")
    assert twice.status_code == 400
    assert "Nhiệm vụ IV.4 đã được đánh dấu hoàn thành ngày 24/11/2020." in html.unescape(twice.text)


def test_a_unit_asks_for_more_time_and_the_admin_reopens_a_task(engine: Engine) -> None:
    unit = client_for(engine, "tccb")
    assert (
        post_form(unit, "IV.5", "request-extension", to="2021-01-31", reason="Chờ Sở Nội vụ").status_code
        == 303
    )
    task, event = last_event(engine, "IV.5")
    assert (event.kind, event.actor, event.via, event.new_due) == (
        "ext_requested",
        "tccb",
        "web",
        date(2021, 1, 31),
    )
    assert task.effective_due == date(2020, 12, 31)  # unchanged until the Office approves
    assert "Đang chờ duyệt đề nghị gia hạn đến 31/01/2021" in text_of(unit.get("/tasks/CCHC-2020/IV.5").text)
    admin = client_for(engine)
    assert post_form(admin, "IV.4", "reopen", note="Đánh dấu nhầm").status_code == 303
    task, event = last_event(engine, "IV.4")
    assert task.status == TaskStatus.OPEN and (event.kind, event.actor) == ("reopened", "chanh.vp")


def test_text_from_the_database_is_escaped(engine: Engine) -> None:
    client = client_for(engine)
    post_form(client, "VII.7", "done", note='<script>alert("x")</script>')
    page = client.get("/tasks/CCHC-2020/VII.7").text
    assert "<script>" not in page and "&lt;script&gt;" in page


# --- the completion link -------------------------------------------------------------------------


def link(task: str = "VII.7", unit: str = "VP", expires: datetime = NOW + timedelta(days=30)) -> str:
    return f"/done/{make_done_token(LINK_SECRET, PLAN, task, unit, expires)}"


def _state(engine: Engine, code: str) -> tuple[str, int]:
    with session_scope(engine) as session:
        task = find_task(session, code, PLAN)
        return task.status, len(history(session, task))


def test_opening_a_completion_link_changes_nothing_and_shows_a_confirm_button(engine: Engine) -> None:
    client = client_for(engine, who=None)
    before = _state(engine, "VII.7")
    for _ in range(3):  # a mail scanner, a link preview, the person
        page = client.get(link())
        assert page.status_code == 200
    assert _state(engine, "VII.7") == before
    text = text_of(page.text)
    assert "Xác nhận hoàn thành nhiệm vụ VII.7" in text and "Đơn vị chủ trì: Văn phòng Sở" in text
    assert "“Tháng 11/2020”" in text
    assert re.search(
        r'<form method="post" action="/done/[\w-]+" class="stack" data-form="confirm">', page.text
    )


def test_confirming_a_completion_link_marks_the_task_done_by_the_unit_via_email_link(engine: Engine) -> None:
    client = client_for(engine, who=None)
    address = link()
    response = client.post(address, data={"csrf": csrf_of(client, address), "note": "Đã nộp báo cáo"})
    assert response.status_code == 303 and response.headers["location"] == f"{address}?ok=1"
    task, event = last_event(engine, "VII.7")
    assert task.status == TaskStatus.DONE and task.done_on == TODAY
    assert (event.kind, event.actor, event.via, event.note) == (
        "done",
        "link:VP",
        "email-link",
        "Đã nộp báo cáo",
    )
    assert "Đã ghi nhận nhiệm vụ VII.7 hoàn thành ngày 25/11/2020." in text_of(
        client.get(f"{address}?ok=1").text
    )
    again = client.post(address, data={"csrf": csrf_of(client, "/login")})
    assert again.status_code == 409
    assert "Nhiệm vụ VII.7 đã được đánh dấu hoàn thành ngày 25/11/2020." in html.unescape(again.text)
    assert _state(engine, "VII.7")[1] == 2


def test_confirming_without_the_forms_csrf_token_changes_nothing(engine: Engine) -> None:
    client = client_for(engine, who=None)
    client.get(link())
    assert client.post(link(), data={}).status_code == 403
    assert _state(engine, "VII.7") == (TaskStatus.OPEN, 1)


def test_an_expired_link_gets_a_clear_page_not_a_traceback(engine: Engine) -> None:
    client = client_for(engine, who=None)
    expired = link(expires=NOW - timedelta(days=1))
    page = client.get(expired)
    assert page.status_code == 410
    assert "Liên kết xác nhận hoàn thành đã hết hạn (ngày 24/11/2020)." in text_of(page.text)
    assert "Traceback" not in page.text
    response = client.post(expired, data={"csrf": csrf_of(client, "/login")})
    assert response.status_code == 410 and _state(engine, "VII.7") == (TaskStatus.OPEN, 1)


@pytest.mark.parametrize("spoil", ["flip", "cut", "other-secret"])
def test_a_tampered_link_gets_a_clear_page(engine: Engine, spoil: str) -> None:
    client = client_for(engine, who=None)
    token = link().removeprefix("/done/")
    if spoil == "flip":
        token = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    elif spoil == "cut":
        token = token[:-5]
    else:
        token = make_done_token(
            "another-installation-secret-abcdef", PLAN, "VII.7", "VP", NOW + timedelta(days=3)
        )
    page = client.get(f"/done/{token}")
    assert page.status_code == 400
    assert "Liên kết xác nhận hoàn thành" in text_of(page.text) and "Traceback" not in page.text
    response = client.post(f"/done/{token}", data={"csrf": csrf_of(client, "/login")})
    assert response.status_code == 400 and _state(engine, "VII.7") == (TaskStatus.OPEN, 1)


def test_a_link_for_a_unit_that_does_not_lead_the_task_is_refused(engine: Engine) -> None:
    page = client_for(engine, who=None).get(link("VII.7", "TCCB"))
    assert page.status_code == 403
    assert "Đơn vị TCCB không còn chủ trì nhiệm vụ VII.7" in text_of(page.text)


def test_a_link_for_a_task_already_done_says_so_without_a_button(engine: Engine) -> None:
    page = client_for(engine, who=None).get(link("IV.4", "TCCB"))
    assert page.status_code == 200
    assert "đã được ghi nhận hoàn thành ngày 24/11/2020" in text_of(page.text)
    assert 'data-form="confirm"' not in page.text


def test_links_without_a_configured_secret_are_explained(engine: Engine) -> None:
    app = create_app(
        Settings(), engine, web_settings=WebSettings(secret=SecretStr("x" * 40)), clock=lambda: NOW
    )
    page = TestClient(app).get(link())
    assert page.status_code == 503
    assert "chưa được cấu hình" in text_of(page.text)


def test_the_cached_plan_follows_every_change_of_status(engine: Engine) -> None:
    from datetime import date as day

    from web.queries import plan_tasks

    with session_scope(engine) as session:
        plan = get_plan(session, None)
        before = {t.code: t for t in plan_tasks(session, plan)}
        assert plan_tasks(session, plan) is plan_tasks(session, plan)  # cached while nothing changes
        mark_done(session, find_task(session, "V.1"), on=day(2020, 11, 20), actor="an", via="web")
    with session_scope(engine) as session:
        after = {t.code: t for t in plan_tasks(session, get_plan(session, None))}
    assert before["V.1"].done_on(day(2020, 12, 1)) is None
    assert after["V.1"].done_on(day(2020, 12, 1)) == day(2020, 11, 20)


# --- paging the task list ------------------------------------------------------------------------


def pager_links(page: str) -> dict[str, str]:
    """The pager's links by their rel (prev/next), entities decoded."""
    return {rel: html.unescape(href) for rel, href in re.findall(r'<a rel="(\w+)" href="([^"]+)"', page)}


def test_task_list_pages_the_rows_after_filtering(engine: Engine) -> None:
    client = client_for(engine)
    everything = codes(client.get("/tasks").text)
    first = client.get("/tasks?per_page=10").text
    last = client.get("/tasks?per_page=10&page=4").text
    assert codes(first) == everything[:10]
    assert codes(last) == everything[30:35] and len(codes(last)) == 5
    assert "Có 35 nhiệm vụ khớp · Trang 1/4 · Trước · Sau" in text_of(first)
    assert "Trang 4/4" in text_of(last)
    assert pager_links(first) == {"next": "/tasks?plan=CCHC-2020&per_page=10&page=2"}
    assert pager_links(last) == {"prev": "/tasks?plan=CCHC-2020&per_page=10&page=3"}


def test_pager_links_keep_the_filters(engine: Engine) -> None:
    client = client_for(engine)
    overdue = client.get("/tasks?status=overdue&per_page=2&page=2").text
    assert codes(overdue) == ["IV.3", "VI.1"]
    assert "Có 7 nhiệm vụ khớp · Trang 2/4" in text_of(overdue)
    assert pager_links(overdue) == {
        "prev": "/tasks?plan=CCHC-2020&status=overdue&per_page=2&page=1",
        "next": "/tasks?plan=CCHC-2020&status=overdue&per_page=2&page=3",
    }
    by_section = client.get("/tasks?section=VII&unit=&status=overdue&per_page=1").text
    assert codes(by_section) == ["VII.2"]
    assert pager_links(by_section) == {
        "next": "/tasks?plan=CCHC-2020&section=VII&status=overdue&per_page=1&page=2"
    }
    two_units = client.get("/tasks?unit=TTRA&per_page=1&page=2").text
    assert codes(two_units) == ["VII.5"]
    assert pager_links(two_units) == {"prev": "/tasks?plan=CCHC-2020&unit=TTRA&per_page=1&page=1"}


def test_a_page_past_the_end_shows_the_last_page(engine: Engine) -> None:
    client = client_for(engine)
    page = client.get("/tasks?per_page=10&page=99").text
    assert codes(page) == codes(client.get("/tasks?per_page=10&page=4").text)
    assert "Trang 4/4" in text_of(page) and "next" not in pager_links(page)


def test_page_size_is_capped_and_one_page_keeps_the_plain_count(engine: Engine) -> None:
    client = client_for(engine)
    page = client.get("/tasks?per_page=100000&page=abc").text
    assert len(codes(page)) == 35
    assert '<p class="count-line">35 nhiệm vụ</p>' in page and pager_links(page) == {}
