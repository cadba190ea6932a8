"""One delivery pipeline for every message nhacviec sends, read top to bottom:

    plan -> still meaningful -> resolve recipients and addresses -> bundle -> render -> enqueue -> dispatch

The scheduled pass (:func:`scheduled`), the manual triggers (``remind``, ``digest``, ``report-request``
and the web's manual send: their notifications from delivery/manual.py, then :func:`prepare` and
:func:`commit`) and the who-gets-what preview (:func:`preview`) are these stages in this order. Two
messages no rule plans join at stage 6, built by :func:`direct_message` as stages 3 to 5 would leave them:
a test message (:func:`send_test`, ``nhacviec test-send``) and the answer to an invite code sent on Zalo
(:func:`reply`). Nothing else writes to the outbox. Stages 1 to 5 are pure (data in, data out); enqueue writes the outbox in one
transaction; dispatch sends what is due (delivery/dispatcher.py).

Bundling: at each send time, everything planned for one address (a person, or a unit's mailbox or
chat) on one channel goes out as one message, its items most urgent first. Idempotency stays per item:
each item keeps its delivery key (``rule/plan:task/occurrence|recipient|channel``), an item already in
the outbox is never bundled again, and a bundle's key is derived from its items' keys, so planning the
same moment again adds nothing and a crash between two enqueues or two sends loses nothing. A rule or a
recipient with ``bundle: false`` goes on its own; so does a Zalo message that can only go by ZNS (an
approved ZNS template carries one notification). The weekly digest is an item like the others (its own
body inside the bundle), so a Deputy Director's Monday is one message too.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.settings import Settings
from plan.units import Contacts, Directory
from planner.calendar import WorkingCalendar
from planner.model import Notification, Recipient
from planner.planner import PlannerInput, plan_notifications
from rules.channels import CHANNELS
from rules.model import NotificationKind, Role, Rule
from store import outbox
from store.calendar import working_calendar
from store.db import session_scope
from store.models import OutboxMessage, OutboxStatus
from store.outbox import NewItem, NewMessage
from store.planner_input import load_planner_input
from store.rules import load_rules
from templates.limits import render_limits
from templates.render import BUNDLE, Rendered, TemplateError
from vocabulary import CHANNEL_LABELS, TASK_KINDS

log = logging.getLogger("nhacviec.pipeline")
# The time one outbox message may take to render. The sandbox's 5 s per render is for validation and previews
# (a runaway template is stopped there); a template that passed gets this long for the hundreds of items of a
# catch-up day on a busy machine, so a slow morning never fails the pass.
SEND_RENDER_SECONDS = 120.0

ENQUEUE_ATTEMPTS = 3  # a concurrent enqueue took an item: build the messages again, at most this often


# -- 1. plan ---------------------------------------------------------------------------------------------


def plan(
    inputs: PlannerInput, rules: Sequence[Rule], calendar: WorkingCalendar, start: date, end: date
) -> list[Notification]:
    """The planner's notifications for ``start``..``end`` (manual triggers build theirs in delivery/manual.py)."""
    return plan_notifications(inputs, rules, calendar, start, end)


# -- 2. still meaningful -----------------------------------------------------------------------------------


def still_meaningful(notification: Notification, now: datetime) -> bool:
    """Whether a notification planned for a missed moment is still worth sending at ``now``.

    Within the last hour everything is; after downtime, nothing about a task done since, no reminder
    whose due date has passed (the escalation ladder has taken over), no rung of a ladder whose due
    date an extension replaced.
    """
    if notification.at >= now - timedelta(hours=1) or notification.kind not in TASK_KINDS:
        return True
    task = notification.data.get("task")
    today = now.date()
    if task is not None and task.done_on(today) is not None:
        return False  # done since: nothing to remind or escalate
    if notification.kind == NotificationKind.REMINDER:
        due = notification.data.get("due")
        return due is None or due >= today
    if notification.kind == NotificationKind.ESCALATION and task is not None:
        written = notification.data.get("due_as_written", notification.data.get("due"))
        return bool(task.due_on(today) == written)  # extended since: the old ladder is void
    return True


@dataclass(frozen=True)
class PassWindow:
    """What one scheduled pass sends: planned after ``after`` (the last pass) and not after ``until``,
    plus what was skipped earlier for want of an address (``retry``: notification keys), all still meaningful."""

    after: datetime
    until: datetime
    now: datetime
    retry: frozenset[str] = frozenset()

    def keeps(self, notification: Notification) -> bool:
        if notification.at > self.until:
            return False
        fresh = notification.at > self.after or notification.key in self.retry
        return fresh and still_meaningful(notification, self.now)


def _series(n: Notification, r: Recipient) -> tuple[Any, ...]:
    """What a later notification to the same recipient and channel supersedes (see :func:`superseded`)."""
    return (n.kind, n.rule, n.plan, n.task, n.period, n.data.get("due"), r.code, r.channel)


def latest_of_series(
    notifications: Iterable[Notification], latest: dict[tuple[Any, ...], datetime] | None = None
) -> dict[tuple[Any, ...], datetime]:
    """The latest moment of each series (updated in place when ``latest`` is given: a catch-up's chunks)."""
    latest = {} if latest is None else latest
    for n in notifications:
        for r in n.recipients:
            series = _series(n, r)
            latest[series] = max(latest.get(series, n.at), n.at)
    return latest


