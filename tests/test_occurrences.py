"""Recurring work done period by period: occurrences, `tasks done --period`, the planner, the data migration."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from plan.deadline import parse_deadline
from planner.occurrences import normalise_period, occurrences_of

PLAN_2026 = (
    "TT,Nội dung nhiệm vụ,Sản phẩm,Phòng chủ trì,Phòng phối hợp,Thời gian hoàn thành\n"
    "IX,Công tác chung,,,,\n"
    "1,Báo cáo tình hình cải cách hành chính,Báo cáo tháng,Phòng TCCB,,Hằng tháng\n"
    "2,Rà soát thủ tục hành chính,Báo cáo quý,Văn phòng Sở,,Định kỳ hằng quý\n"
    "3,Báo cáo kết quả cải cách hành chính,Báo cáo,Văn phòng Sở,,"
    '"Định kỳ hàng quý, 6 tháng, 9 tháng, hàng năm"\n'
    "4,Lập kế hoạch tự kiểm tra,Kế hoạch,Phòng TCCB,,Trước 31/03/2026\n"
)


@pytest.fixture
def office(run_cli, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A database (SQLite, then PostgreSQL) with the directory and a 2026 plan holding recurring work."""
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    assert run_cli("init").exit_code == 0  # the sample directory has (placeholder) addresses
    plan = tmp_path / "ke-hoach-2026.csv"
    plan.write_text(PLAN_2026, encoding="utf-8")
    imported = run_cli("plan", "import", str(plan), "--year", "2026", "--plan", "KH-2026")
    assert imported.exit_code == 0, imported.stderr
    return run_cli


