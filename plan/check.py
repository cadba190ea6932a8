"""Checking a plan: resolve every unit through the directory and parse every deadline.

Pure: a :class:`~plan.model.RawPlan` and a directory in, a :class:`CheckedPlan`
out, with every problem listed (not just the first) so the office can fix the
whole file in one go.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from plan.deadline import Deadline, DeadlineError, parse_deadline
from plan.model import Problem, RawPlan, RawSection, RawTask
from plan.units import Directory, UnknownUnitError


@dataclass(frozen=True)
class CheckedTask:
    raw: RawTask
    lead: tuple[str, ...]  # unit codes
    coordinating: tuple[str, ...]
    deadline: Deadline | None  # None when the phrase could not be read

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
        }


_FIELD_NAMES = {"lead": "đơn vị chủ trì", "coordinating": "đơn vị phối hợp"}


def _resolve_units(
    entries: tuple[str, ...],
    fieldname: str,
    task: RawTask,
    directory: Directory,
    problems: list[Problem],
    file: str,
) -> tuple[str, ...]:
    codes: list[str] = []
    for entry in entries:
        try:
            resolved = directory.resolve(entry)
        except UnknownUnitError as error:
            problems.append(
                Problem(
                    file, task.row, fieldname, f"Nhiệm vụ {task.code}: {_FIELD_NAMES[fieldname]} — {error}"
                )
            )
            continue
        codes.extend(code for code in resolved if code not in codes)
    return tuple(codes)


def _group_units(heading: str, directory: Directory) -> tuple[str, ...]:
    """The units a heading names, when all of it names units; () for a heading that is a title."""
    try:
        return tuple(directory.resolve(heading))
    except UnknownUnitError:
        return ()


def check_plan(raw: RawPlan, directory: Directory, year: int) -> CheckedPlan:
    """Resolve units and parse deadlines of every task; collect every problem with its row."""
    problems = list(raw.problems)
    reported = {(p.row, p.field) for p in raw.problems}  # what the reader already said about a row
    checked: list[CheckedTask] = []
    deadline_errors: dict[str, str] = {}
    seen: dict[str, int | None] = {}
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
        lead = _resolve_units(task.lead, "lead", task, directory, problems, raw.file)
        if not task.lead and task.group:  # under a heading that names its unit ("PHÒNG TỔ CHỨC CÁN BỘ")
            lead = _group_units(task.group, directory)
        if not task.lead and not lead and (task.row, "lead") not in reported:
            problems.append(
                Problem(raw.file, task.row, "lead", f"Nhiệm vụ {task.code} chưa có đơn vị chủ trì.")
            )
        coordinating = _resolve_units(task.coordinating, "coordinating", task, directory, problems, raw.file)
        deadline: Deadline | None = None
        if not task.deadline.strip() and (task.row, "deadline") in reported:
            checked.append(CheckedTask(task, lead, coordinating, None))
            continue
        try:
            deadline = parse_deadline(task.deadline, year)
        except DeadlineError as error:
            deadline_errors[task.code] = error.reason
            problems.append(Problem(raw.file, task.row, "deadline", f"Nhiệm vụ {task.code}: {error.reason}"))
        checked.append(CheckedTask(task, lead, coordinating, deadline))

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
