"""The working calendar on real Vietnamese dates (2020, 2025, 2026)."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from planner.calendar import DEFAULT_CALENDAR_FILE, WorkingCalendar, load_calendar


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return load_calendar()


def off_days(cal: WorkingCalendar, start: date, end: date) -> list[date]:
    days = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return [d for d in days if not cal.is_working_day(d)]


# --------------------------------------------------------------------------- 2020


def test_tet_2020_is_off_from_23_to_29_january(cal: WorkingCalendar) -> None:
    assert off_days(cal, date(2020, 1, 20), date(2020, 2, 2)) == [date(2020, 1, d) for d in range(23, 30)] + [
        date(2020, 2, 1),
        date(2020, 2, 2),
    ]
    assert cal.is_working_day(date(2020, 1, 22))
    assert cal.is_working_day(date(2020, 1, 30))


def test_tet_2020_days_carry_their_vietnamese_names(cal: WorkingCalendar) -> None:
    assert cal.holiday_name(date(2020, 1, 25)) == "Tết Nguyên Đán"
    assert cal.holiday_name(date(2020, 1, 24)) == "Giao thừa Tết Nguyên Đán"
    assert cal.holiday_name(date(2020, 1, 29)) == "Mùng năm Tết Nguyên Đán"


def test_hung_kings_day_2020_is_2_april_the_10th_of_the_third_lunar_month(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2020, 4, 2))
    assert cal.holiday_name(date(2020, 4, 2)) == "Ngày Giỗ Tổ Hùng Vương"
    assert cal.is_working_day(date(2020, 4, 1))
    assert cal.is_working_day(date(2020, 4, 3))


def test_30_april_and_1_may_2020_are_off(cal: WorkingCalendar) -> None:
    assert off_days(cal, date(2020, 4, 29), date(2020, 5, 4)) == [
        date(2020, 4, 30),
        date(2020, 5, 1),
        date(2020, 5, 2),
        date(2020, 5, 3),
    ]


def test_national_day_2020_is_a_single_day_the_second_day_came_in_2021(cal: WorkingCalendar) -> None:
    assert off_days(cal, date(2020, 8, 31), date(2020, 9, 4)) == [date(2020, 9, 2)]
    assert off_days(cal, date(2021, 8, 30), date(2021, 9, 3)) == [date(2021, 9, 2), date(2021, 9, 3)]


def test_weekends_are_off_and_carry_no_holiday_name(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2020, 3, 7))
    assert not cal.is_working_day(date(2020, 3, 8))
    assert cal.holiday_name(date(2020, 3, 7)) is None
    assert cal.holiday_name(date(2020, 3, 9)) is None


def test_2020_has_252_working_days(cal: WorkingCalendar) -> None:
    # 262 weekdays minus 1/1, five Tết weekdays, 2/4, 30/4, 1/5, 2/9.
    assert len(list(cal.working_days(date(2020, 1, 1), date(2020, 12, 31)))) == 252


def test_first_working_day_of_january_2020_follows_new_year(cal: WorkingCalendar) -> None:
    assert cal.first_working_day_of_month(2020, 1) == date(2020, 1, 2)


def test_first_working_day_of_february_2020_is_monday_the_3rd(cal: WorkingCalendar) -> None:
    assert cal.first_working_day_of_month(2020, 2) == date(2020, 2, 3)


# --------------------------------------------------------------------------- arithmetic


def test_adding_working_days_jumps_over_tet_2020(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2020, 1, 22), 1) == date(2020, 1, 30)
    assert cal.add_working_days(date(2020, 1, 22), 3) == date(2020, 2, 3)
    assert cal.add_working_days(date(2020, 1, 30), -1) == date(2020, 1, 22)


def test_adding_from_a_holiday_counts_from_the_holiday(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2020, 1, 25), 1) == date(2020, 1, 30)
    assert cal.add_working_days(date(2020, 1, 25), -1) == date(2020, 1, 22)
    assert cal.add_working_days(date(2020, 1, 25), 0) == date(2020, 1, 30)
    assert cal.add_working_days(date(2020, 1, 22), 0) == date(2020, 1, 22)


def test_adding_working_days_crosses_years(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2020, 12, 31), 1) == date(2021, 1, 4)
    assert cal.add_working_days(date(2021, 1, 4), -1) == date(2020, 12, 31)
    # 1/1/2020 is a holiday, so all 252 working days of 2020 come strictly after it.
    assert cal.add_working_days(date(2020, 1, 1), 252) == date(2020, 12, 31)
    assert cal.add_working_days(date(2020, 1, 1), 253) == date(2021, 1, 4)


def test_next_and_previous_working_day_with_and_without_the_day_itself(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(date(2020, 1, 22)) == date(2020, 1, 22)
    assert cal.next_working_day(date(2020, 1, 22), include_self=False) == date(2020, 1, 30)
    assert cal.previous_working_day(date(2020, 1, 30)) == date(2020, 1, 30)
    assert cal.previous_working_day(date(2020, 1, 30), include_self=False) == date(2020, 1, 22)


def test_shift_moves_a_holiday_earlier_for_reminders_and_later_for_follow_ups(cal: WorkingCalendar) -> None:
    assert cal.shift(date(2020, 1, 27), "earlier") == date(2020, 1, 22)
    assert cal.shift(date(2020, 1, 27), "later") == date(2020, 1, 30)
    assert cal.shift(date(2020, 9, 2), "earlier") == date(2020, 9, 1)
    assert cal.shift(date(2020, 3, 16), "earlier") == date(2020, 3, 16)
    with pytest.raises(ValueError, match="earlier"):
        cal.shift(date(2020, 3, 16), "sideways")  # type: ignore[arg-type]


def test_working_days_between_counts_the_half_open_interval(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2020, 1, 22), date(2020, 1, 31)) == 2
    assert cal.working_days_between(date(2020, 1, 21), date(2020, 1, 22)) == 1
    assert cal.working_days_between(date(2020, 1, 22), date(2020, 1, 22)) == 0
    assert cal.working_days_between(date(2020, 1, 31), date(2020, 1, 22)) == -2
    assert cal.add_working_days(date(2020, 1, 22), 2) == date(2020, 1, 31)


def test_working_days_lists_both_ends_inclusive(cal: WorkingCalendar) -> None:
    assert list(cal.working_days(date(2020, 1, 21), date(2020, 1, 31))) == [
        date(2020, 1, 21),
        date(2020, 1, 22),
        date(2020, 1, 30),
        date(2020, 1, 31),
    ]
    assert list(cal.working_days(date(2020, 1, 31), date(2020, 1, 21))) == []


# --------------------------------------------------------------------------- 2025-2026 and declarations


def test_tet_2026_is_off_from_16_to_20_february(cal: WorkingCalendar) -> None:
    assert off_days(cal, date(2026, 2, 13), date(2026, 2, 23)) == [date(2026, 2, d) for d in range(14, 23)]
    assert cal.holiday_name(date(2026, 2, 17)) == "Tết Nguyên Đán"
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)


def test_declared_swap_of_2_january_2026_makes_10_january_a_working_saturday(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2026, 1, 2))
    assert cal.holiday_name(date(2026, 1, 2)) == "Nghỉ bù"
    assert cal.is_working_day(date(2026, 1, 10))
    assert cal.holiday_name(date(2026, 1, 10)) is None
    assert cal.first_working_day_of_month(2026, 1) == date(2026, 1, 5)
    assert cal.add_working_days(date(2026, 1, 9), 1) == date(2026, 1, 10)


def test_a_make_up_saturday_known_to_the_package_counts_2025_04_26(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2025, 4, 26))
    assert not cal.is_working_day(date(2025, 5, 2))
    assert cal.working_days_between(date(2025, 4, 25), date(2025, 5, 5)) == 4  # 26/4, 28/4, 29/4, 5/5


def test_a_declared_working_day_overrides_a_package_holiday() -> None:
    cal = WorkingCalendar(working_saturdays=frozenset({date(2020, 1, 29)}))
    assert cal.is_working_day(date(2020, 1, 29))
    assert cal.holiday_name(date(2020, 1, 29)) is None


def test_a_declared_day_off_away_from_holidays_is_named_as_announced_by_the_agency() -> None:
    cal = WorkingCalendar(extra_days_off=frozenset({date(2020, 6, 15)}))
    assert not cal.is_working_day(date(2020, 6, 15))
    assert cal.holiday_name(date(2020, 6, 15)) == "Ngày nghỉ do cơ quan công bố"
    assert cal.add_working_days(date(2020, 6, 12), 1) == date(2020, 6, 16)


def test_a_date_declared_both_off_and_working_is_refused() -> None:
    with pytest.raises(ValueError, match="2020-06-13"):
        WorkingCalendar(
            extra_days_off=frozenset({date(2020, 6, 13)}), working_saturdays=frozenset({date(2020, 6, 13)})
        )


def test_send_time_is_an_aware_datetime_at_plus_seven(cal: WorkingCalendar) -> None:
    at = cal.at_send_time(date(2020, 3, 16))
    assert at.isoformat() == "2020-03-16T07:30:00+07:00"
    assert at.utcoffset() == timedelta(hours=7)


def test_years_outside_the_package_range_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="2101"):
        cal.is_working_day(date(2101, 1, 3))


# --------------------------------------------------------------------------- loading


def test_packaged_file_is_the_default(cal: WorkingCalendar) -> None:
    assert DEFAULT_CALENDAR_FILE.name == "calendar.yaml"
    assert cal.send_time == time(7, 30)
    assert str(cal.tz) == "Asia/Ho_Chi_Minh"


def test_send_time_argument_overrides_the_file() -> None:
    assert load_calendar(send_time="08:15").send_time == time(8, 15)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_small_file_loads_its_declarations(tmp_path: Path) -> None:
    path = write(tmp_path, 'send_time: "06:45"\nyears:\n  2020:\n    days_off: [2020-06-15]\n')
    cal = load_calendar(path)
    assert cal.send_time == time(6, 45)
    assert cal.extra_days_off == frozenset({date(2020, 6, 15)})
    assert not cal.is_working_day(date(2020, 6, 15))


def test_a_date_that_is_not_a_date_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "years:\n  2020:\n    days_off: [2020-01-23, 2020-02-30]\n")
    with pytest.raises(ValueError) as err:
        load_calendar(path)
    assert str(path) in str(err.value)
    assert "years.2020.days_off[1]" in str(err.value)
    assert "không phải ngày hợp lệ" in str(err.value)


def test_a_send_time_that_is_not_hh_mm_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "send_time: 7h30\n")
    with pytest.raises(ValueError) as err:
        load_calendar(path)
    assert f"{path}: send_time" in str(err.value)
    assert "HH:MM" in str(err.value)


def test_a_date_outside_its_year_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "years:\n  2020:\n    working_saturdays: [2021-01-09]\n")
    with pytest.raises(ValueError, match=r"years\.2020\.working_saturdays\[0\].*không thuộc năm 2020"):
        load_calendar(path)


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "years:\n  2020:\n    day_off: [2020-06-15]\n")
    with pytest.raises(ValueError, match=r"years\.2020: khóa không hợp lệ day_off"):
        load_calendar(path)


def test_an_unknown_timezone_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: Asia/Hanoi_City\n")
    with pytest.raises(ValueError, match="timezone"):
        load_calendar(path)


def test_a_missing_file_is_a_value_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"khong-co\.yaml"):
        load_calendar(tmp_path / "khong-co.yaml")
