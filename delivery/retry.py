"""When to try again, and when a channel is down for everyone.

:class:`RetryPolicy`: exponential backoff with jitter up to an hour, then hourly, honouring the
provider's retry-after; a message is dead-lettered only when it has had ``max_attempts`` sends *and*
its retry window (24 hours by default) has passed since it was due, so an outage of a night does not
dead-letter the morning's reminders.

:class:`Breaker`: a circuit breaker per channel. Consecutive transient failures to several addresses
(a server that refuses every connection, a provider that times out for everyone) open it; while it is
open the channel's messages are not tried and wait without spending attempts; after a probe interval
(growing, capped) one message is tried: a success closes the breaker and the queue goes, a failure
keeps it open. The state is a small JSON-able dict (kept in ``service_state`` so ``status`` shows it).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

DAY = 24 * 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    """Between sends ``base * 2**(n-1)`` seconds, capped at ``max_seconds`` (an hour), jittered; dead-lettered
    after ``max_attempts`` sends once ``window_seconds`` have passed since the message was due.

    The jitter (a random factor between 0.5 and 1 while backing off, 0.9 to 1 at the cap) spreads
    retries so a recovered server is not hit by every queued message at the same second. A provider's
    ``retry_after`` is a floor: we never come back sooner.
    """

    max_attempts: int = 6
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    window_seconds: float = DAY
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failed send."""
        nominal = self.base_seconds * 2 ** min(max(0, attempts - 1), 60)
        if nominal >= self.max_seconds:
            delay = self.max_seconds * (0.9 + self.rng.random() / 10)  # hourly
        else:
            delay = nominal * (0.5 + self.rng.random() / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def next_attempt(
        self,
        now: datetime,
        attempts: int,
        retry_after: float | None = None,
        *,
        due_at: datetime | None = None,
    ) -> datetime | None:
        """When to try again, or None when the message is dead-lettered: ``attempts`` sends made and the
        window since ``due_at`` (when the message was first due; None: the window is spent) gone by."""
        window_spent = due_at is None or (now - due_at).total_seconds() >= self.window_seconds
        if attempts >= self.max_attempts and window_spent:
            return None
        return now + timedelta(seconds=self.delay(attempts, retry_after))


CLOSED = "closed"
OPEN = "open"


@dataclass
class Breaker:
    """One channel's circuit breaker (see the module docstring); times are aware UTC datetimes."""

    channel: str
    state: str = CLOSED
    failures: int = 0  # consecutive transient failures since the last success
    addresses: list[str] = field(default_factory=list)  # distinct addresses among them (a few, hashed)
    opened_at: datetime | None = None
    probe_at: datetime | None = None  # open: when one message is tried again
    probe_seconds: float = 0.0  # the interval before the next probe
    last_error: str | None = None
    threshold: int = 5  # consecutive failures that open it...
    spread: int = 2  # ...to at least this many addresses (one mailbox refusing is not an outage)
    first_probe_seconds: float = 30.0
    max_probe_seconds: float = 300.0
    changed: bool = field(default=False, compare=False)

    @property
    def is_open(self) -> bool:
        return self.state == OPEN

    def probe_due(self, now: datetime) -> bool:
        return self.is_open and (self.probe_at is None or self.probe_at <= now)

    def blocks(self, now: datetime) -> bool:
        """Open and not yet time to probe: the channel's messages are not tried."""
        return self.is_open and not self.probe_due(now)

    def success(self) -> None:
        if self.state != CLOSED or self.failures:
            self.changed = True
        self.state, self.failures, self.addresses = CLOSED, 0, []
        self.opened_at = self.probe_at = None
        self.probe_seconds = 0.0
        self.last_error = None

    def failure(self, address: str, error: str, now: datetime, retry_after: float | None = None) -> bool:
        """A transient failure; True when the breaker is (now) open."""
        self.changed = True
        self.failures += 1
        self.last_error = error
        token = hashlib.sha256(address.encode()).hexdigest()[:8]  # kept in service_state: not the address
        if token not in self.addresses and len(self.addresses) < self.spread:
            self.addresses.append(token)
        if self.is_open:
            if self.probe_at is not None and now < self.probe_at:
                return True  # sent before it opened, failed since: nothing new
            # a probe failed: wait longer
            self.probe_seconds = min(
                self.max_probe_seconds, max(self.probe_seconds * 2, self.first_probe_seconds)
            )
            self._schedule(now, retry_after)
            return True
        if self.failures >= self.threshold and len(self.addresses) >= self.spread:
            self.state, self.opened_at = OPEN, now
            self.probe_seconds = self.first_probe_seconds
            self._schedule(now, retry_after)
            return True
        return False

    def _schedule(self, now: datetime, retry_after: float | None) -> None:
        wait = max(self.probe_seconds, retry_after or 0.0)
        self.probe_at = now + timedelta(seconds=wait)

    def to_state(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "failures": self.failures,
            "addresses": self.addresses,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "probe_at": self.probe_at.isoformat() if self.probe_at else None,
            "probe_seconds": self.probe_seconds,
            "last_error": self.last_error,
        }

    @classmethod
    def from_state(cls, channel: str, value: dict[str, Any], **tuning: Any) -> Breaker:
        def moment(text: str | None) -> datetime | None:
            return datetime.fromisoformat(text) if text else None

        breaker = cls(channel, **tuning)
        if value:
            breaker.state = value.get("state", CLOSED)
            breaker.failures = int(value.get("failures", 0))
            breaker.addresses = [str(token) for token in value.get("addresses", [])]
            breaker.opened_at = moment(value.get("opened_at"))
            breaker.probe_at = moment(value.get("probe_at"))
            breaker.probe_seconds = float(value.get("probe_seconds", 0.0))
            breaker.last_error = value.get("last_error")
        return breaker
