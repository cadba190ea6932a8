"""Where the Zalo OA token pair lives, and the lock that lets only one refresh run at a time.

A Zalo refresh token works once: whoever refreshes must store the new pair
before using it, and no two senders (tasks or processes) may refresh with the
same refresh token, or the loser is refused and the service is locked out until
an admin re-authorises the app. So the store offers:

- ``refresh_lock()``: an exclusive section across processes (PostgreSQL: a
  transaction-level advisory lock; SQLite: an exclusive ``flock`` on a file next
  to the database) and across the tasks of this process;
- ``save(pair, expected_generation)``: one atomic ``UPDATE ... WHERE
  generation = expected`` that bumps the generation, so a refresh that lost a
  race can tell (the generation moved) instead of overwriting a newer pair.

The notifier checks the generation inside the lock: if it moved, someone else
refreshed and it only reloads.

The section lasts as long as a request to Zalo's OAuth server (up to its timeout), so on SQLite it must
not hold the database's write lock: SQLite has one writer at a time, and every other writer (the
dispatcher recording outcomes, in any process) would wait behind the HTTP call, up to its busy timeout,
then fail with "database is locked". So the lock is a file lock beside the database, and ``save`` is
one short transaction of its own.

A refresh token lives about three months from when it was issued (``issued_at``,
the moment of the refresh or authorisation that gave it), so the store also keeps
the outcome of the last refresh attempt for ``nhacviec zalo status``: a failed
refresh changes nothing else (Zalo does not consume the token).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.models import ZaloToken

ROW_ID = 1
# pg_advisory_xact_lock key: any fixed 64-bit number no other part of nhacviec uses ("ZALO" in ASCII).
ADVISORY_LOCK_KEY = 0x5A414C4F
LOCK_TIMEOUT_SECONDS = 60.0
LOCK_POLL_SECONDS = 0.02
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # expires_at of a bootstrapped pair: refresh before first use


@dataclass(frozen=True)
class TokenPair:
    """An access token, the single-use refresh token that replaces it, and when the access token expires.

    ``issued_at``: when the refresh token was issued (None when not known: the store then sets it on save).
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    generation: int = 0
    issued_at: datetime | None = field(default=None, compare=False)

    def rotated(
        self, access_token: str, refresh_token: str, expires_at: datetime, issued_at: datetime
    ) -> TokenPair:
        """The pair Zalo issued in exchange for this one (this generation until it is saved)."""
        return replace(
            self,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            issued_at=issued_at,
        )


@dataclass(frozen=True)
class RefreshOutcome:
    """The last refresh attempt: when, whether Zalo gave a new pair, and why not (Vietnamese, no secret)."""

    at: datetime
    ok: bool
    error: str | None = None


