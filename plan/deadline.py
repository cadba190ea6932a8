"""Vietnamese deadline phrases ("Quý III/2020", "Trước 31/12/2020") as structured deadlines.

``parse_deadline(text, year)`` is a pure function of the phrase and the plan
year: it returns a :class:`Deadline` or raises :class:`DeadlineError`, nothing
else. Matching is done on the folded phrase (``plan.text.fold``: lower case, no
diacritics), so case, NFD input, odd spacing and text typed without diacritics
("Quy III/2020", "truoc 31/12/2020") give the same result. The README's
"Deadlines" section has the same conventions with examples.

Kinds and their fields:

* ``date``: one day; start None, occurrences (due,).
* ``window``: a period; start and due (due None only for an open "từ <date>"
  window); occurrences (due,), or () when open.
* ``recurring``: start Jan 1 of the plan year, occurrences every due date in
  the plan year (sorted), due the last of them.
* ``continuous``: start Jan 1, due Dec 31 of the year named (else the plan
  year), occurrences (due,).
* ``event`` (waits for something outside the plan) and ``unscheduled`` (an
  admin must set a date): no dates, occurrences (). An event may carry an
  ``offset`` ("trong vòng 15 ngày làm việc kể từ ..." = +15 working days), kept
  for when the event gets a date.

Above all, never a wrong date: a reading that is not certain raises
:class:`DeadlineError` with a reason, and a phrase that names a date is never
read as an event, unscheduled or continuous by a keyword alone.

Conventions:

* Dates: d/m/y, d-m-y, d.m.y, "ngày 31 tháng 12 năm 2020", two- or four-digit
  year (20 = 2020). A missing year is the plan year. An impossible date
  (31/02/2020), month 13, quarter 5 or a year outside 1900-2199 is an error; so is
  a result (start, due or an occurrence) outside the working calendar's years
  (plan.limits.calendar_years, 1901-2100), which could not be moved off a holiday.
* Periods are windows: a month ("Tháng 6/2020", "T6/2020", "06/2020"); a quarter
  (Roman or Arabic, "Quý", "Qúy", "Quí", "Q3"); "N tháng đầu/cuối năm" (also
  "Sáu tháng ...", "nửa đầu/cuối năm"); a year ("Năm 2020", "Trong năm", "Cả
  năm"); "năm học 2020-2021" (Sep 1 2020 to May 31 2021); "đầu/giữa/cuối tháng
  M" (days 1-10 / 11-20 / 21-end); "đầu/giữa/cuối quý Q" (its first / second /
  last month); "đầu/giữa/cuối năm" (quarter I / quarters II-III / quarter IV).
  A single day on its own, or after "trong"/"vào", is a ``date``.
* Ranges ("từ X đến (hết) Y", "X - Y", "bắt đầu từ X và kết thúc (trước) Y",
  "Quý II-III/2021", "2021-2025", "15-20/12/2020") are one window from the
  start of X to the end of Y (the day before Y after "trước"); lists ("X và Y",
  "X, Y", "X; Y", X and Y on separate lines of the cell: "tháng 3 và tháng 4
  năm 2021") from the earliest start to the latest end. Days of one month may
  share it ("từ 12 đến hết 20/8", "các ngày 3, 4 và 5/9", "hai ngày 8 và 9/10":
  a count must match); a list of days that do not follow each other is a
  ``recurring`` deadline with each day (all in the plan year). "hoặc" is refused. An endpoint without a year (or,
  for a day, a month) takes it from its right neighbour, else its left one,
  else the plan year ("từ 15/3 đến 30/6/2020"). If a range then runs backwards,
  the endpoint whose year was not written moves by a year ("từ tháng 11 đến
  tháng 2/2021" starts Nov 1 2020; "từ 15/11/2020 đến 20/2" ends Feb 20 2021).
* "trước X" is a ``date`` due the day before X starts ("trước 31/12" = Dec 30,
  "trước tháng 12" = Nov 30, "trước quý III" = Jun 30, "trước năm 2021" =
  Dec 31 2020, "trước cuối tháng 6" = Jun 20), except that with a time of day
  ("trước 16h30 ngày 5/8"; 16h30, 16h, 16 giờ 30, 16:30, 17h00', 17g00, "sáng/
  chiều/trưa" before the date) it is due that day. With several X, the
  earliest counts. "trước" wins over other prefixes ("chậm nhất trước ngày
  20/12" = Dec 19). A weekday written with a day must be that day's.
* "chậm nhất / muộn nhất / không muộn hơn / không quá / đến (hết) / hết / từ nay
  đến X" is a ``date`` due the last day of X ("đến hết quý I" = Mar 31).
* "từ / bắt đầu (từ) / kể từ / sớm nhất / không sớm hơn X" alone, or "X trở đi" /
  "X và các năm tiếp theo", opens a window from the start of X with no due date;
  "sau X" opens one from the day after X ends.
* "năm sau / năm kế tiếp / năm tiếp theo / năm tới" is the year after the plan
  year, "năm nay / năm kế hoạch" the plan year (not in recurring phrases).
* Recurring ("hằng/hàng/mỗi tuần|tháng|quý|năm", "định kỳ ...", "tháng
  đầu/giữa/cuối quý", "N tháng/lần"): "hằng tháng" = last day of each month,
  "hằng quý" = last day of each quarter, "hằng năm" = Dec 31, "định kỳ N
  tháng" = end of months N, 2N, ... (6: Jun 30 and Dec 31; 9: Sep 30), "hằng
  tuần" = every Friday unless weekdays are named ("thứ 2", "thứ Hai", "chủ
  nhật"). Several periods are merged ("hàng quý, 6 tháng, 9 tháng, hàng năm"
  = the quarter ends). "ngày D" (or "ngày D và E") is that day of each due
  month, clamped to the month's length; for quarters, in the last month of the
  quarter unless "tháng đầu/giữa quý" is said. Day and month ("ngày 10/11 hằng
  năm", "15/6 và 15/12 hằng năm") are those dates each year; a numbered month
  or quarter with "hằng năm" ("tháng 12 hằng năm", "quý I hằng năm") is the
  end of that month or quarter each year. "trước" moves every occurrence one
  day earlier ("trước ngày 20 hằng tháng" = the 19th; "trước ngày 1 hằng
  tháng" = the last day of each month). "định kỳ" without a period is an error.
  "năm/tháng/quý/kỳ báo cáo" and "ngày D (của) tháng sau" are recurring;
  "tháng cuối kỳ báo cáo" is the due month of the period named. A recurring
  phrase naming years without the plan year, or mixing fixed dates with
  periodic days, is refused.
* One date per report: "X đối với báo cáo A, Y đối với báo cáo B" and "Báo cáo
  A: X; báo cáo B: Y" are recurring with every due date of X and Y.
* Continuous: "Thường xuyên", "liên tục", "hằng ngày", "mỗi ngày", optionally
  followed by a period that then gives start and due ("Thường xuyên trong năm
  2021", "... trong quý III/2020"); anything else after them is ignored.
* Event: a phrase starting "sau khi", "khi", "trước khi", "kể từ khi", "từ
  khi"; and, when nothing else was understood, a phrase starting "sau" or "(bắt
  đầu) từ ngày", or containing "khi", "kể từ" ("kể từ ngày Luật có hiệu lực",
  "trong vòng 30 ngày kể từ ngày ký"). "kể từ ngày 01/7/2020" is an open window.
* Unscheduled: "Theo Kế hoạch", "đột xuất", "khi có yêu cầu", "theo yêu cầu",
  "khi có chỉ đạo", "theo chỉ đạo", "khi cần thiết", "chưa xác định", "chưa
  có thời hạn", "theo tiến độ". A phrase starting with one is unscheduled
  whatever follows. Inside an event phrase they win ("Sau khi có yêu cầu");
  elsewhere they count only when nothing else was understood ("Định kỳ và đột
  xuất" is unscheduled, "Định kỳ hằng quý và đột xuất" recurring).
* Order of precedence: unscheduled start, continuous start, event start, one
  date per report, recurring, dates and periods, then the keyword fallbacks
  above (only for phrases that name no date).
* Ignored: leading words ("hoàn thành", "dự kiến", "vào", "thời hạn:", "thời
  gian", "hạn chót", "thực hiện", "triển khai", "báo cáo", "gửi", "nộp", ...)
  and a report label ("Báo cáo năm:"); plain words before the date ("trình UBND
  tỉnh") holding no number, period, operator or condition; qualifiers after
  it ("đối với ...", "tính theo dấu bưu điện", "để ...") naming no date;
  leading bullets and trailing punctuation; "lúc/hồi" before a time. "–", "—"
  and "~" count as "-".
* Parentheses: one naming no date is ignored ("(tùy tình hình)"); one naming a
  date inside the other reading narrows it ("Quý III/2020 (trước 30/9)" = due
  Sep 29); one that disagrees is refused; one after plain words is the
  deadline ("Báo cáo kết quả (trước 15/12)").
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise

from plan.errors import UserError
from plan.text import clean, fold
from vocabulary import OFFSET_UNITS, WEEKDAYS

__all__ = ["Deadline", "DeadlineError", "DeadlineKind", "EventOffset", "parse_deadline"]

MIN_YEAR = 1900
MAX_YEAR = 2199
_ONE_DAY = timedelta(days=1)
_ONE_WEEK = timedelta(days=7)


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile for matching folded text (ASCII letters and digits only matter)."""
    return re.compile(pattern, re.ASCII)


