"""The Zalo keep-alive: refresh the OA token at least daily, whether or not anything is sent.

A Zalo refresh token unused for about three months expires (spec §3, "warn well before expiry"), and a
quiet summer sends nothing, so refreshing only when sending would end the channel. The service runs this
job on its own clock (every ``KEEPALIVE_EVERY`` and at start), and ``nhacviec run --once`` after each
pass; the notifier refreshes only once the refresh token is 20 hours old, so about once a day. Each
attempt's outcome is kept for ``nhacviec zalo status``; a refresh Zalo refuses outright (the app must be
authorised again) is also a configuration problem for the admin.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta

from sqlalchemy.engine import Engine

from config.settings import Settings
from delivery.channels import record_alert
from notifiers.base import DeliveryError
from rules.channels import CHANNELS

log = logging.getLogger("nhacviec.zalo")

KEEPALIVE_EVERY = timedelta(hours=6)


async def keep_zalo_alive(engine: Engine, settings: Settings) -> str:
    """Refresh the Zalo token if it is due; returns what happened, in Vietnamese (never raises for Zalo)."""
    from notifiers.zalo import ZaloNotifier
    from store.zalo_tokens import DatabaseTokenStore

    if not CHANNELS["zalo"].configured(settings):
        return "Zalo chưa được cấu hình."
    notifier = ZaloNotifier.from_settings(settings, DatabaseTokenStore(engine))
    try:
        async with notifier:
            refreshed = await notifier.keep_alive()
    except DeliveryError as error:
        log.warning("zalo keep-alive failed: %s", error.reason)
        if error.config_problem:
            key = "zalo:keepalive:" + hashlib.sha256(error.reason.encode()).hexdigest()[:16]
            await asyncio.to_thread(record_alert, engine, key, error.reason)
        return error.reason
    log.info("zalo keep-alive: %s", "token refreshed" if refreshed else "token still fresh")
    return "Đã làm mới token Zalo." if refreshed else "Token Zalo còn mới, chưa cần làm mới."
