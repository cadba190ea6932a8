"""The execution report judges recurring work period by period: hand-worked counts on a small 2026 plan with a
monthly task done for some months and not others (the pure core, then the CLI's JSON, the .docx and the .xlsx),
and the history's days read in the settings' time zone."""

from __future__ import annotations

import json
from calendar import monthrange
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from planner.periods import fixed_period
from report.figures import Change, PeriodDue, ReportData, ReportTask, build
from report.text import appendix_row, periods_line
from store.db import make_engine, session_scope
from store.models import Task, TaskEvent
from store.report_data import report_task
from store.tasks import find_task, history, mark_done
from tests.support.cli_runner import CliResult

Cli = Callable[..., CliResult]


# --- the pure core (no calendar: due dates stay as written) -------------------------------------------


def _month_ends(year: int) -> tuple[PeriodDue, ...]:
    return tuple(PeriodDue(f"{year}-{m:02d}", date(year, m, monthrange(year, m)[1])) for m in range(1, 13))


def _recurring(
    code: str, text: str, occurrences: tuple[PeriodDue, ...], *changes: Change, start: date
) -> ReportTask:
    return ReportTask(
        code=code, section="IX", content=code, products=(), lead=("TCCB",), deadline_text=text, kind="recurring",
        start=start, due=occurrences[-1].due, changes=changes, occurrences=occurrences,
    )  # fmt: skip


MONTHLY = _recurring(
    "IX.1",
    "Hằng tháng",
    _month_ends(2026),
    Change(date(2026, 1, 30), "done", period="2026-01"),  # due 31/01: on time
    Change(date(2026, 3, 3), "done", note="CV 12", period="2026-02"),  # due 28/02: late
    Change(
        date(2026, 3, 25), "extended", date(2026, 4, 15), date(2026, 3, 31), "Chờ số liệu", period="2026-03"
    ),
    Change(date(2026, 4, 10), "done", period="2026-03"),  # extended to 15/04: on time
    Change(date(2026, 4, 28), "done", period="2026-04"),  # on time
    # May and every later month are left open
    start=date(2026, 1, 1),
)
QUARTERS = (
    PeriodDue("2026-Q1", date(2026, 3, 31)),
    PeriodDue("2026-Q2", date(2026, 6, 30)),
    PeriodDue("2026-Q3", date(2026, 9, 30)),
    PeriodDue("2026-Q4", date(2026, 12, 31)),
)


def _data(*tasks: ReportTask) -> ReportData:
    return ReportData(
        "KH-2026", "Kế hoạch thử năm 2026", 2026, tasks, {"IX": "Công tác chung"}, {"TCCB": "TCCB"}
    )


def test_a_monthly_task_is_counted_by_its_periods_in_the_window() -> None:
    h1 = build(_data(MONTHLY), fixed_period("H1", 2026), date(2026, 6, 20))
    [line] = h1.tasks

    # H1 closes on 14/06; its periods are those due 15/12/2025 - 30/06/2026: January to June.
    assert [(p.period, p.status) for p in line.periods] == [
        ("2026-01", "done_on_time"),
        ("2026-02", "done_late"),
        ("2026-03", "done_on_time"),
        ("2026-04", "done_on_time"),
        ("2026-05", "overdue"),
        ("2026-06", "not_yet_due"),
    ]
    march = line.periods[2]
    assert (march.due, march.done_on) == (date(2026, 4, 15), date(2026, 4, 10))  # its own extension only
    assert line.periods[1].done_note == "CV 12"
    # one period overdue: the task is overdue, from May's due date (31/05 -> 14/06: 14 days)
    assert (line.status, line.effective_due, line.overdue_days, line.due_in_period) == (
        "overdue",
        date(2026, 5, 31),
        14,
        True,
    )
    c = h1.counts
    assert (c.total, c.overdue, c.done, c.due_in_period, c.due_overdue) == (1, 1, 0, 1, 1)
    assert (c.recurring, c.periods, c.periods_done_on_time, c.periods_done_late) == (1, 6, 3, 1)
    assert (c.periods_overdue, c.periods_not_yet_due) == (1, 1)
    assert periods_line(line) == (
        "Hằng tháng: 4/6 kỳ hoàn thành (trong đó 1 kỳ hoàn thành quá hạn: tháng 02/2026), "
        "1 kỳ quá hạn (tháng 05/2026), 1 kỳ chưa đến hạn (tháng 06/2026)"
    )
    [difficulty] = [d for d in h1.difficulties if d.source == "overdue"]
    assert "1 kỳ quá hạn chưa hoàn thành: tháng 05/2026 (hạn 31/05/2026, quá hạn 14 ngày)" in difficulty.text

    # Q1 (data to 14/03): January on time, February late, March not yet due: done, late
    q1 = h1.previous_counts
    assert q1 is not None and (q1.done_late, q1.overdue, q1.periods, q1.periods_not_yet_due) == (1, 0, 3, 1)
    # 9M (data to 14/09): May to August overdue, September not yet due; 14/09 - 31/05 = 106 days
    nine = build(_data(MONTHLY), fixed_period("9M", 2026), date(2026, 10, 1)).tasks[0]
    assert [p.status for p in nine.periods].count("overdue") == 4
    assert (nine.status, nine.overdue_days, len(nine.periods)) == ("overdue", 106, 9)


