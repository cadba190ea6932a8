"""Dates as office staff type them: ``31/12/2020``, ``31-12-2020``, ``31.12.2020`` or ``2020-12-31``."""

from __future__ import annotations

import re
from datetime import date

from plan.errors import UserError
from plan.limits import calendar_years

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(text: str, what: str = "ngày", year: int | None = None) -> date:
    """A date typed by a user: ``2020-03-31`` or ``31/03/2020`` (also with ``.`` or ``-``), in the calendar's years.

    The error's example is of ``year`` (the plan's) when given, else of this year.
    """
    for pattern, order in ((_ISO, (0, 1, 2)), (_DMY, (2, 1, 0))):
        match = pattern.match(text)
        if match:
            parts = [int(match.group(i + 1)) for i in range(3)]
            try:
                day = date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                break
            first, last = calendar_years()
            if not first <= day.year <= last:
                raise UserError(
                    f"{what.capitalize()} '{text.strip()}' có năm {day.year} nằm ngoài lịch làm việc: "
                    f"hãy dùng một năm từ {first} đến {last}."
                )
            return day
    example = year or date.today().year
    raise UserError(
        f"{what.capitalize()} '{text}' không hợp lệ: hãy viết dạng NGÀY/THÁNG/NĂM (31/03/{example}) "
        f"hoặc {example}-03-31."
    )
