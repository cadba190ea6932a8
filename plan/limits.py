"""Every file a user gives is checked and bounded before it is parsed.

A .docx/.xlsx (a zip) is judged from its directory before anything is decompressed: the number of members, each
member's uncompressed size and compression ratio, their total and the whole archive's ratio (a 1 MB "zip bomb" that expands to 500 MB is
refused in milliseconds). Tables are bounded in rows and characters per cell while they are read; text files in
bytes. A path is refused in one Vietnamese sentence when it is missing, a folder, too big, or
(for text) not UTF-8; a YAML syntax error is said in Vietnamese with its line and column
(PyYAML's English never reaches the user). Dates and years a user types must lie in the
years the working calendar knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import yaml

from plan.errors import UserError, causes

MAX_TEXT_BYTES = 10 * 1024 * 1024  # a rules, calendar, units, deadline or CSV/YAML plan file


class FileLimitError(UserError):
    """A file over one of the bounds of this module (the message names the bound)."""


def check_input_file(path: Path | str, what: str = "tệp") -> Path:
    """``path`` if it names a readable file, else one Vietnamese sentence saying what is wrong."""
    path = Path(path)
    try:
        if not path.exists():
            raise UserError(f"Không tìm thấy {what} {path}: hãy kiểm tra lại đường dẫn.")
        if path.is_dir():
            raise UserError(f"{path} là một thư mục, không phải {what}: hãy chỉ ra một tệp.")
        if not path.is_file():
            raise UserError(f"{path} không phải một tệp thường: hãy chỉ ra {what}.")
    except OSError as error:
        raise UserError(f"Không đọc được {what} {path} ({error.strerror or error}).") from None
    return path


def check_size(path: Path, limit: int = MAX_TEXT_BYTES, what: str = "tệp") -> int:
    """The size of ``path``, refused over ``limit`` bytes."""
    size = path.stat().st_size
    if size > limit:
        raise FileLimitError(
            f"{what.capitalize()} {path} nặng {size / 1_048_576:.1f} MB, quá giới hạn "
            f"{limit / 1_048_576:.0f} MB: hãy tách thành tệp nhỏ hơn."
        )
    return size


def read_text_file(path: Path | str, what: str = "tệp", limit: int = MAX_TEXT_BYTES) -> str:
    """The text of a UTF-8 file a user gives (a BOM is allowed), checked and bounded first."""
    path = check_input_file(path, what)
    check_size(path, limit, what)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"Không đọc được {what} {path} ({error.strerror or error}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{what.capitalize()} {path} không phải văn bản UTF-8 (byte lạ ở vị trí {error.start}): "
            "hãy lưu lại với mã UTF-8."
        ) from None


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML syntax error in Vietnamese, with its place: never PyYAML's English."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return "sai cú pháp YAML"
    return f"sai cú pháp YAML ở dòng {mark.line + 1}, cột {mark.column + 1}"


def load_yaml(path: Path | str, what: str = "tệp") -> object:
    """A YAML file a user gives: checked, bounded, UTF-8, parsed safely; every failure one Vietnamese sentence."""
    text = read_text_file(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UserError(
            f"{what.capitalize()} {path} {yaml_problem(error)}: hãy sửa chỗ đó (thụt lề, dấu ':' hoặc '-')."
        ) from None


@cache
def calendar_years() -> tuple[int, int]:
    """The first and last year the working calendar knows: the holidays package's (as planner.calendar)."""
    import holidays

    return holidays.Vietnam.start_year, holidays.Vietnam.end_year


def check_year(year: int, what: str = "năm") -> int:
    """A year a user gives, within the working calendar's years (those of the holidays package)."""
    first, last = calendar_years()
    if not first <= year <= last:
        raise UserError(
            f"{what.capitalize()} {year} nằm ngoài lịch làm việc: hãy dùng một năm từ {first} đến {last}."
        )
    return year


# -- archives and tables ------------------------------------------------------------------------------------

MAX_PLAN_BYTES = 64 * 1024 * 1024  # a plan file as saved (a 200,000-row CSV is about 40 MB)
MAX_MEMBERS = 5_000  # files inside a .docx/.xlsx
# Every member together, uncompressed (and so any one member). The XML of a 20,000-row .docx plan is 14.6 MB and
# reading + checking it peaks at 271 MB RSS; 40,000 rows: 28.4 MB, 478 MB (bench/bench_archive_limits.py): about
# 15 bytes of memory per byte of XML over a 50 MB base. 40 MB keeps `plan check` and the web's child near 0.7 GB at
# most, and a 20,000-row plan has a margin of 2.7x (a real plan has hundreds of rows).
MAX_ARCHIVE_BYTES = 40 * 1024 * 1024
MAX_MEMBER_BYTES = (
    MAX_ARCHIVE_BYTES  # one member, uncompressed (kept as a name: a test or caller may lower it)
)
MAX_RATIO = (
    100  # uncompressed / compressed, per member over 1 MB and for the whole archive (Office XML is 5-20)
)
_RATIO_FROM = 1024 * 1024  # a member this small is judged only with the others (the whole archive's ratio)
_ARCHIVE_RATIO_FROM = 4 * 1024 * 1024  # the whole archive's ratio counts once it expands past this
MAX_ROWS = 250_000  # rows of a table or sheet
MAX_CELLS = 100  # columns read per row (a plan has about ten)
MAX_CELL_CHARS = 32_767  # characters of one cell (Excel's own limit)