class DeadlineKind(StrEnum):
    DATE = "date"
    WINDOW = "window"
    RECURRING = "recurring"
    CONTINUOUS = "continuous"
    EVENT = "event"
    UNSCHEDULED = "unscheduled"


@dataclass(frozen=True)
class EventOffset:
    """How long after (``amount`` > 0) or before (< 0) the event the work is due: "15 ngày làm việc"."""

    amount: int
    unit: str  # "day", "working_day", "week" or "month" (vocabulary.OFFSET_UNITS)

    def to_json(self) -> dict[str, object]:
        return {"amount": self.amount, "unit": self.unit}

    def __str__(self) -> str:
        words = f"{abs(self.amount)} {OFFSET_UNITS[self.unit]}"
        return f"{words} {'trước' if self.amount < 0 else 'sau'} sự kiện"


@dataclass(frozen=True)
class Deadline:
    text: str  # the phrase, cleaned (plan.text.clean)
    kind: DeadlineKind
    start: date | None
    due: date | None  # the last day by which the work must be done
    occurrences: tuple[date, ...]
    offset: EventOffset | None = None  # events only: due this long after the event, once it has a date

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "text": self.text,
            "kind": self.kind.value,
            "start": self.start.isoformat() if self.start else None,
            "due": self.due.isoformat() if self.due else None,
            "occurrences": [d.isoformat() for d in self.occurrences],
        }
        if self.offset is not None:
            data["offset"] = self.offset.to_json()
        return data


class DeadlineError(UserError, ValueError):
    """A deadline phrase that cannot be understood; ``reason`` is one Vietnamese sentence."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(reason)
        self.text = text
        self.reason = reason

    def __reduce__(self) -> tuple[type[DeadlineError], tuple[str, str]]:
        return (DeadlineError, (self.text, self.reason))

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "kind": None,
            "start": None,
            "due": None,
            "occurrences": [],
            "error": self.reason,
        }


class _Invalid(Exception):
    """Raised inside the parser when the phrase names something impossible (31/02, quý 5) or uncertain."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# --------------------------------------------------------------------------- entry point and classification

_UNSCHEDULED = (
    r"theo ke hoach|theo kh\b|dot xuat|khi co yeu cau|theo yeu cau|khi co chi dao|theo chi dao"
    r"|khi can thiet|chua xac dinh|chua co thoi han|theo tien do"
)
_UNSCHEDULED_START = _rx(rf"(?:{_UNSCHEDULED})")
_UNSCHEDULED_ANY = _rx(rf"\b(?:{_UNSCHEDULED})")
# "Theo lộ trình", "Theo quy định": unscheduled, but only when the phrase names no date.
_UNSCHEDULED_WEAK = _rx(r"theo\s(?:lo trinh|quy dinh|huong dan|thong bao|lich|van ban)\b")
_CONTINUOUS = r"thuong xuyen|lien tuc|hang ngay|moi ngay"
_CONTINUOUS_START = _rx(rf"(?:(?:{_CONTINUOUS})\b[\s,;:-]*(?:va\s)?)+")
_CONTINUOUS_ANY = _rx(rf"\b(?:{_CONTINUOUS})\b")
_EVENT_START = _rx(r"(?:ngay\s)?(?:sau khi|truoc khi|ke tu khi|tu khi|khi)\b")
_EVENT_WEAK_START = _rx(r"sau\b(?!\sthang\b(?!\s?\d))|(?:bat dau\s)?tu ngay\b")
_EVENT_ANY = _rx(r"\b(?:sau khi|truoc khi|khi|ke tu|tu khi)\b")
# Anything that names a day, month, quarter or year: a phrase holding one is never an event or
# unscheduled by a keyword alone (that is how a window was once read as an event).
_DATEISH = _rx(
    r"\d{1,2}\s?[/.-]\s?\d{1,4}|\b(?:thang|quy|q|t)\s?\d|\b(?:1[89]|2[01])\d{2}\b"
    r"|\bquy\s(?:iv|iii|ii|i)\b|\bngay\s\d"
)
_NO_DATES: tuple[date, ...] = ()


def parse_deadline(text: str, year: int) -> Deadline:
    """Parse a deadline phrase of a plan for ``year``; raise :class:`DeadlineError` if it is unreadable."""
    if not isinstance(text, str):
        raise DeadlineError(str(text), "Thời hạn phải là một đoạn văn bản.")
    cleaned = clean(text)
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise DeadlineError(cleaned, f"Năm kế hoạch không hợp lệ: {year!r}.")
    if not cleaned:
        raise DeadlineError(cleaned, "Thời hạn đang để trống.")
    try:
        kind, start, due, occurrences, offset = _classify(_normalise(fold(cleaned)), year)
    except _Invalid as exc:
        raise DeadlineError(cleaned, f"Thời hạn “{_short(cleaned)}” {exc.detail}.") from None
    except _NotUnderstood as exc:
        raise DeadlineError(cleaned, exc.sentence(_short(cleaned))) from None
    _check_calendar_years(cleaned, (start, due, *occurrences))
    return Deadline(cleaned, kind, start, due, occurrences, offset)


def _check_calendar_years(text: str, days: Iterable[date | None]) -> None:
    """Refuse a deadline whose dates fall outside the years the working calendar knows (holidays, working days):
    "Trước 31/12/2150" cannot be moved off a holiday, so it is not given as a due date."""
    from plan.limits import calendar_years

    first, last = calendar_years()
    outside = sorted({day.year for day in days if day is not None and not first <= day.year <= last})
    if outside:
        raise DeadlineError(
            text,
            f"Thời hạn “{_short(text)}” rơi vào năm {outside[0]}, ngoài lịch làm việc ({first}–{last}): "
            "hãy kiểm tra lại năm.",
        )


