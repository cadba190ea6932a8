"""Failed sign-ins per (name, address): after too many in a window, that pair is refused until it clears."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

Key = tuple[str, str]  # (normalised user name, client address)

MAX_KEYS = 10_000  # failures kept for at most this many pairs (the oldest pair is forgotten first)


class LoginLimiter:
    """In memory, per process: ``max_failures`` failures within ``window`` block the pair.

    The block ends when the oldest failure leaves the window; a correct password
    during the block is refused too (otherwise guessing would simply go on).
    Time comes from the caller, so tests move it as they like.
    """

    def __init__(self, max_failures: int = 5, window: timedelta = timedelta(minutes=10)) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[Key, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: Key, now: datetime) -> deque[datetime]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def retry_after(self, key: Key, now: datetime) -> timedelta | None:
        """How long the pair must wait before trying again; None when it may try now."""
        with self._lock:
            failures = self._recent(key, now)
            if len(failures) < self.max_failures:
                return None
            return failures[-self.max_failures] + self.window - now

    def fail(self, key: Key, now: datetime) -> None:
        with self._lock:
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures
            if len(self._failures) > MAX_KEYS:
                del self._failures[next(iter(self._failures))]

    def succeed(self, key: Key) -> None:
        with self._lock:
            self._failures.pop(key, None)
