"""Reader for plans written as YAML (the canonical form, see config/ke-hoach-cchc-2020.yaml).

The file is composed into YAML nodes rather than loaded into Python objects, for two
reasons: every node keeps its line, so each task carries the row it was written on,
and scalars keep the text as written (``deadline: 2020`` stays "2020", ``NO`` stays
"NO"). A file that is not a plan at all raises :class:`PlanFileError`; a task with a
missing or malformed field becomes a :class:`Problem` so every mistake is listed at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from plan.model import PlanFileError, Problem, RawPlan, RawSection, RawTask, ReportingRegime
from plan.text import clean

PERIODS: tuple[str, ...] = ("quarterly", "6-month", "9-month", "annual", "adhoc")

_NULL_TAG = "tag:yaml.org,2002:null"
_INT_TAG = "tag:yaml.org,2002:int"
_ENTRY_SPLIT = re.compile(r"[;\n]")
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")

_LABELS = {
    "code": "mã nhiệm vụ",
    "content": "nội dung nhiệm vụ",
    "products": "sản phẩm",
    "lead": "đơn vị chủ trì",
    "coordinating": "đơn vị phối hợp",
    "deadline": "thời gian hoàn thành",
}


def read_yaml_plan(path: Path | str) -> RawPlan:
    """Read a YAML plan file; raises :class:`PlanFileError` when it cannot be read as a plan."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PlanFileError(file, "Không tìm thấy tệp kế hoạch.") from None
    except UnicodeDecodeError:
        raise PlanFileError(file, "Tệp kế hoạch không phải văn bản UTF-8.") from None
    except OSError as error:
        raise PlanFileError(file, f"Không đọc được tệp kế hoạch ({error.strerror}).") from None
    return parse_yaml_plan(text, file)


def parse_yaml_plan(text: str, file: str) -> RawPlan:
    """Parse the text of a YAML plan; ``file`` is only used to name it in problems and errors."""
    root_node = _compose(text, file)
    root = _mapping(root_node, file, "Tệp kế hoạch")
    plan = RawPlan(file=file)
    if "plan" in root and not _is_null(root["plan"]):
        _read_header(root["plan"], plan)
    if "reporting" in root and not _is_null(root["reporting"]):
        plan.reporting = _read_reporting(root["reporting"], plan)
    sections = root.get("sections")
    if sections is None or _is_null(sections):
        raise PlanFileError(file, "Thiếu danh sách các mục (sections).", _row(root_node))
    section_nodes = _sequence(sections, file, "Danh sách các mục (sections)")
    if not section_nodes:
        raise PlanFileError(file, "Kế hoạch không có mục nào (sections trống).", _row(sections))
    for index, node in enumerate(section_nodes, start=1):
        _read_section(node, index, plan)
    return plan


# --- nodes ---------------------------------------------------------------------------------------


def _compose(text: str, file: str) -> Node:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        row = mark.line + 1 if mark is not None else None
        column = f" (cột {mark.column + 1})" if mark is not None else ""
        raise PlanFileError(
            file, f"Tệp không đúng cú pháp YAML{column}: hãy sửa thụt lề, dấu ':' hoặc '-'.", row
        ) from None
    except yaml.YAMLError:
        raise PlanFileError(file, "Tệp không đúng cú pháp YAML: hãy sửa thụt lề, dấu ':' hoặc '-'.") from None
    if node is None:
        raise PlanFileError(file, "Tệp kế hoạch trống.")
    return node


def _row(node: Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: Node, file: str, what: str) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        raise PlanFileError(file, f"{what} phải là một bảng 'khoá: giá trị'.", _row(node))
    return {key.value: value for key, value in node.value if isinstance(key, ScalarNode)}


def _sequence(node: Node, file: str, what: str) -> list[Node]:
    if not isinstance(node, SequenceNode):
        raise PlanFileError(file, f"{what} phải là một danh sách (mỗi mục bắt đầu bằng '- ').", _row(node))
    return list(node.value)


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _scalar(node: Node | None) -> str | None:
    """The cleaned text of a scalar node as written; None when absent, null or blank."""
    if node is None or _is_null(node) or not isinstance(node, ScalarNode):
        return None
    return clean(node.value) or None


def _entries(node: Node, split: bool) -> tuple[str, ...] | None:
    """A list of one-line texts; a single string counts as one entry (split at ";" if ``split``).

    Returns None when the node is neither a string nor a list of strings.
    """
    if _is_null(node):
        return ()
    if isinstance(node, ScalarNode):
        parts = _ENTRY_SPLIT.split(node.value) if split else [node.value]
        return tuple(part for part in map(clean, parts) if part)
    if isinstance(node, SequenceNode) and all(isinstance(item, ScalarNode) for item in node.value):
        values = (_scalar(item) for item in node.value)
        return tuple(value for value in values if value)
    return None


