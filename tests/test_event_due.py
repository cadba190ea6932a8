"""Event-relative deadlines get their due date from the event's date (`tasks set-due CODE --event DATE`, the
web's "Ngày xảy ra sự kiện"): calendar days, working days of the office's calendar, months; a day off moves
the date as it moves any due date; the history keeps both dates; reminders and escalations follow it; a
phrase that is not event-relative is refused. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from plan.deadline import EventOffset, parse_deadline
from plan.model import RawPlan, RawSection, RawTask
from planner.calendar import DEFAULT_CALENDAR_FILE, load_calendar
from planner.event_due import due_after_event
from tests.support.plan_files import write_docx

SET_ON = date(2026, 8, 20)  # the day the Office types the event's date


def _task(code: str, deadline: str) -> RawTask:
    return RawTask(
        code=code,
        section="I",
        content=f"Nhiệm vụ {code} theo văn bản của cấp trên.",
        products=("Báo cáo",),
        lead=("Văn phòng Sở",),
        coordinating=(),
        deadline=deadline,
    )


EVENT_PLAN = RawPlan(
    file="ke-hoach-su-kien.docx",
    title="Kế hoạch công tác năm 2026",
    year=2026,
    sections=[RawSection("I", "Công tác chỉ đạo")],
    tasks=[
        _task("I.1", "Trong 30 ngày kể từ khi có văn bản của Bộ"),
        _task("I.2", "Trong vòng 15 ngày làm việc kể từ khi nhận được hồ sơ"),
        _task("I.3", "Trong 2 tháng kể từ ngày Luật có hiệu lực"),
        _task("I.4", "Theo Kế hoạch"),
        _task("I.5", "Sau khi có văn bản hướng dẫn của Bộ"),
        _task("I.6", "Chậm nhất 5 ngày trước khi tổ chức hội nghị"),
        _task("I.7", "Trước 30/9/2026"),
    ],
)


@pytest.fixture
def cli(run_cli, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    monkeypatch.setattr("cli.tasks.today", lambda: SET_ON)
    assert run_cli("init", "--no-sample").exit_code == 0
    path = write_docx(EVENT_PLAN, tmp_path / "ke-hoach-su-kien.docx")
    result = run_cli("plan", "import", str(path), "--plan", "SK-2026")
    assert result.exit_code == 0, result.stderr
    return run_cli


def _show(cli, code: str) -> dict:  # type: ignore[no-untyped-def]
    result = cli("tasks", "show", code, "--json", "--at", "20/08/2026")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _listed(cli, at: str = "20/08/2026") -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {t["code"]: t for t in json.loads(cli("tasks", "list", "--json", "--at", at).stdout)}


def test_calendar_days_from_the_event_and_the_history_keeps_both_dates(cli) -> None:  # type: ignore[no-untyped-def]
    assert _show(cli, "I.1")["due"] is None
    result = cli("tasks", "set-due", "I.1", "--event", "05/09/2026", "--note", "CV số 12/BGDĐT")
    assert result.exit_code == 0, result.stderr
    # 05/09 + 30 days = Monday 05/10/2026
    assert "Đã đặt hạn I.1: 05/10/2026 (30 ngày sau sự kiện ngày 05/09/2026)." in result.stdout
    shown = _show(cli, "I.1")
    assert shown["due"] == shown["due_as_written"] == "2026-10-05"
    assert shown["event"] == {
        "date": "2026-09-05",
        "due": "2026-10-05",
        "offset": {"amount": 30, "unit": "day"},
    }
    last = shown["history"][-1]
    assert last["kind"] == "due_set" and last["event_on"] == "2026-09-05" and last["new_due"] == "2026-10-05"
    assert last["note"] == "CV số 12/BGDĐT" and last["effective_on"] == "2026-08-20"
    text = cli("tasks", "show", "I.1", "--at", "20/08/2026").stdout
    assert "Ngày xảy ra sự kiện: 05/09/2026" in text
    assert "Hạn tính từ sự kiện: 05/10/2026" in text
    assert "theo sự kiện (xảy ra ngày 05/09/2026); hạn là 30 ngày sau sự kiện" in text
    assert "cần đặt hạn" not in text


def test_working_days_skip_the_days_off_of_the_office_calendar(cli) -> None:  # type: ignore[no-untyped-def]
    # 31/08 (swapped day off), 01/09 and 02/09 (Quốc khánh) are not counted: the 15th working day after
    # Tuesday 25/08/2026 is Friday 18/09/2026 (21 calendar days would be 15/09).
    result = cli("tasks", "set-due", "I.2", "--event", "25/08/2026")
    assert result.exit_code == 0, result.stderr
    assert "Đã đặt hạn I.2: 18/09/2026 (15 ngày làm việc sau sự kiện ngày 25/08/2026)." in result.stdout
    assert _listed(cli)["I.2"]["due"] == "2026-09-18"
    # a day the Office declares off counts no more: the date is counted again when the event is set again
    assert cli("calendar", "off", "10/09/2026", "--note", "Nghỉ theo quyết định").exit_code == 0
    assert cli("tasks", "set-due", "I.2", "--event", "25/08/2026").exit_code == 0
    assert _listed(cli)["I.2"]["due"] == "2026-09-21"  # Monday: one more working day


def test_months_end_on_the_same_day_or_the_months_last_and_a_day_off_moves_the_due_date(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("tasks", "set-due", "I.3", "--event", "31/12/2026")
    assert result.exit_code == 0, result.stderr
    # 31/12/2026 + 2 months: February has no 31st, so 28/02/2027, a Sunday: due Monday 01/03/2027
    assert "Đã đặt hạn I.3: 28/02/2027" in result.stdout
    assert "28/02/2027 là ngày nghỉ nên hạn là 01/03/2027" in result.stdout
    shown = _show(cli, "I.3")
    assert shown["due_as_written"] == "2027-02-28" and shown["due"] == "2027-03-01"
    assert shown["event"]["due"] == "2027-02-28"


def test_before_the_event_a_day_off_moves_the_due_date_earlier(cli) -> None:  # type: ignore[no-untyped-def]
    # 5 days before Friday 16/10/2026 is Sunday 11/10: due the Friday before, never after the limit
    assert cli("tasks", "set-due", "I.6", "--event", "16/10/2026").exit_code == 0
    assert _show(cli, "I.6")["due"] == "2026-10-09"
    # a Monday: 5 days before is Wednesday 14/10
    assert cli("tasks", "set-due", "I.6", "--event", "19/10/2026").exit_code == 0
    assert _show(cli, "I.6")["due"] == "2026-10-14"


@pytest.mark.parametrize(
    ("code", "remedy"),
    [
        ("I.4", "dùng 'nhacviec tasks set-due I.4 NGÀY'."),  # "Theo Kế hoạch": no event
        ("I.5", "dùng 'nhacviec tasks set-due I.5 NGÀY'."),  # an event, but not how long after it
        ("I.7", "'nhacviec tasks extend I.7 --to NGÀY"),  # already dated: only an extension moves it
    ],
)
def test_a_phrase_not_counted_from_an_event_is_refused_in_one_sentence(cli, code: str, remedy: str) -> None:  # type: ignore[no-untyped-def]
    before = _show(cli, code)
    result = cli("tasks", "set-due", code, "--event", "05/09/2026")
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert remedy in message
    assert message.startswith("Lỗi: ") and message.endswith(".") and message.count(". ") == 0
    assert "sự kiện" in message  # says why: the phrase counts from no event, or says not how long after it
    assert _show(cli, code)["history"] == before["history"]


def test_the_existing_set_due_contract_keeps_working(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("tasks", "set-due", "I.4", "30/09/2026", "--note", "Theo KH số 7")
    assert result.exit_code == 0, result.stderr
    assert "Đã đặt hạn I.4: 30/09/2026." in result.stdout
    shown = _show(cli, "I.4")
    assert shown["due"] == "2026-09-30" and shown["event"] is None
    assert shown["history"][-1]["event_on"] is None
    # a date for an event-relative task is still accepted as it is; it replaces an event's date
    assert cli("tasks", "set-due", "I.1", "--event", "05/09/2026").exit_code == 0
    assert cli("tasks", "set-due", "I.1", "12/10/2026").exit_code == 0
    assert _show(cli, "I.1")["event"] is None and _show(cli, "I.1")["due"] == "2026-10-12"
    both = cli("tasks", "set-due", "I.1", "12/10/2026", "--event", "05/09/2026")
    neither = cli("tasks", "set-due", "I.1")
    for refused in (both, neither):
        assert refused.exit_code == 1 and "--event" in refused.stderr


def test_reminders_and_escalations_follow_the_computed_date(cli) -> None:  # type: ignore[no-untyped-def]
    def notifications() -> list[dict]:
        result = cli("simulate", "--from", "21/08/2026", "--to", "31/10/2026", "--task", "I.2", "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    before = notifications()
    assert not [n for n in before if n["kind"] in ("reminder", "escalation")]
    assert _listed(cli, "21/08/2026")["I.2"]["due"] is None
    assert cli("tasks", "set-due", "I.2", "--event", "25/08/2026").exit_code == 0
    after = notifications()
    assert not [n for n in after if n["kind"] == "needs_date"]
    reminders = sorted(n["at"][:10] for n in after if n["kind"] == "reminder")
    escalations = sorted(n["at"][:10] for n in after if n["kind"] == "escalation")
    assert reminders and reminders[-1] < "2026-09-18"
    assert escalations and escalations[0] == "2026-09-21"  # the working day after Friday 18/09


@pytest.mark.parametrize(
    ("event", "offset", "due"),
    [
        (date(2026, 1, 31), EventOffset(1, "month"), date(2026, 2, 28)),
        (date(2028, 1, 31), EventOffset(1, "month"), date(2028, 2, 29)),
        (date(2026, 11, 30), EventOffset(3, "month"), date(2027, 2, 28)),
        # 28/02/2026 is a Saturday: back to the Friday before
        (date(2026, 3, 31), EventOffset(-1, "month"), date(2026, 2, 27)),
        (date(2026, 9, 1), EventOffset(2, "week"), date(2026, 9, 15)),
        (date(2026, 9, 4), EventOffset(1, "working_day"), date(2026, 9, 7)),
        (date(2026, 9, 7), EventOffset(-1, "working_day"), date(2026, 9, 4)),
    ],
)
def test_due_after_event_counts_as_the_civil_code_does(event: date, offset: EventOffset, due: date) -> None:
    assert due_after_event(event, offset, load_calendar(DEFAULT_CALENDAR_FILE)) == due


def test_the_parser_exposes_the_offset_of_each_phrase_of_the_plan() -> None:
    offsets = {t.code: parse_deadline(t.deadline, 2026).offset for t in EVENT_PLAN.tasks}
    assert offsets["I.1"] == EventOffset(30, "day")
    assert offsets["I.2"] == EventOffset(15, "working_day")
    assert offsets["I.3"] == EventOffset(2, "month")
    assert offsets["I.6"] == EventOffset(-5, "day")
    assert offsets["I.4"] is None and offsets["I.5"] is None and offsets["I.7"] is None


def test_the_web_task_page_takes_the_event_date_and_shows_both_dates(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from store.db import make_engine, session_scope
    from store.users import add_user
    from tests.support.web_pages import TZ, client_for, csrf_of, text_of
    from tests.support.web_support import FAST

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            add_user(session, "chanh.vp", "mat-khau-thu-nghiem", "admin", hasher=FAST)
        client = client_for(engine, now=datetime(2026, 8, 20, 9, 0, tzinfo=TZ))
        page = client.get("/tasks/SK-2026/I.2")
        assert page.status_code == 200
        assert 'data-form="event_set"' in page.text and "Ngày xảy ra sự kiện" in page.text
        assert "hạn là 15 ngày làm việc sau sự kiện" in text_of(page.text)
        for code in ("I.4", "I.5", "I.7"):  # no duration from an event: no such form
            assert 'data-form="event_set"' not in client.get(f"/tasks/SK-2026/{code}").text

        def post(code: str, **fields: str):  # type: ignore[no-untyped-def]
            path = f"/tasks/SK-2026/{code}"
            return client.post(f"{path}/set-due-event", data={"csrf": csrf_of(client, path), **fields})

        assert post("I.2", event="25/08/2026", note="Hồ sơ số 5").status_code == 303
        shown = text_of(client.get("/tasks/SK-2026/I.2?ok=event_set").text)
        assert "Đã tính hạn từ ngày xảy ra sự kiện." in shown
        assert "Ngày xảy ra sự kiện 25/08/2026" in shown and "Hạn tính từ sự kiện 18/09/2026" in shown
        assert "Hạn đang áp dụng 18/09/2026" in shown and "cần đặt hạn" not in shown
        assert "(sự kiện ngày 25/08/2026)" in shown  # the history line
        assert "theo sự kiện (xảy ra ngày 25/08/2026)" in shown
        listed = text_of(client.get("/tasks?plan=SK-2026&status=needs_date").text)
        assert "I.1" in listed and "I.2" not in listed  # no longer asking for a date

        refused = post("I.4", event="25/08/2026")  # "Theo Kế hoạch": the sentence names the web's remedy
        assert refused.status_code == 400
        said = text_of(refused.text)
        assert "không tính từ một sự kiện" in said and "nút Đặt hạn" in said and "nhacviec" not in said
        unreadable = post("I.1", event="32/08/2026")
        assert unreadable.status_code == 400 and 'data-form="event_set"' in unreadable.text
    finally:
        engine.dispose()
