"""outbox items: a message carries one or more planned items (bundled delivery); bundle: false per unit and leader

Revision ID: 0007
Revises: 0009

Every existing outbox row becomes a message of one item: the item keeps the row's key (the
delivery key), so nothing already sent is planned or sent again. (It follows 0009: the migrations
numbered after it landed first.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "notification_key, kind, rule, plan, task, period, level, recipient, role"


def upgrade() -> None:
    op.create_table(
        "outbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("notification_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("task", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["outbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("outbox_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_items_message_id"), ["message_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_items_notification_key"), ["notification_key"], unique=False
        )
    for table in ("units", "leaders"):  # ``bundle: false``: each message to them on its own
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("bundle", sa.Boolean(), nullable=False, server_default=sa.true()))
    # Data: each existing message is a message of one item, under its own key.
    op.execute(
        f"INSERT INTO outbox_items (key, message_id, position, {_COLUMNS}) "
        f"SELECT key, id, 0, {_COLUMNS} FROM outbox"
    )


def downgrade() -> None:
    for table in ("leaders", "units"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("bundle")
    with op.batch_alter_table("outbox_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_items_notification_key"))
        batch_op.drop_index(batch_op.f("ix_outbox_items_message_id"))
    op.drop_table("outbox_items")
