"""The plan as read from a file, before units are resolved and deadlines parsed.

Every importer (YAML, CSV, XLSX, DOCX) produces a :class:`RawPlan`: the text of
each cell as the office wrote it (NFC-normalised), and the row it came from, so
that any later problem can be reported as ``FILE:ROW: message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from plan.errors import UserError


@dataclass(frozen=True)
class Problem:
    """Something wrong in a plan file, precise enough for an office clerk to fix it."""

    file: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row is not None else self.file
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class RawSection:
    code: str  # Roman numeral as printed: "I", "II", ...
    title: str


@dataclass(frozen=True)
class RawTask:
    """One row of the plan's appendix table.

    ``lead`` and ``coordinating`` hold unit names as written, one entry per
    line or ";"-separated part of the cell; a single entry may still name
    several units ("Các phòng CN, CM, NV, các đơn vị, trường học trực thuộc"),
    which the unit directory splits when it resolves them.
    """

    code: str  # "I.1", "VII.9"
    section: str  # section code, "I"
    content: str
    products: tuple[str, ...]
    lead: tuple[str, ...]
    coordinating: tuple[str, ...]
    deadline: str  # the phrase exactly as written ("Qúy III/2020")
    row: int | None = None
    note: str = ""  # the "Ghi chú" cell, lines kept
    group: str = ""  # the heading the task sits under, if any ("PHÒNG TỔ CHỨC CÁN BỘ", a numbered heading)


@dataclass(frozen=True)
class ReportingRegime:
    """The plan's reporting regime (section III.7 of the sample plan)."""

    periods: tuple[str, ...]  # period kinds: "quarterly", "6-month", "9-month", "annual", "adhoc"
    via: str  # unit name the reports go through ("Văn phòng Sở")
    units: tuple[str, ...]  # unit names that report
    text: str = ""  # the paragraph as written


@dataclass
class RawPlan:
    """A plan file's content; ``problems`` collects what could not be read."""

    file: str
    code: str | None = None
    title: str | None = None
    year: int | None = None
    number: str | None = None  # the document's number as printed: "15/KH-SGDĐT" (from "Số: 15/KH-SGDĐT")
    issued_on: date | None = None  # the document's date ("Hòa Bình, ngày 10 tháng 01 năm 2026")
    sections: list[RawSection] = field(default_factory=list)
    tasks: list[RawTask] = field(default_factory=list)
    reporting: ReportingRegime | None = None
    problems: list[Problem] = field(default_factory=list)
    kind: str | None = None  # what the file was read as: "docx", "doc", "pdf"... (vocabulary.FILE_KINDS)
    pages: int | None = None  # pages read, for a PDF


class PlanFileError(UserError):
    """The file cannot be read as a plan at all (missing, wrong format, no table)."""

    def __init__(self, file: str, message: str, row: int | None = None) -> None:
        self.file = file
        self.row = row
        self.message = message
        super().__init__(str(Problem(file, row, None, message)))
