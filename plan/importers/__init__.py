"""Read a plan file, whatever the office saved it as: Word (.docx, .doc), Excel (.xlsx, .xls), PDF with a
text layer, CSV or YAML.

Old Office files are converted by LibreOffice first (plan.importers.office), then read as .docx/.xlsx.
The readers import python-docx, openpyxl, pdfplumber and PyYAML only when called, to keep the CLI fast.
``progress(step, done, total)`` hears how a long reading goes: ``("convert", 0, None)`` while LibreOffice
converts, ``("pages", n, total)`` after each PDF page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from plan.model import PlanFileError, RawPlan

SUPPORTED = ".docx, .doc, .xlsx, .xls, .pdf, .csv hoặc .yaml"
KINDS = {
    ".docx": "docx",
    ".doc": "doc",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".pdf": "pdf",
    ".csv": "csv",
    ".yaml": "yaml",
    ".yml": "yaml",
}
Progress = Callable[[str, int, int | None], None]


def _read(kind: str, path: Path, name: str, progress: Progress | None) -> RawPlan:
    if kind == "yaml":
        from plan.importers.yaml_plan import read_yaml_plan

        return read_yaml_plan(path)
    if kind == "csv":
        from plan.importers.csv_plan import read_csv_plan

        return read_csv_plan(path)
    if kind == "xlsx":
        from plan.importers.xlsx_plan import read_xlsx_plan

        return read_xlsx_plan(path, name=name)
    if kind == "docx":
        from plan.importers.docx_plan import read_docx_plan

        return read_docx_plan(path, name=name)
    if kind == "pdf":
        from plan.importers.pdf_plan import read_pdf_plan

        pages = (lambda done, total: progress("pages", done, total)) if progress else None
        return read_pdf_plan(path, pages)
    from plan.importers.office import converted  # .doc, .xls

    if progress is not None:
        progress("convert", 0, None)
    with converted(path) as copy:
        return _read(KINDS[copy.suffix], copy, name, None)


def read_plan(path: Path | str, progress: Progress | None = None) -> RawPlan:
    """Read the plan in ``path``; raises :class:`PlanFileError` with one Vietnamese sentence."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise PlanFileError(file, "Không tìm thấy tệp.")
    if not path.is_file():
        raise PlanFileError(file, "Đây là một thư mục, không phải tệp kế hoạch.")
    suffix = path.suffix.lower()
    kind = KINDS.get(suffix)
    if kind is None:
        shown = suffix or "(không có phần mở rộng)"
        raise PlanFileError(file, f"Định dạng tệp {shown} không được hỗ trợ; dùng {SUPPORTED}.")
    from plan.limits import MAX_PLAN_BYTES, check_size

    check_size(path, MAX_PLAN_BYTES, "tệp kế hoạch")  # .docx/.xlsx: their readers check the archive too
    try:
        plan = _read(kind, path, file, progress)
    except OSError as error:
        raise PlanFileError(file, f"Không mở được tệp: {error.strerror or error}.") from error
    plan.file = file
    plan.kind = kind
    return plan
