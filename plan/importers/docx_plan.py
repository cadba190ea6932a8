"""Read the plan from a Word document: its appendix table (the largest table with the plan's header).

The table is read from the XML on the table's grid rather than through python-docx's cells, which
repeat a merged cell once per grid column and once per merged row: here a horizontally merged
cell's text sits in its first column only, and a vertically merged one's in its top row, the rows
below seeing it as :attr:`Row.above` (a new task inherits it, a continuation row does not repeat it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plan.importers.table import Row, find_header, find_title, no_plan_table, read_table
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


def table_rows(tbl: Any) -> list[Row]:
    """The rows of a ``w:tbl`` element on the table grid, numbered from 1."""
    rows = []
    merging: dict[int, str] = {}  # grid column -> text of the vertical merge running through it
    for number, tr in enumerate(tbl.xpath("./w:tr"), start=1):
        before = tr.grid_before
        cells, above = [""] * before, [""] * before
        for tc in tr.xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc"):
            column = len(cells)
            if tc.vMerge == "continue":
                cells.append("")
                above.append(merging.get(column, ""))
            else:
                text = cell_text(tc)
                cells.append(text)
                above.append("")
                if tc.vMerge == "restart":
                    merging[column] = text
                else:
                    merging.pop(column, None)
            cells.extend([""] * (tc.grid_span - 1))
            above.extend([""] * (tc.grid_span - 1))
        rows.append(Row(number=number, cells=tuple(cells), above=tuple(above)))
    return rows


def read_docx_plan(path: Path) -> RawPlan:
    from docx import Document  # lazy: keeps the CLI's start-up fast

    file = str(path)
    try:
        document = Document(str(path))
    except Exception as error:  # python-docx, zipfile and lxml raise many kinds for a damaged file
        raise PlanFileError(
            file,
            "Không đọc được tệp Word: tệp bị hỏng, có mật khẩu hoặc không phải định dạng .docx "
            "(tệp .doc cũ cần lưu lại dưới dạng .docx).",
        ) from error
    body = document.element.body
    tables = [table_rows(tbl) for tbl in body.iter(f"{_W}tbl")]
    matches = [(rows, header) for rows in tables if (header := find_header(rows)) is not None]
    if not matches:
        raise no_plan_table(file)
    rows, header = max(matches, key=lambda match: len(match[0]))
    title = find_title([paragraph_text(p) for p in body.xpath("./w:p")])
    return read_table(rows, file, header=header, title=title)