def _show(run_cli, code: str) -> dict:  # type: ignore[no-untyped-def]
    result = run_cli("tasks", "show", code, "--json", "--at", "15/12/2026")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _timeline(run_cli, code: str, start: str, end: str) -> list[dict]:  # type: ignore[no-untyped-def]
    result = run_cli("simulate", "--from", start, "--to", end, "--task", code, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_periods_are_named_as_the_office_writes_them() -> None:
    def names(text: str) -> list[str]:
        return [o.period for o in occurrences_of(text, parse_deadline(text, 2026).occurrences)]

    assert names("Hằng tháng") == [f"2026-{m:02d}" for m in range(1, 13)]
    assert names("Định kỳ hằng quý") == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    seed = "Định kỳ hàng quý, 6 tháng, 9 tháng, hàng năm"  # the sample plan's reporting regime
    assert names(seed) == ["2026-Q1", "2026-H1", "2026-9M", "2026"]
    june = occurrences_of(seed, parse_deadline(seed, 2026).occurrences)[1]
    assert june.answers_to("2026-Q2") and june.answers_to("2026-06")
    assert names("Định kỳ 6 tháng") == ["2026-H1", "2026-H2"]
    assert names("ngày 5 và 20 hằng tháng")[:2] == ["2026-01-05", "2026-01-20"]  # never two with one name
    assert [normalise_period(p) for p in ("11/2026", "Q3/2026", "quý 3/2026", "2026-h1", "2026")] == [
        "2026-11",
        "2026-Q3",
        "2026-Q3",
        "2026-H1",
        "2026",
    ]


def test_a_monthly_task_done_for_november_still_gets_its_december_reminder(office) -> None:  # type: ignore[no-untyped-def]
    run_cli = office
    done = run_cli("tasks", "done", "IX.1", "--period", "2026-11", "--at", "27/11/2026", "--note", "CV 12")
    assert done.exit_code == 0, done.stderr
    assert "IX.1 kỳ 2026-11" in done.stdout

    shown = _show(run_cli, "IX.1")
    periods = {o["period"]: o for o in shown["occurrences"]}
    assert list(periods) == [f"2026-{m:02d}" for m in range(1, 13)]
    assert periods["2026-11"]["status"] == "done" and periods["2026-11"]["done_on"] == "2026-11-27"
    assert periods["2026-12"] == periods["2026-12"] | {"status": "open", "due": "2026-12-31", "done_on": None}
    # January was never reported; its due date, Saturday 31/01, moves to the next working day
    assert (
        shown["status"] == "open" and shown["due"] == "2026-02-02" and shown["due_as_written"] == "2026-01-31"
    )
    assert [(e["kind"], e["period"]) for e in shown["history"]] == [("created", None), ("done", "2026-11")]

    december = [n for n in _timeline(run_cli, "IX.1", "01/12/2026", "31/12/2026") if n["kind"] == "reminder"]
    assert december, "the December occurrence must still be reminded"
    assert {n["period"] for n in december} == {"2026-12"}
    assert all("/KH-2026:IX.1/2026-12/2026-12-31/" in n["key"] for n in december)
    # November is done: nothing about it after the day it was done, neither reminder nor escalation
    late_november = _timeline(run_cli, "IX.1", "27/11/2026", "31/12/2026")
    assert not [n for n in late_november if n["period"] == "2026-11"]

    # without --period: the occurrence current at --at (December); twice is refused in one sentence
    assert "IX.1 kỳ 2026-12" in run_cli("tasks", "done", "IX.1", "--at", "22/12/2026").stdout
    again = run_cli("tasks", "done", "IX.1", "--period", "12/2026")
    assert (
        again.exit_code == 1 and "IX.1 kỳ 2026-12 đã được đánh dấu hoàn thành ngày 22/12/2026" in again.stderr
    )
    after = [n for n in _timeline(run_cli, "IX.1", "23/12/2026", "31/12/2026") if n["period"] == "2026-12"]
    assert after == []


def test_each_occurrence_escalates_on_its_own_and_is_never_called_extended(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli = office
    run_cli("tasks", "done", "IX.1", "--period", "2026-01", "--at", "30/01/2026")
    timeline = _timeline(run_cli, "IX.1", "01/01/2026", "31/03/2026")
    escalated = {n["period"] for n in timeline if n["kind"] == "escalation"}
    assert "2026-02" in escalated and "2026-01" not in escalated
    assert len({n["key"] for n in timeline}) == len(timeline)  # keys stay distinct across periods

    # the reminder for March's occurrence shows March's due date as planned: never "Đã gia hạn"
    passed = run_cli("run", "--once", "--at", "2026-03-26 07:30")
    assert passed.exit_code == 0, passed.stderr
    sent = [
        p.read_text(encoding="utf-8") for p in (tmp_path / "var").rglob("*") if p.suffix in (".eml", ".txt")
    ]
    about_march = [text for text in sent if "31/03/2026" in text]
    assert about_march, "the March reminder was sent"
    assert not [text for text in sent if "gia hạn, hạn ban đầu" in text.lower()]

    # an extension moves one occurrence only
    extended = run_cli(
        "tasks", "extend", "IX.1", "--period", "2026-03", "--to", "15/04/2026", "--reason", "Chờ số liệu"
    )
    assert extended.exit_code == 0, extended.stderr
    periods = {o["period"]: o for o in _show(run_cli, "IX.1")["occurrences"]}
    assert periods["2026-03"]["due"] == "2026-04-15" and periods["2026-04"]["due_as_written"] == "2026-04-30"


def test_period_errors_are_one_sentence(office) -> None:  # type: ignore[no-untyped-def]
    run_cli = office
    wrong = run_cli("tasks", "done", "IX.2", "--period", "2026-11")
    assert wrong.exit_code == 1 and "không có kỳ 2026-11" in wrong.stderr and "2026-Q4" in wrong.stderr
    once = run_cli("tasks", "done", "IX.4", "--period", "2026-Q1")
    assert once.exit_code == 1 and "không phải việc định kỳ" in once.stderr
    assert "Traceback" not in wrong.stderr + once.stderr
    # a quarter of the reporting regime answers to its other names
    assert (
        "IX.3 kỳ 2026-H1"
        in run_cli("tasks", "done", "IX.3", "--period", "2026-Q2", "--at", "1/7/2026").stdout
    )
    # the task done once keeps its contract
    assert run_cli("tasks", "done", "IX.4", "--at", "20/03/2026").exit_code == 0
    assert _show(run_cli, "IX.4")["occurrences"] == []


def test_existing_recurring_rows_become_their_occurrences(database_url: str, tmp_path: Path) -> None:
    """The data migration: a database at 0015 (before occurrences) with a monthly task marked done once (November) and
    extended before that becomes twelve occurrences, history kept."""
    from alembic import command

    from store.db import alembic_config, make_engine

    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0015")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO plans (code, title, year, imported_at) VALUES ('KH', 'Kế hoạch', 2026, :at)"
            ),
            {"at": "2026-01-05 00:00:00"},
        )
        plan_id = connection.execute(sa.text("SELECT id FROM plans")).scalar_one()
        dues = [d.isoformat() for d in parse_deadline("Hằng tháng", 2026).occurrences]
        connection.execute(
            sa.text(
                "INSERT INTO tasks (plan_id, code, position, content, products, deadline_text, deadline_kind,"
                " start, due, occurrences, status, done_on, note, unlisted_units, due_override) VALUES"
                " (:plan, 'I.1', 0, 'Báo cáo tháng', '[]', 'Hằng tháng', 'recurring', '2026-01-01',"
                " '2026-12-31', :occ, 'done', '2026-11-27', '', '[]', '2027-01-10')"
            ),
            {"plan": plan_id, "occ": json.dumps(dues)},
        )
        task_id = connection.execute(sa.text("SELECT id FROM tasks")).scalar_one()
        for kind, on, old, new in (
            ("created", None, None, "2026-12-31"),
            ("extended", "2026-03-20", "2026-03-31", "2026-04-10"),
            ("done", "2026-11-27", None, None),
        ):
            connection.execute(
                sa.text(
                    "INSERT INTO task_events (task_id, kind, at, effective_on, actor, via, old_due, new_due)"
                    " VALUES (:task, :kind, :at, :on, 'vp', 'cli', :old, :new)"
                ),
                {
                    "task": task_id,
                    "kind": kind,
                    "at": "2026-11-27 01:00:00",
                    "on": on,
                    "old": old,
                    "new": new,
                },
            )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT period, due, due_override, status, done_on FROM task_occurrences ORDER BY position"
            )
        ).all()
        task = connection.execute(sa.text("SELECT status, done_on, due_override FROM tasks")).one()
        events = connection.execute(sa.text("SELECT kind, period, via FROM task_events ORDER BY id")).all()
    engine.dispose()
    as_text = [(r[0], str(r[1]), r[2] and str(r[2]), r[3], r[4] and str(r[4])) for r in rows]
    assert [r[0] for r in as_text] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert as_text[2] == ("2026-03", "2026-03-31", "2026-04-10", "done", "2026-11-27")
    assert all(r[3] == "done" for r in as_text[:11]) and as_text[10][4] == "2026-11-27"
    assert as_text[11] == ("2026-12", "2026-12-31", None, "open", None)  # December still to do
    assert (task[0], task[1], task[2]) == ("open", None, None)
    # the history is kept: the original events name their period, earlier months' completion is explained
    original = [(k, p) for k, p, via in events if via == "cli"]
    assert original == [("created", None), ("extended", "2026-03"), ("done", "2026-11")]
    assert sorted(p for k, p, via in events if via == "migration") == [f"2026-{m:02d}" for m in range(1, 11)]
    # and December is planned again
    from store.db import session_scope
    from store.planner_input import load_task_inputs
    from store.tasks import get_plan

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        inputs = load_task_inputs(session, [get_plan(session, "KH")])
    engine.dispose()
    assert [t.period for t in inputs] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert (
        inputs[11].done_on(date(2026, 12, 31)) is None and inputs[10].done_on(date(2026, 12, 1)) is not None
    )


