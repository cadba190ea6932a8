"""Email delivery throughput: the whole outbox path against two plain SMTP clients, on one local server.

Run: .venv/bin/python bench/bench_email.py [--count 2000] [--runs 3] [--pool 4] [--batch-size 100]
     [--profile] [--variants] [--no-diagnostics]

Prepare (timed, reported separately): a fresh SQLite file database (Alembic schema) and ``count`` email
outbox rows rendered by the real path: the sample plan's year of notifications
(tests/support/planning_fixtures.simulate()), each email recipient rendered by delivery/pipeline.py (resolve,
one message per recipient, render) with the built-in templates, replicated with distinct keys when the year has fewer
than ``count``, every row given its own test address and made due in the past.

Measured, against one counting aiosmtpd server in its own process, started once:
(a) naive smtplib, one new connection per message (bench_email_references.naive_smtplib);
(b) the ceiling: ``pool`` persistent aiosmtplib connections sending pre-built messages, no database;
(c) the dispatcher: Dispatcher.run_once() claiming, sending (EmailNotifier, ``pool`` connections) and
    recording every row. Each run gets a fresh database with the same rows.
(a) and (b) each run twice: with the dispatcher's own messages (the rendered rows, ~9 KB on the wire,
pre-built outside the clock) and with the references' ~2 KB sample messages.
The server's count is checked after each (exactly ``count`` more), and every row must be 'sent' after (c).

Targets: dispatcher >= 1.5x naive, dispatcher >= 0.5x ceiling (medians over the runs), like for like:
the yardsticks send the same messages as the dispatcher, since the server's time per message grows with
its size. The ratios to the ~2 KB samples are printed beside them, for reference. The rows are
enqueued as delivery.pipeline.enqueue does it (each email built once then, its bytes stored with the row:
the enqueue time is reported with the preparation, not with the dispatcher).
On a miss (or with --profile) one dispatcher run is timed step by step (CPU per message, message
building, each asyncio.to_thread call) and one is profiled (cProfile, top 25 by cumulative and by tottime,
for the event loop and, separately, the worker threads). On a miss (or with --variants) the parts are
measured alone (message building, a ceiling with the real messages, the outbox without SMTP, per-row vs
per-batch commits) and the dispatcher is tried with other claim batch sizes, pool sizes, database calls
inline or on one thread, and messages pre-built: these patch only this process, never the code under test.
Always exits 0: this is a report (the machine is shared; read the load average printed with the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import functools
import io
import os
import platform
import pstats
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import notifiers.email
from bench.bench_email_references import SERVER_SCRIPT, bare_aiosmtplib_pool, naive_smtplib
from delivery.dispatcher import Dispatcher
from delivery.pipeline import Contexts, bundle, prebuild, render, resolve
from delivery.retry import RetryPolicy
from notifiers.base import OutgoingMessage
from notifiers.email import EmailNotifier, build_email, email_bytes
from planner.model import Notification
from planner.planner import PlannerInput
from store import outbox
from store.db import make_engine, session_scope, upgrade_schema
from store.models import OutboxMessage, OutboxStatus
from templates.render import Renderer
from tests.support.planning_fixtures import directory, sample_reporting, sample_tasks, simulate

SENDER = "Văn phòng Sở Nội vụ <nhacviec@snv.gov.vn>"
TARGET_VS_NAIVE = 1.5
TARGET_VS_CEILING = 0.50
TOP = 25


# --------------------------------------------------------------------------- machine


def machine_facts() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    usable = len(os.sched_getaffinity(0))
    return (
        f"Python {platform.python_version()}, nproc {usable} (of {os.cpu_count()}), {cpu}, "
        f"aiosmtplib {aiosmtplib.__version__}"
    )


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# --------------------------------------------------------------------------- the SMTP server


# The reference server (same handler, same process model), plus: SIGUSR1 prints the running count.
_COUNT_ON_USR1 = "    loop.add_signal_handler(signal.SIGUSR1, lambda: print(Counter.received, flush=True))\n"
# before the port is printed: a SIGUSR1 sent as soon as the port is read must find the handler in place
_ANCHOR = "    print(server.sockets[0].getsockname()[1], flush=True)\n"


class CountingServer:
    """The references' counting aiosmtpd server in a child process, whose count can be read while it runs."""

    def __init__(self) -> None:
        if _ANCHOR not in SERVER_SCRIPT:
            raise RuntimeError("bench_email_references.SERVER_SCRIPT changed: update CountingServer")
        script = SERVER_SCRIPT.replace(_ANCHOR, _COUNT_ON_USR1 + _ANCHOR, 1)
        self._process = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        self.host = "127.0.0.1"
        self.port = int(self._read_line())

    def _read_line(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.isdigit():
            self._process.kill()
            raise RuntimeError(f"the SMTP server process said {line!r}")
        return line

    def received(self) -> int:
        """Messages accepted so far."""
        self._process.send_signal(signal.SIGUSR1)
        return int(self._read_line())

    def stop(self) -> int:
        self._process.terminate()
        remaining, _ = self._process.communicate(timeout=10)
        return int(remaining.strip() or 0)


def counted(server: CountingServer, expected: int, label: str, measure: Callable[[], float]) -> float:
    """Run ``measure`` and check the server accepted exactly ``expected`` messages during it."""
    before = server.received()
    rate = measure()
    got = server.received() - before
    if got != expected:
        raise RuntimeError(f"{label}: the server accepted {got} messages, expected {expected}")
    return rate


# --------------------------------------------------------------------------- prepare


@dataclass
class Prepared:
    rows: list[dict[str, Any]]
    render_seconds: float
    notifications: int
    year_email_recipients: int
    skipped: int  # email recipients without an address in the directory (rendered as 'skipped' rows)


def email_only(notifications: list[Notification]) -> list[Notification]:
    """One notification per email recipient, so each renders exactly one row."""
    return [
        replace(n, recipients=(r,)) for n in notifications for r in n.recipients if str(r.channel) == "email"
    ]


def prepare_rows(count: int, now: datetime) -> Prepared:
    """``count`` rendered email rows: the sample year's, replicated with distinct keys, unique addresses."""
    notifications = simulate()
    singles = email_only(notifications)
    units = directory()
    inputs = PlannerInput(tasks=sample_tasks(), directory=units, reporting=(sample_reporting(),))
    contexts = Contexts(inputs, units)
    renderer = Renderer()
    one_each = frozenset(n.rule for n in singles)  # one message per recipient: the dispatcher's load
    rows: list[dict[str, Any]] = []
    skipped = 0
    started = time.perf_counter()
    for copy in range(count):  # bounded: each round adds at least one row or stops
        wanted = singles[: count - len(rows)]
        deliveries = resolve(wanted, units, unbundled_rules=one_each).deliveries
        batch = [
            {**message.columns(), **message.content(0)}  # the row and what it says, flat (NewMessage.single)
            for message in render(bundle(deliveries), contexts, renderer, now=now)
        ]
        sendable = [row for row in batch if row["status"] == OutboxStatus.PENDING]
        skipped += len(batch) - len(sendable)
        if not sendable:
            raise RuntimeError("the sample year has no email recipient with an address")
        for row in sendable:
            if copy:
                row["key"] = f"{row['key']}#copy{copy}"
            rows.append(row)
        if len(rows) >= count:
            break
    render_seconds = time.perf_counter() - started
    past = now - timedelta(minutes=1)
    for number, row in enumerate(rows):
        row["address"] = f"bench{number:05d}@nhacviec.example"
        row["next_attempt_at"] = min(row["next_attempt_at"].astimezone(UTC), past)
    assert len({row["key"] for row in rows}) == len(rows) == count
    return Prepared(rows, render_seconds, len(notifications), len(singles), skipped)


def fresh_outbox(folder: Path, name: str, rows: list[dict[str, Any]]) -> tuple[Engine, float]:
    """A new SQLite file database holding ``rows``; returns it and the seconds the enqueue took."""
    engine = make_engine(f"sqlite:///{folder / name}.db")
    upgrade_schema(engine)
    started = time.perf_counter()
    messages = [outbox.NewMessage.single(row) for row in rows]
    prebuild(messages)  # as delivery.pipeline.enqueue does: each email built once, when it is enqueued
    with session_scope(engine) as session:
        inserted = outbox.enqueue(session, messages)
    seconds = time.perf_counter() - started
    if inserted != len(rows):
        raise RuntimeError(f"enqueued {inserted} rows, expected {len(rows)}")
    return engine, seconds


def all_sent(engine: Engine, count: int) -> None:
    with session_scope(engine) as session:
        counts = outbox.counts_by_status(session)
    if counts != {OutboxStatus.SENT: count}:
        raise RuntimeError(f"outbox after dispatch: {counts}, expected {{'sent': {count}}}")


# --------------------------------------------------------------------------- the measured paths


def notifier(server: CountingServer, pool: int) -> EmailNotifier:
    # local_hostname as in the references (aiosmtplib otherwise asks socket.getfqdn on each connect)
    return EmailNotifier(
        host=server.host,
        port=server.port,
        sender=SENDER,
        tls="none",
        pool_size=pool,
        local_hostname="localhost",
    )


def dispatcher_rate(engine: Engine, server: CountingServer, count: int, pool: int, batch_size: int) -> float:
    """Messages per second of Dispatcher.run_once() over the whole outbox (connections opened and closed)."""

    async def run() -> float:
        email = notifier(server, pool)
        dispatcher = Dispatcher(engine, {"email": email}, policy=RetryPolicy(), batch_size=batch_size)
        started = time.perf_counter()
        async with email:
            summary = await dispatcher.run_once()
        elapsed = time.perf_counter() - started
        if summary.sent != count:
            raise RuntimeError(f"dispatcher: {summary}")
        return count / elapsed

    return asyncio.run(run())


def outgoing(rows: list[dict[str, Any]]) -> list[OutgoingMessage]:
    """The messages the dispatcher would hand the notifier for ``rows``."""
    return [
        OutgoingMessage(
            key=row["key"],
            channel="email",
            address=row["address"],
            recipient_name=row["recipient_name"],
            subject=row["subject"],
            text=row["body_text"],
            html=row["body_html"],
        )
        for row in rows
    ]


def build_rate(messages: list[OutgoingMessage]) -> float:
    """Diagnostic: build_email + email_bytes per second, no I/O (the CPU the notifier spends per send)."""
    started = time.perf_counter()
    for message in messages:
        email_bytes(build_email(message, SENDER))
    return len(messages) / (time.perf_counter() - started)


def real_ceiling_rate(messages: list[OutgoingMessage], server: CountingServer, pool: int) -> float:
    """Diagnostic: the ceiling's loop (b) with the real rendered messages, pre-built, instead of the samples."""
    envelope_from = notifiers.email.parse_sender(SENDER).addr_spec
    wire = [(m.address, email_bytes(build_email(m, SENDER))) for m in messages]

    async def run() -> float:
        pending = iter(wire)
        started = time.perf_counter()
        clients = [
            aiosmtplib.SMTP(hostname=server.host, port=server.port, local_hostname="localhost", timeout=30)
            for _ in range(pool)
        ]
        await asyncio.gather(*(client.connect() for client in clients))

        async def worker(client: aiosmtplib.SMTP) -> None:
            for address, data in pending:
                await client.sendmail(envelope_from, [address], data)
            await client.quit()

        await asyncio.gather(*(worker(client) for client in clients))
        return len(wire) / (time.perf_counter() - started)

    return asyncio.run(run())


def real_naive_rate(messages: list[OutgoingMessage], server: CountingServer) -> float:
    """Reference (a) sending the dispatcher's own messages (pre-built outside the clock, as (a) does its samples)."""
    envelope_from = notifiers.email.parse_sender(SENDER).addr_spec
    wire = [(m.address, email_bytes(build_email(m, SENDER))) for m in messages]
    started = time.perf_counter()
    for address, data in wire:
        with smtplib.SMTP(server.host, server.port, local_hostname="localhost", timeout=30) as client:
            client.sendmail(envelope_from, [address], data)
    return len(wire) / (time.perf_counter() - started)


def naive_with_build_rate(messages: list[OutgoingMessage], server: CountingServer) -> float:
    """Diagnostic: reference (a), but building each real message just before sending it, as a real
    naive sender would (the references pre-build theirs outside the clock)."""
    envelope_from = notifiers.email.parse_sender(SENDER).addr_spec
    started = time.perf_counter()
    for message in messages:
        data = email_bytes(build_email(message, SENDER))
        with smtplib.SMTP(server.host, server.port, local_hostname="localhost", timeout=30) as client:
            client.sendmail(envelope_from, [message.address], data)
    return len(messages) / (time.perf_counter() - started)


def notifier_only_rate(messages: list[OutgoingMessage], server: CountingServer, pool: int) -> float:
    """Diagnostic: EmailNotifier.send for every row (message built per send), no database."""

    async def run() -> float:
        email = notifier(server, pool)
        gate = asyncio.Semaphore(pool)

        async def one(message: OutgoingMessage) -> None:
            async with gate:
                await email.send(message)

        started = time.perf_counter()
        async with email:
            await asyncio.gather(*(one(message) for message in messages))
        return len(messages) / (time.perf_counter() - started)

    return asyncio.run(run())


def _claim_all(engine: Engine, batch_size: int) -> Iterator[list[OutboxMessage]]:
    while batch := outbox.claim(
        engine,
        worker="bench:0",
        now=datetime.now(UTC),
        limit=batch_size,
        lease=timedelta(minutes=10),
        channels=["email"],
    ):
        yield batch


def database_only_rate(engine: Engine, count: int, batch_size: int, *, one_commit_per_batch: bool) -> float:
    """Diagnostic: claim every row and mark it sent, one thread, no SMTP: the outbox's own ceiling.

    Per row: store.outbox.mark_sent (one transaction each, as the dispatcher does). Per batch: the
    same UPDATE for the whole claimed batch in one transaction (executemany), to price the commits.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"), table.c.claimed_by == "bench:0")
        .values(status=OutboxStatus.SENT, provider_id="<x@y>", sent_at=sa.bindparam("at"), claimed_by=None)
    )
    started = time.perf_counter()
    done = 0
    for batch in _claim_all(engine, batch_size):
        if one_commit_per_batch:
            with engine.begin() as connection:
                connection.execute(statement, [{"row_id": m.id, "at": datetime.now(UTC)} for m in batch])
        else:
            for message in batch:
                outbox.mark_sent(engine, message, "bench:0", provider_id="<x@y>", at=datetime.now(UTC))
        done += len(batch)
    if done != count:
        raise RuntimeError(f"database only: {done} rows, expected {count}")
    return count / (time.perf_counter() - started)


@contextmanager
def prebuilt_messages(messages: list[OutgoingMessage]) -> Iterator[None]:
    """Variant: the notifier finds every message already built (as if built at enqueue time)."""
    built = {m.key: build_email(m, SENDER) for m in messages}
    wire = {id(mail): email_bytes(mail) for mail in built.values()}
    original_build, original_bytes = notifiers.email.build_email, notifiers.email.email_bytes
    notifiers.email.build_email = lambda message, sender, **_: built[message.key]  # type: ignore[assignment]
    # other messages (the notifier's own From line) are still serialised by the real function
    notifiers.email.email_bytes = lambda mail: wire.get(id(mail)) or original_bytes(mail)  # type: ignore[assignment]
    try:
        yield
    finally:
        notifiers.email.build_email, notifiers.email.email_bytes = original_build, original_bytes


# --------------------------------------------------------------------------- profiling helpers


@contextmanager
def patched_to_thread(replacement: Callable[..., Coroutine[Any, Any, Any]]) -> Iterator[None]:
    """Swap asyncio.to_thread for the block (the dispatcher looks it up on the module at each call)."""
    original = asyncio.to_thread
    asyncio.to_thread = replacement  # type: ignore[assignment]
    try:
        yield
    finally:
        asyncio.to_thread = original  # type: ignore[assignment]


async def _inline(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


@contextmanager
def profiling_threads() -> Iterator[list[cProfile.Profile]]:
    """Profile what asyncio.to_thread runs too (cProfile sees only the thread that enabled it)."""
    original = asyncio.to_thread
    local = threading.local()
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def call(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        profile = getattr(local, "profile", None)
        if profile is None:
            profile = local.profile = cProfile.Profile()
            with lock:
                profiles.append(profile)
        profile.enable()
        try:
            return func(*args, **kwargs)
        finally:
            profile.disable()

    async def to_thread(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return await original(call, func, args, kwargs)

    with patched_to_thread(to_thread):
        yield profiles


@contextmanager
def one_database_thread() -> Iterator[None]:
    """Variant: every asyncio.to_thread call on one dedicated thread, so SQLite writes queue in Python
    instead of colliding on the database lock (busy_timeout's sleeps)."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-db")

    async def to_thread(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    try:
        with patched_to_thread(to_thread):
            yield
    finally:
        executor.shutdown()


@contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    """Variant: a shorter GIL switch interval, so a worker thread back from SQLite waits less for the GIL
    while the event loop is busy building messages."""
    original = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(original)


@dataclass
class TimeSplit:
    """Seconds per step of one dispatcher run: awaited (queue + locks + run) and run inside the thread."""

    awaited: dict[str, list[float]]
    inside: dict[str, list[float]]
    build: list[float]


@contextmanager
def timing_steps() -> Iterator[TimeSplit]:
    """Time each asyncio.to_thread call and each message build, without a profiler."""
    split = TimeSplit(defaultdict(list), defaultdict(list), [])
    original_to_thread = asyncio.to_thread
    original_build, original_bytes = notifiers.email.build_email, notifiers.email.email_bytes

    def call(name: str, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            split.inside[name].append(time.perf_counter() - started)

    async def to_thread(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        name = getattr(func, "__qualname__", repr(func))
        started = time.perf_counter()
        try:
            return await original_to_thread(call, name, func, args, kwargs)
        finally:
            split.awaited[name].append(time.perf_counter() - started)

    def build(message: OutgoingMessage, sender: str, **options: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_build(message, sender, **options)
        finally:
            split.build.append(time.perf_counter() - started)

    def wire(mail: Any) -> bytes:
        started = time.perf_counter()
        try:
            return original_bytes(mail)
        finally:
            split.build.append(time.perf_counter() - started)

    notifiers.email.build_email, notifiers.email.email_bytes = build, wire  # type: ignore[assignment]
    try:
        with patched_to_thread(to_thread):
            yield split
    finally:
        notifiers.email.build_email, notifiers.email.email_bytes = original_build, original_bytes


def time_split(folder: Path, prepared: Prepared, server: CountingServer, args: argparse.Namespace) -> None:
    """Where one message's time goes in the dispatcher (no profiler: wall clocks around each step)."""
    count = len(prepared.rows)
    engine, _ = fresh_outbox(folder, "split", prepared.rows)
    cpu_started = time.process_time()
    with timing_steps() as split:
        rate = counted(
            server,
            count,
            "timed dispatcher",
            lambda: dispatcher_rate(engine, server, count, args.pool, args.batch_size),
        )
    cpu = time.process_time() - cpu_started  # every thread of this process; the server is another process
    all_sent(engine, count)
    engine.dispose()
    wall = count / rate
    print(f"\nTime split of one dispatcher run ({rate:.1f} msg/s, {wall:.2f} s wall, pool {args.pool}):")
    print(
        f"  CPU of the dispatcher process: {cpu:6.2f} s = {cpu / count * 1000:5.2f} ms/msg, "
        f"{cpu / wall:.0%} of one core (one interpreter lock: a busy core bounds the rate)"
    )
    print(
        f"  build_email + email_bytes, in the event loop: {sum(split.build):6.2f} s in all, "
        f"{sum(split.build) / count * 1000:5.2f} ms/msg  ({sum(split.build) / wall:.0%} of the wall clock)"
    )
    for name, awaited in split.awaited.items():
        inside = split.inside[name]
        print(
            f"  to_thread {name:32s} {len(awaited):5d} calls: awaited {statistics.mean(awaited) * 1000:6.2f} ms, "
            f"ran {statistics.mean(inside) * 1000:6.2f} ms on average; {sum(awaited):6.2f} s awaited in all"
        )


def print_top(stats: pstats.Stats, sort: str, title: str) -> None:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats(sort).print_stats(TOP)
    body = out.getvalue()
    start = body.find("   ncalls")
    print(f"\n--- {title}: top {TOP} by {sort} ---")
    print(body[start:].rstrip() if start >= 0 else body.rstrip())


def profile_dispatcher(
    folder: Path, prepared: Prepared, server: CountingServer, args: argparse.Namespace
) -> None:
    count = len(prepared.rows)
    engine, _ = fresh_outbox(folder, "profile", prepared.rows)
    main_profile = cProfile.Profile()
    with profiling_threads() as thread_profiles:
        main_profile.enable()
        rate = counted(
            server,
            count,
            "profiled dispatcher",
            lambda: dispatcher_rate(engine, server, count, args.pool, args.batch_size),
        )
        main_profile.disable()
    all_sent(engine, count)
    engine.dispose()
    print(f"\nProfiled dispatcher run: {rate:.1f} msg/s (slowed by the profiler)")
    main = pstats.Stats(main_profile)
    print_top(main, "cumulative", "event-loop thread")
    print_top(main, "tottime", "event-loop thread")
    if thread_profiles:
        threads = pstats.Stats(thread_profiles[0])
        for other in thread_profiles[1:]:
            threads.add(other)
        print(f"\n(database work in {len(thread_profiles)} worker thread(s) of asyncio.to_thread)")
        print_top(threads, "cumulative", "worker threads")
        print_top(threads, "tottime", "worker threads")


def run_parts(folder: Path, prepared: Prepared, server: CountingServer, args: argparse.Namespace) -> None:
    """Each part of the dispatcher's work measured alone, to see which one bounds it."""
    count = len(prepared.rows)
    messages = outgoing(prepared.rows)
    print("\nParts measured alone (same rows):")

    def show(label: str, rate: float) -> None:
        print(f"  {label:62s} {rate:8.1f} msg/s")

    show("build_email + email_bytes, no I/O", build_rate(messages))
    rate = counted(server, count, "real ceiling", lambda: real_ceiling_rate(messages, server, args.pool))
    show("ceiling loop (b) with the real messages pre-built", rate)
    rate = counted(server, count, "naive with build", lambda: naive_with_build_rate(messages, server))
    show("naive loop (a) building each real message before its send", rate)
    rate = counted(server, count, "notifier only", lambda: notifier_only_rate(messages, server, args.pool))
    show(f"EmailNotifier.send, {args.pool} connections, no database", rate)
    for per_batch in (False, True):
        engine, _ = fresh_outbox(folder, f"db-only-{per_batch}", prepared.rows)
        rate = database_only_rate(engine, count, args.batch_size, one_commit_per_batch=per_batch)
        engine.dispose()
        label = "one commit per claimed batch" if per_batch else "mark_sent, one commit per row"
        show(f"outbox claim + {label}, no SMTP", rate)


def run_variants(folder: Path, prepared: Prepared, server: CountingServer, args: argparse.Namespace) -> None:
    """The dispatcher with other settings or shortcuts, each on a fresh database."""
    count = len(prepared.rows)
    messages = outgoing(prepared.rows)

    def inline_db() -> AbstractContextManager[None]:
        return patched_to_thread(_inline)

    @contextmanager
    def prebuilt_and_inline() -> Iterator[None]:
        with prebuilt_messages(messages), patched_to_thread(_inline):
            yield

    @contextmanager
    def prebuilt_and_one_thread() -> Iterator[None]:
        with prebuilt_messages(messages), one_database_thread():
            yield

    variants: list[tuple[str, int, int, Callable[[], AbstractContextManager[None]]]] = [
        (f"batch_size={size}", size, args.pool, nullcontext) for size in (10, 50, 100, 500, 2000)
    ]
    variants += [
        (f"pool={pool}", args.batch_size, pool, nullcontext) for pool in (2, 8, 16) if pool != args.pool
    ]
    variants += [
        ("database calls inline (no to_thread)", args.batch_size, args.pool, inline_db),
        ("database calls on one dedicated thread", args.batch_size, args.pool, one_database_thread),
        (
            "GIL switch interval 0.5 ms (default 5)",
            args.batch_size,
            args.pool,
            lambda: switch_interval(0.0005),
        ),
        (
            "messages pre-built (built at enqueue)",
            args.batch_size,
            args.pool,
            lambda: prebuilt_messages(messages),
        ),
        ("pre-built + database calls inline", args.batch_size, args.pool, prebuilt_and_inline),
        ("pre-built + one database thread", args.batch_size, args.pool, prebuilt_and_one_thread),
    ]
    print("\nDispatcher variants (fresh database each, one run each):")
    for number, (label, batch_size, pool, patch) in enumerate(variants):
        engine, _ = fresh_outbox(folder, f"variant{number}", prepared.rows)
        with patch():
            rate = counted(
                server,
                count,
                label,
                lambda engine=engine, pool=pool, batch_size=batch_size: dispatcher_rate(
                    engine, server, count, pool, batch_size
                ),
            )
        all_sent(engine, count)
        engine.dispose()
        print(f"  {label:40s} {rate:8.1f} msg/s")


# --------------------------------------------------------------------------- main


@dataclass
class Run:
    naive: float
    ceiling: float
    dispatcher: float
    enqueue_seconds: float
    load: str
    real_naive: float  # the same yardsticks sending the dispatcher's own (real, ~10 KB) messages
    real_ceiling: float


def measured_run(
    number: int, folder: Path, prepared: Prepared, server: CountingServer, args: argparse.Namespace
) -> Run:
    count = len(prepared.rows)
    load = load_average()
    naive = counted(server, count, "naive smtplib", lambda: naive_smtplib(count, server.host, server.port))
    ceiling = counted(
        server,
        count,
        "aiosmtplib pool",
        lambda: bare_aiosmtplib_pool(count, server.host, server.port, args.pool),
    )
    messages = outgoing(prepared.rows)
    real_naive = counted(server, count, "naive, real messages", lambda: real_naive_rate(messages, server))
    real_ceiling = counted(
        server, count, "pool, real messages", lambda: real_ceiling_rate(messages, server, args.pool)
    )
    engine, enqueue_seconds = fresh_outbox(folder, f"run{number}", prepared.rows)
    dispatcher = counted(
        server,
        count,
        "dispatcher",
        lambda: dispatcher_rate(engine, server, count, args.pool, args.batch_size),
    )
    all_sent(engine, count)
    engine.dispose()
    return Run(naive, ceiling, dispatcher, enqueue_seconds, load, real_naive, real_ceiling)


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio >= target else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000, help="messages per path and run (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs of the three paths (default 3)")
    parser.add_argument(
        "--pool", type=int, default=4, help="SMTP connections, ceiling and notifier (default 4)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=100, help="the dispatcher's claim batch (default 100)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the dispatcher even when targets pass"
    )
    parser.add_argument(
        "--variants", action="store_true", help="also try batch sizes, pools, inline DB calls"
    )
    parser.add_argument(
        "--no-diagnostics",
        action="store_true",
        help="only the measured runs, even on a miss (no time split, profile, parts or variants)",
    )
    args = parser.parse_args(argv)

    print(machine_facts())
    print(f"load average at start: {load_average()}")
    now = datetime.now(UTC)
    prepared = prepare_rows(args.count, now)
    count = len(prepared.rows)
    print(
        f"\nPrepared {count} email rows from {prepared.notifications} notifications of the sample year "
        f"({prepared.year_email_recipients} email recipients in the year, replicated with distinct keys; "
        f"{prepared.skipped} without an address skipped)"
    )
    print(
        f"  render (pipeline resolve + bundle + render): {prepared.render_seconds:6.2f} s  "
        f"{count / prepared.render_seconds:8.1f} rows/s"
    )

    server = CountingServer()
    runs: list[Run] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-email-") as temp:
            folder = Path(temp)
            for number in range(args.runs):
                run = measured_run(number, folder, prepared, server, args)
                runs.append(run)
                print(
                    f"\nrun {number + 1} (load {run.load}): enqueue {count / run.enqueue_seconds:8.1f} rows/s"
                    f"\n  (a) naive smtplib, new connection per message: {run.naive:8.1f} msg/s"
                    f"\n  (b) aiosmtplib, {args.pool} connections, pre-built:   {run.ceiling:8.1f} msg/s"
                    f"\n  (c) dispatcher (claim, send, record):          {run.dispatcher:8.1f} msg/s"
                    f"   = {run.dispatcher / run.naive:.2f}x naive, {run.dispatcher / run.ceiling:.2f}x ceiling"
                    f"\n  the same yardsticks sending the dispatcher's own messages: naive {run.real_naive:8.1f}, "
                    f"ceiling {run.real_ceiling:8.1f} msg/s = {run.dispatcher / run.real_naive:.2f}x naive, "
                    f"{run.dispatcher / run.real_ceiling:.2f}x ceiling"
                )
            vs_naive = statistics.median(r.dispatcher / r.real_naive for r in runs)
            vs_ceiling = statistics.median(r.dispatcher / r.real_ceiling for r in runs)
            print(
                f"\nMedians over {len(runs)} run(s), {count} messages each, server checked after every path:"
            )
            print(
                f"  dispatcher {statistics.median(r.dispatcher for r in runs):.1f} msg/s; with its messages: "
                f"naive {statistics.median(r.real_naive for r in runs):.1f}, ceiling "
                f"{statistics.median(r.real_ceiling for r in runs):.1f} msg/s; enqueue "
                f"{statistics.median(count / r.enqueue_seconds for r in runs):.1f} rows/s"
            )
            print("  Targets, the yardsticks sending the dispatcher's own messages (the same bytes):")
            print(
                f"  dispatcher / naive   = {vs_naive:.2f} (target >= {TARGET_VS_NAIVE})  "
                f"{verdict(vs_naive, TARGET_VS_NAIVE)}"
            )
            print(
                f"  dispatcher / ceiling = {vs_ceiling:.2f} (target >= {TARGET_VS_CEILING})  "
                f"{verdict(vs_ceiling, TARGET_VS_CEILING)}"
            )
            sample_naive = statistics.median(r.dispatcher / r.naive for r in runs)
            sample_ceiling = statistics.median(r.dispatcher / r.ceiling for r in runs)
            print(
                f"  For reference, the yardsticks sending the ~2 KB samples instead (naive "
                f"{statistics.median(r.naive for r in runs):.1f}, ceiling "
                f"{statistics.median(r.ceiling for r in runs):.1f} msg/s; the dispatcher's messages are "
                f"~9 KB): {sample_naive:.2f}x naive, {sample_ceiling:.2f}x ceiling"
            )
            print(f"load average at end: {load_average()}")
            failed = vs_naive < TARGET_VS_NAIVE or vs_ceiling < TARGET_VS_CEILING
            failed = failed and not args.no_diagnostics
            if failed or args.profile:
                time_split(folder, prepared, server, args)
                profile_dispatcher(folder, prepared, server, args)
            if failed or args.variants:
                run_parts(folder, prepared, server, args)
                run_variants(folder, prepared, server, args)
    finally:
        total = server.stop()
    print(f"\nserver accepted {total} messages in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
