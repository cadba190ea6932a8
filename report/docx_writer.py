"""The execution report as a plain .docx the Office edits (python-docx: no macros, no template file).

Layout of an administrative document (Decree 30/2020/NĐ-CP, Appendix I): A4, margins top and bottom 20 mm,
left 30 mm, right 15 mm; Times New Roman, body 14 pt, tables and the letterhead's names 13 pt; the letterhead
table (governing body and issuer on the left, the national motto on the right, then the number left blank
and the place and date), the title, the body, "Nơi nhận" and the signature; page numbers at the top from the
second page; the appendix table on landscape pages, its header row repeated on each page.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from report.figures import Report, period_label
from report.text import (
    APPENDIX_HEADERS,
    NO_DIFFICULTY,
    NO_RECOMMENDATION,
    UNIT_HEADERS,
    Letterhead,
    appendix_rows,
    closing_sentence,
    comparison,
    general,
    official_date,
    opening,
    title_lines,
    unit_row,
)

FONT = "Times New Roman"
BODY_PT = 14
SMALL_PT = 13
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
_A4 = (Mm(210), Mm(297))
# Column widths (mm) of the tables: portrait text width 165 mm, landscape 252 mm.
_LETTERHEAD_MM = (72, 103)  # 10 mm wider than the text, reaching 10 mm into the left margin
_UNIT_MM = (12, 41, 18, 18, 20, 18, 19, 19)
_APPENDIX_MM = (12, 56, 26, 32, 24, 25, 24, 26, 27)


def _set_font(
    run_or_style: object, size: float | None = None, bold: bool | None = None, *, name: bool = False
) -> None:
    """Size and weight of a run; ``name``: the font itself too (the Normal style: runs inherit it)."""
    font = run_or_style.font  # type: ignore[attr-defined]
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if not name:
        return
    font.name = FONT
    element = run_or_style.element  # type: ignore[attr-defined]
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)


def _paragraph(
    container: object,
    text: str = "",
    *,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: bool = False,
    after: float = 6,
    before: float = 0,
    first: bool = False,
) -> Paragraph:
    """A paragraph of ``container`` (the document or a cell); ``first`` reuses a cell's empty paragraph."""
    paragraph = container.paragraphs[0] if first else container.add_paragraph()  # type: ignore[attr-defined]
    if align is not None:
        paragraph.alignment = align
    layout = paragraph.paragraph_format
    layout.space_after = Pt(after)
    layout.space_before = Pt(before)
    layout.line_spacing = 1.1
    if indent:
        layout.first_line_indent = Cm(1)
    if text:
        run = paragraph.add_run(text)
        _set_font(run, size, bold)
        run.italic = italic
    return paragraph


def _rule(cell: _Cell, width_mm: float, line_mm: float) -> None:
    """A short centred line under the issuer or the motto (a bottom border on an indented paragraph)."""
    paragraph = _paragraph(cell, size=2, after=0, align=None)
    side = Mm(max(0.0, (width_mm - line_mm) / 2))
    paragraph.paragraph_format.left_indent = side
    paragraph.paragraph_format.right_indent = side
    paragraph.paragraph_format.line_spacing = Pt(2)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _widths(table: Table, widths_mm: tuple[float, ...]) -> None:
    """Column widths; call it before adding rows (python-docx gives a new row's cells its columns' widths)."""
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(width)
    for column, width in zip(table.columns, widths_mm, strict=False):
        column.width = Mm(width)


def _no_borders(table: Table) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "nil")
        borders.append(edge)
    properties.append(borders)


