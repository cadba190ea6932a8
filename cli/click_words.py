"""Typer's and Click's own words in Vietnamese: help panels, the usage line, value placeholders, usage errors.

Typer (with the Click it vendors) prints a few English words of its own around our Vietnamese help texts:
"Usage:", "Options", "Show this message and exit.", "<str>", "Missing option '--to'.", "Invalid value for
'--limit': Input should be a valid integer". The office staff who run ``nhacviec`` read none of them. This
module replaces them in one place, when ``cli.main`` is imported:

- help: panel titles, the usage prefix, the --help line, placeholders ("<str>" becomes "CHỮ", an argument
  ``file`` becomes "TỆP"; a flag shows none);
- errors: :func:`usage_error_sentence` turns a Click usage error into one Vietnamese sentence, printed the
  way ``cli.main`` prints every user error ("Lỗi: ..."), with where to look for help.

Typer's internals are patched through their module attributes; ``tests/test_cli_words.py`` walks every
command's --help and the usual mistakes, so an upgrade of Typer that moves them fails a test, not a user.
"""

from __future__ import annotations

import re
from typing import Any

import typer.core
import typer.rich_utils
from typer import _click

HELP_TEXT = "Xem hướng dẫn này rồi thoát."

# Argument names (the parameter's name in code) shown in help and usage lines.
ARGUMENT_NAMES = {
    "file": "TỆP",
    "files": "TỆP",
    "path": "TỆP",
    "directory": "THƯ_MỤC",
    "folder": "THƯ_MỤC",
    "code": "MÃ",
    "task": "MÃ_NHIỆM_VỤ",
    "unit": "ĐƠN_VỊ",
    "name": "TÊN",
    "key": "KHOÁ",
    "kind": "LOẠI",
    "period": "KỲ",
    "phrases": "CỤM_TỪ",
    "rule_id": "MÃ_QUY_TẮC",
    "assignments": "KHOÁ=GIÁ_TRỊ",
    "due": "NGÀY",
    "day": "NGÀY",
    "date": "NGÀY",
    "token_id": "SỐ",
    "plan": "MÃ_KẾ_HOẠCH",
    "person": "NGƯỜI",
    "user": "TÊN",
}
# Value placeholders by the type Typer would show ("<str>", "<int>", "<path>").
TYPE_NAMES = {
    "str": "CHỮ",
    "int": "SỐ",
    "float": "SỐ",
    "path": "TỆP",
    "datetime": "NGÀY_GIỜ",
    "date": "NGÀY",
}
_TYPE = re.compile(r"<([a-z_]+)(?: range)?(?:\[([a-z_]+)\])?>")  # "<int range>" too


def _placeholder(display: str) -> str:
    """ "<str>" -> "CHỮ", "<list[str]>" -> "CHỮ…", choices ("a|b") stay as they are."""

    def replace(match: re.Match[str]) -> str:
        outer, inner = match.group(1), match.group(2)
        if inner is not None:
            return TYPE_NAMES.get(inner, inner.upper()) + "…"
        return TYPE_NAMES.get(outer, outer.upper())

    return _TYPE.sub(replace, display)


def _argument_name(self: Any) -> str:
    if self.metavar is not None:
        return str(self.metavar)
    name = str(self.name or "")
    return ARGUMENT_NAMES.get(name, name.upper())


def _option_type(original: Any) -> Any:
    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if self.metavar is not None:
            return str(self.metavar)
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return None  # a flag takes no value: nothing to show
        shown = original(self, ctx)
        return None if shown is None else _placeholder(str(shown))

    return display_type_rich


def _argument_type(self: Any, ctx: Any) -> str | None:
    return None  # the argument's name ("TỆP", "MÃ") already says what to write


_USAGE_WORDS = {"[OPTIONS]": "[TÙY_CHỌN]", "COMMAND [ARGS]...": "LỆNH [THAM_SỐ]..."}


def _usage_pieces(original: Any) -> Any:
    def collect_usage_pieces(self: Any, ctx: Any) -> list[str]:
        return [_USAGE_WORDS.get(piece, piece) for piece in original(self, ctx)]

    return collect_usage_pieces


def _help_option(original: Any) -> Any:
    def get_help_option(self: Any, ctx: Any) -> Any:
        option = original(self, ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    return get_help_option


def _write_usage(original: Any) -> Any:
    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        original(self, prog, args, "Cách dùng: " if prefix is None else prefix)

    return write_usage


_PATCHED = False


def install() -> None:
    """Replace Typer's and Click's English words (idempotent)."""
    global _PATCHED
    if _PATCHED:
        return
    _PATCHED = True
    rich = typer.rich_utils
    rich.DEPRECATED_STRING = "(không dùng nữa) "
    rich.DEFAULT_STRING = "[mặc định: {}]"
    rich.ENVVAR_STRING = "[biến môi trường: {}]"
    rich.REQUIRED_LONG_STRING = "[bắt buộc]"
    rich.ARGUMENTS_PANEL_TITLE = "Tham số"
    rich.OPTIONS_PANEL_TITLE = "Tùy chọn"
    rich.COMMANDS_PANEL_TITLE = "Lệnh"
    rich.ERRORS_PANEL_TITLE = "Lỗi"
    rich.ABORTED_TEXT = "Đã dừng."
    rich.RICH_HELP = "Xem [blue]'{command_path} {help_option}'[/] để biết cách dùng."
    # The highlighter colours the usage line by its prefix.
    rich.highlighter.highlights = [  # type: ignore[misc]
        pattern.replace("Usage: ", "Cách dùng: ") for pattern in rich.highlighter.highlights
    ]
    rich.rich_format_error = print_usage_error  # type: ignore[assignment]
    core = typer.core
    core.TyperArgument.display_name_raw = property(_argument_name)  # type: ignore[method-assign,assignment]
    core.TyperOption.display_type_rich = _option_type(core.TyperOption.display_type_rich)  # type: ignore[method-assign]
    core.TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign]
    for command_class in {_click.core.Command, core.TyperCommand, core.TyperGroup}:
        if "collect_usage_pieces" in vars(command_class):
            command_class.collect_usage_pieces = _usage_pieces(command_class.collect_usage_pieces)  # type: ignore[attr-defined]
    _click.core.Command.get_help_option = _help_option(_click.core.Command.get_help_option)  # type: ignore[method-assign]
    _click.formatting.HelpFormatter.write_usage = _write_usage(_click.formatting.HelpFormatter.write_usage)  # type: ignore[method-assign]


