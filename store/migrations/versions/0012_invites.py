"""invites: single-use codes that bind a Telegram chat or a Zalo follower to a unit, its head or a leader

Only the code's SHA-256 is stored (the code is shown once, when it is made). ``target`` is the recipient code
the planner uses ("TCCB", "TCCB.head", "PGD1"); ``bound_address`` and ``bound_label`` say who joined.

Revision ID: 0012
Revises: 0007

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bound_address", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("bound_label", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("unbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_invites_target", "invites", ["target"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_invites_target", table_name="invites")
    op.drop_table("invites")
