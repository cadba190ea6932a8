"""Read a plan file, whatever the office saved it as: Word, Excel, CSV or YAML.

The readers import python-docx, openpyxl and PyYAML only when called, to keep the CLI fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from plan.model import PlanFileError, RawPlan

SUPPORTED = ".docx, .xlsx, .csv hoặc .yaml"
_RESAVE = {
    ".doc": "hãy mở bằng Word và lưu lại dưới dạng .docx",
    ".xls": "hãy mở bằng Excel và lưu lại dưới dạng .xlsx",
}


def _reader(suffix: str) -> Callable[[Path], RawPlan] | None:
    if suffix in {".yaml", ".yml"}:
        from plan.importers.yaml_plan import read_yaml_plan

        return read_yaml_plan
    if suffix == ".csv":
        from plan.importers.csv_plan import read_csv_plan

        return read_csv_plan
    if suffix in {".xlsx", ".xlsm"}:
        from plan.importers.xlsx_plan import read_xlsx_plan

        return read_xlsx_plan
    if suffix == ".docx":
        from plan.importers.docx_plan import read_docx_plan

        return read_docx_plan
    return None


def read_plan(path: Path | str) -> RawPlan:
    """Read the plan in ``path``; raises :class:`PlanFileError` with one Vietnamese sentence."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise PlanFileError(file, "Không tìm thấy tệp.")
    if not path.is_file():
        raise PlanFileError(file, "Đây là một thư mục, không phải tệp kế hoạch.")
    suffix = path.suffix.lower()
    reader = _reader(suffix)
    if reader is None:
        shown = suffix or "(không có phần mở rộng)"
        advice = _RESAVE.get(suffix, f"dùng {SUPPORTED}")
        raise PlanFileError(file, f"Định dạng tệp {shown} không được hỗ trợ; {advice}.")
    try:
        return reader(path)
    except OSError as error:
        raise PlanFileError(file, f"Không mở được tệp: {error.strerror or error}.") from error