# -- usage errors ----------------------------------------------------------------------------------------

# Pydantic's error types (Typer converts values with pydantic) to what the value should have been.
_EXPECTED = {
    "int_parsing": "một số nguyên",
    "int_from_float": "một số nguyên",
    "float_parsing": "một số",
    "bool_parsing": "có hoặc không (true/false)",
    "date_parsing": "một ngày",
    "date_from_datetime_parsing": "một ngày",
    "datetime_parsing": "một ngày giờ",
    "datetime_from_date_parsing": "một ngày giờ",
}
_COMPARISONS = {
    "greater_than": "lớn hơn {gt}",
    "greater_than_equal": "từ {ge} trở lên",
    "less_than": "nhỏ hơn {lt}",
    "less_than_equal": "không quá {le}",
}


def _value_problem(error: Any) -> str:
    """Why a value was refused, in Vietnamese; our own callbacks' messages are kept as they are."""
    cause = error.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        for item in errors():
            kind = item.get("type", "")
            context = item.get("ctx") or {}
            if kind in _EXPECTED:
                return f"cần {_EXPECTED[kind]}"
            if kind in _COMPARISONS:
                return "cần " + _COMPARISONS[kind].format(**context)
            if kind in ("enum", "literal_error"):
                return f"chỉ nhận {context.get('expected', '')}".strip()
        return "giá trị không hợp lệ"
    message = str(getattr(error, "message", "") or "")
    missing = re.match(r"(?:File|Path|Directory) '(.*)' does not exist", message)
    if missing:
        return f"không có '{missing.group(1)}'"
    if re.match(r"(?:File|Path) '.*' is a directory", message):
        return "đây là một thư mục, cần một tệp"
    if re.match(r"Directory '.*' is a file", message):
        return "đây là một tệp, cần một thư mục"
    if re.match(r"Value .* is not a valid", message) or message.startswith("Value must be"):
        return "giá trị không hợp lệ"
    return message.rstrip(".")


def _param_name(error: Any) -> str:
    param = getattr(error, "param", None)
    if param is None:
        return str(getattr(error, "param_hint", "") or "").strip("'\"")
    if getattr(param, "param_type_name", "") == "argument":
        return _argument_name(param)
    opts = [opt for opt in getattr(param, "opts", ()) if opt.startswith("--")] or list(
        getattr(param, "opts", ())
    )
    return opts[0] if opts else str(param.name)


def usage_error_sentence(error: Any) -> str:
    """One Vietnamese sentence for a Click usage error (unknown option or command, missing or bad value)."""
    kind = type(error).__name__
    if kind == "NoSuchOption":
        sentence = f"Không có tùy chọn {error.option_name}"
        if error.possibilities:
            sentence += "; có phải " + ", ".join(sorted(error.possibilities)) + "?"
        return sentence if sentence.endswith("?") else sentence + "."
    if kind == "MissingParameter":
        param = getattr(error, "param", None)
        what = "tham số" if getattr(param, "param_type_name", "") == "argument" else "tùy chọn"
        return f"Thiếu {what} {_param_name(error)}."
    if kind == "BadParameter":
        return f"{_param_name(error)}: {_value_problem(error)}."
    if kind in ("BadOptionUsage", "BadArgumentUsage"):
        option = getattr(error, "option_name", "")
        if "requires an argument" in error.message:
            return f"Tùy chọn {option} cần một giá trị."
        return error.message
    message = str(getattr(error, "message", error))
    unknown = re.match(r"No such command '(.*?)'\.(?: Did you mean (.*)\?)?", message)
    if unknown:
        sentence = f"Không có lệnh '{unknown.group(1)}'"
        return sentence + (f"; có phải {unknown.group(2)}?" if unknown.group(2) else ".")
    extra = re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", message)
    if extra:
        return f"Thừa tham số: {extra.group(1)}."
    if message.startswith("Missing command"):
        return "Thiếu lệnh con: chọn một lệnh trong danh sách."
    return message


def print_usage_error(error: Any) -> None:
    """Print a usage error as every user error is printed: "Lỗi: ..." and where the help is."""
    if type(error).__name__ == "NoArgsIsHelpError":
        return
    from cli.common import err_console

    err_console.print(f"[bold red]Lỗi:[/] {usage_error_sentence(error)}", highlight=False)
    ctx = getattr(error, "ctx", None)
    if ctx is not None:
        err_console.print(f"Xem '{ctx.command_path} --help' để biết cách dùng.", highlight=False)
