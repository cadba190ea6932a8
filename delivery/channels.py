"""Which notifier serves each channel, from the settings.

A channel with its settings filled in (SMTP host, bot token, Zalo app) gets
its real notifier; any other falls back to the file sink (one .eml / .txt per
message) plus the console, so a fresh installation shows real rendered
messages without sending anything anywhere. The channels themselves, and how
each is configured, are listed once in :mod:`rules.channels`; the notifier
of each is built below (:data:`FACTORIES`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from sqlalchemy.engine import Engine

from config.settings import Settings
from notifiers.base import Notifier, OutgoingMessage, SendResult
from rules.channels import CHANNELS
from rules.model import Channel


class FanOut(Notifier):
    """Send to several notifiers (the file sink and the console); the first one's result counts."""

    channel = "fanout"

    def __init__(self, channel: str, notifiers: list[Notifier]) -> None:
        self.channel = channel
        self.notifiers = notifiers

    async def open(self) -> None:
        for notifier in self.notifiers:
            await notifier.open()

    async def send(self, message: OutgoingMessage) -> SendResult:
        results = [await notifier.send(message) for notifier in self.notifiers]
        return results[0]

    async def close(self) -> None:
        for notifier in self.notifiers:
            await notifier.close()


def build_notifiers(
    settings: Settings, engine: Engine, *, console: bool | None = None
) -> dict[str, Notifier]:
    """One notifier per channel; real ones where configured, the sink elsewhere."""
    notifiers: dict[str, Notifier] = {}
    for code, spec in CHANNELS.items():
        if spec.configured(settings):
            notifiers[code] = FACTORIES[code](settings, engine)
        else:
            notifiers[code] = _sink(settings, code, settings.console_sink if console is None else console)
    return notifiers


# -- the real notifier of each channel (imported when built: listing channels loads no SMTP or Telegram) ----


def email_notifier(settings: Settings, engine: Engine) -> Notifier:
    from notifiers.email import EmailNotifier

    return EmailNotifier.from_settings(settings)


def telegram_notifier(settings: Settings, engine: Engine) -> Notifier:
    from notifiers.telegram import TelegramNotifier

    return TelegramNotifier.from_settings(settings)


def zalo_notifier(settings: Settings, engine: Engine) -> Notifier:
    from notifiers.zalo import ZaloNotifier
    from store.zalo_followers import DatabaseFollowers
    from store.zalo_tokens import DatabaseTokenStore

    return ZaloNotifier.from_settings(
        settings,
        DatabaseTokenStore(engine),
        followers=DatabaseFollowers(engine) if settings.zalo_oa_secret_key is not None else None,
        alert=lambda key, message: asyncio.to_thread(record_alert, engine, key, message),
    )


FACTORIES: Mapping[str, Callable[[Settings, Engine], Notifier]] = {
    Channel.EMAIL: email_notifier,
    Channel.TELEGRAM: telegram_notifier,
    Channel.ZALO: zalo_notifier,
}


def record_alert(engine: Engine, key: str, message: str) -> bool:
    """An alert for the admin, kept with the configuration problems; True the first time ``key`` is seen."""
    from store.db import session_scope
    from store.outbox import record_problem

    with session_scope(engine) as session:
        return record_problem(session, key, message)


def _sink(settings: Settings, channel: str, console: bool) -> Notifier:
    from notifiers.sink import ConsoleNotifier, FileSinkNotifier

    sinks: list[Notifier] = [FileSinkNotifier.from_settings(settings, channel)]
    if console:
        sinks.append(ConsoleNotifier())
    return sinks[0] if len(sinks) == 1 else FanOut(channel, sinks)
