"""Who runs the clock: exactly one active scheduler per database.

On PostgreSQL the leader holds a session-level advisory lock on a dedicated
connection; if its process dies the server drops the connection and the lock,
and a standby that keeps asking takes over. On SQLite (one machine, one file) a
second ``nhacviec run`` is refused outright, through an exclusive lock on a file
next to the database.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("nhacviec.leader")

ADVISORY_KEY = 0x6E68_6163  # "nhac": one key for the scheduler of this database


class Leadership(Protocol):
    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresLeadership:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is None:
            self._connection = self.engine.connect()
        try:
            got = bool(
                self._connection.execute(
                    sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
                ).scalar()
            )
            self._connection.commit()
        except sa.exc.DBAPIError:
            self._drop()
            return False
        if not got:
            self._drop()  # don't keep an idle connection while standing by
        return got

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND objid = :k AND granted"
                ),
                {"k": ADVISORY_KEY},
            ).scalar()
            self._connection.commit()
            return bool(held)
        except sa.exc.DBAPIError:
            self._drop()
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._connection.commit()
            except sa.exc.DBAPIError:
                pass
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self._connection.close()
            self._connection = None


class FileLeadership:
    """An exclusive ``flock`` on ``<database>.lock``: released by the kernel when the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115  (held open for the lifetime of the leadership)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def still_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def leadership_for(engine: Engine, data_dir: Path) -> Leadership:
    if engine.dialect.name == "postgresql":
        return PostgresLeadership(engine)
    database = engine.url.database
    if database and database != ":memory:":
        return FileLeadership(Path(database).with_suffix(Path(database).suffix + ".lock"))
    return FileLeadership(data_dir / "nhacviec.lock")