class _NotUnderstood(Exception):
    def __init__(self, recurring: bool = False) -> None:
        super().__init__()
        self.recurring = recurring

    def sentence(self, text: str) -> str:
        if self.recurring:
            return f"Thời hạn “{text}” là định kỳ nhưng không rõ chu kỳ (hằng tuần, tháng, quý hay năm)."
        return (
            f"Không hiểu thời hạn: “{text}”; hãy ghi rõ ngày, tháng, quý hoặc năm, "
            "ví dụ “Trước 31/12/2020” hoặc “Quý III/2020”."
        )


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_Parsed = tuple[DeadlineKind, date | None, date | None, tuple[date, ...], EventOffset | None]


def _classify(s: str, year: int) -> _Parsed:
    if not s:
        raise _NotUnderstood()
    if _UNSCHEDULED_START.match(s):
        return DeadlineKind.UNSCHEDULED, None, None, _NO_DATES, None
    s, has_time = _strip_time(s)
    if m := _CONTINUOUS_START.match(s):
        return _continuous(s[m.end() :], year, has_time)
    if _EVENT_START.match(s):
        return _event(s)
    if (label := _LABEL.match(s)) and label.end() < len(s):  # "Báo cáo năm: trước ngày 15/12"
        s = s[label.end() :]
    if (clauses := _clauses(s)) is not None:
        return _per_report(clauses, year)
    recurring = _REC_MARK.search(s) is not None
    if recurring and _EXCEPTION.search(s):  # "hằng tháng, riêng tháng 12 ...": not one rule
        raise _Invalid("có ngoại lệ (riêng, trừ); hãy tách thành từng thời hạn")
    if recurring and _OCCASION.search(s):  # "hằng năm, vào dịp khai giảng": a day the phrase does not give
        raise _Invalid("gắn với một dịp (khai giảng, Tết, học kỳ...) chưa có ngày cụ thể; hãy ghi rõ ngày")
    if recurring and (dues := _recurring(s, year, has_time)):
        return DeadlineKind.RECURRING, date(year, 1, 1), dues[-1], dues, None
    found = _dated(_relative_years(s, year), year, has_time)
    if found is not None:
        if found.kind is DeadlineKind.RECURRING:
            return found.kind, date(year, 1, 1), found.due, found.occurrences, None
        occurrences = (found.due,) if found.due else _NO_DATES
        return found.kind, found.start, found.due, occurrences, None
    return _fallback(s, year, recurring)


def _event(s: str) -> _Parsed:
    if _UNSCHEDULED_ANY.search(s):
        return DeadlineKind.UNSCHEDULED, None, None, _NO_DATES, None
    return DeadlineKind.EVENT, None, None, _NO_DATES, _offset(s)


def _continuous(rest: str, year: int, has_time: bool) -> _Parsed:
    start, due = date(year, 1, 1), date(year, 12, 31)
    found = _structured(_trim(rest), year, has_time) if rest else None
    if found is not None:
        if found.start and found.due:
            start, due = found.start, found.due
        elif found.due:
            start, due = date(found.due.year, 1, 1), found.due
        elif found.start:
            start, due = found.start, date(found.start.year, 12, 31)
    return DeadlineKind.CONTINUOUS, start, due, (due,), None


def _fallback(s: str, year: int, recurring: bool) -> _Parsed:
    """Phrases only recognised by a keyword somewhere inside them, provided they name no date."""
    if _DATEISH.search(s):
        if (offset := _offset(s)) is not None and offset.unit != "month":  # "báo cáo 6 tháng": a report
            amount = f"{abs(offset.amount)} {OFFSET_UNITS[offset.unit]}"
            raise _Invalid(f"tính {amount} từ một ngày cụ thể; hãy ghi rõ ngày hết hạn")
        raise _NotUnderstood(recurring)
    if _UNSCHEDULED_ANY.search(s) or _UNSCHEDULED_WEAK.match(s):
        return DeadlineKind.UNSCHEDULED, None, None, _NO_DATES, None
    offset = _offset(s)  # "chậm nhất 15 ngày trước ngày tổ chức": a duration from an event
    if _EVENT_ANY.search(s) or _EVENT_WEAK_START.match(s) or offset is not None:
        return DeadlineKind.EVENT, None, None, _NO_DATES, offset
    if _CONTINUOUS_ANY.search(s):
        return _continuous("", year, False)
    raise _NotUnderstood(recurring)


# --------------------------------------------------------------------------- normalisation

_CHARS = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "−": "-",
        "‐": "-",
        "‑": "-",
        "~": "-",
        "ð": "d",
        "’": "'",
        "‘": "'",
        "′": "'",
        "´": "'",
        "“": '"',
        "”": '"',
        "[": "(",
        "]": ")",
    }
)
_QUI = _rx(r"\bqui\b")
_LETTER_DIGIT = _rx(r"(?<=[a-z]{2})(?=\d)")
_LETTER_BEFORE_DIGIT = _rx(r"[a-z](?=\d)")  # a cheap look first: most phrases have none
_SEP_SPACES = _rx(r"(?<=\d)\s*([/.])\s*(?=\d)")
_SPACES = re.compile(r"\s+")
_LEAD_JUNK = " -+*•.,;:\"'"  # bullets and punctuation around a phrase
_TAIL_JUNK = " .,;:!\"'"


def _trim(s: str) -> str:
    return s.lstrip(_LEAD_JUNK).rstrip(_TAIL_JUNK)


_LEADING = _rx(
    r"^(?:(?:hoan thanh|du kien|thoi han|thoi gian|han chot|han cuoi|han|vao|thuc hien|trien khai|ban hanh|"
    r"xong|phai|can|bao cao|gui|nop)\b[\s:,]*)+"
)
_CLOCK = r"\d{1,2}\s?(?:h|g|gio)\s?(?:\d{2})?\s?(?:p|phut)?'?(?![a-z\d])|\d{1,2}:\d{2}(?![\d])"
_TIME = _rx(
    rf"(?:\b(?:vao\s)?(?:luc|hoi)\s)?(?:\btu\s(?:{_CLOCK})\s?(?:-|den|toi)\s?(?:{_CLOCK})"
    rf"|\b(?:{_CLOCK})(?:\s?(?:-|den|toi)\s?(?:{_CLOCK}))?)"
    r"(?:\s(?:sang|chieu|trua|toi)\b)?\s?,?"
    r"|\b(?:buoi\s)?(?:sang|chieu|trua)\s(?=ngay\b|thu\s|chu nhat|\d)"
)
_TIME_HINT = _rx(r"\d\s?(?:h|g|:)|sang|chieu|trua")
_PARENS = re.compile(r"\s*\([^()]*\)?")
_INNER = re.compile(r"\(([^()]*)\)?")


def _normalise(folded: str) -> str:
    s = folded.translate(_CHARS)
    if "qui" in s:
        s = _QUI.sub("quy", s)
    if _LETTER_BEFORE_DIGIT.search(s):
        s = _LETTER_DIGIT.sub(" ", s)
    if " /" in s or "/ " in s or " ." in s or ". " in s:
        s = _SEP_SPACES.sub(r"\1", s)
    s = _trim(s)
    return _trim(_LEADING.sub("", s))


def _strip_time(s: str) -> tuple[str, bool]:
    if not _TIME_HINT.search(s):
        return s, False
    stripped, count = _TIME.subn(" ", s)
    if not count:
        return s, False
    return _trim(_SPACES.sub(" ", stripped)), True