def test_the_link_the_bot_and_the_confirmation_page_are_per_occurrence(office, database_url: str) -> None:  # type: ignore[no-untyped-def]
    import html
    import re
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from config.settings import Settings
    from inbound.bot import CompletionBot
    from inbound.links import links_for, make_done_token, verify_done_token
    from planner.model import Notification, Recipient
    from rules.model import NotificationKind
    from store.db import make_engine, session_scope
    from store.directory import current_directory
    from store.planner_input import load_task_inputs
    from store.tasks import get_plan
    from tests.support.web_support import FAST
    from web.app import create_app
    from web.config import WebSettings

    run_cli = office
    secret = "link-secret-for-the-occurrence-tests-0123"
    now = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            october = next(
                t for t in load_task_inputs(session, [get_plan(session, "KH-2026")]) if t.period == "2026-10"
            )
            directory = current_directory(session)
        # a reminder about October carries a link that confirms October
        recipient = Recipient("TCCB", "to", "email")  # type: ignore[arg-type]
        notification = Notification(
            key="k",
            at=now,
            kind=NotificationKind.REMINDER,
            rule="recurring-reminder",
            template="reminder",
            recipients=(recipient,),
            task="IX.1",
            plan="KH-2026",
            period="2026-10",
            data={"task": october},
        )
        found = links_for(notification, recipient, secret, "https://nv.example", now, timedelta(days=30))
        assert found is not None
        token = found["done_url"].rsplit("/", 1)[1]
        claim = verify_done_token(secret, token, now)
        assert (claim.task, claim.period, claim.unit) == ("IX.1", "2026-10", "TCCB")

        app = create_app(
            Settings(link_secret=SecretStr(secret)),
            engine,
            web_settings=WebSettings(secret=SecretStr("web-secret-for-the-tests-0123456789abcdef")),
            clock=lambda: now,
            hasher=FAST,
        )
        client = TestClient(app, follow_redirects=False)
        address = f"/done/{token}"
        page = client.get(address).text
        assert "Xác nhận hoàn thành nhiệm vụ IX.1 kỳ 2026-10" in html.unescape(page)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        assert client.post(address, data={"csrf": csrf[1]}).status_code == 303
        # a link for the whole task (made before periods) confirms the occurrence current that day
        whole = make_done_token(secret, "KH-2026", "IX.1", "TCCB", now + timedelta(days=3))
        assert "IX.1 kỳ 2026-11" in html.unescape(client.get(f"/done/{whole}").text)

        # the Telegram bot: /xong CODE PERIOD note
        bot = CompletionBot(engine, directory)
        chat = directory.unit("TCCB").contacts.telegram_chat_id
        reply = bot.handle_text(str(chat), "ke.toan", "/xong IX.1 2026-09 Đã gửi báo cáo", now)
        assert reply is not None and "IX.1 kỳ 2026-09" in reply.text
        reply = bot.handle_text(str(chat), "ke.toan", "/xong IX.1 Gửi đúng hạn", now)
        assert reply is not None and "IX.1 kỳ 2026-11" in reply.text
    finally:
        engine.dispose()
    periods = {o["period"]: o for o in _show(run_cli, "IX.1")["occurrences"]}
    assert [p for p, o in periods.items() if o["status"] == "done"] == ["2026-09", "2026-10", "2026-11"]
    notes = [
        (e["period"], e["via"], e["note"]) for e in _show(run_cli, "IX.1")["history"] if e["kind"] == "done"
    ]
    assert notes == [
        ("2026-10", "email-link", None),
        ("2026-09", "telegram", "Đã gửi báo cáo"),
        ("2026-11", "telegram", "Gửi đúng hạn"),
    ]


