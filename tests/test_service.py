"""The service: passes at the send time on working days, catch-up after downtime, one leader, clean stops."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time as clock
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlmodel import select

from cli.common import load_directory
from config.settings import Settings
from scheduler.passes import run_pass
from scheduler.service import pass_trigger
from store.db import make_engine, session_scope
from store.models import OutboxItem, OutboxMessage
from templates.render import Renderer
from tests.support.databases import POSTGRES_URL, postgres_schema_url
from tests.support.smtp_server import running_smtp_server

pytestmark = pytest.mark.slow

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parents[1]


def fire_times(start: datetime, end: datetime) -> list[datetime]:
    trigger = pass_trigger(time(7, 30), TZ)
    times, previous = [], None
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= end:
        times.append(moment)
        previous = moment
        moment = trigger.get_next_fire_time(previous, moment + timedelta(seconds=1))
    return times


def outbox_rows(engine) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return list(session.exec(select(OutboxMessage)))


def pass_at(engine, moment: datetime) -> None:  # type: ignore[no-untyped-def]
    settings = Settings()
    with freeze_time(moment):
        asyncio.run(run_pass(engine, settings, load_directory(), Renderer(), datetime.now(TZ)))


@pytest.fixture
def service_db(run_cli):  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    return make_engine(Settings().effective_database_url)


def test_the_pass_runs_daily_at_the_send_time_and_sends_only_on_working_days(service_db) -> None:  # type: ignore[no-untyped-def]
    # 24/04 to 05/05/2020: two weekends, 30/4 and 1/5 are holidays.
    times = fire_times(datetime(2020, 4, 24, 0, 0, tzinfo=TZ), datetime(2020, 5, 5, 23, 0, tzinfo=TZ))
    assert [t.date() for t in times] == [date(2020, 4, 24) + timedelta(days=i) for i in range(12)]
    assert {t.timetz().replace(tzinfo=None) for t in times} == {time(7, 30)}
    per_day: Counter[date] = Counter()
    for moment in times:
        before = len(outbox_rows(service_db))
        pass_at(service_db, moment)
        per_day[moment.date()] = len(outbox_rows(service_db)) - before
    rows = outbox_rows(service_db)
    assert rows and all(r.status == "written" for r in rows)  # no channel configured: the file sink
    for day in (date(2020, 4, 25), date(2020, 4, 26), date(2020, 4, 30), date(2020, 5, 1), date(2020, 5, 2)):
        assert per_day[day] == 0, day  # weekends and holidays: nothing
    digests = {r.due_at.astimezone(TZ).date() for r in rows if r.kind == "digest"}
    assert digests == {date(2020, 4, 27), date(2020, 5, 4)}  # Mondays
    assert {r.due_at.astimezone(TZ).time() for r in rows} == {time(7, 30)}


def carried_items(engine) -> list[tuple[OutboxItem, OutboxMessage]]:  # type: ignore[no-untyped-def]
    """Every outbox item with the message that carries it."""
    with session_scope(engine) as session:
        rows = session.exec(select(OutboxItem, OutboxMessage).join(OutboxMessage)).all()
        return [(item, message) for item, message in rows]


def test_after_a_week_of_downtime_the_missed_notifications_go_out_once(service_db, run_cli) -> None:  # type: ignore[no-untyped-def]
    first_pass = datetime(2020, 11, 23, 7, 30, tzinfo=TZ)
    pass_at(service_db, first_pass)
    # down from Tuesday 24/11 to Tuesday 01/12; meanwhile VII.7 was done on 26/11 (entered by hand)
    assert run_cli("tasks", "done", "VII.7", "--at", "2020-11-26").exit_code == 0
    catch_up = datetime(2020, 12, 1, 9, 0, tzinfo=TZ)
    pass_at(service_db, catch_up)
    everything = carried_items(service_db)
    assert set(Counter(item.key for item, _ in everything).values()) == {1}
    missed = [(item, message) for item, message in everything if message.created_at >= catch_up]
    assert missed and {message.due_at for _, message in missed} == {catch_up}  # what was missed goes now
    # one message per address and channel for the whole catch-up, however many days it covers
    per_address = Counter(
        (message.channel, message.address) for message in {m.id: m for _, m in missed}.values()
    )
    assert set(per_address.values()) == {1}
    # IV.4's reminders of the week (25/11, 27/11) are not sent: its due date 30/11 has passed, the ladder took over
    assert not [item for item, _ in missed if item.task == "IV.4" and item.kind == "reminder"]
    assert [
        item for item, _ in missed if item.task == "IV.4" and item.kind == "escalation"
    ]  # 01/12: +1 working day
    # VII.7 was done during the downtime: nothing about it is sent late
    assert not [item for item, _ in missed if item.task == "VII.7"]
    # the digest of Monday 30/11 still goes (a week's summary is still worth reading), inside each deputy's message
    digests = [(item, message) for item, message in missed if item.kind == "digest"]
    assert {item.recipient for item, _ in digests} == {"PGD1", "PGD2"}
    assert {item.notification_key.rsplit("/", 2)[1] for item, _ in digests} == {"2020-W49"}  # Monday 30/11
    before = len(everything)
    pass_at(service_db, datetime(2020, 12, 1, 9, 5, tzinfo=TZ))
    assert len(carried_items(service_db)) == before


def service_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NHACVIEC_") or k == "NHACVIEC_TEST_POSTGRES_URL"
    }
    env.update(
        NHACVIEC_DATA_DIR=os.environ["NHACVIEC_DATA_DIR"],
        NHACVIEC_CONSOLE_SINK="false",
        NHACVIEC_LOG_FORMAT="json",
    )
    env.update(extra or {})
    return env


def nhacviec(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        if predicate():
            return True
        clock.sleep(0.2)
    return False


def scheduler_state(env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "status", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)["scheduler"] or {}


def test_on_sqlite_a_second_run_is_refused_and_sigterm_stops_cleanly(service_db) -> None:  # type: ignore[no-untyped-def]
    env = service_env()
    first = nhacviec("run", env=env)
    try:
        assert wait_for(lambda: scheduler_state(env).get("state") == "active"), first.stderr
        second = subprocess.run(
            [sys.executable, "-m", "cli.main", "run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "SQLite chỉ cho phép một" in second.stderr and "Traceback" not in second.stderr
        state = scheduler_state(env)
        assert set(state["next_runs"]) >= {"pass", "retry"}
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert scheduler_state(env)["state"] == "stopped"
    logs = [json.loads(line) for line in first.stderr.read().splitlines() if line.startswith("{")]
    assert any(entry["logger"] == "nhacviec.pass" and "planned" in entry for entry in logs)


def test_status_shows_retry_times_that_move_and_stops_naming_a_killed_leader(service_db) -> None:  # type: ignore[no-untyped-def]
    env = service_env({"NHACVIEC_RETRY_JOB_SECONDS": "2"})
    leader = nhacviec("run", env=env)
    try:
        assert wait_for(lambda: scheduler_state(env).get("state") == "active"), leader.stderr
        first = scheduler_state(env)["next_runs"]["retry"]
        assert first.endswith("+07:00")
        assert wait_for(lambda: scheduler_state(env)["next_runs"]["retry"] != first, timeout=20)
        leader.send_signal(signal.SIGKILL)
        leader.wait(10)
        killed_at = clock.monotonic()
        assert wait_for(lambda: scheduler_state(env).get("state") != "active", timeout=25)
        assert clock.monotonic() - killed_at < 25
        assert scheduler_state(env)["state"] == "unresponsive"
    finally:
        if leader.poll() is None:
            leader.kill()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="NHACVIEC_TEST_POSTGRES_URL is not set: needs a real PostgreSQL")
def test_on_postgresql_a_standby_takes_over_when_the_leader_dies(run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    urls = postgres_schema_url()
    url = next(urls)
    try:
        monkeypatch.setenv("NHACVIEC_DATABASE_URL", url)
        assert run_cli("init").exit_code == 0
        env = service_env({"NHACVIEC_DATABASE_URL": url, "NHACVIEC_STANDBY_POLL_SECONDS": "1"})
        leader = nhacviec("run", env=env)
        assert wait_for(lambda: scheduler_state(env).get("state") == "active")
        leader_worker = scheduler_state(env)["worker"]
        standby = nhacviec("run", env=env)
        try:
            clock.sleep(3)
            assert standby.poll() is None and scheduler_state(env)["worker"] == leader_worker  # standing by
            leader.send_signal(signal.SIGKILL)
            leader.wait(10)
            killed_at = clock.monotonic()

            def killed_leader_not_active() -> bool:
                state = scheduler_state(env)
                return state.get("worker") != leader_worker or state.get("state") != "active"

            assert wait_for(killed_leader_not_active, timeout=20)  # never named active past the heart beats
            assert clock.monotonic() - killed_at < 20
            assert wait_for(lambda: scheduler_state(env).get("worker") != leader_worker, timeout=30)
            assert scheduler_state(env)["state"] == "active"
            standby.send_signal(signal.SIGTERM)
            assert standby.wait(30) == 0
            logs = [json.loads(line) for line in standby.stderr.read().splitlines() if line.startswith("{")]
            waiting = [entry for entry in logs if "standby" in entry.get("message", entry.get("msg", ""))]
            assert waiting, logs
            standby_worker = waiting[0].get("worker")
            assert all(entry.get("leader") != standby_worker for entry in waiting)
        finally:
            for process in (leader, standby):
                if process.poll() is None:
                    process.kill()
    finally:
        urls.close()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="NHACVIEC_TEST_POSTGRES_URL is not set: needs a real PostgreSQL")
def test_on_postgresql_concurrent_senders_deliver_1000_messages_exactly_once() -> None:
    from tests.support.outbox_fill import dispatcher_env, fill_outbox

    urls = postgres_schema_url()
    url = next(urls)
    try:
        keys = fill_outbox(url, 1000)
        with running_smtp_server() as server:
            env = dispatcher_env(url, server.port, 4)
            senders = [
                subprocess.Popen(
                    [sys.executable, "-m", "cli.main", "outbox", "send"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                for _ in range(3)
            ]
            for sender in senders:
                assert sender.wait(180) == 0
            arrived = Counter(m.message["X-Nhacviec-Key"] for m in server.messages)
        assert set(arrived) == set(keys) and set(arrived.values()) == {1}
    finally:
        urls.close()


def test_after_downtime_longer_than_the_catch_up_limit_only_the_last_days_are_planned(
    service_db, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NHACVIEC_MAX_CATCHUP_DAYS", "3")
    pass_at(service_db, datetime(2020, 6, 1, 7, 30, tzinfo=TZ))
    pass_at(service_db, datetime(2020, 12, 1, 7, 30, tzinfo=TZ))  # six months later
    days = {r.due_at.astimezone(TZ).date() for r in outbox_rows(service_db)}
    assert days - {date(2020, 6, 1)} <= {date(2020, 11, 30), date(2020, 12, 1)}


def test_run_with_web_serves_the_admin_beside_the_scheduler_and_stops_cleanly(service_db) -> None:  # type: ignore[no-untyped-def]
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = service_env({"NHACVIEC_WEB_SECRET": "a-web-secret-of-at-least-32-characters!!"})
    process = nhacviec("run", "--web", "--port", str(port), env=env)
    try:
        assert wait_for(lambda: scheduler_state(env).get("state") == "active"), process.stderr

        def login_page() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(login_page)
        assert "Đăng nhập" in httpx.get(f"http://127.0.0.1:{port}/login").text
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
