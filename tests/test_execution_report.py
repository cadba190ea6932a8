"""The Office's report on the plan's execution: figures for Q1, H1, 9M and Y 2020 on the sample plan, the
.docx (python-docx, LibreOffice) and the .xlsx (openpyxl), the CLI's contract, and the pure core."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from planner.calendar import WorkingCalendar
from planner.periods import fixed_period
from report.figures import Change, ReportData, ReportTask, build
from store.db import make_engine, session_scope
from store.reports import record_report, request_extension
from store.tasks import extend, find_task, mark_done, set_due
from tests.support.cli_runner import CliResult

Cli = Callable[..., CliResult]
LATER = "15/01/2021"  # the reports are drafted after the year: each shows the state at its period's end


def _done(session, code: str, on: date, note: str | None = None) -> None:  # type: ignore[no-untyped-def]
    mark_done(session, find_task(session, code), on=on, actor="vp", via="cli", note=note)


@pytest.fixture
def year_2020(database_url: str, run_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The sample plan through 2020: tasks done on time, late, extended, given a date, left open; reports."""
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    assert run_cli("init").exit_code == 0
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        _done(session, "I.1", date(2020, 1, 20), "Kế hoạch số 15/KH-SGDĐT")  # due 31/01: on time
        _done(session, "I.2", date(2020, 2, 10))  # due 31/01: late
        # II.1 (due 31/01) is left open: overdue from February.
        iv3 = find_task(session, "IV.3")  # Quý I/2020, due 31/03, extended to 30/04 then done
        extend(
            session,
            iv3,
            to=date(2020, 4, 30),
            reason="Chờ hướng dẫn của UBND tỉnh",
            on=date(2020, 3, 25),
            actor="vp",
            via="cli",
        )
        _done(session, "IV.3", date(2020, 4, 20))
        # VI.1 (due 31/03) stays open; its unit asks for more time and nobody answers.
        request_extension(
            session,
            find_task(session, "VI.1"),
            to=date(2020, 6, 30),
            reason="Chưa được bố trí kinh phí",
            on=date(2020, 4, 5),
            actor="cntt",
            via="telegram",
        )
        _done(session, "VII.8", date(2020, 6, 5))  # Tháng 6/2020, due 30/06: done early
        # II.2 ("Theo Kế hoạch") gets a Saturday, 13/06: its effective due is Monday 15/06, when it is done.
        set_due(
            session,
            find_task(session, "II.2"),
            due=date(2020, 6, 13),
            on=date(2020, 4, 1),
            actor="vp",
            via="cli",
        )
        _done(session, "II.2", date(2020, 6, 15))
        _done(session, "VI.2", date(2020, 10, 20))  # Quý III/2020, due 30/09: late
        _done(session, "IV.4", date(2020, 11, 30))  # due 30/11: on the day
        # VII.2 (30/09), VII.6 and VII.7 (30/11) are left open.
        record_report(session, None, "PCMNV", "Q1", date(2020, 3, 12), "vp", "cli")
        record_report(session, None, "DVTH", "Q1", date(2020, 3, 20), "vp", "cli")  # cut-off Sat 14/03: late
        record_report(session, None, "PCMNV", "H1", date(2020, 6, 10), "vp", "cli")
    yield engine
    engine.dispose()


