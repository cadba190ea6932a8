"""A plan's life: listed with its counts, archived, restored, removed (its history exported first), closed.

Only active plans are planned (store.planner_input.plans_for): an archived plan keeps its tasks and history
and sends nothing. The sample plan ``init`` loads is marked ``is_sample``; importing a real plan archives
it (:func:`archive_samples`). Removing a plan writes everything it held to a JSON file first, whatever
tables reference its tasks or the plan itself (the metadata is read, so a table added later is kept too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from plan.errors import UserError
from store.models import Plan, PlanStatus, Task, TaskStatus


@dataclass(frozen=True)
class PlanCounts:
    total: int  # tasks in the plan (removed ones not counted)
    open: int
    done: int
    overdue: int  # open with an effective due date before the day
    removed: int

    def to_json(self) -> dict[str, int]:
        return {
            "total": self.total,
            "open": self.open,
            "done": self.done,
            "overdue": self.overdue,
            "removed": self.removed,
        }


@dataclass(frozen=True)
class PlanView:
    plan: Plan
    counts: PlanCounts

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "code": plan.code,
            "title": plan.title,
            "number": plan.number,
            "issued_on": plan.issued_on.isoformat() if plan.issued_on else None,
            "year": plan.year,
            "status": plan.status,
            "sample": plan.is_sample,
            "closing_on": plan.closes_on.isoformat(),
            "source_file": plan.source_file,
            "tasks": self.counts.to_json(),
        }


def find_plan(session: Session, code: str) -> Plan:
    """The plan ``code`` (any case); one Vietnamese sentence naming the known plans when there is none."""
    wanted = code.strip()
    plan = session.exec(select(Plan).where(Plan.code == wanted)).first()
    if plan is None:
        plan = session.exec(select(Plan).where(sa.func.upper(Plan.code) == wanted.upper())).first()
    if plan is None:
        known = ", ".join(session.exec(select(Plan.code).order_by(col(Plan.id))).all()) or "chưa có"
        raise UserError(f"Không có kế hoạch mã '{code}' (các kế hoạch hiện có: {known}).")
    return plan


def list_plans(session: Session, day: date, effective_due: Any = None) -> list[PlanView]:
    """Every plan, newest year first, with its task counts on ``day``.

    ``effective_due`` maps a task's due date in force to the day it really falls due (a day off moves it
    to the next working day); None: as written.
    """
    plans = list(session.exec(select(Plan).order_by(col(Plan.year).desc(), col(Plan.id).desc())))
    rows = session.exec(
        select(col(Task.plan_id), col(Task.status), col(Task.due), col(Task.due_override))
    ).all()
    tallies: dict[int, dict[str, int]] = {}
    for plan_id, status, due, override in rows:
        tally = tallies.setdefault(plan_id, {"total": 0, "open": 0, "done": 0, "overdue": 0, "removed": 0})
        if status == TaskStatus.REMOVED:
            tally["removed"] += 1
            continue
        tally["total"] += 1
        tally["done" if status == TaskStatus.DONE else "open"] += 1
        in_force = override or due
        effective = effective_due(in_force) if effective_due and in_force else in_force
        if status == TaskStatus.OPEN and effective is not None and effective < day:
            tally["overdue"] += 1
    views = []
    for plan in plans:
        tally = tallies.get(plan.id or -1, {"total": 0, "open": 0, "done": 0, "overdue": 0, "removed": 0})
        views.append(PlanView(plan, PlanCounts(**tally)))
    return views


def archive_plan(session: Session, code: str) -> Plan:
    plan = find_plan(session, code)
    if plan.status == PlanStatus.ARCHIVED:
        raise UserError(f"Kế hoạch {plan.code} đã được lưu trữ từ trước.")
    plan.status = PlanStatus.ARCHIVED
    plan.archived_at = datetime.now(UTC)
    session.add(plan)
    session.flush()
    return plan


def restore_plan(session: Session, code: str) -> Plan:
    plan = find_plan(session, code)
    if plan.status == PlanStatus.ACTIVE:
        raise UserError(f"Kế hoạch {plan.code} đang được dùng, không cần khôi phục.")
    plan.status = PlanStatus.ACTIVE
    plan.archived_at = None
    session.add(plan)
    session.flush()
    return plan


def archive_samples(session: Session, keep: str) -> list[str]:
    """Archive every active sample plan except ``keep``: a real plan has come. Their codes."""
    archived = []
    for plan in session.exec(
        select(Plan).where(Plan.is_sample == sa.true(), Plan.status == PlanStatus.ACTIVE, Plan.code != keep)
    ):
        plan.status = PlanStatus.ARCHIVED
        plan.archived_at = datetime.now(UTC)
        session.add(plan)
        archived.append(plan.code)
    session.flush()
    return archived


def set_closing(session: Session, code: str, closing: date | None) -> Plan:
    """Set the plan's closing date (None: back to the default, 31 March of the following year)."""
    plan = find_plan(session, code)
    if closing is not None and closing < date(plan.year, 1, 1):
        raise UserError(
            f"Ngày kết thúc {closing:%d/%m/%Y} phải từ năm của kế hoạch {plan.code} ({plan.year}) trở đi."
        )
    plan.closing_on = closing
    session.add(plan)
    session.flush()
    return plan


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _children(table: sa.Table) -> list[tuple[sa.Table, sa.Column[Any], str]]:
    """Every (table, column, referenced column name) with a foreign key to ``table``."""
    found = []
    for other in SQLModel.metadata.sorted_tables:
        for column in other.columns:
            for fk in column.foreign_keys:
                if fk.column.table.name == table.name:
                    found.append((other, column, fk.column.name))
    return found