class IssuedPair(Protocol):
    """What ``save`` stores: the tokens of a pair, whoever built it (the notifier, after a refresh)."""

    @property
    def access_token(self) -> str: ...
    @property
    def refresh_token(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def issued_at(self) -> datetime | None: ...


class TokenStore(Protocol):
    async def load(self) -> TokenPair | None: ...

    async def bootstrap(self, refresh_token: str) -> TokenPair:
        """Store ``refresh_token`` when no pair exists yet (first start); return the stored pair."""
        ...

    def refresh_lock(self) -> AbstractAsyncContextManager[None]: ...

    async def save(self, pair: IssuedPair, expected_generation: int) -> TokenPair | None:
        """Replace the pair if its generation is still ``expected_generation``; return it with the new one,
        or None when the generation moved (someone else refreshed first: nothing is written).

        A successful save is also the last refresh outcome (ok, at ``pair.issued_at``).
        """
        ...

    async def record_refresh_failure(self, at: datetime, error: str) -> None:
        """A refresh that gave no new pair (the pair stays as it was)."""
        ...

    async def last_refresh(self) -> RefreshOutcome | None: ...


class _LoopLocks:
    """One asyncio.Lock per event loop (an asyncio.Lock may only be used from the loop it first waited in)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock


class InMemoryTokenStore:
    """A store for one process (tests, a single-process set-up without a database)."""

    def __init__(self, pair: TokenPair | None = None) -> None:
        self._pair = pair
        self._locks = _LoopLocks()
        self._outcome: RefreshOutcome | None = None

    def __repr__(self) -> str:
        return f"InMemoryTokenStore(generation={self._pair.generation if self._pair else None})"

    async def load(self) -> TokenPair | None:
        return self._pair

    async def bootstrap(self, refresh_token: str) -> TokenPair:
        if self._pair is None:
            self._pair = TokenPair("", refresh_token, NEVER, 0, datetime.now(UTC))
        return self._pair

    @asynccontextmanager
    async def refresh_lock(self) -> AsyncIterator[None]:
        async with self._locks.get():
            yield

    async def save(self, pair: IssuedPair, expected_generation: int) -> TokenPair | None:
        current = self._pair.generation if self._pair else None
        if current != expected_generation:
            return None
        issued = pair.issued_at or datetime.now(UTC)
        self._pair = TokenPair(
            pair.access_token, pair.refresh_token, pair.expires_at, expected_generation + 1, issued
        )
        self._outcome = RefreshOutcome(issued, True) if pair.access_token else None
        return self._pair

    async def record_refresh_failure(self, at: datetime, error: str) -> None:
        self._outcome = RefreshOutcome(at, False, error)

    async def last_refresh(self) -> RefreshOutcome | None:
        return self._outcome

    async def reauthorise(self, refresh_token: str) -> TokenPair:
        async with self.refresh_lock():
            if self._pair is None:
                return await self.bootstrap(refresh_token)
            saved = await self.save(TokenPair("", refresh_token, NEVER), self._pair.generation)
            assert saved is not None  # the generation cannot move while the lock is held
            return saved


def stored_pair(engine: Engine) -> TokenPair | None:
    """The stored pair, read synchronously (the digest's warning, the CLI)."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(_TABLE).where(_TABLE.c.id == ROW_ID)).mappings().first()
    if row is None:
        return None
    return TokenPair(
        access_token=row["access_token"],
        refresh_token=row["refresh_token"],
        expires_at=_aware(row["expires_at"]),
        generation=row["generation"],
        issued_at=_aware(row["updated_at"]),
    )


def _outcome(row: Any) -> RefreshOutcome | None:
    if row["last_refresh_at"] is None:
        return None
    return RefreshOutcome(
        _aware(row["last_refresh_at"]), bool(row["last_refresh_ok"]), row["last_refresh_error"]
    )


_TABLE = ZaloToken.__table__  # type: ignore[attr-defined]


class DatabaseTokenStore:
    """The pair in table ``zalo_tokens`` (row id 1); blocking calls run in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._locks = _LoopLocks()

    def __repr__(self) -> str:
        return f"DatabaseTokenStore({self.engine.dialect.name})"

    # -- reading and writing ----------------------------------------------------------------------------

    async def load(self) -> TokenPair | None:
        return await asyncio.to_thread(self._load)

    def _load(self) -> TokenPair | None:
        return stored_pair(self.engine)

    async def last_refresh(self) -> RefreshOutcome | None:
        return await asyncio.to_thread(self._last_refresh)

    def _last_refresh(self) -> RefreshOutcome | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(_TABLE).where(_TABLE.c.id == ROW_ID)).mappings().first()
        return None if row is None else _outcome(row)

    async def record_refresh_failure(self, at: datetime, error: str) -> None:
        """A short transaction of its own, inside ``refresh_lock`` or not."""
        await asyncio.to_thread(self._record_failure, at, error)

    def _record_failure(self, at: datetime, error: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                _TABLE.update()
                .where(_TABLE.c.id == ROW_ID)
                .values(last_refresh_at=at, last_refresh_ok=False, last_refresh_error=error)
            )

    async def bootstrap(self, refresh_token: str) -> TokenPair:
        return await asyncio.to_thread(self._bootstrap, refresh_token)

    def _bootstrap(self, refresh_token: str) -> TokenPair:
        existing = self._load()
        if existing is not None:
            return existing
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    _TABLE.insert().values(
                        id=ROW_ID,
                        access_token="",
                        refresh_token=refresh_token,
                        expires_at=NEVER,
                        updated_at=datetime.now(UTC),
                        generation=0,
                    )
                )
        except sa.exc.IntegrityError:
            pass  # another process bootstrapped at the same moment: its row stands
        stored = self._load()
        assert stored is not None
        return stored

    async def save(self, pair: IssuedPair, expected_generation: int) -> TokenPair | None:
        return await asyncio.to_thread(self._save, pair, expected_generation)

    async def reauthorise(self, refresh_token: str) -> TokenPair:
        """Replace the pair with an admin's new refresh token (after Zalo refused a refresh)."""
        if await self.load() is None:  # first start: nothing to refresh yet
            return await self.bootstrap(refresh_token)
        async with self.refresh_lock():
            current = await self.load()
            assert current is not None
            saved = await self.save(TokenPair("", refresh_token, NEVER), current.generation)
            assert saved is not None  # the generation cannot move while the lock is held
            return saved

    def _save(self, pair: IssuedPair, expected_generation: int) -> TokenPair | None:
        issued = pair.issued_at or datetime.now(UTC)
        statement = (
            _TABLE.update()
            .where(_TABLE.c.id == ROW_ID, _TABLE.c.generation == expected_generation)
            .values(
                access_token=pair.access_token,
                refresh_token=pair.refresh_token,
                expires_at=pair.expires_at,
                updated_at=issued,
                generation=expected_generation + 1,
                # A refresh brings an access token; an admin's new refresh token has none yet: no outcome to show.
                last_refresh_at=issued if pair.access_token else None,
                last_refresh_ok=True if pair.access_token else None,
                last_refresh_error=None,
            )
        )
        with self.engine.begin() as connection:
            updated = connection.execute(statement).rowcount
        if updated != 1:
            return None  # the generation is no longer expected_generation
        return TokenPair(
            pair.access_token, pair.refresh_token, pair.expires_at, expected_generation + 1, issued
        )

    # -- the exclusive section --------------------------------------------------------------------------

    @asynccontextmanager
    async def refresh_lock(self) -> AsyncIterator[None]:
        async with self._locks.get():
            held = await self._acquire_uncancelled()
            try:
                yield
            finally:
                await asyncio.to_thread(self._release, held)

    async def _acquire_uncancelled(self) -> _Held:
        """Wait for the lock in a thread; if we are cancelled meanwhile, release it once the thread has it."""
        waiting = asyncio.ensure_future(asyncio.to_thread(self._acquire))
        try:
            return await asyncio.shield(waiting)
        except asyncio.CancelledError:
            loop = asyncio.get_running_loop()

            def release(done: asyncio.Future[_Held]) -> None:
                if not done.cancelled() and done.exception() is None:
                    loop.run_in_executor(None, self._release, done.result())

            waiting.add_done_callback(release)
            raise

    def _acquire(self) -> _Held:
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            return _FileLock.acquire(_lock_path(self.engine), LOCK_TIMEOUT_SECONDS)
        if dialect != "postgresql":
            raise RuntimeError(f"no cross-process lock for {dialect} (SQLite and PostgreSQL only)")
        connection = self.engine.connect()
        try:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        except BaseException:
            connection.close()
            raise
        return connection

    def _release(self, held: _Held) -> None:
        if isinstance(held, _FileLock):
            held.release()
            return
        try:
            held.rollback()  # ends the transaction, which releases the advisory lock
        finally:
            held.close()


class _FileLock:
    """An exclusive ``flock`` on a file, also exclusive between the threads of this process.

    ``flock`` locks belong to the open file description, so two handles opened by one process exclude
    each other too; the kernel drops the lock when the process dies (a killed refresh never wedges it).
    """

    def __init__(self, handle: IO[str]) -> None:
        self._handle: IO[str] | None = handle

    @classmethod
    def acquire(cls, path: Path, timeout: float) -> _FileLock:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115  (held open while the lock is held)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return cls(handle)
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"the Zalo refresh lock {path} is still held") from None
                    time.sleep(LOCK_POLL_SECONDS)
        except BaseException:
            handle.close()
            raise

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


_Held = Connection | _FileLock
_MEMORY_LOCKS: dict[str, Path] = {}
_MEMORY_LOCKS_GUARD = threading.Lock()


def _lock_path(engine: Engine) -> Path:
    """``<database>.zalo.lock`` beside a SQLite file; a private temporary file for an in-memory database."""
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file::memory:"):
        return Path(database).with_suffix(Path(database).suffix + ".zalo.lock")
    with _MEMORY_LOCKS_GUARD:  # one process owns an in-memory database: one lock file per engine URL
        key = str(engine.url)
        if key not in _MEMORY_LOCKS:
            handle, name = tempfile.mkstemp(prefix="nhacviec-zalo-", suffix=".lock")
            os.close(handle)
            _MEMORY_LOCKS[key] = Path(name)
        return _MEMORY_LOCKS[key]


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
