"""Throughput of TelegramNotifier under the real Bot API limits, against the fake API server.

Sends N messages (default 300) to N distinct chats, so only the overall limit
(about 30 a second) binds, with the notifier's own concurrency, and reads the
arrival times the fake server recorded. The fake runs in its own process, so
its clock readings do not wait for the sender's interpreter lock.

Run: .venv/bin/python bench/bench_telegram.py [--messages N] [--latency SECONDS]
Target: 27-33 messages/s sustained, and never more than 30 in any 1-second window.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifiers.base import OutgoingMessage
from notifiers.ratelimit import RateLimiter
from notifiers.telegram import OVERALL_PERIOD, OVERALL_RATE, TelegramNotifier
from tests.support.fake_telegram import DEFAULT_TOKEN, FakeTelegram, SentMessage, max_in_window

BOUND = 30  # messages per second, Telegram's overall limit
LOW, HIGH = 27.0, 33.0  # within 10% of the bound


def _messages(count: int) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            key=f"bench-{n}",
            channel="telegram",
            address=str(100_000 + n),
            recipient_name=f"Cán bộ {n}",
            subject="",
            text="",
            html=f"<b>Nhắc việc</b>: nộp báo cáo tháng, hạn 17 giờ ngày 15/12 (tin {n})",
        )
        for n in range(count)
    ]


class _RecordingLimiter(RateLimiter):
    """The notifier's own overall limiter, noting when each request was let through."""

    def __init__(self) -> None:
        super().__init__(OVERALL_RATE, OVERALL_PERIOD)
        self.granted: list[float] = []

    async def acquire(self) -> None:
        await super().acquire()
        self.granted.append(time.monotonic())


def _serve(channel: Connection, latency: float) -> None:
    """Child process: run the fake until told to stop, then send back what it received."""
    with FakeTelegram(latency=latency) as fake:
        channel.send(fake.url)
        channel.recv()
        channel.send(fake.sent)


async def _send_all(notifier: TelegramNotifier, messages: list[OutgoingMessage]) -> float:
    """Send everything with the notifier's concurrency; return the wall-clock seconds taken."""
    gate = asyncio.Semaphore(notifier.max_concurrency)

    async def one(message: OutgoingMessage) -> None:
        async with gate:
            await notifier.send(message)

    async with notifier:
        started = time.perf_counter()
        await asyncio.gather(*(one(message) for message in messages))
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=300, help="messages to send, one chat each")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds the fake takes per request")
    args = parser.parse_args()

    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(theirs, args.latency))
    server.start()
    try:
        limiter = _RecordingLimiter()
        notifier = TelegramNotifier(DEFAULT_TOKEN, api_url=ours.recv(), overall_limiter=limiter)
        wall = asyncio.run(_send_all(notifier, _messages(args.messages)))
    finally:
        ours.send("stop")
        sent: list[SentMessage] = ours.recv()
        server.join()

    arrivals = sorted(message.arrived for message in sent)
    span = arrivals[-1] - arrivals[0]
    sustained = (len(arrivals) - 1) / span if span > 0 else float("inf")
    overall = len(sent) / wall
    busiest = max_in_window(arrivals, 1.0)
    busiest_ours = max_in_window(limiter.granted, 1.0)

    ok = len(sent) == args.messages and LOW <= sustained <= HIGH and busiest <= BOUND
    print(f"{len(sent)}/{args.messages} messages to {len({m.chat_id for m in sent})} chats, ", end="")
    print(f"concurrency {notifier.max_concurrency}, fake latency {args.latency * 1000:.0f} ms")
    print(f"wall clock: {wall:.2f} s ({overall:.1f} msg/s including the last round trip)")
    print(f"sustained rate (first to last arrival): {sustained:.2f} msg/s (target {LOW:g}-{HIGH:g})")
    print(f"busiest 1-second window at the server: {busiest} messages (bound {BOUND})")
    print(
        f"busiest 1-second window of our sends: {busiest_ours} (limiter set to {OVERALL_RATE}/{OVERALL_PERIOD:g} s)"
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
