"""A contacts sheet (danh bạ): one row per unit or person, read, validated and normalised; and its layout.

Pure but for reading the file: rows of cell text in, :class:`ContactRow` out, with every problem as
``FILE:ROW: sentence``. The columns are found by their headers, whatever their order and wording (as for
plans): "Mã đơn vị", "Đơn vị", "Vai trò", "Họ và tên", "Chức vụ", "Email" / "Thư điện tử", "Điện thoại" /
"SĐT" / "Di động", "Telegram", "Zalo", "Lãnh đạo phụ trách". A row is

* a unit (its shared mailbox, group chat, phone): no person named, or "Vai trò" = "Đơn vị";
* the unit's head: a person named, or "Vai trò" = "Trưởng đơn vị" (Trưởng phòng, Chánh Văn phòng...);
* a leader of the department: its code (GD, PGD1...) in "Mã", or "Vai trò" = "Giám đốc" / "Phó Giám đốc".

A column present in the sheet is the truth for the rows it has (an empty cell: no address); a column the
sheet lacks leaves what the directory has. Emails are checked by email-validator (syntax only: nothing is
looked up) and written with the domain in lower case; phone numbers are read by phonenumbers (Google's
libphonenumber) as Vietnamese unless written with another country code, and written in one canonical form:
a Vietnamese number as its ten or eleven digits with the leading 0 ("091 234 5678", "+84 91 234 5678" and
"84912345678" are all "0912345678"), another country's in E.164 ("+6591234567").

:func:`placeholder_reason` says when an address is a stand-in, not a real one (the sample directory's:
reserved example domains, 0900000000-like numbers, "placeholder" ids): `doctor` lists them and `run` refuses
them in production.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from plan.errors import UserError
from plan.model import PlanFileError
from plan.text import clean, fold
from plan.units import Contacts, Directory, Person

CODE, UNIT, ROLE, NAME, TITLE, SUPERVISOR = "code", "unit", "role", "name", "title", "supervisor"
EMAIL, PHONE, TELEGRAM, ZALO = "email", "phone", "telegram_chat_id", "zalo_user_id"
CONTACT_COLUMNS = (EMAIL, PHONE, TELEGRAM, ZALO)
# The layout `units export` writes (and `units import` reads back), with each column's header.
LAYOUT: tuple[tuple[str, str], ...] = (
    (CODE, "Mã"),
    (UNIT, "Đơn vị"),
    (ROLE, "Vai trò"),
    (NAME, "Họ và tên"),
    (TITLE, "Chức vụ"),
    (EMAIL, "Email"),
    (PHONE, "Điện thoại"),
    (TELEGRAM, "Telegram"),
    (ZALO, "Zalo"),
    (SUPERVISOR, "Lãnh đạo phụ trách"),
)
ROLES = ("unit", "head", "director", "deputy")
ROLE_WORDS = {"unit": "Đơn vị", "head": "Trưởng đơn vị", "director": "Giám đốc", "deputy": "Phó Giám đốc"}
HEADER_SCAN_ROWS = 25
MAX_ROWS = 5_000  # a department has a few dozen units; a province's directory a few hundred
MAX_BYTES = 5 * 1024 * 1024

_HEADERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (field, folded headers that name it); checked in order, exact words first
    (SUPERVISOR, ("lanh dao phu trach", "pgd phu trach", "pho giam doc phu trach", "phu trach")),
    (CODE, ("ma", "ma don vi", "ma dv", "ky hieu", "ma so", "code")),
    (ROLE, ("vai tro", "doi tuong", "loai")),
    (TITLE, ("chuc vu", "chuc danh")),
    (
        NAME,
        ("ho va ten", "ho ten", "ten", "nguoi", "can bo", "ten can bo", "nguoi nhan", "ho ten nguoi nhan"),
    ),
    (EMAIL, ("email", "e mail", "thu dien tu", "dia chi email", "dia chi thu dien tu", "hop thu", "mail")),
    (PHONE, ("dien thoai", "so dien thoai", "sdt", "dt", "di dong", "dtdd", "so dt", "so di dong", "phone")),
    (
        UNIT,
        ("don vi", "ten don vi", "phong", "phong ban", "co quan", "co quan don vi", "bo phan", "ten phong"),
    ),
)
_CLEAR = {"", "-", "–", "—", "x"}  # what an empty cell may hold
_TELEGRAM = re.compile(r"^-?\d{3,20}$|^@[A-Za-z][A-Za-z0-9_]{4,31}$")
_ZALO = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def classify_header(text: str) -> str | None:
    key = re.sub(r"[^a-z0-9 ]", " ", fold(text))
    key = re.sub(r"\s+", " ", key).strip()
    if not key or len(key) > 60:
        return None
    if "telegram" in key:
        return TELEGRAM
    if "zalo" in key:
        return ZALO
    for kind, names in _HEADERS:
        if key in names:
            return kind
    if key.startswith(("email", "e mail", "thu dien tu")):
        return EMAIL
    if key.startswith(("dien thoai", "so dien thoai", "sdt")):
        return PHONE
    return None


@dataclass(frozen=True)
class ContactRow:
    """One row of the sheet, checked: who it is about and the values of the columns the sheet has."""

    row: int  # as the user sees it (spreadsheet row, CSV line)
    role: str | None  # ROLES, or None: decided against the directory (a leader's code, a person named)
    code: str | None
    unit: str | None  # the unit's name as written
    name: str | None
    title: str | None
    contacts: dict[str, str | None]  # only the columns the sheet has; None: no address
    supervisor: str | None = None
    has_supervisor: bool = False


@dataclass
class Sheet:
    """The checked rows, the columns the sheet has, what is wrong (blocking) and what looks odd (not)."""

    file: str
    columns: tuple[str, ...]
    rows: list[ContactRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- values -------------------------------------------------------------------------------------------


def normalise_email(value: str) -> str:
    """The address with its domain in lower case; UserError (one sentence) when it is not an address."""
    from email_validator import EmailNotValidError, validate_email

    text = value.strip()
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        if text.count("@") != 1:
            raise UserError(f"Email '{text}' không hợp lệ: cần đúng một dấu '@'.") from None
        raise UserError(
            f"Email '{text}' không hợp lệ: phần trước '@' hoặc tên miền sau '@' viết sai "
            "(không dấu, không khoảng trắng, ví dụ tccb@sgddt.hoabinh.gov.vn)."
        ) from None
    return checked.normalized


def normalise_phone(value: str) -> str:
    """A phone number in the canonical form (see the module doc); UserError when it is not a valid one."""
    import phonenumbers

    text = value.strip()
    hint = (
        f"Số điện thoại '{text}' không hợp lệ: số di động Việt Nam có 10 chữ số (ví dụ 091 234 5678), "
        "số cố định 11 chữ số kể cả mã vùng (ví dụ 0218 385 2123)."
    )
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        raise UserError(hint) from None
    if not phonenumbers.is_valid_number(number):
        raise UserError(hint)
    if number.country_code == 84:
        return "0" + phonenumbers.national_significant_number(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_address(column: str, value: str) -> str:
    """A contact value as stored, checked for its channel (email, phone, Telegram chat, Zalo user id)."""
    if column == EMAIL:
        return normalise_email(value)
    if column == PHONE:
        return normalise_phone(value)
    text = value.strip()
    if column == TELEGRAM and not _TELEGRAM.match(text):
        raise UserError(
            f"Mã chat Telegram '{text}' không hợp lệ: là một số (nhóm bắt đầu bằng -100) hoặc @tên_kênh; "
            "để trống rồi dùng mã mời (nhacviec units invite) nếu chưa biết."
        )
    if column == ZALO and not _ZALO.match(text):
        raise UserError(
            f"Mã người dùng Zalo '{text}' không hợp lệ; để trống rồi dùng mã mời (nhacviec units invite "
            "--channel zalo) nếu chưa biết."
        )
    return text


# --- placeholders -------------------------------------------------------------------------------------

_RESERVED_DOMAINS = ("example", "test", "invalid", "localhost", "local")  # RFC 2606 / 6761
_EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
_PLACEHOLDER_WORDS = re.compile(r"placeholder|example|vi-?du|sample|dummy|changeme|xxx", re.IGNORECASE)
_REPEATED_DIGITS = {PHONE: re.compile(r"(\d)\1{4,}"), TELEGRAM: re.compile(r"(\d)\1{6,}")}


@cache
def _sample_addresses() -> frozenset[str]:
    """Every address the shipped sample directory (config/units.yaml) holds: placeholders, by its own word."""
    import yaml

    from config import UNITS_FILE

    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "contacts" and isinstance(value, dict):
                    found.update(str(v).strip() for v in value.values() if v)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    try:
        walk(yaml.safe_load(UNITS_FILE.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError):
        return frozenset()
    return frozenset(found)


def placeholder_reason(column: str, value: str | None) -> str | None:
    """Why ``value`` is a stand-in rather than a real address (a short Vietnamese phrase), or None."""
    if not value:
        return None
    text = str(value).strip()
    if text in _sample_addresses():
        return "địa chỉ mẫu của danh bạ mẫu"
    if column == EMAIL:
        domain = text.rpartition("@")[2].lower().rstrip(".")
        if domain.endswith(_EXAMPLE_DOMAINS) or domain.rpartition(".")[2] in _RESERVED_DOMAINS:
            return "tên miền dành cho ví dụ"
    if column in (PHONE, TELEGRAM):
        digits = re.sub(r"\D", "", text)
        core = digits[3:] if column == TELEGRAM and digits.startswith("100") else digits
        if _REPEATED_DIGITS[column].search(core) or core.lstrip("0").startswith("123456789"):
            return "số giả (nhiều chữ số lặp lại)"
    if _PLACEHOLDER_WORDS.search(text):
        return "giá trị giữ chỗ"
    return None


# --- rows ---------------------------------------------------------------------------------------------


def _role(text: str) -> str | None:
    key = fold(text)
    if not key:
        return None
    if "pho giam doc" in key or key in {"pgd", "pho gd"}:
        return "deputy"
    if "giam doc" in key or key == "gd":
        return "director"
    if key.startswith(("truong", "chanh", "thu truong", "to truong", "lanh dao don vi", "nguoi dung dau")):
        return "head"
    if key.startswith(("don vi", "chung", "nhom", "phong", "hop thu chung")):
        return "unit"
    raise UserError(
        f"Vai trò '{clean(text)}' không rõ: ghi 'Đơn vị', 'Trưởng đơn vị', 'Giám đốc' hoặc 'Phó Giám đốc'."
    )


def _header(rows: Sequence[Sequence[str]]) -> tuple[int, dict[str, int]] | None:
    best: tuple[int, dict[str, int]] | None = None
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        for position, text in enumerate(cells):
            kind = classify_header(text)
            if kind is not None and kind not in columns:
                columns[kind] = position
        usable = (CODE in columns or UNIT in columns) and any(c in columns for c in CONTACT_COLUMNS)
        if usable and (best is None or len(columns) > len(best[1])):
            best = (index, columns)
    return best


def read_rows(rows: Sequence[tuple[int, Sequence[str]]], file: str) -> Sheet:
    """Check the sheet's rows (``(row number, cells)``): every problem is kept, none stops the reading."""
    found = _header([cells for _, cells in rows])
    if found is None:
        raise PlanFileError(
            file,
            "Không thấy dòng tiêu đề của danh bạ: cần cột 'Mã' hoặc 'Đơn vị' và ít nhất một cột liên lạc "
            "('Email', 'Điện thoại', 'Telegram', 'Zalo').",
        )
    index, columns = found
    sheet = Sheet(file, tuple(columns))
    for number, cells in rows[index + 1 :]:

        def cell(kind: str, cells: Sequence[str] = cells) -> str:
            position = columns.get(kind)
            return clean(cells[position]) if position is not None and position < len(cells) else ""

        if not any(clean(text) for text in cells):
            continue
        where = f"{file}:{number}"
        try:
            role = _role(cell(ROLE))
        except UserError as error:
            sheet.problems.append(f"{where}: {error}")
            continue
        code, unit = cell(CODE) or None, cell(UNIT) or None
        if code is None and unit is None and role != "director":
            sheet.problems.append(f"{where}: thiếu mã hoặc tên đơn vị (hoặc mã lãnh đạo).")
            continue
        contacts: dict[str, str | None] = {}
        for column in CONTACT_COLUMNS:
            if column not in columns:
                continue
            raw = cell(column)
            if raw.lower() in _CLEAR:
                contacts[column] = None
                continue
            try:
                contacts[column] = normalise_address(column, raw)
            except UserError as error:
                sheet.problems.append(f"{where}: {error}")
                continue
            reason = placeholder_reason(column, contacts[column])
            if reason:
                sheet.warnings.append(f"{where}: '{contacts[column]}' là {reason}, chưa phải địa chỉ thật.")
        sheet.rows.append(
            ContactRow(
                row=number,
                role=role,
                code=code,
                unit=unit,
                name=cell(NAME) or None,
                title=cell(TITLE) or None,
                contacts=contacts,
                supervisor=cell(SUPERVISOR) or None,
                has_supervisor=SUPERVISOR in columns,
            )
        )
    if len(sheet.rows) > MAX_ROWS:
        raise PlanFileError(file, f"Danh bạ có {len(sheet.rows)} dòng, vượt giới hạn {MAX_ROWS} dòng.")
    return sheet


