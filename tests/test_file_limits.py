"""Every file is bounded before it is parsed: a zip bomb .docx/.xlsx (a small file whose XML expands to a hundred
megabytes) is refused in one Vietnamese sentence naming the bound, by the CLI and the web alike, before anything
is decompressed; tables are bounded in rows and characters per cell; the web reads an upload in a child process
with a time and a memory limit."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from plan.limits import MAX_CELL_CHARS, MAX_RATIO, FileLimitError, check_archive
from tests.support.web_pages import client_for, csrf_of, text_of
from web.isolation import WorkLimitError, run_limited

BOMB_MB = 100


def zip_bomb(path: Path, member: str) -> Path:
    """A valid-looking Office file whose ``member`` expands to BOMB_MB megabytes of XML (written in chunks)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open(member, "w", force_zip64=True) as stream:
            stream.write(b'<?xml version="1.0" encoding="UTF-8"?><w:document><!--')
            chunk = b" " * (1024 * 1024)
            for _ in range(BOMB_MB):
                stream.write(chunk)
            stream.write(b"--></w:document>")
    return path


def test_the_bomb_is_small_but_huge_inside(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "bom.docx", "word/document.xml")
    assert bomb.stat().st_size < 1024 * 1024
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("word/document.xml").file_size > BOMB_MB * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "member"), [("bom.docx", "word/document.xml"), ("bom.xlsx", "xl/worksheets/sheet1.xml")]
)
def test_plan_check_refuses_a_zip_bomb_fast_naming_the_bound(
    run_cli, tmp_path: Path, name: str, member: str
) -> None:  # type: ignore[no-untyped-def]
    bomb = zip_bomb(tmp_path / name, member)
    started = time.monotonic()
    result = run_cli("plan", "check", str(bomb))
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert f"quá giới hạn {MAX_RATIO}:1" in result.stderr and "bom nén" in result.stderr
    assert "Traceback" not in result.stderr


def test_units_import_refuses_a_zip_bomb(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bomb = zip_bomb(tmp_path / "danh-ba.xlsx", "xl/worksheets/sheet1.xml")
    assert run_cli("init").exit_code == 0
    result = run_cli("units", "import", str(bomb), "--dry-run")
    assert result.exit_code == 1 and "bom nén" in result.stderr


def test_an_archive_too_big_inside_is_refused_even_at_a_plausible_ratio(tmp_path: Path) -> None:
    import plan.limits as limits

    path = tmp_path / "lon.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", b"x" * 2_000_000)
    original = limits.MAX_MEMBER_BYTES
    limits.MAX_MEMBER_BYTES = 1_000_000
    try:
        with pytest.raises(FileLimitError, match="khi giải nén lớn hơn"):
            check_archive(path)
    finally:
        limits.MAX_MEMBER_BYTES = original


def test_a_cell_longer_than_excel_allows_is_refused_with_its_place(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "ke-hoach.csv"
    long = "x" * (MAX_CELL_CHARS + 1)
    plan.write_text(
        f"STT,Nội dung,Đơn vị chủ trì,Thời hạn\n1,{long},Văn phòng,Quý I/2021\n", encoding="utf-8"
    )
    result = run_cli("plan", "check", str(plan))
    assert result.exit_code == 1
    assert f"quá giới hạn {MAX_CELL_CHARS:,} ký tự" in result.stderr and "dòng 2, cột 2" in result.stderr


def test_the_web_refuses_an_uploaded_zip_bomb_and_still_answers(web_engine: Engine, tmp_path: Path) -> None:
    admin = client_for(web_engine, "chanh.vp")
    bomb = zip_bomb(tmp_path / "bom.docx", "word/document.xml").read_bytes()
    data = {"csrf": csrf_of(admin, "/import"), "year": "2021", "plan": "KT-2021"}
    started = time.monotonic()
    page = admin.post(
        "/import", data=data, files={"file": ("bom.docx", io.BytesIO(bomb), "application/octet-stream")}
    )
    assert time.monotonic() - started < 10
    assert page.status_code == 400
    assert "bom nén" in text_of(page.text)
    assert admin.get("/login").status_code in (200, 303)


def test_work_past_its_time_limit_is_killed_with_a_sentence() -> None:
    started = time.monotonic()
    with pytest.raises(WorkLimitError, match="quá giới hạn"):
        run_limited(time.sleep, 30, seconds=1, memory_mb=1024)
    assert time.monotonic() - started < 10


def test_work_past_its_memory_limit_is_refused_with_a_sentence() -> None:
    with pytest.raises(WorkLimitError, match="512 MB bộ nhớ"):
        run_limited(bytearray, 2 * 1024**3, seconds=30, memory_mb=512)
    assert run_limited(len, "abc", seconds=30, memory_mb=512) == 3  # the next job runs in a fresh child


def test_many_small_parts_at_a_bomb_ratio_are_refused_for_the_whole_archive(tmp_path: Path) -> None:
    """Parts of 1 MB or less are never judged alone: the whole archive's ratio catches hundreds of them."""
    path = tmp_path / "nhieu-phan.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for number in range(8):
            archive.writestr(f"word/media/phan{number}.xml", b" " * (1024 * 1024))  # 1 MB at ~1000:1
    with zipfile.ZipFile(path) as archive:
        assert all(member.file_size <= 1024 * 1024 for member in archive.infolist())
    with pytest.raises(FileLimitError, match=f"cả tệp, quá giới hạn {MAX_RATIO}:1") as refused:
        check_archive(path, "tệp kế hoạch")
    assert "nhieu-phan.docx" in str(refused.value) and "bom nén" in str(refused.value)


def test_one_part_over_the_total_bound_is_refused_even_when_it_compresses_plausibly(tmp_path: Path) -> None:
    from plan.limits import MAX_ARCHIVE_BYTES

    path = tmp_path / "lon.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:  # 1:1, no ratio rule applies
        archive.writestr("word/document.xml", b"x" * (MAX_ARCHIVE_BYTES + 1))
    with pytest.raises(FileLimitError, match=f"khi giải nén lớn hơn {MAX_ARCHIVE_BYTES // 1_048_576} MB"):
        check_archive(path)
    assert MAX_ARCHIVE_BYTES <= 64 * 1024 * 1024  # reading 64 MB of XML already takes about 1 GB


def test_an_ordinary_office_file_passes_the_archive_bounds(tmp_path: Path) -> None:
    from tests.support.plan_files import write_docx_table

    rows = [["TT", "Nội dung nhiệm vụ", "Phòng chủ trì"]] + [
        [str(i), f"Việc {i}", "Văn phòng Sở"] for i in range(50)
    ]
    check_archive(write_docx_table(tmp_path / "ke-hoach.docx", rows))  # no error


def test_a_child_that_fails_for_another_reason_is_not_said_to_be_out_of_memory() -> None:
    """A template or a reader raising on real data (here 1/0) is one plain sentence, not "cần hơn N MB bộ nhớ"."""
    import operator

    from plan.errors import UserError

    with pytest.raises(UserError) as caught:
        run_limited(operator.truediv, 1, 0, seconds=20, memory_mb=512)
    assert not isinstance(caught.value, WorkLimitError)
    assert "lỗi không mong đợi" in str(caught.value) and "MB" not in str(caught.value)
