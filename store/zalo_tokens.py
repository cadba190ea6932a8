"""Where the Zalo OA token pair lives, and the lock that lets only one refresh run at a time.

A Zalo refresh token works once: whoever refreshes must store the new pair
before using it, and no two senders (tasks or processes) may refresh with the
same refresh token, or the loser is refused and the service is locked out until
an admin re-authorises the app. So the store offers:

- ``refresh_lock()``: an exclusive section across processes (PostgreSQL: a
  transaction-level advisory lock; SQLite: ``BEGIN IMMEDIATE``, since SQLite
  lets one writer at a time) and across the tasks of this process;
- ``save(pair, expected_generation)``: one atomic ``UPDATE ... WHERE
  generation = expected`` that bumps the generation, so a refresh that lost a
  race can tell (the generation moved) instead of overwriting a newer pair.

The notifier checks the generation inside the lock: if it moved, someone else
refreshed and it only reloads.

A refresh token lives about three months from when it was issued (``issued_at``,
the moment of the refresh or authorisation that gave it), so the store also keeps
the outcome of the last refresh attempt for ``nhacviec zalo status``: a failed
refresh changes nothing else (Zalo does not consume the token).
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.models import ZaloToken

ROW_ID = 1
# pg_advisory_xact_lock key: any fixed 64-bit number no other part of nhacviec uses ("ZALO" in ASCII).
ADVISORY_LOCK_KEY = 0x5A414C4F
SQLITE_LOCK_TIMEOUT_MS = 60_000
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # expires_at of a bootstrapped pair: refresh before first use


class StaleGenerationError(Exception):
    """``save`` found another generation than expected: someone else refreshed first."""


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


@dataclass(frozen=True)
class RefreshOutcome:
    """The last refresh attempt: when, whether Zalo gave a new pair, and why not (Vietnamese, no secret)."""

    at: datetime
    ok: bool
    error: str | None = None


class TokenStore(Protocol):
    async def load(self) -> TokenPair | None: ...

    async def bootstrap(self, refresh_token: str) -> TokenPair:
        """Store ``refresh_token`` when no pair exists yet (first start); return the stored pair."""
        ...

    def refresh_lock(self) -> AbstractAsyncContextManager[None]: ...

    async def save(self, pair: TokenPair, expected_generation: int) -> TokenPair:
        """Replace the pair if its generation is still ``expected_generation``; return it with the new one.

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

    async def save(self, pair: TokenPair, expected_generation: int) -> TokenPair:
        current = self._pair.generation if self._pair else None
        if current != expected_generation:
            raise StaleGenerationError(f"expected generation {expected_generation}, found {current}")
        issued = pair.issued_at or datetime.now(UTC)
        self._pair = replace(pair, generation=expected_generation + 1, issued_at=issued)
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
            return await self.save(TokenPair("", refresh_token, NEVER), self._pair.generation)


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


# The SQLite connection that holds the write lock, for ``save`` called inside ``refresh_lock``:
# SQLite refuses a second writer, even our own other connection.
_held_sqlite: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
    "nhacviec_zalo_sqlite_lock", default=None
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
        """Called outside ``refresh_lock`` (on SQLite the lock is the only writer)."""
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

    async def save(self, pair: TokenPair, expected_generation: int) -> TokenPair:
        held = _held_sqlite.get()
        if held is not None and held.engine is not self.engine:
            held = None
        return await asyncio.to_thread(self._save, pair, expected_generation, held)

    async def reauthorise(self, refresh_token: str) -> TokenPair:
        """Replace the pair with an admin's new refresh token (after Zalo refused a refresh)."""
        if await self.load() is None:  # outside the lock: on SQLite the lock is the only writer
            return await self.bootstrap(refresh_token)
        async with self.refresh_lock():
            current = await self.load()
            assert current is not None
            return await self.save(TokenPair("", refresh_token, NEVER), current.generation)

    def _save(self, pair: TokenPair, expected_generation: int, held: Connection | None) -> TokenPair:
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
        if held is not None:  # SQLite, inside refresh_lock: write and commit on the locking connection
            updated = held.execute(statement).rowcount
            if _in_transaction(held):
                held.exec_driver_sql("COMMIT")  # ends the exclusive section early: the refresh is done
        else:
            with self.engine.begin() as connection:
                updated = connection.execute(statement).rowcount
        if updated != 1:
            raise StaleGenerationError(f"generation is no longer {expected_generation}")
        return replace(pair, generation=expected_generation + 1, issued_at=issued)

    # -- the exclusive section --------------------------------------------------------------------------

    @asynccontextmanager
    async def refresh_lock(self) -> AsyncIterator[None]:
        async with self._locks.get():
            connection = await self._acquire_uncancelled()
            token = _held_sqlite.set(connection) if self.engine.dialect.name == "sqlite" else None
            try:
                yield
            finally:
                if token is not None:
                    _held_sqlite.reset(token)
                await asyncio.to_thread(self._release, connection)

    async def _acquire_uncancelled(self) -> Connection:
        """Wait for the lock in a thread; if we are cancelled meanwhile, release it once the thread has it."""
        waiting = asyncio.ensure_future(asyncio.to_thread(self._acquire))
        try:
            return await asyncio.shield(waiting)
        except asyncio.CancelledError:
            loop = asyncio.get_running_loop()

            def release(done: asyncio.Future[Connection]) -> None:
                if not done.cancelled() and done.exception() is None:
                    loop.run_in_executor(None, self._release, done.result())

            waiting.add_done_callback(release)
            raise

    def _acquire(self) -> Connection:
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            # Autocommit at the driver level, so the BEGIN IMMEDIATE / COMMIT below are ours alone.
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                connection.info["busy_timeout"] = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_LOCK_TIMEOUT_MS}")
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                connection.close()
                raise
            return connection
        connection = self.engine.connect()
        try:
            if dialect != "postgresql":
                raise RuntimeError(f"no cross-process lock for {dialect} (SQLite and PostgreSQL only)")
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        except BaseException:
            connection.close()
            raise
        return connection

    def _release(self, connection: Connection) -> None:
        try:
            if self.engine.dialect.name == "sqlite":
                if _in_transaction(connection):
                    connection.exec_driver_sql("ROLLBACK")
                connection.exec_driver_sql(f"PRAGMA busy_timeout={int(connection.info['busy_timeout'])}")
            else:
                connection.rollback()  # ends the transaction, which releases the advisory lock
        finally:
            connection.close()


def _in_transaction(connection: Connection) -> bool:
    """Whether the SQLite driver connection is inside a BEGIN we issued."""
    return bool(connection.connection.driver_connection.in_transaction)  # type: ignore[union-attr]


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
