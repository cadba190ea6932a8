"""The same plan issued as .docx, .doc, text .pdf, .xlsx and .xls reads to the same tasks and deadlines.

The .doc, .xls and .pdf files are made from the .docx/.xlsx by LibreOffice in a fixture (nothing binary
is kept in git); those tests skip, saying why, where LibreOffice is not installed (.ci/run installs it).
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from config import SAMPLE_PLAN
from plan.check import CheckedPlan, check_plan
from plan.importers import read_plan
from plan.importers.office import soffice
from plan.importers.pdf_plan import pdf_rows
from plan.importers.yaml_plan import read_yaml_plan
from plan.model import PlanFileError, RawPlan
from plan.units import Directory, load_directory
from tests.support.plan_files import COLUMNS, write_docx, write_xlsx

NO_SOFFICE = (
    "LibreOffice (soffice) is not installed: .ci/run installs libreoffice-writer-nogui and -calc-nogui"
)
WITH_NOTE = (*COLUMNS, ("note", "Ghi chú"))
NUMBER, DATED = "15/KH-SGDĐT", "Hòa Bình, ngày 10 tháng 01 năm 2020"
# Twenty deadlines as offices write them: every kind, and the language of real documents.
DEADLINES = (
    "Trong tháng 01/2020", "Quý I/2020", "Trước 31/12/2020", "Theo Kế hoạch", "Thường xuyên trong năm 2020",
    "Trước 17h00 ngày 15/8/2020", "từ 12 đến hết 20/8", "Hằng quý", "chậm nhất ngày 18 của tháng cuối quý",
    "bắt đầu từ 01/7 và kết thúc trước 30/9/2020", "Sau khi có hướng dẫn của Bộ", "6 tháng đầu năm 2020",
    "Trước ngày 10 hằng tháng", "các ngày 3, 4 và 5/9/2020", "Tháng 6/2020", "Năm 2020",
    "trình UBND tỉnh trước 30/9/2020", "Quý III/2020 (trước 30/9)", "Định kỳ 6 tháng", "Trước ngày 15/01 năm sau",
)  # fmt: skip


@pytest.fixture(scope="module")
def plan20() -> RawPlan:
    """Twenty tasks of the sample plan with the deadlines above and a note on every third task."""
    sample = read_yaml_plan(SAMPLE_PLAN)
    tasks = [
        dataclasses.replace(task, deadline=phrase, note=f"Ghi chú {index}" if index % 3 == 0 else "")
        for index, (task, phrase) in enumerate(zip(sample.tasks, DEADLINES, strict=False))
    ]
    sections = [s for s in sample.sections if any(t.section == s.code for t in tasks)]
    return dataclasses.replace(
        sample, tasks=tasks, sections=sections, title="Kế hoạch cải cách hành chính năm 2020"
    )


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(Path(__file__).resolve().parent.parent / "config" / "units.yaml")


def _as_issued(path: Path) -> Path:
    """The appendix as offices print it: a landscape page, the content column wider than the others."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    document = Document(str(path))
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(1.5)
    widths = [Cm(w) for w in (1.2, 8.0, 5.0, 3.2, 3.8, 3.3, 2.2)]
    appendix = document.tables[-1]
    appendix.autofit = False
    for column, width in zip(appendix.columns, widths, strict=False):
        column.width = width  # the table grid: what LibreOffice lays the columns out by
    for row in appendix.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = width
    document.save(str(path))
    return path


