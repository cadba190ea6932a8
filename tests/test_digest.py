"""The weekly digest over the sample plan: exact counts and lists on real dates, and the email a deputy reads."""

from __future__ import annotations

import re
from datetime import date

from planner.digest import DigestCounts, FailedDelivery, build_digest
from planner.model import StatusChange, TaskInput
from templates.context import message_context
from templates.render import Renderer
from tests.support.planning_fixtures import directory, sample_reporting, sample_tasks, simulate

DEC_7 = date(2020, 12, 7)  # a Monday: the digest's day
RECEIVED = {
    ("PCMNV", "Q1"): date(2020, 3, 16),
    ("DVTH", "Q1"): date(2020, 3, 18),
    ("PCMNV", "Q2"): date(2020, 6, 15),  # answers the 6-month request too (Q2 and H1 close the same day)
    ("DVTH", "9M"): date(2020, 12, 8),  # after 7/12: still outstanding on 7/12
}
FAILED = [
    {"recipient": "TCCB.head", "channel": "telegram", "error": "Forbidden: bot was blocked", "task": "IV.4"}
]


def _changed(changes: dict[str, tuple[StatusChange, ...]]) -> tuple[TaskInput, ...]:
    from dataclasses import replace

    return tuple(replace(t, changes=changes[t.code]) if t.code in changes else t for t in sample_tasks())


def december_tasks() -> tuple[TaskInput, ...]:
    """The sample plan on 7/12/2020 with some work reported: four tasks done, one extended, one dated."""
    return _changed(
        {
            "I.1": (StatusChange(date(2020, 1, 30), "done"),),
            "VII.7": (StatusChange(date(2020, 11, 20), "done"),),
            "IV.4": (StatusChange(date(2020, 12, 3), "done"),),
            "VII.9": (StatusChange(DEC_7, "done"),),  # done on the digest's day: counted, not "last week"
            "VII.6": (StatusChange(date(2020, 12, 1), "extended", date(2020, 12, 11)),),
            "II.2": (StatusChange(date(2020, 11, 2), "due_set", date(2020, 12, 18)),),
        }
    )


def codes(lines) -> list[str]:  # type: ignore[no-untyped-def]
    return [line.code for line in lines]


def test_digest_of_the_whole_plan_on_7_december_counts_every_task_once() -> None:
    digest = build_digest(
        december_tasks(),
        DEC_7,
        units=None,
        reporting=(sample_reporting(RECEIVED),),
        failed_deliveries=FAILED,
    )
    assert digest.counts == DigestCounts(total=35, done=4, on_track=23, due_soon=1, overdue=7, needs_date=1)
    assert [(group.unit, codes(group.tasks)) for group in digest.overdue_by_unit] == [
        ("VP", ["I.2", "II.1", "VII.8", "VI.2", "VII.2"]),  # most overdue first
        ("TCCB", ["IV.3"]),
        ("CNTT", ["VI.1"]),
    ]
    assert [t.days_overdue for t in digest.overdue_by_unit[0].tasks] == [311, 311, 160, 68, 68]
    # VII.6 extended to 11/12 (4 days left), II.2 given 18/12 (11 days): due in the next 14 days
    assert [(t.code, t.due, t.days_left) for t in digest.due_soon] == [
        ("VII.6", date(2020, 12, 11), 4),
        ("II.2", date(2020, 12, 18), 11),
    ]
    assert [(t.code, t.done_on) for t in digest.done_last_week] == [("IV.4", date(2020, 12, 3))]
    assert codes(digest.needs_date) == ["IV.8"]
    assert [(r.period.code, r.covers, r.units) for r in digest.reports_outstanding] == [
        ("H1", ("H1", "Q2"), ("DVTH",)),
        ("9M", ("9M", "Q3"), ("PCMNV", "DVTH")),
    ]
    assert digest.failed_deliveries == (
        FailedDelivery("TCCB.head", "telegram", "Forbidden: bot was blocked", task="IV.4"),
    )


def test_a_deputys_digest_covers_only_the_units_he_supervises() -> None:
    pgd1 = ("VP", "TCCB", "CNTT", "PCMNV")
    digest = build_digest(december_tasks(), DEC_7, units=pgd1, reporting=(sample_reporting(RECEIVED),))
    assert digest.counts == DigestCounts(total=31, done=4, on_track=19, due_soon=1, overdue=7, needs_date=1)
    assert [group.unit for group in digest.overdue_by_unit] == ["VP", "TCCB", "CNTT"]  # in the order given
    assert [(r.period.code, r.units) for r in digest.reports_outstanding] == [("9M", ("PCMNV",))]

    pgd2 = ("KHTC", "TTRA", "DVTH")  # V.1, V.2, I.3 and VII.5 (led by the Office and the Inspectorate)
    digest = build_digest(december_tasks(), DEC_7, units=pgd2, reporting=(sample_reporting(RECEIVED),))
    assert digest.counts == DigestCounts(total=4, done=0, on_track=4, due_soon=0, overdue=0, needs_date=0)
    assert digest.overdue_by_unit == ()
    assert [(r.period.code, r.units) for r in digest.reports_outstanding] == [
        ("H1", ("DVTH",)),
        ("9M", ("DVTH",)),
    ]


