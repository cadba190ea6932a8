"""The execution report as an .xlsx (openpyxl): a sheet per table, headers frozen, filters on.

Sheets: "Tổng hợp" (the counts of the period and of the previous one), "Nhiệm vụ" (the appendix, in the plan's
order with its sections), "Đơn vị" (the per-unit table for the index self-assessment, figures as numbers),
"Khó khăn, kiến nghị" (the drafted points).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from report.figures import Counts, Report, period_label
from report.text import (
    APPENDIX_HEADERS,
    Letterhead,
    appendix_rows,
    day,
    periods_detail,
    title_lines,
)
from vocabulary import REPORT_STATUS

FONT = "Times New Roman"
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
_SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")
_WRAP = Alignment(wrap_text=True, vertical="top")

COUNT_LABELS: tuple[tuple[str, str], ...] = (
    ("total", "Tổng số nhiệm vụ của Kế hoạch"),
    ("due_in_period", "Nhiệm vụ đến hạn trong kỳ"),
    ("due_done_on_time", "- trong đó hoàn thành đúng hạn"),
    ("due_done_late", "- trong đó hoàn thành quá hạn"),
    ("due_overdue", "- trong đó quá hạn chưa hoàn thành"),
    ("done", "Đã hoàn thành (toàn Kế hoạch)"),
    ("done_on_time", REPORT_STATUS["done_on_time"]),
    ("done_late", REPORT_STATUS["done_late"]),
    ("overdue", REPORT_STATUS["overdue"]),
    ("in_progress", REPORT_STATUS["in_progress"]),
    ("not_yet_due", REPORT_STATUS["not_yet_due"]),
    ("no_date", REPORT_STATUS["no_date"]),
    ("extended", "Nhiệm vụ được gia hạn"),
    ("extension_requests_pending", "Đề nghị gia hạn đang chờ duyệt"),
)
# Shown when the plan has recurring work (report.figures counts each such task once, by its periods).
RECURRING_LABELS: tuple[tuple[str, str], ...] = (
    ("recurring", "Nhiệm vụ thực hiện định kỳ"),
    ("periods", "Số kỳ của nhiệm vụ định kỳ thuộc kỳ báo cáo"),
    ("periods_done_on_time", "- trong đó kỳ hoàn thành đúng hạn"),
    ("periods_done_late", "- trong đó kỳ hoàn thành quá hạn"),
    ("periods_overdue", "- trong đó kỳ quá hạn chưa hoàn thành"),
    ("periods_not_yet_due", "- trong đó kỳ chưa đến hạn"),
)


def _table(sheet: Worksheet, headers: Sequence[str], widths: Sequence[float], first_row: int = 1) -> None:
    for column, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = sheet.cell(row=first_row, column=column, value=header)
        cell.font = Font(name=FONT, bold=True, size=12)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        cell.border = _BORDER
        sheet.column_dimensions[get_column_letter(column)].width = width


def _finish(sheet: Worksheet, columns: int, first_row: int = 1) -> None:
    """Freeze the header, filter on every column, borders and the font on every cell."""
    last_row = max(sheet.max_row, first_row)
    sheet.freeze_panes = sheet.cell(row=first_row + 1, column=1)
    sheet.auto_filter.ref = f"A{first_row}:{get_column_letter(columns)}{last_row}"
    for row in sheet.iter_rows(min_row=first_row + 1, max_row=last_row, max_col=columns):
        for cell in row:
            cell.border = _BORDER
            if cell.font is None or cell.font.name != FONT:
                cell.font = Font(name=FONT, size=12, bold=cell.font.bold if cell.font else False)
            cell.alignment = _WRAP
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.print_title_rows = f"{first_row}:{first_row}"


def _summary(sheet: Worksheet, report: Report) -> None:
    previous = report.previous_counts
    headers = ["Chỉ tiêu", f"Kỳ này (đến {day(report.as_of)})"]
    if previous is not None and report.previous is not None:
        headers += [f"Kỳ trước: {period_label(report.previous)}", "Chênh lệch"]
    _table(sheet, headers, [46, 22, 30, 14][: len(headers)])
    counts: Counts = report.counts
    labels = COUNT_LABELS + (RECURRING_LABELS if counts.recurring else ())
    for row, (key, text) in enumerate(labels, start=2):
        sheet.cell(row=row, column=1, value=text)
        sheet.cell(row=row, column=2, value=getattr(counts, key))
        if previous is not None and len(headers) == 4:
            sheet.cell(row=row, column=3, value=getattr(previous, key))
            sheet.cell(row=row, column=4, value=getattr(counts, key) - getattr(previous, key))
    _finish(sheet, len(headers))


def _tasks(sheet: Worksheet, report: Report) -> None:
    headers = ["Mã", *APPENDIX_HEADERS, "Đến hạn trong kỳ", "Từng kỳ (nhiệm vụ định kỳ)"]
    _table(sheet, headers, [9, 6, 60, 24, 34, 20, 14, 24, 26, 40, 12, 50])
    row = 2
    lines = iter(report.tasks)
    for kind, cells in appendix_rows(report):
        if kind == "periods":
            continue  # in the task's row, last column
        if kind == "section":
            sheet.cell(row=row, column=1, value=cells[0])
            sheet.cell(row=row, column=2, value=cells[0])
            sheet.cell(row=row, column=3, value=cells[1])
            for column in range(1, len(headers) + 1):
                cell = sheet.cell(row=row, column=column)
                cell.fill = _SECTION_FILL
                cell.font = Font(name=FONT, size=12, bold=True)
        else:
            line = next(lines)
            sheet.cell(row=row, column=1, value=line.code)
            for column, value in enumerate(cells, start=2):
                sheet.cell(row=row, column=column, value=value)
            # Dates as dates, so they sort and filter as dates.
            if line.effective_due:
                sheet.cell(row=row, column=7, value=line.effective_due).number_format = "DD/MM/YYYY"
            sheet.cell(row=row, column=len(headers) - 1, value="Có" if line.due_in_period else "Không")
            # recurring work's periods in a column of their own (the status column filters by status)
            sheet.cell(row=row, column=len(headers), value=periods_detail(line) or None)
        row += 1
    _finish(sheet, len(headers))


def _units(sheet: Worksheet, report: Report) -> None:
    headers = [
        "STT",
        "Đơn vị",
        "Nhiệm vụ chủ trì",
        "Đến hạn trong kỳ",
        "Hoàn thành đúng hạn",
        "Tỷ lệ đúng hạn (%)",
        "Hoàn thành quá hạn",
        "Quá hạn đến cuối kỳ",
        "Quá hạn đến ngày báo cáo",
        "Báo cáo phải gửi",
        "Báo cáo gửi đúng hạn",
        "Báo cáo gửi muộn",
        "Báo cáo chưa gửi",
    ]
    _table(sheet, headers, [6, 36, 12, 12, 12, 12, 12, 12, 14, 12, 12, 12, 12])
    for row, unit in enumerate(report.units, start=2):
        values = (
            row - 1,
            unit.name,
            unit.led,
            unit.due_in_period,
            unit.done_on_time,
            unit.on_time_percent,
            unit.done_late,
            unit.overdue_at_period_end,
            unit.overdue_now,
            unit.reports_due,
            unit.reports_on_time,
            unit.reports_late,
            unit.reports_missing,
        )
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value)
    _finish(sheet, len(headers))


def _difficulties(sheet: Worksheet, report: Report) -> None:
    headers = ["Loại", "Nhiệm vụ", "Đơn vị chủ trì", "Nội dung"]
    _table(sheet, headers, [16, 10, 30, 100])
    kinds = {"request": "Đề nghị gia hạn", "extension": "Gia hạn", "overdue": "Quá hạn"}
    row = 2
    for difficulty in report.difficulties:
        for column, value in enumerate(
            (kinds[difficulty.source], difficulty.task, ", ".join(difficulty.units), difficulty.text), start=1
        ):
            sheet.cell(row=row, column=column, value=value)
        row += 1
    for text in report.recommendations:
        for column, value in enumerate(("Kiến nghị", "", "", text), start=1):
            sheet.cell(row=row, column=column, value=value)
        row += 1
    _finish(sheet, len(headers))


def build_workbook(report: Report, letterhead: Letterhead) -> Workbook:
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Tổng hợp"
    _summary(summary, report)
    _tasks(workbook.create_sheet("Nhiệm vụ"), report)
    _units(workbook.create_sheet("Đơn vị"), report)
    _difficulties(workbook.create_sheet("Khó khăn, kiến nghị"), report)
    head, subject = title_lines(report)
    workbook.properties.title = f"{head} {subject}"
    workbook.properties.creator = letterhead.issuer
    return workbook


def write_xlsx(report: Report, letterhead: Letterhead, out: Path | IO[bytes]) -> None:
    build_workbook(report, letterhead).save(out)
