"""One interface for every channel: a notifier sends one rendered message to one address.

Each channel lives in its own module behind :class:`Notifier` (email, Telegram,
Zalo, the file sink, the console). A notifier never touches the database; it
reports the outcome as a :class:`SendResult` or raises a :class:`DeliveryError`
that says whether trying again can help, and when. The dispatcher decides the
rest (retry, dead letter, configuration problem).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutgoingMessage:
    """A message ready to go: rendered text for one recipient on one channel."""

    key: str  # the outbox key: stable, used for the email Message-ID and provider tracking ids
    channel: str
    address: str  # email address, Telegram chat id, Zalo user id (or phone for ZNS)
    recipient_name: str
    subject: str
    text: str  # plain text (email text part; Zalo OA text)
    html: str | None = None  # email HTML part; for Telegram, its HTML subset
    extra: Mapping[str, Any] = field(default_factory=dict)  # channel specifics: {"phone", "zns": {...}}
    wire: bytes | None = (
        None  # email: the message built when it was enqueued (notifiers.email.prebuilt_email)
    )
    # A long message goes in parts (Telegram, Zalo): the provider ids of the parts earlier attempts delivered.
    # The notifier sends only the rest, so a retry never repeats a part the recipient already has.
    parts_done: tuple[str, ...] = ()
    # Done once this message's outcome is recorded (given by the dispatcher to a notifier that
    # ``waits_for_records``): the next message on the same connection is not made final before it.
    recorded: asyncio.Future[Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SendResult:
    provider_id: str | None = None  # the provider's message id (Message-ID, Telegram message_id, Zalo msg id)
    new_address: str | None = None  # the provider moved the recipient (a group became a supergroup)
    written: bool = False  # only written to a file (the channel is not configured): nobody received it


class DeliveryError(Exception):
    """A send that did not go through.

    ``permanent``: trying again cannot help (address rejected, bot blocked,
    template refused); ``retry_after``: seconds the provider asked us to wait;
    ``config_problem``: an admin must fix something (a message for them);
    ``parts_done``: for a message sent in parts, the ids of those delivered before it failed (the earlier
    attempts' included), which the next attempt skips.
    The message never contains a secret.
    """

    parts_done: tuple[str, ...] = ()

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        config_problem: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.config_problem = config_problem


class TransientError(DeliveryError):
    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason, permanent=False, retry_after=retry_after)


class PermanentError(DeliveryError):
    def __init__(self, reason: str, *, config_problem: bool = False) -> None:
        super().__init__(reason, permanent=True, config_problem=config_problem)


class Notifier(ABC):
    """A channel. Open once, send many (concurrently up to ``max_concurrency``), close once."""

    channel: str  # a class's own, or an instance's when one class serves several channels (the file sink)
    max_concurrency: int = 4  # a class's default; an instance may set its own (the email pool's size)
    # True: before the step that makes a message final (email: the end of its data), the notifier waits
    # until the outcome of the message sent before it on the same connection is recorded
    # (``OutgoingMessage.recorded``). Sent but unrecorded messages then stay at most ``max_concurrency``
    # however outcomes are recorded, so the dispatcher frees a slot as soon as a send returns.
    waits_for_records: bool = False

    async def open(self) -> None:  # noqa: B027  (optional hook)
        """Prepare connections; called once before the first send."""

    @abstractmethod
    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message, or raise :class:`DeliveryError`."""

    async def close(self) -> None:  # noqa: B027  (optional hook)
        """Release connections; called once after the last send."""

    async def __aenter__(self) -> Notifier:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