def superseded(
    notifications: Sequence[Notification], latest: Mapping[tuple[Any, ...], datetime] | None = None
) -> frozenset[str]:
    """The deliveries a later notification of the same series supersedes (their keys): after downtime, a
    pass may hold several reminders of one due date (14 then 7 working days before), several rungs of one
    escalation, several weekly digests or monthly check-ins; each recipient gets only the latest of each
    series (the others would repeat it with stale figures). A day's pass has nothing superseded.
    ``latest``: the series' latest moments over a longer interval (a catch-up planned chunk by chunk)."""
    if latest is None:
        latest = latest_of_series(notifications)
    return frozenset(
        n.delivery_key(r) for n in notifications for r in n.recipients if latest[_series(n, r)] != n.at
    )


# -- 3. resolve recipients and addresses -------------------------------------------------------------------


@dataclass(frozen=True)
class Addressee:
    code: str
    name: str
    contacts: Contacts
    bundle: bool = True  # False: ``bundle: false`` in the unit directory


def addressee(directory: Directory, code: str) -> Addressee:
    """The person or unit behind a recipient code: "TCCB", "TCCB.head", "PGD1"."""
    if code.endswith(".head"):
        unit = directory.unit(code.removesuffix(".head"))
        head = unit.head
        if head is None:
            return Addressee(code, unit.name, unit.contacts, unit.bundle)
        return Addressee(code, f"{head.title} {unit.name} ({head.name})", head.contacts, head.bundle)
    found = directory.get(code)
    if found is not None:
        return Addressee(code, found.name, found.contacts, found.bundle)
    person = directory.leader(code)
    return Addressee(code, f"{person.title} {person.name}", person.contacts, person.bundle)


@dataclass(frozen=True)
class Delivery:
    """One item: a notification to one recipient on one channel, with the address it goes to."""

    key: str  # the delivery key, unique for ever
    notification: Notification
    recipient: Recipient
    addressee: Addressee
    channel: str
    address: str | None  # None: no address on this channel
    fallback: str | None = None  # a contact that reaches the recipient without the address (Zalo: phone)
    bundle: bool = True  # may share a message with the addressee's other items

    @property
    def reachable(self) -> bool:
        return bool(self.address or self.fallback)

    def item(self) -> NewItem:
        n = self.notification
        return NewItem(
            key=self.key,
            notification_key=n.key,
            kind=str(n.kind),
            rule=n.rule,
            recipient=self.recipient.code,
            role=str(self.recipient.role),
            plan=n.plan,
            task=n.task,
            period=n.period,
            level=n.level,
        )


@dataclass
class Resolved:
    deliveries: list[Delivery] = field(default_factory=list)
    already: int = 0  # deliveries whose key is already in the outbox (not enqueued again)
    # configuration problems: recipients with no address on a channel (problem key -> message)
    problems: dict[str, str] = field(default_factory=dict)


def missing_address(name: str, channel: str) -> str:
    return f"{name} chưa có địa chỉ {CHANNEL_LABELS[channel]}: thêm vào danh bạ đơn vị (units.yaml)."


def resolve(
    notifications: Iterable[Notification],
    directory: Directory,
    *,
    aliases: Mapping[str, Mapping[str, str]] | None = None,
    known: Callable[[list[str]], set[str]] | None = None,
    unbundled_rules: frozenset[str] = frozenset(),
    only: frozenset[str] | None = None,
    left_out: frozenset[str] = frozenset(),
) -> Resolved:
    """One delivery per notification, recipient and channel, addressed; those ``known`` (already in the
    outbox) and those ``left_out`` (superseded) are left out, and with ``only`` those to other recipient
    codes. A recipient with no address on a channel is a configuration problem."""
    aliases = aliases or {}
    candidates = [
        (n, r, n.delivery_key(r))
        for n in notifications
        for r in n.recipients
        if (only is None or r.code in only) and n.delivery_key(r) not in left_out
    ]
    skip = known([key for _, _, key in candidates]) if known is not None else set()
    resolved = Resolved(already=len(skip))
    people: dict[str, Addressee] = {}
    for notification, recipient, key in candidates:
        if key in skip:
            continue
        person = people.get(recipient.code) or people.setdefault(
            recipient.code, addressee(directory, recipient.code)
        )
        spec = CHANNELS[str(recipient.channel)]
        address = getattr(person.contacts, spec.contact_field)
        if address and spec.code in aliases:
            address = aliases[spec.code].get(address, address)
        fallback = getattr(person.contacts, spec.fallback_field) if spec.fallback_field else None
        shared = (
            person.bundle
            and notification.rule not in unbundled_rules
            and not (fallback and not address)  # only by its fallback (a ZNS template): one per message
        )
        delivery = Delivery(
            key, notification, recipient, person, spec.code, address or None, fallback, shared
        )
        if not delivery.reachable:
            problem = f"missing-address:{recipient.code}:{spec.code}"
            resolved.problems[problem] = missing_address(person.name, spec.code)
        resolved.deliveries.append(delivery)
    return resolved


