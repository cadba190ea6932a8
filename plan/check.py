"""Checking a plan: resolve every unit through the directory and parse every deadline.

Pure: a :class:`~plan.model.RawPlan` and a directory in, a :class:`CheckedPlan`
out, with every problem listed (not just the first) so the office can fix the
whole file in one go. A unit the directory does not have is not a problem: it is
kept on its task as written (``CheckedTask.unlisted``) and reported once with the
nearest known units (``CheckedPlan.unknown_units``), so it never blocks an import.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from plan.deadline import Deadline, DeadlineError, parse_deadline
from plan.model import Problem, RawPlan, RawSection, RawTask
from plan.units import Directory, UnknownUnitError, alias_key


@dataclass(frozen=True)
class CheckedTask:
    raw: RawTask
    lead: tuple[str, ...]  # unit codes
    coordinating: tuple[str, ...]
    deadline: Deadline | None  # None when the phrase could not be read
    unlisted: tuple[tuple[str, str], ...] = ()  # (role, name as written) of units the directory lacks

    @property
    def code(self) -> str:
        return self.raw.code

    def to_json(self, deadline_error: str | None = None) -> dict[str, object]:
        deadline: dict[str, object] | None
        if self.deadline is not None:
            deadline = self.deadline.to_json()
        else:
            deadline = DeadlineError(self.raw.deadline, deadline_error or "").to_json()
        return {
            "code": self.raw.code,
            "section": self.raw.section,
            "content": self.raw.content,
            "products": list(self.raw.products),
            "lead": list(self.lead),
            "coordinating": list(self.coordinating),
            "deadline": deadline,
            "note": self.raw.note,
            "unlisted_units": [{"role": role, "name": name} for role, name in self.unlisted],
        }


@dataclass
class UnknownUnit:
    """A unit a plan names that the directory does not have: kept as written, reported with the nearest
    known units, and added to the directory on request (``plan import --add-units``)."""

    name: str  # as written (the first spelling met)
    suggestions: tuple[tuple[str, str], ...]  # (code, name) of the nearest known units
    tasks: list[str] = field(default_factory=list)  # codes of the tasks naming it
    rows: list[int] = field(default_factory=list)

    @property
    def message(self) -> str:
        """One Vietnamese sentence: where it is named, what it may be, how to add it."""
        where = ", ".join(self.tasks[:5]) + (
            f" và {len(self.tasks) - 5} nhiệm vụ khác" if len(self.tasks) > 5 else ""
        )
        sentence = f"Chưa có đơn vị '{self.name}' trong danh bạ (nhiệm vụ {where})"
        if self.suggestions:
            guesses = " hay ".join(f"'{name}' ({code})" for code, name in self.suggestions)
            return f"{sentence}; có phải {guesses}?"
        return f"{sentence}; nhiệm vụ vẫn được nhập, hãy thêm đơn vị vào danh bạ ('plan import --add-units' hoặc 'units add')."

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "suggestions": [{"code": code, "name": name} for code, name in self.suggestions],
            "tasks": self.tasks,
            "rows": self.rows,
            "message": self.message,
        }


@dataclass
class CheckedPlan:
    file: str
    year: int
    code: str | None
    title: str | None
    sections: list[RawSection]
    tasks: list[CheckedTask]
    reporting_units: tuple[str, ...] = ()
    reporting_via: str | None = None
    reporting_periods: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)
    deadline_errors: dict[str, str] = field(default_factory=dict)  # task code -> reason
    number: str | None = None  # the document's number and date, as read from the file
    issued_on: date | None = None
    kind: str | None = None  # what the file was read as (vocabulary.FILE_KINDS) and, for a PDF, its pages
    pages: int | None = None
    unknown_units: list[UnknownUnit] = field(default_factory=list)  # kept as written; they do not block

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "file": {
                "kind": self.kind,
                "pages": self.pages,
                "number": self.number,
                "issued_on": self.issued_on.isoformat() if self.issued_on else None,
            },
            "tasks": [t.to_json(self.deadline_errors.get(t.code)) for t in self.tasks],
            "problems": [p.to_json() for p in self.problems],
            "unknown_units": [unit.to_json() for unit in self.unknown_units],
        }


def _resolve_units(
    entries: tuple[str, ...],
    directory: Directory,
    unknown: list[str],
    seen: dict[str, tuple[list[str], list[str]]] | None = None,
) -> tuple[str, ...]:
    """The codes ``entries`` name; what names no unit is added to ``unknown`` as written (``seen``: the
    entries already resolved, a long plan names the same few units again and again)."""
    codes: list[str] = []
    for entry in entries:
        if seen is None:
            resolved, unmatched = directory.resolve_partly(entry)
        elif entry in seen:
            resolved, unmatched = seen[entry]
        else:
            resolved, unmatched = seen[entry] = directory.resolve_partly(entry)
        codes.extend(code for code in resolved if code not in codes)
        unknown.extend(unmatched)
    return tuple(codes)


def _group_units(heading: str, directory: Directory) -> tuple[str, ...]:
    """The units a heading names, when all of it names units; () for a heading that is a title."""
    try:
        return tuple(directory.resolve(heading))
    except UnknownUnitError:
        return ()


def _note_unknown(found: dict[str, UnknownUnit], name: str, task: RawTask, directory: Directory) -> None:
    key = " ".join(alias_key(name))
    unit = found.get(key)
    if unit is None:
        suggestions = tuple((known.code, known.name) for known in directory.suggest(name))
        unit = found[key] = UnknownUnit(name, suggestions)
    if task.code not in unit.tasks:
        unit.tasks.append(task.code)
    if task.row is not None and task.row not in unit.rows:
        unit.rows.append(task.row)


def check_plan(raw: RawPlan, directory: Directory, year: int) -> CheckedPlan:
    """Resolve units and parse deadlines of every task; collect every problem with its row."""
    problems = list(raw.problems)
    reported = {(p.row, p.field) for p in raw.problems}  # what the reader already said about a row
    checked: list[CheckedTask] = []
    unknown_units: dict[str, UnknownUnit] = {}  # by folded name
    deadline_errors: dict[str, str] = {}
    seen: dict[str, int | None] = {}
    units_seen: dict[str, tuple[list[str], list[str]]] = {}  # a long plan repeats its units and phrases
    deadlines_seen: dict[str, Deadline | str] = {}  # a phrase's reading, or why it cannot be read
    for task in raw.tasks:
        if task.code in seen:
            problems.append(
                Problem(
                    raw.file,
                    task.row,
                    "code",
                    f"Mã nhiệm vụ {task.code} bị trùng (đã có ở dòng {seen[task.code]}).",
                )
            )
        seen.setdefault(task.code, task.row)
        unknown_lead: list[str] = []
        unknown_coordinating: list[str] = []
        lead = _resolve_units(task.lead, directory, unknown_lead, units_seen)
        if not task.lead and task.group:  # under a heading that names its unit ("PHÒNG TỔ CHỨC CÁN BỘ")
            lead = _group_units(task.group, directory)
        if not task.lead and not lead and (task.row, "lead") not in reported:
            problems.append(
                Problem(raw.file, task.row, "lead", f"Nhiệm vụ {task.code} chưa có đơn vị chủ trì.")
            )
        coordinating = _resolve_units(task.coordinating, directory, unknown_coordinating, units_seen)
        unlisted = tuple(("lead", name) for name in unknown_lead) + tuple(
            ("coordinating", name) for name in unknown_coordinating
        )
        for _role, name in unlisted:
            _note_unknown(unknown_units, name, task, directory)
        deadline: Deadline | None = None
        if not task.deadline.strip() and (task.row, "deadline") in reported:
            checked.append(CheckedTask(task, lead, coordinating, None, unlisted))
            continue
        known = deadlines_seen.get(task.deadline)
        if known is None:
            try:
                known = parse_deadline(task.deadline, year)
            except DeadlineError as error:
                known = error.reason
            deadlines_seen[task.deadline] = known
        if isinstance(known, str):  # the reason the phrase cannot be read
            deadline_errors[task.code] = known
            problems.append(Problem(raw.file, task.row, "deadline", f"Nhiệm vụ {task.code}: {known}"))
        else:
            deadline = known
        checked.append(CheckedTask(task, lead, coordinating, deadline, unlisted))

    reporting_units: tuple[str, ...] = ()
    reporting_via: str | None = None
    if raw.reporting is not None:
        for entry in raw.reporting.units:
            try:
                reporting_units += tuple(c for c in directory.resolve(entry) if c not in reporting_units)
            except UnknownUnitError as error:
                problems.append(Problem(raw.file, None, "reporting.units", f"Chế độ báo cáo: {error}"))
        try:
            reporting_via = directory.resolve(raw.reporting.via)[0]
        except (UnknownUnitError, IndexError) as error:
            problems.append(Problem(raw.file, None, "reporting.via", f"Chế độ báo cáo: {error}"))

    return CheckedPlan(
        file=raw.file,
        year=year,
        code=raw.code,
        title=raw.title,
        sections=list(raw.sections),
        tasks=checked,
        reporting_units=reporting_units,
        reporting_via=reporting_via,
        reporting_periods=raw.reporting.periods if raw.reporting else (),
        problems=problems,
        deadline_errors=deadline_errors,
        number=raw.number,
        issued_on=raw.issued_on,
        kind=raw.kind,
        pages=raw.pages,
        unknown_units=list(unknown_units.values()),
    )


_YEAR_IN_TEXT = re.compile(r"\b(?:nam|năm)\s+(\d{4})\b", re.IGNORECASE)
_ANY_YEAR = re.compile(r"\b(20\d{2})\b")


def infer_year(raw: RawPlan) -> int | None:
    """The plan's year: declared in the file, else named in its title, else the year its deadlines name most."""
    if raw.year:
        return raw.year
    if raw.title and (match := _YEAR_IN_TEXT.search(raw.title)):
        return int(match.group(1))
    years = Counter(int(y) for task in raw.tasks for y in _ANY_YEAR.findall(task.deadline))
    return years.most_common(1)[0][0] if years else None
