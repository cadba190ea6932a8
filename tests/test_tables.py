"""Tables as offices draw them: header synonyms, merged cells, headings, lettered and per-unit numbering."""

from __future__ import annotations

from pathlib import Path

import pytest

from plan.check import check_plan
from plan.importers import read_plan
from plan.importers.table import (
    COORDINATING,
    DEADLINE,
    LEAD,
    NOTE,
    PRODUCTS,
    Row,
    classify_header,
    read_table,
)
from plan.units import Directory, load_directory
from tests.support.plan_files import write_docx_table, write_xlsx_sheet

UNITS = Path(__file__).resolve().parent.parent / "config" / "units.yaml"


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(UNITS)


def rows(*cells: list[str], wide: tuple[int, ...] = ()) -> list[Row]:
    return [Row(number=i + 1, cells=tuple(row), wide=i in wide) for i, row in enumerate(cells)]


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Đơn vị", LEAD),
        ("Cơ quan chủ trì", LEAD),
        ("Cơ quan, đơn vị thực hiện", LEAD),
        ("Đơn vị đầu mối", LEAD),
        ("Nhiệm vụ chủ trì", LEAD),
        ("Nội dung công việc", "content"),
        ("Hoạt động", "content"),
        ("Thời gian thực hiện", DEADLINE),
        ("Mốc thời gian", DEADLINE),
        ("Thời điểm hoàn thành", DEADLINE),
        ("Ghi chú", NOTE),
        ("Kết quả/Sản phẩm", PRODUCTS),
        ("Hình thức văn bản", PRODUCTS),
        ("Cơ quan phối hợp", COORDINATING),
        ("Thời gian bắt đầu", None),
    ],
)
def test_header_synonyms_name_their_column(header: str, kind: str | None) -> None:
    assert classify_header(header) == kind


PER_UNIT = [
    ["TT", "Đơn vị", "Nội dung công việc", "Thời gian thực hiện", "Ghi chú"],
    ["I. CẢI CÁCH THỂ CHẾ", "", "", "", ""],
    ["1", "P. TCCB", "Rà soát văn bản", "Quý I/2026", ""],
    ["2", "", "Công khai thủ tục", "Tháng 6/2026", "Đăng trên cổng"],
    ["3", "", "Tập huấn", "Trước 15/9/2026", ""],
    ["1", "Văn phòng Sở GDĐT", "Báo cáo tổng hợp", "Trước 15/12/2026", ""],
    ["2", "", "Tổng kết", "Tháng 12/2026", ""],
]
# the section title across the row; each unit's cell merged down over its tasks
PER_UNIT_MERGES = [((1, 0), (1, 4)), ((2, 1), (4, 1)), ((5, 1), (6, 1))]
PER_UNIT_EXPECTED = [
    ("I.1.1", ("TCCB",), "Rà soát văn bản", ""),
    ("I.1.2", ("TCCB",), "Công khai thủ tục", "Đăng trên cổng"),
    ("I.1.3", ("TCCB",), "Tập huấn", ""),
    ("I.2.1", ("VP",), "Báo cáo tổng hợp", ""),
    ("I.2.2", ("VP",), "Tổng kết", ""),
]


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_unit_column_merged_over_its_tasks_gives_each_row_its_lead_and_per_unit_numbers_unique_codes(
    kind: str, tmp_path: Path, directory: Directory
) -> None:
    write = write_docx_table if kind == "docx" else write_xlsx_sheet
    path = write(tmp_path / f"theo-don-vi.{kind}", PER_UNIT, PER_UNIT_MERGES)

    first, again = read_plan(path), read_plan(path)
    checked = check_plan(first, directory, 2026)

    assert checked.problems == []
    assert [(t.code, t.lead, t.raw.content, t.raw.note) for t in checked.tasks] == PER_UNIT_EXPECTED
    assert [t.code for t in again.tasks] == [t.code for t in first.tasks]  # the same at every reading
    assert [s.code for s in first.sections] == ["I"]


def test_a_wide_unit_heading_leads_the_tasks_under_it(directory: Directory) -> None:
    table = rows(
        ["STT", "Nội dung nhiệm vụ", "Thời hạn", "Kết quả/Sản phẩm"],
        ["PHÒNG TỔ CHỨC CÁN BỘ", "", "", ""],
        ["1", "Rà soát biên chế", "Quý II/2026", "Báo cáo"],
        ["2", "Tuyển dụng", "Quý III/2026", ""],
        ["VĂN PHÒNG SỞ", "", "", ""],
        ["1", "Tổng hợp báo cáo", "Hằng quý", ""],
        wide=(1, 4),
    )

    checked = check_plan(read_table(table, "kh.docx"), directory, 2026)

    assert checked.problems == []
    assert [(t.code, t.lead, t.raw.group) for t in checked.tasks] == [
        ("1.1", ("TCCB",), "PHÒNG TỔ CHỨC CÁN BỘ"),
        ("1.2", ("TCCB",), "PHÒNG TỔ CHỨC CÁN BỘ"),
        ("2.1", ("VP",), "VĂN PHÒNG SỞ"),
    ]