# --- files --------------------------------------------------------------------------------------------


def read_contacts_file(path: Path) -> Sheet:
    """Read a .xlsx or .csv contacts sheet (the first sheet whose header names the columns)."""
    from plan.limits import check_archive, check_input_file, check_row

    file = str(path)
    check_input_file(path, "tệp danh bạ")
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise PlanFileError(file, "Danh bạ phải là tệp Excel (.xlsx) hoặc CSV (.csv).")
    data = _read_bounded(path)
    if suffix == ".csv":
        from plan.importers.csv_plan import DELIMITERS, decode_csv

        text = decode_csv(data, file)
        candidates = []
        for delimiter in DELIMITERS:
            try:
                records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
            except csv.Error:
                continue
            numbered = [(number, tuple(cells)) for number, cells in enumerate(records, start=1)]
            for number, cells in numbered:
                check_row(number, cells, file)
            if _header([cells for _, cells in numbered]) is not None:
                candidates.append(numbered)
        tables = candidates[:1] or [[]]
    else:
        check_archive(path, "tệp danh bạ")  # before anything is decompressed
        tables = _xlsx_tables(data, file)
    for rows in tables:
        if _header([cells for _, cells in rows]) is not None:
            return read_rows(rows, file)
    return read_rows(tables[0] if tables else [], file)  # raises: no header


