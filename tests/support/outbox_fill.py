"""An outbox filled with many due emails, and the environment of a dispatcher sending them to a test SMTP server
(the crash tests and the PostgreSQL concurrency test)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from store.db import make_engine, session_scope, upgrade_schema
from store.models import OutboxStatus
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
