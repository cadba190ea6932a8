"""The office's working calendar: which days a reminder may be sent on, and at what time.

A working day is Monday to Friday in Asia/Ho_Chi_Minh, minus Vietnam's public
holidays as the ``holidays`` package knows them (Labor Code 2019 Art. 112: the
lunar Tết and Giỗ Tổ Hùng Vương, the compensatory "nghỉ bù" days for holidays
that fall on a weekend, and the working-day swaps the package has recorded),
adjusted by what an admin declares per year in ``config/calendar.yaml``: extra
days off and make-up working days (the government announces both every year,
and the package learns of them late or never).

Everything here is pure: no clock, no I/O except :func:`load_calendar`. The
planner asks millions of questions, so each calendar keeps a lazily built index
(a sorted list of working-day ordinals over a range of years, grown on demand)
and answers with :mod:`bisect`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays
import yaml

from config import DEFAULT_TIMEZONE

DEFAULT_TZ = DEFAULT_TIMEZONE
VIETNAM_TZ = ZoneInfo(DEFAULT_TZ)
DEFAULT_SEND_TIME = time(7, 30)
DEFAULT_CALENDAR_FILE = Path(__file__).resolve().parents[1] / "config" / "calendar.yaml"

NAME_SWAPPED_DAY_OFF = "Nghỉ bù"
NAME_DECLARED_DAY_OFF = "Ngày nghỉ do cơ quan công bố"

FIRST_YEAR: int = holidays.Vietnam.start_year
LAST_YEAR: int = holidays.Vietnam.end_year


# --------------------------------------------------------------------------- package data


@dataclass(frozen=True)
class _PackageYear:
    """What the ``holidays`` package says about one year."""

    names: Mapping[date, str]  # holiday date -> Vietnamese name(s), weekends included
    weekend_workdays: frozenset[date]  # weekend days the package turns into working days (swaps)


@cache
def _package_year(year: int) -> _PackageYear:
    """Build the package's holidays for ``year`` once; the objects are slow to build and query."""
    vn = holidays.Vietnam(years=year, language="vi")  # type: ignore[no-untyped-call]  # the package's own
    names = {d: "; ".join(vn.get_list(d)) for d in vn if d.year == year}
    workdays = frozenset(d for d in vn.weekend_workdays if d.year == year)
    return _PackageYear(names=names, weekend_workdays=workdays)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"Lịch làm việc chỉ hỗ trợ các năm từ {FIRST_YEAR} đến {LAST_YEAR} (nhận được {year})."
        )


# --------------------------------------------------------------------------- index


@dataclass(frozen=True)
class _Index:
    """Working days of the years ``first_year..last_year`` as sorted ordinals."""

    first_year: int
    last_year: int
    lo: int  # ordinal of 1 January of first_year
    hi: int  # ordinal of 31 December of last_year
    ords: list[int]


