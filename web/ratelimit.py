"""Failed sign-ins counted per (name, address), per name, per address and overall; past a bound, refused.

Four counters, each over the same sliding window: a pair (5 by default: one person mistyping), a name from any
address (20: a password guessed from many machines), an address with any names (30: one machine spraying names)
and everyone together (500: a spray from many machines). A block ends when the failures that caused it leave
the window; a correct password during a block is refused too (otherwise guessing would simply go on).
The overall block holds back only a name that has itself failed from that address within the window: a spray
then gets one try per name and machine (each machine still bounded by its own count), while the Office's people,
even behind one shared address, still get in unless they mistyped themselves (a spray must not lock out
every user).

The store is bounded (``MAX_KEYS`` per counter) and a flood cannot flush it: when a counter is full, the keys
forgotten first are those that are not blocked, so 10,000 failures under other names do not clear a block
(they are counted by the address and the overall counters instead). The address is the client's as the app
sees it: X-Forwarded-For only from a trusted proxy (web.config.client_origin), so a header a client makes up
per try changes nothing. Time comes from the caller, so tests move it as they like.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

Key = tuple[str, str]  # (normalised user name, client address)

MAX_KEYS = 10_000  # keys kept per counter (never a blocked one while another can go)


class _Counter:
    """Failures per key within a window, at most ``limit`` kept per key, at most MAX_KEYS keys."""

    def __init__(self, limit: int, window: timedelta, max_keys: int = MAX_KEYS) -> None:
        self.limit = max(1, limit)
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[object, deque[datetime]] = {}

    def _recent(self, key: object, now: datetime) -> deque[datetime]:
        failures = self._failures.get(key)
        if failures is None:
            return deque(maxlen=self.limit)
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def retry_after(self, key: object, now: datetime) -> timedelta | None:
        failures = self._recent(key, now)
        if len(failures) < self.limit:
            return None
        return failures[0] + self.window - now

    def fail(self, key: object, now: datetime) -> None:
        failures = self._recent(key, now)
        failures.append(now)  # maxlen: the oldest beyond the limit goes, the block still holds
        self._failures[key] = failures
        if len(self._failures) > self.max_keys:
            self._evict(now, keep=key)

    def _evict(self, now: datetime, keep: object) -> None:
        """Forget one key that is not blocked (the oldest such); drop keys whose failures expired on the way."""
        for other in list(self._failures):
            if other == keep:
                continue
            failures = self._recent(other, now)
            if not failures:
                return  # expired and dropped: room made
            if len(failures) < self.limit:
                del self._failures[other]
                return
        # every key is blocked: the new one is forgotten rather than a block (the other counters still count it)
        if len(self._failures) > self.max_keys:
            self._failures.pop(keep, None)

    def count(self, key: object, now: datetime) -> int:
        """The key's failures within the window."""
        return len(self._recent(key, now))

    def clear(self, key: object) -> None:
        self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)


class LoginLimiter:
    """In memory, per process: the four counters of this module.

    ``shares``: how many processes serve the same sign-in page (``nhacviec web --workers N``). Each keeps
    ceil(limit / shares) of every limit, so the processes together allow at most about the configured number of
    tries, whichever worker each try reaches.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window: timedelta = timedelta(minutes=10),
        *,
        per_name: int = 20,
        per_address: int = 30,
        overall: int = 500,
        max_keys: int = MAX_KEYS,
        shares: int = 1,
    ) -> None:
        def share(limit: int) -> int:
            return -(-limit // max(1, shares))  # ceiling division

        self.max_failures = share(max_failures)
        self.window = window
        self._pairs = _Counter(share(max_failures), window, max_keys)
        self._names = _Counter(share(per_name), window, max_keys)
        self._addresses = _Counter(share(per_address), window, max_keys)
        self._overall = _Counter(share(overall), window, 1)
        self._lock = threading.Lock()

    def retry_after(self, key: Key, now: datetime) -> timedelta | None:
        """How long this try must wait (the longest of the counters that block it); None when it may try now."""
        name, address = key
        with self._lock:
            waits = [
                self._pairs.retry_after(key, now),
                self._names.retry_after(name, now),
                self._addresses.retry_after(address, now),
            ]
            if self._pairs.count(key, now):  # the overall block: only a name that failed from this address
                waits.append(self._overall.retry_after("*", now))
        blocked = [wait for wait in waits if wait is not None]
        return max(blocked) if blocked else None

    def fail(self, key: Key, now: datetime) -> None:
        name, address = key
        with self._lock:
            self._pairs.fail(key, now)
            self._names.fail(name, now)
            self._addresses.fail(address, now)
            self._overall.fail("*", now)

    def succeed(self, key: Key) -> None:
        """A right password (not blocked): that pair's own mistakes are forgiven, the wider counts stay."""
        with self._lock:
            self._pairs.clear(key)
