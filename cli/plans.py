"""``nhacviec plan check|import``: read a plan file (YAML, CSV, XLSX, DOCX), report its problems, store it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.common import actor, console, err_console, load_directory, open_store
from plan.errors import UserError

if TYPE_CHECKING:
    from plan.check import CheckedPlan

app = typer.Typer(
    help="Đọc, kiểm tra và nhập kế hoạch (tệp .docx, .xlsx, .csv hoặc .yaml).", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="Tệp kế hoạch: .docx, .xlsx, .csv hoặc .yaml.")]
YearOpt = Annotated[int | None, typer.Option("--year", help="Năm của kế hoạch, nếu tệp không ghi rõ.")]


def read_and_check(file: Path, year: int | None) -> CheckedPlan:
    """Read any supported plan file and check it against the unit directory."""
    from plan.check import check_plan, infer_year
    from plan.importers import read_plan

    raw = read_plan(file)
    plan_year = year or infer_year(raw)
    if plan_year is None:
        raise UserError(f"Không xác định được năm của kế hoạch trong {file}: hãy thêm --year NĂM.")
    return check_plan(raw, load_directory(), plan_year)


def _print_tasks(checked: CheckedPlan) -> None:
    table = Table(
        "Mã",
        "Nội dung",
        "Chủ trì",
        "Phối hợp",
        "Thời hạn",
        "Loại",
        "Hạn",
        title=f"{checked.file} — năm {checked.year}",
    )
    for task in checked.tasks:
        deadline = task.deadline
        content = task.raw.content if len(task.raw.content) <= 60 else task.raw.content[:57] + "..."
        table.add_row(
            task.code,
            content,
            ", ".join(task.lead),
            ", ".join(task.coordinating),
            task.raw.deadline,
            str(deadline.kind) if deadline else "[red]?[/]",
            f"{deadline.due:%d/%m/%Y}" if deadline and deadline.due else "",
        )
    console.print(table)


def _print_problems(checked: CheckedPlan) -> None:
    for problem in checked.problems:
        err_console.print(str(problem), highlight=False, markup=False)


@app.command(
    "check",
    help="Đọc tệp kế hoạch, in từng nhiệm vụ với thời hạn đã hiểu và liệt kê mọi lỗi (FILE:DÒNG: lỗi).",
)
def check(
    file: FileArg,
    year: YearOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    checked = read_and_check(file, year)
    if as_json:
        print(json.dumps(checked.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_tasks(checked)
        _print_problems(checked)
        console.print(f"{len(checked.tasks)} nhiệm vụ, {len(checked.problems)} lỗi.")
    if checked.problems:
        raise typer.Exit(1)


@app.command(
    "import",
    help="Nhập kế hoạch vào cơ sở dữ liệu: tất cả hoặc không gì cả; nhập lại sẽ cập nhật theo mã nhiệm vụ.",
)
def import_(
    file: FileArg,
    year: YearOpt = None,
    plan_code: Annotated[
        str | None, typer.Option("--plan", help="Mã kế hoạch (mặc định: mã ghi trong tệp, hoặc KH-NĂM).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Chỉ kiểm tra và cho biết sẽ thay đổi gì, không ghi.")
    ] = False,
) -> None:
    from store.db import session_scope
    from store.plans import import_plan, sync_units

    checked = read_and_check(file, year)
    if checked.problems:
        _print_problems(checked)
        raise UserError(
            f"Không nhập: tệp {file} có {len(checked.problems)} lỗi (xem danh sách trên). Cơ sở dữ liệu giữ nguyên."
        )
    code = plan_code or checked.code or f"KH-{checked.year}"
    engine = open_store()
    with session_scope(engine) as session:
        sync_units(session, load_directory())
        summary = import_plan(session, checked, code, actor=actor())
        if dry_run:
            session.rollback()
    verb = "Sẽ nhập" if dry_run else "Đã nhập"
    console.print(
        f"{verb} kế hoạch {code}: {len(summary.created)} mới, {len(summary.updated)} cập nhật, "
        f"{len(summary.unchanged)} không đổi, {len(summary.removed)} bị bỏ khỏi kế hoạch."
    )
    for label, codes in (("Cập nhật", summary.updated), ("Bỏ khỏi kế hoạch", summary.removed)):
        if codes:
            console.print(f"  {label}: {', '.join(codes)}")
