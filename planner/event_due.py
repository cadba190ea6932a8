"""The due date of an event-relative deadline once the event has a date ("Trong 30 ngày kể từ khi ...").

The phrase's duration is read by ``plan.deadline`` (``Deadline.offset``: amount and unit, negative before
the event); this turns it into a day, counted as the Civil Code 2015 counts periods (Art. 147-148): from the
day after the event, "ngày" and "tuần" in calendar days, "ngày làm việc" in the office's working days,
"tháng" in calendar months (the same day of the month, or the month's last day when it has no such day).

A date after the event is returned as counted, even on a day off: the rule that moves a due date on a day
off to the next working day (``WorkingCalendar.next_working_day``, applied wherever a due date is read) moves
it, as it moves any due date. A date *before* the event ("chậm nhất 5 ngày trước khi ...") that falls on a
day off is brought back to the working day before it instead, so the work is never due after the limit the
phrase sets. Pure: no clock, no I/O.
"""

from __future__ import annotations

import calendar as _months
from datetime import date, timedelta

from plan.deadline import EventOffset
from planner.calendar import WorkingCalendar

__all__ = ["due_after_event"]


def due_after_event(event: date, offset: EventOffset, calendar: WorkingCalendar) -> date:
    """The due date ``offset`` after (or before) the event of ``event``; ValueError for a date out of range."""
    amount, unit = offset.amount, offset.unit
    if unit == "working_day":
        return calendar.add_working_days(event, amount)
    if unit == "day":
        due = event + timedelta(days=amount)
    elif unit == "week":
        due = event + timedelta(days=7 * amount)
    elif unit == "month":
        due = _add_months(event, amount)
    else:
        raise ValueError(f"Đơn vị thời gian không hợp lệ: {unit!r}.")
    return calendar.previous_working_day(due) if amount < 0 else due


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _months.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
