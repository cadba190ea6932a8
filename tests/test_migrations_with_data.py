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


def test_outbox_content_moves_to_its_own_table_and_back(tmp_path: Path) -> None:
    """0018: what a message says leaves the outbox row (claims and outcomes rewrite a small row) and comes
    back on a downgrade."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    command.upgrade(config, "0017")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO outbox (id, key, notification_key, kind, rule, channel, recipient, role, "
            "recipient_name, subject, body_text, body_html, extra, wire, status, due_at, next_attempt_at, "
            "attempts, created_at, origin) VALUES (7, 'k', 'k', 'reminder', 'reminder', 'email', 'TCCB', 'to', "
            "'Phòng TCCB', 'Nhắc', 'Văn bản', '<p>HTML</p>', '{\"phone\": \"0901\"}', X'0102', 'pending', "
            "'2020-12-01 00:00:00', '2020-12-01 00:00:00', 0, '2020-12-01 00:00:00', 'planner')"
        )

    upgrade_schema(engine)

    with engine.connect() as connection:
        moved = connection.exec_driver_sql(
            "SELECT message_id, body_text, body_html, extra, wire FROM outbox_content"
        ).all()
        columns = {c["name"] for c in sa.inspect(connection).get_columns("outbox")}
    assert [tuple(r) for r in moved] == [(7, "Văn bản", "<p>HTML</p>", '{"phone": "0901"}', b"\x01\x02")]
    assert not columns & {"body_text", "body_html", "extra", "wire"}

    command.downgrade(config, "0017")
    with engine.connect() as connection:
        back = connection.exec_driver_sql("SELECT body_text, body_html, extra, wire FROM outbox").all()
        assert "outbox_content" not in sa.inspect(connection).get_table_names()
    assert [tuple(r) for r in back] == [("Văn bản", "<p>HTML</p>", '{"phone": "0901"}', b"\x01\x02")]
    engine.dispose()