def _collect(
    connection: sa.Connection,
    table: sa.Table,
    where: Any,
    export: dict[str, list[dict[str, Any]]],
    seen: dict[str, set[tuple[Any, ...]]],
    deletions: list[tuple[sa.Table, Any]],
) -> None:
    """The rows of ``table`` matching ``where`` and, first, every row that references them (recursively)."""
    rows = [dict(row._mapping) for row in connection.execute(sa.select(table).where(where))]
    if not rows:
        return
    for child, column, target in _children(table):
        values = sorted({row[target] for row in rows if row[target] is not None})
        if values:
            _collect(connection, child, column.in_(values), export, seen, deletions)
    keys = [c.name for c in table.primary_key.columns]
    kept = seen.setdefault(table.name, set())
    for row in rows:
        identity = tuple(row[k] for k in keys)
        if identity not in kept:
            kept.add(identity)
            export.setdefault(table.name, []).append({k: _json_value(v) for k, v in row.items()})
    deletions.append((table, where))


def remove_plan(
    session: Session, code: str, export_dir: Path, *, now: datetime | None = None
) -> tuple[str, Path]:
    """Delete the plan and everything that belongs to it, after writing it all to a JSON file in
    ``export_dir``. Returns the plan's code and the file's path. Sent messages stay in the outbox."""
    plan = find_plan(session, code)
    moment = now or datetime.now(UTC)
    session.flush()
    connection = session.connection()
    plan_table: sa.Table = Plan.__table__  # type: ignore[attr-defined]
    tables: dict[str, list[dict[str, Any]]] = {}
    deletions: list[tuple[sa.Table, Any]] = []
    _collect(connection, plan_table, plan_table.c.id == plan.id, tables, {}, deletions)
    export = {"exported_at": moment.isoformat(), "plan": tables.pop(plan_table.name)[0], "tables": tables}
    export_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in plan.code)
    path = export_dir / f"ke-hoach-{safe}-{moment:%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(export, ensure_ascii=False, indent=2), encoding="utf-8")
    plan_code = plan.code
    session.expunge(plan)
    for table, where in deletions:  # children before their parents
        connection.execute(sa.delete(table).where(where))
    return plan_code, path