def unbundled(rules: Iterable[Rule], manual: Mapping[str, Rule] | None = None) -> frozenset[str]:
    """Rule ids whose messages go on their own (``bundle: false``); ``manual`` maps a manual trigger's
    rule id ("manual-reminder") to the rule it follows."""
    ids = {rule.id for rule in rules if not rule.bundle}
    ids |= {manual_id for manual_id, rule in (manual or {}).items() if not rule.bundle}
    return frozenset(ids)


# -- 4. bundle ---------------------------------------------------------------------------------------------

# Most urgent first: escalations (the highest rung first), overdue reminders, reports not received...
_URGENCY = {
    NotificationKind.ESCALATION: 0,
    NotificationKind.REPORT_FOLLOWUP: 2,
    NotificationKind.REMINDER: 3,
    NotificationKind.REPORT_REMINDER: 4,
    NotificationKind.REPORT_REQUEST: 5,
    NotificationKind.CHECKIN: 6,
    NotificationKind.KICKOFF: 7,
    NotificationKind.NEEDS_DATE: 8,
    NotificationKind.CLOSING: 8,
    NotificationKind.DIGEST: 9,
}


def urgency(delivery: Delivery) -> tuple[Any, ...]:
    """Sort key of an item in its bundle: kind, then what asks the reader to act before what is in copy,
    then the highest rung and the most overdue (or the nearest due date) first."""
    n = delivery.notification
    data = n.data
    rank = _URGENCY.get(n.kind, 10)
    left = data.get("working_days_left")
    if n.kind == NotificationKind.REMINDER and left is not None and left < 0:
        rank = 1  # an overdue reminder (a manual one): with the escalations
    if n.kind == NotificationKind.ESCALATION:
        within = (-(n.level or 0), -int(data.get("working_days_overdue") or 0))
    else:
        within = (int(left) if left is not None else 0, 0)
    task = data.get("task")
    copy = delivery.recipient.role != Role.TO
    return (rank, copy, *within, n.plan or "", task.position if task is not None else -1, delivery.key)


@dataclass(frozen=True)
class Bundle:
    """What becomes one outbox message: items for one address on one channel at one send time
    (``at``: when it goes; planned moments already past when the pass runs all go at the pass's moment)."""

    key: str
    channel: str
    at: datetime
    items: tuple[Delivery, ...]  # most urgent first

    @property
    def first(self) -> Delivery:
        return self.items[0]

    @property
    def address(self) -> str | None:
        return self.first.address

    @property
    def reachable(self) -> bool:
        return self.first.reachable

    @property
    def recipient_name(self) -> str:
        return "; ".join(dict.fromkeys(item.addressee.name for item in self.items))


def bundle_key(items: Sequence[Delivery], at: datetime) -> str:
    """A single item's message keeps the item's key; a bundle's is derived from its items' keys."""
    if len(items) == 1:
        return items[0].key
    first = items[0]
    digest = hashlib.sha256("\n".join(sorted(item.key for item in items)).encode()).hexdigest()[:24]
    return f"bundle/{at:%Y-%m-%dT%H:%M}/{first.recipient.code}|{first.channel}/{digest}"


MAX_BUNDLE_ITEMS = (
    150  # items in one message; more (a long catch-up of a big plan) go in several, most urgent first
)


def bundle(deliveries: Iterable[Delivery], *, not_before: datetime | None = None) -> list[Bundle]:
    """Group deliveries into messages: per send time, channel and address (a recipient with no address:
    per recipient code), at most :data:`MAX_BUNDLE_ITEMS` items each; opted-out deliveries alone. A planned moment before ``not_before`` (the pass's
    own moment: what was missed goes now) counts as ``not_before``. In send order, then in the order the
    deliveries came (the planner's: a notification's recipients "to" first)."""
    groups: dict[tuple[Any, ...], list[Delivery]] = {}
    for delivery in deliveries:
        at = delivery.notification.at
        if not_before is not None and at < not_before:
            at = not_before
        if delivery.bundle:
            where = delivery.address if delivery.address else f"code:{delivery.recipient.code}"
            group: tuple[Any, ...] = (at, delivery.channel, where)
        else:
            group = (at, delivery.channel, "key:" + delivery.key)
        groups.setdefault(group, []).append(delivery)
    bundles = []
    for (at, channel, _), items in groups.items():
        ordered = tuple(sorted(items, key=urgency))
        for start in range(0, len(ordered), MAX_BUNDLE_ITEMS):  # a huge catch-up: several messages
            part = ordered[start : start + MAX_BUNDLE_ITEMS]
            bundles.append(Bundle(bundle_key(part, at), channel, at, part))
    bundles.sort(key=lambda b: b.at)  # stable: groups keep the order of their first delivery
    return bundles


# -- 5. render -----------------------------------------------------------------------------------------------


class MessageRenderer(Protocol):
    """What renders a message (templates.render.Renderer): a kind's template, or a bundle's."""

    def render(self, kind: str, channel: str, context: Mapping[str, Any]) -> Rendered: ...

    def zns_payload(self, kind: str, context: Mapping[str, Any]) -> dict[str, Any]:
        """The approved ZNS template of ``kind`` filled from ``context``; TemplateError when there is none."""
        ...


