"""Big work streams: JSON written as it goes, tables that summarise, `plan check` of a long plan, a long
catch-up day by day."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.output import TABLE_LIMIT, plain_table, write_json, write_jsonl

YEAR = ("simulate", "--from", "2020-01-01", "--to", "2020-12-31")


def test_write_json_and_jsonl_are_the_same_content_as_json_dumps() -> None:
    items = [{"a": i, "text": "Nhắc việc «quý III»", "none": None, "list": [i, "x"]} for i in range(4500)]
    out = io.StringIO()
    assert write_json(items, out) == 4500
    assert json.loads(out.getvalue()) == items and "\n" not in out.getvalue().rstrip("\n")
    assert "Nhắc việc" in out.getvalue()  # not \\u escapes
    lines = io.StringIO()
    write_jsonl(items, lines)
    assert [json.loads(line) for line in lines.getvalue().splitlines()] == items
    empty = io.StringIO()
    write_json([], empty)
    assert json.loads(empty.getvalue()) == []


def test_simulate_json_is_compact_jsonl_is_one_a_line_and_the_table_summarises(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    compact = run_cli(*YEAR, "--json")
    timeline = json.loads(compact.stdout)
    assert len(timeline) > TABLE_LIMIT, "the sample's year is long enough to be summarised"
    assert compact.stdout.count("\n") == 1  # compact: one line
    assert set(timeline[0]) >= {"at", "kind", "rule", "task", "period", "level", "recipients", "key"}
    lines = run_cli(*YEAR, "--jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == timeline

    table = run_cli(*YEAR).stdout
    assert f"Chỉ in {TABLE_LIMIT} dòng đầu trong {len(timeline)} dòng: thêm --all" in table
    assert "Tóm tắt theo tháng:" in table and "Tháng 12/2020:" in table
    assert f"{len(timeline)} thông báo." in table
    everything = run_cli(*YEAR, "--all").stdout
    last = timeline[-1]
    assert last["key"].split("/")[0] in everything or last["rule"] in everything
    rows = [line for line in everything.splitlines() if re.match(r"^(T\d|CN) \d\d/\d\d/2020", line)]
    assert len(rows) == len(timeline)  # one line per notification, each starting with its date


def test_a_plain_table_aligns_its_columns_and_cuts_long_cells() -> None:
    out = io.StringIO()
    plain_table(("Mã", "Nội dung"), [("I.1", "ngắn"), ("II.10", "x" * 100)], out=out, widest=20)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Mã     Nội dung")
    assert lines[2].startswith("I.1    ngắn") and lines[3].endswith("…") and len(lines[3]) <= 7 + 20


def write_long_plan(path: Path, tasks: int, bad: int) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["TT", "Nội dung nhiệm vụ", "Sản phẩm", "Phòng chủ trì", "Phòng phối hợp", "Thời gian hoàn thành"]
        )
        writer.writerow(["I", "Công tác chung", "", "", "", ""])
        for i in range(1, tasks + 1):
            deadline = (
                "mùa thu năm ngoái nữa" if i <= bad else f"Trước {1 + i % 28:02d}/{1 + i % 12:02d}/2020"
            )
            writer.writerow([str(i), f"Nhiệm vụ số {i}", "Báo cáo", "Văn phòng Sở", "", deadline])
    return path


def test_plan_check_of_a_long_plan_shows_a_summary_and_its_problems(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = write_long_plan(tmp_path / "dai.csv", 400, bad=350)
    result = run_cli("plan", "check", str(plan), "--year", "2020")
    assert result.exit_code == 1
    assert f"Chỉ in {TABLE_LIMIT} dòng đầu trong 400 dòng" in result.stdout
    assert "400 nhiệm vụ theo loại thời hạn: không hiểu được 350, " in result.stdout
    assert "Chủ trì nhiều nhất: VP 400." in result.stdout
    problems = [line for line in result.stderr.splitlines() if "dai.csv:" in line]
    assert len(problems) == TABLE_LIMIT
    assert "... và 50 lỗi nữa" in result.stderr
    everything = run_cli("plan", "check", str(plan), "--year", "2020", "--all")
    assert len([line for line in everything.stderr.splitlines() if "dai.csv:" in line]) == 350
    assert "Chỉ in" not in everything.stdout and "Nhiệm vụ số 400" in everything.stdout
    checked = json.loads(run_cli("plan", "check", str(plan), "--year", "2020", "--json").stdout)
    assert len(checked["tasks"]) == 400 and len(checked["problems"]) == 350


def outbox_items(run_cli) -> set[str]:  # type: ignore[no-untyped-def]
    listed = json.loads(run_cli("outbox", "list", "--json").stdout)
    return {item["key"] for message in listed for item in message["items"]}


def test_a_long_catch_up_goes_day_by_day_and_carries_what_one_pass_would(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    import delivery.pipeline
    import scheduler.passes
    from store.db import make_engine
    from store.state import last_pass

    monkeypatch.setenv("NHACVIEC_MAX_CATCHUP_DAYS", "400")
    results = {}
    for mode in ("one pass", "day by day"):
        monkeypatch.setenv("NHACVIEC_DATA_DIR", str(tmp_path / mode.replace(" ", "-")))
        monkeypatch.setattr(scheduler.passes, "CATCH_UP_DAYS", 10_000 if mode == "one pass" else 31)
        # day by day, a day with more than a few deliveries is prepared a few recipients at a time
        monkeypatch.setattr(delivery.pipeline, "SLICE_DELIVERIES", 10_000 if mode == "one pass" else 5)
        assert run_cli("init").exit_code == 0
        assert run_cli("run", "--once", "--at", "2020-09-01 07:30").exit_code == 0
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="nhacviec.pass"):
            result = run_cli("run", "--once", "--at", "2020-12-01 07:30")
        assert result.exit_code == 0, result.stderr
        results[mode] = outbox_items(run_cli)
        days = [r.getMessage() for r in caplog.records if r.getMessage().startswith("catch-up ")]
        if mode == "day by day":
            assert len(days) == 92 and days[0].startswith("catch-up 1/92 day=2020-09-01")
            assert days[-1].startswith("catch-up 92/92 day=2020-12-01")
            engine = make_engine(f"sqlite:///{tmp_path / 'day-by-day' / 'nhacviec.db'}")
            assert last_pass(engine) == datetime(2020, 12, 1, 0, 30, tzinfo=UTC)
        else:
            assert days == []
    assert results["day by day"] == results["one pass"]
    assert len(results["one pass"]) > 50
