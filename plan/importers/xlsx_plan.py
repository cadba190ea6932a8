"""Read the plan from an Excel workbook: the first sheet whose rows hold the plan's header."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plan.importers.table import Row, find_header, no_plan_table, read_table
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


def sheet_rows(sheet: Worksheet) -> list[Row]:
    """The sheet's rows on its grid; a cell under the top row of a merged range inherits its text."""
    values = [[cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    above: dict[tuple[int, int], str] = {}
    for merged in sheet.merged_cells.ranges:
        text = cell_text(sheet.cell(merged.min_row, merged.min_col).value)
        for row in range(merged.min_row + 1, merged.max_row + 1):
            above[(row, merged.min_col)] = text
    rows = []
    for number, cells in enumerate(values, start=1):  # iter_rows starts at A1
        inherited = tuple(above.get((number, column), "") for column in range(1, len(cells) + 1))
        rows.append(Row(number=number, cells=tuple(cells), above=inherited))
    return rows


def read_xlsx_plan(path: Path) -> RawPlan:
    from openpyxl import load_workbook  # lazy: keeps the CLI's start-up fast

    file = str(path)
    try:
        workbook = load_workbook(path, read_only=False, data_only=True)
    except Exception as error:  # openpyxl, zipfile and lxml raise many kinds for a damaged file
        raise PlanFileError(
            file,
            "Không đọc được tệp Excel: tệp bị hỏng, có mật khẩu hoặc không phải định dạng .xlsx.",
        ) from error
    try:
        for sheet in workbook.worksheets:
            rows = sheet_rows(sheet)
            header = find_header(rows)
            if header is not None:
                return read_table(rows, file, header=header)
    finally:
        workbook.close()
    raise no_plan_table(file)
