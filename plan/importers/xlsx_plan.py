"""Read the plan from an Excel workbook: its sheets whose rows hold the plan's header, in order."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plan.importers.header import document_header
from plan.importers.table import Row, no_plan_table, plan_tables, read_tables
from plan.limits import MAX_CELLS, MAX_ROWS, check_archive, check_row, out_of_memory
from plan.model import PlanFileError, RawPlan

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def cell_text(value: Any) -> str:
    """A cell value as the user sees it: 1.0 -> "1", a date -> "dd/mm/yyyy", "_x000D_" -> "\\r"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def sheet_rows(sheet: Worksheet, file: str = "tệp") -> list[Row]:
    """The sheet's rows on its grid; a cell under the top row of a merged range inherits its text.

    Bounded (plan.limits): at most MAX_ROWS rows, the first MAX_CELLS columns, MAX_CELL_CHARS a cell."""
    if sheet.max_row > MAX_ROWS:
        check_row(sheet.max_row, (), f"{file} (trang {sheet.title})")
    values = []
    for number, row in enumerate(
        sheet.iter_rows(values_only=True, max_col=min(sheet.max_column, MAX_CELLS)), 1
    ):
        cells = [cell_text(value) for value in row]
        check_row(number, cells, file)
        values.append(cells)
    above: dict[tuple[int, int], str] = {}
    across: set[tuple[int, int]] = set()  # (row, column) of the top-left cell of a merge over columns
    for merged in sheet.merged_cells.ranges:
        text = cell_text(sheet.cell(merged.min_row, merged.min_col).value)
        for row in range(merged.min_row + 1, merged.max_row + 1):
            above[(row, merged.min_col)] = text
        if merged.max_col > merged.min_col:
            across.add((merged.min_row, merged.min_col))
    rows = []
    for number, cells in enumerate(values, start=1):  # iter_rows starts at A1
        inherited = tuple(above.get((number, column), "") for column in range(1, len(cells) + 1))
        filled = [column for column, text in enumerate(cells, start=1) if text.strip()]
        wide = len(filled) == 1 and (number, filled[0]) in across
        rows.append(Row(number=number, cells=tuple(cells), above=inherited, wide=wide))
    return rows


def read_xlsx_plan(path: Path, name: str | None = None) -> RawPlan:
    """Read ``path``; ``name`` is the file as the user knows it (a .xls that LibreOffice converted)."""
    from openpyxl import load_workbook  # lazy: keeps the CLI's start-up fast

    file = name or str(path)
    check_archive(path, "tệp kế hoạch")  # before anything is decompressed
    try:
        workbook = load_workbook(path, read_only=False, data_only=True)
    except Exception as error:  # openpyxl, zipfile and lxml raise many kinds for a damaged file
        if out_of_memory(error):  # not the file's fault: the memory limit (the web's child names it)
            raise MemoryError from error
        raise PlanFileError(
            file,
            "Không đọc được tệp Excel: tệp bị hỏng, có mật khẩu hoặc không phải định dạng .xlsx.",
        ) from error
    try:
        sheets = [sheet_rows(sheet, file) for sheet in workbook.worksheets]
    finally:
        workbook.close()
    found = plan_tables(sheets, continuations=False)  # a sheet without a header is something else
    if not found:
        raise no_plan_table(file)
    plan = read_tables(found, file)
    rows, header = found[0]
    plan.number, plan.issued_on = document_header(cell for row in rows[: header.index] for cell in row.cells)
    return plan
