"""Reference throughputs for the email benchmark: what plain SMTP clients reach against the same server.

Run: .venv/bin/python bench/bench_email_references.py [--count 2000] [--pool 4]

Two references, both sending the same pre-built messages (built by
notifiers.email.build_email, so the size matches the real thing) to an aiosmtpd
server running in its own process (it counts messages and keeps none):

(a) naive_smtplib: a sequential smtplib loop, one new connection per message;
(b) bare_aiosmtplib_pool: ``pool`` persistent aiosmtplib connections sending
    concurrently, no database, no rendering: the ceiling the full path can approach.

The full-path benchmark reuses :func:`start_smtp_server_process`. Always exits 0: this is a report.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import smtplib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib

from notifiers.base import OutgoingMessage
from notifiers.email import build_email, email_bytes

SENDER = "Văn phòng Sở Nội vụ <nhacviec@snv.gov.vn>"
ENVELOPE_FROM = "nhacviec@snv.gov.vn"

# The server: aiosmtpd in a plain asyncio loop, counting DATA commands. Prints its port on start
# and the number of messages it accepted when it receives SIGTERM.
SERVER_SCRIPT = r"""
import asyncio, signal
from aiosmtpd.smtp import SMTP

class Counter:
    received = 0

    async def handle_DATA(self, server, session, envelope):
        Counter.received += 1
        return "250 2.0.0 OK"

async def main():
    loop = asyncio.get_running_loop()
    handler = Counter()
    server = await loop.create_server(lambda: SMTP(handler, hostname="localhost"), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    print(Counter.received, flush=True)

asyncio.run(main())
"""


def start_smtp_server_process() -> tuple[str, int, Callable[[], int]]:
    """Start the counting SMTP server in a child process: ``(host, port, stop)``.

    ``stop()`` ends the process and returns how many messages it accepted.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    if not first_line.strip().isdigit():
        process.kill()
        raise RuntimeError(f"the SMTP server process did not start (said {first_line!r})")
    port = int(first_line)

    def stop() -> int:
        process.terminate()
        remaining, _ = process.communicate(timeout=10)
        return int(remaining.strip() or 0)

    return "127.0.0.1", port, stop


def sample_messages(count: int) -> list[tuple[str, bytes]]:
    """``count`` realistic reminders (Vietnamese subject, text and HTML parts): (recipient, wire bytes)."""
    messages = []
    for number in range(count):
        address = f"don-vi-{number % 120}@snv.gov.vn"
        outgoing = OutgoingMessage(
            key=f"bench:{number}",
            channel="email",
            address=address,
            recipient_name=f"Phòng Tổ chức cán bộ số {number % 120}",
            subject=f"Nhắc việc: nộp báo cáo cải cách hành chính quý I năm 2024 (việc số {number})",
            text="Kính gửi đơn vị,\nđề nghị nộp báo cáo kết quả cải cách hành chính trước ngày 15/3/2024.\n"
            * 3,
            html="<p>Kính gửi đơn vị,</p><p>đề nghị nộp báo cáo <b>trước ngày 15/3/2024</b>.</p>" * 3,
        )
        messages.append((address, email_bytes(build_email(outgoing, SENDER))))
    return messages


def naive_smtplib(count: int, host: str, port: int) -> float:
    """Messages per second of a sequential smtplib loop opening a new connection per message."""
    messages = sample_messages(count)
    started = time.perf_counter()
    for address, data in messages:
        with smtplib.SMTP(host, port, local_hostname="localhost", timeout=30) as client:
            client.sendmail(ENVELOPE_FROM, [address], data)
    return count / (time.perf_counter() - started)


def bare_aiosmtplib_pool(count: int, host: str, port: int, pool: int = 4) -> float:
    """Messages per second of ``pool`` persistent aiosmtplib connections sending concurrently."""
    messages = sample_messages(count)

    async def run() -> float:
        pending = iter(messages)
        started = time.perf_counter()
        clients = [
            aiosmtplib.SMTP(hostname=host, port=port, start_tls=False, local_hostname="localhost", timeout=30)
            for _ in range(pool)
        ]
        await asyncio.gather(*(client.connect() for client in clients))

        async def worker(client: aiosmtplib.SMTP) -> None:
            for address, data in pending:  # one shared iterator: each message goes to exactly one worker
                await client.sendmail(ENVELOPE_FROM, [address], data)
            await client.quit()

        await asyncio.gather(*(worker(client) for client in clients))
        return count / (time.perf_counter() - started)

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000, help="messages per reference (default 2000)")
    parser.add_argument("--pool", type=int, default=4, help="connections for the aiosmtplib pool (default 4)")
    args = parser.parse_args(argv)

    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, aiosmtplib {aiosmtplib.__version__}")
    host, port, stop = start_smtp_server_process()
    try:
        naive = naive_smtplib(args.count, host, port)
        print(f"(a) naive smtplib, new connection per message: {naive:8.1f} msg/s  ({args.count} messages)")
        pooled = bare_aiosmtplib_pool(args.count, host, port, args.pool)
        print(
            f"(b) aiosmtplib, {args.pool} persistent connections:   {pooled:8.1f} msg/s  ({args.count} messages)"
        )
    finally:
        received = stop()
    print(f"server accepted {received} messages (expected {2 * args.count})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
