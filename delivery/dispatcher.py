"""The dispatcher: claim due outbox rows, send each through its channel, record the outcome.

One clear loop, in the manner of a ``sendalerts`` command: claim a batch, send
it with a bound on concurrency per channel, record the outcomes as they come
(in small groups, see :class:`Recorder`), repeat until nothing is due. A crash
can make us send twice only what was in flight: at most ``max_concurrency``
messages per channel are ever sent and unrecorded. Database calls run in a
worker thread, so slow I/O never stalls the sends of other channels.

Each channel has a circuit breaker (delivery/retry.py): when the channel is down for everyone, its
messages are not tried and wait without spending attempts; one message probes it now and then, and
the queue goes as soon as a probe succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from delivery.retry import Breaker, RetryPolicy
from notifiers.base import DeliveryError, Notifier, OutgoingMessage, SendResult
from store import outbox
from store.db import session_scope
from store.models import OutboxStatus, utcnow
from store.outbox import ClaimedMessage
from store.state import breaker_states, save_breakers
from vocabulary import DISPATCH_OUTCOMES, label

log = logging.getLogger("nhacviec.dispatch")

WAITING = "waiting"  # an outcome: not tried, the channel is down (its breaker is open)
MAX_PROBE_SECONDS = 300.0  # an open breaker tries one message at least this often
RECORD_WINDOW = 0.002  # seconds a group commit may wait for more outcomes (see Recorder)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_is_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@dataclass
class DispatchSummary:
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def sent(self) -> int:
        return self.outcomes[OutboxStatus.SENT]

    def __str__(self) -> str:
        return describe_outcomes(self.outcomes)


def describe_outcomes(outcomes: Mapping[str, int]) -> str:
    """ "đã gửi 3, ghi ra tệp (chưa cấu hình kênh) 2", or that nothing was due."""
    parts = [f"{label(DISPATCH_OUTCOMES, k)} {v}" for k, v in sorted(outcomes.items())]
    return ", ".join(parts) or "không có tin nào đến hạn"


class Recorder:
    """Outcomes of sends recorded together: each caller waits until its own is committed, and the
    outcomes that came in meanwhile go in the next transaction (group commit).

    What a crash can make us send twice stays what was in flight: a sender either keeps its concurrency
    slot until its outcome is committed, or (a notifier that ``waits_for_records``) the notifier does not
    make the next message on that connection final before it. Either way at most ``max_concurrency``
    messages per channel are sent and unrecorded at any moment, and the database sees one transaction per
    group instead of one per message.

    ``group`` and ``window``: when only such notifiers' outcomes wait, a flush waits up to ``window``
    seconds for ``group`` of them (the other connections' outcomes arrive within a round trip or two);
    any other outcome is flushed at once.
    """

    def __init__(self, engine: Engine, worker: str, *, group: int = 1, window: float = 0.0) -> None:
        self.engine = engine
        self.worker = worker
        self.group = group
        self.window = window
        self._waiting: list[tuple[int, dict[str, object], asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._hurry: asyncio.Event | None = None  # made in the running loop, with the flusher
        self.writes: asyncio.Lock | None = None  # the dispatcher's database writes, one at a time

    async def record(self, message_id: int, values: dict[str, object], *, hurry: bool = True) -> bool:
        """Record one outcome (``outbox._finish``'s values); True unless the claim had been taken over.

        ``hurry``: the caller holds a concurrency slot until then, so its group does not wait.
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((message_id, values, future))
        if self._flusher is None or self._flusher.done():
            self._hurry = asyncio.Event()
            self._flusher = asyncio.create_task(self._flush(self._hurry))
        if hurry or len(self._waiting) >= self.group:
            assert self._hurry is not None
            self._hurry.set()
        return await future

    async def _flush(self, hurry: asyncio.Event) -> None:
        while self._waiting:
            if self.window and not hurry.is_set():
                timer = asyncio.get_running_loop().call_later(self.window, hurry.set)
                await hurry.wait()
                timer.cancel()
            hurry.clear()
            group, self._waiting = self._waiting, []
            try:
                async with self.writes or contextlib.nullcontext():
                    done = await asyncio.to_thread(
                        outbox.finish_many, self.engine, self.worker, [(i, v) for i, v, _ in group]
                    )
            except Exception as error:  # every outcome of the group is unrecorded: each caller hears it
                for _, _, future in group:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, _, future), ok in zip(group, done, strict=True):
                if not future.done():
                    future.set_result(ok)


class _Running:
    """The deliveries under way, and a wait until only so many are left."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._fewer: asyncio.Event | None = None
        self._level = 0

    def start(self, delivery: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(delivery)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._fewer is not None and len(self._tasks) <= self._level:
            self._fewer.set()

    async def down_to(self, level: int) -> None:
        if len(self._tasks) > level:
            self._fewer, self._level = asyncio.Event(), level
            await self._fewer.wait()
            self._fewer = None

    async def cancel(self) -> None:
        """Stop what is left (the run is being stopped): the rows go back after their lease."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        notifiers: Mapping[str, Notifier],
        *,
        policy: RetryPolicy | None = None,
        worker: str | None = None,
        lease: timedelta = timedelta(minutes=10),
        batch_size: int = 100,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.notifiers = dict(notifiers)
        self.policy = policy or RetryPolicy()
        self.worker = worker or default_worker_id()
        self.lease = lease
        self.batch_size = batch_size
        self.clock = clock
        self._limits = {
            channel: asyncio.Semaphore(n.max_concurrency) for channel, n in self.notifiers.items()
        }
        self.breakers: dict[str, Breaker] = {}
        gated = [n.max_concurrency for n in self.notifiers.values() if n.waits_for_records]
        self._recorder = Recorder(engine, self.worker, group=max(sum(gated), 1), window=RECORD_WINDOW)

    def _load_breakers(self) -> None:
        saved = breaker_states(self.engine)
        tuning = {
            "first_probe_seconds": self.policy.base_seconds,
            "max_probe_seconds": min(self.policy.max_seconds, MAX_PROBE_SECONDS),
        }
        self.breakers = {
            channel: Breaker.from_state(channel, saved.get(channel, {}), **tuning)
            for channel in self.notifiers
        }

    def _save_breakers(self) -> None:
        changed = {c: b.to_state() for c, b in self.breakers.items() if b.changed}
        if changed:
            save_breakers(self.engine, changed)
            for breaker in self.breakers.values():
                breaker.changed = False

    async def run_once(self, now: datetime | None = None) -> DispatchSummary:
        """Send everything due at ``now`` (default: the clock); returns what happened."""
        summary = DispatchSummary()
        due_by = now or self.clock()  # what is due; a simulation passes its own moment
        released = await asyncio.to_thread(
            outbox.release_abandoned, self.engine, socket.gethostname(), pid_is_alive
        )
        if released:
            log.warning(
                "released %d message(s) left in flight by a stopped dispatcher on this host", released
            )
        await asyncio.to_thread(self._load_breakers)
        probed: set[str] = set()
        running = _Running()
        # Claims and group commits take turns: on SQLite a claim writing while a commit waits would
        # make the commit sleep in busy_timeout's steps, and the connections wait for that commit.
        writes = self._recorder.writes = asyncio.Lock()
        try:
            while True:
                real_now = self.clock()
                closed = [c for c in self.notifiers if not self.breakers[c].is_open]
                probes = [
                    c for c in self.notifiers if self.breakers[c].probe_due(real_now) and c not in probed
                ]
                if not closed and not probes:
                    break
                batch: list[ClaimedMessage] = []
                for channel in probes:  # an open breaker: one message tells whether the channel is back
                    probed.add(channel)
                    async with writes:
                        batch += await asyncio.to_thread(self._claim, [channel], 1, due_by)
                if closed:
                    async with writes:
                        batch += await asyncio.to_thread(self._claim, closed, self.batch_size, due_by)
                if not batch:
                    break
                for message in batch:
                    running.start(self._deliver_counted(message, now, summary))
                # The next batch is claimed while the end of this one is still sending, so the
                # connections do not idle between batches (at most one and a half batches are claimed
                # at once). A probe is awaited: its outcome tells whether the channel's queue goes now.
                await running.down_to(0 if probes else self.batch_size // 2)
                await asyncio.to_thread(self._save_breakers)
            return summary
        except asyncio.CancelledError:
            await running.cancel()
            raise
        finally:
            await running.down_to(0)  # whatever stopped the loop, what is sending records its outcome
            await asyncio.to_thread(self._save_breakers)

    async def _deliver_counted(
        self, message: ClaimedMessage, now: datetime | None, summary: DispatchSummary
    ) -> None:
        try:
            outcome = await self._deliver(message, now)
        except Exception as error:  # e.g. the database went away while recording
            log.error(
                "could not record the outcome key=%s: %r (the row is sent again after its lease)",
                message.key,
                error,
            )
            summary.outcomes["unrecorded"] += 1
        else:
            summary.outcomes[outcome] += 1

    def _claim(self, channels: list[str], limit: int, due_by: datetime) -> list[ClaimedMessage]:
        return outbox.claim(
            self.engine,
            worker=self.worker,
            now=self.clock(),  # claims and leases are real time, whatever moment is simulated
            due_by=due_by,
            limit=limit,
            lease=self.lease,
            channels=channels,
        )

    async def _deliver(self, message: ClaimedMessage, now: datetime | None) -> str:
        notifier = self.notifiers[message.channel]
        recorded: asyncio.Future[None] | None = None
        if notifier.waits_for_records:
            recorded = asyncio.get_running_loop().create_future()
        outgoing = OutgoingMessage(
            key=message.key,
            channel=message.channel,
            address=message.address or "",
            recipient_name=message.recipient_name,
            subject=message.subject,
            text=message.body_text,
            html=message.body_html,
            extra=message.extra or {},
            wire=message.wire,
            parts_done=outbox.parts_done(message.provider_id),
            recorded=recorded,
        )
        try:
            async with self._limits[message.channel]:
                breaker = self.breakers.get(message.channel)
                if breaker is not None and breaker.blocks(self.clock()):  # it opened while this one waited
                    return await asyncio.to_thread(self._record_wait, message, breaker)
                outcome = await self._send(notifier, outgoing)
                if recorded is None:
                    # The slot is held until the outcome is recorded: at most ``max_concurrency`` messages
                    # per channel are ever sent-but-not-yet-recorded, which bounds what a crash can make us
                    # send twice.
                    return await self._record(message, outcome, now)
            # The notifier keeps that bound itself (it does not make the next message on this connection
            # final before ``recorded``): the slot is free while this outcome waits for its group commit.
            return await self._record(message, outcome, now)
        finally:
            if recorded is not None and not recorded.done():
                recorded.set_result(None)

    async def _send(self, notifier: Notifier, outgoing: OutgoingMessage) -> SendResult | DeliveryError:
        try:
            return await notifier.send(outgoing)
        except DeliveryError as error:
            return error
        except Exception as error:  # a bug or an unexpected library error: retry, never lose the row
            log.exception("send failed unexpectedly key=%s", outgoing.key)
            return DeliveryError(f"Lỗi không mong đợi: {type(error).__name__}")

    async def _record(
        self, message: ClaimedMessage, outcome: SendResult | DeliveryError, now: datetime | None
    ) -> str:
        if isinstance(outcome, DeliveryError):
            return await asyncio.to_thread(self._record_failure, message, outcome, now)
        return await self._record_success(message, outcome, now)

    def _record_wait(
        self,
        message: ClaimedMessage,
        breaker: Breaker,
        error: str | None = None,
        parts: tuple[str, ...] = (),
    ) -> str:
        """Not tried (or tried while the channel is down): wait for the channel, attempts unchanged."""
        reason = error or breaker.last_error or ""
        at = breaker.probe_at or self.clock()
        outbox.mark_wait(
            self.engine,
            message,
            self.worker,
            error=outage_reason(message.channel, reason),
            next_attempt_at=at,
            parts=parts,
        )
        return WAITING

    async def _record_success(self, message: ClaimedMessage, result: SendResult, now: datetime | None) -> str:
        at = now or self.clock()
        breaker = self.breakers.get(message.channel)
        if breaker is not None:
            if breaker.is_open:
                log.warning("channel back: %s answers again, its breaker closes", message.channel)
            breaker.success()
        provider_id, new_address = result.provider_id, result.new_address
        status = OutboxStatus.WRITTEN if result.written else OutboxStatus.SENT
        values = outbox.sent_values(message, provider_id=provider_id, at=at, written=result.written)
        gated = self.notifiers[message.channel].waits_for_records
        if not await self._recorder.record(message.id or 0, values, hurry=not gated):
            log.warning(
                "sent, but the claim had been taken over key=%s channel=%s", message.key, message.channel
            )
        log.info(
            "%s key=%s channel=%s recipient=%s provider_id=%s",
            status,
            message.key,
            message.channel,
            message.recipient,
            provider_id,
        )
        if new_address and message.address:
            await asyncio.to_thread(self._record_alias, message, new_address)
        return status

    def _record_alias(self, message: ClaimedMessage, new_address: str) -> None:
        with session_scope(self.engine) as session:
            outbox.record_alias(session, message.channel, message.address or "", new_address)
        log.info(
            "address moved key=%s channel=%s old=%s new=%s",
            message.key,
            message.channel,
            message.address,
            new_address,
        )

    def _record_failure(self, message: ClaimedMessage, error: DeliveryError, now: datetime | None) -> str:
        at = now or self.clock()
        attempts = message.attempts + 1
        # What of a message in parts has reached the recipient (this attempt's and the earlier ones'): kept
        # with the row, so no later attempt sends those parts again.
        parts = error.parts_done or outbox.parts_done(message.provider_id)
        if error.config_problem:
            with session_scope(self.engine) as session:
                reason_id = hashlib.sha256(error.reason.encode()).hexdigest()[:16]  # the key column is short
                first = outbox.record_problem(
                    session,
                    f"{message.channel}:{message.recipient}:{reason_id}",
                    f"{message.recipient} ({message.channel}): {error.reason}",
                    now=at,
                )
            if first:
                log.warning(
                    "configuration problem key=%s channel=%s: %s", message.key, message.channel, error.reason
                )
        if error.permanent:
            outbox.mark_final(
                self.engine, message, self.worker, status=OutboxStatus.FAILED, error=error.reason, parts=parts
            )
            log.warning(
                "failed key=%s channel=%s attempts=%d error=%s",
                message.key,
                message.channel,
                attempts,
                error.reason,
            )
            return OutboxStatus.FAILED
        breaker = self.breakers.get(message.channel)
        if breaker is not None and not error.config_problem:
            was_open = breaker.is_open
            if breaker.failure(
                message.address or message.recipient, error.reason, self.clock(), error.retry_after
            ):
                if not was_open:
                    log.error(
                        "channel down: %s failed for %d messages in a row (%s); its messages wait, "
                        "one is tried again at %s",
                        message.channel,
                        breaker.failures,
                        error.reason,
                        breaker.probe_at.isoformat() if breaker.probe_at else "?",
                    )
                return self._record_wait(message, breaker, error.reason, parts)
        next_attempt = self.policy.next_attempt(at, attempts, error.retry_after, due_at=message.due_at)
        if next_attempt is None:
            outbox.mark_final(
                self.engine, message, self.worker, status=OutboxStatus.DEAD, error=error.reason, parts=parts
            )
            log.error(
                "dead letter key=%s channel=%s attempts=%d error=%s",
                message.key,
                message.channel,
                attempts,
                error.reason,
            )
            return OutboxStatus.DEAD
        outbox.mark_retry(
            self.engine, message, self.worker, error=error.reason, next_attempt_at=next_attempt, parts=parts
        )
        log.info(
            "retry key=%s channel=%s attempts=%d next=%s error=%s",
            message.key,
            message.channel,
            attempts,
            next_attempt.isoformat(),
            error.reason,
        )
        return OutboxStatus.PENDING


def outage_reason(channel: str, error: str) -> str:
    """The last error a waiting message shows: the channel is down, and why."""
    from vocabulary import CHANNEL_LABELS

    return f"Kênh {CHANNEL_LABELS.get(channel, channel)} đang gián đoạn, tin chờ kênh hoạt động lại: {error}"


async def dispatch(engine: Engine, notifiers: Mapping[str, Notifier], **options: object) -> DispatchSummary:
    """Open the notifiers, send everything due, close them."""
    now = options.pop("now", None)
    opened: list[Notifier] = []
    try:
        for notifier in notifiers.values():
            await notifier.open()
            opened.append(notifier)
        dispatcher = Dispatcher(engine, notifiers, **options)  # type: ignore[arg-type]
        return await dispatcher.run_once(now)  # type: ignore[arg-type]
    finally:
        for notifier in opened:
            await notifier.close()