def test_early_february_only_the_january_tasks_are_overdue_and_no_report_is_due_yet() -> None:
    digest = build_digest(sample_tasks(), date(2020, 2, 3), units=None, reporting=(sample_reporting(),))
    assert digest.counts == DigestCounts(total=35, done=0, on_track=30, due_soon=0, overdue=3, needs_date=2)
    assert [(g.unit, codes(g.tasks)) for g in digest.overdue_by_unit] == [("VP", ["I.1", "I.2", "II.1"])]
    assert [t.days_overdue for t in digest.overdue_by_unit[0].tasks] == [3, 3, 3]
    assert codes(digest.needs_date) == ["II.2", "IV.8"]
    assert digest.due_soon == () and digest.reports_outstanding == ()


def test_a_task_done_then_reopened_is_open_again() -> None:
    tasks = _changed(
        {"IV.4": (StatusChange(date(2020, 11, 25), "done"), StatusChange(date(2020, 12, 2), "reopened"))}
    )
    digest = build_digest(tasks, DEC_7, units=("TCCB",))
    assert "IV.4" in codes(digest.overdue_by_unit[0].tasks)
    assert digest.counts.done == 0 and digest.done_last_week == ()


def _digest_email(digest) -> str:  # type: ignore[no-untyped-def]
    notification = next(
        n for n in simulate() if n.kind == "digest" and n.at.date() == DEC_7 and n.data["recipient"] == "PGD1"
    )
    context = message_context(notification, notification.recipients[0], directory(), digest=digest)
    rendered = Renderer().render("digest", "email", context)
    assert rendered.html is not None
    return rendered.html


def _count_cell(html: str, label: str) -> str:
    match = re.search(r">(\d+)</div>\s*<div[^>]*>" + re.escape(label) + "<", html)
    assert match, label
    return match.group(1)


def test_the_digest_email_shows_the_counts_and_every_section() -> None:
    units = ("VP", "TCCB", "CNTT", "PCMNV")
    digest = build_digest(
        december_tasks(),
        DEC_7,
        units=units,
        reporting=(sample_reporting(RECEIVED),),
        failed_deliveries=FAILED,
    )
    html = _digest_email(digest)
    assert {
        label: _count_cell(html, label)
        for label in (
            "Tổng số nhiệm vụ",
            "Đã hoàn thành",
            "Đúng tiến độ",
            "Đến hạn trong 7 ngày",
            "Quá hạn",
            "Chưa có thời hạn",
        )
    } == {
        "Tổng số nhiệm vụ": "31",
        "Đã hoàn thành": "4",
        "Đúng tiến độ": "19",
        "Đến hạn trong 7 ngày": "1",
        "Quá hạn": "7",
        "Chưa có thời hạn": "1",
    }
    for section in (
        "Quá hạn theo đơn vị (7)",
        "Đến hạn trong 14 ngày tới (2)",
        "Hoàn thành tuần qua (1)",
        "Chưa có thời hạn (1)",
        "Báo cáo định kỳ chưa nộp",
        "Thông báo gửi không thành công (1)",
    ):
        assert section in html
    assert "Kính gửi: <b>Đồng chí Trần Thị B, Phó Giám đốc Sở</b>" in html
    assert "Phòng Tổ chức cán bộ" in html and "quá 251 ngày" in html  # IV.3, due 31/03/2020
    assert "Báo cáo 9 tháng năm 2020" in html and "Forbidden: bot was blocked" in html
    assert "còn 4 ngày" in html and "Thứ Sáu, 11/12/2020" in html  # VII.6 after its extension
    assert "<style" not in html and "max-width:640px" in html  # inline CSS, one phone-sized column


def test_a_quiet_week_says_so_instead_of_showing_empty_tables() -> None:
    html = _digest_email(build_digest(sample_tasks(), date(2020, 1, 6), units=("TTRA",)))
    assert "Không có nhiệm vụ quá hạn." in html
    assert "Báo cáo định kỳ chưa nộp" not in html and "Thông báo gửi không thành công" not in html


def test_a_digest_of_a_big_plan_lists_at_most_a_hundred_tasks_a_list_in_an_email() -> None:
    from dataclasses import replace

    from templates.render import LIST_LIMIT_UNBOUNDED

    late = build_digest(sample_tasks(), DEC_7, units=None).overdue_by_unit[0].tasks[0].code
    overdue = next(t for t in sample_tasks() if t.code == late)
    many = tuple(replace(overdue, code=f"X.{i}", position=1000 + i) for i in range(3000))
    digest = build_digest((*sample_tasks(), *many), DEC_7, units=None)
    biggest = max(digest.overdue_by_unit, key=lambda group: len(group.tasks))
    assert len(biggest.tasks) > 3000
    html = _digest_email(digest)
    assert html.count("X.") <= LIST_LIMIT_UNBOUNDED + 5
    assert f"… và {len(biggest.tasks) - LIST_LIMIT_UNBOUNDED} nhiệm vụ khác" in html
    assert len(html) < 500_000