# --- plan parts ----------------------------------------------------------------------------------


def _read_header(node: Node, plan: RawPlan) -> None:
    header = _mapping(node, plan.file, "Phần thông tin kế hoạch (plan)")
    plan.code = _scalar(header.get("code"))
    plan.title = _scalar(header.get("title"))
    year = header.get("year")
    if year is None or _is_null(year):
        return
    if isinstance(year, ScalarNode) and year.tag == _INT_TAG:
        plan.year = int(year.value)
    else:
        plan.problems.append(
            Problem(plan.file, _row(year), "year", "Năm của kế hoạch phải là một số, ví dụ 2020.")
        )


def _read_reporting(node: Node, plan: RawPlan) -> ReportingRegime:
    reporting = _mapping(node, plan.file, "Chế độ báo cáo (reporting)")
    row = _row(node)
    period_node = reporting.get("periods")
    written = () if period_node is None else _entries(period_node, split=False)
    if written is None or any(period not in PERIODS for period in written):
        message = f"Chế độ báo cáo: kỳ báo cáo (periods) chỉ nhận các giá trị {', '.join(PERIODS)}."
        plan.problems.append(Problem(plan.file, row, "reporting.periods", message))
    periods = tuple(period for period in written or () if period in PERIODS)
    via = _scalar(reporting.get("via"))
    if via is None:
        plan.problems.append(
            Problem(plan.file, row, "reporting.via", "Chế độ báo cáo: thiếu đơn vị nhận báo cáo (via).")
        )
    units_node = reporting.get("units")
    units = _entries(units_node, split=True) if units_node is not None else ()
    if units is None:
        message = "Chế độ báo cáo: các đơn vị báo cáo (units) phải là một danh sách tên đơn vị."
        plan.problems.append(Problem(plan.file, row, "reporting.units", message))
    return ReportingRegime(
        periods=periods, via=via or "", units=units or (), text=_scalar(reporting.get("text")) or ""
    )


def _read_section(node: Node, index: int, plan: RawPlan) -> None:
    section = _mapping(node, plan.file, f"Mục thứ {index}")
    row = _row(node)
    code = _scalar(section.get("code"))
    if code is None:
        code = _ROMAN[index - 1] if index <= len(_ROMAN) else str(index)
        plan.problems.append(
            Problem(plan.file, row, "code", f"Mục thứ {index}: thiếu mã mục (dùng tạm '{code}').")
        )
    title = _scalar(section.get("title"))
    if title is None:
        plan.problems.append(Problem(plan.file, row, "title", f"Mục {code}: thiếu tên mục."))
    plan.sections.append(RawSection(code=code, title=title or ""))
    tasks = section.get("tasks")
    task_nodes = [] if tasks is None or _is_null(tasks) else _sequence(tasks, plan.file, f"Mục {code}: tasks")
    if not task_nodes:
        plan.problems.append(Problem(plan.file, row, "tasks", f"Mục {code} không có nhiệm vụ nào."))
    for number, task_node in enumerate(task_nodes, start=1):
        plan.tasks.append(_read_task(task_node, code, number, plan))


def _read_task(node: Node, section: str, number: int, plan: RawPlan) -> RawTask:
    task = _mapping(node, plan.file, f"Nhiệm vụ thứ {number} của mục {section}")
    row = _row(node)
    code = _scalar(task.get("code")) or f"{section}.{number}"

    def problem(field: str, what: str) -> None:
        plan.problems.append(Problem(plan.file, row, field, f"Nhiệm vụ {code}: {what}."))

    def text(field: str) -> str:
        value_node = task.get(field)
        if value_node is not None and not isinstance(value_node, ScalarNode):
            problem(field, f"{_LABELS[field]} phải là một đoạn văn bản")
            return ""
        value = _scalar(value_node)
        if value is None:
            problem(field, f"thiếu {_LABELS[field]}")
        return value or ""

    def entries(field: str, split: bool, required: bool) -> tuple[str, ...]:
        value_node = task.get(field)
        values = () if value_node is None else _entries(value_node, split)
        if values is None:
            problem(field, f"{_LABELS[field]} phải là một danh sách văn bản")
            return ()
        if required and not values:
            problem(field, f"thiếu {_LABELS[field]}")
        return values

    return RawTask(
        code=code,
        section=section,
        content=text("content"),
        products=entries("products", split=False, required=False),
        lead=entries("lead", split=True, required=True),
        coordinating=entries("coordinating", split=True, required=False),
        deadline=text("deadline"),
        row=row,
    )
