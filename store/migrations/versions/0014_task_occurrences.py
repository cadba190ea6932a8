"""task occurrences: recurring work done period by period

A recurring task ("Hằng tháng", "Định kỳ hằng quý") was one task: one "done" closed it for the year.
Each due date of such a task becomes a row of ``task_occurrences`` (period label, due date, its own
extension, status and completion), and ``task_events.period`` says which occurrence an event is about.

Data: every existing recurring task gets its occurrences; its history is kept and replayed onto them.
A "done" recorded for the whole task closed, in the old model, the occurrence current that day and
all earlier ones: those occurrences are done (the event is attached to the current one, and each earlier
one gets a "done" event naming the migration); later occurrences are open. A "reopened" undoes the last
"done"; an extension moves the occurrence whose due date it extended. The task is done only when every
occurrence is. The default escalation rule (unchanged by an admin) now covers recurring tasks too.

Revision ID: 0014
Revises: 0015

"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_ESCALATION_KINDS = ["date", "window", "unscheduled", "event"]


def upgrade() -> None:
    """Upgrade schema, then turn each recurring task into its occurrences."""
    with op.batch_alter_table("task_events") as batch:
        batch.add_column(sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.create_table(
        "task_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("due_override", sa.Date(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "period"),
    )
    op.create_index("ix_task_occurrences_task_id", "task_occurrences", ["task_id"])
    migrate_recurring(op.get_bind())
    _escalate_recurring(op.get_bind())


def migrate_recurring(connection: sa.Connection) -> None:
    from planner.occurrences import current_index, is_recurring, occurrences_of

    meta = sa.MetaData()
    tasks = sa.Table("tasks", meta, autoload_with=connection)
    events = sa.Table("task_events", meta, autoload_with=connection)
    occurrence_table = sa.Table("task_occurrences", meta, autoload_with=connection)
    rows = connection.execute(
        sa.select(
            tasks.c.id,
            tasks.c.deadline_text,
            tasks.c.deadline_kind,
            tasks.c.occurrences,
            tasks.c.status,
        ).where(tasks.c.deadline_kind == "recurring")
    ).all()
    for row in rows:
        dues = [date.fromisoformat(d) for d in (row.occurrences or [])]
        if not is_recurring(row.deadline_kind, dues):
            continue
        occurrences = occurrences_of(row.deadline_text, dues)
        state = [{"status": "open", "done_on": None, "due_override": None, "due": o.due} for o in occurrences]
        last_done: list[int] = []
        history = connection.execute(
            sa.select(events).where(events.c.task_id == row.id).order_by(events.c.id)
        ).all()
        for event in history:
            on = event.effective_on or event.at.date()
            effective = [s["due_override"] or s["due"] for s in state]
            if event.kind == "done":
                index = current_index(effective, on)
                last_done = [i for i in range(index + 1) if state[i]["status"] == "open"]
                for i in last_done:
                    state[i]["status"], state[i]["done_on"] = "done", on
                    if i != index:
                        connection.execute(
                            events.insert().values(
                                task_id=row.id,
                                kind="done",
                                at=event.at,
                                effective_on=on,
                                actor=event.actor,
                                via="migration",
                                note="Chuyển đổi dữ liệu: hoàn thành cùng kỳ "
                                f"{occurrences[index].period} (trước đây một lần hoàn thành cho cả nhiệm vụ).",
                                period=occurrences[i].period,
                            )
                        )
                _set_period(connection, events, event.id, occurrences[index].period)
            elif event.kind == "reopened" and last_done:
                for i in last_done:
                    state[i]["status"], state[i]["done_on"] = "open", None
                _set_period(connection, events, event.id, occurrences[max(last_done)].period)
                last_done = []
            elif event.kind in ("extended", "due_set"):
                index = next(
                    (
                        i
                        for i, due in enumerate(effective)
                        if event.old_due is not None and due == event.old_due
                    ),
                    current_index(effective, on),
                )
                state[index]["due_override"] = event.new_due
                _set_period(connection, events, event.id, occurrences[index].period)
        for position, (occurrence, s) in enumerate(zip(occurrences, state, strict=True)):
            connection.execute(
                occurrence_table.insert().values(
                    task_id=row.id,
                    period=occurrence.period,
                    aliases=list(occurrence.aliases),
                    position=position,
                    due=occurrence.due,
                    due_override=s["due_override"],
                    status=s["status"],
                    done_on=s["done_on"],
                )
            )
        if row.status != "removed":
            all_done = all(s["status"] == "done" for s in state)
            connection.execute(
                tasks.update()
                .where(tasks.c.id == row.id)
                .values(
                    status="done" if all_done else "open",
                    done_on=max(s["done_on"] for s in state) if all_done else None,
                    due_override=None,
                )
            )


def _set_period(connection: sa.Connection, events: sa.Table, event_id: int, period: str) -> None:
    connection.execute(events.update().where(events.c.id == event_id).values(period=period))


def _escalate_recurring(connection: sa.Connection) -> None:
    rules = sa.Table("rules", sa.MetaData(), autoload_with=connection)
    row = connection.execute(sa.select(rules.c.id, rules.c.data).where(rules.c.id == "escalation")).first()
    if row is None or not isinstance(row.data, dict):
        return
    applies = row.data.get("applies_to") or {}
    if list(applies.get("deadline_kinds") or []) != _OLD_ESCALATION_KINDS:
        return
    data = {**row.data, "applies_to": {**applies, "deadline_kinds": [*_OLD_ESCALATION_KINDS, "recurring"]}}
    connection.execute(rules.update().where(rules.c.id == "escalation").values(data=data))


def downgrade() -> None:
    """Downgrade schema (the occurrences' statuses are lost; the events keep their notes)."""
    op.drop_index("ix_task_occurrences_task_id", table_name="task_occurrences")
    op.drop_table("task_occurrences")
    with op.batch_alter_table("task_events") as batch:
        batch.drop_column("period")
