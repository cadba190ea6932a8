"""The sample plan (config/ke-hoach-cchc-2020.yaml) and the YAML plan reader."""

from __future__ import annotations

import unicodedata
from dataclasses import astuple
from pathlib import Path

import pytest

from config import SAMPLE_PLAN, UNITS_FILE
from plan.importers.yaml_plan import read_yaml_plan
from plan.model import PlanFileError, Problem, RawPlan, RawTask
from plan.units import Directory, load_directory

SECTIONS = [
    ("I", "Cải cách thể chế", 4),
    ("II", "Cải cách thủ tục hành chính (TTHC)", 5),
    ("III", "Cải cách tổ chức bộ máy", 3),
    ("IV", "Xây dựng và nâng cao chất lượng đội ngũ cán bộ, công chức", 8),
    ("V", "Cải cách tài chính công", 2),
    ("VI", "Hiện đại hóa nền hành chính", 4),
    ("VII", "Công tác chỉ đạo, điều hành và tuyên truyền về cải cách hành chính", 9),
]


@pytest.fixture(scope="module")
def plan() -> RawPlan:
    return read_yaml_plan(SAMPLE_PLAN)


@pytest.fixture(scope="module")
def tasks(plan: RawPlan) -> dict[str, RawTask]:
    return {task.code: task for task in plan.tasks}


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(UNITS_FILE)


def test_sample_plan_reads_without_problems(plan: RawPlan) -> None:
    assert plan.problems == []
    assert (plan.code, plan.title, plan.year) == (
        "CCHC-2020",
        "Kế hoạch thực hiện Cải cách hành chính năm 2020",
        2020,
    )


def test_sample_plan_has_35_tasks_coded_in_order(plan: RawPlan) -> None:
    expected = [f"{code}.{number}" for code, _, count in SECTIONS for number in range(1, count + 1)]
    assert len(expected) == 35
    assert [task.code for task in plan.tasks] == expected
    assert [task.section for task in plan.tasks] == [code.split(".")[0] for code in expected]


def test_sample_plan_has_seven_sections_with_their_titles(plan: RawPlan) -> None:
    assert [(section.code, section.title) for section in plan.sections] == [(c, t) for c, t, _ in SECTIONS]


def test_task_rows_point_at_the_line_where_each_task_starts(plan: RawPlan) -> None:
    lines = SAMPLE_PLAN.read_text(encoding="utf-8").splitlines()
    for task in plan.tasks:
        assert task.row is not None
        assert lines[task.row - 1].strip() == f'- code: "{task.code}"'


@pytest.mark.parametrize(
    ("code", "deadline"),
    [
        ("I.1", "Trong tháng 01/2020"),
        ("I.3", "Năm 2020"),
        ("I.4", "Trước 31/12/2020"),
        ("II.2", "Theo Kế hoạch"),
        ("IV.3", "Quý I/2020"),
        ("IV.4", "Trước tháng 12/2020"),
        ("IV.8", "Sau khi có các quy định của Chính phủ và các Bộ, ngành Trung ương, UBND Tỉnh."),
        ("VI.2", "Quý III/2020"),
        ("VI.3", "Thường xuyên trong năm 2020"),
        ("VII.2", "Qúy III/2020"),
        ("VII.8", "Tháng 6/2020"),
        ("VII.9", "Tháng 12/2020"),
    ],
)
def test_deadline_phrases_are_kept_as_written(tasks: dict[str, RawTask], code: str, deadline: str) -> None:
    assert tasks[code].deadline == deadline


@pytest.mark.parametrize(
    ("code", "lead", "coordinating"),
    [
        ("I.3", ("Thanh tra",), ("Các phòng CM, NV",)),
        ("II.4", ("Văn phòng Sở",), ("Các phòng CM, NV", "các đơn vị, trường học.")),
        ("III.2", ("Phòng TCCB",), ("Các phòng CN, CM, NV", "các đơn vị, trường học trực thuộc")),
        ("IV.2", ("Phòng TCCB",), ("Các phòng CN,CM,NV", "Các đơn vị, trường học")),
        ("V.2", ("Phòng KHTC",), ("Các phòng CN, CM, NV, các đơn vị, trường học trực thuộc",)),
        ("VI.1", ("Tổ CNTT",), ("Các phòng CN, CM, NV, các đơn vị, trường học trực thuộc",)),
        ("VII.2", ("Văn phòng Sở",), ("Các phòng CN, CM, NV", "các đơn vị, trường học")),
        ("VII.3", ("Lãnh đạo Sở",), ()),
        ("VII.5", ("Văn phòng Sở", "Thanh tra Sở"), ("Các phòng CN,CM,NV", "các đơn vị, trường học")),
    ],
)
def test_units_are_kept_as_written(
    tasks: dict[str, RawTask], code: str, lead: tuple[str, ...], coordinating: tuple[str, ...]
) -> None:
    assert (tasks[code].lead, tasks[code].coordinating) == (lead, coordinating)


