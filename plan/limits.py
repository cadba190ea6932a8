"""Every file a user gives is checked and bounded before it is parsed.

A path is refused in one Vietnamese sentence when it is missing, a folder, too big, or
(for text) not UTF-8; a YAML syntax error is said in Vietnamese with its line and column
(PyYAML's English never reaches the user). Dates and years a user types must lie in the
years the working calendar knows.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from plan.errors import UserError

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


def check_output_file(path: Path | str, what: str = "tệp") -> Path:
    """``path`` if a file may be written there (not a folder, its folder exists)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} là một thư mục: hãy ghi ra một tệp, ví dụ {path / 'quy-tac.yaml'}.")
    if not path.parent.is_dir():
        raise UserError(f"Thư mục {path.parent} không tồn tại: hãy tạo nó trước khi ghi {what}.")
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
