"""Migrations over a database that holds a plan: SQLite's batch migrations copy and drop tables other rows
refer to, which fails with its foreign keys on unless the environment turns them off meanwhile."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from store.db import alembic_config, make_engine, schema_is_current, upgrade_schema


def test_a_sqlite_database_holding_a_plan_upgrades_from_0012_to_head(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0012")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO plans (id, code, title, year, imported_at) "
            "VALUES (1, 'CCHC-2020', 'Kế hoạch thử', 2020, '2020-01-10 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO sections (id, plan_id, code, title, position) VALUES (1, 1, 'I', 'A', 0)"
        )
        connection.exec_driver_sql(
            "INSERT INTO tasks (id, plan_id, section_id, code, position, content, products, deadline_text, "
            "deadline_kind, occurrences, status, note) "
            "VALUES (1, 1, 1, 'I.1', 0, 'Việc', '[]', 'Năm 2020', 'window', '[]', 'open', '')"
        )

    upgrade_schema(engine)

    assert schema_is_current(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT code FROM plans").scalars().all() == ["CCHC-2020"]
        assert connection.exec_driver_sql("SELECT plan_id FROM tasks").scalars().all() == [1]
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on for the application
        tables = sa.inspect(connection).get_table_names()
    assert not [t for t in tables if t.startswith("_alembic_tmp")]
    engine.dispose()
