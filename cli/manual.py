"""``nhacviec remind``, ``digest``, ``report-request``: send one now, through the outbox, outside the schedule."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.common import console, load_directory, now, open_store, parse_date, parse_datetime, settings, when
from plan.errors import UserError
from vocabulary import CHANNEL_LABELS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from config.settings import Settings
    from delivery.manual import ManualBatch
    from plan.units import Directory
    from planner.calendar import WorkingCalendar
    from planner.model import Notification
    from planner.planner import PlannerInput
    from rules.model import Rule


AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at", help="Gửi như thể lúc này là thời điểm đó, ví dụ '2020-12-01 07:30' (mặc định: bây giờ)."
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Chỉ xem sẽ gửi gì, cho ai; không gửi, không ghi vào hộp thư đi.")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Gửi lại cả khi hôm nay đã gửi tin này.")]


@dataclass
class _Store:
    """What every trigger reads before building its messages."""

    config: Settings
    engine: Engine
    directory: Directory
    inputs: PlannerInput
    rules: list[Rule]
    calendar: WorkingCalendar
    latest_plan: str | None


def _load() -> _Store:
    from store.calendar import working_calendar
    from store.db import session_scope
    from store.planning import load_planner_input, plans_for
    from store.rules import load_rules

    config = settings()
    engine = open_store()
    directory = load_directory()
    with session_scope(engine) as session:
        inputs = load_planner_input(session, directory)
        rules = load_rules(session)
        calendar = working_calendar(session, config.calendar_file, config.send_time)
        plans = plans_for(session)
        latest = plans[-1].code if plans else None
    return _Store(config, engine, directory, inputs, rules, calendar, latest)


def _moment(at: str | None, store: _Store) -> datetime:
    """``--at`` (a date alone means the calendar's send time that day), or now."""
    if not at:
        return now()
    return parse_datetime(at, "--at", default_time=store.calendar.send_time)


def remind(
    task: Annotated[str | None, typer.Option("--task", help="Mã nhiệm vụ, ví dụ IV.4.")] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Mọi nhiệm vụ chưa xong do đơn vị này chủ trì (mã hoặc tên).")
    ] = None,
    at: AtOpt = None,
    dry_run: DryRunOpt = False,
    force: ForceOpt = False,
) -> None:
    """A reminder now for one task, a unit's open tasks, or every open task due soon or overdue."""
    from delivery.manual import pick_rule, reminder_notifications, select_tasks
    from rules.model import NotificationKind

    store = _load()
    if not store.inputs.tasks:
        raise UserError(
            "Chưa có nhiệm vụ nào trong cơ sở dữ liệu. Hãy chạy 'nhacviec init' hoặc 'nhacviec plan import'."
        )
    moment = _moment(at, store)
    rule = pick_rule(store.rules, NotificationKind.REMINDER)
    selection = select_tasks(
        store.inputs.tasks, store.directory, store.calendar, rule, moment.date(), code=task, unit=unit
    )
    if selection.undated:
        codes = ", ".join(t.code for t in selection.undated)
        console.print(f"Bỏ qua {len(selection.undated)} nhiệm vụ chưa có thời hạn: {codes}.", highlight=False)
    if not selection.tasks:
        console.print("Không có nhiệm vụ nào cần nhắc.")
        return
    notifications = reminder_notifications(selection.tasks, rule, store.directory, store.calendar, moment)
    _deliver(store, notifications, moment, dry_run=dry_run, force=force, what="Nhắc việc", can_force=True)


def digest(at: AtOpt = None, dry_run: DryRunOpt = False, force: ForceOpt = False) -> None:
    """The weekly digest now, to each addressee of the digest rule."""
    from delivery.manual import digest_notifications, pick_rule
    from rules.model import NotificationKind

    store = _load()
    moment = _moment(at, store)
    rule = pick_rule(store.rules, NotificationKind.DIGEST)
    notifications = digest_notifications(rule, store.directory, store.calendar, moment)
    if not notifications:
        raise UserError(
            f"Quy tắc '{rule.id}' không có người nhận chính (role: to) nên không gửi được bản tin."
        )
    _deliver(store, notifications, moment, dry_run=dry_run, force=force, what="Bản tin tuần", can_force=True)


