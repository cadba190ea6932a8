"""``nhacviec simulate``: the timeline of notifications the plan and rules produce, before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import console, load_directory, open_store, parse_date, settings, when
from plan.errors import UserError
from planner.describe import concerns_unit, recipients_text, subject_text
from vocabulary import KIND_SHORT, label

if TYPE_CHECKING:
    from planner.model import Notification
    from rules.model import Rule


def parse_done(values: Sequence[str]) -> dict[str, date]:
    """``--done CODE=DATE`` options: hypothetical completions."""
    done: dict[str, date] = {}
    for value in values:
        code, sep, day = value.partition("=")
        if not sep or not code.strip():
            raise UserError(f"--done '{value}' không đúng dạng MÃ=NGÀY (ví dụ --done IV.4=20/11/2020).")
        done[code.strip().upper()] = parse_date(day, f"ngày hoàn thành của {code.strip()}")
    return done


def timeline(
    start: date,
    end: date,
    *,
    rules: list[Rule] | None = None,
    done: dict[str, date] | None = None,
    plan_code: str | None = None,
) -> list[Notification]:
    """Plan from the database's tasks and rules (or the given rules), with hypothetical completions."""
    from planner.model import StatusChange
    from planner.planner import plan_notifications
    from store.calendar import working_calendar
    from store.db import session_scope
    from store.planner_input import load_planner_input
    from store.rules import load_rules

    if end < start:
        raise UserError(f"--to ({end:%d/%m/%Y}) phải không trước --from ({start:%d/%m/%Y}).")
    config = settings()
    with session_scope(open_store()) as session:
        inputs = load_planner_input(session, load_directory(), plan_code, config.tz)
        current_rules = rules if rules is not None else load_rules(session)
        calendar = working_calendar(session, config.calendar_file, config.send_time, config.timezone)
    if not inputs.tasks:
        raise UserError(
            "Chưa có nhiệm vụ nào trong cơ sở dữ liệu. Hãy chạy 'nhacviec init' hoặc 'nhacviec plan import'."
        )
    if done:
        known = {t.code for t in inputs.tasks}
        unknown = sorted(set(done) - known)
        if unknown:
            raise UserError(f"--done: không có nhiệm vụ mã {', '.join(unknown)}.")
        tasks = [
            replace(t, changes=(*t.changes, StatusChange(done[t.code], "done"))) if t.code in done else t
            for t in inputs.tasks
        ]
        inputs = replace(inputs, tasks=tasks)
    return plan_notifications(inputs, current_rules, calendar, start, end)


def timeline_rows(notifications: list[Notification]) -> list[tuple[str, ...]]:
    return [
        (
            when(n.at),
            label(KIND_SHORT, n.kind),
            n.rule,
            subject_text(n),
            str(n.level or ""),
            recipients_text(n),
        )
        for n in notifications
    ]


def timeline_summary(notifications: list[Notification]) -> list[str]:
    """Per month, how many notifications of each kind (what a long timeline shows instead of every row)."""
    from collections import Counter

    months: dict[str, Counter[str]] = {}
    for n in notifications:
        months.setdefault(f"{n.at:%m/%Y}", Counter())[label(KIND_SHORT, n.kind)] += 1
    return [
        f"Tháng {month}: {sum(kinds.values())} thông báo ("
        + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        + ")"
        for month, kinds in months.items()
    ]


def print_timeline(notifications: list[Notification], title: str, *, show_all: bool = False) -> None:
    from cli.output import print_rows

    print_rows(
        ("Lúc", "Loại", "Quy tắc", "Nhiệm vụ / kỳ", "Bậc", "Người nhận"),
        timeline_rows(notifications),
        title=title,
        show_all=show_all,
        summary=lambda: ["Tóm tắt theo tháng:", *timeline_summary(notifications)],
        hint="--json hoặc --jsonl để xử lý bằng máy",
    )
    console.print(f"{len(notifications)} thông báo.")


def _plan_of_task(code: str) -> str:
    """The plan of task ``code`` among the active plans; refused when several have it (choose with --plan)."""
    from store.db import session_scope
    from store.tasks import find_task, plan_of

    with session_scope(open_store()) as session:
        return plan_of(session, find_task(session, code)).code


def simulate(
    from_: Annotated[str, typer.Option("--from", help="Từ ngày (31/12/2020 hoặc 2020-12-31).")],
    to: Annotated[str, typer.Option("--to", help="Đến ngày (tính cả ngày này).")],
    task: Annotated[str | None, typer.Option("--task", help="Chỉ nhiệm vụ này (mã, ví dụ IV.4).")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Chỉ những gì liên quan tới đơn vị này.")] = None,
    done: Annotated[
        list[str] | None,
        typer.Option("--done", help="Giả sử nhiệm vụ hoàn thành ngày đó: MÃ=NGÀY (lặp lại được)."),
    ] = None,
    rules_file: Annotated[
        Path | None, typer.Option("--rules", help="Thử với tệp quy tắc này thay cho quy tắc đang dùng.")
    ] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="Chỉ kế hoạch này (mặc định: mọi kế hoạch).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In danh sách JSON (gọn, ghi dần).")] = False,
    as_jsonl: Annotated[
        bool, typer.Option("--jsonl", help="In JSON Lines: mỗi thông báo một dòng JSON.")
    ] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="In mọi dòng của bảng (mặc định tóm tắt khi quá vài trăm dòng).")
    ] = False,
) -> None:
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    rules = None
    if rules_file is not None:
        from store.rules import read_rules_file

        rules = read_rules_file(rules_file)
    from cli.output import progress

    with progress("Đang lập lịch thông báo..."):
        notifications = timeline(start, end, rules=rules, done=parse_done(done or []), plan_code=plan)
    if task:
        task_plan = plan or _plan_of_task(task)
        notifications = [
            n for n in notifications if (n.task or "").upper() == task.strip().upper() and n.plan == task_plan
        ]
    if unit:
        codes = load_directory().resolve(unit)
        notifications = [n for n in notifications if any(concerns_unit(n, code) for code in codes)]
    if as_json or as_jsonl:
        from cli.output import write_json, write_jsonl

        (write_jsonl if as_jsonl else write_json)(n.to_json() for n in notifications)
        return
    print_timeline(notifications, f"Dự kiến gửi từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}", show_all=show_all)