_RELATIVE_YEAR = _rx(
    r"(?<!cac )(?<!nhung )\bnam\s(?:(?P<next>sau|ke tiep|tiep theo|toi)\b(?!\s(?:khi|do|nua))|nay\b|ke hoach\b)"
)


def _relative_years(s: str, year: int) -> str:
    """ "năm sau" is the year after the plan year, "năm nay" the plan year (not in recurring phrases)."""
    if "nam " not in s:
        return s
    return _RELATIVE_YEAR.sub(lambda m: f"nam {year + 1 if m['next'] else year}", s)


# --------------------------------------------------------------------------- phrase level

_OP = _rx(
    r"(?:(?P<before>den truoc|truoc)"
    r"|(?P<by>cham nhat|muon nhat|tre nhat|khong muon hon|khong cham hon|khong qua"
    r"|tu nay den het|tu nay den|tu nay toi het|tu nay toi|den het|den|toi het|het)"
    r"|(?P<start>bat dau ke tu|bat dau tu|bat dau|ke tu|tinh tu|som nhat|khong som hon|tu)"
    r"|(?P<after>sau(?!\sthang\b(?!\s?\d)))"  # "sáu tháng" and "sau tháng" fold alike
    r"|(?P<within>trong suot|trong ca|trong (?:khoang )?thoi gian|trong|suot|ca|thoi gian|giai doan))"
    r"\b\s?(?:(?:la|vao|trong)\b\s?)?"
)
# Verbs that may sit between a prefix and its date: "bắt đầu triển khai từ ...".
_FILLER = _rx(r"(?:trien khai|thuc hien|to chuc|hoan thanh|ap dung|xong|la)\b\s?")
_ONWARD = _rx(
    r"\s(?:tro di|tro ve sau|(?:va\s)?(?:cac|nhung)\s(?:nam hoc|nam|thang|quy)\s(?:tiep theo|sau))$"
)


@dataclass(frozen=True, slots=True)
class _Dates:
    kind: DeadlineKind
    start: date | None
    due: date | None
    occurrences: tuple[date, ...] = ()


def _structured(s: str, plan_year: int, has_time: bool) -> _Dates | None:
    """Dates, periods, ranges and their prefixes; None when the phrase is not of that shape."""
    ops: list[str] = []
    pos = 0
    while m := _OP.match(s, pos) or (_FILLER.match(s, pos) if ops else None):
        if m.re is _OP:
            ops.append(m.lastgroup or "within")
        pos = m.end()
    if onward := _ONWARD.search(s, pos):
        s = s[: onward.start()]
        ops.append("start")
    got = _span(s, pos)
    if got is None or got[2] != len(s):
        return None
    terms, joins = got[0], got[1]
    bounds = _resolve(terms, plan_year)
    # "trước" wins over other prefixes ("chậm nhất trước ngày ..."); otherwise the last one counts.
    op = "before" if "before" in ops else (ops[-1] if ops else "within")
    if len(terms) > 1 and all(t.unit == "day" for t in terms) and all(j == "list" for j in joins):
        shift = op == "before" and not has_time  # each day not already read as "trước"
        days = [
            b[0] - _ONE_DAY if shift and not t.before else b[0] for t, b in zip(terms, bounds, strict=True)
        ]
        return _day_list(days, op, plan_year)
    if "list" in joins:  # "Quý I, II", "tháng 6 và tháng 12": from the earliest to the latest
        first, last = min(b[0] for b in bounds), max(b[1] for b in bounds)
    else:  # "từ 15/3 đến hết năm": from the first to the end of the last
        first, last = bounds[0][0], bounds[-1][1]
        if first > last:
            raise _Invalid("có ngày bắt đầu sau ngày kết thúc")
    if op == "before":
        single_day = len(terms) == 1 and terms[0].unit == "day"
        return _Dates(DeadlineKind.DATE, None, first if has_time and single_day else first - _ONE_DAY)
    if op == "by":
        return _Dates(DeadlineKind.DATE, None, last)
    if op == "start":
        return _Dates(DeadlineKind.WINDOW, first, last if len(terms) > 1 else None)
    if op == "after":
        return _Dates(DeadlineKind.WINDOW, last + _ONE_DAY, None)
    if len(terms) == 1 and terms[0].unit == "day":
        return _Dates(DeadlineKind.DATE, None, first)
    return _Dates(DeadlineKind.WINDOW, first, last)


def _day_list(days: list[date], op: str, plan_year: int) -> _Dates | None:
    """Several days named one by one ("các ngày 3, 4 và 5/9", "15/6 và 15/12").

    Consecutive days are one window (a conference over three days); other days are each a due date,
    read as a recurring deadline inside the plan year (never stretched into a window between them).
    """
    if op in ("start", "after"):
        return None
    dues = tuple(sorted(set(days)))
    if op == "within" and all(b - a == _ONE_DAY for a, b in pairwise(dues)):
        return _Dates(DeadlineKind.WINDOW, dues[0], dues[-1])
    if any(d.year != plan_year for d in dues):
        raise _Invalid(f"có nhiều thời hạn, không phải tất cả đều trong năm kế hoạch {plan_year}")
    return _Dates(DeadlineKind.RECURRING, date(plan_year, 1, 1), dues[-1], dues)


# A safe prefix is plain words ("Trình UBND tỉnh", "Tổ chức"): no number, period, operator or condition.
_ANCHOR = _rx(
    r"(?:^|(?<=[\s,:;(]))(?=den truoc\b|truoc\b|cham nhat\b|muon nhat\b|den het\b|den\b|trong\b|vao\b|ke tu\b|"
    r"ngay\s?\d|t\d|thu\s(?:hai|ba|tu|nam|sau|bay|[2-7])\b|chu nhat\b|tu\b|sau\b|bat dau\b|som nhat\b|khong (?:som|muon|qua)\b|thang\s?\d|quy\b|nam\s\d|\d"
    r"|(?:dau|giua|cuoi|nua)\s(?:thang|quy|nam)\b|ca\snam\b|giai doan\b|cac\s(?:ngay|thang|quy|nam)\b)"
)
_UNSAFE_PREFIX = _rx(
    r"\d|\b(?:thang|quy|q|nam(?!\shoc)|tuan|ngay|hang|moi|dinh ky|dau|giua|cuoi|truoc|sau|den|het|toi|"
    r"khi|neu|ke|khong|chua|hoac|tru|rieng|theo|ngoai|iv|iii|ii|i|v|thuong xuyen|lien tuc|som|muon|cham|"
    r"lan|gia han|lui|keo dai|tet|dip|hoc ky|ky)\b"
)
_QUALIFIER = _rx(
    r"[\s,;:-]+(?=(?:doi voi|tinh theo|theo|de|nham|gui|qua|tai|bang|cho|ve|len|kem|va gui|va bao cao"
    r"|bao cao|tong hop|trinh)\b)"
)
_UNSAFE_TAIL = _rx(
    r"\d{1,2}\s?[/.-]\s?\d|\b\d{4}\b|\b(?:truoc|cham nhat|muon nhat|den|tu ngay|tu thang|sau|khi|neu|tru"
    r"|rieng|hoac|ngay\s?\d|thang\s?\d|quy\s?(?:iv|iii|ii|i|\d)|hang|moi|dinh ky|gia han|lui|keo dai"
    r"|som nhat|khong)\b"
)