class _Cache:
    """Mutable holder for a calendar's index (the calendar itself is frozen)."""

    __slots__ = ("index",)

    def __init__(self) -> None:
        self.index: _Index | None = None


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days of a Vietnamese state agency.

    ``extra_days_off`` are declared days off (always off); ``working_saturdays`` are
    declared make-up working days, Saturday or Sunday (always working, and they
    override the package too, so an admin can correct it). A date cannot be both.
    """

    tz: ZoneInfo = VIETNAM_TZ
    send_time: time = DEFAULT_SEND_TIME
    extra_days_off: frozenset[date] = frozenset()
    working_saturdays: frozenset[date] = frozenset()
    _cache: _Cache = field(default_factory=_Cache, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_days_off", frozenset(self.extra_days_off))
        object.__setattr__(self, "working_saturdays", frozenset(self.working_saturdays))
        both = self.extra_days_off & self.working_saturdays
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"Ngày vừa được công bố là ngày nghỉ vừa là ngày làm bù: {listed}.")

    # ----------------------------------------------------------------- index upkeep

    def _year_working_days(self, year: int) -> list[int]:
        pkg = _package_year(year)
        off = {d for d in pkg.names if d.weekday() < 5}
        off |= {d for d in self.extra_days_off if d.year == year}
        work = set(pkg.weekend_workdays) | {d for d in self.working_saturdays if d.year == year}
        off -= work
        start = date(year, 1, 1).toordinal()
        end = date(year, 12, 31).toordinal()
        result = []
        for o in range(start, end + 1):
            d = date.fromordinal(o)
            if (d.weekday() < 5 and d not in off) or d in work:
                result.append(o)
        return result

    def _cover(self, first_year: int, last_year: int) -> _Index:
        """Return an index covering at least ``first_year..last_year`` (grown with a year of margin)."""
        index = self._cache.index
        if index is not None and index.first_year <= first_year and last_year <= index.last_year:
            return index
        _check_year(first_year)
        _check_year(last_year)
        lo_year = max(FIRST_YEAR, first_year - 1)
        hi_year = min(LAST_YEAR, last_year + 1)
        if index is not None:
            lo_year = min(lo_year, index.first_year)
            hi_year = max(hi_year, index.last_year)
        ords: list[int] = []
        for year in range(lo_year, hi_year + 1):
            ords.extend(self._year_working_days(year))
        index = _Index(
            first_year=lo_year,
            last_year=hi_year,
            lo=date(lo_year, 1, 1).toordinal(),
            hi=date(hi_year, 12, 31).toordinal(),
            ords=ords,
        )
        self._cache.index = index
        return index

    def _index_for(self, o: int, year: int) -> _Index:
        index = self._cache.index
        if index is None or not index.lo <= o <= index.hi:
            index = self._cover(year, year)
        return index

    def _at(self, o: int, year: int, start: Literal["left", "right"], offset: int) -> date:
        """The working day ``offset`` places from ``bisect_<start>(ords, o)``."""
        index = self._index_for(o, year)
        while True:
            ords = index.ords
            base = bisect_left(ords, o) if start == "left" else bisect_right(ords, o)
            i = base + offset
            if 0 <= i < len(ords):
                return date.fromordinal(ords[i])
            span = abs(offset) // 240 + 1  # about 245-250 working days a year
            if i < 0:
                index = self._cover(index.first_year - span, index.last_year)
            else:
                index = self._cover(index.first_year, index.last_year + span)

    # ----------------------------------------------------------------- queries

    def is_working_day(self, d: date) -> bool:
        o = d.toordinal()
        index = self._index_for(o, d.year)
        ords = index.ords
        i = bisect_left(ords, o)
        return i < len(ords) and ords[i] == o

    def holiday_name(self, d: date) -> str | None:
        """Why ``d`` is a day off, in Vietnamese; ``None`` for working days and ordinary weekends."""
        if d in self.working_saturdays:
            return None
        _check_year(d.year)
        name = _package_year(d.year).names.get(d)
        if name is not None:
            return name
        if d in self.extra_days_off:
            return NAME_SWAPPED_DAY_OFF if self._joins_a_holiday(d) else NAME_DECLARED_DAY_OFF
        return None

    def _joins_a_holiday(self, d: date) -> bool:
        """Whether the run of days off around ``d`` contains a public holiday (then ``d`` extends it)."""
        for step in (timedelta(days=-1), timedelta(days=1)):
            day = d + step
            for _ in range(14):
                if not FIRST_YEAR <= day.year <= LAST_YEAR or self.is_working_day(day):
                    break
                if day not in self.working_saturdays and day in _package_year(day.year).names:
                    return True
                day += step
        return False

    def next_working_day(self, d: date, include_self: bool = True) -> date:
        return self._at(d.toordinal(), d.year, "left" if include_self else "right", 0)

    def previous_working_day(self, d: date, include_self: bool = True) -> date:
        return self._at(d.toordinal(), d.year, "right" if include_self else "left", -1)

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day strictly after (``n > 0``) or before (``n < 0``) ``d``.

        ``d`` itself need not be a working day; ``n == 0`` gives ``d`` if it is one, else the next.
        """
        o = d.toordinal()
        if n > 0:
            return self._at(o, d.year, "right", n - 1)
        if n < 0:
            return self._at(o, d.year, "left", n)
        return self._at(o, d.year, "left", 0)

    def working_days_between(self, a: date, b: date) -> int:
        """Number of working days in ``(a, b]``; negative (minus the count in ``(b, a]``) when ``b < a``.

        For working days ``a`` and ``b``: ``add_working_days(a, working_days_between(a, b)) == b``.
        """
        index = self._cover(min(a.year, b.year), max(a.year, b.year))
        ords = index.ords
        return bisect_right(ords, b.toordinal()) - bisect_right(ords, a.toordinal())

    def working_days(self, start: date, end: date) -> Iterator[date]:
        """The working days from ``start`` to ``end``, both inclusive (nothing if ``end < start``)."""
        if end < start:
            return iter(())
        index = self._cover(start.year, end.year)
        ords = index.ords
        i = bisect_left(ords, start.toordinal())
        j = bisect_right(ords, end.toordinal())
        return (date.fromordinal(o) for o in ords[i:j])

    def first_working_day_of_month(self, year: int, month: int) -> date:
        return self.next_working_day(date(year, month, 1))

    def shift(self, d: date, direction: Literal["earlier", "later"]) -> date:
        """Move a day off to a working day: ``earlier`` for reminders (before the deadline),
        ``later`` for kick-offs, escalations and follow-ups. A working day stays put."""
        if direction == "earlier":
            return self.previous_working_day(d)
        if direction == "later":
            return self.next_working_day(d)
        raise ValueError(f"Hướng dời ngày không hợp lệ: {direction!r} (chỉ nhận 'earlier' hoặc 'later').")

    def at_send_time(self, d: date) -> datetime:
        """``d`` at the send time, as an aware datetime in the calendar's time zone."""
        return datetime.combine(d, self.send_time, tzinfo=self.tz)


# --------------------------------------------------------------------------- loading

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOP_KEYS = ("timezone", "send_time", "years")
_YEAR_KEYS = ("days_off", "working_saturdays")


