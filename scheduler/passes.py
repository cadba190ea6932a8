"""One pass of the service, with a watermark so downtime is caught up once and only once.

A pass covers the interval (watermark, now]: everything the planner puts in it
goes to the outbox (whose unique keys make a repeated pass harmless), then the
outbox is sent and the watermark moves to ``now``. After downtime (a weekend, a
power cut, a week) the first pass plans the whole missed interval, but sends
only what is still meaningful: nothing about a task done since, and no reminder
whose due date has already passed (the escalation ladder has taken over).

Up to :data:`CATCH_UP_DAYS` days of downtime (the default catch-up limit) go in one pass: one message per
address for everything missed. A longer catch-up (``NHACVIEC_MAX_CATCHUP_DAYS`` raised) plans, enqueues and
sends day by day (delivery.pipeline.catch_up): memory stays bounded by a month's notifications, each day's
messages go before the next day is planned, the watermark moves at the end of each day (a crash resumes
where it stopped), and a progress line is logged for each day (and drawn on a terminal by ``run --once``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from config.settings import Settings
from delivery.pipeline import Enqueued, MessageRenderer, PassWindow, catch_up, dispatch, scheduled
from plan.units import Directory
from scheduler.memory import map_big_blocks, release_freed_memory
from store.outbox import skipped_since
from store.state import last_pass, set_last_pass

log = logging.getLogger("nhacviec.pass")

FIRST_PASS_LOOKBACK = timedelta(
    hours=12
)  # a brand-new installation starts with today's messages, not the year's


CATCH_UP_DAYS = 31  # a pass over more days than this goes day by day
CATCH_UP_BATCH = 10  # outbox rows claimed at once while catching up (bundles of many items are big)

Progress = Callable[[int, int, date], None]  # (days done, days in all, the day just done)


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
    engine: Engine,
    settings: Settings,
    directory: Directory,
    renderer: MessageRenderer,
    now: datetime,
    progress: Progress | None = None,
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
    if (now.date() - first_day).days > CATCH_UP_DAYS:
        return await _catch_up(engine, settings, directory, renderer, window, first_day, progress)
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


async def _catch_up(
    engine: Engine,
    settings: Settings,
    directory: Directory,
    renderer: MessageRenderer,
    window: PassWindow,
    first_day: date,
    progress: Progress | None,
) -> PassSummary:
    """The pass after long downtime: each day planned, enqueued and sent before the next (see the module)."""
    now = window.now
    days = (now.date() - first_day).days + 1
    log.warning(
        "catching up %d days from %s: planning and sending day by day", days, window.after.isoformat()
    )
    map_big_blocks()  # each day's bundles are megabyte strings: freed, they go back to the system
    total = Enqueued()
    sent: Counter[str] = Counter()
    steps = catch_up(engine, settings, directory, renderer, start=first_day, end=now.date(), window=window)
    done = 0
    while (step := await asyncio.to_thread(next, steps, None)) is not None:
        day, enqueued = step
        done += 1
        for name in ("planned", "new_messages", "new_items", "skipped"):
            setattr(total, name, getattr(total, name) + getattr(enqueued, name))
        total.new_problems += enqueued.new_problems
        sent_now = (
            await dispatch(engine, settings, now, batch_size=CATCH_UP_BATCH)
            if enqueued.new_messages
            else None
        )
        outcomes = sent_now.outcomes if sent_now is not None else {}
        if enqueued.new_messages:
            await asyncio.to_thread(release_freed_memory)
        sent.update(outcomes)
        day_end = min(now, datetime.combine(day, time.max, now.tzinfo))
        await asyncio.to_thread(
            set_last_pass, engine, day_end, {"planned": total.planned, "new_rows": total.new_messages}
        )
        log.info(
            "catch-up %d/%d day=%s planned=%d new_rows=%d sent=%d",
            done,
            days,
            day.isoformat(),
            enqueued.planned,
            enqueued.new_messages,
            outcomes.get("sent", 0),
        )
        if progress is not None:
            progress(done, days, day)
    await asyncio.to_thread(
        set_last_pass, engine, now, {"planned": total.planned, "new_rows": total.new_messages}
    )
    result = await dispatch(engine, settings, now)  # what a later send time of today left, and retries
    sent.update(result.outcomes)
    return PassSummary(window.after, now, total, dict(sent))