def _narrow_margins(table: Table, mm: float = 1.0) -> None:
    """Cell margins of 1 mm left and right (Word's default 1.9 mm wastes a narrow column)."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(round(mm * 56.7)))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    table._tbl.tblPr.append(margins)


def _repeat_header(table: Table) -> None:
    """The header row repeated on each page; no row split across two pages."""
    row_properties = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row_properties.append(header)
    _keep_rows(table)


def _keep_rows(table: Table) -> None:
    for row in table.rows:
        keep = OxmlElement("w:cantSplit")
        keep.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(keep)


def _cell_text(
    cell: _Cell, text: str, *, bold: bool = False, center: bool = False, size: float = SMALL_PT
) -> None:
    align = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT
    _paragraph(cell, text, size=size, bold=bold, align=align, after=0, first=True)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER if center else WD_CELL_VERTICAL_ALIGNMENT.TOP


def _page(section: object, landscape: bool = False) -> None:
    width, height = _A4
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT  # type: ignore[attr-defined]
    section.page_width, section.page_height = (height, width) if landscape else (width, height)  # type: ignore[attr-defined]
    for side, mm in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(mm))
    section.header_distance = Mm(10)  # type: ignore[attr-defined]
    section.footer_distance = Mm(10)  # type: ignore[attr-defined]


def _page_numbers(section: object) -> None:
    """The page number centred at the top, from the second page (the first page has none)."""
    section.different_first_page_header_footer = True  # type: ignore[attr-defined]
    paragraph = section.header.paragraphs[0]  # type: ignore[attr-defined]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _letterhead(document: object, report: Report, letterhead: Letterhead) -> None:
    table = document.add_table(rows=2, cols=2)  # type: ignore[attr-defined]
    _no_borders(table)
    _narrow_margins(table)
    indent = OxmlElement("w:tblInd")
    indent.set(qn("w:w"), str(round(-10 * 56.7)))
    indent.set(qn("w:type"), "dxa")
    table._tbl.tblPr.append(indent)
    _widths(table, _LETTERHEAD_MM)
    left, right = table.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(left, letterhead.authority.upper(), size=SMALL_PT, align=center, after=0, first=True)
    _paragraph(left, letterhead.issuer.upper(), size=SMALL_PT, bold=True, align=center, after=0)
    _rule(left, _LETTERHEAD_MM[0], 25)
    _paragraph(
        right,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        size=SMALL_PT,
        bold=True,
        align=center,
        after=0,
        first=True,
    )
    _paragraph(right, "Độc lập - Tự do - Hạnh phúc", size=BODY_PT, bold=True, align=center, after=0)
    _rule(right, _LETTERHEAD_MM[1], 60)
    number, place = table.rows[1].cells
    _paragraph(number, f"Số:        /{letterhead.symbol}", size=SMALL_PT, align=center, after=0, first=True)
    _paragraph(
        place,
        official_date(letterhead.place, report.at),
        size=BODY_PT,
        italic=True,
        align=center,
        after=0,
        first=True,
    )


def _title(document: object, report: Report, letterhead: Letterhead) -> None:
    head, subject = title_lines(report)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(document, head, bold=True, align=center, after=0, before=18)
    _paragraph(document, subject, bold=True, align=center, after=0)
    paragraph = _paragraph(document, size=2, align=None, after=12)
    table_width = 165
    side = Mm((table_width - 40) / 2)
    paragraph.paragraph_format.left_indent = side
    paragraph.paragraph_format.right_indent = side
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)
    _paragraph(document, f"Kính gửi: {letterhead.recipient}.", align=center, after=12)


def _heading(document: object, text: str) -> None:
    _paragraph(document, text, bold=True, indent=True, after=6, before=6)


def _unit_table(document: object, report: Report) -> None:
    table = document.add_table(rows=1, cols=len(UNIT_HEADERS))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, _UNIT_MM)
    for cell, header in zip(table.rows[0].cells, UNIT_HEADERS, strict=True):
        _cell_text(cell, header, bold=True, center=True, size=12)
    for number, unit in enumerate(report.units, start=1):
        cells = table.add_row().cells
        for column, value in enumerate(unit_row(number, unit)):
            _cell_text(cells[column], value, center=column != 1)
            cells[column].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    _repeat_header(table)
    _narrow_margins(table)


def _signature(document: object, letterhead: Letterhead) -> None:
    table = document.add_table(rows=1, cols=2)  # type: ignore[attr-defined]
    _no_borders(table)
    _widths(table, (80, 85))
    left, right = table.rows[0].cells
    first = _paragraph(left, size=12, align=WD_ALIGN_PARAGRAPH.LEFT, after=0, first=True)
    run = first.add_run("Nơi nhận:")
    _set_font(run, 12, True)
    run.italic = True
    for line in (f"- {letterhead.recipient};", "- Lãnh đạo Sở;", "- Lưu: VT, VP."):
        _paragraph(left, line, size=11, align=WD_ALIGN_PARAGRAPH.LEFT, after=0)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(right, letterhead.signer_title.upper(), bold=True, align=center, after=0, first=True)
    for _ in range(3):
        _paragraph(right, "", align=center, after=0)
    _paragraph(right, letterhead.signer_name, bold=True, align=center, after=0)
    _keep_rows(table)


def _appendix(document: object, report: Report, letterhead: Letterhead) -> None:
    section = document.add_section(WD_SECTION.NEW_PAGE)  # type: ignore[attr-defined]
    _page(section, landscape=True)
    section.different_first_page_header_footer = False  # the appendix's first page is numbered too
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(document, "PHỤ LỤC", bold=True, align=center, after=0)
    _paragraph(
        document,
        f"Kết quả thực hiện các nhiệm vụ của Kế hoạch ({period_label(report.period)})",
        bold=True,
        align=center,
        after=0,
    )
    _paragraph(
        document,
        f"(Kèm theo Báo cáo số        /{letterhead.symbol} ngày      tháng      năm {report.at.year} "
        f"của {letterhead.issuer})",
        italic=True,
        align=center,
        after=12,
    )
    table = document.add_table(rows=1, cols=len(APPENDIX_HEADERS))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, _APPENDIX_MM)
    for cell, header in zip(table.rows[0].cells, APPENDIX_HEADERS, strict=True):
        _cell_text(cell, header, bold=True, center=True)
    rows = appendix_rows(report)
    for index, (kind, cells) in enumerate(rows):
        row = table.add_row().cells
        if kind == "section":
            _cell_text(row[0], cells[0], bold=True, center=True)
            merged = row[1].merge(row[-1])
            _cell_text(merged, cells[1], bold=True)
            continue
        if kind == "periods":  # under a recurring task: its periods, across the table
            _cell_text(row[1].merge(row[-1]), cells[0])
            continue
        for column, value in enumerate(cells):
            _cell_text(row[column], value, center=column in (0, 4, 5))
        if index + 1 < len(rows) and rows[index + 1][0] == "periods":  # on the same page as its periods
            for cell in row:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True
    _repeat_header(table)
    _narrow_margins(table)


def build_document(report: Report, letterhead: Letterhead) -> object:
    """The report as a python-docx ``Document``."""
    document = Document()
    normal = document.styles["Normal"]
    _set_font(normal, BODY_PT, name=True)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "vi-VN")
    normal.element.get_or_add_rPr().append(language)
    properties = document.core_properties
    head, subject = title_lines(report)
    properties.title = f"{head} {subject}"
    properties.author = letterhead.issuer
    properties.subject = report.plan_title
    properties.comments = "Dự thảo do nhacviec lập từ dữ liệu theo dõi thực hiện kế hoạch."

    section = document.sections[0]
    _page(section)
    _page_numbers(section)
    _letterhead(document, report, letterhead)
    _title(document, report, letterhead)
    _paragraph(document, opening(report, letterhead), indent=True)
    _heading(document, "I. KẾT QUẢ THỰC HIỆN")
    _heading(document, "1. Tình hình chung")
    for text in general(report):
        _paragraph(document, text, indent=True)
    _heading(document, "2. So sánh với kỳ trước")
    for text in comparison(report):
        _paragraph(document, text, indent=True)
    _heading(document, "3. Kết quả thực hiện của các đơn vị")
    _unit_table(document, report)
    _paragraph(
        document,
        "(Kết quả từng nhiệm vụ theo thứ tự của Kế hoạch tại Phụ lục kèm theo.)",
        italic=True,
        indent=True,
        before=6,
    )
    _heading(document, "II. KHÓ KHĂN, VƯỚNG MẮC VÀ KIẾN NGHỊ")
    _heading(document, "1. Khó khăn, vướng mắc")
    for difficulty in report.difficulties or ():
        _paragraph(document, f"- {difficulty.text}", indent=True)
    if not report.difficulties:
        _paragraph(document, NO_DIFFICULTY, indent=True)
    _heading(document, "2. Kiến nghị, đề xuất")
    for text in report.recommendations or (NO_RECOMMENDATION,):
        _paragraph(document, f"- {text}" if report.recommendations else text, indent=True)
    closing = _paragraph(document, closing_sentence(report, letterhead), indent=True, after=12)
    closing.paragraph_format.keep_with_next = True
    _signature(document, letterhead)
    _appendix(document, report, letterhead)
    return document


def write_docx(report: Report, letterhead: Letterhead, out: Path | IO[bytes]) -> None:
    document = build_document(report, letterhead)
    document.save(out)  # type: ignore[attr-defined]
