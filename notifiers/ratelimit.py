"""Small asyncio rate limiters shared by the channels (Telegram, Zalo).

Both take an injectable clock and sleep so unit tests run on a fake clock.

* :class:`RateLimiter`: at most ``rate`` grants in any window of ``period``
  seconds, spread evenly (one grant every ``period / rate`` seconds: a token
  bucket holding one token). Even spacing never bursts, so a provider that
  counts per second never sees a spike.
* :class:`KeyedLimiter`: a minimum interval between two uses of the same key
  (one chat, one user), measured from the end of one use to the start of the
  next, with at most one use of a key at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_PRUNE_ABOVE = 1024  # keys kept before idle ones are forgotten


class RateLimiter:
    """Allow ``rate`` acquisitions per ``period`` seconds overall, evenly spaced.

    Callers are served one at a time, first come first served. Two rules:

    * pacing: one grant every ``interval`` on a timeline that does not drift
      with the event loop's timer overshoot (a grant up to half an interval
      late keeps the timeline), and that starts afresh after an idle spell
      (idle time is never banked into a burst);
    * a hard cap, on the times grants actually happen: never more than
      ``rate`` in any window of ``period`` seconds, even after a late wake-up.
    """

    def __init__(
        self, rate: int, period: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        if rate < 1 or period <= 0:
            raise ValueError("rate must be >= 1 and period > 0")
        self.rate = rate
        self.period = period
        self.interval = period / rate
        self._slack = self.interval / 2
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")  # the pacing timeline: the next grant's slot
        self._recent: deque[float] = deque(maxlen=rate)  # when the latest grants happened
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def acquire(self) -> None:
        """Return when this caller may make its request."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a lock serves one event loop: a new run gets a new lock
            self._lock, self._loop = asyncio.Lock(), loop
        async with self._lock:
            waited = False
            while (delay := self._delay(self._clock())) > 0:
                await self._sleep(delay)
                waited = True
            now = self._clock()
            self._recent.append(now)
            late = min(now - self._next, self._slack) if waited else 0.0
            self._next = now + self.interval - max(late, 0.0)

    def _delay(self, now: float) -> float:
        pacing = self._next - now
        if len(self._recent) < self.rate:
            return pacing
        return max(pacing, self._recent[0] + self.period - now)


class KeyedLimiter:
    """At least ``interval`` seconds between the end of one use of a key and the start of the next."""

    def __init__(
        self, interval: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        if interval < 0:
            raise ValueError("interval must be >= 0")
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._free_at: dict[str, float] = {}  # key -> earliest start of its next use
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}  # key -> callers inside or waiting for hold()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Wait until ``key`` may be used, keep it for the body, and start its interval on exit."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                delay = self._free_at.get(key, float("-inf")) - self._clock()
                if delay > 0:
                    await self._sleep(delay)
                try:
                    yield
                finally:
                    self._free_at[key] = self._clock() + self.interval
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]
            self._prune()

    def _prune(self) -> None:
        """Forget keys whose interval has passed, so a long run does not grow without bound."""
        if len(self._free_at) <= _PRUNE_ABOVE:
            return
        now = self._clock()
        for key in [key for key, free_at in self._free_at.items() if free_at <= now]:
            del self._free_at[key]