def _dated(s: str, plan_year: int, has_time: bool) -> _Dates | None:
    """A phrase whose dates are the whole point, possibly wrapped in words that do not change them."""
    found = _structured(s, plan_year, has_time)
    if found is not None:
        return found
    if "(" in s and any(not _WEEKDAY_ONLY.fullmatch(_trim(m[1])) for m in _INNER.finditer(s)):
        return _with_parentheses(s, plan_year, has_time)
    for anchor in _ANCHOR.finditer(s, 1):
        if _UNSAFE_PREFIX.search(s, 0, anchor.start()):
            break
        if (found := _structured(s[anchor.start() :], plan_year, has_time)) is not None:
            return found
    for qualifier in _QUALIFIER.finditer(s):
        if _UNSAFE_TAIL.search(s, qualifier.end()):
            continue
        head = s[: qualifier.start()]
        if head and (found := _dated(head, plan_year, has_time)) is not None:
            return found
    return None


def _with_parentheses(s: str, plan_year: int, has_time: bool) -> _Dates | None:
    """A deadline with a parenthesis: the narrower reading when both say the same, else refused.

    "Quý III/2020 (trước 30/9)" is due Sep 29; "Tháng 6 (tùy tình hình)" is June; "Báo cáo kết quả
    (trước 15/12)" is Dec 14; "Quý III (trước 30/10)" names two deadlines that disagree: refused.
    """
    outer_text = _trim(_SPACES.sub(" ", _PARENS.sub(_keep_weekday, s)))
    readings = []
    for inner_match in _INNER.finditer(s):
        inner = _trim(inner_match[1])
        if not inner or inner.startswith("theo ") or _WEEKDAY_ONLY.fullmatch(inner):
            continue
        reading = _dated(inner, plan_year, has_time)
        if reading is None:
            if _DATEISH.search(inner):
                return None
            continue
        readings.append(reading)
    outer = _dated(outer_text, plan_year, has_time) if outer_text else None
    if outer is None:
        if outer_text and (_UNSAFE_PREFIX.search(outer_text) or len(readings) != 1):
            return None
        return readings[0] if len(readings) == 1 else None
    for inner_reading in readings:
        outer = _narrower(outer, inner_reading)
    return outer


def _keep_weekday(m: re.Match[str]) -> str:
    """A parenthesis dropped from the outer reading, except a weekday ("(thứ Sáu)"), checked there."""
    return m[0] if _WEEKDAY_ONLY.fullmatch(_trim(m[0].strip()[1:].rstrip(")"))) else " "


def _narrower(outer: _Dates, inner: _Dates) -> _Dates:
    plain = (DeadlineKind.DATE, DeadlineKind.WINDOW)
    if outer.kind not in plain or inner.kind not in plain:
        raise _Invalid("có hai thời hạn khác nhau (trong và ngoài ngoặc); hãy giữ lại một thời hạn")
    low = outer.start or outer.due
    high = outer.due
    inside = all(
        d is None or ((low is None or d >= low - _ONE_DAY) and (high is None or d <= high))
        for d in (inner.start, inner.due)
    )
    if not inside:
        raise _Invalid("có hai thời hạn không khớp nhau (trong và ngoài ngoặc); hãy giữ lại một thời hạn")
    due = inner.due if inner.due is not None else outer.due
    start = max((d for d in (outer.start, inner.start) if d is not None), default=None)
    if outer.kind is DeadlineKind.DATE or start is None or (due is not None and start > due):
        return _Dates(DeadlineKind.DATE, None, due)
    return _Dates(DeadlineKind.WINDOW, start, due)


# --------------------------------------------------------------------------- several reports in one phrase

_FOR = _rx(r"\s?,?\s?doi voi\s")
_SEMICOLON = _rx(r"\s?;\s?")
# The kind of report a deadline is for, written before it: "Báo cáo 6 tháng:", "báo cáo năm gửi".
_LABEL = _rx(
    r"(?:bao cao\s)?(?:nam hoc|nam|quy|thang|(?:\d{1,2}|sau|chin|ba)\sthang|dinh ky|tong ket|so ket)"
    r"(?:(?:\s(?:gui|nop))?\s?:\s?|\s(?:gui|nop)\s)"
)
# In a list of reports, "báo cáo năm trước ..." is a label and its deadline; the first part lost "báo cáo".
_REPORT_PERIOD = r"(?:nam hoc|nam|quy|thang|(?:\d{1,2}|sau|chin|ba)\sthang)"
_REPORT_LABEL = _rx(
    rf"bao cao\s{_REPORT_PERIOD}(?:\s(?:gui|nop))?\s(?=truoc|cham nhat|muon nhat|trong|vao|ngay|den)"
)
_PERIOD_LABEL = _rx(rf"{_REPORT_PERIOD}(?:\s(?:gui|nop))?\s(?=truoc|cham nhat|muon nhat|trong|vao|ngay|den)")
_NEXT_CLAUSE = _rx(r"[,;]\s?(?:va\s|con\s)?|\s(?:va|con)\s")


def _clauses(s: str) -> list[str] | None:
    """The deadlines X and Y of "X đối với báo cáo quý; Y đối với báo cáo năm" or "Báo cáo 6 tháng: X;
    báo cáo năm: Y"; None for other phrases."""
    if ";" in s:
        parts = _SEMICOLON.split(s)
        labels = [_LABEL.match(part) or _REPORT_LABEL.match(part) for part in parts[1:]]
        if all(labels):  # "báo cáo năm (gửi) trước ...": the first part's label was cut with "báo cáo"
            first = _PERIOD_LABEL.match(parts[0])
            head = parts[0][first.end() :] if first else parts[0]
            return [head, *(part[m.end() :] for part, m in zip(parts[1:], labels, strict=True) if m)]
    if s.count("doi voi") < 2:
        return None
    parts = _FOR.split(s)
    clauses = [parts[0]]
    for middle in parts[1:-1]:
        m = _NEXT_CLAUSE.search(middle)
        if m is None:
            raise _NotUnderstood()
        clauses.append(middle[m.end() :])
    return clauses


def _per_report(clauses: list[str], year: int) -> _Parsed:
    """One deadline per kind of report: every due date of every clause, as a recurring deadline."""
    dues: set[date] = set()
    for clause in clauses:
        kind, _start, due, occurrences, _ = _classify(_trim(clause), year)
        if kind not in (DeadlineKind.DATE, DeadlineKind.RECURRING, DeadlineKind.WINDOW) or due is None:
            raise _NotUnderstood()
        dues.update(occurrences)
    if any(d.year != year for d in dues):
        raise _Invalid(f"có nhiều thời hạn, không phải tất cả đều trong năm kế hoạch {year}")
    ordered = tuple(sorted(dues))
    return DeadlineKind.RECURRING, date(year, 1, 1), ordered[-1], ordered, None


# --------------------------------------------------------------------------- events with a duration

_NUM_WORDS = {
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
    "muoi": 10,
    "muoi mot": 11,
    "muoi hai": 12,
}
_NUMW = r"muoi mot|muoi hai|mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi"
_OFFSET = _rx(
    rf"\b(\d{{1,3}}|{_NUMW})\s(ngay lam viec|ngay|tuan|thang)\s"
    r"(?:(?:ke tu|tinh tu|sau khi|sau|tu khi|tu)|(truoc khi|truoc))\b"
)
_OFFSET_UNITS = {"ngay lam viec": "working_day", "ngay": "day", "tuan": "week", "thang": "month"}


def _offset(s: str) -> EventOffset | None:
    """The duration an event phrase gives ("trong vòng 15 ngày làm việc kể từ ..."), if any."""
    m = _OFFSET.search(s)
    if m is None:
        return None
    amount = _NUM_WORDS[m[1]] if m[1] in _NUM_WORDS else int(m[1])
    if amount == 0:
        return None
    return EventOffset(-amount if m[3] else amount, _OFFSET_UNITS[m[2]])


