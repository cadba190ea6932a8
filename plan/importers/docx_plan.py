"""Read the plan from a Word document: its tables with the plan's header, in order, and the document's
number and date from the lines above them.

The table is read from the XML on the table's grid rather than through python-docx's cells, which
repeat a merged cell once per grid column and once per merged row: here a horizontally merged
cell's text sits in its first column only, and a vertically merged one's in its top row, the rows
below seeing it as :attr:`Row.above` (a new task inherits it, a continuation row does not repeat it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plan.importers.header import document_header
from plan.importers.table import Row, find_title, no_plan_table, plan_tables, read_tables
from plan.limits import check_archive, check_row, out_of_memory
from plan.model import PlanFileError, RawPlan

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_TAGS = {f"{_W}t": None, f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
_BULLETS = ("-", "+", "•", "–", "*")


def paragraph_text(p: Any) -> str:
    """The visible text of a ``w:p`` element, including runs inside insertions and content controls."""
    parts = []
    for element in p.iter(*_TEXT_TAGS):
        replacement = _TEXT_TAGS[element.tag]
        parts.append((element.text or "") if replacement is None else replacement)
    return "".join(parts)


def _is_list_item(p: Any) -> bool:
    """A Word list paragraph: its bullet is numbering, not text."""
    if p.xpath("./w:pPr/w:numPr"):
        return True
    return any("list" in style.lower() for style in p.xpath("./w:pPr/w:pStyle/@w:val"))


def cell_text(tc: Any) -> str:
    """A cell's paragraphs joined with newlines; Word list items get a "- " so products split."""
    paragraphs = [(paragraph_text(p), _is_list_item(p)) for p in tc.xpath("./w:p | ./w:sdt/w:sdtContent/w:p")]
    paragraphs = [(text, listed) for text, listed in paragraphs if text.strip()]
    lines = []
    for text, listed in paragraphs:
        bulleted = listed and len(paragraphs) > 1 and not text.lstrip().startswith(_BULLETS)
        lines.append(f"- {text}" if bulleted else text)
    return "\n".join(lines)


def table_rows(tbl: Any, file: str = "tệp") -> list[Row]:
    """The rows of a ``w:tbl`` element on the table grid, numbered from 1 (bounded: plan.limits.check_row)."""
    rows = []
    merging: dict[int, str] = {}  # grid column -> text of the vertical merge running through it
    for number, tr in enumerate(tbl.xpath("./w:tr"), start=1):
        before = tr.grid_before
        cells, above = [""] * before, [""] * before
        spans = []  # grid span of each cell with text
        for tc in tr.xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc"):
            column = len(cells)
            if tc.vMerge == "continue":
                cells.append("")
                above.append(merging.get(column, ""))
            else:
                text = cell_text(tc)
                cells.append(text)
                above.append("")
                if text.strip():
                    spans.append(tc.grid_span)
                if tc.vMerge == "restart":
                    merging[column] = text
                else:
                    merging.pop(column, None)
            cells.extend([""] * (tc.grid_span - 1))
            above.extend([""] * (tc.grid_span - 1))
        wide = len(spans) == 1 and spans[0] > 1
        check_row(number, cells, file)
        rows.append(Row(number=number, cells=tuple(cells), above=tuple(above), wide=wide))
    return rows


def read_docx_plan(path: Path, name: str | None = None) -> RawPlan:
    """Read ``path``; ``name`` is the file as the user knows it (a .doc that LibreOffice converted)."""
    from docx import Document  # lazy: keeps the CLI's start-up fast

    file = name or str(path)
    check_archive(path, "tệp kế hoạch")  # before anything is decompressed
    try:
        document = Document(str(path))
    except Exception as error:  # python-docx, zipfile and lxml raise many kinds for a damaged file
        if out_of_memory(error):  # not the file's fault: the memory limit (the web's child names it)
            raise MemoryError from error
        raise PlanFileError(
            file,
            "Không đọc được tệp Word: tệp bị hỏng, có mật khẩu hoặc không phải định dạng .docx.",
        ) from error
    body = document.element.body
    elements = [tbl for tbl in body.iter(f"{_W}tbl")]
    tables = [table_rows(tbl, file) for tbl in elements]
    found = plan_tables(tables)
    if not found:
        raise no_plan_table(file)
    title = find_title([paragraph_text(p) for p in body.xpath("./w:p")])
    plan = read_tables(found, file, title=title)
    plan.number, plan.issued_on = document_header(
        _lines_above(body, elements[next(i for i, rows in enumerate(tables) if rows is found[0][0])])
    )
    return plan


def _lines_above(body: Any, first_table: Any) -> list[str]:
    """The text above the plan's first table: paragraphs, and the cells of the header block table."""
    lines: list[str] = []
    for element in body.iterchildren():
        if element is first_table:
            break
        if element.tag == f"{_W}p":
            lines.append(paragraph_text(element))
        elif element.tag == f"{_W}tbl":
            lines.extend(paragraph_text(p) for p in element.iter(f"{_W}p"))
    return lines
