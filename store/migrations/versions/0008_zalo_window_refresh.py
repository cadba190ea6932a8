"""zalo: followers' last interaction (the OA window), the last token refresh outcome

Revision ID: 0008
Revises: 0005

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "zalo_followers",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("last_interaction_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("following", sa.Boolean(), nullable=True),
        sa.Column("following_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("zalo_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_refresh_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_refresh_ok", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column("last_refresh_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("zalo_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_refresh_error")
        batch_op.drop_column("last_refresh_ok")
        batch_op.drop_column("last_refresh_at")
    op.drop_table("zalo_followers")
