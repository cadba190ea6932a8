"""Outbox rows as the pipeline writes them, a channel whose answers a test decides, an outbox filled with many due
emails, and the environment of a dispatcher sending them to a test SMTP server."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from notifiers.base import DeliveryError, Notifier, OutgoingMessage, SendResult
from store import outbox
from store.db import make_engine, session_scope, upgrade_schema
from store.models import OutboxMessage, OutboxStatus
from store.outbox import NewMessage, enqueue

PAST = datetime(2020, 12, 1, 0, 30, tzinfo=UTC)


def fill_outbox(url: str, count: int) -> list[str]:
    engine = make_engine(url)
    upgrade_schema(engine)
    keys = [f"reminder/CCHC-2020:T.{i}/2020-12-01/d1|U{i}|email" for i in range(count)]
    rows = [
        {
            "key": key,
            "notification_key": key.split("|")[0],
            "kind": "reminder",
            "rule": "reminder",
            "channel": "email",
            "recipient": f"U{i}",
            "role": "to",
            "recipient_name": f"Đơn vị {i}",
            "address": f"unit{i}@nhacviec.example",
            "subject": f"Nhắc việc số {i}",
            "body_text": "Nội dung nhắc việc",
            "status": OutboxStatus.PENDING,
            "due_at": PAST,
            "next_attempt_at": PAST,
            "created_at": PAST,
            "attempts": 0,
            "extra": {},
        }
        for i, key in enumerate(keys)
    ]
    with session_scope(engine) as session:
        enqueue(session, [NewMessage.single(row) for row in rows])
    engine.dispose()
    return keys


def dispatcher_env(url: str, port: int, pool: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHACVIEC_")}
    env.update(
        NHACVIEC_DATABASE_URL=url,
        NHACVIEC_SMTP_HOST="127.0.0.1",
        NHACVIEC_SMTP_PORT=str(port),
        NHACVIEC_SMTP_TLS="none",
        NHACVIEC_SMTP_POOL_SIZE=str(pool),
        NHACVIEC_CONSOLE_SINK="false",
        NHACVIEC_RETRY_BASE_SECONDS="0.2",
        NHACVIEC_RETRY_MAX_SECONDS="0.5",
        NHACVIEC_MAX_ATTEMPTS="1000",
    )
    return env


T0 = datetime(2020, 12, 1, 0, 30, tzinfo=UTC)  # 07:30 in Hà Nội


class ScriptedNotifier(Notifier):
    """A channel whose answers the test decides, key by key (a stand-in for a provider, not for our code)."""

    channel = "email"
    max_concurrency = 4

    def __init__(self, script: dict[str, list[DeliveryError | None]] | None = None) -> None:
        self.script = script or {}
        self.sent: list[str] = []
        self.attempts: Counter[str] = Counter()

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.attempts[message.key] += 1
        await asyncio.sleep(0)
        answers = self.script.get(message.key)
        if answers:
            answer = answers.pop(0)
            if answer is not None:
                raise answer
        self.sent.append(message.key)
        return SendResult(provider_id=f"id-{message.key}")


def row(key: str, *, at: datetime = T0, channel: str = "email", **extra: object) -> outbox.NewMessage:
    """A message of one item, as the pipeline would write it."""
    values: dict[str, object] = {
        "key": key,
        "notification_key": key.split("|")[0],
        "kind": "reminder",
        "rule": "reminder",
        "plan": "CCHC-2020",
        "task": "IV.4",
        "channel": channel,
        "recipient": "TCCB",
        "role": "to",
        "recipient_name": "Phòng Tổ chức cán bộ",
        "address": "tccb@nhacviec.example",
        "subject": "Nhắc việc",
        "body_text": "Nội dung",
        "status": OutboxStatus.PENDING,
        "due_at": at,
        "next_attempt_at": at,
        "created_at": at,
        "attempts": 0,
        "extra": {},
    }
    values.update(extra)
    return outbox.NewMessage.single(values)


def add(engine: Engine, *rows: outbox.NewMessage) -> int:
    with session_scope(engine) as session:
        return outbox.enqueue(session, list(rows))


def status_of(engine: Engine) -> dict[str, tuple[str, int]]:
    with session_scope(engine) as session:
        return {m.key: (m.status, m.attempts) for m in session.exec(select(OutboxMessage))}
