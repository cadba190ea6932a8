"""Reports received (store and CLI), the planner's follow-ups stopping for them, and extension requests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from plan.errors import UserError
from store.db import make_engine, session_scope
from store.models import EventKind, Plan
from store.reports import (
    EXTENSION_REJECTED,
    EXTENSION_REQUESTED,
    ReportError,
    approve_extension,
    pending_extensions,
    record_report,
    reject_extension,
    reports_received,
    request_extension,
)
from store.tasks import TaskError, find_task, history, mark_done
from tests.support.cli_runner import CliResult

Cli = Callable[..., CliResult]


@pytest.fixture
def registered(run_cli: Cli) -> Cli:
    """The CLI (``reports`` and ``extensions`` are registered in cli/main.py)."""
    return run_cli


@pytest.fixture
def cli(registered: Cli) -> Cli:
    """The CLI over the sample plan in the test's SQLite database."""
    assert registered("init").exit_code == 0
    return registered


@pytest.fixture
def sample(database_url: str, registered: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The sample plan (loaded by ``nhacviec init``) on SQLite and, when configured, on PostgreSQL."""
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    result = registered("init")
    assert result.exit_code == 0, result.stderr
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def followups(cli: Cli, period: str = "2020-Q1") -> list[dict[str, object]]:
    result = cli("simulate", "--from", "2020-03-01", "--to", "2020-03-31", "--json")
    assert result.exit_code == 0, result.stderr
    return [n for n in json.loads(result.stdout) if n["kind"] == "report_followup" and n["period"] == period]


def to_units(notification: dict[str, object]) -> set[str]:
    return {r["unit"] for r in notification["recipients"] if r["role"] == "to"}  # type: ignore[attr-defined, index]


# --- CLI ------------------------------------------------------------------------------------------


def test_received_by_unit_name_without_diacritics_then_listed(cli: Cli) -> None:
    result = cli("reports", "received", "cac phong chuyen mon, nghiep vu", "Quý I", "--at", "12/03/2020")
    assert result.exit_code == 0, result.stderr
    assert "Đã ghi nhận Báo cáo quý I năm 2020 của PCMNV ngày 12/03/2020." in result.stdout

    listed = json.loads(cli("reports", "list", "--json").stdout)

    assert len(listed) == 1
    assert listed[0] | {"actor": None} == {
        "plan": "CCHC-2020",
        "unit": "PCMNV",
        "period": "Q1",
        "period_title": "Báo cáo quý I năm 2020",
        "cutoff": "2020-03-14",
        "received_on": "2020-03-12",
        "actor": None,
        "via": "cli",
        "note": None,
    }


def test_received_twice_keeps_the_first_date_and_takes_the_new_note(cli: Cli) -> None:
    cli("reports", "received", "PCMNV", "Q1", "--at", "12/03/2020")
    again = cli("reports", "received", "PCMNV", "q1", "--at", "20/03/2020", "--note", "Công văn 45/BC")

    assert again.exit_code == 0, again.stderr
    assert "đã ghi nhận ngày 12/03/2020; đã cập nhật ghi chú" in again.stdout
    [report] = json.loads(cli("reports", "list", "--json").stdout)
    assert (report["received_on"], report["note"]) == ("2020-03-12", "Công văn 45/BC")


def test_list_is_ordered_by_period_cutoff_then_unit_and_prints_a_table(cli: Cli) -> None:
    cli("reports", "received", "DVTH", "H1", "--at", "10/06/2020")
    cli("reports", "received", "PCMNV", "Q1", "--at", "12/03/2020")
    cli("reports", "received", "DVTH", "Q1", "--at", "13/03/2020")

    listed = json.loads(cli("reports", "list", "--json").stdout)
    table = cli("reports", "list")

    assert [(r["period"], r["unit"]) for r in listed] == [("Q1", "DVTH"), ("Q1", "PCMNV"), ("H1", "DVTH")]
    assert table.exit_code == 0
    assert "Báo cáo 6 tháng đầu năm 2020" in table.stdout and "10/06/2020" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("TCCB", "Q1"), "không thuộc các đơn vị phải báo cáo định kỳ"),
        (("PCMNV", "Q5"), "Kỳ báo cáo không hợp lệ"),
        (("Phòng Không Có", "Q1"), "Không biết đơn vị"),
        (("PCMNV", "Q1", "--at", "31/02/2020"), "không hợp lệ"),
        (("PCMNV", "Q1", "--plan", "KH-KHAC"), "Không có kế hoạch mã 'KH-KHAC'"),
    ],
    ids=["unit-not-in-regime", "bad-period", "unknown-unit", "bad-date", "unknown-plan"],
)
def test_received_refuses_with_one_clear_sentence(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli("reports", "received", *args)

    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(cli("reports", "list", "--json").stdout) == []


# --- the planner ------------------------------------------------------------------------------------


def test_a_recorded_report_removes_that_unit_from_the_follow_up(cli: Cli) -> None:
    [before] = followups(cli)
    assert to_units(before) == {"PCMNV", "DVTH"}

    cli("reports", "received", "PCMNV", "Q1", "--at", "13/03/2020")
    [after] = followups(cli)

    assert to_units(after) == {"DVTH"}
    assert {r["unit"] for r in after["recipients"] if r["role"] == "cc"} == {"VP"}  # type: ignore[index]


def test_the_follow_up_disappears_once_every_unit_reported(cli: Cli) -> None:
    cli("reports", "received", "PCMNV", "Q1", "--at", "13/03/2020")
    cli("reports", "received", "DVTH", "Q1", "--at", "16/03/2020")  # on the follow-up day itself

    assert followups(cli) == []


def test_a_report_received_after_the_follow_up_day_does_not_rewrite_the_past(cli: Cli) -> None:
    cli("reports", "received", "PCMNV", "Q1", "--at", "17/03/2020")

    [followup] = followups(cli)

    assert to_units(followup) == {"PCMNV", "DVTH"}


# --- store ------------------------------------------------------------------------------------------


def test_record_report_normalises_the_period_and_says_whether_it_was_new(sample: Engine) -> None:
    with session_scope(sample) as session:
        first = record_report(session, None, "DVTH", "6 tháng", date(2020, 6, 10), "vp-user", "web", None)
        second = record_report(session, "CCHC-2020", "DVTH", "H1", date(2020, 6, 12), "other", "cli", None)

    assert first.created and not second.created
    assert first.submission.period == "H1" and second.submission.received_on == date(2020, 6, 10)
    with session_scope(sample) as session:
        [received] = reports_received(session)
    assert (received.period, received.actor, received.via) == ("H1", "vp-user", "web")


def test_record_report_refuses_a_period_kind_the_plan_does_not_ask_for(sample: Engine) -> None:
    with session_scope(sample) as session:
        row = session.get(Plan, find_task(session, "I.1").plan_id)
        assert row is not None
        row.reporting = {**(row.reporting or {}), "periods": ["quarterly"]}
        session.add(row)
    with session_scope(sample) as session, pytest.raises(ReportError, match="không yêu cầu"):
        record_report(session, None, "PCMNV", "9M", date(2020, 9, 10), "u", "cli")


# --- extension requests -----------------------------------------------------------------------------


def test_an_approved_request_moves_the_due_date_and_leaves_nothing_pending(sample: Engine) -> None:
    with session_scope(sample) as session:
        task = find_task(session, "IV.4")
        request_extension(
            session,
            task,
            to=date(2020, 12, 31),
            reason="Chờ Sở Nội vụ",
            on=date(2020, 11, 20),
            actor="telegram:1",
            via="telegram",
        )
        [pending] = pending_extensions(session)
        assert (pending.task.code, pending.lead, pending.event.new_due) == (
            "IV.4",
            ("TCCB",),
            date(2020, 12, 31),
        )

        event = approve_extension(session, task, on=date(2020, 11, 23), actor="admin", via="cli")

        assert task.effective_due == date(2020, 12, 31)
        assert (event.kind, event.old_due, event.new_due) == (
            EventKind.EXTENDED,
            date(2020, 11, 30),
            date(2020, 12, 31),
        )
        assert event.note == "Chờ Sở Nội vụ (theo đề nghị của telegram:1 ngày 20/11/2020)"
        assert pending_extensions(session) == []
        assert [e.kind for e in history(session, task)][-2:] == [EXTENSION_REQUESTED, EventKind.EXTENDED]


def test_approving_an_undated_task_sets_its_date(sample: Engine) -> None:
    with session_scope(sample) as session:
        task = find_task(session, "IV.8")
        request_extension(
            session,
            task,
            to=date(2020, 10, 1),
            reason="Đã có Nghị định",
            on=date(2020, 9, 1),
            actor="a",
            via="telegram",
        )
        event = approve_extension(
            session, task, on=date(2020, 9, 2), actor="admin", via="cli", to=date(2020, 10, 15)
        )

        assert (event.kind, task.effective_due) == (EventKind.DUE_SET, date(2020, 10, 15))


def test_a_rejected_or_overtaken_request_is_no_longer_pending(sample: Engine) -> None:
    with session_scope(sample) as session:
        rejected, done = find_task(session, "IV.4"), find_task(session, "IV.5")
        for task in (rejected, done):
            request_extension(
                session,
                task,
                to=date(2021, 1, 31),
                reason="Thiếu kinh phí",
                on=date(2020, 11, 2),
                actor="a",
                via="telegram",
            )
        reject_extension(
            session, rejected, reason="Không có căn cứ", on=date(2020, 11, 3), actor="admin", via="cli"
        )
        mark_done(session, done, on=date(2020, 11, 4), actor="a", via="telegram")

        assert pending_extensions(session) == []
        assert history(session, rejected)[-1].kind == EXTENSION_REJECTED
        assert rejected.effective_due == date(2020, 11, 30)
        with pytest.raises(TaskError, match="không có đề nghị gia hạn"):
            approve_extension(session, rejected, on=date(2020, 11, 5), actor="admin", via="cli")


@pytest.mark.parametrize(
    ("to", "reason", "message"),
    [
        (date(2020, 11, 30), "Lý do", "phải sau hạn hiện tại 30/11/2020"),
        (date(2020, 12, 31), "  ", "Cần ghi lý do"),
    ],
    ids=["not-later", "no-reason"],
)
def test_a_request_must_move_the_date_later_and_give_a_reason(
    sample: Engine, to: date, reason: str, message: str
) -> None:
    with session_scope(sample) as session, pytest.raises(UserError, match=message):
        request_extension(
            session,
            find_task(session, "IV.4"),
            to=to,
            reason=reason,
            on=date(2020, 11, 2),
            actor="a",
            via="t",
        )


def test_extensions_cli_lists_approves_and_rejects(registered: Cli, sample: Engine) -> None:
    with session_scope(sample) as session:
        for code in ("IV.4", "IV.5"):
            request_extension(
                session,
                find_task(session, code),
                to=date(2021, 1, 15),
                reason="Chờ hướng dẫn",
                on=date(2020, 11, 2),
                actor="telegram:7",
                via="telegram",
            )

    listed = json.loads(registered("extensions", "list", "--json").stdout)
    assert [(r["task"], r["current_due"], r["requested_due"], r["reason"]) for r in listed] == [
        ("IV.4", "2020-11-30", "2021-01-15", "Chờ hướng dẫn"),
        ("IV.5", "2020-12-31", "2021-01-15", "Chờ hướng dẫn"),
    ]
    approved = registered("extensions", "approve", "iv.4", "--to", "10/01/2021")
    rejected = registered("extensions", "reject", "IV.5", "--reason", "Đề nghị hoàn thành đúng hạn")
    again = registered("extensions", "approve", "IV.5")

    assert approved.exit_code == 0 and "Đã duyệt gia hạn IV.4 đến 10/01/2021." in approved.stdout
    assert rejected.exit_code == 0
    assert again.exit_code == 1 and "không có đề nghị gia hạn nào đang chờ duyệt" in again.stderr
    assert "Không có đề nghị gia hạn nào" in registered("extensions", "list").stdout
    tasks = {t["code"]: t for t in json.loads(registered("tasks", "list", "--json").stdout)}
    assert (tasks["IV.4"]["due_as_written"], tasks["IV.5"]["due"]) == ("2021-01-10", "2020-12-31")
    assert tasks["IV.4"]["due"] == "2021-01-11"  # Sunday 10/01/2021: due the next working day
