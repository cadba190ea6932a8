"""Read the plan from a PDF with a text layer: its tables (pdfplumber), over as many pages as they run.

Each page's tables are read on their grid: pdfplumber gives ``None`` for the positions a merged cell
covers, so a row whose first cell holds the only text and whose other cells are covered is a wide row
(a section title, a unit heading), and a covered cell under text takes that text as :attr:`Row.above`
(a unit column merged over its tasks). Tables are numbered as one long table (rows from 1). A PDF
whose pages have no text at all is a scan, named as such (reading scans is a later step).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from plan.importers.header import document_header
from plan.importers.table import Row, find_title, no_plan_table, plan_tables, read_tables
from plan.limits import out_of_memory
from plan.model import PlanFileError, RawPlan

PageProgress = Callable[[int, int], None]  # (pages read, pages in the file)
_WRAPPED_NUMBER = re.compile(r"(?<=[\d/.-])\n(?=\d)")  # "31/12/202" + "0" wrapped in a narrow column


def pdf_rows(table: Sequence[Sequence[str | None]], first_number: int) -> list[Row]:
    """The rows of one pdfplumber table; ``first_number`` numbers its first row."""
    rows: list[Row] = []
    running: dict[int, str] = {}  # column -> text of the cell a vertical merge runs from
    for offset, raw in enumerate(table):
        cells = tuple("" if cell is None else _WRAPPED_NUMBER.sub("", cell) for cell in raw)
        texts = [column for column, cell in enumerate(cells) if cell.strip()]
        wide = len(raw) > 1 and texts == [0] and all(cell is None for cell in raw[1:])
        above = []
        for column, cell in enumerate(raw):
            if cell is None and not wide:
                above.append(running.get(column, ""))
            else:
                above.append("")
                running[column] = cell or ""
        rows.append(
            Row(number=first_number + offset, cells=cells, above=tuple(above), wide=wide, soft_breaks=True)
        )
    return rows


def read_pdf_plan(path: Path, progress: PageProgress | None = None) -> RawPlan:
    import pdfplumber  # lazy: keeps the CLI's start-up fast

    file = str(path)
    tables: list[list[Row]] = []
    first_page_lines: list[str] = []
    text_pages = 0
    try:
        with pdfplumber.open(str(path)) as pdf:
            pages = len(pdf.pages)
            number = 1
            for index, page in enumerate(pdf.pages, start=1):
                text = page.extract_text() or ""
                if text.strip():
                    text_pages += 1
                if index == 1:
                    first_page_lines = text.splitlines()
                for table in page.extract_tables():
                    rows = pdf_rows(table, number)
                    number += len(rows)
                    tables.append(rows)
                page.flush_cache()  # a long document is read one page at a time
                if progress is not None:
                    progress(index, pages)
    except PlanFileError:
        raise
    except Exception as error:  # pdfminer raises many kinds for a damaged or encrypted file
        if out_of_memory(error):  # not the file's fault: the memory limit (the web's child names it)
            raise MemoryError from error
        raise PlanFileError(
            file, "Không đọc được tệp PDF: tệp bị hỏng, có mật khẩu hoặc không phải định dạng PDF."
        ) from error
    if pages and not text_pages:
        raise PlanFileError(
            file,
            "Tệp PDF này là bản quét (ảnh chụp các trang), không có lớp chữ nên chưa đọc được; hãy dùng tệp "
            "Word hoặc tệp PDF xuất từ Word (việc đọc bản quét sẽ có ở bước sau).",
        )
    found = plan_tables(tables)
    if not found:
        raise no_plan_table(file)
    plan = read_tables(found, file, title=find_title(first_page_lines))
    plan.number, plan.issued_on = document_header(first_page_lines)
    plan.pages = pages
    return plan
