"""One pass of the service, with a watermark so downtime is caught up once and only once.

A pass covers the interval (watermark, now]: everything the planner puts in it
goes to the outbox (whose unique keys make a repeated pass harmless), then the
outbox is sent and the watermark moves to ``now``. After downtime (a weekend, a
power cut, a week) the first pass plans the whole missed interval, but sends
only what is still meaningful: nothing about a task done since, and no reminder
whose due date has already passed (the escalation ladder has taken over).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from config.settings import Settings
from delivery.pipeline import Enqueued, MessageRenderer, PassWindow, dispatch, scheduled
from plan.units import Directory
from store.outbox import skipped_since
from store.state import last_pass, set_last_pass

log = logging.getLogger("nhacviec.pass")

FIRST_PASS_LOOKBACK = timedelta(
    hours=12
)  # a brand-new installation starts with today's messages, not the year's


def settings_catchup(settings: Settings) -> timedelta:
    return timedelta(days=settings.max_catchup_days)


@dataclass
class PassSummary:
    start: datetime
    end: datetime
    enqueued: Enqueued
    sent: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "planned": self.enqueued.planned,
            "new_rows": self.enqueued.new_messages,
            "new_items": self.enqueued.new_items,
            "skipped_rows": self.enqueued.skipped,
            "sent": self.sent,
        }


async def run_pass(
    engine: Engine, settings: Settings, directory: Directory, renderer: MessageRenderer, now: datetime
) -> PassSummary:
    """Plan (watermark, now], enqueue what is meaningful, send what is due, move the watermark."""
    watermark = await asyncio.to_thread(last_pass, engine)
    if watermark is None or watermark > now:
        watermark = now - FIRST_PASS_LOOKBACK
    elif now - watermark > settings_catchup(settings):
        oldest = now - settings_catchup(settings)
        log.warning(
            "Lần chạy trước (%s) đã quá thời gian được gửi bù; chỉ gửi bù những tin từ %s trở đi.",
            f"{watermark:%d/%m/%Y %H:%M}",
            f"{oldest:%d/%m/%Y %H:%M}",
        )
        watermark = oldest
    first_day: date = watermark.date()
    # The rest of today is enqueued too: a rule with a later send time (16:00) waits in the outbox for its
    # moment, and the retry job (or the next --once run) sends it then.
    end_of_day = datetime.combine(now.date(), time.max, now.tzinfo)
    # Messages skipped for want of an address are planned again: the admin may have added it since.
    # (Those of the days this pass plans: the watermark's day and after.)
    day_start = datetime.combine(first_day, time.min, now.tzinfo)
    retry_skipped = await asyncio.to_thread(skipped_since, engine, day_start)
    window = PassWindow(after=watermark, until=end_of_day, now=now, retry=frozenset(retry_skipped))
    enqueued = (
        await asyncio.to_thread(  # planning and rendering must not stall the event loop (bot, leadership)
            scheduled, engine, settings, directory, renderer, start=first_day, end=now.date(), window=window
        )
    )
    await asyncio.to_thread(
        set_last_pass, engine, now, {"planned": enqueued.planned, "new_rows": enqueued.new_messages}
    )
    result = await dispatch(engine, settings, now)
    summary = PassSummary(watermark, now, enqueued, dict(result.outcomes))
    log.info(
        "pass done from=%s to=%s planned=%d new_rows=%d sent=%d",
        watermark.isoformat(),
        now.isoformat(),
        enqueued.planned,
        enqueued.new_messages,
        result.sent,
    )
    return summary
