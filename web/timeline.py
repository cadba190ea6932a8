"""The year timeline of the dashboard (a Gantt chart): geometry only, drawn as SVG by the template.

Each row is a task's window, from its start to its due date; a task with a due date
but no start (a plain date) is a diamond on its due day; an open-ended window runs
to the end of the axis. Days map to x linearly, a day being a slice of the width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

LABEL_WIDTH = 64
CHART_WIDTH = 960
ROW_HEIGHT = 16
AXIS_HEIGHT = 22
BAR_HEIGHT = 10


@dataclass(frozen=True)
class TimelineRow:
    key: str  # the label at the left: a task code (or a section code)
    title: str  # the tooltip
    start: date | None
    due: date | None
    status: str  # a dashboard status: the bar's colour
    href: str | None = None


@dataclass(frozen=True)
class Bar:
    row: TimelineRow
    y: float  # top of the row
    x: float | None  # None: nothing to draw inside the axis (no dates, or outside the range)
    width: float
    milestone: bool  # a single day (no start): drawn as a diamond centred on x
    open_end: bool  # no due date: the bar runs to the end of the axis


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    first: date
    last: date
    today: date
    width: int
    height: int
    ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]
    today_x: float | None  # None when today is outside the axis


def _x(day: date, first: date, span_days: int) -> float:
    return round(LABEL_WIDTH + (day - first).days * CHART_WIDTH / span_days, 2)


def _bar(row: TimelineRow, y: float, first: date, last: date, span: int) -> Bar:
    if row.start is None and row.due is None:
        return Bar(row, y, None, 0, milestone=False, open_end=False)
    if row.start is None:
        assert row.due is not None
        if not first <= row.due <= last:
            return Bar(row, y, None, 0, milestone=True, open_end=False)
        middle = (_x(row.due, first, span) + _x(row.due + timedelta(days=1), first, span)) / 2
        return Bar(row, y, round(middle, 2), 0, milestone=True, open_end=False)
    start = max(row.start, first)
    end = min(row.due, last) if row.due is not None else last
    if start > end:
        return Bar(row, y, None, 0, milestone=False, open_end=row.due is None)
    x = _x(start, first, span)
    width = round(_x(end + timedelta(days=1), first, span) - x, 2)
    return Bar(row, y, x, width, milestone=False, open_end=row.due is None)


def build_timeline(rows: Sequence[TimelineRow], first: date, last: date, today: date) -> Timeline:
    """The chart of ``rows`` over the days ``first``..``last`` (both included), with ``today`` marked."""
    if last < first:
        raise ValueError("the timeline ends before it starts")
    span = (last - first).days + 1
    ticks = []
    month = first.replace(day=1)
    while month <= last:
        if month >= first:
            label = f"Tháng {month.month}" if month.month != 1 or month == first else f"1/{month.year}"
            ticks.append(Tick(_x(month, first, span), label))
        month = (month + timedelta(days=32)).replace(day=1)
    bars = tuple(
        _bar(row, AXIS_HEIGHT + index * ROW_HEIGHT, first, last, span) for index, row in enumerate(rows)
    )
    today_x = None
    if first <= today <= last:
        today_x = round((_x(today, first, span) + _x(today + timedelta(days=1), first, span)) / 2, 2)
    return Timeline(
        first=first,
        last=last,
        today=today,
        width=LABEL_WIDTH + CHART_WIDTH + 8,
        height=AXIS_HEIGHT + max(len(rows), 1) * ROW_HEIGHT + 4,
        ticks=tuple(ticks),
        bars=bars,
        today_x=today_x,
    )