@pytest.mark.parametrize(
    ("code", "content"),
    [
        (
            "I.1",
            "Lập Kế hoạch tự kiểm tra văn bản Quy phạm pháp luật (VB QPPL) thuộc thẩm quyền ban hành "
            "của HĐND, UBND tỉnh về Giáo dục và Đào tạo.",
        ),
        (
            "III.2",
            "Thực hiện sáp nhập các trường trung học phổ thông, trường phổ thông có nhiều cấp học; "
            "sắp xếp quy mô lớp học hợp lý, bảo đảm số lượng học sinh/lớp theo quy định",
        ),
        (
            "IV.5",
            "Sơ kết 5 năm thực hiện Đề án đào tạo bồi dưỡng cán bộ, công chức, viên chức theo Quyết định "
            "số 163/QĐ-TTg ngày 25/01/2016 của Thủ tướng Chính phủ; Kế hoạch số 59/KH-UBND ngày "
            "17/5/2016 của Ủy ban nhân dân tỉnh về đào tạo, bồi dưỡng cán bộ, công chức, viên chức "
            "giai đoạn 2016-2025;",
        ),
        (
            "VII.2",
            'Tiếp tục thực hiện phong trào "Đoàn viên hỗ trợ người dân thực hiện TTHC qua dịch vụ công '
            'mức độ 3, mức độ 4 và dịch vụ Bưu chính công ích"',
        ),
        ("VII.9", "Tự đánh giá mức độ hoàn thành nhiệm vụ của cơ quan Sở"),
    ],
)
def test_contents_are_transcribed_verbatim(tasks: dict[str, RawTask], code: str, content: str) -> None:
    assert tasks[code].content == content


def test_content_cut_by_a_page_break_is_rejoined(tasks: dict[str, RawTask]) -> None:
    content = tasks["II.1"].content
    assert content.startswith("- Ban hành Kế hoạch kiểm soát thủ tục hành chính; ")
    assert content.endswith(
        "- Ban hành và tổ chức thực hiện kế hoạch truyền thông về công tác Kiểm soát TTHC năm 2020."
    )


@pytest.mark.parametrize(
    ("code", "products"),
    [
        ("I.1", ("Kế hoạch tự kiểm tra VB QPPL", "Báo cáo kết quả thực hiện.")),
        (
            "II.1",
            (
                "Kế hoạch kiểm soát TTHC; Kế hoạch rà soát, đánh giá TTHC; "
                "Kế hoạch truyền thông về công tác Kiểm soát TTHC.",
            ),
        ),
        ("II.3", ("Báo cáo kết quả rà soát;", "Quyết định của UBND tỉnh")),
        ("IV.6", ("Kế hoạch thực hiện;", "Quyết định chuyển đổi;", "Báo cáo kết quả thực hiện")),
        ("IV.7", ("Các Quyết định,", "Văn bản thẩm định;", "Báo cáo kết quả")),
        ("IV.8", ("Văn bản triển khai;",)),
        ("VII.5", ("Quyết định thành lập Đoàn kiểm tra; Báo cáo kết quả",)),
    ],
)
def test_products_are_one_item_per_bullet(
    tasks: dict[str, RawTask], code: str, products: tuple[str, ...]
) -> None:
    assert tasks[code].products == products


def test_reporting_regime_is_read(plan: RawPlan) -> None:
    assert plan.reporting is not None
    assert plan.reporting.periods == ("quarterly", "6-month", "9-month", "annual", "adhoc")
    assert plan.reporting.via == "Văn phòng Sở"
    assert plan.reporting.text.startswith(
        "Định kỳ hàng quý, 6 tháng, 9 tháng, hàng năm hoặc đột xuất báo cáo"
    )


def test_every_unit_named_by_the_plan_resolves_through_the_directory(
    plan: RawPlan, directory: Directory
) -> None:
    assert plan.reporting is not None
    entries = [plan.reporting.via, *plan.reporting.units]
    entries += [entry for task in plan.tasks for entry in (*task.lead, *task.coordinating)]
    resolved = {entry: directory.resolve(entry) for entry in entries}
    assert all(resolved.values())
    assert {code for codes in resolved.values() for code in codes} == {unit.code for unit in directory.units}


@pytest.mark.parametrize(
    ("code", "lead", "coordinating"),
    [
        ("I.3", ["TTRA"], ["PCMNV"]),
        ("V.2", ["KHTC"], ["PCMNV", "DVTH"]),
        ("VII.3", ["LDS"], []),
        ("VII.5", ["VP", "TTRA"], ["PCMNV", "DVTH"]),
    ],
)
def test_sample_units_resolve_to_the_expected_codes(
    tasks: dict[str, RawTask], directory: Directory, code: str, lead: list[str], coordinating: list[str]
) -> None:
    def codes(entries: tuple[str, ...]) -> list[str]:
        return [unit for entry in entries for unit in directory.resolve(entry)]

    assert (codes(tasks[code].lead), codes(tasks[code].coordinating)) == (lead, coordinating)