Links = Callable[[Notification, Recipient], Mapping[str, Any] | None]


class Contexts:
    """The templates' data for an item or a bundle: the notification's, plus what lies outside it
    (the digest's content, signed completion links, recent failed and file-sink deliveries)."""

    def __init__(
        self,
        inputs: PlannerInput,
        directory: Directory,
        *,
        links: Links | None = None,
        deliveries: Callable[[], Mapping[str, Any]] | None = None,
        calendar: WorkingCalendar | None = None,
        dashboard_url: str | None = None,
    ) -> None:
        self.inputs = inputs
        self.directory = directory
        self.links = links
        self.calendar = calendar  # the digest counts in working days with it
        self.dashboard_url = dashboard_url
        self._deliveries_source = deliveries
        self._deliveries: Mapping[str, Any] | None = None
        self._digests: dict[tuple[object, ...], Any] = {}
        self._recipients: dict[str, list[dict[str, Any]]] = {}

    def deliveries(self) -> Mapping[str, Any]:
        """The digest's delivery section (read once, when a digest is rendered)."""
        if self._deliveries is None:
            self._deliveries = self._deliveries_source() if self._deliveries_source else {}
        return self._deliveries

    def _links(self, notification: Notification, recipient: Recipient) -> Mapping[str, Any] | None:
        links = dict(self.links(notification, recipient) or {}) if self.links else {}
        if self.dashboard_url and notification.kind == NotificationKind.DIGEST:
            links["dashboard_url"] = self.dashboard_url
        return links or None

    def item(self, notification: Notification, recipient: Recipient) -> dict[str, Any]:
        """The context of ``notification`` for ``recipient`` (templates.context.message_context)."""
        from planner.digest import build_digest
        from templates.context import message_context, recipients_context

        digest = None
        written: Sequence[Mapping[str, Any]] = ()
        notices: Sequence[str] = ()
        if notification.kind == NotificationKind.DIGEST:
            units = notification.data.get("units")
            since = notification.data.get("since")
            cache_key = (notification.data["day"], tuple(units) if units is not None else None, since)
            if cache_key not in self._digests:
                self._digests[cache_key] = build_digest(
                    self.inputs.tasks,
                    notification.data["day"],
                    units=units,
                    reporting=self.inputs.reporting,
                    failed_deliveries=self.deliveries().get("failed", ()),
                    calendar=self.calendar,
                    since=since,
                )
            digest = self._digests[cache_key]
            written = self.deliveries().get("written", ())
            notices = self.deliveries().get("notices", ())
        recipients = self._recipients.get(notification.key)
        if recipients is None:
            recipients = self._recipients[notification.key] = recipients_context(notification, self.directory)
        return message_context(
            notification,
            recipient,
            self.directory,
            digest=digest,
            notices=notices,
            links=self._links(notification, recipient),
            recipients=recipients,
            written_deliveries=written,
            plan_info=self.inputs.plans.get(
                str(notification.plan or getattr(notification.data.get("task"), "plan", ""))
            ),
        )

    def bundle(self, message: Bundle) -> dict[str, Any]:
        from templates.context import bundle_context

        items = [self.item(delivery.notification, delivery.recipient) for delivery in message.items]
        return bundle_context(items, self.directory, channel=message.channel, sent_at=message.at)

    def zns(self, message: Bundle, renderer: MessageRenderer) -> list[dict[str, Any]] | None:
        """The message as ZNS templates, one per item in order (an approved template carries one
        notification), for when the OA cannot carry it; None unless every item's kind has one."""
        payloads = []
        for delivery in message.items:
            context = self.item(delivery.notification, delivery.recipient)
            try:
                payloads.append(renderer.zns_payload(delivery.notification.template, context))
            except TemplateError:
                return None
        return payloads

    def of(self, message: Bundle) -> tuple[str, dict[str, Any]]:
        """The template kind and context of a message: its item's own, or the bundle's."""
        if len(message.items) == 1:
            return message.first.notification.template, self.item(
                message.first.notification, message.first.recipient
            )
        return BUNDLE, self.bundle(message)


def render(
    bundles: Iterable[Bundle],
    contexts: Contexts,
    renderer: MessageRenderer,
    *,
    now: datetime,
    origin: str = "planner",
) -> list[NewMessage]:
    """A rendered outbox message per bundle; a bundle with no address is ``skipped`` (nothing rendered)."""
    messages = []
    for message in bundles:
        first = message.first
        new = NewMessage(
            key=message.key,
            channel=message.channel,
            recipient=first.recipient.code,
            recipient_name=message.recipient_name,
            address=message.address,
            status=OutboxStatus.PENDING,
            due_at=message.at,
            created_at=now,
            items=tuple(delivery.item() for delivery in message.items),
            origin=origin,
        )
        if not message.reachable:
            new.status = OutboxStatus.SKIPPED
            new.last_error = missing_address(first.addressee.name, message.channel)
            messages.append(new)
            continue
        kind, context = contexts.of(message)
        with render_limits(SEND_RENDER_SECONDS):  # a validated template meets a big day on a busy machine
            rendered = renderer.render(kind, message.channel, context)
        new.subject = rendered.subject or ""
        new.body_text = rendered.text or ""
        new.body_html = rendered.html
        new.extra = dict(rendered.extra or {})
        if first.fallback:  # Zalo: the phone and ZNS templates, when the OA cannot carry the message
            zns = contexts.zns(message, renderer)
            if zns is not None:
                new.extra.update(phone=first.fallback, zns=zns[0] if len(zns) == 1 else zns)
        messages.append(new)
    return messages


