"""The weekly digest: at most one per Deputy Director per ISO week whatever the holidays, working days
everywhere (subject agrees with body), a table per unit, what became overdue and what was done since the
last digest, and a link to the dashboard."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from delivery.pipeline import Contexts
from planner.digest import SOON_WORKING_DAYS, build_digest
from planner.model import StatusChange
from planner.planner import PlannerInput
from rules.model import NotificationKind, Role
from templates.render import Renderer
from tests.support.planning_fixtures import calendar, directory, sample_tasks, simulate


def digests(start: date, end: date):  # type: ignore[no-untyped-def]
    return [n for n in simulate(start=start, end=end) if n.kind == NotificationKind.DIGEST]


def test_2026_has_no_week_with_two_digests_for_one_person() -> None:
    planned = digests(date(2026, 1, 1), date(2026, 12, 31))
    per_week = Counter(
        (r.code, n.at.date().isocalendar()[:2])
        for n in planned
        for r in n.recipients
        if r.role == Role.TO and r.channel == "email"
    )
    assert per_week and max(per_week.values()) == 1
    by_day = Counter((n.data["recipient"], n.at.date()) for n in planned)
    assert max(by_day.values()) == 1
    # Tết 2026: Monday 16/02 to Friday 20/02 off: week 08 has no digest, week 09 has its own on 23/02.
    days = sorted({n.at.date() for n in planned})
    assert date(2026, 2, 23) in days
    assert not [d for d in days if d.isocalendar()[1] == 8]
    # every digest goes on a working day of its own ISO week
    for n in planned:
        week = n.key.split("/")[2]
        assert week == f"{n.at.date().isocalendar()[0]}-W{n.at.date().isocalendar()[1]:02d}"
        assert calendar().is_working_day(n.at.date())
    # the one after the holiday week reports since the last digest (Monday 09/02)
    after = next(n for n in planned if n.at.date() == date(2026, 2, 23))
    assert after.data["since"] == date(2026, 2, 9)


def test_a_monday_holiday_moves_the_digest_within_its_week() -> None:
    # Monday 31/08/2026 is off (swapped for Saturday 22/08), 01/09 and 02/09 are the National Day: Thursday 03/09.
    planned = digests(date(2026, 8, 24), date(2026, 9, 13))
    assert sorted({n.at.date() for n in planned}) == [date(2026, 8, 24), date(2026, 9, 3), date(2026, 9, 7)]


def test_the_digest_counts_working_days_and_tells_what_changed_since_the_last_one() -> None:
    tasks = tuple(
        # VII.6 done on time, IV.4 done late (due 30/11/2020)
        t.__class__(**{**t.__dict__, "changes": (StatusChange(date(2020, 12, 2), "done"),)})
        if t.code in ("VII.6", "IV.4")
        else t
        for t in sample_tasks()
    )
    as_of, since = date(2020, 12, 7), date(2020, 11, 30)
    digest = build_digest(tasks, as_of, units=("TCCB", "VP"), calendar=calendar(), since=since)
    assert digest.working_days and digest.since == since
    # IV.4 due Monday 30/11 was done 02/12: done since the last digest, not on time
    assert [t.code for t in digest.done_last_week] == ["IV.4"] or "IV.4" in [
        t.code for t in digest.done_last_week
    ]
    tccb = next(row for row in digest.units if row.unit == "TCCB")
    assert tccb.done >= 1 and tccb.done_on_time < tccb.done
    assert tccb.total == sum(1 for t in tasks if "TCCB" in t.lead)
    # overdue days are working days: a task due Monday 30/11 is 5 working days late on Monday 07/12
    for group in digest.overdue_by_unit:
        for line in group.tasks:
            assert line.due is not None
            assert line.days_overdue == calendar().working_days_between(line.due, as_of)
    # "became overdue": overdue now, due on or after the last digest
    assert all(line.due is not None and since <= line.due < as_of for line in digest.became_overdue)
    # one window for the count and the list
    assert digest.counts.due_soon == len(digest.due_soon)
    assert all((line.days_left or 0) <= SOON_WORKING_DAYS for line in digest.due_soon)


def test_the_subject_agrees_with_the_body_and_links_to_the_dashboard() -> None:
    notification = next(
        n
        for n in simulate(start=date(2020, 12, 7), end=date(2020, 12, 7))
        if n.kind == NotificationKind.DIGEST
    )
    inputs = PlannerInput(tasks=sample_tasks(), directory=directory())
    contexts = Contexts(
        inputs, directory(), calendar=calendar(), dashboard_url="https://nhacviec.example.vn/"
    )
    recipient = notification.recipients[0]
    renderer = Renderer()
    email = renderer.render("digest", "email", contexts.item(notification, recipient))
    soon = re.search(r"(\d+) đến hạn trong 10 ngày làm việc tới", email.subject)
    assert soon, email.subject
    listed = re.search(r"Đến hạn trong 10 ngày làm việc tới \((\d+)\)", email.html or "")
    assert listed and listed.group(1) == soon.group(1)
    assert "7 ngày" not in email.subject and "14 ngày" not in (email.html or "")
    assert "https://nhacviec.example.vn/" in email.text and "https://nhacviec.example.vn/" in (
        email.html or ""
    )
    assert "Theo đơn vị chủ trì" in (email.html or "") and "THEO ĐƠN VỊ CHỦ TRÌ" in email.text
    assert "Mới quá hạn từ bản tin trước, 30/11/2020" in (email.html or "")
    assert "Kế hoạch CCHC-2020" in (email.html or "")
    for channel in ("telegram", "zalo"):
        body = renderer.render("digest", channel, contexts.item(notification, recipient)).text
        assert "10 ngày làm việc tới" in body and "https://nhacviec.example.vn/" in body