# --------------------------------------------------------------------------- terms

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_PART = {"dau": 0, "giua": 1, "cuoi": 2, "thuong tuan": 0, "trung tuan": 1, "ha tuan": 2}
_YT = r"(?:\s?[/.-]\s?|\s(?:nam\s)?)(\d{4})(?!\d)"  # a year after a month or quarter
_QNUM = r"(iv|iii|ii|i|\d{1,2})(?![a-z\d])"
_WD = r"thu\s(?:hai|ba|tu|nam|sau|bay|[2-7])\b|chu nhat\b"
_WEEKDAY_ONLY = _rx(rf"(?:ngay\s)?(?:{_WD})")
# A weekday named with a day ("thứ Sáu, ngày 15/8/2025", "15/8/2025 (thứ Sáu)") must be that day's.
_WD_BEFORE = rf"(?:(?:ngay\s)?(?P<wd>{_WD})\s?(?:,\s?|(?P<open>\(\s?))?)?"
_WD_AFTER = rf"(?:\s?,?\s?\(\s?(?P<wd2>{_WD})\s?\)|\s?,\s?(?P<wd3>{_WD}))?"
_YEAR_AFTER = r"(?:(?P=sep)(?P<y>\d{4}|\d{2})|\s(?:nam\s)?(?P<y4>\d{4}))?(?!\d)"

_T_SCHOOL = _rx(r"nam hoc\s?(\d{4})\s?[-/]\s?(\d{4})(?!\d)")
_T_HALF = _rx(rf"(?:(\d{{1,2}})|({_NUMW}))\sthang\s(dau|cuoi)\s(?:cua\s)?nam(?![a-z])(?:{_YT})?")
_T_HALF_WORD = _rx(rf"nua\s(dau|cuoi)\s(?:cua\s)?nam(?![a-z])(?:{_YT})?")
_T_PART = _rx(r"(dau|giua|cuoi|thuong tuan|trung tuan|ha tuan)\s(?:cua\s)?")
_DAY_SEP = r"\s?(?:,|;|&|-|va|den(?:\shet)?|toi(?:\shet)?)\s?(?:ngay\s)?"
_T_DAYS = _rx(
    rf"(?:(?:cac|(?P<count>\d{{1,2}}|{_NUMW}))\s(?=ngay\s))?(?:ngay\s)?"
    rf"(?P<days>\d{{1,2}}(?:{_DAY_SEP}\d{{1,2}}(?![\d/.]))*{_DAY_SEP}\d{{1,2}})"
    rf"(?P<sep>[/.])(?P<m>\d{{1,2}}){_YEAR_AFTER}"
)
_DAY_RANGE_SEP = _rx(r"-|\bden\b|\btoi\b")
_DAY_NUMBER = _rx(r"\d{1,2}")
_T_DAY_WORDS = _rx(
    rf"{_WD_BEFORE}(?:(?:ngay|mung|mong)\s)?(?P<d>\d{{1,2}})\sthang\s(?P<m>\d{{1,2}})(?!\d)"
    rf"(?:(?:\s?[/.-]\s?|\s(?:nam\s)?)(?P<y4>\d{{4}})(?!\d))?(?(open)\s?\)){_WD_AFTER}"
)
_T_DAY_NUM = _rx(
    rf"{_WD_BEFORE}(?:(?:ngay|mung|mong)\s)?(?P<d>\d{{1,2}})(?P<sep>[/.-])(?P<m>\d{{1,2}}){_YEAR_AFTER}(?(open)\s?\)){_WD_AFTER}"
)
_T_DAY_ONLY = _rx(r"(?:ngay|mung|mong)\s(\d{1,2})(?![\d/.])")
_T_MONTH = _rx(rf"(?:cac\s)?(?:thang|t)\s?(\d{{1,2}})(?!\d)(?:{_YT})?")
_T_MONTH_BARE = _rx(r"(\d{1,2})[/.-](\d{4})(?!\d)")
_T_QUARTER = _rx(rf"(?:cac\s)?(?:quy|q)\s?{_QNUM}(?:{_YT})?")
_T_YEAR = _rx(r"(?:(?:cac\s)?nam\s)?(\d{4})(?!\d)")
_T_YEAR_PLAIN = _rx(r"nam(?![a-z\d]|\s\d)")
_C_MONTH = _rx(rf"(\d{{1,2}})(?!\d)(?:{_YT})?")
_C_QUARTER = _rx(rf"{_QNUM}(?:{_YT})?")
_SEP = _rx(
    r"\s?(?:(?P<range>(?:,\s?|\s)?(?:va\s)?(?:ket thuc|hoan thanh|xong)\s(?:(?:vao|trong|cham nhat|muon nhat"
    r"|la|luc|het|den het|den)\s)?|-\s?|(?:cho\s)?(?:den|toi)(?:\shet)?\s)"
    r"|(?P<list>[,;]\s?(?:va\s)?|&\s?|va\s))"
    r"(?P<before>truoc\s)?"
)
_WEEKDAY_NUMBERS = dict(zip(("hai", "ba", "tu", "nam", "sau", "bay"), range(6), strict=True))
_WEEKDAY_NUMBERS.update((str(n), n - 2) for n in range(2, 8))


def _weekday(text: str | None) -> int | None:
    if text is None:
        return None
    return 6 if text.startswith("chu") else _WEEKDAY_NUMBERS[text.split()[-1]]


class _Term:
    """A day, month, quarter, year or run of months, possibly missing its year (or month)."""

    __slots__ = ("before", "d1", "d2", "m1", "m2", "span", "unit", "weekday", "written", "year")

    def __init__(
        self,
        unit: str,
        year: str | None,
        m1: int | None,
        m2: int | None,
        d1: int | None = None,
        d2: int | None = None,
        span: int = 0,
    ) -> None:
        self.unit = unit
        self.written = year is not None
        self.year = _year(year) if year is not None else None
        self.m1, self.m2, self.d1, self.d2, self.span = m1, m2, d1, d2, span
        self.before = False  # "kết thúc trước X": the day before X
        self.weekday: int | None = None

    def bounds(self) -> tuple[date, date]:
        assert self.year is not None and self.m1 is not None and self.m2 is not None
        start = _date(self.year, self.m1, self.d1 or 1)
        end_year = self.year + self.span
        if self.d2 is None:
            _check_month(self.m2)
            end = date(end_year, self.m2, _days_in(end_year, self.m2))
        else:
            end = _date(end_year, self.m2, self.d2)
        if self.weekday is not None and start.weekday() != self.weekday:
            raise _Invalid(
                f"ghi {_weekday_name(self.weekday)} nhưng ngày {start.day}/{start.month}/{start.year} "
                f"là {_weekday_name(start.weekday())}"
            )
        if self.before:
            return start - _ONE_DAY, start - _ONE_DAY
        return start, end


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in(year: int, month: int) -> int:
    """Days in the month (``calendar.monthrange`` also computes a weekday, which is not needed here)."""
    return 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]


def _weekday_name(weekday: int) -> str:
    name = WEEKDAYS[weekday]
    return name[0].lower() + name[1:]


def _year(text: str) -> int:
    value = int(text)
    if len(text) <= 2:
        value += 2000
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise _Invalid(f"có năm {value} nằm ngoài khoảng {MIN_YEAR}-{MAX_YEAR}")
    return value


def _check_month(month: int) -> None:
    if not 1 <= month <= 12:
        raise _Invalid(f"có tháng không tồn tại (tháng {month})")