def figures(cli: Cli, period: str, *extra: str) -> dict:  # type: ignore[type-arg]
    result = cli(
        "report", "build", "--period", period, "--year", "2020", "--at", LATER, "--dry-run", "--json", *extra
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# (period, done on time, done late, overdue, in progress, not yet due, no date, due in period,
#  of those due: on time, late, overdue; extended; extension requests pending)
EXPECTED = [
    ("Q1", 1, 1, 1, 25, 5, 2, 3, 1, 1, 1, 0, 0),
    ("H1", 3, 1, 2, 24, 4, 1, 5, 2, 1, 2, 1, 1),
    ("9M", 4, 1, 2, 25, 2, 1, 7, 4, 1, 2, 1, 1),
    ("Y", 5, 2, 5, 22, 0, 1, 12, 5, 2, 5, 1, 1),
]


@pytest.mark.parametrize("expected", EXPECTED, ids=[e[0] for e in EXPECTED])
def test_counts_for_each_period_of_2020(year_2020: Engine, run_cli: Cli, expected: tuple) -> None:  # type: ignore[type-arg]
    period, *numbers = expected
    report = figures(run_cli, period)
    counts = report["counts"]

    keys = (
        "done_on_time", "done_late", "overdue", "in_progress", "not_yet_due", "no_date", "due_in_period",
        "due_done_on_time", "due_done_late", "due_overdue", "extended", "extension_requests_pending",
    )  # fmt: skip
    assert {k: counts[k] for k in keys} == dict(zip(keys, numbers, strict=True))
    assert counts["total"] == 35 == sum(counts[s] for s in keys[:6])
    assert (report["period"], report["year"], report["plan"]) == (period, 2020, "CCHC-2020")
    assert report["as_of"] == fixed_period(period, 2020).cutoff.isoformat()
    assert [t["code"] for t in report["tasks"]][:5] == ["I.1", "I.2", "I.3", "I.4", "II.1"]


def test_a_due_date_on_a_day_off_moves_to_the_next_working_day(year_2020: Engine, run_cli: Cli) -> None:
    tasks = {t["code"]: t for t in figures(run_cli, "9M")["tasks"]}

    # Set to Saturday 13/06 and done on Monday 15/06: on time. 30/04 (IV.3's new date) is a holiday.
    assert (tasks["II.2"]["due"], tasks["II.2"]["effective_due"]) == ("2020-06-13", "2020-06-15")
    assert tasks["II.2"]["status"] == "done_on_time"
    assert (tasks["IV.3"]["due"], tasks["IV.3"]["effective_due"]) == ("2020-04-30", "2020-05-04")
    assert tasks["IV.3"]["extensions"][0]["reason"] == "Chờ hướng dẫn của UBND tỉnh"
    assert tasks["I.1"]["done_note"] == "Kế hoạch số 15/KH-SGDĐT"
    assert (tasks["VI.1"]["status"], tasks["VI.1"]["overdue_days"]) == ("overdue", 167)


def test_units_table_and_reports_sent_on_time(year_2020: Engine, run_cli: Cli) -> None:
    units = {u["code"]: u for u in figures(run_cli, "H1")["units"]}

    assert (units["VP"]["due_in_period"], units["VP"]["done_on_time"], units["VP"]["done_late"]) == (3, 1, 1)
    assert units["VP"]["overdue_at_period_end"] == 1
    assert units["VP"]["overdue_now"] == 14  # on 15/01/2021 every open task of VP is overdue
    assert (units["TCCB"]["on_time_percent"], units["CNTT"]["on_time_percent"]) == (100.0, 0.0)
    assert units["KHTC"]["on_time_percent"] is None  # nothing due
    # Q1 and H1 (with Q2) are due by 14/06: PCMNV sent both on time; DVTH one late, one not at all.
    assert [
        units["PCMNV"][k] for k in ("reports_due", "reports_on_time", "reports_late", "reports_missing")
    ] == [2, 2, 0, 0]
    assert [
        units["DVTH"][k] for k in ("reports_due", "reports_on_time", "reports_late", "reports_missing")
    ] == [2, 0, 1, 1]
    assert units["TCCB"]["reports_due"] is None  # not a reporting unit


def test_comparison_and_difficulties_are_drafted(year_2020: Engine, run_cli: Cli) -> None:
    report = figures(run_cli, "H1")

    assert report["previous"]["period"] == "Q1"
    assert report["previous"]["counts"]["done"] == 2 and report["counts"]["done"] == 4
    texts = [d["text"] for d in report["difficulties"]]
    assert any("VI.1" in t and "Chưa được bố trí kinh phí" in t and "đang chờ" in t for t in texts)
    assert any("IV.3" in t and "Chờ hướng dẫn của UBND tỉnh" in t for t in texts)
    assert any(t.startswith("Nhiệm vụ II.1") and "quá hạn" in t for t in texts)
    assert any("II.1, VI.1" in r for r in report["recommendations"])
    assert figures(run_cli, "Q1")["previous"] is None


def test_adhoc_report_closes_on_its_date(year_2020: Engine, run_cli: Cli) -> None:
    result = run_cli("report", "build", "--period", "adhoc", "--at", "04/05/2020", "--dry-run", "--json")
    report = json.loads(result.stdout)

    assert (report["period"], report["as_of"], report["previous"]["period"]) == ("adhoc", "2020-05-04", "Q1")
    assert report["counts"]["done_on_time"] == 2  # I.1 and IV.3 (by then extended and done)


def test_docx_opens_with_python_docx_in_the_administrative_layout(
    year_2020: Engine, run_cli: Cli, tmp_path: Path
) -> None:
    from docx import Document
    from docx.shared import Mm, Pt

    out = tmp_path / "bao-cao-6-thang.docx"
    result = run_cli(
        "report", "build", "--period", "H1", "--year", "2020", "--at", "20/06/2020", "--out", str(out)
    )
    assert result.exit_code == 0, result.stderr
    assert "Đã ghi BÁO CÁO Kết quả thực hiện Kế hoạch" in result.stdout

    document = Document(str(out))
    first, appendix = document.sections

    def mm(length: int | None) -> float:
        return round(length / Mm(1), 1) if length is not None else 0.0

    assert (mm(first.page_width), mm(first.page_height)) == (210, 297)
    margins = (first.top_margin, first.bottom_margin, first.left_margin, first.right_margin)
    assert tuple(mm(m) for m in margins) == (20, 20, 30, 15)
    assert appendix.page_width > appendix.page_height  # the appendix is landscape
    normal = document.styles["Normal"].font
    assert (normal.name, normal.size) == ("Times New Roman", Pt(14))
    letterhead = document.tables[0]
    assert "SỞ GIÁO DỤC VÀ ĐÀO TẠO" in letterhead.cell(0, 0).text
    assert "Độc lập - Tự do - Hạnh phúc" in letterhead.cell(0, 1).text
    assert "Số:" in letterhead.cell(1, 0).text and "/BC-SGDĐT" in letterhead.cell(1, 0).text
    assert letterhead.cell(1, 1).text == "Hoà Bình, ngày 20 tháng 6 năm 2020"
    text = "\n".join(p.text for p in document.paragraphs)
    assert "BÁO CÁO\nKết quả thực hiện Kế hoạch Cải cách hành chính năm 2020 (6 tháng đầu năm 2020)" in text
    assert "Trong kỳ có 5 nhiệm vụ đến hạn" in text and "So với quý I năm 2020" in text
    assert "II. KHÓ KHĂN, VƯỚNG MẮC VÀ KIẾN NGHỊ" in text and "Chưa được bố trí kinh phí" in text
    table = document.tables[-1]  # the appendix, in the plan's order with its sections
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0][:3] == ["STT", "Nhiệm vụ", "Đơn vị chủ trì"]
    assert rows[1][0] == "I" and rows[1][1] == "Cải cách thể chế"
    assert rows[2][0] == "1" and rows[2][6] == "Hoàn thành đúng hạn" and "15/KH-SGDĐT" in rows[2][7]
    sections = [
        row[0] for row in rows if row[1] == row[-1] and row[0] in ("I", "II", "III", "IV", "V", "VI", "VII")
    ]
    assert sections == ["I", "II", "III", "IV", "V", "VI", "VII"]
    assert sum(1 for row in rows[1:] if row[0].isdigit()) == 35
    units = document.tables[1]
    assert units.cell(1, 1).text == "Văn phòng Sở"


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) is not installed: .ci/office.sh installs it"
)
def test_libreoffice_converts_the_docx_to_pdf(year_2020: Engine, run_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "bao-cao.docx"
    assert (
        run_cli(
            "report", "build", "--period", "Y", "--year", "2020", "--at", LATER, "--out", str(out)
        ).exit_code
        == 0
    )

    result = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip

    pdf = tmp_path / "bao-cao.pdf"
    assert result.returncode == 0, result.stderr
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


def test_xlsx_reads_back_with_openpyxl(year_2020: Engine, run_cli: Cli, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "bao-cao.xlsx"
    assert (
        run_cli(
            "report", "build", "--period", "9M", "--year", "2020", "--at", LATER, "--out", str(out)
        ).exit_code
        == 0
    )

    workbook = load_workbook(out)
    assert workbook.sheetnames == ["Tổng hợp", "Nhiệm vụ", "Đơn vị", "Khó khăn, kiến nghị"]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
    summary = {row[0]: row[1:] for row in workbook["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Nhiệm vụ đến hạn trong kỳ"] == (7, 5, 2)  # 9M, H1, the difference
    tasks = list(workbook["Nhiệm vụ"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in tasks[:3]] == ["I", "I.1", "I.2"]
    ii2 = next(r for r in tasks if r[0] == "II.2")
    assert ii2[6].date() == date(2020, 6, 15) and ii2[7] == "Hoàn thành đúng hạn"
    units = {r[1]: r for r in workbook["Đơn vị"].iter_rows(min_row=2, values_only=True)}
    assert units["Phòng Tổ chức cán bộ"][2:6] == (11, 1, 1, 100)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "Q1", "--out", "bao-cao.pdf"), "phải có đuôi .docx hoặc .xlsx"),
        (("--period", "Q1"), "--out"),
        (("--period", "Q3", "--dry-run"), "chọn Q1, H1, 9M, Y hoặc adhoc"),
        (("--period", "Q1", "--year", "2021", "--dry-run"), "Không có kế hoạch nào của năm 2021"),
        (("--period", "Q1", "--plan", "CCHC-2020", "--year", "2021", "--dry-run"), "không phải năm 2021"),
        (("--period", "Q1", "--at", "31/02/2020", "--dry-run"), "không hợp lệ"),
    ],
    ids=["format", "no-out", "period", "year", "plan-year", "date"],
)
def test_refusals_are_one_sentence(run_cli: Cli, args: tuple[str, ...], message: str) -> None:
    assert run_cli("init").exit_code == 0

    result = run_cli("report", "build", *args)

    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_the_reports_group_still_answers(run_cli: Cli) -> None:
    assert run_cli("init").exit_code == 0
    assert run_cli("reports", "list", "--json").stdout.strip() == "[]"
    assert run_cli("report", "build", "--period", "Q1", "--year", "2020", "--dry-run").exit_code == 0


