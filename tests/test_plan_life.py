"""Plans have a life: listed, archived (the sample when a real plan comes), restored, removed with an export,
closed; a task code several active plans share is refused without --plan. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.plan_files import imported


@pytest.fixture
def cli(run_cli, database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    return run_cli


def test_importing_a_real_plan_archives_the_sample_and_nothing_of_2020_is_planned(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    imported(cli, tmp_path)
    plans = {p["code"]: p for p in json.loads(cli("plan", "list", "--json", "--at", "01/06/2026").stdout)}
    assert plans["CCHC-2020"]["status"] == "archived" and plans["CCHC-2020"]["sample"] is True
    assert plans["KH-2026"]["status"] == "active" and plans["KH-2026"]["sample"] is False
    assert plans["KH-2026"]["number"] == "15/KH-SGDĐT"
    assert plans["KH-2026"]["issued_on"] == "2026-01-10"
    assert plans["KH-2026"]["year"] == 2026
    assert plans["KH-2026"]["tasks"]["total"] == 2
    assert plans["KH-2026"]["closing_on"] == "2027-03-31"
    assert plans["CCHC-2020"]["tasks"]["total"] == 35

    result = cli("simulate", "--from", "01/01/2026", "--to", "31/12/2026", "--json")
    assert result.exit_code == 0, result.stderr
    notifications = json.loads(result.stdout)
    assert notifications, "the 2026 plan plans something"
    assert {n["plan"] for n in notifications if n["plan"] is not None} == {"KH-2026"}
    assert not [n for n in notifications if n["task"] and n["plan"] != "KH-2026"]

    table = cli("plan", "list", "--at", "01/06/2026").stdout
    assert "KH-2026" in table and "15/KH-SGDĐT" in table and "lưu trữ" in table


def test_a_code_two_active_plans_have_is_refused_without_plan(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imported(cli, tmp_path)
    # The sample is archived: I.1 is the 2026 plan's.
    done = cli("tasks", "done", "I.1", "--at", "01/06/2026")
    assert done.exit_code == 0, done.stderr
    shown = json.loads(cli("tasks", "list", "--plan", "KH-2026", "--json").stdout)
    assert {t["code"]: t["status"] for t in shown}["I.1"] == "done"

    assert cli("plan", "restore", "CCHC-2020").exit_code == 0
    ambiguous = cli("tasks", "done", "I.2", "--at", "01/06/2026")
    assert ambiguous.exit_code != 0
    assert "CCHC-2020" in ambiguous.stderr and "KH-2026" in ambiguous.stderr and "--plan" in ambiguous.stderr
    assert "Traceback" not in ambiguous.stderr
    chosen = cli("tasks", "done", "I.2", "--plan", "CCHC-2020", "--at", "01/02/2020")
    assert chosen.exit_code == 0, chosen.stderr
    sample = {t["code"]: t for t in json.loads(cli("tasks", "list", "--plan", "CCHC-2020", "--json").stdout)}
    assert sample["I.2"]["status"] == "done"

    assert cli("plan", "archive", "CCHC-2020").exit_code == 0
    notifications = json.loads(
        cli("simulate", "--from", "01/01/2020", "--to", "31/12/2020", "--json").stdout or "[]"
    )
    assert notifications == [] or all(n["plan"] != "CCHC-2020" for n in notifications)


def test_remove_asks_then_exports_the_history_and_deletes(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imported(cli, tmp_path)
    cli("tasks", "done", "IV.4", "--plan", "CCHC-2020", "--note", "Công văn 123", "--at", "20/11/2020")
    refused = cli("plan", "remove", "CCHC-2020")  # no terminal to answer: not confirmed
    assert refused.exit_code != 0 and "--yes" in refused.stderr
    assert any(p["code"] == "CCHC-2020" for p in json.loads(cli("plan", "list", "--json").stdout))

    removed = cli("plan", "remove", "CCHC-2020", "--yes")
    assert removed.exit_code == 0, removed.stderr
    path = Path(removed.stdout.split("ghi vào ")[1].strip().rstrip(".").replace("\n", ""))
    export = json.loads(path.read_text(encoding="utf-8"))
    assert export["plan"]["code"] == "CCHC-2020"
    assert len(export["tables"]["tasks"]) == 35
    done_events = [e for e in export["tables"]["task_events"] if e["kind"] == "done"]
    assert [e["note"] for e in done_events] == ["Công văn 123"]
    assert [p["code"] for p in json.loads(cli("plan", "list", "--json").stdout)] == ["KH-2026"]
    assert cli("tasks", "show", "IV.4").exit_code != 0


def test_a_plan_closes_with_one_list_to_the_office_and_escalates_no_more(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imported(cli, tmp_path)
    # default: 31 March of the next year; the Office gets one list, the ladder stops after it
    year = json.loads(cli("simulate", "--from", "01/06/2026", "--to", "30/06/2027", "--json").stdout)
    closings = [n for n in year if n["kind"] == "closing"]
    assert [(n["at"][:10], n["plan"]) for n in closings] == [("2027-03-31", "KH-2026")]
    assert {r["unit"] for r in closings[0]["recipients"]} == {"VP"}
    escalations = [n for n in year if n["kind"] == "escalation"]
    assert escalations and max(n["at"][:10] for n in escalations) <= "2027-03-31"

    result = cli("plan", "set", "KH-2026", "--closing", "15/01/2027")
    assert result.exit_code == 0, result.stderr
    plans = {p["code"]: p for p in json.loads(cli("plan", "list", "--json").stdout)}
    assert plans["KH-2026"]["closing_on"] == "2027-01-15"
    year = json.loads(cli("simulate", "--from", "01/06/2026", "--to", "30/06/2027", "--json").stdout)
    assert [n["at"][:10] for n in year if n["kind"] == "closing"] == ["2027-01-15"]
    assert max(n["at"][:10] for n in year if n["kind"] == "escalation") <= "2027-01-15"
    cli("tasks", "done", "I.1", "--at", "10/01/2027")
    cli("tasks", "done", "I.2", "--at", "10/01/2027")
    year = json.loads(cli("simulate", "--from", "01/06/2026", "--to", "30/06/2027", "--json").stdout)
    assert [n for n in year if n["kind"] == "closing"] == []  # nothing left unfinished: no list

    preview = cli("templates", "preview", "escalation", "--task", "I.2", "--plan", "KH-2026")
    assert preview.exit_code == 0, preview.stderr
    assert "KH-2026 (số 15/KH-SGDĐT ngày 10/01/2026)" in preview.stdout  # the document's number and date


def test_closing_date_is_settable(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imported(cli, tmp_path)
    result = cli("plan", "set", "KH-2026", "--closing", "31/01/2027")
    assert result.exit_code == 0, result.stderr
    plans = {p["code"]: p for p in json.loads(cli("plan", "list", "--json").stdout)}
    assert plans["KH-2026"]["closing_on"] == "2027-01-31"
    assert cli("plan", "set", "KH-2026", "--closing", "default").exit_code == 0
    plans = {p["code"]: p for p in json.loads(cli("plan", "list", "--json").stdout)}
    assert plans["KH-2026"]["closing_on"] == "2027-03-31"
    unknown = cli("plan", "archive", "KH-1999")
    assert unknown.exit_code != 0 and "KH-2026" in unknown.stderr and "Traceback" not in unknown.stderr


def test_migration_marks_an_existing_sample_and_archives_it_beside_a_real_plan(database_url: str) -> None:
    import sqlalchemy as sa
    from alembic import command

    from store.db import alembic_config, make_engine, upgrade_schema

    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0012")
        with engine.begin() as connection:
            for code, source in (
                ("CCHC-2020", "/srv/config/ke-hoach-cchc-2020.yaml"),
                ("KH-2026", "kh.docx"),
            ):
                connection.execute(
                    sa.text(
                        "INSERT INTO plans (code, title, year, source_file, imported_at) "
                        "VALUES (:code, :code, 2020, :source, CURRENT_TIMESTAMP)"
                    ),
                    {"code": code, "source": source},
                )
            connection.execute(
                sa.text(
                    "INSERT INTO rules (id, position, data, updated_at, updated_by) "
                    "VALUES ('reminder', 1, '{}', CURRENT_TIMESTAMP, 'init')"
                )
            )
        upgrade_schema(engine)
        with engine.connect() as connection:
            rules = [row[0] for row in connection.execute(sa.text("SELECT id FROM rules ORDER BY position"))]
            assert rules == ["reminder", "plan-closing"]
            rows = connection.execute(
                sa.text("SELECT code, status, is_sample FROM plans ORDER BY code")
            ).all()
        assert [(code, status, bool(sample)) for code, status, sample in rows] == [
            ("CCHC-2020", "archived", True),
            ("KH-2026", "active", False),
        ]
    finally:
        engine.dispose()


def test_the_bot_settles_a_shared_code_by_the_chat_s_unit(cli, tmp_path: Path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from store.db import make_engine, session_scope
    from store.tasks import TaskError, find_task, plan_of

    imported(cli, tmp_path)
    assert cli("plan", "restore", "CCHC-2020").exit_code == 0
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            # I.2: the sample's is led by the Office (VP), the 2026 plan's by TCCB
            assert plan_of(session, find_task(session, "I.2", units=("TCCB",))).code == "KH-2026"
            assert plan_of(session, find_task(session, "I.2", units=("VP",))).code == "CCHC-2020"
            with pytest.raises(TaskError, match=r"CCHC-2020, KH-2026|KH-2026, CCHC-2020"):
                find_task(session, "I.2", units=("CNTT",))
    finally:
        engine.dispose()
