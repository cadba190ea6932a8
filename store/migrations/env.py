"""Alembic environment: runs migrations on the engine nhacviec hands it (see store.db.alembic_config)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import store.models

target_metadata = SQLModel.metadata
engine = context.config.attributes.get("engine")
if engine is None:  # `alembic` run by hand: take the URL nhacviec would use
    from config.settings import get_settings
    from store.db import make_engine

    engine = make_engine(get_settings().effective_database_url)


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations use plain SQLAlchemy types: UTCDateTime is stored as DateTime(timezone=True)."""
    if type_ == "type" and isinstance(obj, store.models.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies a table and drops the old one: with SQLite's foreign keys on, dropping a
        # table other rows refer to (plans, with its tasks) fails. Off during the migrations (the pragma is
        # ignored inside a transaction, hence before it), checked and back on after.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
                render_item=render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"foreign keys broken by a migration: {broken[:5]}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
