"""The execution report reads the history's days in the settings' time zone (store.report_data has no
fallback zone of its own)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from store.db import make_engine, session_scope
from store.models import Task, TaskEvent
from store.report_data import report_task
from store.tasks import find_task, history, mark_done
from tests.support.cli_runner import CliResult

Cli = Callable[..., CliResult]


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
