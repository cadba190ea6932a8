"""``nhacviec remind``, ``digest``, ``report-request``: send one now, through the outbox, outside the schedule."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from cli.common import (
    console,
    load_directory,
    now,
    open_store,
    parse_date,
    parse_datetime,
    settings,
    when,
)
from plan.errors import UserError
from vocabulary import CHANNEL_LABELS, describe_items, label

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from config.settings import Settings
    from delivery.pipeline import Prepared, Setup
    from planner.model import Notification


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
    setup: Setup
    latest_plan: str | None


def _load() -> _Store:
    from delivery.pipeline import Setup
    from store.db import session_scope
    from store.planner_input import plans_for

    config = settings()
    engine = open_store()
    setup = Setup.load(engine, config, load_directory())
    with session_scope(engine) as session:
        plans = plans_for(session)
        latest = plans[-1].code if plans else None
    return _Store(config, engine, setup, latest)


def _moment(at: str | None, store: _Store) -> datetime:
    """``--at`` (a date alone means the calendar's send time that day), or now."""
    if not at:
        return now()
    return parse_datetime(at, "--at", default_time=store.setup.calendar.send_time)


def remind(
    task: Annotated[str | None, typer.Option("--task", help="Mã nhiệm vụ, ví dụ IV.4.")] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="Mã kế hoạch của nhiệm vụ (khi nhiều kế hoạch có cùng mã).")
    ] = None,
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
    setup = store.setup
    if not setup.inputs.tasks:
        raise UserError(
            "Chưa có nhiệm vụ nào trong cơ sở dữ liệu. Hãy chạy 'nhacviec init' hoặc 'nhacviec plan import'."
        )
    moment = _moment(at, store)
    rule = pick_rule(setup.rules, NotificationKind.REMINDER)
    selection = select_tasks(
        setup.inputs.tasks,
        setup.directory,
        setup.calendar,
        rule,
        moment.date(),
        code=task,
        unit=unit,
        plan=plan,
    )
    if selection.undated:
        codes = ", ".join(t.code for t in selection.undated)
        console.print(f"Bỏ qua {len(selection.undated)} nhiệm vụ chưa có thời hạn: {codes}.", highlight=False)
    if not selection.tasks:
        console.print("Không có nhiệm vụ nào cần nhắc.")
        return
    notifications = reminder_notifications(selection.tasks, rule, setup.directory, setup.calendar, moment)
    _deliver(store, notifications, moment, dry_run=dry_run, force=force, what="Nhắc việc", can_force=True)


def digest(at: AtOpt = None, dry_run: DryRunOpt = False, force: ForceOpt = False) -> None:
    """The weekly digest now, to each addressee of the digest rule."""
    from delivery.manual import digest_notifications, pick_rule
    from rules.model import NotificationKind

    store = _load()
    moment = _moment(at, store)
    rule = pick_rule(store.setup.rules, NotificationKind.DIGEST)
    notifications = digest_notifications(rule, store.setup.directory, store.setup.calendar, moment)
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
    setup = store.setup
    moment = now()
    if year is not None:
        from plan.limits import check_year

        check_year(year, "năm --year")
    regime = regime_for(setup.inputs.reporting, year)
    cutoff = parse_date(due, "ngày chốt --due") if due else None
    report_period = period_for(period, year or (regime.year if regime else moment.year), cutoff)
    if units:
        unit_codes = resolve_units(setup.directory, units, "--units")
    elif regime is not None:
        unit_codes = list(regime.units)
    else:
        raise UserError("Kế hoạch chưa có danh sách đơn vị báo cáo: hãy nêu đơn vị nhận bằng --units.")
    rule = pick_rule(setup.rules, NotificationKind.REPORT_REQUEST)
    notification = report_request_notification(
        report_period,
        unit_codes,
        rule,
        setup.directory,
        setup.calendar,
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
    from delivery.pipeline import commit, completion_links, dispatch, prepare_manual, with_retries
    from templates.render import Renderer

    renderer = Renderer(store.config.templates_dir, store.config.zns_templates_file)
    links = completion_links(store.config, moment)

    def build() -> Prepared:
        return prepare_manual(
            store.engine, store.setup, renderer, notifications, now=moment, force=force, links=links
        )

    prepared = build()
    _print_messages(prepared, f"{what} lúc {when(moment)}" + (" — chạy thử" if dry_run else ""))
    if prepared.already:
        hint = " (dùng --force để gửi lại)" if can_force else ""
        console.print(
            f"{prepared.already} tin đã vào hộp thư đi hôm nay nên không gửi lại{hint}.", highlight=False
        )
    if dry_run:
        for message in prepared.problems.values():
            console.print(Text.assemble(("Cần sửa cấu hình: ", "yellow"), message))
        _print_first(prepared)
        console.print("Chạy thử: không gửi tin nào, hộp thư đi không thay đổi.")
        return
    first = [prepared]
    _, enqueued = with_retries(
        lambda: first.pop() if first else build(), lambda p: commit(store.engine, p, now=moment)
    )
    for message in enqueued.new_problems:
        console.print(Text.assemble(("Cần sửa cấu hình: ", "yellow"), message))
    console.print(
        f"{what}: {len(notifications)} thông báo, {enqueued.new_messages} tin mới vào hộp thư đi.",
        highlight=False,
    )
    if enqueued.new_messages:
        result = asyncio.run(dispatch(store.engine, store.config, moment))
        console.print(f"Gửi: {result}.", highlight=False)


def _print_messages(prepared: Prepared, title: str) -> None:
    if not prepared.messages:
        console.print(f"{title}: không có tin mới.", highlight=False)
        return
    table = Table("Kênh", "Người nhận", "Địa chỉ", "Tiêu đề", "Nội dung", title=title)
    for message in prepared.messages:
        name = message.recipient_name + (" (cc)" if message.role == "cc" else "")
        address = message.address or "— chưa có địa chỉ"
        table.add_row(
            label(CHANNEL_LABELS, message.channel),
            Text(name),
            Text(address),
            Text(message.subject),
            Text(describe_items(message.items)),
        )
    console.print(table)
    console.print(f"{len(prepared.messages)} tin.")


def _print_first(prepared: Prepared) -> None:
    messages = prepared.sendable
    if not messages:
        return
    first = messages[0]
    console.print(
        Text(
            f"Nội dung tin đầu tiên ({label(CHANNEL_LABELS, first.channel)}, gửi {first.recipient_name}):",
            style="bold",
        )
    )
    if first.subject:
        console.print(Text(f"Tiêu đề: {first.subject}"))
    console.print(Text(first.body_text))
