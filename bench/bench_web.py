"""The web admin with 10,000 tasks: the dashboard's server time, and requests/s under a few concurrent clients.

Run: .venv/bin/python bench/bench_web.py [--tasks 10000] [--clients 20] [--workers N] [--rounds 2]
     [--requests 200] [--seconds 30] [--profile] [--keep]

1. A fresh SQLite database (bench_service.build_database: the unit directory, the default rules and
   ``--tasks`` synthetic tasks of bench/synthetic.py as Plan/Section/Task/TaskUnit/TaskEvent rows) in a
   plan of the current year, as it stands this morning, plus one admin account.
2. Server time, in process: ``create_app`` over that database under Starlette's TestClient, signed in;
   GET / and GET /tasks are timed one at a time (the handler, the template and the middleware; no
   network, no other client). Target: the dashboard's median under 200 ms. Also timed, five times each: the
   task list searched without accents, the month calendar and the Excel export of every task.
3. Load, over loopback: ``nhacviec web --workers N`` (default: the cores) on 127.0.0.1:<free port>;
   ``--clients`` httpx clients, each signed in, send GET / (then GET /tasks) until ``--requests`` answers
   or ``--seconds`` have passed, ``--rounds`` times. Reported: requests/s, latency percentiles, the
   server's own time per request read from its access log (``ms=``), and the RSS of the server's
   processes (at rest, the peak under load, 3 s after each round: flat from round to round).
   Target: the dashboard's p99 under 1 s with 20 clients.

With --profile, or when the dashboard misses its target, one dashboard request is run under cProfile.
Always exits 0: this is a report (read the load average printed with it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bench.bench_service import TZ, build_database, load_average, machine_facts, verdict
from bench.synthetic import PLAN_CODE
from config.settings import Settings
from store.db import make_engine, session_scope
from store.users import add_user
from tests.support.browser_support import free_port, wait_until_up
from web.app import create_app
from web.config import WebSettings

ROOT = Path(__file__).resolve().parent.parent
USER = "admin"
PASSWORD = "mat-khau-thu-tai-2020"
WEB_SECRET = "web-secret-for-the-web-benchmark-0123456789"
TARGET_DASHBOARD_MS = 200.0
TARGET_P99_MS = 1000.0
IN_PROCESS_RUNS = 15
PAGES = {"dashboard": "/", "tasks": "/tasks"}
# Timed in process only (not under load): the search without accents, the month calendar, the Excel export.
MORE_PAGES = {
    "search 'bao cao'": "/tasks?q=bao+cao",
    "calendar": "/calendar?month={year}-12",
    "export .xlsx": "/tasks/export.xlsx",
}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
T = TypeVar("T")
_ACCESS = re.compile(r"web\.access: GET (\S+) status=(\d+) ms=(\d+)")


def percentiles(samples_ms: list[float]) -> str:
    if not samples_ms:
        return "no samples"
    ordered = sorted(samples_ms)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return (
        f"p50 {at(0.50):.0f} ms, p90 {at(0.90):.0f} ms, p99 {at(0.99):.0f} ms, max {ordered[-1]:.0f} ms "
        f"({len(ordered)} requests)"
    )


# --------------------------------------------------------------------------- the database


def prepare(folder: Path, count: int, seed: int, today: date) -> Settings:
    settings = Settings(data_dir=folder, console_sink=False)
    url = settings.effective_database_url
    loaded = build_database(url, settings, count, seed, today.year, today)
    engine = make_engine(url)
    with session_scope(engine) as session:
        add_user(session, USER, PASSWORD, "admin")
    engine.dispose()
    print(
        f"database: {loaded.tasks} tasks, {loaded.assignments} assignments, {loaded.events} events "
        f"in plan {PLAN_CODE} of {today.year}, built in {loaded.seconds:.1f} s"
    )
    return settings


# --------------------------------------------------------------------------- in process


def signed_in_client(settings: Settings) -> TestClient:
    app = create_app(settings, web_settings=WebSettings(secret=SecretStr(WEB_SECRET)))
    client = TestClient(app, follow_redirects=False)
    csrf = _CSRF.search(client.get("/login").text)
    assert csrf, "no csrf token on /login"
    data = {"csrf": csrf.group(1), "name": USER, "password": PASSWORD, "next": "/"}
    response = client.post("/login", data=data)
    assert response.status_code == 303, response.status_code
    return client


def time_in_process(client: TestClient, path: str, runs: int) -> tuple[list[float], int]:
    """Milliseconds per GET ``path`` (after one warm-up) and the page's size in bytes."""
    warm = client.get(path)
    assert warm.status_code == 200, (path, warm.status_code)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return samples, len(warm.content)


