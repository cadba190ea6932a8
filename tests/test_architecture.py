"""The architecture, checked: the layers contract (import-linter, pyproject.toml) holds and catches a backward
edge, every package is under it, and errors raised low describe the problem without naming a command."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
    "lint-imports"
)
needs_import_linter = pytest.mark.skipif(
    LINT_IMPORTS is None, reason="import-linter is not installed (pip install -e '.[test]' brings it)"
)
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LINTER = PYPROJECT["tool"]["importlinter"]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS is not None
    environment = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


@needs_import_linter
def test_the_layers_contract_holds() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_import_linter
def test_a_new_backward_edge_breaks_the_contract(tmp_path: Path) -> None:
    """The store importing the CLI (what 'hãy chạy nhacviec init' in a store error amounted to) is refused."""
    for package in LINTER["root_packages"]:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.j2")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    db = tmp_path / "store" / "db.py"
    db.write_text(db.read_text(encoding="utf-8") + "\nfrom cli.common import console  # a backward edge\n")

    result = _lint_imports(tmp_path)

    assert result.returncode != 0
    assert "store is not allowed to import cli" in result.stdout, result.stdout


def test_every_package_is_under_the_contract() -> None:
    """A new top-level package (report/, say) must be given its layer, or it would escape the check."""
    packages = {name.split(".")[0] for name in PYPROJECT["tool"]["setuptools"]["packages"]}
    layered = set()
    for contract in LINTER["contracts"]:
        for layer in contract.get("layers", []):
            layered |= {name.strip() for name in layer.replace(":", "|").split("|")}
    assert packages == set(LINTER["root_packages"])
    assert packages == layered
    assert packages == set(PYPROJECT["tool"]["mypy"]["packages"])  # and type-checked


LOW = ("plan", "rules", "planner", "templates", "store", "notifiers", "delivery")


def _raised_texts(path: Path) -> list[tuple[int, str]]:
    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for part in ast.walk(node.exc):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    texts.append((node.lineno, part.value))
    return texts


def test_errors_raised_low_name_no_command() -> None:
    """The web shows these errors too: the problem is said low, the remedy at the edge (plan.errors.Fix)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for package in ("store", "planner", "rules", "notifiers", "delivery")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for line, text in _raised_texts(path)
        if "nhacviec " in text
    ]
    assert offenders == []


def test_every_fix_a_low_error_names_has_the_cli_s_words() -> None:
    from cli.common import FIX_HINTS

    actions = set()
    for package in LOW:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "with_fix"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    actions.add(node.args[0].value)
    assert actions, "no error names its remedy: the scan is broken"
    assert actions <= set(FIX_HINTS)


def test_the_cli_and_the_web_say_the_remedy_each_in_its_own_words() -> None:
    from cli.common import error_text as cli_text
    from store.tasks import TaskError
    from web.deps import error_text as web_text

    error = TaskError('Nhiệm vụ II.2 chưa có hạn ("Theo Kế hoạch"):').with_fix("set_due", task="II.2")

    assert (
        cli_text(error)
        == "Nhiệm vụ II.2 chưa có hạn (\"Theo Kế hoạch\"): dùng 'nhacviec tasks set-due II.2 NGÀY'."
    )
    assert "nhacviec" not in web_text(error) and "trang của nhiệm vụ" in web_text(error)
    taken = web_text(TaskError("Tài khoản 'a' đã có;").with_fix("passwd", user="a"))
    assert "nhacviec" not in taken and taken.endswith("bấm Sửa ở dòng của nó trong bảng.")
    # A remedy the web has no words for (only the command line can do it) closes the sentence instead.
    assert web_text(TaskError("Không có đơn vị mã 'X';").with_fix("init")) == "Không có đơn vị mã 'X'."


def test_every_channel_has_a_notifier() -> None:
    from delivery.channels import FACTORIES
    from rules.channels import CHANNELS

    assert set(FACTORIES) == set(CHANNELS)


# --- one home for shared words and settings ------------------------------------------------------------


def _string_constants(path: Path) -> list[tuple[int, str]]:
    """String constants in the code, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_the_time_zone_is_written_once_in_config_and_read_from_the_settings() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in LINTER["root_packages"]
        if package != "config"
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for line, text in _string_constants(path)
        if "Asia/Ho_Chi_Minh" in text
    ]
    assert offenders == []


def test_the_settings_time_zone_reaches_the_calendar_and_the_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from zoneinfo import ZoneInfo

    from cli.common import parse_datetime
    from config.settings import Settings
    from store.calendar import working_calendar
    from store.db import make_engine, session_scope, upgrade_schema

    monkeypatch.setenv("NHACVIEC_TIMEZONE", "Asia/Bangkok")
    settings = Settings()
    engine = make_engine(f"sqlite:///{tmp_path / 'tz.db'}")
    upgrade_schema(engine)
    with session_scope(engine) as session:
        calendar = working_calendar(session, settings.calendar_file, settings.send_time, settings.timezone)
    engine.dispose()

    assert calendar.tz == ZoneInfo("Asia/Bangkok") == settings.tz
    assert parse_datetime("01/12/2020 07:30", "--at").tzinfo == ZoneInfo("Asia/Bangkok")
    monkeypatch.setenv("NHACVIEC_TIMEZONE", "Asia/Hanoi_Nowhere")
    with pytest.raises(ValueError, match="múi giờ"):
        Settings()


def test_shared_word_lists_are_the_vocabulary_s() -> None:
    import vocabulary
    from planner.model import UNDATED_KINDS
    from rules import model as rules_model

    assert set(rules_model._TASK_KINDS) == set(vocabulary.TASK_KINDS)
    assert set(rules_model._REPORT_KINDS) == set(vocabulary.REPORT_KINDS)
    assert set(UNDATED_KINDS) == set(vocabulary.UNDATED_DEADLINE_KINDS)


# --- tests that show the architecture ------------------------------------------------------------------


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def test_no_test_imports_conftest_or_another_test_module() -> None:
    """What tests share lives in tests/support/ (registered as plugins by tests/conftest.py)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line, module in _imported_modules(path)
        if any(part == "conftest" or part.startswith("test_") for part in module.split("."))
    ]
    assert offenders == []


def test_the_root_conftest_only_registers_the_support_plugins() -> None:
    conftest = ROOT / "tests" / "conftest.py"
    tree = ast.parse(conftest.read_text(encoding="utf-8"))
    assigned = [node for node in tree.body if isinstance(node, ast.Assign)]
    assert [target.id for node in assigned for target in node.targets if isinstance(target, ast.Name)] == [
        "pytest_plugins"
    ]
    plugins = ast.literal_eval(assigned[0].value)
    assert all(name.startswith("tests.support.") for name in plugins)
    assert not any(isinstance(node, ast.FunctionDef) for node in tree.body)
