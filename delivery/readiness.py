"""Readiness: can nhacviec reach the people of the plan? (`nhacviec doctor`, the web page "Sẵn sàng", `run`).

:func:`assess` is pure: the directory, the channels configured and the plan's open tasks in, a
:class:`Readiness` out. Per recipient (each unit, its head, each leader) and channel it says whether an
address reaches them: ``ok``, ``no_address``, ``placeholder`` (a stand-in such as the sample directory's:
plan.contacts.placeholder_reason) or ``not_configured`` (an address, but the channel has no settings). A
recipient no channel reaches is *unreachable*; a unit is unreachable when neither it nor its head is; a task
is unreachable when none of its lead units can be reached, or when its lead is not in the directory at all.

:func:`check_channels` asks each configured channel whether it answers (SMTP: connect, TLS and log in;
Telegram: getMe; Zalo: the OA's profile with the stored token), all at once, each bounded by a timeout.

Production: nhacviec is *in production* when at least one channel is configured to really send (SMTP host,
Telegram token or Zalo app): then a message leaves the machine. Without any, every message goes to the
file sink (var/sent), which is the demonstration set-up of the README. `run` refuses to start in production
while the directory holds a placeholder address (:func:`placeholder_refusal`), unless
``NHACVIEC_ALLOW_PLACEHOLDERS`` allows it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings
from plan.contacts import EMAIL, PHONE, TELEGRAM, ZALO, placeholder_reason
from plan.units import Contacts, Directory
from rules.channels import CHANNELS
from vocabulary import CHANNEL_LABELS, CONTACT_FIELDS

CHANNEL_ORDER: tuple[str, ...] = tuple(CHANNELS)
# The directory fields a channel sends to, in the order it tries them (Zalo: the OA by user id, ZNS by phone).
CHANNEL_FIELDS: dict[str, tuple[str, ...]] = {
    code: (spec.contact_field, *((spec.fallback_field,) if spec.fallback_field else ()))
    for code, spec in CHANNELS.items()
}


def configured_channels(settings: Settings) -> frozenset[str]:
    return frozenset(code for code, spec in CHANNELS.items() if spec.configured(settings))


def in_production(settings: Settings) -> bool:
    """Whether a message would really leave the machine (see the module doc)."""
    return bool(configured_channels(settings))


@dataclass(frozen=True)
class Recipient:
    code: str  # "TCCB", "TCCB.head", "PGD1"
    kind: str  # "unit" | "head" | "leader"
    name: str
    unit: str | None
    contacts: Contacts


def recipients(directory: Directory) -> list[Recipient]:
    """Everyone the rules may write to: each leader, each unit and its head."""
    found = [
        Recipient(
            person.code or person.name, "leader", f"{person.title} {person.name}", None, person.contacts
        )
        for person in directory.leaders()
    ]
    for unit in directory.units:
        found.append(Recipient(unit.code, "unit", unit.name, unit.code, unit.contacts))
        if unit.head is not None:
            name = f"{unit.head.title} {unit.name} ({unit.head.name})"
            found.append(Recipient(f"{unit.code}.head", "head", name, unit.code, unit.head.contacts))
    return found


@dataclass(frozen=True)
class Placeholder:
    code: str
    field: str
    value: str
    reason: str

    def sentence(self) -> str:
        return f"{self.code} {CONTACT_FIELDS.get(self.field, self.field)} '{self.value}' ({self.reason})"


def placeholders(directory: Directory) -> list[Placeholder]:
    """Every stand-in address of the directory, recipient by recipient."""
    found = []
    for recipient in recipients(directory):
        for name in (EMAIL, PHONE, TELEGRAM, ZALO):
            value = getattr(recipient.contacts, name)
            reason = placeholder_reason(name, value)
            if reason:
                found.append(Placeholder(recipient.code, name, str(value), reason))
    return found


@dataclass(frozen=True)
class Reach:
    recipient: Recipient
    channels: dict[str, dict[str, Any]]  # channel -> {"address": ..., "state": ...}

    @property
    def reachable(self) -> list[str]:
        return [channel for channel, value in self.channels.items() if value["state"] == "ok"]


def reach(recipient: Recipient, configured: frozenset[str]) -> Reach:
    channels: dict[str, dict[str, Any]] = {}
    for channel in CHANNEL_ORDER:
        state, address = "no_address", None
        for name in CHANNEL_FIELDS[channel]:
            value = getattr(recipient.contacts, name)
            if not value:
                continue
            address = value if name != PHONE else f"ZNS {value}"
            if placeholder_reason(name, value):
                state = "placeholder"
                continue
            state = "ok" if channel in configured else "not_configured"
            break
        channels[channel] = {"address": address, "state": state}
    return Reach(recipient, channels)


@dataclass(frozen=True)
class TaskLead:
    plan: str
    task: str
    content: str
    lead: tuple[str, ...]  # unit codes
    unlisted: tuple[str, ...] = ()  # lead units the directory does not have, as written


@dataclass(frozen=True)
class ChannelCheck:
    channel: str
    configured: bool
    answering: bool | None  # None: not asked (not configured, or checks skipped)
    detail: str


@dataclass
class Readiness:
    production: bool
    reaches: list[Reach]
    placeholders: list[Placeholder]
    unreachable_tasks: list[TaskLead]
    checks: list[ChannelCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # configuration problems the dispatcher recorded

    @property
    def unreachable(self) -> list[Reach]:
        return [r for r in self.reaches if not r.reachable]

    @property
    def unreachable_units(self) -> list[str]:
        """Units that neither their own address nor their head's reaches."""
        reached = {r.recipient.unit for r in self.reaches if r.recipient.unit and r.reachable}
        return [
            r.recipient.code
            for r in self.reaches
            if r.recipient.kind == "unit" and r.recipient.unit not in reached
        ]

    @property
    def ready(self) -> bool:
        return (
            not self.unreachable_tasks
            and not self.placeholders
            and not self.unreachable_units
            and all(check.answering is not False for check in self.checks)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "production": self.production,
            "channels": [
                {
                    "channel": c.channel,
                    "configured": c.configured,
                    "answering": c.answering,
                    "detail": c.detail,
                }
                for c in self.checks
            ],
            "recipients": [
                {
                    "code": r.recipient.code,
                    "kind": r.recipient.kind,
                    "name": r.recipient.name,
                    "unit": r.recipient.unit,
                    "reachable": r.reachable,
                    "channels": r.channels,
                }
                for r in self.reaches
            ],
            "unreachable": [r.recipient.code for r in self.unreachable],
            "unreachable_units": self.unreachable_units,
            "unreachable_tasks": [
                {
                    "plan": t.plan,
                    "task": t.task,
                    "content": t.content,
                    "lead": list(t.lead),
                    "unlisted": list(t.unlisted),
                }
                for t in self.unreachable_tasks
            ],
            "placeholders": [
                {"code": p.code, "field": p.field, "value": p.value, "reason": p.reason}
                for p in self.placeholders
            ],
            "problems": self.problems,
        }


