"""The unit directory (config/units.yaml) and the resolution of unit names written in a plan."""

from __future__ import annotations

import copy
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import UNITS_FILE
from plan.errors import UserError
from plan.units import Directory, UnitsFileError, UnknownUnitError, load_directory


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(UNITS_FILE)


@pytest.fixture(scope="module")
def units_data() -> dict[str, Any]:
    return yaml.safe_load(UNITS_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Văn phòng Sở", ["VP"]),
        ("Văn phòng Sở GD&ĐT", ["VP"]),
        ("Phòng TCCB", ["TCCB"]),
        ("Phòng Tổ chức cán bộ", ["TCCB"]),
        ("phong tccb", ["TCCB"]),
        ("PHÒNG  TCCB", ["TCCB"]),
        ("Phòng KHTC", ["KHTC"]),
        ("Phòng Kế hoạch Tài chính", ["KHTC"]),
        ("Thanh tra", ["TTRA"]),
        ("Thanh tra Sở", ["TTRA"]),
        ("Tổ CNTT", ["CNTT"]),
        ("to cong nghe thong tin", ["CNTT"]),
        ("Lãnh đạo Sở", ["LDS"]),
        ("Các phòng CM, NV", ["PCMNV"]),
        ("Các phòng CN,CM,NV", ["PCMNV"]),
        ("các phòng chuyên môn, nghiệp vụ", ["PCMNV"]),
        ("các đơn vị, trường học.", ["DVTH"]),
        ("Các đơn vị, trường học", ["DVTH"]),
        ("cac don vi, truong hoc truc thuoc", ["DVTH"]),
        ("tccb", ["TCCB"]),
        ("Các phòng CN, CM, NV, các đơn vị, trường học trực thuộc", ["PCMNV", "DVTH"]),
        ("Các phòng CN,CM,NV;Các đơn vị, trường học", ["PCMNV", "DVTH"]),
        ("Văn phòng Sở\nThanh tra Sở", ["VP", "TTRA"]),
        ("Văn phòng Sở và Thanh tra Sở", ["VP", "TTRA"]),
        ("Phòng TCCB / Phòng KHTC", ["TCCB", "KHTC"]),
        ("Văn phòng Sở, Văn phòng Sở GD&ĐT; VP", ["VP"]),
        ("", []),
        (" ; ", []),
    ],
)
def test_resolve_maps_a_cell_entry_to_unit_codes(directory: Directory, text: str, codes: list[str]) -> None:
    assert directory.resolve(text) == codes


def test_resolve_accepts_decomposed_unicode_input(directory: Directory) -> None:
    nfd = unicodedata.normalize("NFD", "Các phòng CN, CM, NV; các đơn vị, trường học trực thuộc")
    assert nfd != unicodedata.normalize("NFC", nfd)
    assert directory.resolve(nfd) == ["PCMNV", "DVTH"]


def test_resolve_prefers_the_longest_alias(directory: Directory) -> None:
    # "Văn phòng" alone is an alias too; the longer "Văn phòng Sở GD&ĐT" must win, leaving nothing over.
    assert directory.resolve("Văn phòng Sở GD&ĐT Thanh tra") == ["VP", "TTRA"]


def test_unknown_unit_error_names_the_unmatched_part_and_the_whole_text(directory: Directory) -> None:
    with pytest.raises(UnknownUnitError) as caught:
        directory.resolve("Văn phòng Sở, Phòng Khảo thí và Thanh tra")
    assert caught.value.unmatched == "Phòng Khảo thí"
    assert caught.value.text == "Văn phòng Sở, Phòng Khảo thí và Thanh tra"
    assert (
        str(caught.value)
        == "Không biết đơn vị 'Phòng Khảo thí' (trong 'Văn phòng Sở, Phòng Khảo thí và Thanh tra')"
    )


def test_unknown_unit_error_for_a_wholly_unknown_text_names_it_once(directory: Directory) -> None:
    with pytest.raises(UnknownUnitError, match=r"^Không biết đơn vị 'Sở Nội vụ'$"):
        directory.resolve("Sở Nội vụ")


def test_a_word_prefix_of_an_alias_is_not_a_match(directory: Directory) -> None:
    with pytest.raises(UnknownUnitError, match="Thanh trang"):
        directory.resolve("Thanh trang")


def test_supervisor_of_a_unit_is_its_deputy_director(directory: Directory) -> None:
    assert directory.supervisor_of("KHTC") == directory.deputy("PGD2")
    assert directory.supervisor_of("VP").code == "PGD1"
    assert directory.supervisor_of("VP").title == "Phó Giám đốc Sở"


def test_leadership_has_no_supervisor_so_it_escalates_to_the_director(directory: Directory) -> None:
    assert directory.unit("LDS").supervisor is None
    assert directory.supervisor_of("LDS") == directory.director
    assert directory.director.title == "Giám đốc Sở"


def test_unit_lookup_by_code(directory: Directory) -> None:
    assert directory.unit("TTRA").name == "Thanh tra Sở"
    assert directory.unit("TTRA").head is not None
    assert directory.unit("TTRA").head.title == "Chánh Thanh tra"
    assert directory.office_unit.name == "Văn phòng Sở"
    assert directory.get("tccb") == directory.unit("TCCB")
    assert directory.get("XYZ") is None
    with pytest.raises(KeyError):
        directory.unit("XYZ")
    with pytest.raises(KeyError):
        directory.deputy("GD")


