"""Every command that writes a file checks its path first, one way for all (cli.output_files.check_output_file): a
missing folder, a folder as the file, a file as the folder and a place that cannot be written (/proc) are each
refused with exit code 1 and one Vietnamese sentence naming the path; no traceback, no system English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ENGLISH = re.compile(
    r"Traceback|Error\b|Error:|No such file|Is a directory|Not a directory|Permission denied|File exists|"
    r"Errno|directory\.|\bfile\b"
)

WRITERS = [
    ("units export {}", ".xlsx"),
    ("units export {}", ".csv"),
    ("tasks export {}", ".xlsx"),
    ("rules export {}", ".yaml"),
    ("report build --period Q1 --year 2020 --out {}", ".docx"),
    ("report build --period Q1 --year 2020 --out {}", ".xlsx"),
]


def _refused(result, path: Path, sentence: str) -> None:  # type: ignore[no-untyped-def]
    output = result.stdout + result.stderr
    assert result.exit_code == 1, output
    assert not ENGLISH.search(output), output
    assert output.strip().startswith("Lỗi:"), output
    assert str(path) in output, output
    assert sentence in output, output
    assert output.count("\n") <= 2, output  # one sentence (rich may wrap once)


@pytest.mark.parametrize(("command", "suffix"), WRITERS, ids=lambda v: str(v).split(" {")[0])
def test_every_file_writer_refuses_a_bad_place_in_one_vietnamese_sentence(
    run_cli, tmp_path: Path, command: str, suffix: str
) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0

    def run(target: Path):  # type: ignore[no-untyped-def]
        return run_cli(*command.format(target).split())

    missing = tmp_path / "khong-co" / f"x{suffix}"
    _refused(run(missing), missing.parent, "không có: tạo thư mục trước hoặc chọn chỗ khác")
    assert not missing.parent.exists()  # never created behind the user's back

    folder = tmp_path / f"thu-muc{suffix}"
    folder.mkdir()
    _refused(run(folder), folder, "là một thư mục")

    a_file = tmp_path / "tep.txt"
    a_file.write_text("x", encoding="utf-8")
    _refused(run(a_file / f"x{suffix}"), a_file, "là một tệp, không phải thư mục")

    _refused(run(Path("/proc") / f"x{suffix}"), Path("/proc") / f"x{suffix}", "hãy chọn chỗ khác")

    good = tmp_path / f"tot{suffix}"
    result = run(good)
    assert result.exit_code == 0, result.stderr
    assert good.stat().st_size > 0


def test_an_oserror_while_writing_becomes_one_vietnamese_sentence(tmp_path: Path) -> None:
    import errno

    from cli.output_files import writing
    from plan.errors import UserError

    target = tmp_path / "bao-cao.docx"
    for code, words in [
        (errno.ENOSPC, "hết chỗ"),
        (errno.EACCES, "Không có quyền ghi"),
        (errno.EROFS, "Không có quyền ghi"),
        (errno.EISDIR, "là một thư mục"),
        (errno.EIO, "lỗi hệ thống số"),
    ]:
        with pytest.raises(UserError) as caught, writing(target, "tệp báo cáo"):
            raise OSError(code, "English text from the system")
        text = str(caught.value)
        assert words in text and str(target) in text and "English" not in text, text
