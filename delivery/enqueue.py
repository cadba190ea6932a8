"""From planned notifications to outbox rows: one per recipient and channel, addressed and rendered.

Messages are rendered when they are planned (the pass runs on their day), so
what is sent is exactly what was decided, and a retry sends the same text. A
recipient with no address on a channel gets a ``skipped`` row and one
configuration problem for the admin, instead of a send retried for ever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plan.units import Contacts, Directory
from planner.model import Notification, Recipient
from planner.planner import PlannerInput
from store.models import OutboxStatus
from vocabulary import CHANNEL_LABELS

CHANNEL_FIELDS = {"email": "email", "telegram": "telegram_chat_id", "zalo": "zalo_user_id"}


@dataclass(frozen=True)
class Addressee:
    code: str
    name: str
    contacts: Contacts


def addressee(directory: Directory, code: str) -> Addressee:
    """The person or unit behind a recipient code: "TCCB", "TCCB.head", "PGD1"."""
    if code.endswith(".head"):
        unit = directory.unit(code.removesuffix(".head"))
        head = unit.head
        if head is None:
            return Addressee(code, unit.name, unit.contacts)
        return Addressee(code, f"{head.title} {unit.name} ({head.name})", head.contacts)
    unit = directory.get(code)
    if unit is not None:
        return Addressee(code, unit.name, unit.contacts)
    person = directory.leader(code)
    return Addressee(code, f"{person.title} {person.name}", person.contacts)


@dataclass
class EnqueueBatch:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (problem key, message)


Render = Callable[[Notification, Recipient], Any]  # returns an object with subject, text, html, extra


def build_rows(
    notifications: Iterable[Notification],
    directory: Directory,
    render: Render,
    *,
    aliases: Mapping[str, Mapping[str, str]] | None = None,
    now: datetime,
    origin: str = "planner",
    skip_keys: set[str] | None = None,
) -> EnqueueBatch:
    """Outbox rows for ``notifications``; keys in ``skip_keys`` (already in the outbox) are not rendered again."""
    batch = EnqueueBatch()
    aliases = aliases or {}
    skip_keys = skip_keys or set()
    for notification in notifications:
        for recipient in notification.recipients:
            key = notification.delivery_key(recipient)
            if key in skip_keys:
                continue
            person = addressee(directory, recipient.code)
            channel = str(recipient.channel)
            address = getattr(person.contacts, CHANNEL_FIELDS[channel])
            if address and channel in aliases:
                address = aliases[channel].get(address, address)
            row: dict[str, Any] = {
                "key": key,
                "notification_key": notification.key,
                "kind": str(notification.kind),
                "rule": notification.rule,
                "plan": notification.plan,
                "task": notification.task,
                "period": notification.period,
                "level": notification.level,
                "channel": channel,
                "recipient": recipient.code,
                "role": str(recipient.role),
                "recipient_name": person.name,
                "address": address,
                "due_at": notification.at,
                "next_attempt_at": notification.at,
                "created_at": now,
                "origin": origin,
                "attempts": 0,
                "extra": {},
            }
            zns_phone = person.contacts.phone if channel == "zalo" else None
            if not address and not zns_phone:
                message = f"{person.name} chưa có địa chỉ {CHANNEL_LABELS[channel]}: thêm vào danh bạ đơn vị (units.yaml)."
                batch.problems.append((f"missing-address:{recipient.code}:{channel}", message))
                row.update(
                    status=OutboxStatus.SKIPPED, last_error=message, subject="", body_text="", body_html=None
                )
                batch.rows.append(row)
                continue
            rendered = render(notification, recipient)
            extra = dict(rendered.extra or {})
            if zns_phone:
                extra["phone"] = zns_phone
            row.update(
                status=OutboxStatus.PENDING,
                subject=rendered.subject or "",
                body_text=rendered.text or "",
                body_html=rendered.html,
                extra=extra,
                last_error=None,
            )
            batch.rows.append(row)
    return batch


def renderer_for(
    inputs: PlannerInput,
    directory: Directory,
    renderer: Any,
    *,
    failed_deliveries: Sequence[Mapping[str, Any]] = (),
    notices: Sequence[str] = (),
    links: Callable[[Notification, Recipient], Mapping[str, Any] | None] | None = None,
) -> Render:
    """A render function with what templates need beyond the notification: the digest content (and the
    ``notices`` about the channels it carries), links."""
    from planner.digest import build_digest
    from templates.context import message_context

    digests: dict[tuple[object, ...], Any] = {}

    def render(notification: Notification, recipient: Recipient) -> Any:
        digest = None
        if notification.kind == "digest":
            units = notification.data.get("units")
            cache_key = (notification.data["day"], tuple(units) if units is not None else None)
            if cache_key not in digests:
                digests[cache_key] = build_digest(
                    inputs.tasks,
                    notification.data["day"],
                    units=units,
                    reporting=inputs.reporting,
                    failed_deliveries=failed_deliveries,
                )
            digest = digests[cache_key]
        context = message_context(
            notification,
            recipient,
            directory,
            digest=digest,
            notices=notices if digest is not None else (),
            links=links(notification, recipient) if links else None,
        )
        return renderer.render(notification.template, str(recipient.channel), context)

    return render
