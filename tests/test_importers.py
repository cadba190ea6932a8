"""The plan as the office has it (Word, Excel, CSV) reads to the same tasks as the YAML sample plan."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from config import SAMPLE_PLAN
from plan.importers import read_plan
from plan.importers.table import Row, read_table, split_products, split_units
from plan.importers.yaml_plan import read_yaml_plan
from plan.model import PlanFileError, RawPlan, RawSection, RawTask
from tests.support.plan_files import (
    COLUMNS,
    write_csv,
    write_docx,
    write_docx_table,
    write_xlsx,
    write_xlsx_sheet,
)

Writer = Callable[..., Path]
WRITERS = {"docx": write_docx, "xlsx": write_xlsx, "csv": write_csv}
HEADER = [header for _, header in COLUMNS]


@pytest.fixture(scope="module")
def sample() -> RawPlan:
    return read_yaml_plan(SAMPLE_PLAN)


def cells_of(plan: RawPlan) -> list[tuple[object, ...]]:
    """Everything a task says, without the row it came from."""
    return [
        (t.code, t.section, t.content, t.products, t.lead, t.coordinating, t.deadline) for t in plan.tasks
    ]


def rows(*cells: list[str], start: int = 1) -> list[Row]:
    return [Row(number=start + index, cells=tuple(row)) for index, row in enumerate(cells)]


# --- end to end ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", WRITERS)
def test_sample_plan_written_as_the_office_does_reads_back_to_the_yaml_tasks(
    kind: str, sample: RawPlan, tmp_path: Path
) -> None:
    path = WRITERS[kind](sample, tmp_path / f"ke-hoach.{kind}")

    plan = read_plan(path)

    assert len(sample.tasks) == 35
    assert plan.problems == []
    assert cells_of(plan) == cells_of(sample)
    assert plan.sections == sample.sections
    assert [s.code for s in plan.sections] == ["I", "II", "III", "IV", "V", "VI", "VII"]
    assert plan.tasks[-1].code == "VII.9"
    assert plan.file == str(path)


def test_docx_title_and_rows_are_read_as_the_user_sees_them(sample: RawPlan, tmp_path: Path) -> None:
    plan = read_plan(write_docx(sample, tmp_path / "ke-hoach.docx"))

    assert plan.title == "Kế hoạch thực hiện Cải cách hành chính năm 2020"
    # row 1 is the header, row 2 section I, rows 3.. its tasks
    assert [(t.code, t.row) for t in plan.tasks[:2]] == [("I.1", 3), ("I.2", 4)]


def test_xlsx_rows_are_spreadsheet_row_numbers(sample: RawPlan, tmp_path: Path) -> None:
    plan = read_plan(write_xlsx(sample, tmp_path / "ke-hoach.xlsx"))

    assert plan.title == sample.title
    assert [(t.code, t.row) for t in plan.tasks[:2]] == [("I.1", 6), ("I.2", 7)]  # header on row 4


# --- headers ---------------------------------------------------------------------------------------

REORDERED = (
    ("number", "STT"),
    ("lead", "Đơn vị chủ trì"),
    ("content", "Nhiệm vụ"),
    ("deadline", "Thời hạn hoàn thành"),
    ("coordinating", "Đơn vị phối hợp"),
    ("products", "Sản phẩm đầu ra"),
)
REWORDED = (
    ("number", "Số TT"),
    ("content", "Nội dung công việc"),
    ("coordinating", "Phối hợp"),
    ("lead", "Cơ quan chủ trì"),
    ("products", "Kết quả"),
    ("deadline", "Thời gian thực hiện"),
)


@pytest.mark.parametrize("kind", WRITERS)
@pytest.mark.parametrize("columns", [REORDERED, REWORDED], ids=["reordered", "reworded"])
def test_columns_are_found_by_their_headers_whatever_their_order_and_wording(
    kind: str, columns: tuple[tuple[str, str], ...], sample: RawPlan, tmp_path: Path
) -> None:
    plan = read_plan(WRITERS[kind](sample, tmp_path / f"ke-hoach.{kind}", columns))

    assert plan.problems == []
    assert cells_of(plan) == cells_of(sample)


def test_header_cells_split_over_two_lines_still_name_their_column() -> None:
    table = rows(
        ["TT", "Nội dung\nnhiệm vụ", "Phòng chủ\ntrì", "Phòng phối\nhợp", "Thời gian\nhoàn thành"],
        ["1", "Rà soát văn bản", "Văn phòng Sở", "Thanh tra", "Quý I/2020"],
    )

    plan = read_table(table, "kh.csv")

    assert cells_of(plan) == [
        ("1", "", "Rà soát văn bản", (), ("Văn phòng Sở",), ("Thanh tra",), "Quý I/2020")
    ]


def test_header_over_two_rows_reads_chu_tri_and_phoi_hop_under_don_vi_thuc_hien() -> None:
    table = rows(
        ["KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM 2020", "", "", "", "", ""],
        ["TT", "Nội dung", "Kết quả", "Đơn vị thực hiện", "", "Thời gian"],
        ["", "", "", "Chủ trì", "Phối hợp", ""],
        ["I", "Cải cách thể chế", "", "", "", ""],
        ["1", "Rà soát văn bản", "Báo cáo", "Văn phòng Sở", "Các phòng CM, NV", "Tháng 3/2020"],
    )

    plan = read_table(table, "kh.xlsx")

    assert plan.title == "KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM 2020"
    assert plan.problems == []
    assert cells_of(plan) == [
        (
            "I.1",
            "I",
            "Rà soát văn bản",
            ("Báo cáo",),
            ("Văn phòng Sở",),
            ("Các phòng CM, NV",),
            "Tháng 3/2020",
        )
    ]


def test_row_of_column_numbers_under_the_header_is_not_a_task() -> None:
    table = rows(HEADER, ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"], ["1", "Rà soát", "", "VP", "", "2020"])

    plan = read_table(table, "kh.csv")

    assert [t.code for t in plan.tasks] == ["1"]
    assert plan.problems == []


def test_missing_deadline_column_is_a_problem_naming_the_column_and_the_header_row(tmp_path: Path) -> None:
    path = write_xlsx_sheet(
        tmp_path / "kh.xlsx",
        [["TT", "Nội dung nhiệm vụ", "Sản phẩm", "Phòng chủ trì"], ["1", "Rà soát", "Báo cáo", "VP"]],
        first_row=3,
    )

    plan = read_plan(path)

    assert plan.tasks == []
    assert [(p.row, p.field) for p in plan.problems] == [(3, "deadline")]
    assert "Thiếu cột 'Thời gian hoàn thành'" in plan.problems[0].message
    assert str(plan.problems[0]).startswith(f"{path}:3: ")


def test_document_without_a_plan_table_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = write_docx_table(tmp_path / "cong-van.docx", [["UBND TỈNH", "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"]])

    with pytest.raises(PlanFileError) as error:
        read_plan(path)

    assert error.value.file == str(path)
    assert "không có bảng kế hoạch nào có cột 'Nội dung nhiệm vụ'" in str(error.value)
    assert str(error.value).startswith(str(path))


def test_every_table_with_the_plan_header_is_read_in_order_with_codes_kept_unique(tmp_path: Path) -> None:
    small = write_docx_table(tmp_path / "small.docx", [HEADER, ["1", "Một", "", "VP", "", "2020"]])
    from docx import Document

    document = Document(str(small))
    appendix = document.add_table(rows=0, cols=6)
    for cells in [HEADER, ["1", "Hai", "", "VP", "", "2020"], ["2", "Ba", "", "VP", "", "2020"]]:
        for cell, text in zip(appendix.add_row().cells, cells, strict=True):
            cell.text = text
    document.save(str(tmp_path / "two.docx"))

    plan = read_plan(tmp_path / "two.docx")

    # the second table numbers from 1 again: each run of numbers gets its own derived codes
    assert [(t.code, t.content) for t in plan.tasks] == [("1.1", "Một"), ("2.1", "Hai"), ("2.2", "Ba")]


# --- rows ------------------------------------------------------------------------------------------


def test_row_with_empty_tt_continues_the_task_above_it() -> None:
    table = rows(
        HEADER,
        ["I", "Cải cách thể chế", "", "", "", ""],
        ["1", "Rà soát, đề xuất", "- Báo cáo rà soát", "Văn phòng Sở", "Các phòng CM", "Quý II/"],
        ["", "phương án đơn giản hoá TTHC", "- Quyết định công bố", "", "Các đơn vị", "2020"],
        ["2", "Công khai TTHC", "", "Văn phòng Sở", "", "Năm 2020"],
    )

    plan = read_table(table, "kh.csv")

    assert cells_of(plan) == [
        (
            "I.1",
            "I",
            "Rà soát, đề xuất phương án đơn giản hoá TTHC",
            ("Báo cáo rà soát", "Quyết định công bố"),
            ("Văn phòng Sở",),
            ("Các phòng CM", "Các đơn vị"),
            "Quý II/ 2020",
        ),
        ("I.2", "I", "Công khai TTHC", (), ("Văn phòng Sở",), (), "Năm 2020"),
    ]
    assert [t.row for t in plan.tasks] == [3, 5]


def test_word_continuation_row_under_vertically_merged_cells_does_not_repeat_them(tmp_path: Path) -> None:
    table = [
        HEADER,
        ["1", "Rà soát TTHC", "- Báo cáo", "Văn phòng Sở", "Thanh tra", "Quý I/2020"],
        ["", "", "- Quyết định", "", "", ""],
        ["2", "Công khai TTHC", "- Danh mục", "", "Các phòng CM", "Năm 2020"],
    ]
    # TT, content and deadline of task 1 span rows 1-2; "Văn phòng Sở" leads tasks 1 and 2 (rows 1-3)
    merges = [((1, 0), (2, 0)), ((1, 1), (2, 1)), ((1, 5), (2, 5)), ((1, 3), (3, 3))]
    path = write_docx_table(tmp_path / "kh.docx", table, merges)

    plan = read_plan(path)

    assert cells_of(plan) == [
        ("1", "", "Rà soát TTHC", ("Báo cáo", "Quyết định"), ("Văn phòng Sở",), ("Thanh tra",), "Quý I/2020"),
        ("2", "", "Công khai TTHC", ("Danh mục",), ("Văn phòng Sở",), ("Các phòng CM",), "Năm 2020"),
    ]


def test_xlsx_task_sharing_a_merged_lead_cell_gets_that_unit(tmp_path: Path) -> None:
    table = [
        HEADER,
        ["I. CẢI CÁCH THỂ CHẾ", "", "", "", "", ""],
        [1.0, "Rà soát", "", "Văn phòng Sở", "", dt.datetime(2020, 3, 31)],
        [2, "Công khai", "", "", "", "Quý II/2020"],
    ]
    merges = [((1, 0), (1, 5)), ((2, 3), (3, 3))]
    path = write_xlsx_sheet(tmp_path / "kh.xlsx", table, merges)

    plan = read_plan(path)

    assert plan.sections == [RawSection("I", "CẢI CÁCH THỂ CHẾ")]
    assert cells_of(plan) == [
        ("I.1", "I", "Rà soát", (), ("Văn phòng Sở",), (), "31/03/2020"),
        ("I.2", "I", "Công khai", (), ("Văn phòng Sở",), (), "Quý II/2020"),
    ]


def test_full_task_codes_in_the_tt_column_are_kept_as_written() -> None:
    table = rows(
        HEADER,
        ["II. Cải cách thủ tục hành chính", "", "", "", "", ""],
        ["II.1", "Rà soát TTHC", "", "VP", "", "2020"],
        ["II.2.", "Công khai TTHC", "", "VP", "", "2020"],
    )

    plan = read_table(table, "kh.csv")

    assert plan.sections == [RawSection("II", "Cải cách thủ tục hành chính")]
    assert [(t.code, t.section) for t in plan.tasks] == [("II.1", "II"), ("II.2", "II")]


def test_table_without_tt_column_numbers_tasks_in_order_within_each_section() -> None:
    table = rows(
        ["Nội dung nhiệm vụ", "Phòng chủ trì", "Thời gian hoàn thành"],
        ["I. Cải cách thể chế", "", ""],
        ["Rà soát văn bản", "VP", "2020"],
        ["Theo dõi thi hành pháp luật", "Thanh tra", "2020"],
        ["II. Cải cách TTHC", "", ""],
        ["Công khai TTHC", "VP", "2020"],
    )

    plan = read_table(table, "kh.csv")

    assert [s.code for s in plan.sections] == ["I", "II"]
    assert [(t.code, t.content) for t in plan.tasks] == [
        ("I.1", "Rà soát văn bản"),
        ("I.2", "Theo dõi thi hành pháp luật"),
        ("II.1", "Công khai TTHC"),
    ]


def test_number_cell_that_is_neither_numeral_nor_empty_is_a_problem() -> None:
    table = rows(HEADER, ["1", "Rà soát", "", "VP", "", "2020"], ["Ghi chú: xem phụ lục", "", "", "", "", ""])

    plan = read_table(table, "kh.csv")

    assert [t.code for t in plan.tasks] == ["1"]
    assert [(p.row, p.field) for p in plan.problems] == [(3, "number")]
    assert "Ghi chú: xem phụ lục" in plan.problems[0].message


# --- cells -----------------------------------------------------------------------------------------


def test_products_split_at_bullets_and_continuation_lines_join_the_item_above() -> None:
    assert split_products("- Kế hoạch\n+ Báo cáo kết quả\n  thực hiện\n• Quyết định") == [
        "Kế hoạch",
        "Báo cáo kết quả thực hiện",
        "Quyết định",
    ]
    assert split_products("Báo cáo kết quả\nrà soát TTHC") == ["Báo cáo kết quả rà soát TTHC"]
    assert split_products("  \n") == []


def test_units_split_at_newlines_and_semicolons_but_not_commas() -> None:
    assert split_units("Văn phòng Sở;Thanh tra\nCác phòng CM, NV, các đơn vị, trường học") == [
        "Văn phòng Sở",
        "Thanh tra",
        "Các phòng CM, NV, các đơn vị, trường học",
    ]


def first_task_content_as_stored(path: Path) -> str:
    if path.suffix == ".docx":
        from docx import Document

        return Document(str(path)).tables[1].cell(2, 1).text
    from openpyxl import load_workbook

    return str(load_workbook(path).active.cell(6, 2).value)


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_nfd_text_in_cells_comes_out_nfc(kind: str, sample: RawPlan, tmp_path: Path) -> None:
    path = WRITERS[kind](sample, tmp_path / f"nfd.{kind}", nfd=True)
    assert first_task_content_as_stored(path) == unicodedata.normalize("NFD", sample.tasks[0].content)

    plan = read_plan(path)

    assert cells_of(plan) == cells_of(sample)
    assert plan.sections == sample.sections


def test_nfd_csv_cells_come_out_nfc(tmp_path: Path) -> None:
    path = tmp_path / "nfd.csv"
    text = "\n".join(
        ",".join(row) for row in [HEADER, ["1", "Rà soát", "", "Văn phòng Sở", "", "Quý I/2020"]]
    )
    path.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")

    task = read_plan(path).tasks[0]

    assert (task.content, task.lead, task.deadline) == ("Rà soát", ("Văn phòng Sở",), "Quý I/2020")
    assert task.content != unicodedata.normalize("NFD", "Rà soát")


# --- CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "encoding"), [(";", "utf-8"), ("\t", "utf-8-sig"), (",", "utf-8")])
def test_csv_delimiter_is_sniffed_with_or_without_bom(
    delimiter: str, encoding: str, sample: RawPlan, tmp_path: Path
) -> None:
    path = write_csv(sample, tmp_path / "kh.csv", delimiter=delimiter, encoding=encoding)

    assert cells_of(read_plan(path)) == cells_of(sample)


def test_csv_rows_are_the_line_each_record_starts_on(tmp_path: Path) -> None:
    path = tmp_path / "kh.csv"
    path.write_text(",".join(HEADER) + '\n1,"Rà soát\nvăn bản",,VP,,2020\n2,Công khai,,VP,,2020\n', "utf-8")

    plan = read_plan(path)

    assert [(t.code, t.content, t.row) for t in plan.tasks] == [
        ("1", "Rà soát văn bản", 2),
        ("2", "Công khai", 4),
    ]


def test_windows_1258_csv_is_refused_with_advice_to_save_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "kh.csv"
    path.write_bytes(",".join(HEADER).encode("cp1258", errors="replace"))

    with pytest.raises(PlanFileError, match="UTF-8"):
        read_plan(path)


# --- files that are not plans ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "ke-hoach.odt",
            "Định dạng tệp .odt không được hỗ trợ; dùng .docx, .doc, .xlsx, .xls, .pdf, .csv hoặc .yaml.",
        ),
        (
            "ke-hoach",
            "Định dạng tệp (không có phần mở rộng) không được hỗ trợ; "
            "dùng .docx, .doc, .xlsx, .xls, .pdf, .csv hoặc .yaml.",
        ),
    ],
)
def test_unsupported_suffix_is_refused_in_one_sentence(name: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4")

    with pytest.raises(PlanFileError) as error:
        read_plan(path)

    assert error.value.message == message


def test_missing_file_is_reported_as_not_found(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError) as error:
        read_plan(tmp_path / "khong-co.docx")

    assert error.value.message == "Không tìm thấy tệp."


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        (".docx", "Không đọc được tệp Word"),
        (".xlsx", "Không đọc được tệp Excel"),
        (".pdf", "Không đọc được tệp PDF"),
    ],
)
@pytest.mark.parametrize(
    "content", [os.urandom(2048), b"PK\x03\x04" + b"\0" * 100], ids=["random", "broken-zip"]
)
def test_corrupt_office_file_is_a_plan_file_error_not_a_traceback(
    suffix: str, message: str, content: bytes, tmp_path: Path
) -> None:
    path = tmp_path / f"hong{suffix}"
    path.write_bytes(content)

    with pytest.raises(PlanFileError) as error:
        read_plan(path)

    assert error.value.message.startswith(message)
    assert error.value.file == str(path)


def test_workbook_saved_with_a_docx_suffix_is_a_plan_file_error(sample: RawPlan, tmp_path: Path) -> None:
    path = write_xlsx(sample, tmp_path / "kh.xlsx").rename(tmp_path / "kh.docx")

    with pytest.raises(PlanFileError, match="Không đọc được tệp Word"):
        read_plan(path)


def test_importing_the_readers_does_not_load_python_docx_or_openpyxl() -> None:
    code = (
        "import sys, plan.importers; "
        "print(sorted({'docx', 'openpyxl', 'yaml', 'pdfplumber'} & set(sys.modules)))"
    )
    root = Path(__file__).resolve().parent.parent

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


def test_yaml_suffix_is_dispatched_to_the_yaml_reader(sample: RawPlan) -> None:
    plan = read_plan(str(SAMPLE_PLAN))

    assert cells_of(plan) == cells_of(sample)
    assert isinstance(plan.tasks[0], RawTask)
