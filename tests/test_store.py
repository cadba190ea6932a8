"""The store: importing plans (all or nothing, re-import by code) and task status with its history."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from plan.check import CheckedPlan, check_plan
from plan.importers.yaml_plan import read_yaml_plan
from plan.model import Problem
from plan.units import load_directory
from store.db import session_scope
from store.models import EventKind, Task, TaskEvent, TaskStatus, Unit
from store.plan_import import import_plan, sync_units
from store.tasks import TaskError, extend, find_task, history, list_tasks, mark_done, reopen, set_due

SETTINGS = Settings()
DIRECTORY = load_directory(SETTINGS.units_file)


def sample_plan() -> CheckedPlan:
    checked = check_plan(read_yaml_plan(SETTINGS.sample_plan), DIRECTORY, 2020)
    assert checked.problems == []
    return checked


def load_sample(engine: Engine, checked: CheckedPlan | None = None):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        sync_units(session, DIRECTORY)
        return import_plan(session, checked or sample_plan(), "CCHC-2020", actor="test")


def replace_task(checked: CheckedPlan, code: str, **raw_changes: object) -> CheckedPlan:
    tasks = [
        dataclasses.replace(t, raw=dataclasses.replace(t.raw, **raw_changes)) if t.code == code else t
        for t in checked.tasks
    ]
    return dataclasses.replace(checked, tasks=tasks)


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.exec(select(sa.func.count()).select_from(model)).one()


def test_sample_plan_imports_35_tasks_with_units_and_parsed_deadlines(engine: Engine) -> None:
    summary = load_sample(engine)
    assert len(summary.created) == 35
    with session_scope(engine) as session:
        views = list_tasks(session)
        by_code = {v.task.code: v for v in views}
        assert [v.task.code for v in views][:3] == ["I.1", "I.2", "I.3"]
        assert by_code["VII.5"].lead == ("VP", "TTRA")
        assert by_code["IV.4"].task.due == date(2020, 11, 30)  # "Trước tháng 12/2020"
        assert by_code["I.1"].task.start == date(2020, 1, 1)
        assert by_code["I.1"].task.due == date(2020, 1, 31)
        assert by_code["II.2"].task.deadline_kind == "unscheduled"
        assert by_code["IV.8"].task.deadline_kind == "event"
        assert by_code["VII.2"].task.deadline_text == "Qúy III/2020"
        assert session.exec(select(Unit).where(Unit.code == "TCCB")).one().name == "Phòng Tổ chức cán bộ"


def test_reimporting_the_same_plan_changes_nothing_and_keeps_status(engine: Engine) -> None:
    load_sample(engine)
    with session_scope(engine) as session:
        mark_done(session, find_task(session, "I.1"), on=date(2020, 1, 20), actor="vp", via="cli")
    summary = load_sample(engine)
    assert len(summary.unchanged) == 35 and not summary.created and not summary.updated
    with session_scope(engine) as session:
        task = find_task(session, "I.1")
        assert task.status == TaskStatus.DONE
        assert [e.kind for e in history(session, task)] == [EventKind.CREATED, EventKind.DONE]


def test_reimport_updates_tasks_by_code_and_records_what_changed(engine: Engine) -> None:
    load_sample(engine)
    with session_scope(engine) as session:
        mark_done(session, find_task(session, "I.2"), on=date(2020, 1, 25), actor="vp", via="cli")
    changed = replace_task(sample_plan(), "I.2", deadline="Trước 15/02/2020")
    changed = dataclasses.replace(changed, tasks=[t for t in changed.tasks if t.code != "VII.9"])
    changed = check_plan(
        dataclasses.replace(read_yaml_plan(SETTINGS.sample_plan), tasks=[t.raw for t in changed.tasks]),
        DIRECTORY,
        2020,
    )
    summary = load_sample(engine, changed)
    assert summary.updated == ["I.2"]
    assert summary.removed == ["VII.9"]
    with session_scope(engine) as session:
        task = find_task(session, "I.2")
        assert task.due == date(2020, 2, 14)
        assert task.status == TaskStatus.DONE  # history and status survive the re-import
        kinds = [e.kind for e in history(session, task)]
        assert kinds == [EventKind.CREATED, EventKind.DONE, EventKind.UPDATED]
        assert find_task(session, "VII.9").status == TaskStatus.REMOVED
        assert "VII.9" not in [v.task.code for v in list_tasks(session)]
    load_sample(engine)  # the task comes back with the full plan
    with session_scope(engine) as session:
        assert find_task(session, "VII.9").status == TaskStatus.OPEN


def test_a_failing_import_leaves_the_database_as_it_was(engine: Engine) -> None:
    load_sample(engine)
    before = (count(engine, Task), count(engine, TaskEvent))
    broken = sample_plan()
    # VII.9 names a unit the database does not know: the foreign key fails half-way through the import.
    broken.tasks[-1] = dataclasses.replace(broken.tasks[-1], lead=("NOPE",))
    broken = replace_task(broken, "I.1", content="changed content that must not be saved")
    with pytest.raises(sa.exc.IntegrityError), session_scope(engine) as session:
        import_plan(session, broken, "CCHC-2020", actor="test")
    assert (count(engine, Task), count(engine, TaskEvent)) == before
    with session_scope(engine) as session:
        assert find_task(session, "I.1").content.startswith("Lập Kế hoạch tự kiểm tra")


def test_a_plan_with_problems_is_refused(engine: Engine) -> None:
    checked = sample_plan()
    checked.problems.append(Problem("ke-hoach.yaml", 12, "lead", "Không biết đơn vị"))
    with pytest.raises(ValueError), session_scope(engine) as session:
        import_plan(session, checked, "CCHC-2020", actor="test")
    assert count(engine, Task) == 0


def test_done_extend_and_set_due_write_history_with_who_and_why(engine: Engine) -> None:
    load_sample(engine)
    with session_scope(engine) as session:
        task = find_task(session, "iv.4")  # codes are case-insensitive
        extend(
            session,
            task,
            to=date(2020, 12, 20),
            reason="Chờ UBND tỉnh",
            on=date(2020, 11, 25),
            actor="an",
            via="cli",
        )
        assert task.effective_due == date(2020, 12, 20)
        mark_done(session, task, on=date(2020, 12, 18), actor="binh", via="telegram", note="CV số 12")
        reopen(session, task, on=date(2020, 12, 19), actor="an", via="cli", note="nhầm")
        undated = find_task(session, "II.2")
        set_due(session, undated, due=date(2020, 9, 30), on=date(2020, 3, 1), actor="an", via="web")
        assert undated.effective_due == date(2020, 9, 30)
    with session_scope(engine) as session:
        events = history(session, find_task(session, "IV.4"))
        assert [(e.kind, e.actor, e.via) for e in events[1:]] == [
            (EventKind.EXTENDED, "an", "cli"),
            (EventKind.DONE, "binh", "telegram"),
            (EventKind.REOPENED, "an", "cli"),
        ]
        assert (events[1].old_due, events[1].new_due, events[1].note) == (
            date(2020, 11, 30),
            date(2020, 12, 20),
            "Chờ UBND tỉnh",
        )
        assert events[2].effective_on == date(2020, 12, 18) and events[2].note == "CV số 12"


@pytest.mark.parametrize(
    ("code", "action", "message"),
    [
        (
            "I.1",
            lambda s, t: extend(
                s, t, to=date(2020, 1, 10), reason="x", on=date(2020, 1, 2), actor="a", via="c"
            ),
            "phải sau hạn hiện tại",
        ),
        (
            "II.2",
            lambda s, t: extend(
                s, t, to=date(2020, 5, 1), reason="x", on=date(2020, 1, 2), actor="a", via="c"
            ),
            "chưa có hạn",  # the remedy is named by its Fix, and each edge says it (tests/test_architecture.py)
        ),
        (
            "I.1",
            lambda s, t: set_due(s, t, due=date(2020, 5, 1), on=date(2020, 1, 2), actor="a", via="c"),
            "đã có thời hạn",
        ),
        ("I.1", lambda s, t: reopen(s, t, on=date(2020, 1, 2), actor="a", via="c"), "chưa hoàn thành"),
    ],
)
def test_impossible_status_changes_are_refused_with_a_reason(engine: Engine, code, action, message) -> None:  # type: ignore[no-untyped-def]
    load_sample(engine)
    with pytest.raises(TaskError, match=message), session_scope(engine) as session:
        action(session, find_task(session, code))


def test_marking_a_task_done_twice_is_refused(engine: Engine) -> None:
    load_sample(engine)
    with session_scope(engine) as session:
        mark_done(session, find_task(session, "I.1"), on=date(2020, 1, 20), actor="a", via="c")
    with pytest.raises(TaskError, match="20/01/2020"), session_scope(engine) as session:
        mark_done(session, find_task(session, "I.1"), on=date(2020, 1, 21), actor="a", via="c")


def test_listing_filters_by_unit_status_and_overdue(engine: Engine) -> None:
    load_sample(engine)
    with session_scope(engine) as session:
        mark_done(session, find_task(session, "IV.3"), on=date(2020, 3, 1), actor="a", via="c")
        tccb = [v.task.code for v in list_tasks(session, unit="TCCB")]
        assert tccb == [f"III.{i}" for i in range(1, 4)] + [f"IV.{i}" for i in range(1, 9)]
        assert [v.task.code for v in list_tasks(session, status="done")] == ["IV.3"]
        overdue = [v.task.code for v in list_tasks(session, overdue_at=date(2020, 2, 1))]
        assert overdue == ["I.1", "I.2", "II.1"]
        coordinating = {v.task.code for v in list_tasks(session, unit="DVTH")}
        assert "V.1" in coordinating and "I.1" not in coordinating


def test_unknown_task_and_plan_codes_say_what_exists(engine: Engine) -> None:
    load_sample(engine)
    with pytest.raises(TaskError, match=r"IX\.1"), session_scope(engine) as session:
        find_task(session, "IX.1")
    with pytest.raises(TaskError, match="CCHC-2020"), session_scope(engine) as session:
        find_task(session, "I.1", "KH-1999")
