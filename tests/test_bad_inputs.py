"""Every command that takes a file or a date refuses a bad one in one Vietnamese sentence, never a traceback.

Each file command is fed a folder, a missing file and a file that is not UTF-8; each date option a year outside the
working calendar (1800, 2999); PyYAML's English never reaches the user. Good dates are accepted in every form
office staff and cron wrappers write: dd/mm/yyyy, yyyy-mm-dd, and ISO 8601 with its offset for a moment.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ENGLISH = re.compile(
    r"Traceback|Error\b|expected|could not|while parsing|line \d|column \d|No such file|Errno"
)

FILE_COMMANDS = [
    ("plan check {}", ".yaml"),
    ("plan import {} --dry-run", ".yaml"),
    ("units import {} --dry-run", ".csv"),
    ("rules import {}", ".yaml"),
    ("rules validate {}", ".yaml"),
    ("rules diff {} --from 01/11/2020 --to 31/12/2020", ".yaml"),
    ("simulate --from 01/12/2020 --to 31/12/2020 --rules {}", ".yaml"),
    ("deadline --file {} --year 2020", ".txt"),
]


def _refused(result, sentence: str = "") -> str:  # type: ignore[no-untyped-def]
    output = result.stdout + result.stderr
    assert result.exit_code != 0, output
    assert not ENGLISH.search(output), output
    assert "Lỗi" in output or "lỗi" in output, output
    assert sentence in output, output
    return output


@pytest.fixture
def ready(run_cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    return run_cli


@pytest.mark.parametrize(("command", "suffix"), FILE_COMMANDS)
def test_a_file_command_refuses_a_folder_a_missing_file_and_non_utf8(
    ready, tmp_path: Path, command: str, suffix: str
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / f"thu-muc{suffix}"
    folder.mkdir()
    _refused(ready(*command.format(folder).split()), "thư mục")
    _refused(ready(*command.format(tmp_path / f"khong-co{suffix}").split()), "Không tìm thấy")
    latin = tmp_path / f"latin{suffix}"
    latin.write_bytes("rules:\n  - id: nhắc\n".encode()[:-3] + b"\xe0\xff\n")
    _refused(ready(*command.format(latin).split()), "UTF-8")


@pytest.mark.parametrize("command", ["rules validate {}", "rules import {}", "plan check {}"])
def test_a_yaml_syntax_error_is_said_in_vietnamese_with_its_place(
    ready, tmp_path: Path, command: str
) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "hong.yaml"
    broken.write_text("rules:\n  - id: [nhac\n    x: : y\n", encoding="utf-8")
    output = _refused(ready(*command.format(broken).split()), "YAML")
    assert "dòng" in output or "cột" in output


def test_writing_to_a_folder_and_checking_a_file_as_a_template_folder_are_refused(
    ready, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _refused(ready("rules", "export", str(tmp_path)), "thư mục")
    file = tmp_path / "mau.txt"
    file.write_text("x", encoding="utf-8")
    _refused(ready("templates", "validate", str(file)), "thư mục")
    _refused(ready("templates", "validate", str(tmp_path / "khong-co")), "không tồn tại")


DATE_COMMANDS = [
    "calendar off {}",
    "calendar working {}",
    "calendar remove {}",
    "simulate --from {} --to 31/12/2020",
    "simulate --from 01/12/2020 --to {}",
    "simulate --from 01/12/2020 --to 31/12/2020 --done IV.4={}",
    "tasks list --at {}",
    "tasks done IV.4 --at {}",
    "tasks extend IV.4 --to {} --reason thu",
    "tasks set-due II.2 {}",
    "rules diff config/rules.yaml --from {} --to 31/12/2020",
    "run --once --at {}",
    "outbox send --at {}",
    "preview --person GD --at {}",
    "templates preview reminder --task IV.4 --at {}",
    "remind --at {} --dry-run",
    "digest --at {} --dry-run",
    "report-request --period Q1 --due {} --dry-run",
    "reports received TCCB Q1 --at {}",
]


@pytest.mark.parametrize("command", DATE_COMMANDS)
@pytest.mark.parametrize("day", ["01/01/1800", "2999-01-01"])
def test_a_date_outside_the_calendar_is_refused(ready, command: str, day: str) -> None:  # type: ignore[no-untyped-def]
    _refused(ready(*command.format(day).split()), "nằm ngoài lịch làm việc")


@pytest.mark.parametrize(
    "command",
    [
        "calendar show --year {}",
        "report-request --period Q1 --year {} --dry-run",
        "deadline Trước_31/12 --year {}",
    ],
)
def test_a_year_outside_the_calendar_is_refused(ready, command: str) -> None:  # type: ignore[no-untyped-def]
    _refused(ready(*command.format(1800).split()), "nằm ngoài lịch làm việc")
    _refused(ready(*command.format(2999).split()), "nằm ngoài lịch làm việc")


@pytest.mark.parametrize("day", ["02/01/2026", "2026-01-02"])
def test_good_dates_are_accepted_in_both_forms(ready, day: str) -> None:  # type: ignore[no-untyped-def]
    result = ready("calendar", "off", day, "--note", "thử")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "02/01/2026" in result.stdout


def test_run_once_accepts_iso_8601_with_its_offset(ready) -> None:  # type: ignore[no-untyped-def]
    result = ready("run", "--once", "--at", "2020-01-22T07:30:00+07:00")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "22/01/2020 07:30" in result.stdout
    utc = ready("run", "--once", "--at", "2020-01-23T00:30:00Z")
    assert utc.exit_code == 0, utc.stdout + utc.stderr
    assert "23/01/2020 07:30" in utc.stdout  # the same moment in Vietnam time


def test_deadline_takes_the_calendar_years_as_every_other_command(run_cli) -> None:  # type: ignore[no-untyped-def]
    from plan.limits import calendar_years

    first, last = calendar_years()
    for year in (first - 1, last + 1):
        _refused(run_cli("deadline", "Trước 31/12", "--year", str(year)), f"từ {first} đến {last}")
    accepted = run_cli("deadline", "Trước 31/12", "--year", str(last), "--json")
    assert accepted.exit_code == 0, accepted.stderr


def test_a_deadline_beyond_the_working_calendar_is_refused_in_vietnamese(run_cli) -> None:  # type: ignore[no-untyped-def]
    import json

    from plan.limits import calendar_years

    _, last = calendar_years()
    result = run_cli("deadline", f"Trước 31/12/{last + 50}", "--year", "2020", "--json")
    assert result.exit_code == 1
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["due"] is None and "ngoài lịch làm việc" in row["error"] and str(last + 50) in row["error"]
    assert not ENGLISH.search(row["error"])


def test_deadline_from_an_empty_file_says_the_file_has_no_phrase(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "trong.txt"
    empty.write_text("\n   \n", encoding="utf-8")
    output = _refused(
        run_cli("deadline", "--file", str(empty), "--year", "2020"), "không có cụm từ thời hạn nào"
    )
    assert str(empty) in output and "hoặc --file" not in output


def test_a_password_without_a_terminal_asks_for_password_stdin_in_vietnamese(  # type: ignore[no-untyped-def]
    run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    output = _refused(run_cli("users", "add", "nguyen.a", "--role", "admin"), "--password-stdin")
    assert "Warning" not in output and "echoed" not in output
    monkeypatch.setattr(sys, "stdin", io.StringIO("mat-khau-du-dai-123\n"))
    assert run_cli("users", "add", "nguyen.a", "--role", "admin", "--password-stdin").exit_code == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    _refused(run_cli("users", "passwd", "nguyen.a"), "--password-stdin")
