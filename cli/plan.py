"""``nhacviec plan check|import``: read a plan file (Word, Excel, PDF, CSV, YAML), report its problems, store it.

Reading a long file shows a progress bar on a terminal (Rich, on stderr, gone when done); nothing extra
with --json or when the output is not a terminal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import actor, console, err_console, load_directory, open_store, settings
from plan.errors import UserError
from vocabulary import DEADLINE_KINDS, PLAN_STATUS
from vocabulary import label as word_for

if TYPE_CHECKING:
    from plan.check import CheckedPlan
    from plan.importers import Progress
    from plan.model import RawPlan
    from store.plan_import import ImportSummary

app = typer.Typer(
    help="Đọc, kiểm tra và nhập kế hoạch (tệp .docx, .doc, .xlsx, .xls, .pdf, .csv hoặc .yaml).",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path, typer.Argument(help="Tệp kế hoạch: .docx, .doc, .xlsx, .xls, .pdf (có lớp chữ), .csv hoặc .yaml.")
]
LARGE_FILE_BYTES = 1_000_000  # a progress bar for files this large, and for any PDF or old Office file
TABLE_LIMIT_TASKS = 300  # past this many tasks `plan check` summarises (cli.output.TABLE_LIMIT)
YearOpt = Annotated[int | None, typer.Option("--year", help="Năm của kế hoạch, nếu tệp không ghi rõ.")]


@contextmanager
def reading_progress(file: Path, quiet: bool) -> Iterator[Progress | None]:
    """A transient progress bar for reading a large file on a terminal; None when ``quiet`` or not a TTY."""
    slow = file.suffix.lower() in (".pdf", ".doc", ".xls")
    try:
        large = file.stat().st_size >= LARGE_FILE_BYTES
    except OSError:
        large = False
    if quiet or not err_console.is_terminal or not (slow or large):
        yield None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    from vocabulary import READING_STEPS

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(READING_STEPS["open"], total=None)

        def report(step: str, done: int, total: int | None) -> None:
            bar.update(task, description=READING_STEPS.get(step, step), completed=done, total=total)

        yield report


def read_plan_file(file: Path, *, quiet: bool = False) -> RawPlan:
    """Read any supported plan file (``quiet``: no progress bar)."""
    from plan.importers import read_plan

    with reading_progress(file, quiet) as progress:
        return read_plan(file, progress)


def plan_year(raw: RawPlan, year: int | None, file: Path) -> int:
    from plan.check import infer_year
    from plan.limits import check_year

    if year is not None:
        check_year(year, "năm --year")
    found = year or infer_year(raw)
    if found is None:
        raise UserError(f"Không xác định được năm của kế hoạch trong {file}: hãy thêm --year NĂM.")
    return found


def read_and_check(file: Path, year: int | None, *, quiet: bool = False) -> CheckedPlan:
    """Read any supported plan file and check it against the unit directory (``quiet``: no progress bar)."""
    from plan.check import check_plan

    raw = read_plan_file(file, quiet=quiet)
    return check_plan(raw, load_directory(), plan_year(raw, year, file))


def _print_source(checked: CheckedPlan) -> None:
    from vocabulary import FILE_KINDS

    line = f"Tệp: {FILE_KINDS.get(checked.kind or '', checked.kind or '?')}"
    if checked.pages is not None:
        line += f", đã đọc {checked.pages}/{checked.pages} trang"
    if checked.number:
        line += f"; văn bản số {checked.number}"
    if checked.issued_on:
        line += f" ngày {checked.issued_on:%d/%m/%Y}"
    console.print(line + ".", highlight=False)


def _print_tasks(checked: CheckedPlan, *, show_all: bool = False) -> None:
    from cli.output import print_rows

    rows = []
    for task in checked.tasks:
        deadline = task.deadline
        content = task.raw.content if len(task.raw.content) <= 60 else task.raw.content[:57] + "..."
        rows.append(
            (
                task.code,
                content,
                ", ".join(task.lead),
                ", ".join(task.coordinating),
                task.raw.deadline,
                word_for(DEADLINE_KINDS, deadline.kind) if deadline else "?",
                f"{deadline.due:%d/%m/%Y}" if deadline and deadline.due else "",
            )
        )
    print_rows(
        ("Mã", "Nội dung", "Chủ trì", "Phối hợp", "Thời hạn", "Loại", "Hạn"),
        rows,
        title=f"{checked.file} — năm {checked.year}",
        show_all=show_all,
        summary=lambda: _task_summary(checked),
        hint="--json để có mọi nhiệm vụ",
    )


def _task_summary(checked: CheckedPlan) -> list[str]:
    """What a long plan holds, in a few lines: its tasks by kind of deadline, and by lead unit."""
    from collections import Counter

    kinds = Counter(
        word_for(DEADLINE_KINDS, str(task.deadline.kind)) if task.deadline else "không hiểu được"
        for task in checked.tasks
    )
    leads = Counter(lead for task in checked.tasks for lead in task.lead)
    lines = [
        f"{len(checked.tasks)} nhiệm vụ theo loại thời hạn: "
        + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        + "."
    ]
    top = leads.most_common(10)
    if top:
        rest = len(leads) - len(top)
        lines.append(
            "Chủ trì nhiều nhất: "
            + ", ".join(f"{unit} {count}" for unit, count in top)
            + (f" và {rest} đơn vị khác" if rest > 0 else "")
            + "."
        )
    return lines


def _print_problems(checked: CheckedPlan, *, show_all: bool = True) -> None:
    from cli.output import TABLE_LIMIT

    shown = checked.problems if show_all else checked.problems[:TABLE_LIMIT]
    if shown:
        err_console.file.write("".join(f"{problem}\n" for problem in shown))
        err_console.file.flush()
    if len(shown) < len(checked.problems):
        err_console.print(
            f"... và {len(checked.problems) - len(shown)} lỗi nữa (thêm --all để in hết, --json để có cả danh sách).",
            highlight=False,
            markup=False,
        )
    _print_unknown_units(checked)


def _print_unknown_units(checked: CheckedPlan) -> None:
    for unit in checked.unknown_units:
        where = f"{checked.file}:{unit.rows[0]}" if unit.rows else checked.file
        err_console.print(f"{where}: {unit.message}", highlight=False, markup=False)


@app.command(
    "check",
    help="Đọc tệp kế hoạch, in từng nhiệm vụ với thời hạn đã hiểu và liệt kê mọi lỗi (FILE:DÒNG: lỗi).",
)
def check(
    file: FileArg,
    year: YearOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="In mọi nhiệm vụ và mọi lỗi (mặc định tóm tắt khi quá vài trăm).")
    ] = False,
) -> None:
    checked = read_and_check(file, year, quiet=as_json)
    if as_json:
        from cli.output import write_json_document

        write_json_document(checked.to_json())
    else:
        _print_source(checked)
        _print_tasks(checked, show_all=show_all)
        _print_problems(checked, show_all=show_all or len(checked.tasks) <= TABLE_LIMIT_TASKS)
        unknown = (
            f", {len(checked.unknown_units)} đơn vị chưa có trong danh bạ" if checked.unknown_units else ""
        )
        console.print(f"{len(checked.tasks)} nhiệm vụ, {len(checked.problems)} lỗi{unknown}.")
    if checked.problems:
        raise typer.Exit(1)


def _row(row: int | None) -> str:
    return f"dòng {row}" if row else "—"


def _value(value: object) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value) or "(trống)"
    if value is None or value == "":
        return "(trống)"
    if hasattr(value, "strftime"):
        return f"{value:%d/%m/%Y}"
    return str(value)


def _print_diff(summary: ImportSummary, dry_run: bool) -> None:
    """The diff, row by row: new, changed (field by field), removed, renumbered, to be confirmed."""
    from rich.table import Table

    if not (summary.created or summary.changes or summary.removed or summary.renumbered or summary.questions):
        return
    table = Table(
        "Thay đổi", "Mã", "Dòng", "Chi tiết", title="Những gì " + ("sẽ " if dry_run else "đã ") + "thay đổi"
    )
    for code in summary.created:
        table.add_row("mới", code, _row(summary.rows.get(code)), "")
    for old, new in summary.renumbered:
        table.add_row(
            "đổi mã", f"{old} → {new}", _row(summary.rows.get(new)), "giữ trạng thái và lịch sử của " + old
        )
    for code, fields in summary.changes.items():
        details = "\n".join(f"{name}: {_value(old)} → {_value(new)}" for name, (old, new) in fields.items())
        table.add_row("sửa", code, _row(summary.rows.get(code)), details)
    for code in summary.removed:
        table.add_row("bỏ", code, _row(summary.removed_rows.get(code)), "không còn trong kế hoạch")
    for question in summary.questions:
        options = ", ".join(f"{code} ({ratio:.0%})" for code, ratio in question.candidates)
        table.add_row(
            "cần xác nhận",
            question.new,
            _row(summary.rows.get(question.new)),
            f"có thể là {options}: --match {question.candidates[0][0]}={question.new} hoặc -={question.new}",
        )
    console.print(table)


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
    add_units: Annotated[
        bool,
        typer.Option(
            "--add-units",
            help="Thêm các đơn vị kế hoạch nêu mà danh bạ chưa có (chưa có địa chỉ liên lạc; cần bổ sung sau).",
        ),
    ] = False,
    match: Annotated[
        list[str] | None,
        typer.Option(
            "--match",
            help="Ghép nhiệm vụ khi chưa chắc: MÃ_CŨ=MÃ_MỚI (cùng một nhiệm vụ), MÃ_CŨ=- (bỏ khỏi kế hoạch), "
            "-=MÃ_MỚI (nhiệm vụ mới); lặp lại được.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="In các thay đổi dạng JSON (mới, sửa, bỏ, đổi mã, cần xác nhận).")
    ] = False,
) -> None:
    from plan.check import check_plan
    from plan.rematch import MatchError, parse_choices
    from store.db import session_scope
    from store.directory import add_unlisted_units
    from store.directory import load_directory as directory_of
    from store.plan_import import import_plan

    try:
        choices = parse_choices(match or [])
    except MatchError as error:
        raise UserError(str(error)) from None
    raw = read_plan_file(file, quiet=as_json)
    year = plan_year(raw, year, file)
    engine = open_store()
    with session_scope(engine) as session:
        checked = check_plan(raw, directory_of(session, settings().units_file), year)
        if checked.problems:
            _print_problems(checked)
            raise UserError(
                f"Không nhập: tệp {file} có {len(checked.problems)} lỗi (xem danh sách trên). "
                "Cơ sở dữ liệu giữ nguyên."
            )
        code = plan_code or checked.code or f"KH-{checked.year}"
        added: dict[str, str] = {}
        if add_units and checked.unknown_units:
            added = add_unlisted_units(session, [unit.name for unit in checked.unknown_units], code)
            checked = check_plan(raw, directory_of(session, settings().units_file), year)
        try:
            summary = import_plan(session, checked, code, actor=actor(), choices=choices, dry_run=dry_run)
        except MatchError as error:
            raise UserError(str(error)) from None
        if dry_run:
            session.rollback()
    if as_json:
        import json

        print(json.dumps(summary.to_json() | {"dry_run": dry_run}, ensure_ascii=False, indent=2))
        return
    verb = "Sẽ nhập" if dry_run else "Đã nhập"
    console.print(
        f"{verb} kế hoạch {code}: {len(summary.created)} mới, {len(summary.updated)} cập nhật, "
        f"{len(summary.unchanged)} không đổi, {len(summary.removed)} bị bỏ khỏi kế hoạch"
        + (f", {len(summary.renumbered)} đổi mã" if summary.renumbered else "")
        + "."
    )
    for sample_code in summary.archived_samples:
        console.print(
            f"{'Sẽ lưu trữ' if dry_run else 'Đã lưu trữ'} kế hoạch mẫu {sample_code}: không còn nhắc việc "
            f"(khôi phục bằng 'nhacviec plan restore {sample_code}').",
            highlight=False,
        )
    for label, codes in (("Cập nhật", summary.updated), ("Bỏ khỏi kế hoạch", summary.removed)):
        if codes:
            console.print(f"  {label}: {', '.join(codes)}")
    _print_diff(summary, dry_run)
    for name, unit_code in added.items():
        console.print(
            f"  {'Sẽ thêm' if dry_run else 'Đã thêm'} vào danh bạ: '{name}' ({unit_code}), chưa có địa chỉ liên lạc.",
            highlight=False,
        )
    if checked.unknown_units:
        _print_unknown_units(checked)
        err_console.print(
            f"{len(checked.unknown_units)} đơn vị chưa có trong danh bạ được giữ nguyên như trong kế hoạch; "
            "thêm bằng --add-units hoặc 'nhacviec units add'.",
            highlight=False,
        )


PlanCodeArg = Annotated[str, typer.Argument(help="Mã kế hoạch (xem 'nhacviec plan list').")]


def plan_label(code: str, number: str | None) -> str:
    """How a table or message names a plan: its code, and its document number when known."""
    return f"{code} (Số: {number})" if number else code


@app.command("list", help="Các kế hoạch: mã, tên, số và ngày văn bản, năm, trạng thái, số nhiệm vụ.")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    at: Annotated[
        str | None, typer.Option("--at", help="Ngày xét quá hạn (mặc định: hôm nay), dạng 31/12/2020.")
    ] = None,
) -> None:
    import json

    from rich.table import Table

    from cli.common import parse_date, today
    from store.db import session_scope
    from store.plan_life import list_plans

    day = parse_date(at, "ngày --at") if at else today()
    with session_scope(open_store()) as session:
        views = list_plans(session, day, _effective_due(session))
    if as_json:
        print(json.dumps([view.to_json() for view in views], ensure_ascii=False, indent=2))
        return
    if not views:
        console.print("Chưa có kế hoạch nào: 'nhacviec plan import TỆP'.")
        return
    table = Table(
        "Mã",
        "Tên",
        "Số văn bản",
        "Ngày",
        "Năm",
        "Trạng thái",
        "Kết thúc",
        "Nhiệm vụ",
        "Xong",
        "Quá hạn",
        title=f"Kế hoạch — tính đến {day:%d/%m/%Y}",
    )
    for view in views:
        plan = view.plan
        status = PLAN_STATUS.get(plan.status, plan.status)
        if plan.is_sample:
            status += " (mẫu)"
        table.add_row(
            plan.code,
            plan.title,
            plan.number or "",
            f"{plan.issued_on:%d/%m/%Y}" if plan.issued_on else "",
            str(plan.year),
            status,
            f"{plan.closes_on:%d/%m/%Y}",
            str(view.counts.total),
            str(view.counts.done),
            str(view.counts.overdue),
        )
    console.print(table)


def _effective_due(session):
    """Due date in force -> the day it falls due (next working day), from the working calendar."""
    from store.calendar import working_calendar

    config = settings()
    calendar = working_calendar(session, config.calendar_file, config.send_time)

    def effective(due):
        try:
            return calendar.next_working_day(due)
        except ValueError:  # a year the calendar does not cover
            return due

    return effective


@app.command("archive", help="Lưu trữ một kế hoạch: giữ lịch sử, không nhắc việc nữa.")
def archive(code: PlanCodeArg) -> None:
    from store.db import session_scope
    from store.plan_life import archive_plan

    with session_scope(open_store()) as session:
        plan = archive_plan(session, code)
        name = plan.code
    console.print(
        f"Đã lưu trữ kế hoạch {name}: không còn nhắc việc (khôi phục bằng 'nhacviec plan restore {name}').",
        highlight=False,
    )


@app.command("restore", help="Dùng lại một kế hoạch đã lưu trữ.")
def restore(code: PlanCodeArg) -> None:
    from store.db import session_scope
    from store.plan_life import restore_plan

    with session_scope(open_store()) as session:
        plan = restore_plan(session, code)
        name = plan.code
    console.print(f"Đã khôi phục kế hoạch {name}: nhắc việc lại từ lần chạy tới.", highlight=False)


@app.command("remove", help="Xoá hẳn một kế hoạch; toàn bộ lịch sử được ghi ra một tệp JSON trước khi xoá.")
def remove(
    code: PlanCodeArg,
    yes: Annotated[bool, typer.Option("--yes", help="Không hỏi lại.")] = False,
) -> None:
    from store.db import session_scope
    from store.plan_life import find_plan, remove_plan

    engine = open_store()
    with session_scope(engine) as session:
        plan = find_plan(session, code)
        name = plan.code
    if not yes:
        import sys

        if not sys.stdin.isatty():
            raise UserError(f"Không xoá kế hoạch {name}: cần xác nhận; chạy lại với --yes để xoá không hỏi.")
        confirmed = typer.confirm(
            f"Xoá hẳn kế hoạch {name} cùng mọi nhiệm vụ và lịch sử của nó (lịch sử được ghi ra tệp)?",
            default=False,
        )
        if not confirmed:
            console.print("Không xoá gì.")
            raise typer.Exit(1)
    with session_scope(engine) as session:
        name, path = remove_plan(session, name, settings().data_dir / "exports")
    console.print(f"Đã xoá kế hoạch {name}; lịch sử của nó được ghi vào {path}.", highlight=False)


@app.command(
    "set", help="Đặt ngày kết thúc của kế hoạch (mặc định 31/3 năm sau): sau ngày đó không báo quá hạn nữa."
)
def set_(
    code: PlanCodeArg,
    closing: Annotated[
        str | None,
        typer.Option(
            "--closing", help="Ngày kết thúc, dạng 31/03/2027; 'default' để về mặc định (31/3 năm sau)."
        ),
    ] = None,
) -> None:
    from cli.common import parse_date
    from store.db import session_scope
    from store.plan_life import set_closing

    if closing is None:
        raise UserError("Cần cho biết điều cần đặt, ví dụ --closing 31/03/2027.")
    day = (
        None if closing.strip().lower() in ("default", "mặc định") else parse_date(closing, "ngày --closing")
    )
    with session_scope(open_store()) as session:
        plan = set_closing(session, code, day)
        name, closes = plan.code, plan.closes_on
    console.print(f"Kế hoạch {name} kết thúc ngày {closes:%d/%m/%Y}.", highlight=False)