def dashboard_stages(settings: Settings, today: date) -> dict[str, float]:
    """Milliseconds of each step of the dashboard's handler, called directly (the template excepted)."""
    from planner.progress import progress_by_section, progress_by_unit, status_counts
    from store.planner_input import load_task_inputs
    from store.tasks import get_plan
    from store.users import UserRole
    from web.permissions import Principal
    from web.queries import load_plan
    from web.routes.dashboard import timeline_rows
    from web.timeline import build_timeline

    admin = Principal(id=1, name=USER, role=UserRole.ADMIN)
    engine = make_engine(settings.effective_database_url)
    stages: dict[str, float] = {}

    def step(name: str, function: Callable[[], T]) -> T:
        started = time.perf_counter()
        result = function()
        stages[name] = (time.perf_counter() - started) * 1000
        return result

    with session_scope(engine) as db:
        plan = get_plan(db, None)
        step("load_task_inputs (inside load_plan)", lambda: load_task_inputs(db, [plan]))
        data = step("load_plan", lambda: load_plan(db, None, admin))
    step("status_counts", lambda: status_counts(data.tasks, today))
    step("progress_by_section", lambda: progress_by_section(data.tasks, data.sections, today))
    step("progress_by_unit", lambda: progress_by_unit(data.tasks, data.lead_units(), today))
    rows = step("timeline_rows", lambda: timeline_rows(data, today))
    year = data.plan.year
    step("build_timeline", lambda: build_timeline(rows, date(year, 1, 1), date(year, 12, 31), today))
    engine.dispose()
    return stages


def profile_stages(settings: Settings, today: date, top: int = 30) -> str:
    """cProfile of the steps above (the request handler runs in another thread, out of cProfile's sight)."""
    profiler = cProfile.Profile()
    profiler.runcall(dashboard_stages, settings, today)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --------------------------------------------------------------------------- over loopback


@dataclass
class LoadResult:
    latencies_ms: list[float]
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


async def sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    csrf = _CSRF.search(page.text)
    assert csrf, "no csrf token on /login"
    data = {"csrf": csrf.group(1), "name": USER, "password": PASSWORD, "next": "/"}
    response = await client.post("/login", data=data)
    assert response.status_code == 303, response.status_code


async def load(base: str, path: str, clients: int, requests: int, seconds: float) -> LoadResult:
    """``clients`` signed-in clients GET ``path`` until ``requests`` answers in all or ``seconds`` pass."""
    sessions = [
        httpx.AsyncClient(base_url=base, timeout=60.0, follow_redirects=False) for _ in range(clients)
    ]
    latencies: list[float] = []
    errors = 0
    remaining = requests
    try:
        for session in sessions:
            await sign_in(session)
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(session: httpx.AsyncClient) -> None:
            nonlocal remaining, errors
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                sent = time.perf_counter()
                try:
                    response = await session.get(path)
                except httpx.TransportError:  # e.g. a keep-alive connection the server closed meanwhile
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - sent) * 1000)
                if response.status_code != 200:
                    errors += 1

        await asyncio.gather(*(worker(session) for session in sessions))
        return LoadResult(latencies, errors, time.perf_counter() - started)
    finally:
        for session in sessions:
            await session.aclose()


