"""outbox wire: an email message's bytes, built once when it is enqueued

The dispatcher then only adds the From, Date and Message-ID lines before sending (notifiers/email.py), so
building MIME is not done in the send loop. NULL for other channels and for rows enqueued before this.

Revision ID: 0016
Revises: 0012

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("outbox", sa.Column("wire", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("wire")