# -- 6. enqueue ----------------------------------------------------------------------------------------------


@dataclass
class Enqueued:
    new_messages: int = 0  # outbox messages written
    new_items: int = 0  # items the messages carry (one per notification, recipient and channel)
    skipped: int = 0  # messages with no address on their channel
    new_problems: list[str] = field(default_factory=list)  # configuration problems seen for the first time
    planned: int = 0  # a scheduled pass: the notifications planned and kept


def enqueue(
    engine: Engine, messages: Sequence[NewMessage], problems: Mapping[str, str], *, now: datetime
) -> Enqueued:
    """Write the messages and their items in one transaction, and remember the configuration problems.

    Raises :class:`store.outbox.ItemConflict` (nothing written) when a concurrent enqueue took an item
    first: the caller builds the messages again (:func:`with_retries`).
    """
    result = Enqueued()
    prebuild(messages)
    with session_scope(engine) as session:
        result.new_messages = outbox.enqueue(session, messages)
        for key, message in problems.items():
            if outbox.record_problem(session, key, message, now=now):
                result.new_problems.append(message)
                log.warning("configuration problem: %s", message)
    result.new_items = sum(len(m.items) for m in messages)
    result.skipped = sum(1 for m in messages if m.status == OutboxStatus.SKIPPED)
    return result


def prebuild(messages: Iterable[NewMessage]) -> None:
    """Build each email message's bytes once, here, rather than in the send loop (notifiers.email)."""
    from notifiers.base import OutgoingMessage
    from notifiers.email import prebuilt_email

    for message in messages:
        if message.channel != "email" or message.status != OutboxStatus.PENDING or message.wire is not None:
            continue
        outgoing = OutgoingMessage(
            key=message.key,
            channel=message.channel,
            address=message.address or "",
            recipient_name=message.recipient_name,
            subject=message.subject,
            text=message.body_text,
            html=message.body_html,
        )
        with contextlib.suppress(ValueError):  # a bad address: the notifier says so when it tries
            message.wire = prebuilt_email(outgoing)


def known_keys(engine: Engine) -> Callable[[list[str]], set[str]]:
    """Which of some delivery keys are already carried by a message of the outbox."""

    def lookup(keys: list[str]) -> set[str]:
        with session_scope(engine) as session:
            return outbox.existing_keys(session, keys)

    return lookup


def address_aliases(engine: Engine) -> dict[str, dict[str, str]]:
    """Addresses a provider moved (a Telegram group that became a supergroup), per channel."""
    with session_scope(engine) as session:
        return {channel: outbox.aliases(session, channel) for channel in CHANNELS}


def with_retries(
    build: Callable[[], Prepared], write: Callable[[Prepared], Enqueued], *, built: Prepared | None = None
) -> tuple[Prepared, Enqueued]:
    """``write(build())`` (``built``: what was already built for the first try), building again when a
    concurrent enqueue took one of the items meanwhile."""
    for attempt in range(1, ENQUEUE_ATTEMPTS + 1):
        prepared = built if built is not None and attempt == 1 else build()
        try:
            return prepared, write(prepared)
        except outbox.ItemConflict:
            if attempt == ENQUEUE_ATTEMPTS:
                raise
            log.info("an item was enqueued by someone else meanwhile: building the messages again")
    raise AssertionError("unreachable")


# -- 7. dispatch ---------------------------------------------------------------------------------------------


async def dispatch(
    engine: Engine, settings: Settings, now: datetime | None = None, *, batch_size: int = 100
) -> Any:
    """Send every outbox message due at ``now`` through the channels the settings configure (claimed
    ``batch_size`` at a time: a long catch-up's big bundles are claimed fewer at once)."""
    from delivery.channels import build_notifiers
    from delivery.dispatcher import dispatch as run_dispatcher
    from delivery.retry import RetryPolicy

    policy = RetryPolicy(
        settings.max_attempts,
        settings.retry_base_seconds,
        settings.retry_max_seconds,
        window_seconds=settings.retry_window_hours * 3600,
    )
    return await run_dispatcher(
        engine,
        build_notifiers(settings, engine),
        policy=policy,
        lease=timedelta(seconds=settings.claim_lease_seconds),
        now=now,
        batch_size=batch_size,
    )


# -- what templates need from the store and the settings -------------------------------------------------


