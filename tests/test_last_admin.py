"""The last enabled admin is kept even when two admins take each other's rights at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from store.db import make_engine, session_scope, upgrade_schema
from store.users import UserAccountError, add_user, get_user, set_disabled, set_role
from tests.support.databases import postgres_schema_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """PostgreSQL only: its READ COMMITTED transactions each see the other admin still there, where
    SQLite lets one writer at a time."""
    for url in postgres_schema_url():
        engine = make_engine(url)
        upgrade_schema(engine)
        yield engine
        engine.dispose()


@pytest.mark.parametrize("change", ["role", "disable"])
def test_two_admins_taken_away_at_once_leave_one(pg_engine: Engine, change: str) -> None:
    with session_scope(pg_engine) as session:
        add_user(session, "an", "mat-khau-rat-dai-1", "admin")
        add_user(session, "binh", "mat-khau-rat-dai-2", "admin")

    def take_away(session: Session, name: str) -> None:
        if change == "role":
            set_role(session, name, "viewer", keep_an_admin=True)
        else:
            set_disabled(session, name, True, keep_an_admin=True)

    answer: dict[str, str] = {}

    def second() -> None:
        try:
            with session_scope(pg_engine) as session:
                take_away(session, "binh")
            answer["binh"] = "changed"
        except UserAccountError as error:
            answer["binh"] = str(error)

    other = threading.Thread(target=second)
    with Session(pg_engine) as first:
        take_away(first, "an")  # done, not yet committed
        other.start()
        other.join(1.0)
        waited = other.is_alive()
        first.commit()
    other.join(30)
    assert waited, "the second change must wait for the first one's admins"
    assert "tài khoản quản trị cuối cùng còn dùng được" in answer["binh"]
    with session_scope(pg_engine) as session:
        binh = get_user(session, "binh")
        assert binh is not None and binh.role == "admin" and not binh.disabled
