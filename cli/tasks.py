"""``nhacviec tasks``: list tasks, show one with its history, and change its status."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.common import actor, console, open_store, parse_date, today
from vocabulary import DEADLINE_KINDS, EVENT_DATED, EVENTS, VIA
from vocabulary import TASK_STATUS as STATUS_LABELS

if TYPE_CHECKING:
    from planner.calendar import WorkingCalendar
    from store.tasks import TaskView

app = typer.Typer(
    help="Xem nhiệm vụ và cập nhật trạng thái (hoàn thành, gia hạn, đặt hạn).", no_args_is_help=True
)

PlanOpt = Annotated[str | None, typer.Option("--plan", help="Mã kế hoạch (mặc định: kế hoạch mới nhất).")]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="Ngày xét (mặc định: hôm nay), dạng 31/12/2020 hoặc 2020-12-31.")
]

PeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="Kỳ của việc định kỳ: 2026-11 (tháng), 2026-Q3 (quý), 2026-H1 (6 tháng), 2026 (năm); "
        "mặc định: kỳ hiện hành tại --at.",
    ),
]

STATUS_STYLES = {"overdue": "bold red", "done": "green", "removed": "dim"}


def _day(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def _at(value: str | None) -> date:
    return parse_date(value, "ngày --at") if value else today()


@app.command("list", help="Danh sách nhiệm vụ: mã, nội dung, đơn vị chủ trì, hạn, trạng thái.")
def list_(
    plan: PlanOpt = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Đơn vị (mã hoặc tên, như 'Phòng TCCB').")
    ] = None,
    status: Annotated[str | None, typer.Option("--status", help="open | done | removed")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Chỉ các nhiệm vụ quá hạn chưa hoàn thành.")
    ] = False,
    at: AtOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    from cli.common import load_directory
    from plan.errors import UserError
    from store.db import session_scope
    from store.tasks import list_tasks

    day = _at(at)
    if status and status not in ("open", "done", "removed"):
        raise UserError(
            f"Trạng thái '{status}' không hợp lệ: dùng open, done hoặc removed (quá hạn: --overdue)."
        )
    unit_code = None
    if unit:
        directory = load_directory()
        codes = directory.resolve(unit)
        if len(codes) != 1:
            raise UserError(f"'{unit}' chỉ nhiều đơn vị ({', '.join(codes)}); hãy chọn một.")
        unit_code = codes[0]
    with session_scope(open_store()) as session:
        views = list_tasks(
            session,
            plan_code=plan,
            unit=unit_code,
            status=status,
            overdue_at=day if overdue else None,
            calendar=_calendar(session),
        )
    if as_json:
        print(json.dumps([view.to_json(day) for view in views], ensure_ascii=False, indent=2))
        return
    _print_table(views, day)


def _calendar(session):
    from cli.common import settings
    from store.calendar import working_calendar

    config = settings()
    return working_calendar(session, config.calendar_file, config.send_time)


def _print_table(views: list[TaskView], day: date) -> None:
    title = (
        f"Kế hoạch {views[0].plan_code} — tính đến {day:%d/%m/%Y}" if views else "Không có nhiệm vụ nào khớp."
    )
    table = Table("Mã", "Nội dung", "Chủ trì", "Hạn", "Thời hạn ghi trong KH", "Trạng thái", title=title)
    for view in views:
        task = view.task
        content = task.content if len(task.content) <= 70 else task.content[:67] + "..."
        state = view.display_status(day)
        style = STATUS_STYLES.get(state, "")
        label = STATUS_LABELS.get(state, state)
        table.add_row(
            task.code,
            content,
            ", ".join(view.lead),
            _day(view.due),
            task.deadline_text,
            f"[{style}]{label}[/]" if style else label,
        )
    console.print(table)


@app.command("show", help="Chi tiết một nhiệm vụ, các kỳ (việc định kỳ) và lịch sử thay đổi trạng thái.")
def show(
    code: str,
    plan: PlanOpt = None,
    at: AtOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON (kèm các kỳ và lịch sử).")] = False,
) -> None:
    from store.db import session_scope
    from store.tasks import event_in_force, event_offset, find_task, history, list_tasks, plan_of

    day = _at(at)
    with session_scope(open_store()) as session:
        task = find_task(session, code, plan)
        view = next(
            v
            for v in list_tasks(
                session,
                plan_code=plan_of(session, task).code,
                include_removed=True,
                calendar=_calendar(session),
            )
            if v.task.id == task.id
        )
        events = history(session, task)
    from_event = event_in_force(events)
    offset = event_offset(task, view.plan_year)
    if as_json:
        data = view.to_json(day) | {
            "event": {
                "date": from_event.event_on.isoformat() if from_event.event_on else None,
                "due": from_event.new_due.isoformat() if from_event.new_due else None,
                "offset": offset.to_json() if offset else None,
            }
            if from_event
            else None,
            "history": [
                {
                    "at": event.at.isoformat(),
                    "kind": event.kind,
                    "effective_on": event.effective_on.isoformat() if event.effective_on else None,
                    "period": event.period,
                    "actor": event.actor,
                    "via": event.via,
                    "old_due": event.old_due.isoformat() if event.old_due else None,
                    "new_due": event.new_due.isoformat() if event.new_due else None,
                    "note": event.note,
                    "event_on": event.event_on.isoformat() if event.event_on else None,
                }
                for event in events
            ],
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{task.code}[/] — {view.section_code}. {view.section_title}", highlight=False)
    console.print(task.content, highlight=False)
    rows = [
        ("Sản phẩm", "; ".join(task.products)),
        ("Chủ trì", ", ".join(view.lead)),
        ("Phối hợp", ", ".join(view.coordinating) or "—"),
        ("Thời hạn (theo KH)", task.deadline_text),
        (
            "Cách hiểu",
            f"{DEADLINE_KINDS.get(task.deadline_kind, task.deadline_kind)}; bắt đầu {_day(task.start) or '—'}; hạn {_day(task.due) or '—'}",
        ),
        ("Hạn hiện hành", _due_text(view)),
    ]
    if offset is not None:
        kind = EVENT_DATED.format(day=_day(from_event.event_on)) if from_event else DEADLINE_KINDS["event"]
        rows[4] = ("Cách hiểu", f"{kind}; hạn là {offset}")
    if from_event is not None:
        rows.append(("Ngày xảy ra sự kiện", _day(from_event.event_on)))
        rows.append(("Hạn tính từ sự kiện", _day(from_event.new_due)))
    rows += [
        ("Trạng thái", STATUS_LABELS.get(view.display_status(day), task.status)),
    ]
    if task.note:
        rows.append(("Ghi chú (theo KH)", task.note.replace("\n", "; ")))
    for entry in task.unlisted_units or []:
        role = "Chủ trì" if entry.get("role") == "lead" else "Phối hợp"
        rows.append((f"{role} (chưa có trong danh bạ)", entry.get("name", "")))
    for label, value in rows:
        console.print(f"  [bold]{label}:[/] {value}", highlight=False)
    if view.occurrences:
        periods = Table("Kỳ", "Hạn", "Trạng thái", "Hoàn thành ngày", title="Các kỳ (việc định kỳ)")
        for occurrence in view.occurrences:
            state = _occurrence_state(occurrence, day)
            style = STATUS_STYLES.get(state, "")
            text = STATUS_LABELS.get(state, state)
            due = _day(occurrence.effective_due)
            if occurrence.due_override:
                due += f" (gia hạn từ {_day(occurrence.due)})"
            periods.add_row(
                occurrence.period, due, f"[{style}]{text}[/]" if style else text, _day(occurrence.done_on)
            )
        console.print(periods)
    table = Table(
        "Lúc", "Sự kiện", "Kỳ", "Ngày hiệu lực", "Người", "Qua", "Hạn cũ → mới", "Ghi chú", title="Lịch sử"
    )
    for event in events:
        dues = f"{_day(event.old_due)} → {_day(event.new_due)}" if event.old_due or event.new_due else ""
        if event.event_on:
            dues += f" (sự kiện ngày {_day(event.event_on)})"
        table.add_row(
            f"{event.at:%d/%m/%Y %H:%M}",
            EVENTS.get(event.kind, event.kind),
            event.period or "",
            _day(event.effective_on),
            event.actor,
            VIA.get(event.via, event.via),
            dues,
            event.note or "",
        )
    console.print(table)


@app.command(
    "export",
    help="Xuất nhiệm vụ ra tệp Excel (.xlsx) theo mẫu kế hoạch: STT, nội dung, chủ trì, phối hợp, sản phẩm, "
    "thời hạn, hạn hiện hành, trạng thái, ngày hoàn thành, ghi chú, gia hạn.",
)
def export(
    file: Annotated[Path, typer.Argument(help="Tệp .xlsx sẽ ghi, ví dụ ke-hoach.xlsx.", metavar="TỆP")],
    plan: PlanOpt = None,
    at: AtOpt = None,
) -> None:
    from cli.output_files import check_output_file, writing
    from plan.errors import UserError
    from store.db import session_scope
    from store.export import export_plan
    from store.tasks import get_plan
    from web.queries import unit_names

    if file.suffix.lower() != ".xlsx":
        raise UserError(f"Tệp {file} phải có đuôi .xlsx (ví dụ ke-hoach.xlsx).")
    check_output_file(file, "tệp nhiệm vụ")
    day = _at(at)
    with session_scope(open_store()) as session:
        chosen = get_plan(session, plan)
        with writing(file, "tệp nhiệm vụ"):
            _, count = export_plan(session, chosen, day, unit_names(session), target=file)
    console.print(f"Đã xuất {count} nhiệm vụ của kế hoạch {chosen.code} ra {file}.", highlight=False)


def _due_text(view: TaskView) -> str:
    written = view.written_due
    if written is None:
        return "chưa có — cần đặt hạn ('tasks set-due')"
    due = view.due
    if due is not None and due != written:
        from templates.context import vn_weekday

        return f"{_day(due)}, {vn_weekday(due).lower()} ({_day(written)} là ngày nghỉ: hạn là ngày làm việc kế tiếp)"
    return _day(written)


def _occurrence_state(occurrence: object, day: date) -> str:
    status = str(getattr(occurrence, "status", ""))
    due = getattr(occurrence, "effective_due", None)
    if status == "open" and due is not None and due < day:
        return "overdue"
    return status


@app.command("grid", help="Bảng theo kỳ của việc định kỳ: mỗi đơn vị chủ trì một dòng, mỗi kỳ một cột.")
def grid(
    code: str,
    plan: PlanOpt = None,
    at: AtOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    from cli.common import load_directory
    from store.db import session_scope
    from store.tasks import find_task, list_tasks, task_grid

    day = _at(at)
    with session_scope(open_store()) as session:
        task = find_task(session, code, plan)
        view = next(
            v for v in list_tasks(session, plan_code=plan, include_removed=True) if v.task.id == task.id
        )
        data = task_grid(view, day)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    directory = load_directory()
    table = Table(
        "Đơn vị",
        *[str(p) for p in data["periods"]],  # type: ignore[attr-defined]
        title=f"{data['code']} ({data['plan']}) — tính đến {day:%d/%m/%Y}",
    )
    marks = {"done": "[green]✓ {done}[/]", "overdue": "[bold red]quá hạn[/]", "open": "hạn {due}"}
    for row in data["rows"]:  # type: ignore[attr-defined]
        unit = directory.get(row["unit"])
        cells = [
            marks[c["status"]].format(
                done=f"{date.fromisoformat(c['done_on']):%d/%m}" if c["done_on"] else "",
                due=f"{date.fromisoformat(c['due']):%d/%m}",
            )
            for c in row["cells"]
        ]
        table.add_row(unit.name if unit else row["unit"], *cells)
    console.print(table)


@app.command("done", help="Đánh dấu nhiệm vụ đã hoàn thành.")
def done(
    code: str,
    note: Annotated[
        str | None, typer.Option("--note", help="Ghi chú (số văn bản, sản phẩm đã nộp...).")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="Ngày hoàn thành (mặc định: hôm nay).")] = None,
    plan: PlanOpt = None,
    period: PeriodOpt = None,
) -> None:
    from store.db import session_scope
    from store.tasks import find_task, mark_done

    day = _at(at)
    with session_scope(open_store()) as session:
        task = find_task(session, code, plan)
        occurrence = mark_done(session, task, on=day, actor=actor(), via="cli", note=note, period=period)
    what = f"{task.code} kỳ {occurrence.period}" if occurrence else task.code
    console.print(f"Đã ghi nhận {what} hoàn thành ngày {day:%d/%m/%Y}.", highlight=False)


@app.command("reopen", help="Mở lại một nhiệm vụ đã đánh dấu hoàn thành nhầm.")
def reopen(
    code: str,
    note: Annotated[str | None, typer.Option("--note", help="Lý do mở lại.")] = None,
    plan: PlanOpt = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="Kỳ của việc định kỳ (mặc định: kỳ hoàn thành gần nhất)."),
    ] = None,
) -> None:
    from store.db import session_scope
    from store.tasks import find_task
    from store.tasks import reopen as reopen_task

    with session_scope(open_store()) as session:
        task = find_task(session, code, plan)
        occurrence = reopen_task(
            session, task, on=today(), actor=actor(), via="cli", note=note, period=period
        )
    what = f"{task.code} kỳ {occurrence.period}" if occurrence else task.code
    console.print(f"Đã mở lại nhiệm vụ {what}.", highlight=False)


@app.command("extend", help="Gia hạn nhiệm vụ đến một ngày mới, kèm lý do.")
def extend(
    code: str,
    to: Annotated[str, typer.Option("--to", help="Hạn mới, dạng 31/12/2020.")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do gia hạn.")],
    plan: PlanOpt = None,
    period: PeriodOpt = None,
    at: AtOpt = None,
) -> None:
    from store.db import session_scope
    from store.tasks import extend as extend_task
    from store.tasks import find_task

    new_due = parse_date(to, "hạn mới --to")
    with session_scope(open_store()) as session:
        task = find_task(session, code, plan)
        occurrence = extend_task(
            session, task, to=new_due, reason=reason, on=_at(at), actor=actor(), via="cli", period=period
        )
    what = f"{task.code} kỳ {occurrence.period}" if occurrence else task.code
    console.print(f"Đã gia hạn {what} đến {new_due:%d/%m/%Y}.", highlight=False)


@app.command(
    "set-due",
    help="Đặt hạn cho nhiệm vụ chưa có ngày cụ thể ('Theo Kế hoạch', 'Sau khi ...'); với thời hạn tính từ một "
    "sự kiện ('Trong 30 ngày kể từ khi ...'), --event NGÀY tính hạn từ ngày xảy ra sự kiện.",
)
def set_due(
    code: str,
    due: Annotated[
        str | None, typer.Argument(help="Hạn, dạng 31/12/2020 (bỏ trống khi dùng --event).", metavar="[NGÀY]")
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            help="Ngày xảy ra sự kiện (dạng 15/09/2020): hạn được tính theo thời hạn ghi trong kế hoạch "
            "(ngày, ngày làm việc theo lịch nghỉ của cơ quan, tuần, tháng).",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Căn cứ đặt hạn.")] = None,
    plan: PlanOpt = None,
) -> None:
    from plan.errors import UserError
    from store.db import session_scope
    from store.tasks import event_offset, find_task, plan_of, set_due_from_event
    from store.tasks import set_due as set_task_due

    if (due is None) == (event is None):
        raise UserError(
            "Cần ghi một trong hai: hạn (ví dụ 'nhacviec tasks set-due II.2 30/09/2020') hoặc ngày xảy ra sự kiện "
            "(ví dụ 'nhacviec tasks set-due II.2 --event 15/09/2020'), không ghi cả hai."
        )
    if due is not None:
        day = parse_date(due, "hạn")
        with session_scope(open_store()) as session:
            task = find_task(session, code, plan)
            set_task_due(session, task, due=day, on=today(), actor=actor(), via="cli", note=note)
        console.print(f"Đã đặt hạn {task.code}: {day:%d/%m/%Y}.")
        return
    assert event is not None
    happened = parse_date(event, "ngày xảy ra sự kiện --event")
    with session_scope(open_store()) as session:
        task = find_task(session, code, plan)
        calendar = _calendar(session)
        computed = set_due_from_event(
            session,
            task,
            event=happened,
            calendar=calendar,
            on=today(),
            actor=actor(),
            via="cli",
            note=note,
        )
        offset = event_offset(task, plan_of(session, task).year)
        moved = _moved_off_day_off(calendar, computed)
    line = (
        f"Đã đặt hạn {task.code}: {computed:%d/%m/%Y} ({offset} ngày {happened:%d/%m/%Y})"
        if offset
        else f"Đã đặt hạn {task.code}: {computed:%d/%m/%Y}"
    )
    if moved is not None:
        line += f"; {computed:%d/%m/%Y} là ngày nghỉ nên hạn là {moved:%d/%m/%Y}"
    console.print(line + ".", highlight=False)


def _moved_off_day_off(calendar: WorkingCalendar, due: date) -> date | None:
    """The next working day when ``due`` is a day off (the rule every due date follows), else None."""
    try:
        moved = calendar.next_working_day(due)
    except ValueError:  # a year the calendar does not cover
        return None
    return moved if moved != due else None
