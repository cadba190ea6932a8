"""Build plan files (DOCX, XLSX, CSV) in a test from a :class:`RawPlan`, laid out as an office issues them.

Nothing binary is kept in git: each test writes the file it reads into ``tmp_path``.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plan.model import RawPlan, RawSection, RawTask

COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "TT"),
    ("content", "Nội dung nhiệm vụ"),
    ("products", "Sản phẩm"),
    ("lead", "Phòng chủ trì"),
    ("coordinating", "Phòng phối hợp"),
    ("deadline", "Thời gian hoàn thành"),
)
AGENCY = "UBND TỈNH QUẢNG NAM\nSỞ GIÁO DỤC VÀ ĐÀO TẠO"
MOTTO = "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
TITLE = "Kế hoạch cải cách hành chính năm 2020"

Columns = Sequence[tuple[str, str]]
Merge = tuple[tuple[int, int], tuple[int, int]]


def task_cell(task: RawTask, field: str) -> str:
    """The text of one cell of a task row: products as "- " bullet lines, units one per line."""
    if field == "number":
        return task.code.rsplit(".", 1)[-1]
    if field == "products":
        return "\n".join(f"- {item}" for item in task.products)
    if field in ("lead", "coordinating"):
        return "\n".join(getattr(task, field))
    if field == "note":
        return task.note
    return str(getattr(task, field))


def table_rows(plan: RawPlan, columns: Columns = COLUMNS) -> list[list[str] | tuple[str, str]]:
    """The appendix body: a ``(numeral, title)`` pair per section, then a list of cells per task."""
    rows: list[list[str] | tuple[str, str]] = []
    for section in plan.sections:
        rows.append((section.code, section.title))
        for task in plan.tasks:
            if task.section == section.code:
                rows.append([task_cell(task, field) for field, _ in columns])
    return rows


def title_under_heading(title: str) -> str:
    """The line under the "KẾ HOẠCH" heading: "Kế hoạch thực hiện X" -> "Thực hiện X"."""
    rest = title.removeprefix("Kế hoạch").strip()
    return rest[:1].upper() + rest[1:]


def to_nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def write_docx(
    plan: RawPlan,
    path: Path,
    columns: Columns = COLUMNS,
    *,
    nfd: bool = False,
    number: str | None = None,
    dated: str | None = None,
) -> Path:
    """A department's plan: header block table, "KẾ HOẠCH" title, body text, the appendix table.

    A section row has the numeral in the TT cell and the title merged across the other columns;
    multi-line cells are written as one paragraph per line. ``number`` ("Số: ...") goes under the
    agency, ``dated`` ("Hòa Bình, ngày ...") under the motto, as offices print them.
    """
    from docx import Document

    norm = to_nfd if nfd else (lambda text: text)
    document = Document()
    block = document.add_table(rows=1, cols=2)
    _fill(block.cell(0, 0), AGENCY + (f"\nSố: {number}" if number else ""))
    _fill(block.cell(0, 1), MOTTO + (f"\n{dated}" if dated else ""))
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph(norm(title_under_heading(plan.title or TITLE)))
    document.add_paragraph("Thực hiện Kế hoạch của UBND tỉnh, Sở xây dựng kế hoạch như sau:")
    document.add_paragraph("PHỤ LỤC: NHIỆM VỤ CẢI CÁCH HÀNH CHÍNH")
    number_column = [field for field, _ in columns].index("number")
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for column, (_, header) in enumerate(columns):
        _fill(table.cell(0, column), header)
    for row in table_rows(plan, columns):
        cells = table.add_row().cells
        if isinstance(row, tuple):
            numeral, title = row
            _fill(cells[number_column], numeral)
            merged = cells[number_column + 1].merge(cells[len(columns) - 1])
            _fill(merged, norm(title))
        else:
            for cell, text in zip(cells, row, strict=True):
                _fill(cell, norm(text))
    document.save(str(path))
    return path


def _fill(cell: Any, text: str) -> None:
    """Write ``text`` into a Word cell, one paragraph per line."""
    lines = text.split("\n")
    cell.text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)


def write_xlsx(plan: RawPlan, path: Path, columns: Columns = COLUMNS, *, nfd: bool = False) -> Path:
    """A plan sheet: agency and title cells above the header, section rows merged after the numeral."""
    from openpyxl import Workbook

    norm = to_nfd if nfd else (lambda text: text)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Kế hoạch"
    width = len(columns)
    sheet.cell(1, 1, AGENCY)
    sheet.cell(2, 1, norm(plan.title or TITLE))
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    header_row = 4
    for column, (_, header) in enumerate(columns, start=1):
        sheet.cell(header_row, column, header)
    number_column = [field for field, _ in columns].index("number") + 1
    for offset, row in enumerate(table_rows(plan, columns), start=1):
        line = header_row + offset
        if isinstance(row, tuple):
            sheet.cell(line, number_column, row[0])
            sheet.cell(line, number_column + 1, norm(row[1]))
            sheet.merge_cells(start_row=line, start_column=number_column + 1, end_row=line, end_column=width)
        else:
            for column, text in enumerate(row, start=1):
                value: str | int = int(text) if column == number_column and text.isdigit() else norm(text)
                sheet.cell(line, column, value)
    workbook.save(path)
    return path


def write_csv(
    plan: RawPlan,
    path: Path,
    columns: Columns = COLUMNS,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8-sig",
) -> Path:
    """The appendix as Excel exports it to CSV: one record per row, section title after the numeral."""
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream, delimiter=delimiter)
        writer.writerow([header for _, header in columns])
        for row in table_rows(plan, columns):
            if isinstance(row, tuple):
                cells = [""] * len(columns)
                number_column = [field for field, _ in columns].index("number")
                cells[number_column : number_column + 2] = row
                writer.writerow(cells)
            else:
                writer.writerow(row)
    return path


def write_docx_table(path: Path, rows: Sequence[Sequence[str]], merges: Sequence[Merge] = ()) -> Path:
    """A Word document holding one table of ``rows``; ``merges`` are ((row, column), (row, column)) corners.

    Merging keeps the text of the top-left cell only (the others are emptied first), as Word does
    when a clerk merges cells that were typed empty.
    """
    from docx import Document

    document = Document()
    table = document.add_table(rows=len(rows), cols=max(len(row) for row in rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            _fill(table.cell(r, c), text)
    for (top, left), (bottom, right) in merges:
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                if (r, c) != (top, left):
                    _fill(table.cell(r, c), "")
        table.cell(top, left).merge(table.cell(bottom, right))
    document.save(str(path))
    return path


def write_xlsx_sheet(
    path: Path, rows: Sequence[Sequence[object]], merges: Sequence[Merge] = (), *, first_row: int = 1
) -> Path:
    """A workbook whose first sheet holds ``rows`` from row ``first_row``; merges: 0-based table corners."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value != "":
                sheet.cell(first_row + r, c + 1, value)
    for (top, left), (bottom, right) in merges:
        sheet.merge_cells(
            start_row=first_row + top, start_column=left + 1, end_row=first_row + bottom, end_column=right + 1
        )
    workbook.save(path)
    return path


