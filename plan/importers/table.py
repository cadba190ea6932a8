"""The plan's appendix table, whatever file it came from: rows of cell text in, :class:`RawPlan` out.

Every tabular reader (DOCX, XLSX, CSV) turns its table into a list of :class:`Row` laid out on the
table's grid: a merged cell's text sits in its first (top-left) position and the positions it
covers are empty. Everything else is decided here, without I/O:

* the header row is found by the wording of its cells, not by position ("TT", "Nội dung nhiệm vụ",
  "Phòng chủ trì", ...), also when it is split over two rows ("Đơn vị thực hiện" above
  "Chủ trì" | "Phối hợp");
* a row numbered with a Roman numeral (or a capital letter, "A.") opens a section, an Arabic number
  is a task ("I" + "3" -> "I.3"), and a row with an empty number cell continues the task above it
  (a row cut by a page break, a Word continuation row);
* a row lettered "a)", "b." that has its own lead or deadline is a task under the numbered row above
  ("II.1.a"); the numbered row is then a heading when it has neither;
* a row whose only text spans several columns (:attr:`Row.wide`) and is not a section is a heading
  (often a unit: "PHÒNG TỔ CHỨC CÁN BỘ"); the tasks under it keep it as their ``group``, which the
  checker takes as their lead when they name none;
* cells merged vertically over several rows give every task row their text (a unit column merged over
  the unit's tasks);
* numbering that restarts inside a section (tasks numbered per unit) gets derived codes, unique and
  the same at every reading: the n-th run of numbers in section II gives "II.n.1", "II.n.2", ...;
* several tables are read in order as one plan (the section and numbering go on); a table without a
  header right after a plan table of the same width continues it (a table over several PDF pages).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from plan.model import PlanFileError, Problem, RawPlan, RawSection, RawTask
from plan.text import _collapse, clean, fold, nfc

NUMBER, CONTENT, PRODUCTS, LEAD, COORDINATING, DEADLINE, NOTE = (
    "number",
    "content",
    "products",
    "lead",
    "coordinating",
    "deadline",
    "note",
)
REQUIRED = (CONTENT, LEAD, DEADLINE)
LABELS = {
    NUMBER: "TT",
    CONTENT: "Nội dung nhiệm vụ",
    PRODUCTS: "Sản phẩm",
    LEAD: "Phòng chủ trì",
    COORDINATING: "Phòng phối hợp",
    DEADLINE: "Thời gian hoàn thành",
    NOTE: "Ghi chú",
}
HEADER_SCAN_ROWS = 25
_MAX_HEADER_LEN = 60

_NUMBER_HEADERS = {"tt", "stt", "so tt", "so thu tu", "thu tu"}
_UNIT_HEADER = re.compile(r"^(?:(?:co quan|don vi|phong|bo phan)[ ,/]*)+(?:thuc hien|dau moi|phu trach)?$")
_ROMAN = re.compile(r"^(?=[IVXLC])(L?X{0,3})(IX|IV|V?I{0,3})\.?$")
_LETTER_SECTION = re.compile(r"^([A-H])\s*[.:)]\s*(\S.*)$|^([A-H])$", re.DOTALL)
_NUMBERED_TITLE = re.compile(r"^(\d+)\s*[.)]\s*(\S.*)$", re.DOTALL)
_ROMAN_WITH_TITLE = re.compile(r"^([IVXLC]+)\s*[.:)\-–]\s*(\S.*)$|^([IVXLC]+)\s+(\S.*)$", re.DOTALL)
_ARABIC = re.compile(r"^(\d+(?:\.\d+)*)\.?$")
_FULL_CODE = re.compile(r"^([IVXLC]+)\.(\d+(?:\.\d+)*)\.?$")  # "II.3" written in the TT cell
_SUB_ITEM = re.compile(r"^(?:[a-zđ][.)]?|[-+•–*])$", re.IGNORECASE)
_LETTER = re.compile(r"^([a-zđ])[.)]?$")
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
    wide: bool = False  # its only text sits in one cell merged across several columns
    soft_breaks: bool = False  # a line break in a cell may be wrapping (PDF), not a new item

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

    @property
    def readable(self) -> bool:
        """Every required column, or all but the lead (units may head their tasks instead)."""
        return not self.missing or self.missing == (LEAD,)


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
    if key.startswith("ghi chu"):
        return NOTE
    if "chu tri" in key:
        return LEAD
    if "phoi hop" in key:
        return COORDINATING
    if "san pham" in key or key.startswith(("ket qua", "hinh thuc van ban")):
        return PRODUCTS
    if key.startswith(("thoi gian", "thoi han", "tien do", "han hoan thanh", "moc thoi gian", "thoi diem")):
        return DEADLINE
    if key in {"hoan thanh", "han", "han chot"}:
        return DEADLINE
    if "noi dung" in key or "nhiem vu" in key or "cong viec" in key or key.startswith("hoat dong"):
        return CONTENT
    if _UNIT_HEADER.match(key):  # "Đơn vị", "Cơ quan, đơn vị thực hiện", "Phòng thực hiện"
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
    return read_tables([(rows, header)], file, title=title)


def plan_tables(
    tables: Sequence[Sequence[Row]], *, continuations: bool = True
) -> list[tuple[Sequence[Row], Header]]:
    """The tables of a document that hold the plan, each with its header.

    Tables whose header names every required column are the plan, in order; with ``continuations``, a
    table without a header right after one of them, with as many columns, continues it (a table over
    several PDF pages, or split by the author). When no table names every required column, the best
    partial one is returned (its missing columns are reported).
    """
    found: list[tuple[Sequence[Row], Header]] = []
    partial: tuple[Sequence[Row], Header] | None = None
    previous: tuple[int, Header] | None = None  # width and header of the last plan table
    for rows in tables:
        if not rows:
            continue
        width = max(len(row.cells) for row in rows)
        header = find_header(rows)
        if header is not None and header.readable:
            found.append((rows, header))
            previous = (width, header)
        elif continuations and header is None and previous is not None and width == previous[0]:
            found.append(
                (rows, Header(index=0, row=rows[0].number, data_start=0, columns=previous[1].columns))
            )
        else:
            previous = None
            if header is not None and (partial is None or len(header.columns) > len(partial[1].columns)):
                partial = (rows, header)
    if not found and partial is not None:
        found.append(partial)
    return found


def read_tables(
    tables: Sequence[tuple[Sequence[Row], Header]], file: str, *, title: str | None = None
) -> RawPlan:
    """Read the plan from its tables (see :func:`plan_tables`), in order, as one table."""
    if not tables:
        raise no_plan_table(file)
    first_rows, first_header = tables[0]
    if title is None:
        title = find_title([cell for row in first_rows[: first_header.index] for cell in row.cells])
    plan = RawPlan(file=file, title=title)
    if first_header.readable:
        reader = _Reader(plan)
        for rows, header in tables:
            reader.read(header, _skip_column_numbers(rows[header.data_start :]))
        reader.finish()
        if not first_header.missing or any(task.group for task in plan.tasks):
            return plan
    plan.tasks.clear()
    plan.problems[:] = [
        Problem(
            file,
            first_header.row,
            kind,
            f"Thiếu cột '{LABELS[kind]}' trong dòng tiêu đề của bảng kế hoạch; không đọc được nhiệm vụ nào.",
        )
        for kind in first_header.missing
    ]
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

    number: str  # as printed: "3", "1.2"; "" when written as a full code or lettered
    section: str
    row: int
    code: str = ""  # decided when the whole table is read
    letter: str = ""  # "a" for a lettered task under ``parent``
    parent: _Draft | None = None
    group: str = ""
    content: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)
    coordinating: list[str] = field(default_factory=list)
    deadline: list[str] = field(default_factory=list)
    note: list[str] = field(default_factory=list)
    heading: bool = False  # a numbered row with lettered tasks and neither lead nor deadline of its own

    def add(self, fields: dict[str, str], soft_breaks: bool = False, *, continued: bool = False) -> None:
        """Add a row's cells; a ``continued`` row (the rest of the task's row) may end an item it began."""
        self.content.append(clean(fields.get(CONTENT, "")))
        self.deadline.append(clean(fields.get(DEADLINE, "")))
        products = fields.get(PRODUCTS, "")
        _extend(self.products, split_products(products), continued and not _starts_item(products))
        for kind, entries in ((LEAD, self.lead), (COORDINATING, self.coordinating)):
            text = fields.get(kind, "")  # a name cut by a page break goes on where it stopped
            _extend(
                entries,
                split_units(text, soft_breaks=soft_breaks),
                continued and soft_breaks and not _starts_item(text),
            )
        notes = _lines(fields.get(NOTE, ""))
        self.note.extend([" ".join(notes)] if soft_breaks and notes else notes)

    @property
    def text(self) -> str:
        return " ".join(part for part in self.content if part)

    def task(self) -> RawTask:
        return RawTask(
            code=self.code,
            section=self.section,
            content=self.text,
            products=tuple(self.products),
            lead=tuple(self.lead),
            coordinating=tuple(self.coordinating),
            deadline=" ".join(part for part in self.deadline if part),
            row=self.row,
            note="\n".join(self.note),
            group=self.group,
        )


class _Reader:
    """Walks the data rows once, opening sections and tasks and merging continuation rows."""

    def __init__(self, plan: RawPlan) -> None:
        self.plan = plan
        self.columns: dict[str, int] = {}
        self.number_column: int | None = None
        self.section = ""
        self.heading = ""  # the text of the last wide heading row in this section
        self.drafts: list[_Draft] = []
        self.draft: _Draft | None = None
        self.parent: _Draft | None = None  # the numbered task lettered rows hang under
        self.unnumbered = 0  # tasks counted in the current section when the table has no TT column

    def read(self, header: Header, rows: Sequence[Row]) -> None:
        self.columns = header.columns
        self.number_column = header.columns.get(NUMBER)
        for row in rows:  # the task open at the end of a table goes on in a table that continues it
            if any(clean(cell) for cell in row.cells):
                self._row(row)

    def _fields(self, row: Row, *, inherit: bool) -> dict[str, str]:
        fields = {}
        for kind, column in self.columns.items():
            text = row.cell(column)
            if not text.strip() and inherit:
                text = row.inherited(column)
            fields[kind] = nfc(text)
        return fields

    def _own(self, row: Row, kind: str) -> str:
        return clean(row.cell(self.columns.get(kind)))

    def _row(self, row: Row) -> None:
        number = clean(row.cell(self.number_column))
        # A header's number cell ("TT", "STT") never starts with a digit: a task row is not classified.
        if len(self.columns) >= 3 and not number[:1].isdigit() and _columns(row.cells) == self.columns:
            return  # the header again (repeated on each page, or a new table under the same header)
        if row.wide and self.number_column is not None and not number:
            number = next((clean(cell) for cell in row.cells if clean(cell)), "")
        section = self._section(row, number)
        if section is not None:
            self._open_section(section)
            return
        if row.wide and self._heading(number):
            return
        if self.number_column is None and clean(row.cell(self.columns[CONTENT])):
            self.unnumbered += 1
            number = str(self.unnumbered)
        letter = _LETTER.match(number)
        if letter and self.parent is not None and (self._own(row, DEADLINE) or self._own(row, LEAD)):
            self._lettered(row, letter.group(1).lower())
            return
        task = self._task_number(number)
        if task is not None:
            self._start(_Draft(number=task[0], section=self.section, row=row.number, group=self.heading), row)
            if task[1]:
                self.draft.code = task[1]  # type: ignore[union-attr]  # written in full: kept as written
            self.parent = self.draft
        elif number and not _SUB_ITEM.match(number):
            self._problem(row, NUMBER, f"Không hiểu số thứ tự '{number}'; dòng này bị bỏ qua.")
        elif self.draft is None:
            if self.plan.sections or self.drafts:  # above the first task: the rest of a header, left alone
                self._problem(row, NUMBER, "Dòng không có số thứ tự và không thuộc nhiệm vụ nào; bị bỏ qua.")
        else:
            fields = self._fields(row, inherit=False)
            if number:  # "a)", "-": a sub-item of the task, kept in its content
                fields[CONTENT] = f"{number} {fields.get(CONTENT, '')}"
            self.draft.add(fields, row.soft_breaks, continued=not number)

    def _start(self, draft: _Draft, row: Row) -> None:
        draft.add(self._fields(row, inherit=True), row.soft_breaks)
        self.drafts.append(draft)
        self.draft = draft

    def _lettered(self, row: Row, letter: str) -> None:
        """A task lettered under the numbered row above ("II.1.a"), which is a heading if it has no dates."""
        parent = self.parent
        assert parent is not None
        if not parent.letter and not any(parent.deadline) and not parent.lead and not parent.heading:
            parent.heading = True
        group = parent.text if parent.heading else parent.group
        self._start(
            _Draft(
                number="", section=parent.section, row=row.number, letter=letter, parent=parent, group=group
            ),
            row,
        )

    def _open_section(self, section: RawSection) -> None:
        self.draft = self.parent = None
        self.section = section.code
        self.heading = ""
        self.unnumbered = 0
        self.plan.sections.append(section)

    def _heading(self, text: str) -> bool:
        """A wide row that is not a section: a group heading ("PHÒNG TỔ CHỨC CÁN BỘ", "1. Cải cách ...")."""
        title = _NUMBERED_TITLE.match(text)
        heading = clean(title.group(2) if title else text)
        if not any(char.isalpha() for char in heading):
            return False
        self.draft = self.parent = None
        self.heading = heading
        return True

    def _task_number(self, number: str) -> tuple[str, str] | None:
        """(printed number, full code or "") of a task row: "3" -> ("3", ""); "I.3" -> ("", "I.3")."""
        arabic = _ARABIC.match(number)
        if arabic:
            return arabic.group(1), ""
        full = _FULL_CODE.match(number)
        if full and _ROMAN.match(full.group(1)):
            return "", number.rstrip(".")
        return None

    def _section(self, row: Row, number: str) -> RawSection | None:
        """A section row: "I" with its title beside it, or "I. Title" in one (merged) cell; "A." likewise."""
        if self.number_column is not None and (_ROMAN.match(number) or _LETTER_SECTION.fullmatch(number)):
            if _LETTER_SECTION.fullmatch(number) and (self._own(row, DEADLINE) or self._own(row, LEAD)):
                return None
            if _ROMAN.match(number) or len(number) == 1:
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
        letter = _LETTER_SECTION.match(number)
        if letter and letter.group(1) and (row.wide or self.number_column is None):
            return RawSection(code=letter.group(1), title=clean(letter.group(2)))
        return None

    def finish(self) -> None:
        """Give every task its code (deriving them where numbering restarts) and add them to the plan."""
        by_section: dict[str, list[_Draft]] = {}
        for draft in self.drafts:
            if not draft.letter and not draft.code:
                by_section.setdefault(draft.section, []).append(draft)
        for section, drafts in by_section.items():
            prefix = f"{section}." if section else ""
            numbers = [draft.number for draft in drafts]
            if len(set(numbers)) == len(numbers):
                for draft in drafts:
                    draft.code = f"{prefix}{draft.number}"
                continue
            run, previous = 0, None
            for draft in drafts:  # a new run wherever the numbering goes back: one run per unit
                if previous is None or _number_key(draft.number) <= _number_key(previous):
                    run += 1
                draft.code = f"{prefix}{run}.{draft.number}"
                previous = draft.number
        for draft in self.drafts:
            if draft.letter:
                assert draft.parent is not None
                draft.code = f"{draft.parent.code}.{draft.letter}"
        self.plan.tasks.extend(draft.task() for draft in self.drafts if not draft.heading)

    def _problem(self, row: Row, kind: str, message: str) -> None:
        self.plan.problems.append(Problem(self.plan.file, row.number, kind, message))


def _number_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


def _starts_item(cell: str) -> bool:
    """Whether a cell's text starts a new item (a bullet, or nothing to continue with)."""
    lines = _lines(cell)
    return not lines or _BULLET.match(lines[0]) is not None


def _extend(items: list[str], more: list[str], join_first: bool) -> None:
    if join_first and items and more:
        items[-1] = f"{items[-1]} {more[0]}"
        more = more[1:]
    items.extend(more)


def _lines(cell: str) -> list[str]:
    if not cell:
        return []
    return [cleaned for line in nfc(cell).splitlines() if (cleaned := _collapse(line))]


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


def split_units(cell: str, *, soft_breaks: bool = False) -> list[str]:
    """Unit entries: one per line or ";"-separated part (commas stay: unit names contain them).

    With ``soft_breaks`` (a PDF, where a long name wraps onto the next line) only a bulleted line starts
    a new entry; the directory still tells several units written in one entry apart.
    """
    lines = _lines(cell)
    if soft_breaks:
        joined: list[str] = []
        for line in lines:
            if joined and not _BULLET.match(line):
                joined[-1] = f"{joined[-1]} {line}"
            else:
                joined.append(line)
        lines = joined
    entries = []
    for line in lines:
        for part in line.split(";"):
            text = _BULLET.sub("", part, count=1).strip().rstrip(",").strip()
            if text:
                entries.append(text)
    return entries
