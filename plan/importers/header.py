"""The document's number and date, from the lines above its table ("Số: 15/KH-SGDĐT", "Hòa Bình, ngày 10
tháng 01 năm 2026"), as an office prints them in the header block of an administrative document.

Pure: lines of text in, ``(number, issued_on)`` out, each None when the lines do not say it (a draft often
leaves the number blank: "Số:      /KH-SGDĐT").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import suppress
from datetime import date

from plan.text import clean, fold

_NUMBER = re.compile(r"\bso\s*[:.]?\s*(\d+[a-z0-9]*(?:\s?[/-]\s?[a-z0-9&.]+)+)")
_DATE = re.compile(r"\bngay\s*(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})\b")


def document_header(lines: Iterable[str]) -> tuple[str | None, date | None]:
    """The number ("15/KH-SGDĐT") and date of issue found in ``lines``, or None for each not found."""
    number: str | None = None
    issued_on: date | None = None
    for raw in lines:
        for line in raw.splitlines():
            text = clean(line)
            key = fold(text)  # same length as ``text``: positions carry over
            if number is None and (m := _NUMBER.search(key)):
                number = re.sub(r"\s*([/-])\s*", r"\1", text[m.start(1) : m.end(1)]).strip(" .")
            if issued_on is None and (m := _DATE.search(key)):
                with suppress(ValueError):  # "ngày 31 tháng 02": not a date, so none
                    issued_on = date(int(m[3]), int(m[2]), int(m[1]))
    return number, issued_on