def report_request(
    period: Annotated[
        str, typer.Option("--period", help="Kỳ báo cáo: Q1, Q2, Q3, Q4, H1, 9M, Y hoặc adhoc (đột xuất).")
    ],
    year: Annotated[
        int | None, typer.Option("--year", help="Năm của kỳ báo cáo (mặc định: năm của kế hoạch).")
    ] = None,
    due: Annotated[
        str | None,
        typer.Option("--due", help="Ngày chốt số liệu (bắt buộc với adhoc; với kỳ khác thì thay ngày chốt)."),
    ] = None,
    units: Annotated[
        str | None,
        typer.Option(
            "--units", help="Đơn vị nhận, cách nhau dấu phẩy (mặc định: đơn vị báo cáo của kế hoạch)."
        ),
    ] = None,
    dry_run: DryRunOpt = False,
) -> None:
    """A report request now, for one period, to the plan's reporting units (or the units given)."""
    from delivery.manual import (
        period_for,
        pick_rule,
        regime_for,
        report_request_notification,
        resolve_units,
    )
    from rules.model import NotificationKind

    store = _load()
    moment = now()
    regime = regime_for(store.inputs.reporting, year)
    cutoff = parse_date(due, "ngày chốt --due") if due else None
    report_period = period_for(period, year or (regime.year if regime else moment.year), cutoff)
    if units:
        unit_codes = resolve_units(store.directory, units, "--units")
    elif regime is not None:
        unit_codes = list(regime.units)
    else:
        raise UserError("Kế hoạch chưa có danh sách đơn vị báo cáo: hãy nêu đơn vị nhận bằng --units.")
    rule = pick_rule(store.rules, NotificationKind.REPORT_REQUEST)
    notification = report_request_notification(
        report_period,
        unit_codes,
        rule,
        store.directory,
        store.calendar,
        moment,
        plan=regime.plan if regime else store.latest_plan,
        via=regime.via if regime else None,
    )
    _deliver(
        store, [notification], moment, dry_run=dry_run, force=False, what="Đề nghị báo cáo", can_force=False
    )


# -- sending and showing -----------------------------------------------------------------------------------


def _deliver(
    store: _Store,
    notifications: list[Notification],
    moment: datetime,
    *,
    dry_run: bool,
    force: bool,
    what: str,
    can_force: bool,
) -> None:
    """Show the messages; unless a dry run, put them in the outbox and send what is due."""
    from delivery.manual import commit, prepare
    from delivery.service import completion_links, send_due
    from templates.render import Renderer

    renderer = Renderer(store.config.templates_dir, store.config.zns_templates_file)
    batch = prepare(
        store.engine,
        store.inputs,
        store.directory,
        renderer,
        notifications,
        now=moment,
        force=force,
        links=completion_links(store.config, moment),
    )
    _print_rows(batch, f"{what} lúc {when(moment)}" + (" — chạy thử" if dry_run else ""))
    if batch.already_sent:
        hint = " (dùng --force để gửi lại)" if can_force else ""
        console.print(f"{batch.already_sent} tin đã gửi hôm nay nên không gửi lại{hint}.", highlight=False)
    if dry_run:
        for _, message in batch.problems:
            console.print(Text.assemble(("Cần sửa cấu hình: ", "yellow"), message))
        _print_first(batch)
        console.print("Chạy thử: không gửi tin nào, hộp thư đi không thay đổi.")
        return
    new_rows, new_problems = commit(store.engine, batch, now=moment)
    for message in new_problems:
        console.print(Text.assemble(("Cần sửa cấu hình: ", "yellow"), message))
    console.print(
        f"{what}: {len(notifications)} thông báo, {new_rows} tin mới vào hộp thư đi.", highlight=False
    )
    if new_rows:
        result = asyncio.run(send_due(store.engine, store.config, moment))
        console.print(f"Gửi: {result}.", highlight=False)


def _print_rows(batch: ManualBatch, title: str) -> None:
    if not batch.rows:
        console.print(f"{title}: không có tin mới.", highlight=False)
        return
    table = Table("Kênh", "Người nhận", "Địa chỉ", "Tiêu đề", title=title)
    for row in batch.rows:
        name = row["recipient_name"] + (" (cc)" if row["role"] == "cc" else "")
        address = row["address"] or "— chưa có địa chỉ"
        table.add_row(
            CHANNEL_LABELS.get(row["channel"], row["channel"]),
            Text(name),
            Text(address),
            Text(row["subject"]),
        )
    console.print(table)
    console.print(f"{len(batch.rows)} tin.")


def _print_first(batch: ManualBatch) -> None:
    rows: list[dict[str, Any]] = batch.sendable
    if not rows:
        return
    first = rows[0]
    console.print(
        Text(
            f"Nội dung tin đầu tiên ({CHANNEL_LABELS.get(first['channel'], first['channel'])}, "
            f"gửi {first['recipient_name']}):",
            style="bold",
        )
    )
    if first["subject"]:
        console.print(Text(f"Tiêu đề: {first['subject']}"))
    console.print(Text(first["body_text"]))
