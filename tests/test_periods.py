"""Reporting periods and the data cut-offs of Decree 09/2019/NĐ-CP, Article 12."""

from __future__ import annotations

from datetime import date

import pytest

from planner.periods import ReportPeriod, adhoc_period, parse_period, periods_for_year


def windows(periods: list[ReportPeriod]) -> list[tuple[str, date | None, date]]:
    return [(p.code, p.data_from, p.cutoff) for p in periods]


def test_2020_periods_and_cutoffs_follow_article_12_sorted_by_cutoff_then_code() -> None:
    assert windows(periods_for_year(2020)) == [
        ("Q1", date(2019, 12, 15), date(2020, 3, 14)),
        ("H1", date(2019, 12, 15), date(2020, 6, 14)),
        ("Q2", date(2020, 3, 15), date(2020, 6, 14)),
        ("9M", date(2019, 12, 15), date(2020, 9, 14)),
        ("Q3", date(2020, 6, 15), date(2020, 9, 14)),
        ("Q4", date(2020, 9, 15), date(2020, 12, 14)),
        ("Y", date(2019, 12, 15), date(2020, 12, 14)),
    ]


def test_periods_closing_on_the_same_day_stay_separate() -> None:
    by_cutoff: dict[date, list[str]] = {}
    for p in periods_for_year(2020):
        by_cutoff.setdefault(p.cutoff, []).append(p.code)
    assert by_cutoff[date(2020, 6, 14)] == ["H1", "Q2"]
    assert by_cutoff[date(2020, 9, 14)] == ["9M", "Q3"]
    assert by_cutoff[date(2020, 12, 14)] == ["Q4", "Y"]


def test_2020_titles_and_kinds_are_the_vietnamese_report_names() -> None:
    assert [(p.code, p.kind, p.title) for p in periods_for_year(2020)] == [
        ("Q1", "quarterly", "Báo cáo quý I năm 2020"),
        ("H1", "6-month", "Báo cáo 6 tháng đầu năm 2020"),
        ("Q2", "quarterly", "Báo cáo quý II năm 2020"),
        ("9M", "9-month", "Báo cáo 9 tháng năm 2020"),
        ("Q3", "quarterly", "Báo cáo quý III năm 2020"),
        ("Q4", "quarterly", "Báo cáo quý IV năm 2020"),
        ("Y", "annual", "Báo cáo năm 2020"),
    ]
    assert {p.year for p in periods_for_year(2020)} == {2020}


def test_kinds_select_the_periods_and_adhoc_yields_no_fixed_period() -> None:
    assert [p.code for p in periods_for_year(2020, kinds=["quarterly"])] == ["Q1", "Q2", "Q3", "Q4"]
    assert [p.code for p in periods_for_year(2020, kinds=["annual", "adhoc"])] == ["Y"]
    assert periods_for_year(2020, kinds=[]) == []


def test_an_unknown_kind_is_refused_in_vietnamese() -> None:
    with pytest.raises(ValueError, match="Loại kỳ báo cáo không hợp lệ: monthly"):
        periods_for_year(2020, kinds=["monthly"])


def test_another_cutoff_day_moves_both_ends_of_the_window() -> None:
    q = periods_for_year(2021, kinds=["quarterly"], cutoff_day=20)
    assert windows(q)[0] == ("Q1", date(2020, 12, 21), date(2021, 3, 20))
    assert windows(q)[3] == ("Q4", date(2021, 9, 21), date(2021, 12, 20))


def test_cutoff_day_31_gives_calendar_quarters_clamped_to_month_ends() -> None:
    assert windows(periods_for_year(2020, kinds=["quarterly"], cutoff_day=31)) == [
        ("Q1", date(2020, 1, 1), date(2020, 3, 31)),
        ("Q2", date(2020, 4, 1), date(2020, 6, 30)),
        ("Q3", date(2020, 7, 1), date(2020, 9, 30)),
        ("Q4", date(2020, 10, 1), date(2020, 12, 31)),
    ]


def test_a_cutoff_day_outside_the_month_is_refused() -> None:
    with pytest.raises(ValueError, match="Ngày chốt số liệu"):
        periods_for_year(2020, cutoff_day=0)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Q1", "Q1"),
        ("q4", "Q4"),
        ("Quý I", "Q1"),
        ("QUÝ IV", "Q4"),
        ("quy 2", "Q2"),
        ("Quý III", "Q3"),
        ("H1", "H1"),
        ("6T", "H1"),
        ("6 tháng", "H1"),
        ("9M", "9M"),
        ("9T", "9M"),
        ("9 tháng", "9M"),
        ("Y", "Y"),
        ("N", "Y"),
        ("nam", "Y"),
        ("Năm", "Y"),
    ],
)
def test_parse_period_reads_the_ways_an_office_writes_a_period(text: str, code: str) -> None:
    assert parse_period(text, 2020).code == code


def test_parse_period_gives_the_full_period_of_the_year() -> None:
    p = parse_period("Quý II", 2020)
    assert p == ReportPeriod(
        code="Q2",
        kind="quarterly",
        year=2020,
        data_from=date(2020, 3, 15),
        cutoff=date(2020, 6, 14),
        title="Báo cáo quý II năm 2020",
    )


def test_parse_period_reads_an_adhoc_code_with_its_date() -> None:
    p = parse_period("adhoc-2020-05-10", 2020)
    assert p == adhoc_period(date(2020, 5, 10))
    assert (p.code, p.kind, p.data_from, p.cutoff, p.title) == (
        "adhoc-2020-05-10",
        "adhoc",
        None,
        date(2020, 5, 10),
        "Báo cáo đột xuất",
    )


@pytest.mark.parametrize("text", ["Q5", "quý V", "H2", "", "adhoc-2020-02-30", "tháng 3"])
def test_parse_period_refuses_unknown_codes_listing_the_valid_ones(text: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_period(text, 2020)
    message = str(err.value)
    assert message.startswith("Kỳ báo cáo không hợp lệ")
    for code in ("Q1", "Q4", "H1", "9M", "Y", "adhoc-YYYY-MM-DD"):
        assert code in message
