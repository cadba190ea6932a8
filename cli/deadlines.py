"""``nhacviec deadline``: check how deadline phrases are read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, today
from plan.errors import UserError


def deadline(
    phrases: Annotated[
        list[str] | None, typer.Argument(help="Các cụm từ thời hạn, mỗi cụm trong một cặp ngoặc kép.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Tệp văn bản, mỗi dòng một cụm từ thời hạn.")
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="Năm của kế hoạch (mặc định: năm nay).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In mỗi kết quả thành một dòng JSON.")] = False,
) -> None:
    from plan.deadline import DeadlineError, parse_deadline
    from plan.limits import check_year, read_text_file

    if year is not None:
        check_year(year, "năm --year")  # the working calendar's years, as every other command
    texts = list(phrases or [])
    if file is not None:
        from_file = [line for line in read_text_file(file, "tệp thời hạn").splitlines() if line.strip()]
        if not from_file and not texts:
            raise UserError(f"Tệp {file} không có cụm từ thời hạn nào: hãy ghi mỗi dòng một cụm từ.")
        texts += from_file
    if not texts:
        raise UserError("Hãy cho ít nhất một cụm từ thời hạn, hoặc --file TỆP.")
    plan_year = year or today().year

    failed = 0
    table = Table("Cụm từ", "Loại", "Bắt đầu", "Hạn", "Số lần", "Ghi chú", title=f"Năm kế hoạch {plan_year}")
    for text in texts:
        try:
            result = parse_deadline(text, plan_year)
        except DeadlineError as error:
            failed += 1
            if as_json:
                print(json.dumps(error.to_json(), ensure_ascii=False))
            else:
                table.add_row(text, "[red]không đọc được[/]", "", "", "", error.reason)
            continue
        if as_json:
            print(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            table.add_row(
                result.text,
                str(result.kind),
                f"{result.start:%d/%m/%Y}" if result.start else "",
                f"{result.due:%d/%m/%Y}" if result.due else "",
                str(len(result.occurrences)),
                str(result.offset) if result.offset else "",
            )
    if not as_json:
        console.print(table)
    if failed:
        raise typer.Exit(1)
