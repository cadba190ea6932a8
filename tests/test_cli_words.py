"""Every --help and every usage mistake reads in Vietnamese: none of Typer's or Click's own English words."""

from __future__ import annotations

import re

import pytest
import typer

ENGLISH = re.compile(
    r"Usage:|\bOptions\b|\bCommands\b|\bArguments\b|Show this message|\[required\]|\[default:|"
    r"<(?:str|int|bool|float|path|list\[[a-z]+\]|int range|float range)>|Missing (?:option|argument|parameter)|No such (?:option|command)|"
    r"Invalid value|Try '|Input should be|unexpected extra|requires an argument|\[OPTIONS\]|COMMAND \[ARGS\]"
)


def _command_paths() -> list[list[str]]:
    """Every command of ``nhacviec`` as its words: [], ["plan"], ["plan", "check"], ..."""
    from cli.main import app

    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(root, [])
    return paths


COMMANDS = _command_paths()


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "nhacviec")
def test_every_help_is_in_vietnamese(run_cli, path: list[str]) -> None:
    result = run_cli(*path, "--help")
    assert result.exit_code == 0, result.stderr
    assert "Cách dùng: nhacviec" in result.stdout
    assert "Xem hướng dẫn này rồi thoát." in result.stdout
    found = ENGLISH.findall(result.stdout)
    assert not found, f"{' '.join(path)} --help shows {found}:\n{result.stdout}"


@pytest.mark.parametrize(
    ("args", "sentence", "help_of"),
    [
        (["tasks", "list", "--bogus"], "Lỗi: Không có tùy chọn --bogus.", "tasks list"),
        (["tasks", "lst"], "Lỗi: Không có lệnh 'lst'; có phải 'list'?", "tasks"),
        (["plan", "check"], "Lỗi: Thiếu tham số TỆP.", "plan check"),
        (["tasks", "extend", "IV.4", "--to", "31/12/2020"], "Lỗi: Thiếu tùy chọn --reason.", "tasks extend"),
        (["outbox", "list", "--limit", "nhiều"], "Lỗi: --limit: cần một số nguyên.", "outbox list"),
        (["tasks", "list", "--at"], "Lỗi: Tùy chọn --at cần một giá trị.", None),
        (["tasks", "show", "IV.4", "thừa"], "Lỗi: Thừa tham số: thừa.", "tasks show"),
    ],
)
def test_usage_mistakes_get_one_vietnamese_sentence_and_where_to_look(
    run_cli, args: list[str], sentence: str, help_of: str | None
) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2
    assert sentence in result.stderr
    if help_of is not None:  # the parser's own mistakes (a value missing) do not know their command
        assert f"Xem 'nhacviec {help_of} --help' để biết cách dùng." in result.stderr
    assert not ENGLISH.findall(result.stderr), result.stderr
