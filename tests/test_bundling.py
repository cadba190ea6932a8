"""Bundling: one message per address, channel and send time, most urgent first, split only past the channel's
limit without cutting an item; idempotency per item; opting out; the pipeline's pure stages."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy.engine import Engine

from delivery.pipeline import (
    Contexts,
    Delivery,
    bundle,
    bundle_key,
    render,
    resolve,
    superseded,
    unbundled,
)
from plan.units import Contacts
from planner.model import Notification
from planner.planner import PlannerInput
from rules.channels import CHANNELS
from rules.model import NotificationKind, parse_rule
from store import outbox
from store.db import session_scope
from store.models import OutboxStatus
from templates.render import Renderer, length
from tests.support.planning_fixtures import (
    calendar,
    default_rules,
    directory,
    sample_reporting,
    sample_tasks,
    simulate,
)

TZ = calendar().tz
BUSY_DAY = date(2020, 12, 10)  # escalations of several tasks reach the Director, the Office is in copy of all


def at(day: date, hour: int = 7, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def planned(start: date, end: date | None = None) -> list[Notification]:
    return simulate(start=start, end=end or start)


def deliveries(notifications: list[Notification], **options: object) -> list[Delivery]:
    return resolve(notifications, directory(), **options).deliveries  # type: ignore[arg-type]


def contexts() -> Contexts:
    return Contexts(PlannerInput(sample_tasks(), directory(), (sample_reporting(),)), directory())


# -- bundling --------------------------------------------------------------------------------------------


def test_everything_for_one_address_on_one_channel_at_one_moment_is_one_message() -> None:
    items = deliveries(planned(BUSY_DAY))
    bundles = bundle(items)
    addresses = Counter((b.at, b.channel, b.address) for b in bundles)
    assert set(addresses.values()) == {1}
    carried = [d.key for b in bundles for d in b.items]
    assert sorted(carried) == sorted(d.key for d in items)  # every item in exactly one message
    office = [b for b in bundles if b.first.recipient.code == "VP" and b.channel == "email"]
    assert len(office) == 1 and len(office[0].items) > 3
    assert len(bundles) < len(items)


def test_items_go_most_urgent_first_escalations_by_rung_then_overdue_then_nearest_due() -> None:
    catch_up = planned(date(2020, 11, 25), date(2020, 12, 14))
    to_office = [d for d in deliveries(catch_up) if d.recipient.code == "VP" and d.channel == "email"]
    [message] = bundle(to_office, not_before=at(date(2020, 12, 14)))
    kinds = [d.notification.kind for d in message.items]
    escalations = [d for d in message.items if d.notification.kind == NotificationKind.ESCALATION]
    assert kinds[: len(escalations)] == [NotificationKind.ESCALATION] * len(escalations)
    levels = [d.notification.level for d in escalations]
    assert levels == sorted(levels, reverse=True)
    reminders = [
        d.notification.data["working_days_left"] for d in message.items if d.notification.kind == "reminder"
    ]
    assert reminders == sorted(reminders)


def test_what_asks_the_reader_to_act_comes_before_what_is_in_copy() -> None:
    monday = date(2020, 12, 7)  # the Deputy Director: escalations to act on, others in copy, the digest
    items = [d for d in deliveries(planned(monday)) if d.recipient.code == "PGD1" and d.channel == "email"]
    [message] = bundle(items)
    escalations = [d.recipient.role for d in message.items if d.notification.kind == "escalation"]
    assert {"to", "cc"} <= set(escalations) and escalations == sorted(
        escalations, key=lambda role: role != "to"
    )
    assert message.items[-1].notification.kind == "digest"


def test_a_bundles_key_comes_from_its_items_keys_and_a_single_item_keeps_its_own() -> None:
    items = [d for d in deliveries(planned(BUSY_DAY)) if d.recipient.code == "VP" and d.channel == "email"]
    moment = items[0].notification.at
    assert bundle_key(items, moment) == bundle_key(list(reversed(items)), moment)
    assert bundle_key(items[:-1], moment) != bundle_key(items, moment)
    assert bundle_key(items[:1], moment) == items[0].key
    assert bundle_key(items, moment).startswith(f"bundle/{moment:%Y-%m-%dT%H:%M}/VP|email/")


def test_what_was_missed_goes_at_the_moment_of_the_pass_in_one_message() -> None:
    week = deliveries(planned(date(2020, 11, 30), BUSY_DAY))
    now = at(BUSY_DAY, 9, 0)
    bundles = bundle(week, not_before=now)
    assert {b.at for b in bundles} == {now}
    assert set(Counter((b.channel, b.address) for b in bundles).values()) == {1}


def test_a_rule_or_a_recipient_with_bundle_false_goes_on_its_own() -> None:
    notifications = planned(BUSY_DAY)
    urgent = deliveries(notifications, unbundled_rules=frozenset({"escalation"}))
    alone = [b for b in bundle(urgent) if b.first.notification.rule == "escalation"]
    assert alone and all(len(b.items) == 1 for b in alone)
    assert any(
        len(b.items) > 1
        for b in bundle(deliveries(notifications))
        if b.first.notification.rule == "escalation"
    )
    units = directory()
    office = units.unit("VP")
    quiet = replace(
        units, units=tuple(replace(u, bundle=False) if u.code == "VP" else u for u in units.units)
    )
    mine = [b for b in bundle(resolve(notifications, quiet).deliveries) if b.first.recipient.code == "VP"]
    assert mine and all(len(b.items) == 1 for b in mine)
    assert office.bundle


def test_a_zalo_message_that_can_only_go_by_zns_is_not_bundled() -> None:
    zalo_rules = tuple(replace(r, channels=(*r.channels, "zalo")) for r in default_rules())  # type: ignore[arg-type]
    notifications = simulate(rules=zalo_rules, start=BUSY_DAY, end=BUSY_DAY)
    units = directory()
    office = units.unit("VP")
    phone_only = replace(office, contacts=Contacts(email=office.contacts.email, phone="0912345678"))
    units = replace(units, units=tuple(phone_only if u.code == "VP" else u for u in units.units))
    by_phone = [
        b
        for b in bundle(resolve(notifications, units).deliveries)
        if b.channel == "zalo" and b.first.recipient.code == "VP"
    ]
    assert by_phone and all(len(b.items) == 1 and b.first.fallback == "0912345678" for b in by_phone)


def test_rules_and_units_read_bundle_false_and_refuse_anything_else() -> None:
    data = default_rules()[0].to_dict()
    rule, problems = parse_rule(data | {"bundle": False})
    assert rule is not None and not problems and not rule.bundle and rule.to_dict()["bundle"] is False
    assert "bundle" not in default_rules()[0].to_dict()
    assert unbundled([rule]) == frozenset({rule.id})
    _, problems = parse_rule(data | {"bundle": "có"})
    assert [p.field for p in problems] == ["bundle"]


def test_after_downtime_each_recipient_gets_only_the_latest_of_a_series() -> None:
    month = planned(date(2020, 11, 16), BUSY_DAY)
    left_out = superseded(month)
    kept = [(n, r) for n in month for r in n.recipients if n.delivery_key(r) not in left_out]
    series = Counter(
        (n.kind, n.rule, n.plan, n.task, n.period, n.data.get("due"), r.code, r.channel) for n, r in kept
    )
    assert left_out and set(series.values()) == {1}
    for n, r in kept:  # nothing later of the same series to the same recipient
        assert not [
            m
            for m in month
            if (m.kind, m.rule, m.task, m.period, m.data.get("due"))
            == (n.kind, n.rule, n.task, n.period, n.data.get("due"))
            and m.at > n.at
            and r in m.recipients
        ]
    assert superseded(planned(BUSY_DAY)) == frozenset()  # a day's pass: nothing superseded
    items = deliveries(month, left_out=left_out)
    assert {d.key for d in items}.isdisjoint(left_out) and len(items) == len(kept)


# -- rendering ------------------------------------------------------------------------------------------


def big_bundle(channel: str) -> tuple[Delivery, ...]:
    """Everything the Office gets over three weeks, as one message (enough to pass any channel's limit)."""
    rules = tuple(replace(r, channels=("email", "telegram", "zalo")) for r in default_rules())  # type: ignore[arg-type]
    notifications = simulate(rules=rules, start=date(2020, 11, 23), end=BUSY_DAY)
    mine = [d for d in deliveries(notifications) if d.recipient.code == "VP" and d.channel == channel]
    [message] = bundle(mine, not_before=at(BUSY_DAY))
    return message.items


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
def test_a_long_bundle_is_split_at_the_channels_limit_without_cutting_an_item(channel: str) -> None:
    items = big_bundle(channel)
    [message] = bundle(items, not_before=at(BUSY_DAY))
    [rendered] = render([message], contexts(), Renderer(), now=at(BUSY_DAY))
    limit = CHANNELS[channel].limit
    parts = rendered.extra[f"{channel}_parts"]
    assert len(parts) > 1 and all(length(part) <= limit for part in parts)
    numbers = [int(n) for part in parts for n in re.findall(r"^(?:<b>)?(\d+)\. ", part, re.MULTILINE)]
    assert numbers == list(range(1, len(items) + 1))  # each item whole, in order, in exactly one part
    for part in parts:  # an item's section, up to the next item, is all in the part where it starts
        heads = list(re.finditer(r"^(?:<b>)?(\d+)\. ", part, re.MULTILINE))
        for head, following in zip(heads, [*heads[1:], None], strict=True):
            section = part[head.start() : following.start() if following else len(part)]
            code = items[int(head.group(1)) - 1].notification.task
            assert code is None or f"/xong {code}" in section, (head.group(1), code)
    assert "phần 1/" in parts[0] and rendered.subject.startswith("[Tổng hợp nhắc việc")


def test_a_bundle_within_the_limit_is_one_telegram_message() -> None:
    items = [d for d in deliveries(planned(BUSY_DAY)) if d.recipient.code == "GD" and d.channel == "telegram"]
    [message] = bundle(items)
    [rendered] = render([message], contexts(), Renderer(), now=at(BUSY_DAY))
    assert len(items) > 1 and "telegram_parts" not in rendered.extra
    assert rendered.body_html and length(rendered.body_html) <= 4096
    assert rendered.body_html.count("/xong ") == len(items)


def test_the_summary_counts_each_kind_and_the_email_names_every_recipient_of_each_item() -> None:
    items = [d for d in deliveries(planned(BUSY_DAY)) if d.recipient.code == "VP" and d.channel == "email"]
    [message] = bundle(items)
    [rendered] = render([message], contexts(), Renderer(), now=at(BUSY_DAY))
    overdue = sum(1 for d in items if d.notification.kind == "escalation")
    assert rendered.subject.startswith(f"[Tổng hợp nhắc việc 10/12/2020] {overdue} nhiệm vụ quá hạn")
    assert rendered.body_text.count("Nơi nhận: ") == len(items)
    assert "Văn phòng Sở (để biết)" in rendered.body_text
    assert rendered.body_html and rendered.body_html.count("Nơi nhận:") == len(items)


def test_a_reminders_noi_nhan_names_the_lead_the_coordinating_units_and_those_in_copy() -> None:
    reminder = next(
        n
        for n in planned(date(2020, 12, 1), date(2020, 12, 31))
        if n.kind == "reminder" and n.data["task"].coordinating
    )
    task = reminder.data["task"]
    units = directory()
    [lead] = [d for d in deliveries([reminder]) if d.recipient.code == task.lead[0] and d.channel == "email"]
    [rendered] = render(bundle([lead]), contexts(), Renderer(), now=reminder.at)
    expected = "; ".join(
        [f"{units.unit(code).name} (chủ trì)" for code in task.lead]
        + [f"{units.unit(code).name} (phối hợp)" for code in task.coordinating]
    )
    assert f"Nơi nhận: {expected}" in rendered.body_text


# -- idempotency per item -----------------------------------------------------------------------------


def enqueue_day(engine: Engine, notifications: list[Notification]) -> int:
    from delivery.pipeline import known_keys

    resolved = resolve(notifications, directory(), known=known_keys(engine))
    messages = render(bundle(resolved.deliveries), contexts(), Renderer(), now=at(BUSY_DAY))
    with session_scope(engine) as session:
        return outbox.enqueue(session, messages)


def items_by_key(engine: Engine) -> Counter[str]:
    with session_scope(engine) as session:
        messages = outbox.list_messages(session)
        carried = outbox.items_of(session, [m.id for m in messages if m.id is not None])
    return Counter(item.key for items in carried.values() for item in items)


def test_an_item_is_never_enqueued_twice_whatever_is_bundled_again(engine: Engine) -> None:
    notifications = planned(BUSY_DAY)
    late = next(n.task for n in notifications if n.kind == "escalation")
    some = [n for n in notifications if n.task != late]
    assert enqueue_day(engine, some) > 0
    added = enqueue_day(engine, notifications)  # planned again, with one more task: only its items are new
    keys = items_by_key(engine)
    assert set(keys.values()) == {1}
    assert sorted(keys) == sorted(n.delivery_key(r) for n in notifications for r in n.recipients)
    new_items = [k for k in keys if f":{late}/" in k]
    assert 0 < added <= len(new_items)
    assert enqueue_day(engine, notifications) == 0


def test_two_messages_carrying_one_item_are_refused_and_nothing_is_written(engine: Engine) -> None:
    items = [d for d in deliveries(planned(BUSY_DAY)) if d.recipient.code == "VP" and d.channel == "email"]
    first = render(bundle(items[:2]), contexts(), Renderer(), now=at(BUSY_DAY))
    second = render(bundle(items[1:3]), contexts(), Renderer(), now=at(BUSY_DAY))
    with session_scope(engine) as session:
        outbox.enqueue(session, first)
    with pytest.raises(outbox.ItemConflict), session_scope(engine) as session:
        outbox.enqueue(session, second)
    assert sorted(items_by_key(engine)) == sorted(d.key for d in items[:2])


def test_items_skipped_for_want_of_an_address_go_in_a_new_message_once_it_exists(engine: Engine) -> None:
    notifications = planned(BUSY_DAY)
    units = directory()
    office = units.unit("VP")
    no_chat = replace(
        units,
        units=tuple(
            replace(u, contacts=replace(u.contacts, telegram_chat_id=None)) if u.code == "VP" else u
            for u in units.units
        ),
    )
    skipped = render(
        bundle(resolve(notifications, no_chat).deliveries), contexts(), Renderer(), now=at(BUSY_DAY)
    )
    with session_scope(engine) as session:
        outbox.enqueue(session, skipped)
        assert outbox.counts_by_status(session)[OutboxStatus.SKIPPED] == 1
    assert office.contacts.telegram_chat_id
    assert enqueue_day(engine, notifications) >= 1  # the chat id is back: the skipped items go
    with session_scope(engine) as session:
        assert OutboxStatus.SKIPPED not in outbox.counts_by_status(session)
    assert set(items_by_key(engine).values()) == {1}


def test_the_unit_directory_reads_bundle_false_for_a_unit_or_a_person() -> None:
    import yaml

    from config import UNITS_FILE
    from plan.units import UnitsFileError, parse_directory

    data = yaml.safe_load(UNITS_FILE.read_text(encoding="utf-8"))
    data["units"][0]["bundle"] = False
    data["leadership"]["director"]["bundle"] = False
    units = parse_directory(data, "units.yaml")
    assert not units.units[0].bundle and not units.director.bundle and units.units[1].bundle
    data["units"][1]["head"]["bundle"] = "không"
    with pytest.raises(UnitsFileError, match=r"units\[2\]\.head\.bundle: phải là true hoặc false"):
        parse_directory(data, "units.yaml")


def test_retry_takes_a_messages_key_or_the_key_of_an_item_it_carries(engine: Engine) -> None:
    items = [d for d in deliveries(planned(BUSY_DAY)) if d.recipient.code == "VP" and d.channel == "email"]
    [message] = render(bundle(items), contexts(), Renderer(), now=at(BUSY_DAY))
    with session_scope(engine) as session:
        outbox.enqueue(session, [message])
        stored = outbox.list_messages(session)[0]
        stored.status = OutboxStatus.DEAD
        session.add(stored)
    with session_scope(engine) as session:
        assert outbox.requeue(session, key=items[1].key, now=at(BUSY_DAY)) == [message.key]
        assert outbox.requeue(session, key="khong-co", now=at(BUSY_DAY)) == []
        assert outbox.list_messages(session)[0].status == OutboxStatus.PENDING


def test_bundle_false_is_kept_in_the_database_directory_and_set_from_the_cli_words(engine: Engine) -> None:
    import yaml

    from config import UNITS_FILE
    from plan.errors import UserError
    from plan.units import parse_directory
    from store.directory import load_directory, seed_directory, set_fields

    data = yaml.safe_load(UNITS_FILE.read_text(encoding="utf-8"))
    data["leadership"]["director"]["bundle"] = False
    with session_scope(engine) as session:
        seed_directory(session, parse_directory(data, "units.yaml"))
    with session_scope(engine) as session:
        set_fields(session, "TCCB", {"bundle": "false", "head.bundle": "không"})
        with pytest.raises(UserError, match="bundle nhận true"):
            set_fields(session, "VP", {"bundle": "đôi khi"})
    with session_scope(engine) as session:
        units = load_directory(session, UNITS_FILE)
    assert not units.director.bundle and not units.unit("TCCB").bundle
    assert units.unit("TCCB").head is not None and not units.unit("TCCB").head.bundle
    assert units.unit("VP").bundle and units.deputies[0].bundle


def test_a_huge_bundle_goes_as_several_messages_most_urgent_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import delivery.pipeline

    catch_up = planned(date(2020, 11, 25), date(2020, 12, 14))
    to_office = [d for d in deliveries(catch_up) if d.recipient.code == "VP" and d.channel == "email"]
    [whole] = bundle(to_office, not_before=at(date(2020, 12, 14)))
    assert len(whole.items) > 6
    monkeypatch.setattr(delivery.pipeline, "MAX_BUNDLE_ITEMS", 3)
    parts = bundle(to_office, not_before=at(date(2020, 12, 14)))
    assert [len(p.items) for p in parts[:-1]] == [3] * (len(parts) - 1) and 1 <= len(parts[-1].items) <= 3
    assert [d.key for p in parts for d in p.items] == [d.key for d in whole.items]  # the same order, cut
    assert len({p.key for p in parts}) == len(parts)
    assert parts == bundle(to_office, not_before=at(date(2020, 12, 14)))  # the same keys when planned again
