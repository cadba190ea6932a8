"""plan life: a plan's status (active | archived), sample mark, document number and date, closing date

Data: existing plans become active; the sample plan (imported from ke-hoach-cchc-2020.yaml, or by
``init``) is marked as the sample, and archived when a real plan sits beside it, as importing a real
plan now does.

Revision ID: 0013
Revises: 0012

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SAMPLE_FILE = "ke-hoach-cchc-2020.yaml"


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column(
                "status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="active"
            )
        )
        batch.add_column(sa.Column("is_sample", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.add_column(sa.Column("issued_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("closing_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_plans_status", "plans", ["status"])
    plans = sa.table(
        "plans",
        sa.column("id", sa.Integer),
        sa.column("source_file", sa.String),
        sa.column("is_sample", sa.Boolean),
        sa.column("status", sa.String),
        sa.column("archived_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    bind.execute(
        plans.update().where(plans.c.source_file.like(f"%{SAMPLE_FILE}")).values(is_sample=sa.true())
    )
    real = bind.execute(sa.select(plans.c.id).where(plans.c.is_sample == sa.false())).first()
    if real is not None:
        bind.execute(
            plans.update()
            .where(plans.c.is_sample == sa.true())
            .values(status="archived", archived_at=sa.func.current_timestamp())
        )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_plans_status", table_name="plans")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("archived_at")
        batch.drop_column("closing_on")
        batch.drop_column("issued_on")
        batch.drop_column("number")
        batch.drop_column("is_sample")
        batch.drop_column("status")
