"""Dates as office staff type them: ``31/12/2020``, ``31-12-2020``, ``31.12.2020`` or ``2020-12-31``."""

from __future__ import annotations

import re
from datetime import date

from plan.errors import UserError

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(text: str, what: str = "ngày") -> date:
    """A date typed by a user: ``2020-03-31`` or ``31/03/2020`` (also with ``.`` or ``-``)."""
    for pattern, order in ((_ISO, (0, 1, 2)), (_DMY, (2, 1, 0))):
        match = pattern.match(text)
        if match:
            parts = [int(match.group(i + 1)) for i in range(3)]
            try:
                return date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                break
    raise UserError(
        f"{what.capitalize()} '{text}' không hợp lệ: hãy viết dạng NGÀY/THÁNG/NĂM (31/03/2020) hoặc 2020-03-31."
    )