def test_directory_lists_every_unit_the_plan_names(directory: Directory) -> None:
    assert [unit.code for unit in directory.units] == [
        "VP",
        "TCCB",
        "KHTC",
        "TTRA",
        "CNTT",
        "LDS",
        "PCMNV",
        "DVTH",
    ]
    assert {unit.kind for unit in directory.units} == {
        "office",
        "department",
        "inspectorate",
        "team",
        "leadership",
        "group",
    }
    assert directory.office == "VP"
    assert [person.code for person in directory.deputies] == ["PGD1", "PGD2"]


def test_every_contact_in_the_shipped_directory_is_a_placeholder(directory: Directory) -> None:
    people = [directory.director, *directory.deputies, *(u.head for u in directory.units if u.head)]
    contacts = [person.contacts for person in people] + [unit.contacts for unit in directory.units]
    assert len(contacts) == 3 + 6 + 8
    for contact in contacts:
        assert contact.email is not None and contact.email.endswith("@nhacviec.example")
        assert contact.telegram_chat_id is not None and re.fullmatch(
            r"-100100000\d{4}", contact.telegram_chat_id
        )
        assert contact.zalo_user_id is not None and contact.zalo_user_id.startswith("zalo-placeholder-")
        assert contact.phone is not None and re.fullmatch(r"0900000\d{3}", contact.phone)


def test_shipped_directory_names_no_real_person() -> None:
    assert "Kim Tuyến" not in UNITS_FILE.read_text(encoding="utf-8")


# --- loading errors ------------------------------------------------------------------------------


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "units.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _load_broken(tmp_path: Path, data: Any) -> UnitsFileError:
    with pytest.raises(UnitsFileError) as caught:
        load_directory(_write(tmp_path, data))
    return caught.value


def test_loading_a_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(UnitsFileError, match=r"khong-co\.yaml: Không tìm thấy tệp danh mục đơn vị"):
        load_directory(tmp_path / "khong-co.yaml")


def test_loading_a_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text("office: VP\nunits: [\n", encoding="utf-8")
    with pytest.raises(UnitsFileError, match="sai cú pháp ở dòng 3"):
        load_directory(path)


def test_an_unknown_unit_kind_is_rejected_naming_the_field(
    tmp_path: Path, units_data: dict[str, Any]
) -> None:
    data = copy.deepcopy(units_data)
    data["units"][1]["kind"] = "phong"
    error = _load_broken(tmp_path, data)
    assert error.field == "units[2].kind"
    assert "loại đơn vị 'phong' không hợp lệ" in error.message
    assert str(error).startswith(f"{tmp_path / 'units.yaml'}: units[2].kind: ")


def test_a_unit_without_a_name_is_rejected(tmp_path: Path, units_data: dict[str, Any]) -> None:
    data = copy.deepcopy(units_data)
    del data["units"][0]["name"]
    error = _load_broken(tmp_path, data)
    assert (error.field, error.message) == ("units[1].name", "thiếu trường bắt buộc")


def test_an_unquoted_phone_number_is_rejected(tmp_path: Path, units_data: dict[str, Any]) -> None:
    data = copy.deepcopy(units_data)
    data["units"][0]["contacts"]["phone"] = 900000001  # YAML reads 0900000001 unquoted as this int
    error = _load_broken(tmp_path, data)
    assert error.field == "units[1].contacts.phone"
    assert "ngoặc kép" in error.message


def test_an_unknown_contact_channel_is_rejected(tmp_path: Path, units_data: dict[str, Any]) -> None:
    data = copy.deepcopy(units_data)
    data["units"][0]["contacts"]["fax"] = "0200000000"
    assert _load_broken(tmp_path, data).field == "units[1].contacts.fax"


def test_duplicate_unit_codes_are_rejected(tmp_path: Path, units_data: dict[str, Any]) -> None:
    data = copy.deepcopy(units_data)
    data["units"][2]["code"] = "VP"
    error = _load_broken(tmp_path, data)
    assert error.field == "units[3].code"
    assert "'VP' bị trùng" in error.message


def test_an_office_missing_from_the_units_is_rejected(tmp_path: Path, units_data: dict[str, Any]) -> None:
    data = copy.deepcopy(units_data)
    data["office"] = "VPS"
    assert _load_broken(tmp_path, data).field == "office"


def test_a_supervisor_that_is_not_a_leader_is_rejected(tmp_path: Path, units_data: dict[str, Any]) -> None:
    data = copy.deepcopy(units_data)
    data["units"][3]["supervisor"] = "PGD9"
    error = _load_broken(tmp_path, data)
    assert error.field == "units[4].supervisor"
    assert "PGD9" in error.message


def test_an_alias_shared_by_two_units_is_rejected(tmp_path: Path, units_data: dict[str, Any]) -> None:
    data = copy.deepcopy(units_data)
    data["units"][1]["aliases"].append("thanh tra")
    error = _load_broken(tmp_path, data)
    assert error.field == "units.aliases"
    assert error.message == "Tên gọi 'Thanh tra' của đơn vị TTRA đã dùng cho đơn vị TCCB"


def test_a_file_that_is_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    assert _load_broken(tmp_path, ["VP", "TCCB"]).field == "(gốc)"


def test_loaded_text_is_nfc_even_from_a_decomposed_file(tmp_path: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(unicodedata.normalize("NFD", UNITS_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    loaded = load_directory(path)
    assert loaded.unit("TCCB").name == "Phòng Tổ chức cán bộ"
    assert unicodedata.is_normalized("NFC", loaded.unit("TCCB").name)
    assert loaded.resolve("Phòng Tổ chức cán bộ") == ["TCCB"]


def test_unit_errors_are_user_errors_the_cli_prints_without_traceback(directory: Directory) -> None:
    with pytest.raises(UserError):
        directory.resolve("Phòng Khảo thí")
    with pytest.raises(UserError):
        load_directory(Path("khong-co.yaml"))