def _date(year: int, month: int, day: int) -> date:
    _check_month(month)
    if not 1 <= day <= _days_in(year, month):
        raise _Invalid(f"có ngày không tồn tại ({day}/{month}/{year})")
    return date(year, month, day)


def _quarter(token: str) -> int:
    q = _ROMAN.get(token) or int(token)
    if not 1 <= q <= 4:
        raise _Invalid(f"có quý không tồn tại (quý {token.upper()})")
    return q


def _quarter_term(token: str, year: str | None) -> _Term:
    q = _quarter(token)
    return _Term("quarter", year, 3 * q - 2, 3 * q)


def _month_term(month: str, year: str | None) -> _Term:
    m = int(month)
    return _Term("month", year, m, m)


def _count(token: str) -> int:
    return _NUM_WORDS[token] if token in _NUM_WORDS else int(token)


def _months_count(token: str) -> int:
    n = _count(token)
    if not 1 <= n <= 12:
        raise _Invalid(f"có số tháng không hợp lệ ({n} tháng)")
    return n


def _half(n: int, which: str, year: str | None) -> _Term:
    return _Term("months", year, 1, n) if which == "dau" else _Term("months", year, 13 - n, 12)


def _with_part(term: _Term, part: int) -> _Term:
    if term.unit == "month":
        term.d1, term.d2 = ((1, 10), (11, 20), (21, None))[part]
    elif term.unit == "quarter":
        assert term.m1 is not None
        term.m1 = term.m2 = term.m1 + part
    else:  # a year: quarter I, quarters II-III, quarter IV
        term.m1, term.m2 = ((1, 3), (4, 9), (10, 12))[part]
    return term


def _sub_term(s: str, pos: int) -> tuple[_Term, int] | None:
    """A month, quarter or year, the things "đầu/giữa/cuối" can qualify."""
    if m := _T_MONTH.match(s, pos):
        return _month_term(m[1], m[2]), m.end()
    if m := _T_QUARTER.match(s, pos):
        return _quarter_term(m[1], m[2]), m.end()
    if m := _T_YEAR.match(s, pos):
        return _Term("year", m[1], 1, 12), m.end()
    if m := _T_YEAR_PLAIN.match(s, pos):
        return _Term("year", None, 1, 12), m.end()
    return None


_Got = tuple[list[_Term], list[str], int]


def _terms_at(s: str, pos: int) -> _Got | None:
    """The term (or days of one month written together) starting exactly at ``pos``, with their joins."""
    if m := _T_DAYS.match(s, pos):
        return _days(m)
    term = _single_term(s, pos)
    return ([term[0]], [], term[1]) if term else None


def _days(m: re.Match[str]) -> _Got:
    """ "15-20/12", "từ 12 đến hết 20/8": a range; "3, 4 và 5/9", "hai ngày 8 và 9/10": a list."""
    month, year = int(m["m"]), m["y"] or m["y4"]
    days = [int(d) for d in _DAY_NUMBER.findall(m["days"])]
    is_range = _DAY_RANGE_SEP.search(m["days"]) is not None
    if is_range and len(days) != 2:
        raise _Invalid("có khoảng ngày không rõ ràng")
    if is_range and days[0] >= days[1]:
        raise _Invalid("có ngày bắt đầu sau ngày kết thúc")
    named = days[1] - days[0] + 1 if is_range else len(days)
    if m["count"] and _count(m["count"]) != named:
        raise _Invalid(f"ghi {_count(m['count'])} ngày nhưng nêu {named} ngày")
    terms = [_Term("day", None, month, month, day, day) for day in days]
    terms[-1] = _Term("day", year, month, month, days[-1], days[-1])
    return terms, ["range" if is_range else "list"] * (len(days) - 1), m.end()


def _single_term(s: str, pos: int) -> tuple[_Term, int] | None:
    if s.startswith("nam hoc", pos):
        if m := _T_SCHOOL.match(s, pos):
            if int(m[2]) != int(m[1]) + 1:
                raise _Invalid(f"có năm học không hợp lệ ({m[1]}-{m[2]})")
            return _Term("school", m[1], 9, 5, 1, 31, span=1), m.end()
        return None
    if m := _T_HALF.match(s, pos):
        return _half(_months_count(m[1] or m[2]), m[3], m[4]), m.end()
    if m := _T_HALF_WORD.match(s, pos):
        return _half(6, m[1], m[2]), m.end()
    if m := _T_PART.match(s, pos):
        sub = _sub_term(s, m.end())
        return (_with_part(sub[0], _PART[m[1]]), sub[1]) if sub else None
    if (m := _T_DAY_WORDS.match(s, pos)) or (m := _T_DAY_NUM.match(s, pos)):
        day, month = int(m["d"]), int(m["m"])
        term = _Term("day", m.groupdict().get("y") or m["y4"], month, month, day, day)
        term.weekday = _weekday(m["wd"] or m["wd2"] or m["wd3"])
        return term, m.end()
    if m := _T_DAY_ONLY.match(s, pos):
        day = int(m[1])
        return _Term("day", None, None, None, day, day), m.end()
    if m := _T_MONTH_BARE.match(s, pos):
        return _month_term(m[1], m[2]), m.end()
    return _sub_term(s, pos)


def _continuation(unit: str, s: str, pos: int) -> _Got | None:
    """A bare number after a separator that repeats the previous unit ("Quý II-III", "tháng 3, 4")."""
    if unit == "month" and (m := _C_MONTH.match(s, pos)):
        return [_month_term(m[1], m[2])], [], m.end()
    if unit == "quarter" and (m := _C_QUARTER.match(s, pos)):
        return [_quarter_term(m[1], m[2])], [], m.end()
    return None


def _span(s: str, pos: int) -> _Got | None:
    """One term, or several joined by range/list separators, with the kind of each join."""
    got = _terms_at(s, pos)
    if got is None:
        return None
    terms, joins, pos = got
    while pos < len(s):
        if sep := _SEP.match(s, pos):
            nxt = _terms_at(s, sep.end()) or _continuation(terms[-1].unit, s, sep.end())
            join = "list" if sep["list"] else "range"
        else:  # a bare space (a cell's line break) before a complete term: "Quý II/2020 Quý IV/2020"
            nxt = _terms_at(s, pos + 1) if s[pos] == " " else None
            join = "list"
        if nxt is None:
            break
        if sep and sep["before"]:
            nxt[0][0].before = True
        terms.extend(nxt[0])
        joins.append(join)
        joins.extend(nxt[1])
        pos = nxt[2]
    return terms, joins, pos


def _resolve(terms: list[_Term], plan_year: int) -> list[tuple[date, date]]:
    """Fill missing years/months from neighbours (then the plan year) and return each term's bounds."""
    for left, right in zip(reversed(terms[:-1]), reversed(terms[1:]), strict=True):
        _inherit(left, right.year, right.m1)
    for left, right in pairwise(terms):
        _inherit(right, left.year, left.m2)
    for term in terms:
        if term.m1 is None:
            raise _Invalid("thiếu tháng")
        if term.year is None:
            term.year = plan_year
    bounds = [term.bounds() for term in terms]
    for i in range(len(terms) - 1):
        if bounds[i][0] > bounds[i + 1][1]:
            bounds[i], bounds[i + 1] = _unreverse(terms[i], terms[i + 1])
    return bounds


def _inherit(term: _Term, year: int | None, month: int | None) -> None:
    if term.year is None:
        term.year = year
    if term.m1 is None:
        term.m1 = term.m2 = month


