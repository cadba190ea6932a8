"""task events: the date of the event an event-relative deadline counts from

``tasks set-due CODE --event DATE`` (and the web's "Ngày xảy ra sự kiện") computes the due date of a task
planned "Trong 30 ngày kể từ khi ..." from the event's date; the history entry keeps that date beside the
computed due date (``new_due``). NULL for every other entry.

Revision ID: 0017
Revises: 0014

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("task_events") as batch:
        batch.add_column(sa.Column("event_on", sa.Date(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("task_events") as batch:
        batch.drop_column("event_on")