# A real plan of 2026 (two tasks), as the Office would import it after the sample.
PLAN_2026 = RawPlan(
    file="ke-hoach-2026.docx",
    title="Kế hoạch công tác năm 2026",
    year=2026,
    sections=[RawSection("I", "Công tác tổ chức")],
    tasks=[
        RawTask(
            code="I.1",
            section="I",
            content="Rà soát quy chế làm việc của cơ quan.",
            products=("Quy chế sửa đổi",),
            lead=("Văn phòng Sở",),
            coordinating=(),
            deadline="Trước 15/6/2026",
        ),
        RawTask(
            code="I.2",
            section="I",
            content="Xây dựng đề án vị trí việc làm.",
            products=("Đề án",),
            lead=("Phòng Tổ chức cán bộ",),
            coordinating=("Văn phòng Sở",),
            deadline="Trước 30/9/2026",
        ),
    ],
)


def plan_2026(tmp_path: Path) -> Path:
    return write_docx(
        PLAN_2026,
        tmp_path / "ke-hoach-2026.docx",
        number="15/KH-SGDĐT",
        dated="Hòa Bình, ngày 10 tháng 01 năm 2026",
    )


def imported(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    result = cli("plan", "import", str(plan_2026(tmp_path)), "--plan", "KH-2026")
    assert result.exit_code == 0, result.stderr
    assert "Đã lưu trữ kế hoạch mẫu CCHC-2020" in result.stdout