def _read_bounded(path: Path) -> bytes:
    file = str(path)
    if not path.is_file():
        raise PlanFileError(file, "Không tìm thấy tệp danh bạ.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise PlanFileError(file, f"Tệp danh bạ lớn {size // 1024} KB, vượt giới hạn {MAX_BYTES // 1024} KB.")
    return path.read_bytes()[: MAX_BYTES + 1]


def _xlsx_tables(data: bytes, file: str) -> list[list[tuple[int, tuple[str, ...]]]]:
    from openpyxl import load_workbook

    from plan.importers.xlsx_plan import cell_text
    from plan.limits import check_row, out_of_memory

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl, zipfile and lxml raise many kinds for a damaged file
        if out_of_memory(error):  # not the file's fault: the memory limit
            raise MemoryError from error
        raise PlanFileError(
            file, "Không đọc được tệp Excel: tệp bị hỏng, có mật khẩu hoặc không phải định dạng .xlsx."
        ) from error
    try:
        tables = []
        for sheet in workbook.worksheets:
            rows = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > MAX_ROWS + HEADER_SCAN_ROWS:
                    raise PlanFileError(file, f"Danh bạ vượt giới hạn {MAX_ROWS} dòng.")
                cells = tuple(cell_text(value) for value in values[:40])
                check_row(number, cells, file)
                rows.append((number, cells))
            tables.append(rows)
    finally:
        workbook.close()
    return tables


def write_contacts_file(path: Path, rows: Iterable[Sequence[str]]) -> None:
    """Write the layout (:data:`LAYOUT` header, then ``rows``) as .xlsx or .csv (UTF-8 with BOM, for Excel)."""
    header = [title for _, title in LAYOUT]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            writer.writerows(rows)
        return
    if suffix != ".xlsx":
        raise UserError("Tệp danh bạ xuất ra phải có đuôi .xlsx hoặc .csv.")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh bạ"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for column, width in zip("ABCDEFGHIJ", (10, 36, 16, 24, 22, 34, 14, 18, 22, 18), strict=True):
        sheet.column_dimensions[column].width = width
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.number_format = "@"  # text: a phone keeps its leading zero
    workbook.save(path)


def without_placeholders(directory: Directory) -> tuple[Directory, int]:
    """The directory with every placeholder address removed, and how many there were (a production seed)."""
    removed = 0

    def strip(contacts: Contacts) -> Contacts:
        nonlocal removed
        kept = {}
        for name in CONTACT_COLUMNS:
            value = getattr(contacts, name)
            if placeholder_reason(name, value):
                removed += 1
                value = None
            kept[name] = value
        return Contacts(**kept)

    def person(who: Person | None) -> Person | None:
        return None if who is None else replace(who, contacts=strip(who.contacts))

    units = tuple(
        replace(unit, contacts=strip(unit.contacts), head=person(unit.head)) for unit in directory.units
    )
    director = person(directory.director)
    assert director is not None
    deputies = tuple(p for p in (person(d) for d in directory.deputies) if p is not None)
    return Directory(units, directory.office, director, deputies), removed
