"""outbox content: a message's texts, extra data and email bytes in a table of their own

Claiming a message and recording its outcome update its outbox row; on SQLite an UPDATE writes the whole
row again, and an email's row carried ~16 KB (text, HTML, built bytes). The content moves to
``outbox_content`` (one row per message, deleted with it), so those updates write a few hundred bytes.

Revision ID: 0018
Revises: 0017

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOVED = ("body_text", "body_html", "extra", "wire")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "outbox_content",
        sa.Column(
            "message_id",
            sa.Integer(),
            sa.ForeignKey("outbox.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("body_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body_html", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("wire", sa.LargeBinary(), nullable=True),
    )
    op.execute(
        "INSERT INTO outbox_content (message_id, body_text, body_html, extra, wire) "
        "SELECT id, body_text, body_html, extra, wire FROM outbox"
    )
    with op.batch_alter_table("outbox") as batch:
        for column in _MOVED:
            batch.drop_column(column)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("body_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("body_html", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("wire", sa.LargeBinary(), nullable=True))
    for column in _MOVED:
        op.execute(
            f"UPDATE outbox SET {column} = "
            f"(SELECT c.{column} FROM outbox_content c WHERE c.message_id = outbox.id)"
        )
    op.execute("UPDATE outbox SET body_text = '' WHERE body_text IS NULL")
    op.drop_table("outbox_content")
