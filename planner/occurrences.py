"""The periods of recurring work: each due date of a recurring task is one occurrence, named by its period.

Pure functions of a deadline phrase and its due dates (no database, no clock). A recurring task
("Hằng tháng", "Định kỳ hằng quý", "hàng quý, 6 tháng, 9 tháng, hàng năm") is done period by period:
each occurrence has its own status, due date, reminders, escalation and completion, and is named by
a period label:

* ``2026-11``: a month; ``2026-Q3``: a quarter; ``2026-H1`` / ``2026-H2``: a half year;
  ``2026-9M``: the first nine months; ``2026``: the year; ``2026-W05``: an ISO week;
  ``2026-11-05``: a day, when a phrase has several due dates in one month ("ngày 5 và 20 hằng tháng").

A due date in a month that closes several periods is named after the longest one the phrase names
(June 30 of "hàng quý, 6 tháng, 9 tháng, hàng năm" is ``2026-H1``, as the planner merges report
periods sharing a cut-off) and answers to the others too (``2026-Q2``, ``2026-06``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from plan.text import fold

T = TypeVar("T")

_WEEKLY = re.compile(r"\b(?:hang|moi)\s?tuan\b|\btuan\b")
_QUARTER = re.compile(r"\bquy\b")
_HALF = re.compile(r"\b(?:6|sau)\s?thang\b")
_NINE = re.compile(r"\b(?:9|chin)\s?thang\b")
_YEAR = re.compile(r"\b(?:hang|moi|ca|cuoi)\s?nam\b|\bnam bao cao\b")
_MONTH = re.compile(r"\b(?:hang|moi)\s?thang\b|\bthang bao cao\b|\bthang\s(?:sau|tiep theo|ke tiep)\b")

_PERIOD_FORMS = (
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{1,2})/(\d{4})$"), "month-vn"),
    (re.compile(r"^(\d{4})-?q([1-4])$"), "quarter"),
    (re.compile(r"^q([1-4])[/-](\d{4})$"), "quarter-vn"),
    (re.compile(r"^(\d{4})-?h([12])$"), "half"),
    (re.compile(r"^h([12])[/-](\d{4})$"), "half-vn"),
    (re.compile(r"^(\d{4})-?9m$"), "nine"),
    (re.compile(r"^(\d{4})-?w(\d{1,2})$"), "week"),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "day"),
    (re.compile(r"^(\d{4})$"), "year"),
)


@dataclass(frozen=True)
class Occurrence:
    """One period of recurring work: its label, due date as planned, and the labels it also answers to."""

    period: str
    due: date
    aliases: tuple[str, ...] = ()

    def answers_to(self, label: str) -> bool:
        return label == self.period or label in self.aliases


def is_recurring(kind: str, occurrences: Sequence[object]) -> bool:
    """Whether a task is done period by period: a recurring deadline with more than one due date."""
    return str(kind) == "recurring" and len(occurrences) > 1


def occurrences_of(deadline_text: str, dues: Sequence[date]) -> list[Occurrence]:
    """The occurrences of a recurring deadline, in due order, each named by its period (see the module)."""
    dues = sorted(set(dues))
    if not dues:
        return []
    text = fold(deadline_text)
    months = [d.month for d in dues]
    per_month: dict[tuple[int, int], int] = {}
    for d in dues:
        per_month[(d.year, d.month)] = per_month.get((d.year, d.month), 0) + 1
    if _WEEKLY.search(text) and not _MONTH.search(text):
        labels = [[_week(d)] for d in dues]
    elif max(per_month.values()) > 1:
        labels = [[d.isoformat()] for d in dues]
    else:
        names_month = _MONTH.search(text) is not None or len(set(months)) > 6
        names_quarter = _QUARTER.search(text) is not None
        names_half = _HALF.search(text) is not None
        names_nine = _NINE.search(text) is not None
        names_year = _YEAR.search(text) is not None
        labels = []
        for d in dues:
            candidates: list[str] = []
            month = f"{d.year}-{d.month:02d}"
            quarter = f"{d.year}-Q{(d.month - 1) // 3 + 1}"
            if names_month:
                candidates.append(month)
            if names_year and d.month == 12:
                candidates.append(f"{d.year}")
            if names_nine and d.month == 9:
                candidates.append(f"{d.year}-9M")
            if names_half and d.month in (6, 12):
                candidates.append(f"{d.year}-H{1 if d.month == 6 else 2}")
            if names_quarter:
                candidates.append(quarter)
            if not names_month:
                if len(dues) == 1 or (d.month == 12 and not candidates):
                    candidates.append(f"{d.year}")
                candidates.append(month)
            if names_month:  # a monthly task: the month is the name, the others aliases in order
                candidates.remove(month)
                candidates.insert(0, month)
            labels.append(_unique(candidates))
    primaries = [names[0] for names in labels]
    if len(set(primaries)) != len(primaries):  # two dues would share a name: name each by its day
        labels = [[d.isoformat(), *names] for d, names in zip(dues, labels, strict=True)]
    return [
        Occurrence(names[0], d, tuple(n for n in names[1:] if n != names[0]))
        for d, names in zip(dues, labels, strict=True)
    ]


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _unique(names: list[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def normalise_period(text: str) -> str | None:
    """A period as a user writes it, in canonical form: "11/2026" -> "2026-11", "q3/2026" -> "2026-Q3";
    None when it is not a period."""
    value = fold(text).replace(" ", "").replace("quy", "q").replace("nam", "")
    value = value.replace("6t", "h1") if value.startswith("6t") else value
    for pattern, form in _PERIOD_FORMS:
        m = pattern.match(value)
        if not m:
            continue
        if form == "month" and 1 <= int(m[2]) <= 12:
            return f"{m[1]}-{int(m[2]):02d}"
        if form == "month-vn" and 1 <= int(m[1]) <= 12:
            return f"{m[2]}-{int(m[1]):02d}"
        if form == "quarter":
            return f"{m[1]}-Q{m[2]}"
        if form == "quarter-vn":
            return f"{m[2]}-Q{m[1]}"
        if form == "half":
            return f"{m[1]}-H{m[2]}"
        if form == "half-vn":
            return f"{m[2]}-H{m[1]}"
        if form == "nine":
            return f"{m[1]}-9M"
        if form == "week" and 1 <= int(m[2]) <= 53:
            return f"{m[1]}-W{int(m[2]):02d}"
        if form == "day":
            try:
                return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                return None
        if form == "year":
            return m[1]
    return None


_ROMAN = ("I", "II", "III", "IV")


def period_words(label: str) -> str:
    """A period label as a report says it: "2026-05" -> "tháng 05/2026", "2026-Q3" -> "quý III/2026",
    "2026-H1" -> "6 tháng đầu năm 2026", "2026-9M" -> "9 tháng năm 2026", "2026" -> "năm 2026",
    "2026-W05" -> "tuần 05/2026", "2026-11-05" -> "ngày 05/11/2026"; any other label as it is."""
    if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        return f"tháng {m[2]}/{m[1]}"
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        return f"quý {_ROMAN[int(m[2]) - 1]}/{m[1]}"
    if m := re.fullmatch(r"(\d{4})-H([12])", label):
        return f"6 tháng {'đầu' if m[2] == '1' else 'cuối'} năm {m[1]}"
    if m := re.fullmatch(r"(\d{4})-9M", label):
        return f"9 tháng năm {m[1]}"
    if m := re.fullmatch(r"(\d{4})-W(\d{2})", label):
        return f"tuần {m[2]}/{m[1]}"
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", label):
        return f"ngày {m[3]}/{m[2]}/{m[1]}"
    if re.fullmatch(r"\d{4}", label):
        return f"năm {label}"
    return label


def find_occurrence(occurrences: Sequence[Occurrence], label: str) -> Occurrence | None:
    """The occurrence a (canonical) period label names: its own name first, then an alias."""
    for occurrence in occurrences:
        if occurrence.period == label:
            return occurrence
    for occurrence in occurrences:
        if label in occurrence.aliases:
            return occurrence
    return None


def window_start(occurrences: Sequence[Occurrence], index: int, start: date | None) -> date | None:
    """The first day of an occurrence's period: the day after the previous due date (the task's start
    for the first)."""
    if index == 0:
        return start
    return occurrences[index - 1].due + timedelta(days=1)


def current_index(dues: Sequence[date], day: date) -> int:
    """The occurrence current on ``day``: the first whose due date is on or after it (the last after
    the year's last due date)."""
    for index, due in enumerate(dues):
        if day <= due:
            return index
    return len(dues) - 1


def current_occurrences(tasks: Sequence[T], as_of: date) -> list[T]:
    """One input per task for views that count tasks (the digest, the dashboard, the task list): recurring
    work is shown by the occurrence that matters on ``as_of``: the earliest one still open and overdue,
    else the current one (the first due on or after ``as_of``), else the last. Other tasks pass through."""
    chosen: dict[tuple[str, str], T] = {}
    order: list[tuple[str, str] | int] = []
    out: list[T] = []
    for index, task in enumerate(tasks):
        if getattr(task, "period", None) is None:
            order.append(index)
            out.append(task)
            continue
        key = (task.plan, task.code)  # type: ignore[attr-defined]
        best = chosen.get(key)
        if best is None:
            order.append(key)
            chosen[key] = task
        elif _rank(task, as_of) < _rank(best, as_of):
            chosen[key] = task
    result: list[T] = []
    passthrough = iter(out)
    for entry in order:
        result.append(next(passthrough) if isinstance(entry, int) else chosen[entry])
    return result


def _rank(task: Any, as_of: date) -> tuple[int, date]:
    due = task.due_on(as_of) or task.due
    if task.done_on(as_of) is None and due < as_of:
        return (0, due)  # overdue and open: the earliest first
    if due >= as_of:
        return (1, due)  # the current period
    return (2, date.max - (due - date.min))  # past and done: the latest