def test_recurring_work_done_for_every_period_due_counts_as_done() -> None:
    quarterly = _recurring(
        "IX.2",
        "Định kỳ hằng quý",
        QUARTERS,
        Change(date(2026, 3, 31), "done", period="2026-Q1"),
        start=date(2026, 1, 1),
    )
    from_july = _recurring("IX.3", "Hằng quý từ quý III", QUARTERS[2:], start=date(2026, 7, 1))
    open_quarter = _recurring("IX.4", "Định kỳ hằng quý", QUARTERS, start=date(2026, 1, 1))

    h1 = build(_data(quarterly, from_july, open_quarter), fixed_period("H1", 2026), date(2026, 6, 20))
    q1 = build(_data(quarterly, from_july, open_quarter), fixed_period("Q1", 2026), date(2026, 6, 20))

    # H1: Q1 done on time, Q2 not yet due: done on time. Nothing of IX.3 in the window: not yet due.
    # IX.4: its Q1 overdue, its Q2 not yet due.
    assert [t.status for t in h1.tasks] == ["done_on_time", "not_yet_due", "overdue"]
    assert h1.tasks[1].effective_due == date(2026, 9, 30) and h1.tasks[1].periods == ()
    # Q1 (to 14/03): nothing done or due yet; Q1's period began on 01/01: in progress
    assert [t.status for t in q1.tasks] == ["in_progress", "not_yet_due", "in_progress"]
    assert [t.due_in_period for t in q1.tasks] == [False, False, False]
    assert q1.counts.in_progress == 2 and q1.counts.due_in_period == 0


def test_a_task_done_once_is_judged_as_before() -> None:
    once = ReportTask(
        code="IX.5", section="IX", content="x", products=(), lead=("TCCB",), deadline_text="Trước 31/03/2026",
        kind="date", start=None, due=date(2026, 3, 30), changes=(Change(date(2026, 4, 2), "done"),),
    )  # fmt: skip
    report = build(_data(once), fixed_period("H1", 2026), date(2026, 6, 20))

    assert (report.tasks[0].status, report.tasks[0].periods, report.tasks[0].recurring) == (
        "done_late",
        (),
        False,
    )
    assert report.counts.recurring == 0 and periods_line(report.tasks[0]) == ""
    assert appendix_row(report.tasks[0])[6] == "Hoàn thành quá hạn"


# --- the time zone of the history's days ----------------------------------------------------------------