def test_every_string_of_the_sample_plan_is_nfc(plan: RawPlan) -> None:
    strings = [plan.code, plan.title, *(s for section in plan.sections for s in astuple(section))]
    for task in plan.tasks:
        strings += [task.code, task.content, task.deadline, *task.products, *task.lead, *task.coordinating]
    assert plan.reporting is not None
    strings += [plan.reporting.text, plan.reporting.via, *plan.reporting.units]
    for text in strings:
        assert isinstance(text, str) and text
        assert unicodedata.is_normalized("NFC", text), text
        assert "  " not in text and text == text.strip(), text


# --- the YAML reader on other files --------------------------------------------------------------


def _plan_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ke-hoach.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_file_is_a_plan_file_error(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="Không tìm thấy tệp kế hoạch"):
        read_yaml_plan(tmp_path / "khong-co.yaml")


def test_a_yaml_syntax_error_is_a_plan_file_error_with_its_row(tmp_path: Path) -> None:
    path = _plan_file(tmp_path, 'sections:\n  - code: "I"\n    title: "A\n')
    with pytest.raises(PlanFileError) as caught:
        read_yaml_plan(path)
    assert caught.value.row == 4
    assert "không đúng cú pháp YAML" in caught.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Tệp kế hoạch trống."),
        ("- a\n- b\n", "Tệp kế hoạch phải là một bảng 'khoá: giá trị'."),
        ("plan:\n  year: 2020\n", "Thiếu danh sách các mục (sections)."),
        ("sections: []\n", "Kế hoạch không có mục nào (sections trống)."),
        (
            "sections:\n  - code: I\n    tasks: {a: 1}\n",
            "Mục I: tasks phải là một danh sách (mỗi mục bắt đầu bằng '- ').",
        ),
    ],
)
def test_a_file_that_is_not_a_plan_is_a_plan_file_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PlanFileError) as caught:
        read_yaml_plan(_plan_file(tmp_path, text))
    assert caught.value.message == message


def test_missing_task_fields_are_problems_with_the_task_row(tmp_path: Path) -> None:
    text = (
        "sections:\n"
        '  - code: "I"\n'
        '    title: "Cải cách thể chế"\n'
        "    tasks:\n"
        '      - content: "Lập Kế hoạch"\n'
        "        products: []\n"
        "      - lead: Phòng TCCB\n"
        "        content: [a, b]\n"
        "        deadline: Năm 2020\n"
    )
    plan = read_yaml_plan(_plan_file(tmp_path, text))
    file = str(tmp_path / "ke-hoach.yaml")
    assert [(task.code, task.row) for task in plan.tasks] == [("I.1", 5), ("I.2", 7)]
    assert plan.problems == [
        Problem(file, 5, "lead", "Nhiệm vụ I.1: thiếu đơn vị chủ trì."),
        Problem(file, 5, "deadline", "Nhiệm vụ I.1: thiếu thời gian hoàn thành."),
        Problem(file, 7, "content", "Nhiệm vụ I.2: nội dung nhiệm vụ phải là một đoạn văn bản."),
    ]
    assert plan.tasks[1].lead == ("Phòng TCCB",)
    assert plan.tasks[0].products == () and plan.tasks[0].coordinating == ()


def test_scalars_are_kept_as_written_cleaned_and_nfc(tmp_path: Path) -> None:
    text = (
        "sections:\n"
        "  - code: I\n"
        "    title: Thể chế\n"
        "    tasks:\n"
        "      - code: I.9\n"
        "        content: |\n"
        "          Lập Kế hoạch\n"
        "          tự  kiểm tra\n"
        "        lead: Văn phòng Sở; Thanh tra Sở\n"
        "        coordinating: Các phòng CM, NV\n"
        "        products: Kế hoạch; Báo cáo\n"
        "        deadline: 2020\n"
    )
    plan = read_yaml_plan(_plan_file(tmp_path, unicodedata.normalize("NFD", text)))
    task = plan.tasks[0]
    assert plan.problems == []
    assert task.code == "I.9"
    assert task.content == "Lập Kế hoạch tự kiểm tra"
    assert unicodedata.is_normalized("NFC", task.content)
    assert task.lead == ("Văn phòng Sở", "Thanh tra Sở")
    assert task.coordinating == ("Các phòng CM, NV",)
    assert task.products == ("Kế hoạch; Báo cáo",)
    assert task.deadline == "2020"