def recent_deliveries(engine: Engine, now: datetime, limit: int = 50, days: int = 7) -> dict[str, Any]:
    """For the digest: the latest failed and dead-lettered messages, per channel how many messages of the
    last ``days`` days were only written to the file sink (the channel is not configured), and the
    warnings about the channels (a Zalo token that will expire within two weeks)."""
    with session_scope(engine) as session:
        failed_rows = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.status).in_([OutboxStatus.FAILED, OutboxStatus.DEAD]))
            .order_by(col(OutboxMessage.due_at).desc())
            .limit(limit)
        ).all()
        items = outbox.items_of(session, [r.id for r in failed_rows if r.id is not None])
        failed = [
            {
                "recipient": r.recipient_name or r.recipient,
                "channel": r.channel,
                "error": r.last_error or "",
                "status": r.status,
                "task": r.task or ", ".join(i.task for i in items.get(r.id or 0, []) if i.task),
                "kind": r.kind,
                "key": r.key,
            }
            for r in failed_rows
        ]
        written = outbox.written_since(session, now - timedelta(days=days))
    return {
        "failed": failed,
        "notices": digest_notices(engine, now),
        "written": [
            {"channel": CHANNEL_LABELS.get(channel, channel), "count": count}
            for channel, count in sorted(written.items())
        ],
    }


def digest_notices(engine: Engine, now: datetime) -> list[str]:
    """Warnings the digest carries about the channels: a Zalo token that will expire within two weeks."""
    from notifiers.zalo import expiry_warning
    from store.zalo_tokens import stored_pair

    warning = expiry_warning(stored_pair(engine), now, now.tzinfo or UTC)
    return [warning] if warning else []


def _dashboard_url() -> str | None:
    """The web dashboard's address for the digest's link, when ``NHACVIEC_BASE_URL`` is set."""
    base_url = Settings().base_url
    return f"{base_url.rstrip('/')}/" if base_url else None


def completion_links(settings: Settings, now: datetime) -> Links | None:
    """Signed "Đã hoàn thành" links for task messages, when a link secret and a base URL are configured."""
    if settings.link_secret is None or not settings.base_url:
        return None
    from inbound.links import links_for

    ttl = timedelta(days=settings.link_ttl_days)
    secret = settings.link_secret
    base_url = settings.base_url
    return lambda n, r: links_for(n, r, secret, base_url, now, ttl)


# -- the flows ---------------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """Stages 1 to 5 done: what would go into the outbox (a dry run and the preview stop here)."""

    notifications: list[Notification]
    messages: list[NewMessage]
    already: int  # items already in the outbox
    problems: dict[str, str]

    @property
    def sendable(self) -> list[NewMessage]:
        return [m for m in self.messages if m.status == OutboxStatus.PENDING]


@dataclass(frozen=True)
class Setup:
    """What every flow reads before it starts: the plan, the rules, the calendar, the directory."""

    inputs: PlannerInput
    rules: list[Rule]
    calendar: Any
    directory: Directory

    @classmethod
    def load(
        cls, engine: Engine, settings: Settings, directory: Directory, plan_code: str | None = None
    ) -> Setup:
        with session_scope(engine) as session:
            inputs = load_planner_input(session, directory, plan_code, settings.tz)
            rules = load_rules(session)
            calendar = working_calendar(
                session, settings.calendar_file, settings.send_time, settings.timezone
            )
        return cls(inputs, rules, calendar, directory)


def prepare(
    engine: Engine,
    setup: Setup,
    renderer: MessageRenderer,
    notifications: list[Notification],
    *,
    now: datetime,
    origin: str,
    links: Links | None = None,
    unbundled_rules: frozenset[str] = frozenset(),
    only: frozenset[str] | None = None,
    catch_up: bool = True,
    left_out: frozenset[str] = frozenset(),
) -> Prepared:
    """Resolve, bundle and render ``notifications`` (already planned and filtered); nothing is written.

    ``only``: the recipient codes whose messages are wanted (the preview); default everyone.
    ``catch_up``: what was planned before ``now`` goes at ``now`` (a pass after downtime sends one message
    per address); the preview keeps every planned moment. ``left_out``: delivery keys not to send
    (:func:`superseded`).
    """
    resolved = resolve(
        notifications,
        setup.directory,
        aliases=address_aliases(engine),
        known=known_keys(engine),
        unbundled_rules=unbundled_rules | unbundled(setup.rules),
        only=only,
        left_out=left_out,
    )
    needs_deliveries = any(n.kind == NotificationKind.DIGEST for n in notifications)
    contexts = Contexts(
        setup.inputs,
        setup.directory,
        links=links,
        deliveries=(lambda: recent_deliveries(engine, now)) if needs_deliveries else None,
        calendar=setup.calendar,
        dashboard_url=_dashboard_url(),
    )
    bundles = bundle(resolved.deliveries, not_before=now if catch_up else None)
    messages = render(bundles, contexts, renderer, now=now, origin=origin)
    return Prepared(notifications, messages, resolved.already, resolved.problems)


def commit(engine: Engine, prepared: Prepared, *, now: datetime) -> Enqueued:
    """Stage 6: put the prepared messages into the outbox."""
    return enqueue(engine, prepared.messages, prepared.problems, now=now)


