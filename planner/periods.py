"""Reporting periods of a plan's reporting regime, with the data cut-off of Decree 09/2019/NĐ-CP.

Article 12 of Decree 09/2019/NĐ-CP ("thời gian chốt số liệu báo cáo định kỳ"):

* quarterly: from the 15th of the month before the quarter to the 14th of the quarter's
  last month (Q1: 15/12 of the previous year - 14/3; Q2: 15/3 - 14/6; Q3: 15/6 - 14/9;
  Q4: 15/9 - 14/12);
* 6-month (first half): 15/12 of the previous year - 14/6;
* annual: 15/12 of the previous year - 14/12.

The decree has no 9-month clause; the 9-month report follows the same rule
(15/12 of the previous year - 14/9), as provinces' regulations do.

Periods that close on the same day stay separate: Q2 and H1 both close on 14/6, Q3 and
9M on 14/9, Q4 and Y on 14/12. Whether requests falling on the same day are merged into
one message is the planner's decision, not this module's.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from plan.text import fold

KINDS = ("quarterly", "6-month", "9-month", "annual", "adhoc")
DEFAULT_KINDS = ("quarterly", "6-month", "9-month", "annual")
ADHOC_TITLE = "Báo cáo đột xuất"

_ROMAN = ("I", "II", "III", "IV")

# code -> (kind, month of the cut-off, month of the cut-off that precedes the data window).
# The window starts the day after that earlier cut-off; 12 there means the previous year's December.
_FIXED: dict[str, tuple[str, int, int]] = {
    "Q1": ("quarterly", 3, 12),
    "Q2": ("quarterly", 6, 3),
    "Q3": ("quarterly", 9, 6),
    "Q4": ("quarterly", 12, 9),
    "H1": ("6-month", 6, 12),
    "9M": ("9-month", 9, 12),
    "Y": ("annual", 12, 12),
}
_CODES_BY_KIND: dict[str, tuple[str, ...]] = {
    "quarterly": ("Q1", "Q2", "Q3", "Q4"),
    "6-month": ("H1",),
    "9-month": ("9M",),
    "annual": ("Y",),
    "adhoc": (),
}

# Folded text with spaces and dots removed -> code.
_ALIASES: dict[str, str] = {
    **{
        f"{prefix}{n}": f"Q{i + 1}"
        for i, roman in enumerate(_ROMAN)
        for n in (str(i + 1), roman.lower())
        for prefix in ("q", "quy")
    },
    **dict.fromkeys(("h1", "6t", "6m", "6thang", "6thangdaunam", "sauthang", "sauthangdaunam"), "H1"),
    **dict.fromkeys(("9m", "9t", "9thang", "9thangdaunam", "chinthang"), "9M"),
    **dict.fromkeys(("y", "n", "nam", "canam", "hangnam"), "Y"),
}
_ADHOC = re.compile(r"^adhoc-(\d{4}-\d{2}-\d{2})$")
_VALID_CODES = (
    "Q1, Q2, Q3, Q4 (hoặc Quý I–IV, quy 1–4), H1 (6T: 6 tháng đầu năm), 9M (9T: 9 tháng), "
    "Y (N: năm), adhoc-YYYY-MM-DD (báo cáo đột xuất)"
)


@dataclass(frozen=True)
class ReportPeriod:
    """One report the plan's regime asks for."""

    code: str  # "Q1".."Q4", "H1", "9M", "Y", or "adhoc-YYYY-MM-DD"
    kind: str  # "quarterly" | "6-month" | "9-month" | "annual" | "adhoc"
    year: int
    data_from: date | None  # first day of the data window (None for ad hoc reports)
    cutoff: date  # data closes on this day
    title: str  # Vietnamese title of the report


def _cutoff(year: int, month: int, cutoff_day: int) -> date:
    """``cutoff_day`` of the month, or the month's last day when it is shorter."""
    return date(year, month, min(cutoff_day, monthrange(year, month)[1]))


def _title(code: str, year: int) -> str:
    if code.startswith("Q"):
        return f"Báo cáo quý {_ROMAN[int(code[1]) - 1]} năm {year}"
    return {
        "H1": f"Báo cáo 6 tháng đầu năm {year}",
        "9M": f"Báo cáo 9 tháng năm {year}",
        "Y": f"Báo cáo năm {year}",
    }[code]


def _check_cutoff_day(cutoff_day: int) -> None:
    if not 1 <= cutoff_day <= 31:
        raise ValueError(f"Ngày chốt số liệu phải từ 1 đến 31 (nhận được {cutoff_day}).")


def fixed_period(code: str, year: int, cutoff_day: int = 14) -> ReportPeriod:
    """The period ``code`` ("Q1".."Q4", "H1", "9M", "Y") of ``year``.

    The data window runs from the day after the previous cut-off (the one in ``start_after_month``,
    December meaning the previous year's) to the cut-off; ``cutoff_day`` 31 gives calendar periods.
    """
    _check_cutoff_day(cutoff_day)
    kind, last_month, start_after_month = _FIXED[code]
    start_year = year - 1 if start_after_month == 12 else year
    data_from = _cutoff(start_year, start_after_month, cutoff_day) + timedelta(days=1)
    return ReportPeriod(
        code=code,
        kind=kind,
        year=year,
        data_from=data_from,
        cutoff=_cutoff(year, last_month, cutoff_day),
        title=_title(code, year),
    )


def adhoc_period(on: date) -> ReportPeriod:
    """An ad hoc ("đột xuất") report whose data closes on ``on``; it has no fixed window."""
    return ReportPeriod(
        code=f"adhoc-{on.isoformat()}",
        kind="adhoc",
        year=on.year,
        data_from=None,
        cutoff=on,
        title=ADHOC_TITLE,
    )


def periods_for_year(
    year: int, kinds: Iterable[str] = DEFAULT_KINDS, cutoff_day: int = 14
) -> list[ReportPeriod]:
    """The periodic reports of ``year`` for the regime's ``kinds``, sorted by cut-off, then code.

    "adhoc" is accepted (a regime lists it) but yields nothing: ad hoc reports have no date
    until someone asks for one (see :func:`adhoc_period`). Periods with the same cut-off
    (Q2/H1, Q3/9M, Q4/Y) are all returned; merging them is the planner's call.
    """
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(
            f"Loại kỳ báo cáo không hợp lệ: {', '.join(unknown)} (chỉ nhận: {', '.join(KINDS)})."
        )
    codes = {code for kind in kinds for code in _CODES_BY_KIND[kind]}
    periods = [fixed_period(code, year, cutoff_day) for code in codes]
    return sorted(periods, key=lambda p: (p.cutoff, p.code))


def parse_period(text: str, year: int) -> ReportPeriod:
    """Read a period code as an office writes it: "Q1", "Quý I", "quy 1", "H1", "6T", "9M", "9T",
    "Y", "N", "năm", or "adhoc-YYYY-MM-DD" (case and diacritics ignored).

    ``year`` is the plan's year (ignored for ad hoc codes, which carry their date).
    """
    folded = fold(text)
    adhoc = _ADHOC.match(folded.replace(" ", ""))
    if adhoc:
        try:
            return adhoc_period(date.fromisoformat(adhoc.group(1)))
        except ValueError:
            pass
    code = _ALIASES.get(re.sub(r"[\s.]", "", folded))
    if code is None:
        raise ValueError(f"Kỳ báo cáo không hợp lệ: «{text}». Các mã hợp lệ: {_VALID_CODES}.")
    return fixed_period(code, year)
