"""Databases for the tests (SQLite always, PostgreSQL when NHACVIEC_TEST_POSTGRES_URL is set) and the environment
every test runs in (a plugin: tests/conftest.py registers it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.db import make_engine, upgrade_schema

POSTGRES_URL = os.environ.get("NHACVIEC_TEST_POSTGRES_URL")
POSTGRES_SKIP_REASON = (
    "NHACVIEC_TEST_POSTGRES_URL is not set: PostgreSQL tests need a real server "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test; .ci/run sets it)"
)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own data folder and never sees a developer's NHACVIEC_* settings."""
    for name in list(os.environ):
        if name.startswith("NHACVIEC_") and name != "NHACVIEC_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("NHACVIEC_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NHACVIEC_CONSOLE_SINK", "false")  # messages still go to the file sink
    # The tests send the sample directory's placeholder addresses to local fake servers: a demonstration, so
    # `run` is allowed to (tests/test_readiness.py removes this to see it refuse).
    monkeypatch.setenv("NHACVIEC_ALLOW_PLACEHOLDERS", "true")


def postgres_schema_url() -> Iterator[str]:
    """A throw-away schema in the test database, so runs never see each other's tables."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = f"nhacviec_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, once on SQLite and once on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nhacviec.db'}"
    else:
        yield from postgres_schema_url()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_schema(engine)
    yield engine
    engine.dispose()
