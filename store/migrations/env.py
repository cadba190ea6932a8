"""Alembic environment: runs migrations on the engine nhacviec hands it (see store.db.alembic_config)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata
engine = context.config.attributes.get("engine")
if engine is None:  # `alembic` run by hand: take the URL nhacviec would use
    from config.settings import get_settings
    from store.db import make_engine

    engine = make_engine(get_settings().effective_database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
