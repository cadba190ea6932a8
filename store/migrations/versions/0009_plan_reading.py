"""plan reading: a task's note and the units it names that the directory lacks; the directory in the database

The unit directory becomes the database's (it was a mirror of config/units.yaml): units get their order and
the Office's mark, and the leadership gets a table. An existing database is completed from its units file the
first time the directory is loaded (store.directory.load_directory), since only the running program knows
which file that is.

Revision ID: 0009
Revises: 0008

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("unlisted_units", sa.JSON(), nullable=True, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("is_office", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "leaders",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("code"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("leaders")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("is_office")
        batch.drop_column("position")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("unlisted_units")
        batch.drop_column("note")