def _unreverse(left: _Term, right: _Term) -> tuple[tuple[date, date], tuple[date, date]]:
    assert left.year is not None and right.year is not None
    if right.written and not left.written:
        left.year -= 1
    elif not right.written:
        right.year += 1
    a, b = left.bounds(), right.bounds()
    if a[0] > b[1]:
        raise _Invalid("có ngày bắt đầu sau ngày kết thúc")
    return a, b


# --------------------------------------------------------------------------- recurring

_REC_MARK = _rx(
    r"\b(?:(?:hang|moi)\s(?:tuan|thang|quy|nam)|dinh ky|thang\s(?:dau|giua|cuoi)\s(?:cua\s)?(?:quy|ky)"
    r"|(?:\d{1,2}|" + _NUMW + r")\sthang\s?(?:/\s?|mot\s|1\s)lan"
    r"|(?:nam|thang|quy|ky) bao cao|ngay\s\d{1,2}\s(?:cua\s)?(?:thang|quy)\s(?:sau|tiep theo|ke tiep)(?!\skhi))\b"
)
_R_BEFORE = _rx(r"\btruoc\b")
_OCCASION = _rx(r"\b(?:dip|khi|tet|khai giang|be giang|nghi he|hoc ky)\b")
_EXCEPTION = _rx(r"\b(?:rieng|tru|ngoai tru)\b")
_R_QMONTH = _rx(r"\bthang\s(dau|giua|cuoi)\s(?:cua\s)?(?:moi\s|tung\s|hang\s)?(?=quy\b)")  # "quy" stays
_R_PERIOD_END = _rx(r"\bthang\scuoi\s(?:cua\s)?ky(?:\sbao cao)?\b")  # the due month of the period named
_R_DM = _rx(
    r"\b(?:(?:ngay|mung|mong)\s)?(\d{1,2})(?:[/.-]|\sthang\s)(\d{1,2})(?:[/.-](?:\d{4}|\d{2}))?(?!\d|\s?lan\b)"
)
_R_DAYS = _rx(r"\b(?:ngay|mung|mong)\s(\d{1,2}(?:\s?(?:,|va|&)\s?\d{1,2})*)(?![\d/.])")
_R_WEEKDAY = _rx(r"\b(?:thu\s(hai|ba|tu|nam|sau|bay|[2-7])|(chu nhat))\b")
_R_YEARS = _rx(r"\b(?:nam\s)?\d{4}\b")
_R_YEAR_NUMBERS = _rx(r"(?<!\d)\d{4}(?!\d)")
_R_NAMED_MONTH = _rx(r"\b(?:thang|t)\s?(\d{1,2})(?!\d|\s?lan\b)")
_R_NAMED_QUARTER = _rx(rf"\b(?:quy|q)\s?{_QNUM}")
_R_ITEM = _rx(rf"\b(?:(\d{{1,2}}|{_NUMW})\sthang|(tuan)|(thang)|(quy)|(nam))\b")
_DIGITS = _rx(r"\d{1,2}")


@dataclass(slots=True)
class _Rule:
    """What a recurring phrase says: the due months (or weekdays) and the day of the month."""

    months: set[int]
    weekly: bool
    weekdays: list[int]
    days: list[int]
    month_days: list[tuple[int, int]]


def _recurring(s: str, plan_year: int, has_time: bool) -> tuple[date, ...] | None:
    years = [int(y) for y in _R_YEAR_NUMBERS.findall(s)]
    if years and not min(years) <= plan_year <= max(years):
        raise _Invalid(f"là định kỳ trong năm {max(years)}, không phải năm kế hoạch {plan_year}")
    before = not has_time and _R_BEFORE.search(s) is not None
    rule = _rule(s)
    if rule is None:
        return None
    dues: set[date] = set()
    for year in (plan_year, plan_year + 1) if before else (plan_year,):
        dues.update(_rule_dates(rule, year))
    if before:
        dues = {d - _ONE_DAY for d in dues}
    return tuple(sorted(d for d in dues if d.year == plan_year)) or None


def _rule(s: str) -> _Rule | None:
    offset = None
    s = _R_PERIOD_END.sub(" ", s)
    if m := _R_QMONTH.search(s):
        offset = _PART[m[1]]
        s = s[: m.start()] + " " + s[m.end() :]
    month_days = []
    for m in _R_DM.finditer(s):
        day, month = int(m[1]), int(m[2])
        _check_month(month)
        if not 1 <= day <= _days_in(2000, month):
            raise _Invalid(f"có ngày không tồn tại ({day}/{month})")
        month_days.append((day, month))
    s = _R_DM.sub(" ", s)
    days = [int(d) for m in _R_DAYS.finditer(s) for d in _DIGITS.findall(m[1])]
    for day in days:
        if not 1 <= day <= 31:
            raise _Invalid(f"có ngày không tồn tại (ngày {day})")
    s = _R_DAYS.sub(" ", s)
    weekdays = [_WEEKDAY_NUMBERS[m[1]] if m[1] else 6 for m in _R_WEEKDAY.finditer(s)] or [4]
    s = _R_WEEKDAY.sub(" ", s)
    months, weekly = _rule_months(_R_YEARS.sub(" ", s), offset)
    if not months and not weekly and not month_days:
        return None
    if month_days and (days or not (_yearly_only(s) or months == {m for _, m in month_days})):
        raise _Invalid("có cả ngày cố định và ngày định kỳ; hãy tách thành từng thời hạn")
    return _Rule(months, weekly, weekdays, days, month_days)


def _yearly_only(s: str) -> bool:
    """Whether the only period named is the year ("hằng năm", "năm báo cáo")."""
    return all(m[5] for m in _R_ITEM.finditer(s))


def _rule_months(s: str, quarter_offset: int | None) -> tuple[set[int], bool]:
    """The due months (and whether it is weekly) of the periods named in ``s``.

    Months or quarters named with a number ("tháng 12 hằng năm", "quý I hằng
    năm") are the due months of a yearly rule.
    """
    in_quarter = 2 if quarter_offset is None else quarter_offset
    named = {int(m[1]) for m in _R_NAMED_MONTH.finditer(s)}
    named.update(3 * _quarter(m[1]) - 2 + in_quarter for m in _R_NAMED_QUARTER.finditer(s))
    for month in named:
        _check_month(month)
    s = _R_NAMED_QUARTER.sub(" ", _R_NAMED_MONTH.sub(" ", s))
    months: set[int] = set()
    weekly = yearly = False
    for m in _R_ITEM.finditer(s):
        if m[1]:
            n = _months_count(m[1])
            months.update(range(n, 13, n))
        elif m[2]:
            weekly = True
        elif m[3]:
            months.update(range(1, 13))
        elif m[4]:
            months.update(3 * q + 1 + in_quarter for q in range(4))
        else:
            yearly = True
    if quarter_offset is not None and not months and not named:
        months.update(3 * q + 1 + in_quarter for q in range(4))
    if yearly and not months and not weekly:
        months = named or {12}
    return months, weekly


def _rule_dates(rule: _Rule, year: int) -> list[date]:
    if rule.month_days:
        return [date(year, m, min(d, _days_in(year, m))) for d, m in rule.month_days]
    dates: list[date] = []
    for month in rule.months:
        last = _days_in(year, month)
        dates.extend(date(year, month, min(d, last)) for d in rule.days or [last])
    if rule.weekly:
        first = date(year, 1, 1)
        for weekday in rule.weekdays:
            day = first + timedelta(days=(weekday - first.weekday()) % 7)
            while day.year == year:
                dates.append(day)
                day += _ONE_WEEK
    return dates
