"""``nhacviec run``: the long-running service around APScheduler 3.

Jobs (AsyncIOScheduler, Asia/Ho_Chi_Minh):
- ``pass``: every day at the send time (working Saturdays exist, and the
  planner yields nothing on a day off), and once at start-up to catch up;
  the digest and the reporting requests are notifications the pass plans;
- ``retry``: every minute, sends outbox rows whose next attempt is due;
- ``leadership``: on PostgreSQL, checks the advisory lock is still held;
- ``zalo-keepalive``: when Zalo is configured, every 6 hours and at start, refreshes
  the OA token once it is a day old (scheduler.keepalive), so a quiet season does
  not let the refresh token expire.
Plan and rule edits take effect at the next pass: every pass reads them afresh.

Stopping (SIGTERM, Ctrl-C) lets a running pass or send finish: APScheduler's
asyncio executor would cancel it, so the work runs in tasks of our own that
the stop waits for (anything cut short stays claimable in the outbox anyway).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from config.settings import Settings
from delivery.dispatcher import default_worker_id
from delivery.pipeline import dispatch
from plan.errors import UserError
from plan.units import Directory
from rules.channels import CHANNELS
from scheduler.keepalive import KEEPALIVE_EVERY, keep_zalo_alive
from scheduler.leader import Leadership, leadership_for
from scheduler.memory import release_freed_memory
from scheduler.passes import run_pass
from store.state import SCHEDULER, get_state, set_state

log = logging.getLogger("nhacviec.service")

HEARTBEAT_SECONDS = 5.0  # the leader records itself (and its next runs) this often; status trusts 3 beats

Clock = Callable[[], datetime]


def pass_trigger(send_time: time, tz: ZoneInfo):
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(hour=send_time.hour, minute=send_time.minute, timezone=tz)


class Service:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        directory: Directory,
        renderer: Any,
        *,
        send_time: time,
        clock: Clock | None = None,
        retry_seconds: float = 60.0,
        standby_poll_seconds: float = 5.0,
        leadership: Leadership | None = None,
        extra_tasks: list[Callable[[asyncio.Event], Awaitable[None]]] | None = None,
        companion_tasks: list[Callable[[asyncio.Event], Awaitable[None]]] | None = None,
        reload_directory: Callable[[], Directory] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.directory = directory
        self.reload_directory = reload_directory  # each pass reads the directory the CLI and web edit
        self.renderer = renderer
        self.tz = ZoneInfo(settings.timezone)
        self.send_time = send_time
        self.clock = clock or (lambda: datetime.now(self.tz))
        self.retry_seconds = retry_seconds
        self.standby_poll_seconds = standby_poll_seconds
        self.leadership = leadership or leadership_for(engine, settings.data_dir)
        self.extra_tasks = extra_tasks or []  # run while this instance leads (the bot: one poller per bot)
        self.companion_tasks = companion_tasks or []  # run for the life of the process (the web admin)
        self.worker = default_worker_id()
        self._running: set[asyncio.Task[Any]] = set()
        self._work_lock = asyncio.Lock()

    # -- jobs -----------------------------------------------------------------------------------------

    async def pass_job(self) -> None:
        await self._guard(self._pass())

    async def retry_job(self) -> None:
        await self._guard(self._retry())

    async def keepalive_job(self) -> None:
        await self._guard(self._keepalive())

    async def _keepalive(self) -> None:
        try:
            await keep_zalo_alive(self.engine, self.settings)
        except Exception:
            log.exception("zalo keep-alive failed; the next run tries again")

    async def _pass(self) -> None:
        async with self._work_lock:  # a pass and a retry never run at the same time in one process
            try:
                if self.reload_directory is not None:
                    self.directory = await asyncio.to_thread(self.reload_directory)
                await run_pass(self.engine, self.settings, self.directory, self.renderer, self.clock())
            except Exception:
                log.exception("pass failed; the next pass will cover the same interval")
            finally:
                release_freed_memory()  # glibc keeps it otherwise: ~70 MB after a busy day

    async def _retry(self) -> None:
        async with self._work_lock:
            try:
                result = await dispatch(self.engine, self.settings, self.clock())
                if result.outcomes:
                    log.info("retry job: %s", dict(result.outcomes))
            except Exception:
                log.exception("retry job failed")

    async def _guard(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        await asyncio.shield(task)

    # -- life cycle ----------------------------------------------------------------------------------------

    async def wait_for_leadership(self, stop: asyncio.Event) -> bool:
        """Become the active scheduler; on PostgreSQL stand by until the leader goes away."""
        if self.leadership.try_acquire():
            return True
        if self.engine.dialect.name != "postgresql":
            raise UserError(
                "Đã có một tiến trình 'nhacviec run' khác đang chạy với cơ sở dữ liệu này (SQLite chỉ cho phép một). "
                "Dừng tiến trình kia, hoặc dùng PostgreSQL để chạy nhiều bản dự phòng."
            )
        leader = (get_state(self.engine, SCHEDULER) or {}).get("worker")
        log.info("standby worker=%s: the active scheduler is another instance leader=%s", self.worker, leader)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.standby_poll_seconds)
            except TimeoutError:
                if self.leadership.try_acquire():
                    log.info("took over as the active scheduler worker=%s", self.worker)
                    return True
        return False

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set (signals set it): lead, schedule, catch up, serve; stand by when not leading."""
        companions = [asyncio.ensure_future(task(stop)) for task in self.companion_tasks]
        try:
            while not stop.is_set():
                if not await self.wait_for_leadership(stop):
                    return
                await self._lead(stop)
        finally:
            stop.set()
            if companions:
                await asyncio.gather(*companions, return_exceptions=True)

    async def _lead(self, stop: asyncio.Event) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        lost = asyncio.Event()

        async def check_leadership() -> None:
            if not self.leadership.still_held():
                log.error("lost the scheduler lock: stopping the jobs and standing by")
                lost.set()

        scheduler = AsyncIOScheduler(timezone=self.tz)
        common: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        scheduler.add_job(self.pass_job, pass_trigger(self.send_time, self.tz), id="pass", **common)
        scheduler.add_job(self.retry_job, IntervalTrigger(seconds=self.retry_seconds), id="retry", **common)
        if self.engine.dialect.name == "postgresql":
            scheduler.add_job(check_leadership, IntervalTrigger(seconds=5), id="leadership", **common)
        zalo = CHANNELS["zalo"].configured(self.settings)
        if zalo:
            every = IntervalTrigger(seconds=KEEPALIVE_EVERY.total_seconds(), timezone=self.tz)
            scheduler.add_job(self.keepalive_job, every, id="zalo-keepalive", **common)
        self._since = self.clock()

        async def heartbeat() -> None:  # status names a live leader only: a killed one stops beating
            if not lost.is_set():
                await asyncio.to_thread(self._record, scheduler, "active")

        scheduler.add_job(heartbeat, IntervalTrigger(seconds=HEARTBEAT_SECONDS), id="heartbeat", **common)
        scheduler.start()
        self._record(scheduler, "active")  # before the catch-up: a standby that took over is named at once
        extras = [asyncio.ensure_future(task(stop)) for task in self.extra_tasks]
        try:
            await self.pass_job()  # catch up on what happened while nobody was running
            if zalo:
                await (
                    self.keepalive_job()
                )  # the interval starts now: a service restarted daily still refreshes
            self._record(scheduler, "active")
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())}
            _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for waiting in pending:
                waiting.cancel()
        finally:
            scheduler.pause()
            await self.drain()
            scheduler.shutdown(wait=False)
            for extra in extras:
                extra.cancel()
            self.leadership.release()
            self._record(None, "stopped")

    async def drain(self) -> None:
        """Let work in progress finish (a pass, a send)."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _record(self, scheduler: Any, state: str) -> None:
        next_runs = {}
        if scheduler is not None:
            for job in scheduler.get_jobs():
                if job.next_run_time is not None and job.id != "heartbeat":
                    next_runs[job.id] = job.next_run_time.astimezone(self.tz).isoformat()
        now = self.clock()  # "since": the service's clock (a fixed --at in tests), the heartbeat the wall's
        try:
            set_state(
                self.engine,
                SCHEDULER,
                {
                    "state": state,
                    "worker": self.worker,
                    "since": getattr(self, "_since", now).isoformat(),
                    "next_runs": next_runs,
                    "heartbeat_at": datetime.now(
                        self.tz
                    ).isoformat(),  # the wall clock, which status compares
                    "heartbeat_seconds": HEARTBEAT_SECONDS,
                },
            )
        except Exception:
            log.exception("could not record the scheduler state")


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