def server_times(log_file: Path, path: str) -> list[float]:
    return [
        float(ms)
        for found, status, ms in _ACCESS.findall(log_file.read_text(errors="replace"))
        if found == path and status == "200"
    ]


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the uvicorn workers), in MB."""
    total = 0
    pids = [str(pid)]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += children.read_text().split()
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def bench_load(folder: Path, clients: int, requests: int, seconds: float, workers: int, rounds: int) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("NHACVIEC_")}
    env.update(
        NHACVIEC_DATA_DIR=str(folder),
        NHACVIEC_WEB_SECRET=WEB_SECRET,
        NHACVIEC_CONSOLE_SINK="false",
        NHACVIEC_LOG_FORMAT="text",
    )
    log_file = folder / "web.log"
    command = [sys.executable, "-m", "cli.main", "web", "--host", "127.0.0.1", "--port", str(port)]
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_up(base, process, log_file, timeout=180)
            print(f"nhacviec web --workers {workers}: RSS at rest {tree_rss_mb(process.pid):.0f} MB")
            for round_ in range(1, rounds + 1):
                for name, path in PAGES.items():
                    before = len(server_times(log_file, path))
                    peak = [0.0]
                    stop = threading.Event()

                    def sample(peak: list[float] = peak, stop: threading.Event = stop) -> None:
                        while not stop.wait(0.5):
                            peak[0] = max(peak[0], tree_rss_mb(process.pid))

                    sampler = threading.Thread(target=sample, daemon=True)
                    sampler.start()
                    result = asyncio.run(load(base, path, clients, requests, seconds))
                    stop.set()
                    sampler.join()
                    server = server_times(log_file, path)[before:]
                    time.sleep(3)
                    print(
                        f"round {round_}, {name} over loopback, {clients} clients: {result.rate:.1f} requests/s, "
                        f"{result.errors} errors; latency {percentiles(result.latencies_ms)}"
                    )
                    print(
                        f"  server time (access log): {percentiles(server)}; RSS peak {peak[0]:.0f} MB, "
                        f"3 s after {tree_rss_mb(process.pid):.0f} MB (load {load_average()})"
                    )
                    if name == "dashboard":
                        p99 = sorted(result.latencies_ms)[
                            min(len(result.latencies_ms) - 1, int(0.99 * len(result.latencies_ms)))
                        ]
                        print(
                            f"  {verdict(p99 < TARGET_P99_MS)}: dashboard p99 {p99:.0f} ms (target < {TARGET_P99_MS:.0f} ms)"
                        )
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None, help="web worker processes (default: the cores)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="load rounds (memory flat from one to the next)"
    )
    parser.add_argument("--requests", type=int, default=200, help="answers per page, all clients together")
    parser.add_argument("--seconds", type=float, default=30.0, help="at most this long per page")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args(argv)

    print(f"machine: {machine_facts()}; load average {load_average()}")
    today = datetime.now(TZ).date()
    folder = Path(tempfile.mkdtemp(prefix="nhacviec-bench-web-"))
    try:
        settings = prepare(folder, args.tasks, args.seed, today)
        client = signed_in_client(settings)
        results: dict[str, list[float]] = {}
        for name, path in PAGES.items():
            samples, size = time_in_process(client, path, IN_PROCESS_RUNS)
            results[name] = samples
            print(f"{name} in process ({size / 1024:.0f} KiB of HTML): {percentiles(samples)}")
        for name, path in MORE_PAGES.items():
            samples, size = time_in_process(client, path.format(year=today.year), 5)
            print(f"{name} in process ({size / 1024:.0f} KiB): {percentiles(samples)}")
        median = statistics.median(results["dashboard"])
        ok = median < TARGET_DASHBOARD_MS
        print(
            f"{verdict(ok)}: the dashboard's median server time at {args.tasks} tasks is {median:.0f} ms "
            f"(target under {TARGET_DASHBOARD_MS:.0f} ms)"
        )
        if args.profile or not ok:
            dashboard_stages(settings, today)  # warm-up
            stages = dashboard_stages(settings, today)
            print("dashboard handler, step by step (ms; load_plan includes load_task_inputs):")
            for name, ms in stages.items():
                print(f"  {name:40} {ms:8.0f}")
            print("--- cProfile of those steps, by own time ---")
            print(profile_stages(settings, today))
        client.close()
        from cli.web import default_workers

        bench_load(
            folder, args.clients, args.requests, args.seconds, args.workers or default_workers(), args.rounds
        )
        print(f"load average after: {load_average()}")
    finally:
        if args.keep:
            print(f"kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
