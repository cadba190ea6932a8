"""The service with 10,000 tasks: one busy pass, the idle service's memory, and the CLI's start-up time.

Run: .venv/bin/python bench/bench_service.py [--tasks 10000] [--at "2020-12-01 07:30"] [--profile]
     [--breakdown] [--importtime] [--keep] [--only pass,rss,startup]

1. One pass. A fresh SQLite file database (Alembic schema, the unit directory, the default rules
   seeded from config/rules.yaml) gets ``--tasks`` synthetic tasks (bench/synthetic.py) written as
   Plan/Section/Task/TaskUnit/TaskEvent rows under one plan of 2020 with a reporting regime (PCMNV and
   DVTH, via VP, with the synthetic reports received as ReportSubmission rows); history dated on or after
   the pass day is left out. The watermark is set to the previous day's pass, then
   ``scheduler.passes.run_pass`` is timed at ``--at`` (Tuesday 1 December 2020 07:30, Asia/Ho_Chi_Minh:
   the first working day of a month, late in the year, so kickoffs, check-ins, reminders and long
   escalation ladders all fall due). Email goes to a counting aiosmtpd server in its own process;
   Telegram and Zalo are unconfigured, so they go to the file sink. Reported: planned notifications,
   outbox messages and the items they carry, seconds for plan+enqueue and for dispatch, the total.
   The pass runs twice, on two copies of the database: with bundling (the default rules: one message
   per address, channel and send time) and, as the yardstick, with every rule ``bundle: false`` (one
   message per notification, recipient and channel: the delivery before bundling). Targets: at most
   30 s; bundled no slower than unbundled (within 5 %, the noise of a shared machine).
2. Idle memory, real clock (``nhacviec run`` has no fake clock). ``nhacviec run`` is polled with
   ``nhacviec status --json`` until the scheduler is "active" and the catch-up pass is recorded; then
   VmRSS is sampled over ~5 s of idle and the service gets SIGTERM (it must exit 0). Target: at most
   150 MB, for both:
   a. that database, last pass yesterday (a plan of 2020: today's catch-up has little or nothing to do);
   b. the same tasks in a plan of the current year, last pass the day before the latest working day's
      send time, so the catch-up pass sends a working day's messages: the memory after a busy pass.
   Over target (or with --breakdown) the catch-up pass is replayed in a fresh process, RSS printed after
   each stage and after glibc's malloc_trim(0), then again with MALLOC_ARENA_MAX=2.
3. ``nhacviec --help``: the median of 10 runs of the installed console script, after one warm-up.
   Target: at most 0.4 s. Over target (or with --importtime): ``python -X importtime``'s heaviest imports.

With --profile, or when the pass misses its target, the pass is run again under cProfile on a copy of
the untouched database. Always exits 0: this is a report (read the load average printed with it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import platform
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

import scheduler.passes
from bench.bench_email_references import start_smtp_server_process
from bench.synthetic import PLAN_CODE, REPORTING_UNITS, SECTIONS, synthetic_reporting, synthetic_tasks
from config.settings import Settings
from plan.units import load_directory
from planner.calendar import load_calendar
from planner.model import StatusChange, TaskInput
from store.db import make_engine, session_scope, upgrade_schema
from store.models import (
    AssignmentRole,
    EventKind,
    OutboxItem,
    OutboxMessage,
    Plan,
    ReportSubmission,
    Section,
    Task,
    TaskEvent,
    TaskStatus,
    TaskUnit,
)
from store.plan_import import sync_units
from store.rules import load_rules, read_rules_file, replace_rules, unit_codes
from store.state import LAST_PASS, get_state, set_last_pass
from templates.render import Renderer

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = 2020
DEFAULT_AT = "2020-12-01 07:30"
REPORTING = {
    "units": list(REPORTING_UNITS),
    "via": "VP",
    "periods": ["quarterly", "6-month", "9-month", "annual"],
}
NHACVIEC = ROOT / ".venv" / "bin" / "nhacviec"
TARGET_PASS_SECONDS = 30.0
TARGET_BUNDLED_RATIO = 1.05  # bundled pass / unbundled pass
TARGET_RSS_MB = 150.0
TARGET_HELP_SECONDS = 0.4
HELP_RUNS = 10
RSS_SAMPLES = 6
RSS_WINDOW_SECONDS = 5.0
STARTUP_TIMEOUT_SECONDS = 600.0
_EVENT_KINDS = {
    "done": EventKind.DONE,
    "reopened": EventKind.REOPENED,
    "extended": EventKind.EXTENDED,
    "due_set": EventKind.DUE_SET,
}

T = TypeVar("T")


# --------------------------------------------------------------------------- machine


def machine_facts() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    usable = len(os.sched_getaffinity(0))
    return f"Python {platform.python_version()}, nproc {usable} (of {os.cpu_count()}), {cpu}"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --------------------------------------------------------------------------- the database


def task_row(task: TaskInput, task_id: int, plan_id: int, section_ids: dict[str, int]) -> dict[str, Any]:
    """The ``tasks`` row of a synthetic task, its status and override replayed from its history."""
    status, done_on, override = TaskStatus.OPEN, None, None
    for change in task.changes:
        if change.kind == "done":
            status, done_on = TaskStatus.DONE, change.on
        elif change.kind == "reopened":
            status, done_on = TaskStatus.OPEN, None
        else:  # extended, due_set
            override = change.new_due
    return {
        "id": task_id,
        "plan_id": plan_id,
        "section_id": section_ids.get(task.section or ""),
        "code": task.code,
        "position": task.position,
        "content": task.content,
        "products": list(task.products),
        "deadline_text": task.deadline_text,
        "deadline_kind": str(task.kind),
        "start": task.start,
        "due": task.due,
        "occurrences": [d.isoformat() for d in task.occurrences],
        "due_override": override,
        "status": status,
        "done_on": done_on,
        "source_row": task.position + 2,
    }


def unit_rows(task: TaskInput, task_id: int) -> list[dict[str, Any]]:
    roles = [(c, AssignmentRole.LEAD) for c in task.lead] + [
        (c, AssignmentRole.COORDINATING) for c in task.coordinating
    ]
    return [
        {"task_id": task_id, "unit_code": code, "role": role, "position": position}
        for position, (code, role) in enumerate(roles)
    ]


def event_rows(task: TaskInput, task_id: int, year: int) -> list[dict[str, Any]]:
    created = datetime(year, 1, 2, 8, 0, tzinfo=TZ)
    rows = [
        {
            "task_id": task_id,
            "kind": EventKind.CREATED,
            "at": created,
            "effective_on": None,
            "actor": "bench",
            "via": "bench",
            "new_due": task.due,
        }
    ]
    rows.extend(_event(task_id, change) for change in task.changes)
    return rows


def _event(task_id: int, change: StatusChange) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "kind": _EVENT_KINDS[change.kind],
        "at": datetime.combine(change.on, datetime.min.time(), TZ) + timedelta(hours=9),
        "effective_on": change.on,
        "actor": "bench",
        "via": "bench",
        "new_due": change.new_due,
    }


def insert(engine: Engine, model: type, rows: list[dict[str, Any]]) -> None:
    """Bulk insert through the SQLModel table (its type decorators apply), in chunks."""
    table = model.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            connection.execute(sa.insert(table), rows[start : start + 2000])


@dataclass
class Loaded:
    tasks: int
    assignments: int
    events: int
    reports: int
    seconds: float


def build_database(url: str, settings: Settings, count: int, seed: int, year: int, as_of: date) -> Loaded:
    """Schema, directory, rules, then ``count`` synthetic tasks of plan BENCH of ``year`` with their history.

    The database is as it would be on the morning of ``as_of``: history from that day on is left out.
    """
    started = time.perf_counter()
    engine = make_engine(url)
    upgrade_schema(engine)
    directory = load_directory(settings.units_file)
    with session_scope(engine) as session:
        sync_units(session, directory)
        session.flush()
        rules = read_rules_file(settings.rules_file, unit_codes(session))
        replace_rules(session, rules, actor="bench", via="bench")
        plan = Plan(code=PLAN_CODE, title="Kế hoạch thử tải", year=year, reporting=REPORTING)
        session.add(plan)
        session.flush()
        assert plan.id is not None
        plan_id = plan.id
        sections = [
            Section(plan_id=plan_id, code=c, title=f"Mục {c}", position=i) for i, c in enumerate(SECTIONS)
        ]
        session.add_all(sections)
        session.flush()
        section_ids = {s.code: s.id for s in sections if s.id is not None}
        regime = synthetic_reporting(year, seed)
        reports = [
            ReportSubmission(plan_id=plan_id, unit_code=unit, period=period, received_on=on, actor="bench")
            for (unit, period), on in regime.received.items()
            if on < as_of
        ]
        session.add_all(reports)
    tasks = [
        replace(task, changes=tuple(c for c in task.changes if c.on < as_of))
        for task in synthetic_tasks(count, year, seed)
    ]
    task_rows, assignment_rows, events = [], [], []
    for number, task in enumerate(tasks, start=1):
        task_rows.append(task_row(task, number, plan_id, section_ids))
        assignment_rows.extend(unit_rows(task, number))
        events.extend(event_rows(task, number, year))
    insert(engine, Task, task_rows)
    insert(engine, TaskUnit, assignment_rows)
    insert(engine, TaskEvent, events)
    with engine.connect() as connection:  # fold the WAL into the file, so a plain copy is the whole database
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return Loaded(
        len(task_rows), len(assignment_rows), len(events), len(reports), time.perf_counter() - started
    )


def outbox_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Outbox messages per channel and status."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(OutboxMessage.channel, OutboxMessage.status, sa.func.count()).group_by(
                OutboxMessage.channel, OutboxMessage.status
            )
        ).all()
    counts: dict[str, dict[str, int]] = {}
    for channel, status, number in rows:
        counts.setdefault(channel, {})[status] = number
    return counts


def kinds_planned(engine: Engine) -> dict[str, int]:
    """Notifications with items in the outbox, per kind."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(OutboxItem.kind, sa.func.count(sa.distinct(OutboxItem.notification_key))).group_by(
                OutboxItem.kind
            )
        ).all()
    return dict(sorted(rows))


