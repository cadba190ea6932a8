"""What the Official Account knows of each Zalo user: their last interaction and whether they follow.

Written by the OA webhook (``POST /zalo/webhook``), read by the Zalo notifier to
know whether the OA's messaging window is open for a user (see notifiers.zalo).
Events may arrive late, twice or out of order (Zalo retries a webhook that did
not answer in time): an interaction only ever moves ``last_interaction_at``
forward, and a follow or unfollow only counts when it is newer than the one
already recorded. So replaying any event is harmless.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from store.models import ZaloFollower

_TABLE = ZaloFollower.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Follower:
    user_id: str
    last_interaction_at: datetime | None
    following: bool | None  # None: no follow or unfollow event seen


def record_event(
    connection: Connection,
    user_id: str,
    at: datetime,
    event: str,
    *,
    interaction: bool,
    following: bool | None = None,
) -> None:
    """Record an event of ``user_id`` at ``at``: an interaction, a follow (True) or an unfollow (False)."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    now = datetime.now(UTC)
    values = {
        "user_id": user_id,
        "last_interaction_at": at if interaction else None,
        "following": following,
        "following_changed_at": at if following is not None else None,
        "last_event": event[:64],
        "updated_at": now,
    }
    statement = insert(_TABLE).values(**values)
    new, old = statement.excluded, _TABLE.c
    updates: dict[str, object] = {"last_event": new.last_event, "updated_at": new.updated_at}
    if interaction:
        updates["last_interaction_at"] = sa.case(
            (
                sa.or_(old.last_interaction_at.is_(None), old.last_interaction_at < new.last_interaction_at),
                new.last_interaction_at,
            ),
            else_=old.last_interaction_at,
        )
    if following is not None:
        newer = sa.or_(
            old.following_changed_at.is_(None), old.following_changed_at <= new.following_changed_at
        )
        updates["following"] = sa.case((newer, new.following), else_=old.following)
        updates["following_changed_at"] = sa.case(
            (newer, new.following_changed_at), else_=old.following_changed_at
        )
    connection.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=updates))


def get_follower(connection: Connection, user_id: str) -> Follower | None:
    row = connection.execute(sa.select(_TABLE).where(_TABLE.c.user_id == user_id)).mappings().first()
    if row is None:
        return None
    last = row["last_interaction_at"]
    return Follower(user_id, _aware(last) if last is not None else None, row["following"])


class DatabaseFollowers:
    """The followers table for the notifier (blocking calls in a worker thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __repr__(self) -> str:
        return f"DatabaseFollowers({self.engine.dialect.name})"

    async def get(self, user_id: str) -> Follower | None:
        return await asyncio.to_thread(self._get, user_id)

    def _get(self, user_id: str) -> Follower | None:
        with self.engine.connect() as connection:
            return get_follower(connection, user_id)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
