"""The working calendar in force: the calendar file, plus the days an admin declared in the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from plan.errors import UserError
from planner.calendar import WorkingCalendar, load_calendar
from store.models import CalendarDay


def working_calendar(
    session: Session, calendar_file: Path, send_time: str | None = None, timezone: str | None = None
) -> WorkingCalendar:
    """The calendar file with the days declared in the database; ``send_time`` and ``timezone`` (the
    settings') override the file's."""
    try:
        base = load_calendar(calendar_file, send_time=send_time, timezone=timezone)
    except ValueError as error:
        raise UserError(str(error)) from None
    declared = list(session.exec(select(CalendarDay)))
    off = {d.day for d in declared if d.kind == "off"}
    working = {d.day for d in declared if d.kind == "working"}
    return replace(
        base,
        extra_days_off=(base.extra_days_off - working) | off,
        working_saturdays=(base.working_saturdays - off) | working,
    )


def declare_day(session: Session, day: date, kind: str, note: str | None) -> None:
    """Declare ``day`` a day off (``off``) or a make-up working day (``working``), replacing any earlier word."""
    if kind not in ("off", "working"):
        raise UserError(f"Loại ngày '{kind}' không hợp lệ: dùng off (nghỉ) hoặc working (làm bù).")
    record = session.get(CalendarDay, day) or CalendarDay(day=day, kind=kind)
    record.kind = kind
    record.note = note
    session.add(record)
    session.flush()


def undeclare_day(session: Session, day: date) -> None:
    record = session.get(CalendarDay, day)
    if record is None:
        raise UserError(f"Ngày {day:%d/%m/%Y} chưa được khai báo.")
    session.delete(record)
    session.flush()


def declared_days(session: Session, year: int | None = None) -> list[CalendarDay]:
    query = select(CalendarDay).order_by(col(CalendarDay.day))
    if year is not None:
        query = query.where(
            col(CalendarDay.day) >= date(year, 1, 1), col(CalendarDay.day) <= date(year, 12, 31)
        )
    return list(session.exec(query))
