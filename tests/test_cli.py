"""The `nhacviec` command as a user types it: output, JSON contracts, exit codes, and errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from config import SAMPLE_PLAN

DEADLINE_KEYS = {"text", "kind", "start", "due", "occurrences"}


def test_init_loads_the_sample_plan_once_and_can_run_again(run_cli) -> None:  # type: ignore[no-untyped-def]
    first = run_cli("init")
    assert first.exit_code == 0, first.stderr
    assert "35 nhiệm vụ" in first.stdout
    again = run_cli("init")
    assert again.exit_code == 0
    assert "đã có sẵn" in again.stdout
    listed = json.loads(run_cli("tasks", "list", "--json").stdout)
    assert len(listed) == 35


def test_tasks_list_json_has_the_contract_fields(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    result = run_cli("tasks", "list", "--json", "--at", "2020-02-01")
    tasks = {t["code"]: t for t in json.loads(result.stdout)}
    task = tasks["IV.4"]
    assert {"code", "plan", "lead", "status", "deadline"} <= set(task)
    assert task["plan"] == "CCHC-2020"
    assert task["lead"] == ["TCCB"]
    assert task["status"] == "open"
    assert set(task["deadline"]) == DEADLINE_KEYS
    assert task["deadline"]["text"] == "Trước tháng 12/2020"
    assert task["deadline"]["due"] == "2020-11-30"
    assert tasks["I.1"]["overdue"] is True and tasks["IV.4"]["overdue"] is False


def test_tasks_list_filters_by_unit_name_typed_without_diacritics(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    result = run_cli("tasks", "list", "--unit", "phong tccb", "--json")
    assert result.exit_code == 0, result.stderr
    codes = [t["code"] for t in json.loads(result.stdout)]
    assert codes[0] == "III.1" and len(codes) == 11


def test_overdue_listing_at_a_date(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    run_cli("tasks", "done", "I.2", "--at", "30/01/2020")
    result = run_cli("tasks", "list", "--overdue", "--at", "01/02/2020", "--json")
    assert [t["code"] for t in json.loads(result.stdout)] == ["I.1", "II.1"]


def test_done_then_show_displays_the_history(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    done = run_cli("tasks", "done", "VII.7", "--note", "Đã nộp báo cáo", "--at", "2020-11-20")
    assert done.exit_code == 0 and "20/11/2020" in done.stdout
    shown = run_cli("tasks", "show", "VII.7")
    assert shown.exit_code == 0
    assert "Tự đánh giá Bộ chỉ số cải cách hành chính" in shown.stdout
    assert "Hoàn thành" in shown.stdout and " done " not in shown.stdout and "Đã nộp báo cáo" in shown.stdout


def test_extend_and_set_due_change_the_due_date(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    assert (
        run_cli("tasks", "extend", "IV.4", "--to", "20/12/2020", "--reason", "Chờ UBND tỉnh").exit_code == 0
    )
    assert run_cli("tasks", "set-due", "II.2", "30/09/2020").exit_code == 0
    tasks = {t["code"]: t for t in json.loads(run_cli("tasks", "list", "--json").stdout)}
    # 20/12/2020 is a Sunday: the extension is due the next working day (issue 9, item 4)
    assert tasks["IV.4"]["due_as_written"] == "2020-12-20" and tasks["IV.4"]["due"] == "2020-12-21"
    assert tasks["II.2"]["due"] == tasks["II.2"]["due_as_written"] == "2020-09-30"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tasks", "show", "IX.9"), "Không có nhiệm vụ mã 'IX.9'"),
        (("tasks", "done", "I.1", "--at", "31/02/2020"), "không hợp lệ"),
        (("tasks", "extend", "I.1", "--to", "2020-01-05", "--reason", "x"), "phải sau hạn hiện tại"),
        (("plan", "check", "khong-co-tep.docx"), "Không tìm thấy"),
        (("tasks", "list", "--status", "xong"), "không hợp lệ"),
        (("tasks", "list", "--plan", "KH-1999"), "Không có kế hoạch mã 'KH-1999'"),
    ],
)
def test_user_mistakes_give_one_sentence_and_exit_1(run_cli, args, message) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    result = run_cli(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_tasks_before_init_tell_the_user_what_to_run(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("tasks", "list")
    assert result.exit_code == 1
    assert "nhacviec init" in result.stderr


def test_deadline_json_prints_exactly_the_contract_one_line_each(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("deadline", "Quý III/2020", "truoc 31/12/2020", "--year", "2020", "--json")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {
            "text": "Quý III/2020",
            "kind": "window",
            "start": "2020-07-01",
            "due": "2020-09-30",
            "occurrences": ["2020-09-30"],
        },
        {
            "text": "truoc 31/12/2020",
            "kind": "date",
            "start": None,
            "due": "2020-12-30",
            "occurrences": ["2020-12-30"],
        },
    ]


def test_deadline_exits_1_and_explains_an_unreadable_phrase(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    column = tmp_path / "cot.txt"
    column.write_text("Tháng 6/2020\nkhông rõ lúc nào\n\n", encoding="utf-8")
    result = run_cli("deadline", "--file", str(column), "--year", "2020", "--json")
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["kind"] == "window"
    assert second["kind"] is None and second["error"]
    assert set(second) == DEADLINE_KEYS | {"error"}


def test_plan_check_json_on_the_sample_plan(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("plan", "check", str(SAMPLE_PLAN), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["problems"] == []
    assert len(data["tasks"]) == 35
    task = data["tasks"][-1]
    assert set(task) == {
        "code", "section", "content", "products", "lead", "coordinating", "deadline", "note", "unlisted_units"
    }  # fmt: skip
    assert task["code"] == "VII.9" and task["deadline"]["due"] == "2020-12-31"
    assert data["file"] == {"kind": "yaml", "pages": None, "number": None, "issued_on": None}


def test_plan_check_lists_every_problem_with_file_and_row(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "ke-hoach.csv"
    plan.write_text(
        "TT,Nội dung nhiệm vụ,Sản phẩm,Phòng chủ trì,Phòng phối hợp,Thời gian hoàn thành\n"
        "I,Cải cách thể chế,,,,\n"
        "1,Việc một,Báo cáo,Phòng TCCB,,Quý I/2020\n"
        "2,Việc hai,Báo cáo,Phòng Không Tồn Tại,,Quý I/2020\n"
        "3,Việc ba,Báo cáo,Văn phòng Sở,,lúc nào đó\n",
        encoding="utf-8",
    )
    result = run_cli("plan", "check", str(plan))
    assert result.exit_code == 1
    assert f"{plan}:4: " in result.stderr and "Phòng Không Tồn Tại" in result.stderr
    assert f"{plan}:5: " in result.stderr
    as_json = json.loads(run_cli("plan", "check", str(plan), "--json").stdout)
    assert [(p["row"], p["field"]) for p in as_json["problems"]] == [(5, "deadline")]
    # an unknown unit is not a problem: kept as written, reported with its rows
    assert [(u["name"], u["rows"]) for u in as_json["unknown_units"]] == [("Phòng Không Tồn Tại", [4])]


def test_plan_import_refuses_a_file_with_problems_and_changes_nothing(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    plan = tmp_path / "sai.csv"
    plan.write_text(
        "TT,Nội dung nhiệm vụ,Phòng chủ trì,Thời gian hoàn thành\n1,Việc,Phòng TCCB,lúc nào đó\n",
        encoding="utf-8",
    )
    result = run_cli("plan", "import", str(plan), "--year", "2020", "--plan", "CCHC-2020")
    assert result.exit_code == 1 and "Cơ sở dữ liệu giữ nguyên" in result.stderr
    assert len(json.loads(run_cli("tasks", "list", "--json").stdout)) == 35


def test_plan_import_dry_run_reports_changes_without_writing(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli("init", "--no-sample")
    result = run_cli("plan", "import", str(SAMPLE_PLAN), "--dry-run")
    assert result.exit_code == 0 and "Sẽ nhập kế hoạch CCHC-2020: 35 mới" in result.stdout
    assert run_cli("tasks", "list").exit_code == 1  # still no plan
    imported = run_cli("plan", "import", str(SAMPLE_PLAN))
    assert "Đã nhập kế hoạch CCHC-2020: 35 mới" in imported.stdout
    again = run_cli("plan", "import", str(SAMPLE_PLAN))
    assert "0 mới, 0 cập nhật, 35 không đổi" in again.stdout


@pytest.mark.slow
def test_cli_works_on_postgresql(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from tests.support.databases import postgres_schema_url

    urls = postgres_schema_url()
    url = next(urls)
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", url)
    try:
        assert run_cli("init").exit_code == 0
        assert run_cli("tasks", "done", "I.1").exit_code == 0
        tasks = json.loads(run_cli("tasks", "list", "--status", "done", "--json").stdout)
        assert [t["code"] for t in tasks] == ["I.1"]
    finally:
        urls.close()


def test_help_is_in_vietnamese_and_starts_without_heavy_imports() -> None:
    code = (
        "import sys; sys.argv=['nhacviec','--help']\n"
        "from cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'docx', 'openpyxl', 'holidays', 'alembic') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert "Nhắc việc" in result.stdout
    assert "HEAVY []" in result.stdout