# --- the pure core --------------------------------------------------------------------------------


def _task(code: str, due: date | None, *changes: Change, start: date | None = None) -> ReportTask:
    return ReportTask(
        code=code, section="I", content=code, products=(), lead=("TCCB",), deadline_text="",
        kind="date", start=start, due=due, changes=changes,
    )  # fmt: skip


def test_core_reads_history_as_of_each_period_end() -> None:
    data = ReportData(
        plan_code="KH",
        plan_title="Kế hoạch thử",
        year=2020,
        tasks=(
            # done in February, reopened in April, done again in July (late by then)
            _task("I.1", date(2020, 3, 31), Change(date(2020, 2, 1), "done"), Change(date(2020, 4, 2), "reopened"),
                  Change(date(2020, 7, 1), "done")),
            # a request rejected, then the task overdue
            _task("I.2", date(2020, 2, 28), Change(date(2020, 2, 20), "ext_requested", date(2020, 3, 31), note="Thiếu người"),
                  Change(date(2020, 2, 25), "ext_rejected", note="Không đủ căn cứ")),
        ),
        units={"TCCB": "Phòng Tổ chức cán bộ"},
    )  # fmt: skip
    calendar = WorkingCalendar()
    h1 = build(data, fixed_period("H1", 2020), date(2021, 1, 1), calendar.next_working_day)
    nine = build(data, fixed_period("9M", 2020), date(2021, 1, 1), calendar.next_working_day)

    assert [t.status for t in h1.tasks] == ["overdue", "overdue"]
    assert h1.previous_counts is not None and h1.previous_counts.done_on_time == 1  # done in Q1 then
    assert [t.status for t in nine.tasks] == ["done_late", "overdue"]
    [request, overdue] = [d for d in h1.difficulties if d.task == "I.2"]
    assert "Thiếu người" in request.text and "không được chấp thuận" in request.text
    assert "Không đủ căn cứ" in overdue.text  # the latest note on an overdue task


def test_effective_due_dates_agree_with_the_task_list(year_2020: Engine, run_cli: Cli) -> None:
    """The report and `tasks list` (store.tasks.TaskView.due) move a due date off a day off the same way."""
    listed = run_cli("tasks", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    due = {t["code"]: t["due"] for t in json.loads(listed.stdout)}

    report = {t["code"]: t["effective_due"] for t in figures(run_cli, "Y")["tasks"]}

    assert report == due
    assert report["II.2"] == "2020-06-15"  # set to Saturday 13/06