def test_the_grid_in_the_cli_and_the_web_and_the_web_button_per_period(office, database_url: str) -> None:  # type: ignore[no-untyped-def]
    import re
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from config.settings import Settings
    from store.db import make_engine, session_scope
    from store.users import add_user
    from tests.support.web_support import FAST
    from web.app import create_app
    from web.config import WebSettings

    run_cli = office
    run_cli("tasks", "done", "IX.2", "--period", "2026-Q1", "--at", "25/03/2026")
    grid = json.loads(
        run_cli("tasks", "grid", "IX.2", "--plan", "KH-2026", "--at", "15/07/2026", "--json").stdout
    )
    assert grid["periods"] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [r["unit"] for r in grid["rows"]] == ["VP"]
    assert [(c["period"], c["status"], c["done_on"]) for c in grid["rows"][0]["cells"]] == [
        ("2026-Q1", "done", "2026-03-25"),
        ("2026-Q2", "overdue", None),
        ("2026-Q3", "open", None),
        ("2026-Q4", "open", None),
    ]
    table = run_cli("tasks", "grid", "IX.2", "--at", "15/07/2026")
    assert "2026-Q2" in table.stdout and "quá hạn" in table.stdout
    once = run_cli("tasks", "grid", "IX.4")
    assert once.exit_code == 1 and "không phải việc định kỳ" in once.stderr

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            add_user(session, "chanh.vp", "mat-khau-dai-du-12", role="admin", hasher=FAST)
        now = datetime(2026, 7, 15, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
        app = create_app(
            Settings(),
            engine,
            web_settings=WebSettings(secret=SecretStr("web-secret-for-the-tests-0123456789abcdef")),
            clock=lambda: now,
            hasher=FAST,
        )
        client = TestClient(app, follow_redirects=False)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert csrf is not None
        login = {"csrf": csrf[1], "name": "chanh.vp", "password": "mat-khau-dai-du-12", "next": "/"}
        assert client.post("/login", data=login).status_code == 303
        page = client.get("/tasks/KH-2026/IX.2").text
        cells = re.findall(r'<td data-period="([^"]+)" data-status="(\w+)"', page)
        assert cells == [
            ("2026-Q1", "done"),
            ("2026-Q2", "overdue"),
            ("2026-Q3", "open"),
            ("2026-Q4", "open"),
        ]
        assert '<option value="2026-Q2">' in page or '<option value="2026-Q2" ' in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        form = {"csrf": csrf[1], "period": "2026-Q2", "on": "2026-07-10", "note": "Đã nộp"}
        assert client.post("/tasks/KH-2026/IX.2/done", data=form).status_code == 303
        listed = client.get("/tasks?plan=KH-2026").text
        assert listed.count('data-code="IX.2"') <= 1  # one line per task, not one per period
    finally:
        engine.dispose()
    periods = {o["period"]: o for o in _show(run_cli, "IX.2")["occurrences"]}
    assert periods["2026-Q2"]["status"] == "done" and periods["2026-Q2"]["done_on"] == "2026-07-10"
    assert periods["2026-Q3"]["status"] == "open"


def test_the_calendar_feed_has_one_event_per_occurrence_done_on_its_own(office, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from store.db import make_engine, session_scope
    from store.planner_input import load_task_inputs
    from store.tasks import get_plan
    from web.ics import task_events

    run_cli = office
    run_cli("tasks", "done", "IX.1", "--period", "2026-11", "--at", "27/11/2026")
    run_cli(
        "tasks",
        "extend",
        "IX.1",
        "--period",
        "2026-12",
        "--to",
        "08/01/2027",
        "--reason",
        "Nghỉ lễ",
        "--at",
        "01/12/2026",
    )
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            inputs = [
                t for t in load_task_inputs(session, [get_plan(session, "KH-2026")]) if t.code == "IX.1"
            ]
    finally:
        engine.dispose()
    events = [event for task in inputs for event in task_events(task, {})]
    assert len(events) == 12 and len({e.uid for e in events}) == 12
    by_uid = {e.uid: e for e in events}
    november = by_uid["KH-2026-IX.1-20261130@nhacviec"]
    assert november.summary.startswith("Đã hoàn thành — [IX.1 kỳ 2026-11]")
    december = by_uid["KH-2026-IX.1-20261231@nhacviec"]  # the UID stays; the extension moves the day
    assert december.day.isoformat() == "2027-01-08" and december.summary.startswith("[IX.1 kỳ 2026-12]")
    assert sum(e.summary.startswith("Đã hoàn thành") for e in events) == 1
