"""Vietnamese deadline phrases ("Quý III/2020", "Trước 31/12/2020") as structured deadlines.

``parse_deadline(text, year)`` is a pure function of the phrase and the plan
year: it returns a :class:`Deadline` or raises :class:`DeadlineError`, nothing
else. Matching is done on the folded phrase (``plan.text.fold``: lower case, no
diacritics), so case, NFD input, odd spacing and text typed without diacritics
("Quy III/2020", "truoc 31/12/2020") give the same result. docs/deadlines.md
has the same conventions with examples.

Kinds and their fields:

* ``date``: one day; start None, occurrences (due,).
* ``window``: a period; start and due (due None only for an open "từ <date>"
  window); occurrences (due,), or () when open.
* ``recurring``: start Jan 1 of the plan year, occurrences every due date in
  the plan year (sorted), due the last of them.
* ``continuous``: start Jan 1, due Dec 31 of the year named (else the plan
  year), occurrences (due,).
* ``event`` (waits for something outside the plan) and ``unscheduled`` (an
  admin must set a date): no dates, occurrences ().

Conventions:

* Dates: d/m/y, d-m-y, d.m.y, "ngày 31 tháng 12 năm 2020", two- or four-digit
  year (20 = 2020). A missing year is the plan year. An impossible date
  (31/02/2020), month 13, quarter 5 or a year outside 1900-2199 is an error.
* Periods are windows: a month ("Tháng 6/2020", "T6/2020", "06/2020"); a quarter
  (Roman or Arabic, "Quý", "Qúy", "Quí", "Q3"); "N tháng đầu/cuối năm" (also
  "Sáu tháng ...", "nửa đầu/cuối năm"); a year ("Năm 2020", "Trong năm", "Cả
  năm"); "năm học 2020-2021" (Sep 1 2020 to May 31 2021); "đầu/giữa/cuối tháng
  M" (days 1-10 / 11-20 / 21-end); "đầu/giữa/cuối quý Q" (its first / second /
  last month); "đầu/giữa/cuối năm" (quarter I / quarters II-III / quarter IV).
  A single day on its own, or after "trong"/"vào", is a ``date``.
* Ranges and lists ("từ X đến Y", "X - Y", "X và Y", "X, Y", "X; Y", X and Y on
  separate lines of the cell: "Quý II-III/2021",
  "tháng 3 và tháng 4 năm 2021", "2021-2025", "15-20/12/2020") are one window
  from the earliest start to the latest end. An endpoint without a year (or,
  for a day, a month) takes it from its right neighbour, else its left one,
  else the plan year ("từ 15/3 đến 30/6/2020"). If a range then runs backwards,
  the endpoint whose year was not written moves by a year ("từ tháng 11 đến
  tháng 2/2021" starts Nov 1 2020; "từ 15/11/2020 đến 20/2" ends Feb 20 2021).
* "trước X" is a ``date`` due the day before X starts ("trước 31/12" = Dec 30,
  "trước tháng 12" = Nov 30, "trước quý III" = Jun 30, "trước năm 2021" =
  Dec 31 2020, "trước cuối tháng 6" = Jun 20), except that with a time of day
  ("trước 16h30 ngày 5/8"; 16h30, 16h, 16 giờ 30, 16:30) it is due that day.
  With several X, the earliest counts. "trước" wins over other prefixes
  ("chậm nhất trước ngày 20/12" = Dec 19).
* "chậm nhất / muộn nhất / đến (hết) / hết / từ nay đến X" is a ``date`` due the
  last day of X ("đến hết quý I" = Mar 31).
* "từ / bắt đầu (từ) / kể từ X" alone, or "X trở đi" / "X và các năm tiếp
  theo", opens a window from the start of X with no due date; "sau X" opens one
  from the day after X ends.
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
* Order of precedence: unscheduled start, continuous start, event start,
  recurring, dates and periods, then the keyword fallbacks above.
* Ignored: leading words ("hoàn thành", "dự kiến", "vào", "thời hạn:", "thời
  gian", "hạn chót", "thực hiện", "triển khai", "báo cáo", "gửi", "nộp", ...),
  leading bullets and trailing punctuation, a parenthesis that keeps the phrase
  from parsing ("Tháng 6/2020 (tùy tình hình)"), "sáng/chiều/trưa" before
  "ngày", "lúc" before a time. "–", "—" and "~" count as "-".
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise

from plan.errors import UserError
from plan.text import clean, fold

__all__ = ["Deadline", "DeadlineError", "DeadlineKind", "parse_deadline"]

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
class Deadline:
    text: str  # the phrase, cleaned (plan.text.clean)
    kind: DeadlineKind
    start: date | None
    due: date | None  # the last day by which the work must be done
    occurrences: tuple[date, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "kind": self.kind.value,
            "start": self.start.isoformat() if self.start else None,
            "due": self.due.isoformat() if self.due else None,
            "occurrences": [d.isoformat() for d in self.occurrences],
        }


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
    """Raised inside the parser when the phrase names something impossible (31/02, quý 5)."""

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
_CONTINUOUS = r"thuong xuyen|lien tuc|hang ngay|moi ngay"
_CONTINUOUS_START = _rx(rf"(?:(?:{_CONTINUOUS})\b[\s,;:-]*(?:va\s)?)+")
_CONTINUOUS_ANY = _rx(rf"\b(?:{_CONTINUOUS})\b")
_EVENT_START = _rx(r"(?:ngay\s)?(?:sau khi|truoc khi|ke tu khi|tu khi|khi)\b")
_EVENT_WEAK_START = _rx(r"sau\b(?!\sthang)|(?:bat dau\s)?tu ngay\b")
_EVENT_ANY = _rx(r"\b(?:sau khi|truoc khi|khi|ke tu|tu khi)\b")
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
        kind, start, due, occurrences = _classify(_normalise(fold(cleaned)), year)
    except _Invalid as exc:
        raise DeadlineError(cleaned, f"Thời hạn “{_short(cleaned)}” {exc.detail}.") from None
    except _NotUnderstood as exc:
        raise DeadlineError(cleaned, exc.sentence(_short(cleaned))) from None
    return Deadline(cleaned, kind, start, due, occurrences)


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


_Parsed = tuple[DeadlineKind, date | None, date | None, tuple[date, ...]]


def _classify(s: str, year: int) -> _Parsed:
    if not s:
        raise _NotUnderstood()
    if _UNSCHEDULED_START.match(s):
        return DeadlineKind.UNSCHEDULED, None, None, _NO_DATES
    s, has_time = _strip_time(s)
    if m := _CONTINUOUS_START.match(s):
        return _continuous(s[m.end() :], year, has_time)
    if _EVENT_START.match(s):
        return _event(s)
    recurring = _REC_MARK.search(s) is not None
    if recurring and (dues := _recurring(s, year, has_time)):
        return DeadlineKind.RECURRING, date(year, 1, 1), dues[-1], dues
    found = _structured(s, year, has_time)
    if found is None and "(" in s:
        found = _structured(_TRIM.sub("", _PARENS.sub("", s)), year, has_time)
    if found is not None:
        occurrences = (found.due,) if found.due else _NO_DATES
        return found.kind, found.start, found.due, occurrences
    return _fallback(s, year, recurring)


def _event(s: str) -> _Parsed:
    kind = DeadlineKind.UNSCHEDULED if _UNSCHEDULED_ANY.search(s) else DeadlineKind.EVENT
    return kind, None, None, _NO_DATES


def _continuous(rest: str, year: int, has_time: bool) -> _Parsed:
    start, due = date(year, 1, 1), date(year, 12, 31)
    found = _structured(_TRIM.sub("", rest), year, has_time) if rest else None
    if found is not None:
        if found.start and found.due:
            start, due = found.start, found.due
        elif found.due:
            start, due = date(found.due.year, 1, 1), found.due
        elif found.start:
            start, due = found.start, date(found.start.year, 12, 31)
    return DeadlineKind.CONTINUOUS, start, due, (due,)


def _fallback(s: str, year: int, recurring: bool) -> _Parsed:
    """Phrases only recognised by a keyword somewhere inside them."""
    if _UNSCHEDULED_ANY.search(s):
        return DeadlineKind.UNSCHEDULED, None, None, _NO_DATES
    if _EVENT_ANY.search(s) or _EVENT_WEAK_START.match(s):
        return DeadlineKind.EVENT, None, None, _NO_DATES
    if _CONTINUOUS_ANY.search(s):
        return _continuous("", year, False)
    raise _NotUnderstood(recurring)


# --------------------------------------------------------------------------- normalisation

_CHARS = str.maketrans({"–": "-", "—": "-", "−": "-", "‐": "-", "‑": "-", "~": "-", "ð": "d"})
_QUI = _rx(r"\bqui\b")
_LETTER_DIGIT = _rx(r"(?<=[a-z]{2})(?=\d)")
_SEP_SPACES = _rx(r"(?<=\d)\s*([/.])\s*(?=\d)")
_SPACES = re.compile(r"\s+")
_TRIM = re.compile(r"^[\s\-+*•.,;:]+|[\s.,;:!]+$")
_LEADING = _rx(
    r"^(?:(?:hoan thanh|du kien|thoi han|thoi gian|han chot|han|vao|thuc hien|trien khai|ban hanh|"
    r"xong|phai|can|bao cao|gui|nop)\b[\s:,]*)+"
)
_TIME = _rx(
    r"(?:\b(?:vao\s)?luc\s)?\b\d{1,2}\s?(?:h|gio|:)\s?(?:\d{2})?\s?(?:p|phut)?(?![a-z\d])"
    r"(?:\s(?:sang|chieu|trua)\b)?\s?,?"
    r"|\b(?:buoi\s)?(?:sang|chieu|trua)\s(?=ngay\b)"
)
_PARENS = re.compile(r"\s*\([^)]*\)?")


def _normalise(folded: str) -> str:
    s = folded.translate(_CHARS)
    s = _QUI.sub("quy", s)
    s = _LETTER_DIGIT.sub(" ", s)
    s = _SEP_SPACES.sub(r"\1", s)
    s = _TRIM.sub("", s)
    return _TRIM.sub("", _LEADING.sub("", s))


def _strip_time(s: str) -> tuple[str, bool]:
    stripped, count = _TIME.subn(" ", s)
    if not count:
        return s, False
    return _TRIM.sub("", _SPACES.sub(" ", stripped)), True


# --------------------------------------------------------------------------- phrase level

_OP = _rx(
    r"(?:(?P<before>truoc)"
    r"|(?P<by>cham nhat|muon nhat|tre nhat|tu nay den het|tu nay den|tu nay toi het|tu nay toi"
    r"|den het|den|toi het|het)"
    r"|(?P<start>bat dau ke tu|bat dau tu|bat dau|ke tu|tinh tu|tu)"
    r"|(?P<after>sau(?!\sthang))"
    r"|(?P<within>trong suot|trong ca|trong (?:khoang )?thoi gian|trong|suot|ca|thoi gian|giai doan))"
    r"\b\s?(?:(?:la|vao|trong)\b\s?)?"
)
_ONWARD = _rx(r"\s(?:tro di|tro ve sau|(?:va\s)?(?:cac|nhung)\s(?:nam|thang|quy)\s(?:tiep theo|sau))$")


@dataclass(frozen=True, slots=True)
class _Dates:
    kind: DeadlineKind
    start: date | None
    due: date | None


def _structured(s: str, plan_year: int, has_time: bool) -> _Dates | None:
    """Dates, periods, ranges and their prefixes; None when the phrase is not of that shape."""
    ops: list[str] = []
    pos = 0
    while m := _OP.match(s, pos):
        ops.append(m.lastgroup or "within")
        pos = m.end()
    if onward := _ONWARD.search(s, pos):
        s = s[: onward.start()]
        ops.append("start")
    got = _span(s, pos)
    if got is None or got[1] != len(s):
        return None
    terms = got[0]
    bounds = _resolve(terms, plan_year)
    first = min(b[0] for b in bounds)
    last = max(b[1] for b in bounds)
    # "trước" wins over other prefixes ("chậm nhất trước ngày ..."); otherwise the last one counts.
    op = "before" if "before" in ops else (ops[-1] if ops else "within")
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


# --------------------------------------------------------------------------- terms

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
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_PART = {"dau": 0, "giua": 1, "cuoi": 2}
_YT = r"(?:\s?[/.-]\s?|\s(?:nam\s)?)(\d{4})(?!\d)"  # a year after a month or quarter
_QNUM = r"(iv|iii|ii|i|\d{1,2})(?![a-z\d])"
_NUMW = r"muoi mot|muoi hai|mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi"


_T_SCHOOL = _rx(r"nam hoc\s?(\d{4})\s?[-/]\s?(\d{4})(?!\d)")
_T_HALF = _rx(rf"(?:(\d{{1,2}})|({_NUMW}))\sthang\s(dau|cuoi)\s(?:cua\s)?nam(?![a-z])(?:{_YT})?")
_T_HALF_WORD = _rx(rf"nua\s(dau|cuoi)\s(?:cua\s)?nam(?![a-z])(?:{_YT})?")
_T_PART = _rx(r"(dau|giua|cuoi)\s(?:cua\s)?")
_T_DAY_RANGE = _rx(
    r"(?:ngay\s)?(\d{1,2})\s?(?:-|\sden\s|\stoi\s)\s?(?:ngay\s)?(\d{1,2})([/.])(\d{1,2})"
    r"(?:\3(\d{4}|\d{2})|\s(?:nam\s)?(\d{4}))?(?!\d)"
)
_T_DAY_WORDS = _rx(rf"(?:(?:ngay|mung|mong)\s)?(\d{{1,2}})\sthang\s(\d{{1,2}})(?!\d)(?:{_YT})?")
_T_DAY_NUM = _rx(
    r"(?:(?:ngay|mung|mong)\s)?(\d{1,2})([/.-])(\d{1,2})(?:\2(\d{4}|\d{2})|\s(?:nam\s)?(\d{4}))?(?!\d)"
)
_T_DAY_ONLY = _rx(r"(?:ngay|mung|mong)\s(\d{1,2})(?![\d/.])")
_T_MONTH = _rx(rf"(?:thang|t)\s?(\d{{1,2}})(?!\d)(?:{_YT})?")
_T_MONTH_BARE = _rx(r"(\d{1,2})[/.-](\d{4})(?!\d)")
_T_QUARTER = _rx(rf"(?:quy|q)\s?{_QNUM}(?:{_YT})?")
_T_YEAR = _rx(r"(?:nam\s)?(\d{4})(?!\d)")
_T_YEAR_PLAIN = _rx(r"nam(?![a-z\d]|\s\d)")
_C_MONTH = _rx(rf"(\d{{1,2}})(?!\d)(?:{_YT})?")
_C_QUARTER = _rx(rf"{_QNUM}(?:{_YT})?")
_SEP = _rx(r"\s?(?:[,;]\s?(?:va\s)?|-\s?|&\s?|(?:cho\s)?(?:den|toi)(?:\shet)?\s|va\s|hoac\s)")


class _Term:
    """A day, month, quarter, year or run of months, possibly missing its year (or month)."""

    __slots__ = ("d1", "d2", "m1", "m2", "span", "unit", "written", "year")

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

    def bounds(self) -> tuple[date, date]:
        assert self.year is not None and self.m1 is not None and self.m2 is not None
        start = _date(self.year, self.m1, self.d1 or 1)
        end_year = self.year + self.span
        if self.d2 is None:
            _check_month(self.m2)
            return start, date(end_year, self.m2, calendar.monthrange(end_year, self.m2)[1])
        return start, _date(end_year, self.m2, self.d2)


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
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
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


def _months_count(token: str) -> int:
    n = _NUM_WORDS[token] if token in _NUM_WORDS else int(token)
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


def _terms_at(s: str, pos: int) -> tuple[list[_Term], int] | None:
    """The term (or compact day range, two terms) starting exactly at ``pos``."""
    if m := _T_DAY_RANGE.match(s, pos):
        year = m[5] or m[6]
        month = int(m[4])
        first = _Term("day", None, month, month, int(m[1]), int(m[1]))
        return [first, _Term("day", year, month, month, int(m[2]), int(m[2]))], m.end()
    term = _single_term(s, pos)
    return ([term[0]], term[1]) if term else None


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
    if m := _T_DAY_WORDS.match(s, pos):
        return _day_term(m[1], m[2], m[3]), m.end()
    if m := _T_DAY_NUM.match(s, pos):
        return _day_term(m[1], m[3], m[4] or m[5]), m.end()
    if m := _T_DAY_ONLY.match(s, pos):
        day = int(m[1])
        return _Term("day", None, None, None, day, day), m.end()
    if m := _T_MONTH_BARE.match(s, pos):
        return _month_term(m[1], m[2]), m.end()
    return _sub_term(s, pos)


def _day_term(day: str, month: str, year: str | None) -> _Term:
    d, mo = int(day), int(month)
    return _Term("day", year, mo, mo, d, d)


def _continuation(unit: str, s: str, pos: int) -> tuple[list[_Term], int] | None:
    """A bare number after a separator that repeats the previous unit ("Quý II-III", "tháng 3, 4")."""
    if unit == "month" and (m := _C_MONTH.match(s, pos)):
        return [_month_term(m[1], m[2])], m.end()
    if unit == "quarter" and (m := _C_QUARTER.match(s, pos)):
        return [_quarter_term(m[1], m[2])], m.end()
    return None


def _span(s: str, pos: int) -> tuple[list[_Term], int] | None:
    """One term, or several joined by range/list separators."""
    got = _terms_at(s, pos)
    if got is None:
        return None
    terms, pos = got
    while pos < len(s):
        if sep := _SEP.match(s, pos):
            nxt = _terms_at(s, sep.end()) or _continuation(terms[-1].unit, s, sep.end())
        else:  # a bare space (a cell's line break) before a complete term: "Quý II/2020 Quý IV/2020"
            nxt = _terms_at(s, pos + 1) if s[pos] == " " else None
        if nxt is None:
            break
        terms.extend(nxt[0])
        pos = nxt[1]
    return terms, pos


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
    r"\b(?:(?:hang|moi)\s(?:tuan|thang|quy|nam)|dinh ky|thang\s(?:dau|giua|cuoi)\s(?:cua\s)?quy"
    r"|(?:\d{1,2}|" + _NUMW + r")\sthang\s?(?:/\s?|mot\s|1\s)lan)\b"
)
_R_BEFORE = _rx(r"\btruoc\b")
_R_QMONTH = _rx(r"\bthang\s(dau|giua|cuoi)\s(?:cua\s)?(?=quy\b)")  # "quy" stays: "quý" or "quý I"
_R_DM = _rx(
    r"\b(?:(?:ngay|mung|mong)\s)?(\d{1,2})(?:[/.-]|\sthang\s)(\d{1,2})(?:[/.-](?:\d{4}|\d{2}))?(?!\d|\s?lan\b)"
)
_R_DAYS = _rx(r"\b(?:ngay|mung|mong)\s(\d{1,2}(?:\s?(?:,|va|&)\s?\d{1,2})*)(?![\d/.])")
_R_WEEKDAY = _rx(r"\b(?:thu\s(hai|ba|tu|nam|sau|bay|[2-7])|(chu nhat))\b")
_R_YEARS = _rx(r"\b(?:nam\s)?\d{4}\b")
_R_NAMED_MONTH = _rx(r"\b(?:thang|t)\s?(\d{1,2})(?!\d|\s?lan\b)")
_R_NAMED_QUARTER = _rx(rf"\b(?:quy|q)\s?{_QNUM}")
_R_ITEM = _rx(rf"\b(?:(\d{{1,2}}|{_NUMW})\sthang|(tuan)|(thang)|(quy)|(nam))\b")
_DIGITS = _rx(r"\d{1,2}")
_WEEKDAYS = dict(zip(("hai", "ba", "tu", "nam", "sau", "bay"), range(6), strict=True))
_WEEKDAYS.update((str(n), n - 2) for n in range(2, 8))


@dataclass(slots=True)
class _Rule:
    """What a recurring phrase says: the due months (or weekdays) and the day of the month."""

    months: set[int]
    weekly: bool
    weekdays: list[int]
    days: list[int]
    month_days: list[tuple[int, int]]


def _recurring(s: str, plan_year: int, has_time: bool) -> tuple[date, ...] | None:
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
    if m := _R_QMONTH.search(s):
        offset = _PART[m[1]]
        s = s[: m.start()] + " " + s[m.end() :]
    month_days = []
    for m in _R_DM.finditer(s):
        day, month = int(m[1]), int(m[2])
        _check_month(month)
        if not 1 <= day <= calendar.monthrange(2000, month)[1]:
            raise _Invalid(f"có ngày không tồn tại ({day}/{month})")
        month_days.append((day, month))
    s = _R_DM.sub(" ", s)
    days = [int(d) for m in _R_DAYS.finditer(s) for d in _DIGITS.findall(m[1])]
    for day in days:
        if not 1 <= day <= 31:
            raise _Invalid(f"có ngày không tồn tại (ngày {day})")
    s = _R_DAYS.sub(" ", s)
    weekdays = [_WEEKDAYS[m[1]] if m[1] else 6 for m in _R_WEEKDAY.finditer(s)] or [4]
    s = _R_WEEKDAY.sub(" ", s)
    months, weekly = _rule_months(_R_YEARS.sub(" ", s), offset)
    if not months and not weekly and not month_days:
        return None
    return _Rule(months, weekly, weekdays, days, month_days)


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
        return [date(year, m, min(d, calendar.monthrange(year, m)[1])) for d, m in rule.month_days]
    dates = []
    for month in rule.months:
        last = calendar.monthrange(year, month)[1]
        dates.extend(date(year, month, min(d, last)) for d in rule.days or [last])
    if rule.weekly:
        first = date(year, 1, 1)
        for weekday in rule.weekdays:
            day = first + timedelta(days=(weekday - first.weekday()) % 7)
            while day.year == year:
                dates.append(day)
                day += _ONE_WEEK
    return dates