def prepare_manual(
    engine: Engine,
    setup: Setup,
    renderer: MessageRenderer,
    notifications: list[Notification],
    *,
    now: datetime,
    force: bool = False,
    links: Links | None = None,
) -> Prepared:
    """Stages 3 to 5 for a manual trigger's notifications (delivery/manual.py built them: stage 1);
    ``force`` puts them under new keys, so what was sent today is sent again."""
    from delivery.manual import forced, manual_rules

    if force:
        notifications = forced(notifications, known_keys(engine))
    return prepare(
        engine,
        setup,
        renderer,
        notifications,
        now=now,
        origin="manual",
        links=links,
        unbundled_rules=unbundled((), manual_rules(setup.rules)),
    )


def scheduled(
    engine: Engine,
    settings: Settings,
    directory: Directory,
    renderer: MessageRenderer,
    *,
    start: date,
    end: date,
    window: PassWindow,
) -> Enqueued:
    """A scheduled pass's stages 1 to 6: plan ``start``..``end``, keep what ``window`` keeps, enqueue it."""
    setup = Setup.load(engine, settings, directory)
    links = completion_links(settings, window.now)

    def build() -> Prepared:
        planned = plan(setup.inputs, setup.rules, setup.calendar, start, end)
        notifications = [n for n in planned if window.keeps(n)]
        return prepare(
            engine,
            setup,
            renderer,
            notifications,
            now=window.now,
            origin="planner",
            links=links,
            left_out=superseded(notifications),
        )

    prepared, enqueued = with_retries(build, lambda p: commit(engine, p, now=window.now))
    enqueued.planned = len(prepared.notifications)
    log.info(
        "enqueued planned=%d new_messages=%d items=%d skipped=%d from=%s to=%s",
        enqueued.planned,
        enqueued.new_messages,
        enqueued.new_items,
        enqueued.skipped,
        start.isoformat(),
        end.isoformat(),
    )
    return enqueued


SLICE_DELIVERIES = 500  # a catch-up day with more deliveries is prepared a few recipients at a time


def _slices(notifications: Sequence[Notification]) -> list[frozenset[str] | None]:
    """A heavy day's recipients in groups, each prepared and written on its own (memory stays that of one
    group's messages; each recipient's items still share their messages); [None] (everyone) for a light day."""
    codes: dict[str, int] = {}
    for n in notifications:
        for r in n.recipients:
            codes[r.code] = codes.get(r.code, 0) + 1
    if sum(codes.values()) <= SLICE_DELIVERIES:
        return [None]
    slices: list[frozenset[str] | None] = []
    group: list[str] = []
    size = 0
    for code, count in sorted(codes.items()):
        if group and size + count > SLICE_DELIVERIES:
            slices.append(frozenset(group))
            group, size = [], 0
        group.append(code)
        size += count
    slices.append(frozenset(group))
    return slices


def catch_up(
    engine: Engine,
    settings: Settings,
    directory: Directory,
    renderer: MessageRenderer,
    *,
    start: date,
    end: date,
    window: PassWindow,
    chunk_days: int = 31,
) -> Iterator[tuple[date, Enqueued]]:
    """A scheduled pass after long downtime, day by day: yields each day of ``start``..``end`` once its
    messages are in the outbox (the caller sends them before asking for the next day).

    Memory stays bounded by one chunk of ``chunk_days`` days of notifications: the interval is planned a
    chunk at a time, twice (first only to learn the latest moment of every series, so each recipient
    still gets only the latest of a series, as :func:`scheduled` does in one go).
    """
    setup = Setup.load(engine, settings, directory)
    links = completion_links(settings, window.now)
    chunks = []
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=chunk_days - 1))
        chunks.append((first, last))
        first = last + timedelta(days=1)
    latest: dict[tuple[Any, ...], datetime] = {}
    for first, last in chunks:
        latest_of_series(
            (n for n in plan(setup.inputs, setup.rules, setup.calendar, first, last) if window.keeps(n)),
            latest,
        )
    for first, last in chunks:
        by_day: dict[date, list[Notification]] = {}
        for n in plan(setup.inputs, setup.rules, setup.calendar, first, last):
            if window.keeps(n):
                by_day.setdefault(n.at.date(), []).append(n)
        day = first
        while day <= last:
            notifications = by_day.pop(day, [])
            enqueued = Enqueued()
            if notifications:
                left_out = superseded(notifications, latest)
                for only in _slices(notifications):

                    def build(
                        notifications: list[Notification] = notifications,
                        left_out: frozenset[str] = left_out,
                        only: frozenset[str] | None = only,
                    ) -> Prepared:
                        return prepare(
                            engine,
                            setup,
                            renderer,
                            notifications,
                            now=window.now,
                            origin="planner",
                            links=links,
                            left_out=left_out,
                            only=only,
                        )

                    prepared, part = with_retries(build, lambda p: commit(engine, p, now=window.now))
                    del prepared
                    enqueued.new_messages += part.new_messages
                    enqueued.new_items += part.new_items
                    enqueued.skipped += part.skipped
                    enqueued.new_problems += part.new_problems
                enqueued.planned = len(notifications)
            log.info(
                "catch-up day=%s planned=%d new_messages=%d items=%d skipped=%d",
                day.isoformat(),
                enqueued.planned,
                enqueued.new_messages,
                enqueued.new_items,
                enqueued.skipped,
            )
            yield day, enqueued
            day += timedelta(days=1)


