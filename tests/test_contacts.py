"""Contacts from a spreadsheet (`nhacviec units import`) and back (`units export`): checked, normalised, previewed,
all or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from plan.contacts import (
    EMAIL,
    PHONE,
    TELEGRAM,
    classify_header,
    normalise_email,
    normalise_phone,
    placeholder_reason,
)
from plan.errors import UserError


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], *, above: Sequence[str] = ()) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for line in above:  # a title over the table, as offices write one
        sheet.append([line])
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def units(run_cli: Callable[..., Any]) -> dict[str, Any]:
    return {unit["code"]: unit for unit in json.loads(run_cli("units", "list", "--json").stdout)}


@pytest.fixture
def cli(run_cli: Callable[..., Any]) -> Callable[..., Any]:
    assert run_cli("init").exit_code == 0
    return run_cli


HEADER = ("STT", "Mã ĐV", "Tên đơn vị", "Họ tên", "Chức danh", "Thư điện tử", "SĐT")


def test_a_bad_email_refuses_the_whole_sheet_then_the_fixed_sheet_is_imported_normalised(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    rows = [
        HEADER,
        (1, "TCCB", "Phòng Tổ chức cán bộ", "", "", "tccb@sgddt.hoabinh.gov.vn", "091 234 5678"),
        (2, "KHTC", "Phòng Kế hoạch - Tài chính", "", "", "khtc.sgddt.hoabinh.gov.vn", "0218 385 2123"),
    ]
    sheet = write_xlsx(tmp_path / "danh-ba.xlsx", rows, above=["DANH BẠ ĐƠN VỊ", ""])
    before = units(cli)

    refused = cli("units", "import", str(sheet))

    assert refused.exit_code == 1
    assert (
        f"{sheet}:5: Email 'khtc.sgddt.hoabinh.gov.vn' không hợp lệ: cần đúng một dấu '@'." in refused.stderr
    )
    assert "chưa ghi gì" in refused.stderr
    assert units(cli) == before  # all or nothing: TCCB's good row was not written either

    rows[2] = (2, "KHTC", "Phòng Kế hoạch - Tài chính", "", "", "KHTC@SGDDT.HoaBinh.gov.vn", "0218 385 2123")
    write_xlsx(sheet, rows, above=["DANH BẠ ĐƠN VỊ", ""])
    preview = json.loads(cli("units", "import", str(sheet), "--dry-run", "--json").stdout)
    assert units(cli) == before
    assert preview["ok"] and not preview["applied"]
    assert preview["changes"][0] == {
        "target": "TCCB",
        "who": "Phòng Tổ chức cán bộ",
        "action": "update",
        "row": 4,
        "changes": [
            {"field": "email", "old": "tccb@nhacviec.example", "new": "tccb@sgddt.hoabinh.gov.vn"},
            {"field": "phone", "old": "0900000002", "new": "0912345678"},
        ],
    }

    accepted = cli("units", "import", str(sheet))

    assert accepted.exit_code == 0, accepted.stderr
    after = units(cli)
    assert after["TCCB"]["contacts"]["phone"] == "0912345678"  # "091 234 5678", normalised
    assert after["KHTC"]["contacts"]["email"] == "KHTC@sgddt.hoabinh.gov.vn"  # the domain in lower case
    assert after["KHTC"]["contacts"]["phone"] == "02183852123"
    assert after["KHTC"]["contacts"]["telegram_chat_id"] == "-1001000000003"  # no Telegram column: kept


def test_a_csv_sheet_names_heads_leaders_and_new_units_and_clears_what_is_left_empty(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    sheet = tmp_path / "danh-ba.csv"
    sheet.write_text(
        "Mã;Đơn vị;Vai trò;Họ và tên;Chức vụ;Email;Điện thoại;Telegram;Zalo;Lãnh đạo phụ trách\n"
        "PGD3;;Phó Giám đốc;Đỗ Thị M;Phó Giám đốc Sở;pgd3@sgddt.hoabinh.gov.vn;+84 98 765 4321;;;\n"
        ";Phòng TCCB;Trưởng phòng;Nguyễn Văn Minh;Trưởng phòng;minh@sgddt.hoabinh.gov.vn;;;;\n"
        "KT;Phòng Khảo thí;;;;khaothi@sgddt.hoabinh.gov.vn;0912 000 111;-1002003004005;;PGD3\n"
        "GD;;;;;giamdoc@sgddt.hoabinh.gov.vn;;;;\n",
        encoding="utf-8",
    )

    result = cli("units", "import", str(sheet), "--json")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(c["target"], c["action"]) for c in report["changes"]] == [
        ("PGD3", "add"),
        ("TCCB.head", "update"),
        ("KT", "add"),
        ("GD", "update"),
    ]
    after = units(cli)
    assert after["KT"]["name"] == "Phòng Khảo thí" and after["KT"]["supervisor"] == "PGD3"
    assert after["KT"]["contacts"]["telegram_chat_id"] == "-1002003004005"
    head = after["TCCB"]["head"]
    assert (head["name"], head["contacts"]["email"]) == ("Nguyễn Văn Minh", "minh@sgddt.hoabinh.gov.vn")
    assert (
        head["contacts"]["phone"] is None and head["contacts"]["telegram_chat_id"] is None
    )  # empty: cleared
    exported = tmp_path / "ra.csv"
    assert cli("units", "export", str(exported)).exit_code == 0
    assert "PGD3,,Phó Giám đốc,Đỗ Thị M,Phó Giám đốc Sở,pgd3@sgddt.hoabinh.gov.vn,0987654321" in (
        exported.read_text(encoding="utf-8-sig")
    )


def test_an_export_imports_back_unchanged_in_both_formats(cli: Callable[..., Any], tmp_path: Path) -> None:
    for name in ("danh-ba.xlsx", "danh-ba.csv"):
        path = tmp_path / name
        assert cli("units", "export", str(path)).exit_code == 0
        report = json.loads(cli("units", "import", str(path), "--json").stdout)
        assert report["changes"] == [] and report["ok"]
        assert report["unchanged"] == 17
        assert any("địa chỉ mẫu" in warning for warning in report["warnings"])  # the sample's placeholders
    workbook = load_workbook(tmp_path / "danh-ba.xlsx")
    assert workbook.active["G2"].value == "0900000101"  # stored as text: the leading zero stays


def test_problems_are_named_row_by_row(cli: Callable[..., Any], tmp_path: Path) -> None:
    rows = [
        ("Đơn vị", "Email", "Điện thoại", "Zalo"),
        ("Phòng Không Có", "a@sgddt.hoabinh.gov.vn", "", ""),
        ("Thanh tra Sở", "tt@sgddt.hoabinh.gov.vn", "12345", ""),
        ("Thanh tra", "tt2@sgddt.hoabinh.gov.vn", "", "zalo id có dấu"),
    ]
    sheet = write_xlsx(tmp_path / "d.xlsx", rows)
    result = cli("units", "import", str(sheet), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems[0].startswith(f"{sheet}:3: Số điện thoại '12345' không hợp lệ")
    assert problems[1].startswith(f"{sheet}:4: Mã người dùng Zalo 'zalo id có dấu' không hợp lệ")
    assert problems[2].startswith(f"{sheet}:2: không có đơn vị 'Phòng Không Có' trong danh bạ")
    assert problems[3] == f"{sheet}:4: trùng với dòng 3 (cùng là TTRA)."


def test_a_file_without_a_header_is_one_sentence(cli: Callable[..., Any], tmp_path: Path) -> None:
    sheet = write_xlsx(tmp_path / "d.xlsx", [("a", "b"), ("c", "d")])
    result = cli("units", "import", str(sheet))
    assert result.exit_code == 1 and "Không thấy dòng tiêu đề của danh bạ" in result.stderr
    other = tmp_path / "d.docx"
    other.write_bytes(b"x")
    assert "phải là tệp Excel (.xlsx) hoặc CSV" in cli("units", "import", str(other)).stderr


# --- values ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("091 234 5678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("+84 91 234 5678", "0912345678"),
        ("84912345678", "0912345678"),
        ("912345678", "0912345678"),  # Excel dropped the leading zero of a number
        ("(0218) 3 852 123", "02183852123"),
        ("+65 9123 4567", "+6591234567"),
    ],
)
def test_phone_numbers_have_one_canonical_form(written: str, canonical: str) -> None:
    assert normalise_phone(written) == canonical


@pytest.mark.parametrize("written", ["0912 345 67", "12345", "091234567890", "không có"])
def test_impossible_phone_numbers_are_refused(written: str) -> None:
    with pytest.raises(UserError, match="không hợp lệ: số di động Việt Nam có 10 chữ số"):
        normalise_phone(written)


def test_emails_are_checked_without_looking_anything_up() -> None:
    assert normalise_email(" Van.Phong@SGDDT.HoaBinh.gov.vn ") == "Van.Phong@sgddt.hoabinh.gov.vn"
    for bad in ("vp@", "vp@@so.gov.vn", "vp so@so.gov.vn", "vp@so..gov.vn", "vp@so_gov"):
        with pytest.raises(UserError, match=r"Email '.*' không hợp lệ"):
            normalise_email(bad)


def test_headers_are_read_by_their_words() -> None:
    assert classify_header("Số điện thoại di động") == PHONE
    assert classify_header("E-mail") == EMAIL
    assert classify_header("Mã chat Telegram") == TELEGRAM
    assert classify_header("Ghi chú") is None


@pytest.mark.parametrize(
    ("column", "value", "placeholder"),
    [
        (EMAIL, "tccb@nhacviec.example", True),
        (EMAIL, "ai@example.com", True),
        (EMAIL, "vp@so.test", True),
        (EMAIL, "vp@sgddt.hoabinh.gov.vn", False),
        (PHONE, "0900000000", True),
        (PHONE, "0912345678", False),
        (PHONE, "0123456789", True),
        (TELEGRAM, "-1001000000002", True),  # the sample directory's
        (TELEGRAM, "-1001500000123", False),
        ("zalo_user_id", "zalo-placeholder-tccb", True),
        ("zalo_user_id", "2512523625412515", False),
    ],
)
def test_placeholders_are_told_from_real_addresses(column: str, value: str, placeholder: bool) -> None:
    assert (placeholder_reason(column, value) is not None) is placeholder


def test_a_new_unit_comes_with_its_head_in_either_order(cli: Callable[..., Any], tmp_path: Path) -> None:
    sheet = tmp_path / "d.csv"
    sheet.write_text(
        "Mã,Đơn vị,Họ và tên,Chức vụ,Email\n"
        "KT,Phòng Khảo thí,Lý Thị N,Trưởng phòng,n@sgddt.hoabinh.gov.vn\n"
        "KT,Phòng Khảo thí,,,khaothi@sgddt.hoabinh.gov.vn\n",
        encoding="utf-8",
    )
    result = cli("units", "import", str(sheet), "--json")
    assert result.exit_code == 0, result.stdout
    kt = units(cli)["KT"]
    assert kt["contacts"]["email"] == "khaothi@sgddt.hoabinh.gov.vn"
    assert (kt["head"]["name"], kt["head"]["contacts"]["email"]) == ("Lý Thị N", "n@sgddt.hoabinh.gov.vn")