def _convert(source: Path, target: str, folder: Path) -> Path:
    program = soffice()
    assert program is not None
    subprocess.run(
        [program, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--convert-to",
         target, "--outdir", str(folder), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return folder / f"{source.stem}.{target}"


@pytest.fixture(scope="module")
def files(plan20: RawPlan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    folder = tmp_path_factory.mktemp("formats")
    made = {
        "docx": _as_issued(
            write_docx(plan20, folder / "ke-hoach.docx", WITH_NOTE, number=NUMBER, dated=DATED)
        ),
        "xlsx": write_xlsx(plan20, folder / "bang.xlsx", WITH_NOTE),
    }
    if soffice() is not None:
        # through .odt: LibreOffice 7.4 writing a .doc straight from this .docx drops its second table
        made["doc"] = _convert(_convert(made["docx"], "odt", folder), "doc", folder)
        made["pdf"] = _convert(made["docx"], "pdf", folder)
        made["xls"] = _convert(made["xlsx"], "xls", folder)
    yield made


def _reading(checked: CheckedPlan) -> list[tuple[object, ...]]:
    return [
        (t.code, t.raw.section, t.raw.content, t.raw.products, t.lead, t.coordinating, t.raw.note,
         t.deadline.to_json() if t.deadline else None)
        for t in checked.tasks
    ]  # fmt: skip


def _checked(path: Path, directory: Directory) -> CheckedPlan:
    return check_plan(read_plan(path), directory, 2020)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["doc", "pdf", "xls"])
def test_the_same_plan_as_doc_pdf_and_xls_reads_to_the_same_tasks_and_deadlines_as_docx(
    kind: str, files: dict[str, Path], directory: Directory
) -> None:
    if kind not in files:
        pytest.skip(NO_SOFFICE)
    expected = _checked(files["docx"], directory)
    assert expected.problems == []
    assert len(expected.tasks) == 20

    checked = _checked(files[kind], directory)

    assert checked.problems == []
    assert _reading(checked) == _reading(expected)


def test_the_same_plan_as_xlsx_reads_to_the_same_tasks_and_deadlines_as_docx(
    files: dict[str, Path], directory: Directory
) -> None:
    assert _reading(_checked(files["xlsx"], directory)) == _reading(_checked(files["docx"], directory))


def test_every_deadline_of_the_twenty_is_read_and_notes_are_kept(
    files: dict[str, Path], directory: Directory
) -> None:
    checked = _checked(files["docx"], directory)

    assert [t.raw.deadline for t in checked.tasks] == list(DEADLINES)
    assert all(t.deadline is not None for t in checked.tasks)
    assert [t.raw.note for t in checked.tasks][:4] == ["Ghi chú 0", "", "", "Ghi chú 3"]
    assert checked.to_json()["tasks"][0]["note"] == "Ghi chú 0"  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["docx", "doc", "pdf"])
def test_the_documents_number_and_date_are_read_from_its_header(kind: str, files: dict[str, Path]) -> None:
    if kind not in files:
        pytest.skip(NO_SOFFICE)
    plan = read_plan(files[kind])

    assert (plan.number, plan.issued_on) == (NUMBER, date(2020, 1, 10))
    assert plan.kind == kind


@pytest.mark.slow
def test_a_pdf_says_how_many_pages_it_read(files: dict[str, Path]) -> None:
    if "pdf" not in files:
        pytest.skip(NO_SOFFICE)
    pages: list[tuple[str, int, int | None]] = []

    plan = read_plan(files["pdf"], lambda step, done, total: pages.append((step, done, total)))

    assert plan.pages is not None and plan.pages >= 2  # twenty tasks run over more than one page
    assert pages[-1] == ("pages", plan.pages, plan.pages)


@pytest.mark.slow
def test_plan_check_names_the_files_kind_and_the_pages_read(files: dict[str, Path], run_cli) -> None:  # type: ignore[no-untyped-def]
    if "pdf" not in files:
        pytest.skip(NO_SOFFICE)
    result = run_cli("plan", "check", str(files["pdf"]), "--year", "2020")

    assert result.exit_code == 0, result.stderr
    assert "PDF có lớp chữ" in result.stdout
    assert "đã đọc" in result.stdout and "trang" in result.stdout
    assert "Đang đọc" not in result.stderr and "\x1b[" not in result.stderr  # no progress bar: not a terminal


def test_a_pdf_without_a_text_layer_is_named_as_a_scan(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "ban-quet.pdf"
    Image.new("RGB", (620, 877), "white").save(path, "PDF")

    with pytest.raises(PlanFileError) as error:
        read_plan(path)

    assert "bản quét" in error.value.message
    assert error.value.message.endswith(".")


def test_without_libreoffice_a_doc_is_refused_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    path = tmp_path / "ke-hoach-cu.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 512)

    with pytest.raises(PlanFileError) as error:
        read_plan(path)

    assert error.value.message.startswith("Cần LibreOffice để đọc tệp .doc")
    assert "apt-get install" in error.value.message and "libreoffice-writer-nogui" in error.value.message
    assert "lưu lại dưới dạng .docx" in error.value.message


@pytest.mark.slow
def test_a_damaged_doc_is_refused_in_one_sentence(tmp_path: Path) -> None:
    if soffice() is None:
        pytest.skip(NO_SOFFICE)
    path = tmp_path / "hong.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0 not really a Word file" * 10)

    with pytest.raises(PlanFileError) as error:
        read_plan(path)

    assert error.value.file == str(path)  # the user's file, not LibreOffice's copy
    assert error.value.message.endswith(".") and "\n" not in error.value.message


def test_pdf_merged_cells_become_wide_rows_and_inherited_units() -> None:
    table = [
        ["TT", "Đơn vị", "Nội dung công việc", "Thời gian thực hiện"],
        ["I. CẢI CÁCH THỂ CHẾ", None, None, None],
        ["1", "Phòng Tổ chức\ncán bộ", "Rà soát văn bản", "Quý I/2026"],
        ["2", None, "Công khai TTHC", "Tháng 6/2026"],
    ]

    rows = pdf_rows(table, 1)

    assert [row.wide for row in rows] == [False, True, False, False]
    assert rows[3].above[1] == "Phòng Tổ chức\ncán bộ"
    assert rows[2].soft_breaks


@pytest.mark.slow
def test_on_a_terminal_reading_a_pdf_shows_a_progress_bar_and_json_shows_none(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, run_cli
) -> None:  # type: ignore[no-untyped-def]
    if "pdf" not in files:
        pytest.skip(NO_SOFFICE)
    import io
    import json

    from rich.console import Console

    import cli.plan

    screen = io.StringIO()
    monkeypatch.setattr(cli.plan, "err_console", Console(file=screen, force_terminal=True, width=100))
    cli.plan.read_and_check(files["pdf"], 2020)
    assert "Đang đọc các trang PDF" in screen.getvalue()

    screen.truncate(0)
    cli.plan.read_and_check(files["pdf"], 2020, quiet=True)  # what --json asks for
    assert screen.getvalue() == ""

    result = run_cli("plan", "check", str(files["pdf"]), "--year", "2020", "--json")
    data = json.loads(result.stdout)
    assert data["file"]["kind"] == "pdf" and data["file"]["pages"] >= 2
    assert data["file"]["number"] == NUMBER and data["file"]["issued_on"] == "2020-01-10"
