"""Who gets what: the messages each channel will carry to one person or one unit over some days.

``nhacviec preview --person GD --at 30/11/2020 --days 7`` and the web's preview page both call
:func:`preview_for`: the delivery pipeline (delivery/pipeline.py) run up to rendering for those days,
keeping only the deliveries to the chosen recipient codes, exactly as the scheduled passes will bundle
them (items already in the outbox are left out and counted). Nothing is written.

A person is a member of the leadership (``GD``, ``PGD1``, or their name) or the head of a unit
(``TCCB.head``, or the unit's code or name with ``--person``); a unit is its mailbox or chat (its code
or name). The JSON shape of :func:`preview_json` is the contract of ``preview --json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from config.settings import Settings
from delivery.pipeline import MessageRenderer, Prepared, Setup, preview
from plan.deadline import DeadlineKind
from plan.errors import UserError
from plan.text import fold
from plan.units import Directory, UnknownUnitError
from planner.calendar import WorkingCalendar
from rules.model import Rule
from store.outbox import NewMessage
from vocabulary import CHANNEL_LABELS, KIND_SHORT, OUTBOX_STATUS, label

MAX_DAYS = 62


@dataclass(frozen=True)
class Who:
    codes: frozenset[str]  # recipient codes whose messages are shown
    name: str  # as the page and the command title it


def person(directory: Directory, text: str) -> Who:
    """A leader (code or name) or the head of a unit ("TCCB.head", or the unit's code or name)."""
    wanted = text.strip()
    for leader in directory.leaders():
        if leader.code and (leader.code.upper() == wanted.upper() or fold(leader.name) == fold(wanted)):
            return Who(frozenset({leader.code}), f"{leader.title} {leader.name}")
    unit_text = wanted[: -len(".head")] if wanted.lower().endswith(".head") else wanted
    code = _one_unit(directory, unit_text, "--person")
    head = directory.unit(code).head
    if head is None:
        raise UserError(
            f"Đơn vị {code} chưa có trưởng đơn vị trong danh bạ (units.yaml): xem theo --unit {code}."
        )
    return Who(frozenset({f"{code}.head"}), f"{head.title} {directory.unit(code).name} ({head.name})")


def unit(directory: Directory, text: str) -> Who:
    """A unit's own mailbox or chat, by its code or name."""
    code = _one_unit(directory, text, "--unit")
    return Who(frozenset({code}), directory.unit(code).name)


def _one_unit(directory: Directory, text: str, option: str) -> str:
    leaders = ", ".join(p.code for p in directory.leaders() if p.code)
    try:
        codes = directory.resolve(text)
    except UnknownUnitError:
        codes = []
    if len(codes) != 1:
        raise UserError(
            f"{option}: không có người hay đơn vị '{text}' trong danh bạ (units.yaml); "
            f"dùng mã lãnh đạo ({leaders}), mã đơn vị (ví dụ TCCB) hoặc MÃ.head cho trưởng đơn vị."
        )
    return codes[0]


def window(start: date, days: int) -> tuple[date, date]:
    if not 1 <= days <= MAX_DAYS:
        raise UserError(f"--days phải từ 1 đến {MAX_DAYS} (đang là {days}).")
    return start, start + timedelta(days=days - 1)


def preview_for(
    engine: Engine,
    settings: Settings,
    directory: Directory,
    renderer: MessageRenderer,
    who: Who,
    start: date,
    end: date,
    now: datetime,
) -> Prepared:
    setup = Setup.load(engine, settings, directory)
    return preview(engine, setup, renderer, start=start, end=end, codes=who.codes, now=now)


def parts_of(message: NewMessage) -> int:
    """How many messages the channel will carry for it (a long Telegram or Zalo message goes in parts)."""
    extra = message.extra or {}
    return len(extra.get("telegram_parts") or extra.get("zalo_parts") or [None])


def message_json(message: NewMessage) -> dict[str, Any]:
    return {
        "at": message.due_at.isoformat(),
        "channel": message.channel,
        "channel_label": label(CHANNEL_LABELS, message.channel),
        "recipient": message.recipient,
        "recipient_name": message.recipient_name,
        "address": message.address,
        "status": str(message.status),
        "status_label": label(OUTBOX_STATUS, message.status),
        "key": message.key,
        "subject": message.subject,
        "parts": parts_of(message),
        "items": [
            {
                "key": item.key,
                "kind": item.kind,
                "kind_label": label(KIND_SHORT, item.kind),
                "plan": item.plan,
                "task": item.task,
                "period": item.period,
                "level": item.level,
                "role": item.role,
            }
            for item in message.items
        ],
        "text": message.body_text,
    }


def preview_json(who: Who, start: date, end: date, prepared: Prepared) -> dict[str, Any]:
    return {
        "who": {"codes": sorted(who.codes), "name": who.name},
        "from": start.isoformat(),
        "to": end.isoformat(),
        "messages": [message_json(message) for message in prepared.messages],
        "already_in_outbox": prepared.already,
        "problems": list(prepared.problems.values()),
    }


# -- the escalation ladder, drawn ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    after: int  # working days after the due date
    to: tuple[str, ...]  # names of those it goes to
    cc: tuple[str, ...]  # names of those in copy


def escalation_chain(
    rule: Rule, directory: Directory, calendar: WorkingCalendar, unit_code: str
) -> list[Rung]:
    """Who each rung of an escalation rule reaches for a task ``unit_code`` leads, with names."""
    from planner.model import TaskInput
    from planner.planner import Planner, PlannerInput
    from rules.model import Role
    from templates.context import describe_recipient

    planner = Planner(PlannerInput((), directory), calendar, date.min, date.min)
    task = TaskInput("", "", None, "", "", DeadlineKind.DATE, None, None, (), (unit_code,))

    def name(code: str) -> str:
        described = describe_recipient(code, "to", directory)
        return (
            described["name"] if described["kind"] == "unit" else f"{described['title']} {described['name']}"
        )

    rungs = []
    for level in rule.levels:
        to: list[str] = []
        cc: list[str] = []
        for audience in level.audience:
            for code in planner.codes_for(audience.who, task, ()):
                target = to if audience.role == Role.TO else cc
                if name(code) not in to + cc:
                    target.append(name(code))
        rungs.append(Rung(level.after, tuple(to), tuple(cc)))
    return rungs


def chain_text(rungs: list[Rung], repeat_every: int) -> str:
    """ "+1 ngày làm việc: Trưởng phòng Tổ chức cán bộ Hoàng Văn E → +5: Phó Giám đốc Sở Trần Thị B →
    +10: Giám đốc Sở Nguyễn Văn A → mỗi 5 ngày làm việc" (copies not named: the page lists them)."""
    steps = [
        f"+{rung.after}{' ngày làm việc' if index == 0 else ''}: {', '.join(rung.to) or '—'}"
        for index, rung in enumerate(rungs)
    ]
    if repeat_every > 0 and rungs:
        steps.append(f"mỗi {repeat_every} ngày làm việc")
    return " → ".join(steps)
