"""One pass of the service: plan the days, put what is due into the outbox, send it.

The scheduler calls this at the send time of each working day, and
``nhacviec run --once`` calls it from a cron job or a systemd timer. Planning
twice is harmless: the outbox keeps one row per key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.settings import Settings
from delivery.dispatcher import DispatchSummary
from delivery.enqueue import build_rows, renderer_for
from plan.units import Directory
from planner.model import Notification, Recipient
from planner.planner import plan_notifications
from store import outbox
from store.calendar import working_calendar
from store.db import session_scope
from store.models import OutboxMessage, OutboxStatus
from store.planning import load_planner_input
from store.rules import load_rules

log = logging.getLogger("nhacviec.pass")


@dataclass
class EnqueueSummary:
    planned: int = 0  # notifications planned for the interval
    new_rows: int = 0  # outbox rows added (one per recipient and channel)
    skipped_rows: int = 0  # rows with no address on their channel
    new_problems: list[str] | None = None


def failed_deliveries(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The latest failed and dead-lettered messages, for the digest."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.status).in_([OutboxStatus.FAILED, OutboxStatus.DEAD]))
            .order_by(col(OutboxMessage.due_at).desc())
            .limit(limit)
        ).all()
        return [
            {
                "recipient": r.recipient_name or r.recipient,
                "channel": r.channel,
                "error": r.last_error or "",
                "status": r.status,
                "task": r.task,
                "kind": r.kind,
                "key": r.key,
            }
            for r in rows
        ]


def digest_notices(engine: Engine, now: datetime) -> list[str]:
    """Warnings the digest carries about the channels: a Zalo token that will expire within two weeks."""
    from notifiers.zalo import expiry_warning
    from store.zalo_tokens import stored_pair

    warning = expiry_warning(stored_pair(engine), now, now.tzinfo or UTC)
    return [warning] if warning else []


def completion_links(settings: Settings, now: datetime) -> Callable[[Notification, Recipient], Any] | None:
    """Signed "Đã hoàn thành" links for task messages, when a link secret and a base URL are configured."""
    if settings.link_secret is None or not settings.base_url:
        return None
    from completion.links import links_for

    ttl = timedelta(days=settings.link_ttl_days)
    return lambda n, r: links_for(n, r, settings.link_secret, settings.base_url, now, ttl)


def enqueue_interval(
    engine: Engine,
    settings: Settings,
    directory: Directory,
    renderer: Any,
    *,
    start: date,
    end: date,
    until: datetime,
    now: datetime,
    plan_code: str | None = None,
    keep: Callable[[Notification], bool] | None = None,
) -> EnqueueSummary:
    """Plan ``start``..``end`` and add to the outbox every notification whose send time is not after ``until``.

    ``keep`` filters further (the service drops what is no longer meaningful after downtime).
    """
    with session_scope(engine) as session:
        inputs = load_planner_input(session, directory, plan_code)
        rules = load_rules(session)
        calendar = working_calendar(session, settings.calendar_file, settings.send_time)
        aliases = {"telegram": outbox.aliases(session, "telegram")}
    notifications = [
        n
        for n in plan_notifications(inputs, rules, calendar, start, end)
        if n.at <= until and (keep is None or keep(n))
    ]
    keys = [n.delivery_key(r) for n in notifications for r in n.recipients]
    with session_scope(engine) as session:
        known = outbox.existing_keys(session, keys)
    render = renderer_for(
        inputs,
        directory,
        renderer,
        failed_deliveries=failed_deliveries(engine),
        notices=digest_notices(engine, now),
        links=completion_links(settings, now),
    )
    batch = build_rows(notifications, directory, render, aliases=aliases, now=now, skip_keys=known)
    summary = EnqueueSummary(planned=len(notifications), new_problems=[])
    with session_scope(engine) as session:
        summary.new_rows = outbox.enqueue(session, batch.rows)
        for key, message in batch.problems:
            if outbox.record_problem(session, key, message, now=now):
                summary.new_problems.append(message)  # type: ignore[union-attr]
                log.warning("configuration problem: %s", message)
    summary.skipped_rows = sum(1 for row in batch.rows if row["status"] == OutboxStatus.SKIPPED)
    log.info(
        "enqueued planned=%d new_rows=%d skipped=%d from=%s to=%s",
        summary.planned,
        summary.new_rows,
        summary.skipped_rows,
        start.isoformat(),
        end.isoformat(),
    )
    return summary


async def send_due(engine: Engine, settings: Settings, now: datetime | None = None) -> DispatchSummary:
    """Send every outbox row due at ``now`` through the channels the settings configure."""
    from delivery.channels import build_notifiers
    from delivery.dispatcher import dispatch
    from delivery.retry import RetryPolicy

    policy = RetryPolicy(settings.max_attempts, settings.retry_base_seconds, settings.retry_max_seconds)
    return await dispatch(
        engine,
        build_notifiers(settings, engine),
        policy=policy,
        lease=timedelta(seconds=settings.claim_lease_seconds),
        now=now,
    )