def item_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(sa.func.count()).select_from(OutboxItem)).one())


def unbundle_rules(url: str) -> None:
    """Every rule ``bundle: false``: one message per notification, recipient and channel (the yardstick)."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        rules = [replace(rule, bundle=False) for rule in load_rules(session)]
        replace_rules(session, rules, actor="bench", via="bench")
    engine.dispose()


# --------------------------------------------------------------------------- 1. one pass


def pass_settings(folder: Path, url: str, host: str, port: int) -> Settings:
    return Settings(
        data_dir=folder,
        database_url=url,
        smtp_host=host,
        smtp_port=port,
        smtp_tls="none",
        telegram_token=None,
        zalo_app_id=None,
        sink_dir=folder / "sent",
        console_sink=False,
    )


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)

    def sync(self, name: str, function: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

        return timed

    def coroutine(self, name: str, function: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

        return timed


def timed_pass(settings: Settings, now: datetime) -> tuple[Any, Timings, float]:
    """``run_pass`` at ``now``, the watermark set to the day before; plan+enqueue and dispatch timed apart."""
    engine = make_engine(settings.effective_database_url)
    set_last_pass(engine, now - timedelta(days=1), {"planned": 0, "new_rows": 0})
    directory = load_directory(settings.units_file)
    renderer = Renderer(settings.templates_dir, settings.zns_templates_file)
    timings = Timings()
    originals = scheduler.passes.scheduled, scheduler.passes.dispatch
    scheduler.passes.scheduled = timings.sync("plan+enqueue", originals[0])  # type: ignore[assignment]
    scheduler.passes.dispatch = timings.coroutine("dispatch", originals[1])  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        summary = asyncio.run(scheduler.passes.run_pass(engine, settings, directory, renderer, now))
        total = time.perf_counter() - started
    finally:
        scheduler.passes.scheduled, scheduler.passes.dispatch = originals  # type: ignore[assignment]
    engine.dispose()
    return summary, timings, total


def profile_pass(settings: Settings, now: datetime, top: int = 30) -> str:
    """cProfile of one pass (main thread only: the dispatcher's database calls in worker threads are not seen)."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        timed_pass(settings, now)
    finally:
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


@dataclass
class PassResult:
    total: float
    ok: bool


def one_pass(folder: Path, template: Path, now: datetime, *, bundled: bool) -> PassResult:
    """One timed pass on a fresh copy of ``template``; with ``bundled`` False every rule is ``bundle: false``."""
    folder.mkdir()
    url = f"sqlite:///{folder / 'nhacviec.db'}"
    shutil.copyfile(template, folder / "nhacviec.db")
    if not bundled:
        unbundle_rules(url)
    host, port, stop = start_smtp_server_process()
    try:
        settings = pass_settings(folder, url, host, port)
        print(f"load average before the pass: {load_average()}")
        summary, timings, total = timed_pass(settings, now)
    finally:
        received = stop()
    engine = make_engine(url)
    counts = outbox_counts(engine)
    kinds = kinds_planned(engine)
    items = item_count(engine)
    engine.dispose()
    messages = sum(sum(by_status.values()) for by_status in counts.values())
    email_sent = counts.get("email", {}).get("sent", 0)
    sink_files = (
        sum(1 for path in (folder / "sent").rglob("*") if path.is_file()) if (folder / "sent").exists() else 0
    )
    enqueued = summary.enqueued
    print(f"pass at {now.isoformat()} over ({summary.start.isoformat()}, {summary.end.isoformat()}]")
    print(f"  planned notifications: {enqueued.planned}  (by kind, with items: {kinds})")
    print(f"  outbox: {messages} messages carrying {items} items; no address {enqueued.skipped}")
    for channel, by_status in sorted(counts.items()):
        print(f"    {channel:9s} {dict(sorted(by_status.items()))}")
    print(f"  dispatch outcomes: {summary.sent}")
    print(
        f"  SMTP server accepted {received} messages (email messages sent: {email_sent}); sink files: {sink_files}"
    )
    plan_seconds = timings.seconds.get("plan+enqueue", 0.0)
    send_seconds = timings.seconds.get("dispatch", 0.0)
    print(f"  plan+enqueue {plan_seconds:6.2f} s")
    print(
        f"  dispatch     {send_seconds:6.2f} s  ({email_sent / send_seconds if send_seconds else 0:.0f} email/s)"
    )
    print(f"  total        {total:6.2f} s")
    if received != email_sent:
        print(f"  the SMTP server's count ({received}) differs from the sent email messages ({email_sent})")
    return PassResult(total, total <= TARGET_PASS_SECONDS and received == email_sent)


def bench_pass(folder: Path, template: Path, now: datetime, profile: bool) -> bool:
    print("1a. without bundling (every rule bundle: false): the yardstick")
    plain = one_pass(folder / "unbundled", template, now, bundled=False)
    print("\n1b. with bundling (the default rules)")
    bundled = one_pass(folder / "bundled", template, now, bundled=True)
    ratio = bundled.total / plain.total if plain.total else 0.0
    ok = bundled.ok and ratio <= TARGET_BUNDLED_RATIO  # the yardstick has no target of its own
    print(
        f"\n[{verdict(bundled.ok)}] one bundled pass in {bundled.total:.2f} s (target <= {TARGET_PASS_SECONDS:.0f} s)"
    )
    print(
        f"[{verdict(ratio <= TARGET_BUNDLED_RATIO)}] bundled / unbundled: {bundled.total:.2f} s / {plain.total:.2f} s "
        f"= {ratio:.2f} (target <= {TARGET_BUNDLED_RATIO:.2f})"
    )
    if profile or bundled.total > TARGET_PASS_SECONDS:
        profile_dir = folder / "profile"
        profile_dir.mkdir()
        shutil.copyfile(template, profile_dir / "nhacviec.db")
        host, port, stop = start_smtp_server_process()
        try:
            profile_settings = pass_settings(
                profile_dir, f"sqlite:///{profile_dir / 'nhacviec.db'}", host, port
            )
            print("\ncProfile of the pass (main thread):")
            print(profile_pass(profile_settings, now))
        finally:
            stop()
    return ok


# --------------------------------------------------------------------------- 2. idle memory


def service_env(folder: Path, url: str, host: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHACVIEC_")}
    env.update(
        NHACVIEC_DATA_DIR=str(folder),
        NHACVIEC_DATABASE_URL=url,
        NHACVIEC_SINK_DIR=str(folder / "sent"),
        NHACVIEC_CONSOLE_SINK="false",
        NHACVIEC_LOG_FORMAT="json",
        NHACVIEC_SMTP_HOST=host,
        NHACVIEC_SMTP_PORT=str(port),
        NHACVIEC_SMTP_TLS="none",
    )
    return env


def status_json(env: dict[str, str]) -> dict[str, Any] | None:
    result = subprocess.run(
        [str(NHACVIEC), "status", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        return None
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return None


def proc_status_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field_name} not found for process {pid}")


def wait_until_active(process: subprocess.Popen[bytes], env: dict[str, str], old_pass: str) -> dict[str, Any]:
    """Poll ``nhacviec status --json`` until the scheduler is active and the catch-up pass is recorded."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nhacviec run exited early with code {process.returncode}")
        data = status_json(env)
        if data:
            scheduler_state = (data.get("scheduler") or {}).get("state")
            last = (data.get("last_pass") or {}).get("at")
            if scheduler_state == "active" and last and last != old_pass:
                return data
        time.sleep(0.5)
    raise RuntimeError(f"the service was not active after {STARTUP_TIMEOUT_SECONDS:.0f} s")


def last_send_moment(settings: Settings, now: datetime) -> datetime:
    """The send time of the latest working day at or before ``now`` (by the working calendar)."""
    calendar = load_calendar(settings.calendar_file, send_time=settings.send_time)
    day = calendar.previous_working_day(now.date(), include_self=True)
    if calendar.at_send_time(day) > now:
        day = calendar.previous_working_day(day, include_self=False)
    return calendar.at_send_time(day)


def bench_rss(folder: Path, template: Path, name: str, watermark: datetime, breakdown: bool = False) -> bool:
    """``nhacviec run`` on a copy of ``template`` whose last pass was at ``watermark``: idle RSS, clean stop."""
    service_dir = folder / name
    service_dir.mkdir()
    database = service_dir / "nhacviec.db"
    shutil.copyfile(template, database)
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    set_last_pass(engine, watermark, {"planned": 0, "new_rows": 0})
    old_pass = get_state(engine, LAST_PASS)["at"]
    engine.dispose()
    host, port, stop_server = start_smtp_server_process()
    log_path = service_dir / "service.log"
    rss_kb: list[int] = []
    started = time.perf_counter()
    exit_code: int | None = None
    try:
        env = service_env(service_dir, url, host, port)
        with log_path.open("wb") as log:
            process = subprocess.Popen([str(NHACVIEC), "run"], env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                data = wait_until_active(process, env, old_pass)
                ready = time.perf_counter() - started
                for _ in range(RSS_SAMPLES):
                    rss_kb.append(proc_status_kb(process.pid, "VmRSS"))
                    time.sleep(RSS_WINDOW_SECONDS / RSS_SAMPLES)
                peak_kb = proc_status_kb(process.pid, "VmHWM")
                threads = _threads(process.pid)
            finally:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                try:
                    exit_code = process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    exit_code = process.wait()
    finally:
        received = stop_server()
    last = data.get("last_pass") or {}
    print(f"  watermark (last pass) set to {watermark.isoformat()}")
    print(f"  nhacviec run (pid {process.pid}) active after {ready:.1f} s (status polled every 0.5 s)")
    print(
        f"  catch-up pass at {last.get('at')}: planned {last.get('planned')}, new rows {last.get('new_rows')}; "
        f"SMTP server accepted {received}"
    )
    print(f"  outbox now: {data.get('outbox')}")
    samples = ", ".join(f"{kb / 1024:.1f}" for kb in rss_kb)
    idle = max(rss_kb) / 1024
    print(f"  VmRSS samples over {RSS_WINDOW_SECONDS:.0f} s idle (MB): {samples}")
    print(f"  VmHWM (peak, start-up and catch-up included): {peak_kb / 1024:.1f} MB; threads: {threads}")
    print(f"  exit code after SIGTERM: {exit_code}")
    ok = idle <= TARGET_RSS_MB and exit_code == 0
    print(
        f"[{verdict(ok)}] idle RSS {idle:.1f} MB (target <= {TARGET_RSS_MB:.0f} MB), clean exit {exit_code == 0}"
    )
    if exit_code != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        print("  last log lines:\n    " + "\n    ".join(tail))
    if breakdown or idle > TARGET_RSS_MB:
        memory_breakdown(folder / name, template, watermark)
    return ok


# --------------------------------------------------------------------------- 2'. where the memory goes


def _rss_mb() -> float:
    return proc_status_kb(os.getpid(), "VmRSS") / 1024


def _staged(name: str, function: Callable[..., Any], log: list[str]) -> Callable[..., Any]:
    """``function``, printing the RSS before and after each call (coroutine functions too)."""

    def report(before: float, started: float) -> None:
        elapsed = time.perf_counter() - started
        log.append(f"{name:20s} {elapsed:6.2f} s   RSS {before:6.1f} -> {_rss_mb():6.1f} MB")

    if asyncio.iscoroutinefunction(function):

        async def staged_coroutine(*args: Any, **kwargs: Any) -> Any:
            before, started = _rss_mb(), time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                report(before, started)

        return staged_coroutine

    def staged(*args: Any, **kwargs: Any) -> Any:
        before, started = _rss_mb(), time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            report(before, started)

    return staged


def breakdown_child(database: Path, watermark: datetime, host: str, port: int) -> None:
    """In this (fresh) process: what ``nhacviec run`` loads, then its catch-up pass, RSS after each stage."""
    import ctypes
    import gc

    import cli.main  # noqa: F401  (the console script's imports)
    import delivery.pipeline
    import scheduler.logs
    import scheduler.service
    import store.outbox

    log = [f"bare interpreter + imports of nhacviec run: RSS {_rss_mb():6.1f} MB"]
    settings = pass_settings(database.parent, f"sqlite:///{database}", host, port)
    engine = make_engine(settings.effective_database_url)
    upgrade_schema(engine)  # as open_store() does: alembic is imported and stays
    set_last_pass(engine, watermark, {"planned": 0, "new_rows": 0})
    directory = load_directory(settings.units_file)
    renderer = Renderer(settings.templates_dir, settings.zns_templates_file)
    log.append(f"+ engine, schema check, directory, renderer: RSS {_rss_mb():6.1f} MB")
    for module, name in (
        (delivery.pipeline, "load_planner_input"),
        (delivery.pipeline, "plan_notifications"),
        (delivery.pipeline, "render"),
        (store.outbox, "enqueue"),
        (scheduler.passes, "dispatch"),
    ):
        setattr(module, name, _staged(name, getattr(module, name), log))
    summary = asyncio.run(scheduler.passes.run_pass(engine, settings, directory, renderer, datetime.now(TZ)))
    log.append(
        f"pass: planned {summary.enqueued.planned}, messages {summary.enqueued.new_messages}, sent {summary.sent}"
    )
    gc.collect()
    log.append(f"after the pass and gc.collect(): RSS {_rss_mb():6.1f} MB, threads {_threads(os.getpid())}")
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        log.append(f"after malloc_trim(0) (glibc gives freed heap back): RSS {_rss_mb():6.1f} MB")
    except (OSError, AttributeError):
        log.append("malloc_trim unavailable (not glibc)")
    print("\n".join(log), flush=True)


def memory_breakdown(folder: Path, template: Path, watermark: datetime) -> None:
    """The catch-up pass in a fresh process, stage by stage; again with MALLOC_ARENA_MAX=2."""
    host, port, stop = start_smtp_server_process()
    try:
        for label, extra in (("default malloc", {}), ("MALLOC_ARENA_MAX=2", {"MALLOC_ARENA_MAX": "2"})):
            run_dir = folder / f"breakdown-{len(extra)}"
            run_dir.mkdir()
            shutil.copyfile(template, run_dir / "nhacviec.db")
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--breakdown-child",
                str(run_dir / "nhacviec.db"),
            ]
            command += ["--watermark", watermark.isoformat(), "--smtp", f"{host}:{port}"]
            env = {k: v for k, v in os.environ.items() if not k.startswith("NHACVIEC_")} | extra
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
            print(f"  in-process replay of the catch-up pass ({label}):")
            output = result.stdout.strip() or result.stderr.strip()[-2000:]
            print("    " + output.replace("\n", "\n    "))
    finally:
        stop()


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------- 3. start-up time

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)")


def importtime(top: int = 10) -> str:
    """The heaviest imports of ``nhacviec --help``: by cumulative time, first-level modules, and by self time."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(NHACVIEC), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    entries = []
    for line in result.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            own, cumulative, indent, name = match.groups()
            entries.append((int(own), int(cumulative), len(indent) // 2, name))
    total_us = sum(own for own, *_ in entries)
    lines = [f"python -X importtime: {len(entries)} modules, {total_us / 1e6:.3f} s of import in all"]
    lines.append(f"  top {top} first-level imports by cumulative time (ms):")
    for _, cumulative, _, name in sorted((e for e in entries if e[2] == 0), key=lambda e: -e[1])[:top]:
        lines.append(f"    {cumulative / 1000:8.1f}  {name}")
    lines.append(f"  top {top} modules by cumulative time, any depth (ms):")
    for _, cumulative, depth, name in sorted(entries, key=lambda e: -e[1])[:top]:
        lines.append(f"    {cumulative / 1000:8.1f}  {'  ' * depth}{name}")
    lines.append(f"  top {top} modules by self time (ms):")
    for own, _, _, name in sorted(entries, key=lambda e: -e[0])[:top]:
        lines.append(f"    {own / 1000:8.1f}  {name}")
    return "\n".join(lines)


def bench_startup(force_importtime: bool) -> bool:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHACVIEC_")}
    command = [str(NHACVIEC), "--help"]
    subprocess.run(command, env=env, capture_output=True, check=True, timeout=60)  # warm-up: bytecode caches
    times = []
    for _ in range(HELP_RUNS):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True, timeout=60)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(
        f"nhacviec --help over {HELP_RUNS} runs: median {median:.3f} s, min {min(times):.3f} s, "
        f"max {max(times):.3f} s (load average {load_average()})"
    )
    bare = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        bare.append(time.perf_counter() - started)
    print(f"  for scale: a bare 'python -c pass' takes {statistics.median(bare):.3f} s (median of 5)")
    ok = median <= TARGET_HELP_SECONDS
    print(f"[{verdict(ok)}] nhacviec --help median {median:.3f} s (target <= {TARGET_HELP_SECONDS} s)")
    if force_importtime or not ok:
        print(importtime())
    return ok


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=10_000, help="synthetic tasks (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--at", default=DEFAULT_AT, help=f"the pass's moment, Asia/Ho_Chi_Minh (default {DEFAULT_AT})"
    )
    parser.add_argument("--only", default="pass,rss,startup", help="which parts to run (default all three)")
    parser.add_argument("--profile", action="store_true", help="cProfile the pass even when on target")
    parser.add_argument(
        "--importtime", action="store_true", help="show the heaviest imports even when on target"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (databases, logs, sink)"
    )
    parser.add_argument("--breakdown", action="store_true", help="RSS stage by stage even when on target")
    parser.add_argument("--breakdown-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--watermark", help=argparse.SUPPRESS)
    parser.add_argument("--smtp", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.breakdown_child:
        host, port = args.smtp.rsplit(":", 1)
        breakdown_child(args.breakdown_child, datetime.fromisoformat(args.watermark), host, int(port))
        return 0
    parts = {part.strip() for part in args.only.split(",")}
    now = datetime.strptime(args.at, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)

    print(machine_facts())
    print(f"load average (1, 5, 15 min): {load_average()}")
    results: dict[str, bool] = {}
    folder = Path(tempfile.mkdtemp(prefix="nhacviec-bench-"))
    try:
        if parts & {"pass", "rss"}:
            template = folder / "template.db"
            loaded = build_database(
                f"sqlite:///{template}", Settings(), args.tasks, args.seed, YEAR, now.date()
            )
            print(
                f"\nDatabase: {loaded.tasks} tasks, {loaded.assignments} unit assignments, {loaded.events} task events, "
                f"{loaded.reports} reports received; built in {loaded.seconds:.1f} s (not timed below)"
            )
            if "pass" in parts:
                print("\n1. One pass, without and with bundling")
                results["pass"] = bench_pass(folder, template, now, args.profile)
            if "rss" in parts:
                print("\n2. Idle service memory (real clock)")
                print("2a. the pass's database (plan of 2020), last pass yesterday")
                wall = datetime.now(TZ)
                results["rss"] = bench_rss(
                    folder, template, "service", wall - timedelta(days=1), args.breakdown
                )
                print(
                    f"\n2b. a plan of {wall.year} with the same tasks, last pass the working day before the latest"
                )
                print("    working day's send time, so the catch-up pass has a day's messages to send")
                current = folder / "current-year.db"
                loaded = build_database(
                    f"sqlite:///{current}", Settings(), args.tasks, args.seed, wall.year, wall.date()
                )
                print(f"    database built in {loaded.seconds:.1f} s, {loaded.events} task events")
                latest = last_send_moment(Settings(), wall)
                results["rss-busy"] = bench_rss(
                    folder, current, "service-busy", latest - timedelta(days=1), args.breakdown
                )
        if "startup" in parts:
            print("\n3. Start-up time")
            results["startup"] = bench_startup(args.importtime)
    finally:
        if args.keep:
            print(f"\nkept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print("\nSummary: " + ", ".join(f"{name} {verdict(ok)}" for name, ok in results.items()))
    print(f"load average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