def assess(
    directory: Directory,
    configured: frozenset[str],
    tasks: Iterable[TaskLead],
    *,
    production: bool,
    checks: Sequence[ChannelCheck] = (),
    problems: Sequence[str] = (),
) -> Readiness:
    """Who can be reached, on which channel; the tasks whose lead cannot be reached at all (pure)."""
    reaches = [reach(recipient, configured) for recipient in recipients(directory)]
    reached_units = {r.recipient.unit for r in reaches if r.recipient.unit and r.reachable}
    unreachable_tasks = [task for task in tasks if not reached_units.intersection(task.lead)]
    return Readiness(
        production=production,
        reaches=reaches,
        placeholders=placeholders(directory),
        unreachable_tasks=unreachable_tasks,
        checks=list(checks),
        problems=list(problems),
    )


def placeholder_refusal(settings: Settings, directory: Directory) -> str | None:
    """The sentence `run` stops with in production while the directory holds a placeholder; None to go on."""
    if settings.allow_placeholders or not in_production(settings):
        return None
    found = placeholders(directory)
    if not found:
        return None
    named = "; ".join(p.sentence() for p in found[:3])
    more = f" và {len(found) - 3} địa chỉ khác" if len(found) > 3 else ""
    return (
        f"Danh bạ còn địa chỉ giữ chỗ, chưa phải địa chỉ thật: {named}{more}. Hãy nạp danh bạ thật "
        "('nhacviec units import danh-ba.xlsx') hoặc sửa từng địa chỉ ('nhacviec units set'), xem 'nhacviec doctor'; "
        "nếu chỉ chạy thử, đặt NHACVIEC_ALLOW_PLACEHOLDERS=true."
    )


