"""When to try again: exponential backoff with jitter, honouring the provider's retry-after."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` sends in all; between them ``base * 2**(n-1)`` seconds (capped), jittered.

    The jitter (a random factor between 0.5 and 1) spreads retries so a
    recovered server is not hit by every queued message at the same second.
    A provider's ``retry_after`` is a floor: we never come back sooner.
    """

    max_attempts: int = 6
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failed send."""
        backoff = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        delay = backoff * (0.5 + self.rng.random() / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def next_attempt(self, now: datetime, attempts: int, retry_after: float | None = None) -> datetime | None:
        """When to try again, or None when the attempts are spent (the message is dead-lettered)."""
        if attempts >= self.max_attempts:
            return None
        return now + timedelta(seconds=self.delay(attempts, retry_after))