def preview(
    engine: Engine,
    setup: Setup,
    renderer: MessageRenderer,
    *,
    start: date,
    end: date,
    codes: frozenset[str],
    now: datetime,
) -> Prepared:
    """Who gets what: the messages the days ``start``..``end`` will carry to the recipients ``codes``,
    as the scheduled passes will build them (items already in the outbox left out); nothing is written."""
    notifications = [
        n
        for n in plan(setup.inputs, setup.rules, setup.calendar, start, end)
        if any(r.code in codes for r in n.recipients)
    ]
    return prepare(
        engine, setup, renderer, notifications, now=now, origin="preview", only=codes, catch_up=False
    )


# -- messages written by hand: a test (`nhacviec test-send`), a reply to an invite code sent on Zalo ----------

TEST_KIND = "test"
REPLY_KIND = "reply"


def direct_message(
    key: str,
    kind: str,
    channel: str,
    recipient: str,
    name: str,
    address: str,
    text: str,
    *,
    now: datetime,
    subject: str = "",
) -> NewMessage:
    """One message that no rule planned, as stages 3 to 5 would leave it: one item, plain text, due ``now``
    (the Telegram notifier escapes plain text; email has no HTML part)."""
    item = NewItem(
        key=key, notification_key=key.split("|")[0], kind=kind, rule=kind, recipient=recipient, role="to"
    )
    return NewMessage(
        key=key,
        channel=channel,
        recipient=recipient,
        recipient_name=name,
        address=address,
        status=OutboxStatus.PENDING,
        due_at=now,
        created_at=now,
        items=(item,),
        subject=subject,
        body_text=text,
        origin=kind,
    )


@dataclass(frozen=True)
class TestSend:
    """What `test-send` put in the outbox, and what it could not (channel -> the reason, one sentence)."""

    messages: list[NewMessage]
    refused: dict[str, str]


def test_messages(
    directory: Directory,
    code: str,
    channels: Sequence[str],
    *,
    now: datetime,
    aliases: Mapping[str, Mapping[str, str]] | None = None,
) -> TestSend:
    """A short test message to ``code`` ("TCCB", "TCCB.head", "PGD1") on each of ``channels`` (empty: every
    channel the recipient has an address on), under a new key each time."""
    import secrets

    person = addressee(directory, code)
    wanted = list(channels) or [c for c, s in CHANNELS.items() if getattr(person.contacts, s.contact_field)]
    nonce = secrets.token_hex(6)
    text = (
        f"Tin thử của Nhắc việc gửi {person.name} lúc {now:%H:%M %d/%m/%Y}: kênh này đã nhận được nhắc việc. "
        "Không cần trả lời tin này."
    )
    messages, refused = [], {}
    for channel in wanted:
        spec = CHANNELS[channel]
        address = getattr(person.contacts, spec.contact_field)
        if address and aliases and channel in aliases:
            address = aliases[channel].get(address, address)
        if not address:
            fallback = getattr(person.contacts, spec.fallback_field) if spec.fallback_field else None
            refused[channel] = (
                f"{person.name} chỉ có số điện thoại cho Zalo: tin ZNS phải theo mẫu Zalo đã duyệt, nên tin thử "
                f"cần mã người dùng Zalo ('nhacviec units invite {code.removesuffix('.head')} --channel zalo')."
                if fallback
                else missing_address(person.name, channel)
            )
            continue
        key = f"test/{code}/{nonce}|{code}|{channel}"
        subject = "[Nhắc việc] Tin thử" if channel == "email" else ""
        messages.append(
            direct_message(
                key, TEST_KIND, channel, code, person.name, address, text, now=now, subject=subject
            )
        )
    return TestSend(messages, refused)


def reply(
    engine: Engine,
    key: str,
    channel: str,
    recipient: str,
    name: str,
    address: str,
    text: str,
    *,
    now: datetime,
) -> Enqueued:
    """Stage 6 for an answer to someone who wrote to us (an invite code on Zalo): the next dispatch sends it.
    ``key`` comes from what they sent, so a repeated webhook call answers once."""
    return enqueue(
        engine,
        [direct_message(key, REPLY_KIND, channel, recipient, name, address, text, now=now)],
        {},
        now=now,
    )


async def send_test(
    engine: Engine,
    settings: Settings,
    directory: Directory,
    code: str,
    channels: Sequence[str],
    *,
    now: datetime,
) -> tuple[TestSend, dict[str, OutboxMessage]]:
    """Stages 6 and 7: enqueue the test messages and send what is due now (they, and anything else due);
    returns them as the outbox holds them afterwards, per channel."""
    prepared = test_messages(directory, code, channels, now=now, aliases=address_aliases(engine))
    enqueue(engine, prepared.messages, {}, now=now)
    await dispatch(engine, settings, now)
    keys = [message.key for message in prepared.messages]
    with session_scope(engine) as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.key).in_(keys))).all()
    return prepared, {row.channel: row for row in rows}