# --- channels answering ------------------------------------------------------------------------------------


async def check_channels(
    settings: Settings, engine: Any, *, timeout: float | None = None
) -> list[ChannelCheck]:
    """Ask every configured channel whether it answers, concurrently, each within ``timeout`` seconds."""
    limit = timeout if timeout is not None else settings.check_timeout_seconds
    configured = configured_channels(settings)

    async def one(channel: str) -> ChannelCheck:
        label = CHANNEL_LABELS[channel]
        if channel not in configured:
            return ChannelCheck(
                channel, False, None, f"{label}: chưa cấu hình (tin được ghi vào thư mục var/sent)."
            )
        notifier = _notifier(settings, engine, channel)
        try:
            detail = await asyncio.wait_for(notifier.check(), limit)
        except TimeoutError:
            return ChannelCheck(channel, True, False, f"{label}: không trả lời trong {limit:g} giây.")
        except Exception as error:  # a DeliveryError's reason is Vietnamese and free of secrets
            reason = getattr(error, "reason", None) or type(error).__name__
            return ChannelCheck(channel, True, False, f"{label}: {reason}")
        finally:
            with contextlib.suppress(Exception):  # closing is a courtesy
                await asyncio.wait_for(notifier.close(), 5)
        return ChannelCheck(channel, True, True, f"{label}: {detail}.")

    return list(await asyncio.gather(*(one(channel) for channel in CHANNEL_ORDER)))


def unchecked(settings: Settings) -> list[ChannelCheck]:
    """The channels' configuration without asking them (a quick page, `doctor --offline`)."""
    configured = configured_channels(settings)
    return [
        ChannelCheck(
            channel,
            channel in configured,
            None,
            f"{CHANNEL_LABELS[channel]}: "
            + (
                "đã cấu hình (chưa kiểm tra)."
                if channel in configured
                else "chưa cấu hình (tin được ghi vào thư mục var/sent)."
            ),
        )
        for channel in CHANNEL_ORDER
    ]


def _notifier(settings: Settings, engine: Any, channel: str) -> Any:
    from delivery.channels import build_notifiers

    return build_notifiers(settings, engine, console=False)[channel]


# --- what the store knows ---------------------------------------------------------------------------------


def load(engine: Any, settings: Settings, directory: Directory, checks: Sequence[ChannelCheck]) -> Readiness:
    """:func:`assess` on the database's active plans (an archived plan sends nothing) and configuration
    problems."""
    from store import outbox
    from store.db import session_scope
    from store.planner_input import plans_for
    from store.tasks import list_tasks

    with session_scope(engine) as session:
        views = [
            view
            for plan in plans_for(session)
            for view in list_tasks(session, plan_code=plan.code, status="open")
        ]
        tasks = [
            TaskLead(
                view.plan_code,
                view.task.code,
                view.task.content,
                view.lead,
                tuple(u["name"] for u in view.task.unlisted_units or () if u.get("role") == "lead"),
            )
            for view in views
        ]
        problems = [problem.message for problem in outbox.config_problems(session)]
    return assess(
        directory,
        configured_channels(settings),
        tasks,
        production=in_production(settings),
        checks=checks,
        problems=problems,
    )
