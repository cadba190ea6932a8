"""The planner over the whole year 2020 of the sample plan, with the default rules, on real dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

import pytest
from freezegun import freeze_time

from planner.model import Notification, StatusChange
from tests.support.planning_fixtures import (
    calendar,
    default_rules,
    sample_reporting,
    sample_tasks,
    simulate,
    with_changes,
)

YEAR = simulate()


def days(notifications: list[Notification], kind: str, task: str | None = None) -> list[date]:
    return [n.at.date() for n in notifications if n.kind == kind and (task is None or n.task == task)]


def test_task_i1_gets_its_kickoff_and_reminders_in_january_around_tet() -> None:
    assert days(YEAR, "kickoff", "I.1") == [date(2020, 1, 2)]  # 1 January is a holiday
    # 14, 7, 3 and 1 working days before 31/01/2020, counting around Tết (23-29/01/2020 off).
    assert days(YEAR, "reminder", "I.1") == [
        date(2020, 1, 6),
        date(2020, 1, 15),
        date(2020, 1, 21),
        date(2020, 1, 30),
    ]
    reminder = next(n for n in YEAR if n.kind == "reminder" and n.task == "I.1")
    assert {(r.code, r.role) for r in reminder.recipients} == {("VP", "to"), ("PCMNV", "cc")}


def test_nothing_lands_on_a_weekend_or_a_public_holiday_and_all_at_the_send_time() -> None:
    cal = calendar()
    for notification in YEAR:
        local = notification.at.astimezone(cal.tz)
        assert cal.is_working_day(local.date()), notification.key
        assert local.time() == time(7, 30)
        assert notification.at.utcoffset().total_seconds() == 7 * 3600


def test_iv4_escalates_in_december_up_to_the_director_when_never_done() -> None:
    escalations = [(n.at.date(), n.level) for n in YEAR if n.kind == "escalation" and n.task == "IV.4"]
    # due 30/11/2020 ("Trước tháng 12/2020"): +1, +5, +10 working days, then the top level every 5.
    assert escalations == [
        (date(2020, 12, 1), 1),
        (date(2020, 12, 7), 2),
        (date(2020, 12, 14), 3),
        (date(2020, 12, 21), 3),
        (date(2020, 12, 28), 3),
    ]
    by_level = {n.level: n for n in YEAR if n.kind == "escalation" and n.task == "IV.4"}
    assert [r.code for r in by_level[1].recipients if r.role == "to"] == ["TCCB.head", "TCCB.head"]
    assert {r.code for r in by_level[2].recipients if r.role == "to"} == {"PGD1"}
    assert {r.code for r in by_level[3].recipients if r.role == "to"} == {"GD"}


def test_escalation_stops_the_day_the_task_is_marked_done() -> None:
    done = simulate(with_changes("IV.4", StatusChange(date(2020, 12, 7), "done")))
    assert days(done, "escalation", "IV.4") == [date(2020, 12, 1)]
    assert days(done, "reminder", "IV.4") == days(YEAR, "reminder", "IV.4")


def test_an_extension_stops_the_ladder_and_restarts_it_from_the_new_due_date() -> None:
    extended = simulate(with_changes("IV.4", StatusChange(date(2020, 12, 3), "extended", date(2020, 12, 18))))
    escalations = [(n.at.date(), n.level) for n in extended if n.kind == "escalation" and n.task == "IV.4"]
    assert escalations == [(date(2020, 12, 1), 1), (date(2020, 12, 21), 1), (date(2020, 12, 25), 2)]
    reminders = days(extended, "reminder", "IV.4")
    # the reminders of the old date, then those of the new one that fall after the extension was given
    assert reminders == [
        date(2020, 11, 10),
        date(2020, 11, 19),
        date(2020, 11, 25),
        date(2020, 11, 27),
        date(2020, 12, 9),
        date(2020, 12, 15),
        date(2020, 12, 17),
    ]


def test_reopening_a_task_resumes_its_escalation() -> None:
    tasks = with_changes(
        "IV.4", StatusChange(date(2020, 12, 2), "done"), StatusChange(date(2020, 12, 10), "reopened")
    )
    assert days(simulate(tasks), "escalation", "IV.4") == [
        date(2020, 12, 1),
        date(2020, 12, 14),
        date(2020, 12, 21),
        date(2020, 12, 28),
    ]


def test_undated_tasks_get_no_reminders_but_are_listed_in_monthly_needs_date_notes() -> None:
    for code in ("II.2", "IV.8"):
        assert not [n for n in YEAR if n.task == code]
    notes = [n for n in YEAR if n.kind == "needs_date"]
    assert len(notes) == 12
    assert notes[0].at.date() == date(2020, 1, 2)
    assert notes[1].at.date() == date(2020, 2, 3)  # first working day of February
    assert [t.code for t in notes[0].data["tasks"]] == ["II.2", "IV.8"]
    assert {(r.code, r.role) for r in notes[0].recipients} == {("VP", "to")}


def test_setting_a_due_date_turns_an_undated_task_into_a_reminded_one() -> None:
    tasks = with_changes("II.2", StatusChange(date(2020, 6, 1), "due_set", date(2020, 9, 30)))
    result = simulate(tasks)
    assert days(result, "reminder", "II.2") == [
        date(2020, 9, 10),
        date(2020, 9, 21),
        date(2020, 9, 25),
        date(2020, 9, 29),
    ]
    notes = [n for n in result if n.kind == "needs_date"]
    assert [t.code for t in notes[5].data["tasks"]] == ["IV.8"]  # June: II.2 has a date now
    assert [t.code for t in notes[4].data["tasks"]] == ["II.2", "IV.8"]


def test_four_report_periods_produce_requests_reminders_and_follow_ups() -> None:
    requests = [(n.at.date(), n.period) for n in YEAR if n.kind == "report_request"]
    # cut-offs 14/3, 14/6, 14/9, 14/12 (Decree 09/2019); requests 5 working days before.
    assert requests == [
        (date(2020, 3, 9), "2020-Q1"),
        (date(2020, 6, 8), "2020-H1"),
        (date(2020, 9, 7), "2020-9M"),
        (date(2020, 12, 7), "2020-Y"),
    ]
    assert days(YEAR, "report_reminder") == [
        date(2020, 3, 13),
        date(2020, 6, 12),
        date(2020, 9, 11),
        date(2020, 12, 11),
    ]
    assert days(YEAR, "report_followup") == [
        date(2020, 3, 16),
        date(2020, 6, 15),
        date(2020, 9, 15),
        date(2020, 12, 15),
    ]
    request = next(n for n in YEAR if n.kind == "report_request")
    assert {(r.code, r.role) for r in request.recipients} == {("PCMNV", "to"), ("DVTH", "to"), ("VP", "cc")}
    h1 = next(n for n in YEAR if n.kind == "report_request" and n.period == "2020-H1")
    assert h1.data["covers"] == ["Q2", "H1"] or sorted(h1.data["covers"]) == ["H1", "Q2"]


def test_report_follow_up_goes_only_to_units_that_have_not_reported() -> None:
    reporting = sample_reporting({("PCMNV", "Q1"): date(2020, 3, 12), ("DVTH", "Q2"): date(2020, 6, 20)})
    result = simulate(reporting=reporting)
    q1_reminder = next(n for n in result if n.kind == "report_reminder" and n.period == "2020-Q1")
    assert {r.code for r in q1_reminder.recipients} == {"DVTH"}
    h1_followup = next(n for n in result if n.kind == "report_followup" and n.period == "2020-H1")
    assert {r.code for r in h1_followup.recipients if r.role == "to"} == {
        "PCMNV",
        "DVTH",
    }  # DVTH reported late
    everyone = sample_reporting({(u, "9M"): date(2020, 9, 1) for u in ("PCMNV", "DVTH")})
    assert not [
        n for n in simulate(reporting=everyone) if n.period == "2020-9M" and n.kind != "report_request"
    ]


def test_weekly_digests_land_on_mondays_or_the_next_working_day() -> None:
    digests = [n for n in YEAR if n.kind == "digest"]
    deputies = {n.data["recipient"] for n in digests}
    assert deputies == {"PGD1", "PGD2"}
    per_deputy = [n.at.date() for n in digests if n.data["recipient"] == "PGD1"]
    assert 51 <= len(per_deputy) <= 53
    moved = [d for d in per_deputy if d.weekday() != 0]
    # Monday 27/01/2020 is in Tết: that week's digest goes on Thursday 30/01.
    assert date(2020, 1, 30) in moved
    for day in moved:
        monday = day.toordinal() - day.weekday()
        assert not any(calendar().is_working_day(date.fromordinal(d)) for d in range(monday, day.toordinal()))


def test_continuous_task_gets_a_monthly_check_in_on_the_first_working_day() -> None:
    checkins = days(YEAR, "checkin", "VI.3")
    assert len(checkins) == 12
    assert checkins[:3] == [date(2020, 1, 2), date(2020, 2, 3), date(2020, 3, 2)]


def test_same_input_gives_the_same_output_in_the_same_order_with_unique_keys() -> None:
    again = simulate()
    assert [n.key for n in again] == [n.key for n in YEAR]
    assert [n.at for n in YEAR] == sorted(n.at for n in YEAR)
    delivery_keys = [n.delivery_key(r) for n in YEAR for r in n.recipients]
    assert len(delivery_keys) == len(set(delivery_keys))


@pytest.mark.parametrize("now", ["2019-06-01 10:00", "2020-07-15 07:29", "2031-01-01 00:00"])
def test_the_planner_has_no_clock_of_its_own(now: str) -> None:
    with freeze_time(now, tz_offset=7):
        assert [n.key for n in simulate()] == [n.key for n in YEAR]


def test_a_range_plans_only_its_days_and_splits_the_year_exactly() -> None:
    first = simulate(end=date(2020, 6, 30))
    second = simulate(start=date(2020, 7, 1))
    assert [n.key for n in first + second] == [n.key for n in YEAR]
    assert all(n.at.date() <= date(2020, 6, 30) for n in first)


def test_a_disabled_rule_produces_nothing_and_a_rule_selector_narrows_tasks() -> None:
    rules = tuple(replace(r, enabled=False) if r.id == "escalation" else r for r in default_rules())
    assert not [n for n in simulate(rules=rules) if n.kind == "escalation"]
    reminder = next(r for r in default_rules() if r.id == "reminder")
    only_tccb = (replace(reminder, applies_to=replace(reminder.applies_to, lead_units=("TCCB",))),)
    tasks = {n.task for n in simulate(rules=only_tccb)}
    assert tasks == {t.code for t in sample_tasks() if "TCCB" in t.lead and t.due is not None}


def test_a_recurring_deadline_is_reminded_before_each_occurrence() -> None:
    from plan.deadline import parse_deadline

    deadline = parse_deadline("Trước ngày 20 hằng tháng", 2020)
    task = replace(
        sample_tasks()[0],
        code="X.1",
        kind=deadline.kind,
        start=deadline.start,
        due=deadline.due,
        occurrences=deadline.occurrences,
    )
    result = simulate(tasks=(task,), start=date(2020, 3, 1), end=date(2020, 4, 30))
    # due the 19th; reminders 3 and 1 working days before
    # 19/04/2020 is a Sunday: counting back from it, 3 working days is Wednesday 15 and 1 is Friday 17.
    assert days(result, "reminder", "X.1") == [
        date(2020, 3, 16),
        date(2020, 3, 18),
        date(2020, 4, 15),
        date(2020, 4, 17),
    ]
    assert not days(result, "escalation", "X.1")


def test_json_shape_of_a_notification() -> None:
    notification = next(n for n in YEAR if n.kind == "escalation")
    data = notification.to_json()
    assert set(data) >= {"at", "kind", "rule", "task", "period", "level", "recipients", "key"}
    assert datetime.fromisoformat(data["at"]).utcoffset() is not None
    assert data["recipients"][0]["role"] in ("to", "cc")
    assert set(data["recipients"][0]) >= {"unit", "role", "channel"}


def test_history_is_replayed_in_the_order_it_was_recorded_not_by_date() -> None:
    # done on 10/12, reopened later, then done again with an earlier date (05/12): the task is done
    tasks = with_changes(
        "IV.4",
        StatusChange(date(2020, 12, 10), "done"),
        StatusChange(date(2020, 12, 11), "reopened"),
        StatusChange(date(2020, 12, 5), "done"),
    )
    assert days(simulate(tasks), "escalation", "IV.4") == [date(2020, 12, 1)]


def test_report_keys_do_not_move_when_a_make_up_working_day_is_declared() -> None:
    from dataclasses import replace as dc_replace

    from planner.model import ReportingInput  # noqa: F401  (documentation of the input type)

    moved = dc_replace(calendar(), working_saturdays=frozenset({date(2020, 9, 12)}))
    from planner.planner import PlannerInput, plan_notifications
    from tests.support.planning_fixtures import directory

    inputs = PlannerInput(tasks=sample_tasks(), directory=directory(), reporting=(sample_reporting(),))
    shifted = plan_notifications(inputs, default_rules(), moved, date(2020, 9, 1), date(2020, 9, 30))
    request = next(n for n in shifted if n.kind == "report_request")
    original = next(n for n in YEAR if n.kind == "report_request" and n.period == "2020-9M")
    assert request.at.date() == date(2020, 9, 8) and original.at.date() == date(2020, 9, 7)
    assert request.key == original.key
