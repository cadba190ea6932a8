"""Read the plan from a CSV file (UTF-8, with or without BOM; "," ";" or tab separated)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from plan.importers.table import HEADER_SCAN_ROWS, Header, Row, find_header, no_plan_table, read_table
from plan.limits import check_row
from plan.model import PlanFileError, RawPlan

DELIMITERS = (",", ";", "\t")


def decode_csv(data: bytes, file: str) -> str:
    """The text of a CSV file; anything but UTF-8 (or UTF-16 with a BOM) is refused with advice."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    raise PlanFileError(
        file,
        "Tệp CSV không ở bảng mã UTF-8 (có vẻ là bảng mã Windows-1258/1252 hoặc TCVN3); "
        "hãy mở tệp trong Excel và lưu lại với kiểu 'CSV UTF-8 (Comma delimited)'.",
    )


def csv_rows(text: str, delimiter: str, limit: int | None = None, file: str = "tệp") -> list[Row]:
    """Records of ``text`` (the first ``limit`` of them), each numbered by the line it starts on (bounded:
    plan.limits.check_row)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    start = 1
    for count, record in enumerate(reader, start=1):
        check_row(count, record, file)
        rows.append(Row(number=start, cells=tuple(record)))
        start = reader.line_num + 1
        if limit is not None and len(rows) >= limit:
            break
    return rows


def parse_csv(text: str, file: str) -> RawPlan:
    """Read the plan from CSV text, choosing the delimiter whose header names the most columns.

    The header is looked for in the first rows only, so each delimiter is tried on those; the whole text
    is then read once, with the delimiter chosen (a long plan is not held in memory three times).
    """
    best: tuple[str, Header] | None = None
    for delimiter in DELIMITERS:
        try:
            rows = csv_rows(text, delimiter, limit=HEADER_SCAN_ROWS + 1, file=file)
        except csv.Error:
            continue
        header = find_header(rows)
        if header is not None and (best is None or len(header.columns) > len(best[1].columns)):
            best = (delimiter, header)
    if best is None:
        raise no_plan_table(file)
    try:
        rows = csv_rows(text, best[0], file=file)
    except csv.Error:
        raise PlanFileError(
            file,
            "Tệp CSV có dòng không đọc được (một ô quá dài hoặc có ký tự lạ); "
            "hãy mở tệp trong Excel và lưu lại với kiểu 'CSV UTF-8 (Comma delimited)'.",
        ) from None
    return read_table(rows, file, header=best[1])


def read_csv_plan(path: Path) -> RawPlan:
    return parse_csv(decode_csv(path.read_bytes(), str(path)), str(path))