class _StringDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so a bad date is reported with its field."""


_StringDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_send_time(value: object, where: str) -> time:
    """``"HH:MM"`` -> :class:`time`; ``where`` prefixes the Vietnamese error message."""
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f'{where}: giá trị {value!r} không phải giờ dạng HH:MM (ví dụ "07:30", đặt trong dấu nháy kép).'
        )
    return time(int(match.group(1)), int(match.group(2)))


def _parse_date(value: object, where: str) -> date:
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(
        f"{where}: giá trị {value!r} không phải ngày hợp lệ (cần dạng YYYY-MM-DD, ví dụ 2020-01-23)."
    )


def _parse_year_key(key: object, where: str) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        year = key
    elif isinstance(key, str) and key.strip().isdigit():
        year = int(key.strip())
    else:
        raise ValueError(f"{where}: {key!r} không phải là năm (cần số năm, ví dụ 2020).")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"{where}: năm {year} nằm ngoài khoảng hỗ trợ {FIRST_YEAR}–{LAST_YEAR}.")
    return year


def _check_keys(mapping: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [str(k) for k in mapping if k not in allowed]
    if unknown:
        raise ValueError(f"{where}: khóa không hợp lệ {', '.join(unknown)} (chỉ nhận: {', '.join(allowed)}).")


def _parse_dates(value: object, year: int, where: str) -> set[date]:
    if value is None:
        return set()
    if not isinstance(value, list):
        raise ValueError(f"{where}: cần một danh sách ngày dạng YYYY-MM-DD.")
    result = set()
    for i, item in enumerate(value):
        d = _parse_date(item, f"{where}[{i}]")
        if d.year != year:
            raise ValueError(f"{where}[{i}]: ngày {d.isoformat()} không thuộc năm {year}.")
        result.add(d)
    return result


def _parse_years(value: object, src: str) -> tuple[set[date], set[date]]:
    days_off: set[date] = set()
    working: set[date] = set()
    if value is None:
        return days_off, working
    if not isinstance(value, dict):
        raise ValueError(f"{src}: years: cần một bảng theo năm (ví dụ 2020: {{days_off: [...]}}).")
    for key, entry in value.items():
        year = _parse_year_key(key, f"{src}: years")
        where = f"{src}: years.{year}"
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: cần các khóa days_off và working_saturdays.")
        _check_keys(entry, _YEAR_KEYS, where)
        off = _parse_dates(entry.get("days_off"), year, f"{where}.days_off")
        work = _parse_dates(entry.get("working_saturdays"), year, f"{where}.working_saturdays")
        if off & work:
            listed = ", ".join(d.isoformat() for d in sorted(off & work))
            raise ValueError(
                f"{where}: ngày {listed} vừa nằm trong days_off vừa nằm trong working_saturdays."
            )
        days_off |= off
        working |= work
    return days_off, working


def _parse_timezone(value: object, src: str) -> ZoneInfo:
    if value is None:
        return VIETNAM_TZ
    try:
        if not isinstance(value, str):
            raise ValueError
        return ZoneInfo(value)
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(
            f"{src}: timezone: múi giờ {value!r} không tồn tại (ví dụ {DEFAULT_TIMEZONE})."
        ) from exc


def calendar_from_mapping(
    data: object, src: str, *, send_time: str | None = None, timezone: str | None = None
) -> WorkingCalendar:
    """Build a calendar from the parsed YAML ``data``; ``src`` names the file in error messages."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{src}: nội dung phải là một bảng với các khóa {', '.join(_TOP_KEYS)}.")
    _check_keys(data, _TOP_KEYS, src)
    tz = (
        _parse_timezone(data.get("timezone"), src)
        if timezone is None
        else _parse_timezone(timezone, "timezone")
    )
    if send_time is not None:
        at = parse_send_time(send_time, "send_time")
    elif data.get("send_time") is not None:
        at = parse_send_time(data["send_time"], f"{src}: send_time")
    else:
        at = DEFAULT_SEND_TIME
    days_off, working = _parse_years(data.get("years"), src)
    return WorkingCalendar(
        tz=tz, send_time=at, extra_days_off=frozenset(days_off), working_saturdays=frozenset(working)
    )


def load_calendar(
    path: Path | None = None, *, send_time: str | None = None, timezone: str | None = None
) -> WorkingCalendar:
    """Read ``config/calendar.yaml`` (or ``path``); ``send_time`` ("HH:MM") and ``timezone`` (the settings')
    override the file's.

    Raises :class:`ValueError` with a Vietnamese message naming the file and the field.
    """
    path = DEFAULT_CALENDAR_FILE if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: không đọc được tệp lịch làm việc ({exc.strerror or exc}).") from exc
    try:
        data = yaml.load(text, Loader=_StringDatesLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" ở dòng {mark.line + 1}, cột {mark.column + 1}" if mark is not None else ""
        raise ValueError(f"{path}: tệp YAML sai cú pháp{where}.") from exc
    return calendar_from_mapping(data, str(path), send_time=send_time, timezone=timezone)
