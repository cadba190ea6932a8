"""A plan's tasks out to Excel, in the plan's own layout (the web's "Xuất Excel" and ``nhacviec tasks export``).

One sheet: the plan's title, then a header row (STT, task, lead, coordinating, products, the deadline as the
plan wrote it, the due date in force, status, done on, note, extensions) and the tasks in plan order under
their sections' rows ("I. Cải cách thể chế"), as the Office's own spreadsheet has them. Dates are real
Excel dates shown dd/mm/yyyy; the status is the dashboard's (planner/progress.py) on the day asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

from sqlmodel import Session, col, select

from planner.model import TaskInput
from planner.occurrences import current_occurrences
from planner.progress import classify, due_in_force
from store.models import Plan, Section, Task, TaskEvent
from store.planner_input import load_task_inputs
from vocabulary import PROGRESS

HEADERS: tuple[str, ...] = (
    "STT",
    "Nội dung nhiệm vụ",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Sản phẩm",
    "Thời hạn (theo kế hoạch)",
    "Hạn hiện hành",
    "Trạng thái",
    "Ngày hoàn thành",
    "Ghi chú",
    "Gia hạn",
)
WIDTHS: tuple[int, ...] = (8, 60, 26, 26, 30, 22, 14, 20, 14, 30, 36)
DATE_COLUMNS = (7, 9)  # 1-based: effective due, done on
STYLED_COLUMNS = (2, *DATE_COLUMNS)  # the task's content wraps


@dataclass(frozen=True)
class ExportRow:
    code: str
    content: str
    lead: str
    coordinating: str
    products: str
    deadline_text: str
    due: date | None
    status: str
    done_on: date | None
    note: str
    extensions: str


def _due_in_force(task: TaskInput, as_of: date) -> date | None:
    return due_in_force(task, as_of)


def _status(task: TaskInput, as_of: date) -> str:
    return PROGRESS[classify(task, as_of)]


def export_rows(
    session: Session, plan: Plan, as_of: date, names: dict[str, str], only: Sequence[str] | None = None
) -> list[tuple[str, list[ExportRow]]]:
    """The plan's tasks (``only`` these codes, if given) grouped under their sections, in plan order."""
    inputs = current_occurrences(load_task_inputs(session, [plan]), as_of)  # recurring work: one row a task
    if only is not None:
        wanted = set(only)
        inputs = [t for t in inputs if t.code in wanted]
    tasks = {t.code: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}
    ids = {task.id: code for code, task in tasks.items()}
    notes: dict[str, list[str]] = {}
    extensions: dict[str, list[str]] = {}
    events = session.exec(
        select(TaskEvent).where(col(TaskEvent.task_id).in_(list(ids))).order_by(col(TaskEvent.id))
    )
    for event in events:
        code = ids[event.task_id]
        if event.kind == "done" and event.note:
            notes.setdefault(code, []).append(event.note)
        elif event.kind in ("extended", "due_set") and event.new_due is not None:
            on = f"{event.effective_on:%d/%m/%Y}: " if event.effective_on else ""
            what = "gia hạn đến" if event.kind == "extended" else "đặt hạn"
            reason = f" ({event.note})" if event.note else ""
            extensions.setdefault(code, []).append(f"{on}{what} {event.new_due:%d/%m/%Y}{reason}")
    titles = {s.code: s.title for s in session.exec(select(Section).where(Section.plan_id == plan.id))}

    def units(codes: Sequence[str]) -> str:
        return "; ".join(names.get(code, code) for code in codes)

    grouped: list[tuple[str, list[ExportRow]]] = []
    for task in inputs:
        heading = f"{task.section}. {titles.get(task.section, '')}".rstrip(". ") if task.section else ""
        if not grouped or grouped[-1][0] != heading:
            grouped.append((heading, []))
        stored = tasks.get(task.code)
        note = "; ".join(filter(None, [stored.note if stored else "", *notes.get(task.code, [])]))
        grouped[-1][1].append(
            ExportRow(
                code=task.code,
                content=task.content,
                lead=units(task.lead),
                coordinating=units(task.coordinating),
                products="; ".join(task.products),
                deadline_text=task.deadline_text,
                due=_due_in_force(task, as_of),
                status=_status(task, as_of),
                done_on=task.done_on(as_of),
                note=note,
                extensions="\n".join(extensions.get(task.code, [])),
            )
        )
    return grouped


def workbook_bytes(plan: Plan, grouped: list[tuple[str, list[ExportRow]]], as_of: date) -> bytes:
    """The .xlsx file: a title line, the header, section rows and one row per task (written as a stream: a
    plan of 10,000 tasks takes seconds, not minutes)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Kế hoạch")
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[chr(ord("A") + index - 1)].width = width
    header_row = 4
    sheet.freeze_panes = f"A{header_row + 1}"
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def cell(
        value: object, *, font: Font | None = None, day: bool = False, fill: PatternFill | None = None
    ) -> WriteOnlyCell:
        made = WriteOnlyCell(sheet, value=value)
        made.alignment = wrap
        if font is not None:
            made.font = font
        if fill is not None:
            made.fill = fill
        if day:
            made.number_format = "DD/MM/YYYY"
        return made

    sheet.append([cell(plan.title, font=Font(bold=True, size=13))])
    sheet.append([f"Tình hình đến ngày {as_of:%d/%m/%Y} (mã kế hoạch {plan.code})"])
    sheet.append([])
    shade = PatternFill("solid", fgColor="DDE7F0")
    sheet.append([cell(title, font=bold, fill=shade) for title in HEADERS])
    for heading, rows in grouped:
        if heading:
            sheet.append([cell(heading, font=bold)])
        for row in rows:
            values = (
                row.code,
                row.content,
                row.lead,
                row.coordinating,
                row.products,
                row.deadline_text,
                row.due,
                row.status,
                row.done_on,
                row.note,
                row.extensions,
            )
            sheet.append(  # plain values but the content (wrapped) and the dates: a styled cell costs ~10 times more
                [
                    cell(v, day=i in DATE_COLUMNS) if i in STYLED_COLUMNS else v
                    for i, v in enumerate(values, start=1)
                ]
            )
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_plan(
    session: Session,
    plan: Plan,
    as_of: date,
    names: dict[str, str],
    target: Path | None = None,
    only: Sequence[str] | None = None,
) -> tuple[bytes, int]:
    """The workbook's bytes (also written to ``target`` if given) and how many tasks it holds."""
    grouped = export_rows(session, plan, as_of, names, only)
    data = workbook_bytes(plan, grouped, as_of)
    if target is not None:
        target.write_bytes(data)
    return data, sum(len(rows) for _, rows in grouped)
