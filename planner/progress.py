"""Where the plan stands on a day: counts by status and progress per section and per unit (pure: the web's
dashboard and task list, and the Excel export, use it).

Counts come from the weekly digest (:func:`planner.digest.build_digest`), so the
dashboard and the digest the leaders receive never disagree. The dashboard splits
the digest's "on track" into "due within 7 days" and the rest, so the five
statuses add up to the number of tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from planner.digest import SOON_DAYS, build_digest
from planner.model import TaskInput
from vocabulary import PROGRESS

STATUSES: tuple[str, ...] = ("done", "on_track", "due_soon", "overdue", "needs_date")
STATUS_LABELS = PROGRESS


def due_in_force(task: TaskInput, as_of: date) -> date | None:
    """The due date that counts on ``as_of``: the next occurrence of a recurring task, else its due date.

    The digest's reading, exactly (planner/digest.py): once every occurrence passed, the last one.
    """
    if len(task.occurrences) > 1:
        upcoming = [day for day in task.occurrences if day >= as_of]
        return upcoming[0] if upcoming else task.occurrences[-1]
    return task.due_on(as_of)


def classify(task: TaskInput, as_of: date) -> str:
    """One of :data:`STATUSES` for ``task`` on ``as_of``, as the digest counts it."""
    if task.done_on(as_of) is not None:
        return "done"
    due = due_in_force(task, as_of)
    if due is None:
        return "needs_date"
    if due < as_of:
        return "overdue"
    return "due_soon" if (due - as_of).days <= SOON_DAYS else "on_track"


def status_counts(tasks: Sequence[TaskInput], as_of: date) -> dict[str, int]:
    counts = build_digest(tasks, as_of, units=None).counts
    return {
        "done": counts.done,
        "on_track": counts.on_track - counts.due_soon,
        "due_soon": counts.due_soon,
        "overdue": counts.overdue,
        "needs_date": counts.needs_date,
    }


@dataclass(frozen=True)
class Segment:
    status: str
    count: int
    x: float  # start, in percent of the bar
    width: float  # in percent of the bar


@dataclass(frozen=True)
class Progress:
    """A row of the progress chart: a section or a unit, with its tasks counted by status."""

    key: str
    label: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done_percent(self) -> int:
        return int(100 * self.counts["done"] / self.total + 0.5) if self.total else 0  # 12.5 % shows 13

    def segments(self) -> list[Segment]:
        """The stacked bar: one segment per non-empty status, in :data:`STATUSES` order."""
        segments: list[Segment] = []
        x = 0.0
        for status in STATUSES:
            count = self.counts[status]
            if not count:
                continue
            width = 100 * count / self.total
            segments.append(Segment(status, count, round(x, 3), round(width, 3)))
            x += width
        return segments


def progress_by_section(
    tasks: Sequence[TaskInput], sections: Iterable[tuple[str, str]], as_of: date
) -> list[Progress]:
    """One row per section (code, title) that has tasks, in the order given."""
    groups: dict[str | None, list[TaskInput]] = {}
    for task in tasks:
        groups.setdefault(task.section, []).append(task)
    rows = [
        Progress(code, f"{code}. {title}", status_counts(groups[code], as_of))
        for code, title in sections
        if code in groups
    ]
    if None in groups:
        rows.append(Progress("", "Chưa xếp mục", status_counts(groups[None], as_of)))
    return rows


def progress_by_unit(
    tasks: Sequence[TaskInput], units: Iterable[tuple[str, str]], as_of: date
) -> list[Progress]:
    """One row per unit (code, name) leading at least one task, in the order given."""
    groups: dict[str, list[TaskInput]] = {}
    for task in tasks:
        for code in task.lead:
            groups.setdefault(code, []).append(task)
    return [
        Progress(code, name, status_counts(groups[code], as_of)) for code, name in units if code in groups
    ]
