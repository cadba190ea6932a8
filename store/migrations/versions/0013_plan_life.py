"""plan life: a plan's status (active | archived), sample mark, document number and date, closing date

Data: existing plans become active; the sample plan (imported from ke-hoach-cchc-2020.yaml, or by
``init``) is marked as the sample, and archived when a real plan sits beside it, as importing a real
plan now does. Rules seeded before get the plan-closing rule (the closing list).

Revision ID: 0013
Revises: 0016

"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0016"
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
    _add_closing_rule()


CLOSING_RULE = {
    "id": "plan-closing",
    "title": "Kết thúc kế hoạch",
    "kind": "closing",
    "audience": [{"who": "office", "role": "to"}],
    "channels": ["email"],
    "template": "closing",
}


def _add_closing_rule() -> None:
    """A database whose rules were seeded before this revision gets the closing rule (config/rules.yaml
    seeds it in a new one); a database with no rules yet gets it from ``init``."""
    bind = op.get_bind()
    rules = sa.table(
        "rules",
        sa.column("id", sa.String),
        sa.column("position", sa.Integer),
        sa.column("data", sa.JSON),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("updated_by", sa.String),
    )
    events = sa.table(
        "rule_events",
        sa.column("rule_id", sa.String),
        sa.column("action", sa.String),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String),
        sa.column("via", sa.String),
        sa.column("before", sa.JSON),
        sa.column("after", sa.JSON),
    )
    existing = [row[0] for row in bind.execute(sa.select(rules.c.id))]
    if not existing or CLOSING_RULE["id"] in existing:
        return
    position = bind.execute(sa.select(sa.func.max(rules.c.position))).scalar() or 0
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    bind.execute(
        rules.insert().values(
            id=CLOSING_RULE["id"],
            position=position + 1,
            data=CLOSING_RULE,
            updated_at=now,
            updated_by="migration",
        )
    )
    bind.execute(
        events.insert().values(
            rule_id=CLOSING_RULE["id"],
            action="created",
            at=now,
            actor="migration",
            via="migration",
            before=None,
            after=CLOSING_RULE,
        )
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.get_bind().execute(sa.text("DELETE FROM rules WHERE id = 'plan-closing'"))
    op.drop_index("ix_plans_status", table_name="plans")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("archived_at")
        batch.drop_column("closing_on")
        batch.drop_column("issued_on")
        batch.drop_column("number")
        batch.drop_column("is_sample")
        batch.drop_column("status")
