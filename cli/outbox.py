"""``nhacviec outbox``: what was sent, what failed, the dead letters, and sending them again."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, now, open_store, when
from plan.errors import UserError
from vocabulary import CHANNEL_LABELS, describe_items, label
from vocabulary import OUTBOX_STATUS as STATUS_LABELS

app = typer.Typer(help="Hộp thư đi: tin đã gửi, tin lỗi, tin hết lượt thử, và gửi lại.", no_args_is_help=True)

STATUSES = tuple(STATUS_LABELS)  # store.models.OutboxStatus, without importing the store for --help


@app.command("list", help="Danh sách tin trong hộp thư đi, lọc theo trạng thái.")
def list_(
    status: Annotated[str | None, typer.Option("--status", help=" | ".join(STATUSES))] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Số tin tối đa.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    from store.db import session_scope
    from store.outbox import counts_by_status, items_of, list_messages

    if status and status not in STATUSES:
        raise UserError(f"Trạng thái '{status}' không hợp lệ: dùng {', '.join(STATUSES)}.")
    with session_scope(open_store()) as session:
        messages = list_messages(session, status, limit)
        items = items_of(session, [m.id for m in messages if m.id is not None])
        counts = counts_by_status(session)
    if as_json:
        print(
            json.dumps([_json(m, items.get(m.id or 0, [])) for m in messages], ensure_ascii=False, indent=2)
        )
        return
    table = Table("Hẹn gửi", "Kênh", "Người nhận", "Nội dung", "Trạng thái", "Lần", "Lỗi")
    for m in messages:
        m_items = items.get(m.id or 0, [])
        table.add_row(
            when(m.due_at),
            label(CHANNEL_LABELS, m.channel),
            m.recipient_name or m.recipient,
            describe_items(m_items),
            label(STATUS_LABELS, m.status),
            str(m.attempts),
            m.last_error or "",
        )
    console.print(table)
    console.print(
        ", ".join(f"{STATUS_LABELS.get(k, k)}: {v}" for k, v in sorted(counts.items())) or "Hộp thư đi trống."
    )


def _json(message, items) -> dict[str, object]:
    """A message as JSON; ``items`` lists what it carries (one for a message of one item, several for a
    bundle, whose ``kind`` is "bundle"), each with its delivery ``key``."""

    def iso(value):
        return value.isoformat() if value else None

    return {
        "key": message.key,
        "status": message.status,
        "channel": message.channel,
        "recipient": message.recipient,
        "recipient_name": message.recipient_name,
        "role": message.role,
        "address": message.address,
        "kind": message.kind,
        "rule": message.rule,
        "plan": message.plan,
        "task": message.task,
        "period": message.period,
        "level": message.level,
        "subject": message.subject,
        "due_at": iso(message.due_at),
        "attempts": message.attempts,
        "next_attempt_at": iso(message.next_attempt_at),
        "last_error": message.last_error,
        "provider_id": message.provider_id,
        "sent_at": iso(message.sent_at),
        "items": [
            {
                "key": item.key,
                "kind": item.kind,
                "rule": item.rule,
                "plan": item.plan,
                "task": item.task,
                "period": item.period,
                "level": item.level,
                "recipient": item.recipient,
                "role": item.role,
            }
            for item in items
        ],
    }


@app.command("retry", help="Gửi lại một tin (theo KHÓA) hoặc mọi tin lỗi và hết lượt thử (--all-failed).")
def retry(
    key: Annotated[
        str | None,
        typer.Argument(
            help="Khóa của tin, hoặc của một mục trong tin tổng hợp (xem 'nhacviec outbox list --json')."
        ),
    ] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Mọi tin lỗi và hết lượt thử.")] = False,
) -> None:
    from store.db import session_scope
    from store.outbox import requeue

    if (key is None) == (not all_failed):
        raise UserError("Hãy nêu đúng một trong hai: KHÓA của tin, hoặc --all-failed.")
    with session_scope(open_store()) as session:
        keys = requeue(session, key=key, all_failed=all_failed, now=now())
    if key is not None and not keys:
        raise UserError(f"Không có tin nào có khóa '{key}' (hoặc tin đó đang được gửi).")
    console.print(f"Đã đưa {len(keys)} tin vào hàng chờ gửi lại; chúng sẽ đi ở lượt gửi kế tiếp.")


@app.command("send", help="Gửi ngay các tin đến hạn trong hộp thư đi (không lập lịch thêm).")
def send(
    at: Annotated[
        str | None, typer.Option("--at", help="Coi thời điểm này là 'bây giờ' (để thử, mô phỏng).")
    ] = None,
) -> None:
    import asyncio

    from cli.common import parse_datetime, settings
    from delivery.pipeline import dispatch

    moment = parse_datetime(at, "--at") if at else None
    result = asyncio.run(dispatch(open_store(), settings(), moment))
    console.print(f"Gửi: {result}.")
