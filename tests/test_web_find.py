"""Finding and taking out: the task list's search (accents optional) and filters, the .xlsx export (web and CLI)."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.engine import Engine

from plan.text import fold
from store.db import session_scope
from store.export import HEADERS
from store.planner_input import load_task_inputs
from store.tasks import get_plan
from tests.support.web_pages import PLAN, client_for, codes


@pytest.fixture
def engine(web_engine: Engine) -> Engine:
    """The sample plan with I.1 and IV.4 done, an admin and a TCCB account (tests/support/web_pages.py)."""
    return web_engine


def _all_tasks(engine: Engine) -> list[object]:
    with session_scope(engine) as db:
        return load_task_inputs(db, [get_plan(db, PLAN)])


def test_search_without_accents_finds_the_tasks_written_with_them(engine: Engine) -> None:
    client = client_for(engine)
    tasks = _all_tasks(engine)
    expected = [
        t.code for t in tasks if "bao cao" in fold(" ".join([t.content, *t.products, t.deadline_text]))
    ]
    assert len(expected) >= 3
    found = codes(client.get("/tasks?q=bao+cao").text)
    assert found[: len(expected)] == expected or set(expected) <= set(found)
    assert codes(client.get("/tasks?q=BÁO+CÁO").text) == found  # the same with accents and capitals
    assert codes(client.get("/tasks?q=IV.4").text) == ["IV.4"]
    assert codes(client.get("/tasks?q=khong+co+chu+nay+dau").text) == []
    assert "Không có nhiệm vụ nào khớp bộ lọc." in client.get("/tasks?q=khong+co+chu+nay+dau").text


def test_search_finds_a_unit_by_its_name_and_filters_combine(engine: Engine) -> None:
    client = client_for(engine)
    tasks = _all_tasks(engine)
    thanh_tra = [t.code for t in tasks if "TTRA" in (*t.lead, *t.coordinating)]
    assert codes(client.get("/tasks?q=thanh+tra").text) == thanh_tra
    lead_only = [t.code for t in tasks if "TTRA" in t.lead]
    assert codes(client.get("/tasks?unit=TTRA&role=lead").text) == lead_only
    december = codes(client.get("/tasks?month=12").text)
    assert december and all(
        (t.due_on(t.due) or t.due).month == 12
        for t in tasks
        if t.code in december and t.due  # type: ignore[attr-defined]
    )
    assert codes(client.get("/tasks?q=bao+cao&status=done").text) == [
        "I.1",
        "IV.4",
    ]  # the two done, both "Báo cáo"
    page = client.get("/tasks?q=bao+cao&section=IV").text
    export = re.search(r'href="(/tasks/export\.xlsx\?[^"]+)"', page)
    assert export and "q=bao+cao" in export.group(1) and "section=IV" in export.group(1)


def _sheet_rows(data: bytes) -> tuple[list[str], list[list[object]]]:
    sheet = openpyxl.load_workbook(BytesIO(data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "STT")
    return [str(c) for c in rows[header_at]], rows[header_at + 1 :]


def test_the_web_export_is_an_xlsx_with_every_task_in_the_plans_layout(engine: Engine) -> None:
    client = client_for(engine)
    response = client.get(f"/tasks/export.xlsx?plan={PLAN}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    header, rows = _sheet_rows(response.content)
    assert tuple(header) == HEADERS
    tasks = {t.code: t for t in _all_tasks(engine)}
    task_rows = {r[0]: r for r in rows if r[0] in tasks}
    assert list(task_rows) == list(tasks)  # every task, in plan order
    sections = [r[0] for r in rows if r[0] not in tasks]
    assert sections[0].startswith("I. ")  # the sections' rows, as in the plan
    iv4 = task_rows["IV.4"]
    assert iv4[7] == "Hoàn thành" and iv4[8].date().isoformat() == "2020-11-24" and "QĐ số 12" in iv4[9]
    assert iv4[5] == tasks["IV.4"].deadline_text
    filtered = client.get(f"/tasks/export.xlsx?plan={PLAN}&section=V")
    assert [r[0] for r in _sheet_rows(filtered.content)[1] if r[0] in tasks] == ["V.1", "V.2"]


def test_a_unit_account_exports_only_its_own_tasks(engine: Engine) -> None:
    tasks = _all_tasks(engine)
    mine = [t.code for t in tasks if "TCCB" in (*t.lead, *t.coordinating)]
    _, rows = _sheet_rows(client_for(engine, "tccb").get("/tasks/export.xlsx").content)
    assert [r[0] for r in rows if r[0] in {t.code for t in tasks}] == mine


def test_tasks_export_on_the_command_line_writes_the_same_layout(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    assert run_cli("tasks", "extend", "IV.4", "--to", "20/12/2020", "--reason", "Chờ UBND").exit_code == 0
    target = tmp_path / "ke-hoach.xlsx"
    result = run_cli("tasks", "export", str(target))  # today: the extension (recorded today) is in force
    assert result.exit_code == 0, result.stderr
    assert "Đã xuất 35 nhiệm vụ" in result.stdout
    header, rows = _sheet_rows(target.read_bytes())
    assert tuple(header) == HEADERS
    iv4 = next(r for r in rows if r[0] == "IV.4")
    assert iv4[6].date().isoformat() == "2020-12-20"
    assert "gia hạn đến 20/12/2020 (Chờ UBND)" in iv4[10]
    bad = run_cli("tasks", "export", str(tmp_path / "ke-hoach.csv"))
    assert bad.exit_code != 0 and "phải có đuôi .xlsx" in bad.stderr
