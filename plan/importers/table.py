"""The plan's appendix table, whatever file it came from: rows of cell text in, :class:`RawPlan` out.

Every tabular reader (DOCX, XLSX, CSV) turns its table into a list of :class:`Row` laid out on the
table's grid: a merged cell's text sits in its first (top-left) position and the positions it
covers are empty. Everything else is decided here, without I/O:

* the header row is found by the wording of its cells, not by position ("TT", "Nội dung nhiệm vụ",
  "Phòng chủ trì", ...), also when it is split over two rows ("Đơn vị thực hiện" above
  "Chủ trì" | "Phối hợp");
* a row numbered with a Roman numeral opens a section, an Arabic number is a task ("I" + "3" ->
  "I.3"), and a row with an empty number cell continues the task above it (a row cut by a page
  break, a Word continuation row).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from plan.model import PlanFileError, Problem, RawPlan, RawSection, RawTask
from plan.text import clean, fold, nfc

NUMBER, CONTENT, PRODUCTS, LEAD, COORDINATING, DEADLINE = (
    "number",
    "content",
    "products",
    "lead",
    "coordinating",
    "deadline",
)
REQUIRED = (CONTENT, LEAD, DEADLINE)
LABELS = {
    NUMBER: "TT",
    CONTENT: "Nội dung nhiệm vụ",
    PRODUCTS: "Sản phẩm",
    LEAD: "Phòng chủ trì",
    COORDINATING: "Phòng phối hợp",
    DEADLINE: "Thời gian hoàn thành",
}
HEADER_SCAN_ROWS = 25
_MAX_HEADER_LEN = 60

_NUMBER_HEADERS = {"tt", "stt", "so tt", "so thu tu", "thu tu"}
_ROMAN = re.compile(r"^(?=[IVXLC])(L?X{0,3})(IX|IV|V?I{0,3})\.?$")
_ROMAN_WITH_TITLE = re.compile(r"^([IVXLC]+)\s*[.:)\-–]\s*(\S.*)$|^([IVXLC]+)\s+(\S.*)$", re.DOTALL)
_ARABIC = re.compile(r"^(\d+(?:\.\d+)*)\.?$")
_FULL_CODE = re.compile(r"^([IVXLC]+)\.(\d+(?:\.\d+)*)\.?$")  # "II.3" written in the TT cell
_SUB_ITEM = re.compile(r"^(?:[a-zđ][.)]?|[-+•–*])$", re.IGNORECASE)
_COLUMN_NUMBER = re.compile(r"^\(?\d+\)?$")
_BULLET = re.compile(r"^\s*[-+•–·*]\s*")
_TITLE_START = ("ke hoach", "phu luc")


@dataclass(frozen=True)
class Row:
    """One table row on the table grid.

    ``number`` is the row as the user sees it (spreadsheet row, 1-based row of the Word table, CSV
    line). ``above`` is parallel to ``cells``: for a cell that continues a vertical merge it holds
    the merged text, so a new task sharing a merged "Phòng chủ trì" cell with the task above still
    gets that unit, while a continuation row does not repeat it.
    """

    number: int
    cells: tuple[str, ...]
    above: tuple[str, ...] = ()

    def cell(self, column: int | None) -> str:
        if column is None or column >= len(self.cells):
            return ""
        return self.cells[column]

    def inherited(self, column: int) -> str:
        return self.above[column] if column < len(self.above) else ""


@dataclass(frozen=True)
class Header:
    """Where the header is and which grid column holds which field."""

    index: int  # index in the row list of the (first) header row
    row: int  # the header row as the user sees it
    data_start: int  # index of the first row below the header
    columns: dict[str, int] = field(default_factory=dict)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(kind for kind in REQUIRED if kind not in self.columns)


def classify_header(text: str) -> str | None:
    """The field a header cell names, or None ("Phòng phối\\nhợp" -> "coordinating")."""
    key = re.sub(r"\(\s*\d+\s*\)", " ", fold(text)).strip(" .:*")
    key = re.sub(r"\s+", " ", key)
    if not key or len(key) > _MAX_HEADER_LEN:
        return None
    if key in _NUMBER_HEADERS or key.replace(".", "").replace(" ", "") in {"tt", "stt", "sott"}:
        return NUMBER
    if "bat dau" in key:  # "Thời gian bắt đầu": a start date is not the deadline
        return None
    if "chu tri" in key:
        return LEAD
    if "phoi hop" in key:
        return COORDINATING
    if "san pham" in key or key.startswith("ket qua"):
        return PRODUCTS
    if key.startswith(("thoi gian", "thoi han", "tien do", "han hoan thanh")) or key == "hoan thanh":
        return DEADLINE
    if "noi dung" in key or "nhiem vu" in key or "cong viec" in key:
        return CONTENT
    if key in {"don vi thuc hien", "co quan thuc hien", "phong thuc hien"}:
        return LEAD
    return None


def _columns(texts: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, text in enumerate(texts):
        kind = classify_header(text)
        if kind is not None and kind not in columns:
            columns[kind] = index
    return columns


def find_header(rows: Sequence[Row]) -> Header | None:
    """The best-matching header among the first rows: one row, or two rows read together.

    A header must name the content column and at least one other; the candidate naming the most
    fields wins (ties: the earlier row). Two rows are read together only when that names more
    fields than either row alone ("Đơn vị thực hiện" above "Chủ trì" | "Phối hợp").
    """
    scanned = rows[:HEADER_SCAN_ROWS]
    single = [_columns(row.cells) for row in scanned]
    best: Header | None = None
    for index, row in enumerate(scanned):
        candidates = [(single[index], index + 1)]
        if index + 1 < len(scanned):
            below = scanned[index + 1].cells
            width = max(len(row.cells), len(below))
            joined = _columns([f"{_at(row.cells, c)} {_at(below, c)}" for c in range(width)])
            if len(joined) > max(len(single[index]), len(single[index + 1])):
                candidates.append((joined, index + 2))
        for columns, data_start in candidates:
            if CONTENT not in columns or len(columns) < 2:
                continue
            if best is None or len(columns) > len(best.columns):
                best = Header(index=index, row=row.number, data_start=data_start, columns=columns)
    return best


def _at(cells: Sequence[str], column: int) -> str:
    return cells[column] if column < len(cells) else ""


def no_plan_table(file: str) -> PlanFileError:
    return PlanFileError(
        file,
        "Tệp không có bảng kế hoạch nào có cột 'Nội dung nhiệm vụ' "
        "(cần các cột 'Nội dung nhiệm vụ', 'Phòng chủ trì' và 'Thời gian hoàn thành').",
    )


def find_title(lines: Sequence[str]) -> str | None:
    """The plan's title from the lines above the table.

    A lone "KẾ HOẠCH" heading is joined to the line under it: "KẾ HOẠCH" + "Thực hiện cải cách
    hành chính năm 2020" -> "Kế hoạch thực hiện cải cách hành chính năm 2020".
    """
    texts = [clean(line) for line in lines if clean(line)]
    for index, text in enumerate(texts):
        key = fold(text)
        if not key.startswith(_TITLE_START):
            continue
        if key in _TITLE_START and index + 1 < len(texts):
            rest = texts[index + 1]
            if len(rest) > 1 and rest[1].islower():  # "Thực hiện" -> "thực hiện"; "UBND" stays
                rest = rest[0].lower() + rest[1:]
            return f"{text.capitalize()} {rest}"
        return text
    return None


def read_table(
    rows: Sequence[Row], file: str, *, header: Header | None = None, title: str | None = None
) -> RawPlan:
    """Read the plan in ``rows``; raises :class:`PlanFileError` when no header is found."""
    header = header or find_header(rows)
    if header is None:
        raise no_plan_table(file)
    if title is None:
        title = find_title([cell for row in rows[: header.index] for cell in row.cells])
    plan = RawPlan(file=file, title=title)
    if header.missing:
        plan.problems.extend(
            Problem(
                file,
                header.row,
                kind,
                f"Thiếu cột '{LABELS[kind]}' trong dòng tiêu đề của bảng kế hoạch; "
                "không đọc được nhiệm vụ nào.",
            )
            for kind in header.missing
        )
        return plan
    _Reader(plan, header).read(_skip_column_numbers(rows[header.data_start :]))
    return plan


def _skip_column_numbers(rows: Sequence[Row]) -> Sequence[Row]:
    """Drop the "(1) | (2) | (3) ..." row that often sits right under the header."""
    if rows:
        filled = [clean(cell) for cell in rows[0].cells if clean(cell)]
        if len(filled) >= 3 and all(_COLUMN_NUMBER.match(cell) for cell in filled):
            return rows[1:]
    return rows


@dataclass
class _Draft:
    """A task being assembled from its row and any continuation rows."""

    code: str
    section: str
    row: int
    content: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)
    coordinating: list[str] = field(default_factory=list)
    deadline: list[str] = field(default_factory=list)

    def add(self, fields: dict[str, str]) -> None:
        self.content.append(clean(fields.get(CONTENT, "")))
        self.deadline.append(clean(fields.get(DEADLINE, "")))
        self.products.extend(split_products(fields.get(PRODUCTS, "")))
        self.lead.extend(split_units(fields.get(LEAD, "")))
        self.coordinating.extend(split_units(fields.get(COORDINATING, "")))

    def task(self) -> RawTask:
        return RawTask(
            code=self.code,
            section=self.section,
            content=" ".join(part for part in self.content if part),
            products=tuple(self.products),
            lead=tuple(self.lead),
            coordinating=tuple(self.coordinating),
            deadline=" ".join(part for part in self.deadline if part),
            row=self.row,
        )


class _Reader:
    """Walks the data rows once, opening sections and tasks and merging continuation rows."""

    def __init__(self, plan: RawPlan, header: Header) -> None:
        self.plan = plan
        self.columns = header.columns
        self.number_column = header.columns.get(NUMBER)
        self.section = ""
        self.draft: _Draft | None = None
        self.unnumbered = 0  # tasks counted in the current section when the table has no TT column

    def read(self, rows: Sequence[Row]) -> None:
        for row in rows:
            if any(clean(cell) for cell in row.cells):
                self._row(row)
        self._flush()

    def _fields(self, row: Row, *, inherit: bool) -> dict[str, str]:
        fields = {}
        for kind, column in self.columns.items():
            text = row.cell(column)
            if not text.strip() and inherit:
                text = row.inherited(column)
            fields[kind] = nfc(text)
        return fields

    def _row(self, row: Row) -> None:
        number = clean(row.cell(self.number_column))
        section = self._section(row, number)
        if section is not None:
            self._flush()
            self.section = section.code
            self.unnumbered = 0
            self.plan.sections.append(section)
            return
        if self.number_column is None and clean(row.cell(self.columns[CONTENT])):
            self.unnumbered += 1
            number = str(self.unnumbered)
        task = self._task_code(number)
        if task is not None:
            self._flush()
            self.draft = _Draft(code=task[0], section=task[1], row=row.number)
            self.draft.add(self._fields(row, inherit=True))
        elif number and not _SUB_ITEM.match(number):
            self._problem(row, NUMBER, f"Không hiểu số thứ tự '{number}'; dòng này bị bỏ qua.")
        elif self.draft is None:
            if self.plan.sections:  # above the first section: the rest of a header, left alone
                self._problem(row, NUMBER, "Dòng không có số thứ tự và không thuộc nhiệm vụ nào; bị bỏ qua.")
        else:
            fields = self._fields(row, inherit=False)
            if number:  # "a)", "-": a sub-item of the task, kept in its content
                fields[CONTENT] = f"{number} {fields.get(CONTENT, '')}"
            self.draft.add(fields)

    def _task_code(self, number: str) -> tuple[str, str] | None:
        """(code, section) of a task row: "3" in section "I" -> ("I.3", "I"); "I.3" as written."""
        arabic = _ARABIC.match(number)
        if arabic:
            code = f"{self.section}.{arabic.group(1)}" if self.section else arabic.group(1)
            return code, self.section
        full = _FULL_CODE.match(number)
        if full and _ROMAN.match(full.group(1)):
            return number.rstrip("."), full.group(1)
        return None

    def _section(self, row: Row, number: str) -> RawSection | None:
        """A section row: "I" with its title beside it, or "I. Title" in one (merged) cell."""
        if self.number_column is not None and _ROMAN.match(number):
            others = [
                clean(cell)
                for column, cell in enumerate(row.cells)
                if column != self.number_column and clean(cell)
            ]
            return RawSection(code=number.rstrip("."), title=" ".join(others))
        if self.number_column is None:
            number = next((clean(cell) for cell in row.cells if clean(cell)), "")
        match = _ROMAN_WITH_TITLE.match(number)
        if match and not _FULL_CODE.match(number):
            code, title = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
            if _ROMAN.match(code) and any(char.isalpha() for char in title):
                return RawSection(code=code, title=clean(title))
        return None

    def _flush(self) -> None:
        if self.draft is not None:
            self.plan.tasks.append(self.draft.task())
            self.draft = None

    def _problem(self, row: Row, kind: str, message: str) -> None:
        self.plan.problems.append(Problem(self.plan.file, row.number, kind, message))


def _lines(cell: str) -> list[str]:
    return [clean(line) for line in nfc(cell).splitlines() if clean(line)]


def split_products(cell: str) -> list[str]:
    """One product per bulleted line; unbulleted lines continue the item above them.

    >>> split_products("- Kế hoạch\\n- Báo cáo\\n  tổng hợp")
    ['Kế hoạch', 'Báo cáo tổng hợp']
    """
    items: list[str] = []
    for line in _lines(cell):
        bullet = _BULLET.match(line)
        text = line[bullet.end() :].strip() if bullet else line
        if (bullet or not items) and text:
            items.append(text)
        elif text:
            items[-1] = f"{items[-1]} {text}"
    return items


def split_units(cell: str) -> list[str]:
    """Unit entries: one per line or ";"-separated part (commas stay: unit names contain them)."""
    entries = []
    for line in _lines(cell):
        for part in line.split(";"):
            text = _BULLET.sub("", part, count=1).strip().rstrip(",").strip()
            if text:
                entries.append(text)
    return entries
