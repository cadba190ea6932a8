"""A due date on a day off moves to the next working day (Civil Code 2015, Art. 148): "Trước 15/6/2026" is
Sunday 14/06/2026, so the task is due Monday 15/06 and escalates from Tuesday 16/06. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.support.plan_files import imported


@pytest.fixture
def cli(run_cli, database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    return run_cli


def test_a_deadline_on_sunday_is_due_monday_and_escalates_from_tuesday(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imported(cli, tmp_path)
    # deadline --json stays the pure reading of the phrase
    pure = json.loads(cli("deadline", "Trước 15/6/2026", "--year", "2026", "--json").stdout)
    assert pure["due"] == "2026-06-14"

    tasks = {t["code"]: t for t in json.loads(cli("tasks", "list", "--json", "--at", "15/06/2026").stdout)}
    assert tasks["I.1"]["due"] == "2026-06-15" and tasks["I.1"]["due_as_written"] == "2026-06-14"
    assert tasks["I.1"]["overdue"] is False  # Monday 15/06 is still in time
    assert tasks["I.2"]["due"] == tasks["I.2"]["due_as_written"] == "2026-09-29"  # a Tuesday: unchanged
    late = {t["code"]: t for t in json.loads(cli("tasks", "list", "--json", "--at", "16/06/2026").stdout)}
    assert late["I.1"]["overdue"] is True

    result = cli("simulate", "--from", "01/05/2026", "--to", "31/07/2026", "--task", "I.1", "--json")
    assert result.exit_code == 0, result.stderr
    notifications = json.loads(result.stdout)
    escalations = [n for n in notifications if n["kind"] == "escalation"]
    assert escalations and escalations[0]["at"].startswith("2026-06-16")
    assert all(date.fromisoformat(n["at"][:10]) >= date(2026, 6, 16) for n in escalations)
    reminders = sorted(n["at"][:10] for n in notifications if n["kind"] == "reminder")
    assert reminders[-1] == "2026-06-12"  # 1 working day before Monday 15/06
    assert all(n["plan"] == "KH-2026" for n in notifications)

    preview = cli(
        "templates", "preview", "reminder", "--task", "I.1", "--plan", "KH-2026", "--channel", "zalo"
    )
    assert preview.exit_code == 0, preview.stderr
    assert 'Hạn: 15/06/2026, thứ Hai; kế hoạch ghi "Trước 15/6/2026"' in preview.stdout
    escalation = cli("templates", "preview", "escalation", "--task", "I.1", "--plan", "KH-2026")
    assert "quá hạn 1 ngày làm việc" in escalation.stdout
    assert "15/06/2026" in escalation.stdout