def test_a_wide_heading_that_names_no_unit_is_a_title_and_the_task_needs_its_own_lead(
    directory: Directory,
) -> None:
    table = rows(
        ["TT", "Nội dung nhiệm vụ", "Đơn vị chủ trì", "Thời gian hoàn thành"],
        ["Nhiệm vụ trọng tâm", "", "", ""],
        ["1", "Rà soát", "", "Quý II/2026"],
        wide=(1,),
    )

    checked = check_plan(read_table(table, "kh.docx"), directory, 2026)

    assert [t.raw.group for t in checked.tasks] == ["Nhiệm vụ trọng tâm"]
    assert [p.message for p in checked.problems] == ["Nhiệm vụ 1 chưa có đơn vị chủ trì."]


def test_lettered_rows_with_their_own_deadline_are_tasks_under_the_numbered_heading() -> None:
    table = rows(
        ["TT", "Nội dung nhiệm vụ", "Đơn vị chủ trì", "Thời gian thực hiện"],
        ["II", "Cải cách thủ tục hành chính", "", ""],
        ["1", "Kiểm soát thủ tục hành chính", "", ""],
        ["a)", "Ban hành kế hoạch", "Văn phòng Sở", "Tháng 1/2026"],
        ["b)", "Rà soát thủ tục", "Văn phòng Sở", "Quý II/2026"],
        ["2", "Công khai thủ tục", "Văn phòng Sở", "Năm 2026"],
        ["a", "Trên cổng thông tin", "", ""],
    )

    plan = read_table(table, "kh.docx")

    assert [(t.code, t.content, t.group) for t in plan.tasks] == [
        ("II.1.a", "Ban hành kế hoạch", "Kiểm soát thủ tục hành chính"),
        ("II.1.b", "Rà soát thủ tục", "Kiểm soát thủ tục hành chính"),
        ("II.2", "Công khai thủ tục a Trên cổng thông tin", ""),  # a sub-item with nothing of its own
    ]
    assert plan.problems == []


def test_a_numbered_task_with_dates_keeps_them_and_its_lettered_tasks_follow_it() -> None:
    table = rows(
        ["TT", "Nội dung nhiệm vụ", "Đơn vị chủ trì", "Thời gian thực hiện"],
        ["1", "Tổ chức hội nghị", "Văn phòng Sở", "Tháng 3/2026"],
        ["a", "Chuẩn bị tài liệu", "Văn phòng Sở", "Tháng 2/2026"],
    )

    assert [t.code for t in read_table(table, "kh.docx").tasks] == ["1", "1.a"]


def test_a_letter_section_and_a_repeated_header_row_are_read_as_offices_mean_them() -> None:
    header = ["TT", "Nội dung nhiệm vụ", "Đơn vị chủ trì", "Thời gian thực hiện"]
    table = rows(
        header,
        ["A", "NHIỆM VỤ TRỌNG TÂM", "", ""],
        ["1", "Rà soát", "VP", "Quý I/2026"],
        header,  # the header again at the top of the next page
        ["2", "Công khai", "VP", "Quý II/2026"],
        ["B. NHIỆM VỤ THƯỜNG XUYÊN", "", "", ""],
        ["1", "Báo cáo", "VP", "Hằng tháng"],
        wide=(5,),
    )

    plan = read_table(table, "kh.docx")

    assert [(s.code, s.title) for s in plan.sections] == [
        ("A", "NHIỆM VỤ TRỌNG TÂM"),
        ("B", "NHIỆM VỤ THƯỜNG XUYÊN"),
    ]
    assert [t.code for t in plan.tasks] == ["A.1", "A.2", "B.1"]
    assert plan.problems == []


def test_several_tables_of_a_word_document_make_one_plan_whose_sections_go_on(tmp_path: Path) -> None:
    from docx import Document

    header = ["TT", "Nội dung nhiệm vụ", "Phòng chủ trì", "Thời gian hoàn thành"]
    path = write_docx_table(
        tmp_path / "hai-bang.docx",
        [header, ["I", "Cải cách thể chế", "", ""], ["1", "Rà soát", "VP", "2026"]],
    )
    document = Document(str(path))
    document.add_paragraph("(tiếp theo)")
    second = document.add_table(rows=0, cols=4)
    for cells in [
        header,
        ["2", "Công khai", "VP", "2026"],
        ["II", "Cải cách TTHC", "", ""],
        ["1", "Kiểm soát", "VP", "2026"],
    ]:
        for cell, text in zip(second.add_row().cells, cells, strict=True):
            cell.text = text
    document.save(str(path))

    plan = read_plan(path)

    assert [(t.code, t.content) for t in plan.tasks] == [
        ("I.1", "Rà soát"),
        ("I.2", "Công khai"),
        ("II.1", "Kiểm soát"),
    ]


@pytest.mark.parametrize(
    ("written", "codes"),
    [
        ("P. TCCB", ["TCCB"]),
        ("P.TCCB", ["TCCB"]),
        ("P. Tổ chức cán bộ", ["TCCB"]),
        ("Phòng Thanh tra", ["TTRA"]),
        ("Văn phòng Sở GD&ĐT", ["VP"]),
        ("Văn phòng Sở GDĐT", ["VP"]),
        ("Văn phòng Sở GD-ĐT", ["VP"]),
        ("Văn phòng Sở Giáo dục và Đào tạo", ["VP"]),
        ("P. TCCB, Văn phòng", ["TCCB", "VP"]),
    ],
)
def test_unit_names_match_whatever_the_punctuation_and_usual_abbreviations(
    written: str, codes: list[str], directory: Directory
) -> None:
    assert directory.resolve(written) == codes
