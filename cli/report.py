"""``nhacviec report``: the Office's report on the plan's execution, drafted as .docx or .xlsx.

(``nhacviec reports`` records the units' reports received; ``report-request`` asks them for one.)
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, open_store, parse_date, settings, today
from cli.output_files import check_output_file, writing
from plan.errors import UserError

app = typer.Typer(
    help="Báo cáo kết quả thực hiện kế hoạch (quý I, 6 tháng, 9 tháng, năm, đột xuất) dưới dạng .docx/.xlsx.",
    no_args_is_help=True,
)

FORMATS = (".docx", ".xlsx")


def compute(period: str, year: int | None, plan: str | None, at: date):
    """The report's figures and letterhead from the database."""
    from store.db import session_scope
    from store.report_data import build_report

    with session_scope(open_store()) as session:
        return build_report(session, settings(), period, year, plan, at)


@app.command("build", help="Lập dự thảo báo cáo kết quả thực hiện kế hoạch của một kỳ (.docx hoặc .xlsx).")
def build_command(
    period: Annotated[
        str, typer.Option("--period", help="Kỳ báo cáo: Q1, H1 (6 tháng), 9M (9 tháng), Y (năm) hoặc adhoc.")
    ],
    year: Annotated[
        int | None, typer.Option("--year", help="Năm của kế hoạch (mặc định: năm của kế hoạch mới nhất).")
    ] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="Mã kế hoạch (mặc định: kế hoạch của năm).")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Ngày lập báo cáo (mặc định: hôm nay), dạng 20/03/2020; báo cáo đột xuất chốt số liệu ngày này.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Tệp sẽ ghi: BAO-CAO.docx hoặc BAO-CAO.xlsx.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Chỉ tính số liệu, không ghi tệp.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="In số liệu dạng JSON.")] = False,
) -> None:
    if out is None and not dry_run:
        raise UserError(
            "Cần chỉ tệp sẽ ghi bằng --out (ví dụ --out bao-cao-quy-1.docx), hoặc dùng --dry-run."
        )
    if out is not None and not dry_run and out.suffix.lower() not in FORMATS:
        raise UserError(f"Tệp báo cáo phải có đuôi .docx hoặc .xlsx (nhận được «{out.name}»).")
    if out is not None and not dry_run:
        check_output_file(out, "tệp báo cáo")
    day = parse_date(at, "ngày lập báo cáo --at") if at else today()
    report, letterhead = compute(period, year, plan, day)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    elif dry_run:
        _print_summary(report)
    if dry_run or out is None:
        return
    from report.text import title_lines

    with writing(out, "tệp báo cáo"):
        if out.suffix.lower() == ".docx":
            from report.docx_writer import write_docx

            write_docx(report, letterhead, out)
        else:
            from report.xlsx_writer import write_xlsx

            write_xlsx(report, letterhead, out)
    message = f"Đã ghi {' '.join(title_lines(report))} vào {out}."
    if as_json:
        typer.echo(message, err=True)
    else:
        console.print(message, highlight=False)


def _print_summary(report) -> None:
    from report.text import UNIT_HEADERS, comparison, general, title_lines, unit_row

    console.print(" ".join(title_lines(report)), style="bold", highlight=False)
    for text in [*general(report), *comparison(report)]:
        console.print(text, highlight=False)
    table = Table(*UNIT_HEADERS)
    for number, unit in enumerate(report.units, start=1):
        table.add_row(*unit_row(number, unit))
    console.print(table)
    for difficulty in report.difficulties:
        console.print(f"- {difficulty.text}", highlight=False)
