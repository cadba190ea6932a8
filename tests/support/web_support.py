"""What the web tests share: a cheap password hasher and a sample database built once per test file, copied after."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from config.settings import Settings
from store.db import make_engine

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # argon2id, cheap enough for tests


def copy_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def sample_engine(
    run_cli: Callable[..., object],
    factory: pytest.TempPathFactory,
    cache: dict[str, Path],
    prepare: Callable[[], None] | None = None,
) -> Engine:
    """The test's database: ``nhacviec init`` (+ ``prepare``) the first time, a copy of that afterwards."""
    url = Settings().effective_database_url
    path = Path(url.removeprefix("sqlite:///"))
    if "db" not in cache:
        assert run_cli("init").exit_code == 0  # type: ignore[attr-defined]
        if prepare is not None:
            prepare()
        cache["db"] = factory.mktemp("sample") / "sample.db"
        copy_sqlite(path, cache["db"])
    else:
        copy_sqlite(cache["db"], path)
    return make_engine(url)
