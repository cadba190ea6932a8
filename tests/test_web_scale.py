"""The web serves a department: worker processes, the dashboard's figures shared and bounded."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

import web.queries
import web.routes.dashboard
from config.settings import Settings
from store.db import session_scope
from store.tasks import find_task, mark_done
from tests.support.browser_support import free_port
from tests.support.web_pages import client_for
from web.queries import Bounded


@pytest.fixture
def engine(web_engine: Engine) -> Engine:
    """The sample plan with I.1 and IV.4 done, an admin and a TCCB account (tests/support/web_pages.py)."""
    return web_engine


ROOT = Path(__file__).resolve().parents[1]


def test_a_bounded_cache_keeps_the_latest_entries() -> None:
    cache = Bounded(3)
    for n in range(10):
        cache.put(n, str(n))
        assert cache.get(n) == str(n)
    assert len(cache) == 3 and cache.get(0) is None and cache.get(9) == "9"
    cache.get(7)  # used: kept over 8
    cache.put(10, "10")
    assert cache.get(7) == "7" and cache.get(8) is None


def test_the_dashboard_figures_are_computed_once_for_everyone_who_sees_the_whole_plan(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    counts = web.routes.dashboard.status_counts

    def counting(tasks, today):  # type: ignore[no-untyped-def]
        calls.append(len(tasks))
        return counts(tasks, today)

    monkeypatch.setattr(web.routes.dashboard, "status_counts", counting)
    admin = client_for(engine)
    first = admin.get("/")
    assert first.status_code == 200 and len(calls) == 1
    for _ in range(3):
        again = client_for(engine).get("/")
        assert again.status_code == 200
    assert len(calls) == 1, "the same plan on the same day: computed once"
    assert first.text.count("progress") == again.text.count("progress")
    unit = client_for(engine, "tccb").get("/")  # sees part of the plan: its own figures
    assert unit.status_code == 200 and len(calls) == 2 and calls[1] < calls[0]
    with session_scope(engine) as session:  # the plan changes: its figures are computed again
        mark_done(session, find_task(session, "V.1"), on=date(2020, 11, 20), actor="an", via="web")
    assert client_for(engine).get("/").status_code == 200 and len(calls) == 3
    assert len(web.routes.dashboard._FIGURES) <= web.routes.dashboard.FIGURES_CACHE_SIZE


def test_a_started_server_prepares_the_dashboard_before_anyone_asks(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`nhacviec web` warms each worker: the first dashboard after a start is served from the caches."""
    for module, name, size in (
        (web.routes.dashboard, "_FIGURES", web.routes.dashboard.FIGURES_CACHE_SIZE),
        (web.queries, "_CACHE", web.queries.PLAN_CACHE_SIZE),
        (web.queries, "_CURRENT", web.queries.PLAN_CACHE_SIZE),
    ):
        monkeypatch.setattr(module, name, Bounded(size))  # a process just started
    admin = client_for(engine)
    web.routes.dashboard.warm_in_background(admin.app.state.ctx).join(60)  # type: ignore[attr-defined]

    def again(*args: object) -> None:
        raise AssertionError("prepared again on the first request")

    monkeypatch.setattr(web.routes.dashboard, "compute_figures", again)
    monkeypatch.setattr(web.queries, "load_task_inputs", again)
    first = admin.get("/")
    assert first.status_code == 200 and "progress" in first.text


def test_warming_a_database_without_a_plan_changes_nothing(tmp_path: Path) -> None:
    from store.db import make_engine, upgrade_schema
    from web.app import create_app

    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade_schema(empty)
    prepared = len(web.routes.dashboard._FIGURES)
    web.routes.dashboard.warm(create_app(Settings(), empty).state.ctx)  # logs, raises nothing
    assert len(web.routes.dashboard._FIGURES) == prepared
    empty.dispose()


def up_within(base: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    """Worker processes start by importing the app afresh: slower than one process on a busy machine."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "nhacviec web --workers 2 exited"
        try:
            if httpx.get(f"{base}/login", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"nhacviec web --workers 2 did not answer within {seconds:g} s")


@pytest.mark.slow
def test_web_runs_several_worker_processes_and_a_session_works_on_each(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHACVIEC_")}
    env.update(NHACVIEC_DATA_DIR=str(tmp_path / "var"), NHACVIEC_LOG_FORMAT="text")  # no NHACVIEC_WEB_SECRET
    password = "mat-khau-nhieu-tien-trinh"
    subprocess.run(
        [sys.executable, "-m", "cli.main", "users", "add", "admin", "--role", "admin", "--password-stdin"],
        input=password + "\n",
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    log_file = tmp_path / "web.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "web", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            up_within(base, process, 120)
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
            workers = [
                pid for pid in children if "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_text()
            ]
            assert len(workers) >= 2, log_file.read_text(errors="replace")
            with httpx.Client(base_url=base, timeout=30) as client:
                page = client.get("/login")
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert csrf
                signed = client.post(
                    "/login", data={"csrf": csrf.group(1), "name": "admin", "password": password, "next": "/"}
                )
                assert signed.status_code == 303
                answers = {client.get("/").status_code for _ in range(12)}  # new connections: either worker
                client.headers["Connection"] = "close"
                answers |= {client.get("/").status_code for _ in range(12)}
            assert answers == {200}, "the session is good on every worker (one secret for all)"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