def check_archive(path: Path, what: str = "tệp") -> None:
    """A .docx/.xlsx (a zip) whose members are few, small and not a bomb, judged from the zip's directory
    before anything is decompressed (a member's data is never read past its declared size)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: the reader says the file is damaged, in its own words
    if len(members) > MAX_MEMBERS:
        raise FileLimitError(
            f"{what.capitalize()} {path.name} chứa {len(members):,} tệp con, quá giới hạn {MAX_MEMBERS:,}: "
            "tệp bị hỏng hoặc không phải văn bản Office thông thường."
        )
    total = 0
    for member in members:
        size = member.file_size
        total += size
        if size > _RATIO_FROM and size > MAX_RATIO * max(member.compress_size, 1):
            raise FileLimitError(
                f"{what.capitalize()} {path.name} có phần {member.filename} nén với tỉ lệ "
                f"{size // max(member.compress_size, 1):,}:1, quá giới hạn {MAX_RATIO}:1 (dấu hiệu 'bom nén'): "
                "hãy mở tệp trong Word/Excel và lưu lại."
            )
        if size > MAX_MEMBER_BYTES or total > MAX_ARCHIVE_BYTES:
            limit = MAX_MEMBER_BYTES if size > MAX_MEMBER_BYTES else MAX_ARCHIVE_BYTES
            raise FileLimitError(
                f"{what.capitalize()} {path.name} khi giải nén lớn hơn {limit // 1_048_576} MB "
                f"({member.filename}: {size / 1_048_576:,.0f} MB): hãy tách kế hoạch thành tệp nhỏ hơn."
            )
    compressed = max(sum(member.compress_size for member in members), 1)
    if total > _ARCHIVE_RATIO_FROM and total > MAX_RATIO * compressed:
        raise FileLimitError(
            f"{what.capitalize()} {path.name} giải nén từ {compressed / 1_048_576:,.1f} MB ra "
            f"{total / 1_048_576:,.0f} MB, tỉ lệ {total // compressed:,}:1 cả tệp, quá giới hạn {MAX_RATIO}:1 "
            "(dấu hiệu 'bom nén'): hãy mở tệp trong Word/Excel và lưu lại."
        )


_XML_ERR_NO_MEMORY = 2  # libxml2's xmlParserErrors
_NO_MEMORY = (
    "memory allocation failed",
    "out of memory",
    "cannot allocate memory",
    "no memory",
    "failed to map segment from shared object",  # a library loaded under the address-space limit (RLIMIT_AS)
)


def out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is the process running out of memory, however the library said it:
    a MemoryError, lxml's XML_ERR_NO_MEMORY ("unknown error"), an OSError ENOMEM. A reader that turns every failure into
    "the file is damaged" asks this first and raises MemoryError instead (the web's child then names its limit)."""
    for current in causes(error):
        if isinstance(current, MemoryError):
            return True
        if isinstance(current, OSError) and current.errno == 12:  # ENOMEM
            return True
        if any(words in str(current).lower() for words in _NO_MEMORY):
            return True
        if (
            type(current).__name__ == "XMLSyntaxError"
            and getattr(current, "code", None) == _XML_ERR_NO_MEMORY
        ):
            return True  # libxml2 out of memory says only "unknown error"; its code is XML_ERR_NO_MEMORY
    return False


def check_row(number: int, cells: Sequence[str], file: str) -> None:
    """Row ``number`` of a table: within MAX_ROWS, each cell within MAX_CELL_CHARS."""
    if number > MAX_ROWS:
        raise FileLimitError(
            f"{file}: bảng có hơn {MAX_ROWS:,} dòng, quá giới hạn: hãy tách kế hoạch thành nhiều tệp."
        )
    for column, text in enumerate(cells, start=1):
        if len(text) > MAX_CELL_CHARS:
            raise FileLimitError(
                f"{file}: ô ở dòng {number}, cột {column} dài {len(text):,} ký tự, quá giới hạn "
                f"{MAX_CELL_CHARS:,} ký tự của một ô: hãy rút gọn nội dung ô đó."
            )