def test_a_moment_in_the_history_is_dated_in_the_time_zone_given() -> None:
    task = Task(
        plan_id=1, code="I.1", content="x", deadline_text="Trong tháng 01/2020", deadline_kind="window",
        due=date(2020, 1, 31),
    )  # fmt: skip
    # 17:30 UTC on 31/01 is 00:30 on 01/02 in Vietnam
    event = TaskEvent(task_id=1, kind="done", at=datetime(2020, 1, 31, 17, 30, tzinfo=UTC))

    vietnam = report_task(task, "I", {}, [event], 0, ZoneInfo("Asia/Ho_Chi_Minh"))
    utc = report_task(task, "I", {}, [event], 0, ZoneInfo("UTC"))

    assert (vietnam.changes[0].on, utc.changes[0].on) == (date(2020, 2, 1), date(2020, 1, 31))


def test_the_report_reads_the_history_in_the_settings_time_zone(
    database_url: str, run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    assert run_cli("init").exit_code == 0
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        task = find_task(session, "I.1")  # due Friday 31/01/2020
        mark_done(session, task, on=date(2020, 1, 31), actor="vp", via="cli")
        [done] = [e for e in history(session, task) if e.kind == "done"]
        done.effective_on = None  # an entry dated only by its moment: 00:30 on 01/02 in Vietnam
        done.at = datetime(2020, 1, 31, 17, 30, tzinfo=UTC)
        session.add(done)
    engine.dispose()

    def status() -> str:
        result = run_cli(
            "report", "build", "--period", "Q1", "--year", "2020", "--at", "20/03/2020", "--dry-run", "--json"
        )
        assert result.exit_code == 0, result.stderr
        return next(t["status"] for t in json.loads(result.stdout)["tasks"] if t["code"] == "I.1")

    assert status() == "done_late"  # the settings' zone, Asia/Ho_Chi_Minh by default
    monkeypatch.setenv("NHACVIEC_TIMEZONE", "UTC")
    assert status() == "done_on_time"


# --- through the database, the CLI and the files (the working calendar moves due dates off days off) ----

PLAN_2026 = (
    "TT,Nội dung nhiệm vụ,Sản phẩm,Phòng chủ trì,Phòng phối hợp,Thời gian hoàn thành\n"
    "IX,Công tác chung,,,,\n"
    "1,Báo cáo tình hình cải cách hành chính,Báo cáo tháng,Phòng TCCB,,Hằng tháng\n"
    "2,Rà soát thủ tục hành chính,Báo cáo quý,Văn phòng Sở,,Định kỳ hằng quý\n"
    "3,Lập kế hoạch tự kiểm tra,Kế hoạch,Phòng TCCB,,Trước 31/03/2026\n"
)


@pytest.fixture
def year_2026(database_url: str, run_cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """A 2026 plan: IX.1 monthly, done for January (on time), February (late), March (extended, then on time)
    and April, not May nor June; IX.2 quarterly, Q1 done; IX.3 done once, on time."""
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    assert run_cli("init").exit_code == 0
    plan = tmp_path / "ke-hoach-2026.csv"
    plan.write_text(PLAN_2026, encoding="utf-8")
    assert run_cli("plan", "import", str(plan), "--year", "2026", "--plan", "KH-2026").exit_code == 0
    steps = [
        ("done", "IX.1", "--period", "2026-01", "--at", "30/01/2026"),  # due Sat 31/01 -> Mon 02/02
        ("done", "IX.1", "--period", "2026-02", "--at", "03/03/2026", "--note", "CV 12"),  # Sat 28/02 -> 02/03
        ("extend", "IX.1", "--period", "2026-03", "--to", "15/04/2026", "--reason", "Chờ số liệu quý I",
         "--at", "25/03/2026"),
        ("done", "IX.1", "--period", "2026-03", "--at", "10/04/2026"),
        ("done", "IX.1", "--period", "2026-04", "--at", "28/04/2026"),  # 30/04, 01/05 holidays -> Mon 04/05
        # May (Sun 31/05 -> Mon 01/06) and June (Tue 30/06) are left open
        ("done", "IX.2", "--period", "2026-Q1", "--at", "31/03/2026"),
        ("done", "IX.3", "--at", "25/03/2026"),  # due 30/03
    ]  # fmt: skip
    for step in steps:
        result = run_cli("tasks", *step, "--plan", "KH-2026")
        assert result.exit_code == 0, result.stderr
    return run_cli


def _figures(cli: Cli, period: str) -> dict:  # type: ignore[type-arg]
    result = cli(
        "report", "build", "--period", period, "--year", "2026", "--at", "20/06/2026", "--dry-run", "--json"
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_json_counts_recurring_work_by_its_periods(year_2026: Cli) -> None:
    report = _figures(year_2026, "H1")
    counts = report["counts"]

    # IX.1: 6 periods (Jan-Jun): Jan, Mar, Apr on time, Feb late, May overdue (01/06 -> 14/06), June to come:
    #       overdue. IX.2: Q1 done on time, Q2 to come: done on time. IX.3: done on time.
    assert {k: counts[k] for k in ("total", "done_on_time", "done_late", "overdue", "in_progress", "not_yet_due")} == {
        "total": 3, "done_on_time": 2, "done_late": 0, "overdue": 1, "in_progress": 0, "not_yet_due": 0,
    }  # fmt: skip
    assert (
        counts["due_in_period"],
        counts["due_done_on_time"],
        counts["due_overdue"],
        counts["extended"],
    ) == (
        3,
        2,
        1,
        1,
    )
    assert {k: v for k, v in counts.items() if k.startswith("periods") or k == "recurring"} == {
        "recurring": 2, "periods": 8, "periods_done_on_time": 4, "periods_done_late": 1, "periods_overdue": 1,
        "periods_not_yet_due": 2,
    }  # fmt: skip
    tasks = {t["code"]: t for t in report["tasks"]}
    ix1 = tasks["IX.1"]
    assert (ix1["status"], ix1["due"], ix1["effective_due"], ix1["overdue_days"]) == (
        "overdue",
        "2026-05-31",
        "2026-06-01",
        13,
    )
    assert [(p["period"], p["status"], p["done_on"]) for p in ix1["periods"]] == [
        ("2026-01", "done_on_time", "2026-01-30"),
        ("2026-02", "done_late", "2026-03-03"),
        ("2026-03", "done_on_time", "2026-04-10"),
        ("2026-04", "done_on_time", "2026-04-28"),
        ("2026-05", "overdue", None),
        ("2026-06", "not_yet_due", None),
    ]
    assert (
        ix1["periods"][1] | {"label": "tháng 02/2026", "effective_due": "2026-03-02", "done_note": "CV 12"}
        == (ix1["periods"][1])
    )
    assert ix1["periods"][3]["effective_due"] == "2026-05-04"  # 30/04 and 01/05 are holidays
    assert [(e["period"], e["new_due"]) for e in ix1["extensions"]] == [("2026-03", "2026-04-15")]
    assert (tasks["IX.2"]["status"], [p["status"] for p in tasks["IX.2"]["periods"]]) == (
        "done_on_time",
        ["done_on_time", "not_yet_due"],
    )
    assert (tasks["IX.3"]["periods"], tasks["IX.3"]["recurring"]) == ([], False)
    units = {u["code"]: u for u in report["units"]}
    assert (units["TCCB"]["due_in_period"], units["TCCB"]["done_on_time"], units["TCCB"]["overdue_now"]) == (
        2,
        1,
        1,
    )
    # Q1, the period compared with: IX.1 done late (February), IX.2's Q1 and IX.3 still in their time
    assert report["previous"]["counts"]["done_late"] == 1 and report["previous"]["counts"]["in_progress"] == 2
    assert any("IX.1" in d["text"] and "tháng 05/2026" in d["text"] for d in report["difficulties"])


PERIODS_LINE = (
    "Hằng tháng: 4/6 kỳ hoàn thành (trong đó 1 kỳ hoàn thành quá hạn: tháng 02/2026), 1 kỳ quá hạn (tháng 05/2026), "
    "1 kỳ chưa đến hạn (tháng 06/2026)"
)
PERIODS_DETAIL = (
    f"{PERIODS_LINE}. Ngày hoàn thành: tháng 01/2026 ngày 30/01/2026; tháng 02/2026 ngày 03/03/2026 (CV 12); "
    "tháng 03/2026 ngày 10/04/2026; tháng 04/2026 ngày 28/04/2026."
)


def test_the_docx_and_the_xlsx_carry_the_line_per_period(year_2026: Cli, tmp_path: Path) -> None:
    from docx import Document
    from openpyxl import load_workbook

    docx, xlsx = tmp_path / "bao-cao.docx", tmp_path / "bao-cao.xlsx"
    for out in (docx, xlsx):
        built = year_2026(
            "report", "build", "--period", "H1", "--year", "2026", "--at", "20/06/2026", "--out", str(out)
        )
        assert built.exit_code == 0, built.stderr

    document = Document(str(docx))
    rows = [[cell.text for cell in row.cells] for row in document.tables[-1].rows]
    at = next(i for i, row in enumerate(rows) if row[1] == "Báo cáo tình hình cải cách hành chính")
    ix1, under = rows[at], rows[at + 1]
    assert ix1[5:] == [
        "01/06/2026 (tháng 05/2026; 31/05/2026 là ngày nghỉ)",
        "Quá hạn, chưa hoàn thành (13 ngày)",
        "",
        "Gia hạn kỳ tháng 03/2026 ngày 25/03/2026 đến 15/04/2026: Chờ số liệu quý I",
    ]
    assert under == ["", *[PERIODS_DETAIL] * 8]  # the row under it, its cells merged across the table
    assert "Lập kế hoạch tự kiểm tra" in rows[-1][1]  # a task done once has no such row
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Kế hoạch có 2 nhiệm vụ thực hiện định kỳ (8 kỳ thuộc kỳ báo cáo: 4 kỳ hoàn thành đúng hạn" in text

    workbook = load_workbook(xlsx)
    header, *rows_x = list(workbook["Nhiệm vụ"].iter_rows(values_only=True))
    assert header[-1] == "Từng kỳ (nhiệm vụ định kỳ)"
    by_code = {r[0]: r for r in rows_x}
    assert (
        by_code["IX.1"][-1] == PERIODS_DETAIL and by_code["IX.1"][7] == "Quá hạn, chưa hoàn thành (13 ngày)"
    )
    assert by_code["IX.3"][-1] is None and len(rows_x) == 4  # the section and its three tasks
    summary = {row[0]: row[1] for row in workbook["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Số kỳ của nhiệm vụ định kỳ thuộc kỳ báo cáo"] == 8
    assert summary["- trong đó kỳ quá hạn chưa hoàn thành"] == 1


def test_the_web_preview_shows_the_periods_under_the_task(year_2026: Cli, database_url: str) -> None:
    import html
    import re

    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from config.settings import Settings
    from store.users import add_user
    from tests.support.web_support import FAST
    from web.app import create_app
    from web.config import WebSettings

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        add_user(session, "chanh.vp", "mat-khau-thu-nghiem", "admin", hasher=FAST)
    web = WebSettings(secret=SecretStr("web-secret-for-the-tests-0123456789abcdef"))
    now = datetime(2026, 6, 20, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    client = TestClient(
        create_app(Settings(), engine, web_settings=web, clock=lambda: now, hasher=FAST),
        follow_redirects=False,
    )
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    login = {"csrf": token.group(1), "name": "chanh.vp", "password": "mat-khau-thu-nghiem", "next": "/"}
    assert client.post("/login", data=login).status_code == 303

    page = client.get("/report", params={"period": "H1", "plan": "KH-2026", "at": "20/06/2026"})
    engine.dispose()

    assert page.status_code == 200
    rows = re.findall(r'<tr class="periods-row">(.*?)</tr>', page.text, re.S)
    texts = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]
    assert len(texts) == 2 and texts[0] == PERIODS_DETAIL  # IX.1's, then IX.2's (IX.3 is done once)
    assert texts[1].startswith("Định kỳ hằng quý: 1/2 kỳ hoàn thành, 1 kỳ chưa đến hạn (quý II/2026)")
