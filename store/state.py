"""The service's own small state: the watermark of the last completed pass, the leader, the next runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import ServiceState, utcnow

LAST_PASS = "last_pass"
SCHEDULER = "scheduler"


def get_state(engine: Engine, key: str) -> dict[str, Any]:
    with session_scope(engine) as session:
        record = session.get(ServiceState, key)
        return dict(record.value) if record else {}


def set_state(engine: Engine, key: str, value: dict[str, Any]) -> None:
    with session_scope(engine) as session:
        record = session.get(ServiceState, key) or ServiceState(key=key)
        record.value = value
        record.updated_at = utcnow()
        session.add(record)


def last_pass(engine: Engine) -> datetime | None:
    value = get_state(engine, LAST_PASS).get("at")
    return datetime.fromisoformat(value) if value else None


def set_last_pass(engine: Engine, at: datetime, summary: dict[str, Any]) -> None:
    set_state(engine, LAST_PASS, {"at": at.isoformat(), **summary})


BREAKER = "breaker:"  # + a channel code: its circuit breaker (delivery.retry.Breaker)


def breaker_states(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every channel's circuit breaker as last saved: {channel: state}."""
    from sqlmodel import col, select

    with session_scope(engine) as session:
        records = session.exec(select(ServiceState).where(col(ServiceState.key).startswith(BREAKER)))
        return {r.key.removeprefix(BREAKER): dict(r.value) for r in records}


def save_breakers(engine: Engine, states: dict[str, dict[str, Any]]) -> None:
    with session_scope(engine) as session:
        for channel, value in states.items():
            record = session.get(ServiceState, BREAKER + channel) or ServiceState(key=BREAKER + channel)
            record.value = value
            record.updated_at = utcnow()
            session.add(record)
