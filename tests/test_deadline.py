"""Tests for plan.deadline: the Vietnamese deadline phrase parser."""

from __future__ import annotations

import calendar
import json
import pickle
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from plan.deadline import Deadline, DeadlineError, DeadlineKind, parse_deadline
from tests.support.deadline_cases import (
    ERROR_CASES,
    LANGUAGE_CASES,
    REFUSED_CASES,
    SEED_CASES,
    TABLE_CASES,
    Case,
)
from vocabulary import WEEKDAYS


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _assert_parses_as(case: Case, phrase: str | None = None) -> Deadline:
    result = parse_deadline(case.phrase if phrase is None else phrase, case.year)
    assert (result.kind.value, _iso(result.start), _iso(result.due)) == (case.kind, case.start, case.due)
    assert tuple(d.isoformat() for d in result.occurrences) == case.expected_occurrences()
    offset = (result.offset.amount, result.offset.unit) if result.offset else None
    assert offset == case.offset
    return result


def _case_id(case: Case) -> str:
    return f"{case.phrase!r}@{case.year}"


def _without_diacritics(text: str) -> str:
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("Đ", "D")


# --------------------------------------------------------------------------- the plan's own phrases


@pytest.mark.parametrize("case", SEED_CASES, ids=_case_id)
def test_every_phrase_of_the_sample_plan_parses_to_its_expected_deadline(case: Case) -> None:
    _assert_parses_as(case)


def test_the_sample_plan_file_holds_only_phrases_covered_by_the_seed_table() -> None:
    import re
    from pathlib import Path

    plan_file = Path(__file__).resolve().parent.parent / "config" / "ke-hoach-cchc-2020.yaml"
    if not plan_file.exists():
        pytest.skip("sample plan file not present")
    phrases = set(re.findall(r'deadline: "([^"]*)"', plan_file.read_text(encoding="utf-8")))
    assert phrases
    assert phrases <= {case.phrase for case in SEED_CASES}


# --------------------------------------------------------------------------- the phrase table


@pytest.mark.parametrize("case", TABLE_CASES, ids=_case_id)
def test_realistic_phrase_parses_to_its_expected_deadline(case: Case) -> None:
    _assert_parses_as(case)


def test_the_phrase_table_covers_every_kind_with_at_least_a_hundred_phrases() -> None:
    assert len(TABLE_CASES) >= 100
    assert {case.kind for case in TABLE_CASES} == {kind.value for kind in DeadlineKind}


@pytest.mark.parametrize("case", SEED_CASES + TABLE_CASES, ids=_case_id)
def test_nfd_input_parses_like_nfc_and_keeps_nfc_text(case: Case) -> None:
    result = _assert_parses_as(case, unicodedata.normalize("NFD", case.phrase))
    assert result.text == unicodedata.normalize("NFC", result.text)


@pytest.mark.parametrize("case", SEED_CASES + TABLE_CASES, ids=_case_id)
def test_upper_case_parses_like_the_phrase_as_written(case: Case) -> None:
    _assert_parses_as(case, case.phrase.upper())


@pytest.mark.parametrize("case", SEED_CASES + TABLE_CASES, ids=_case_id)
def test_phrase_typed_without_diacritics_parses_the_same(case: Case) -> None:
    _assert_parses_as(case, _without_diacritics(case.phrase))


@pytest.mark.parametrize("case", SEED_CASES + TABLE_CASES, ids=_case_id)
def test_extra_white_space_and_newlines_around_words_change_nothing(case: Case) -> None:
    _assert_parses_as(case, "\n  " + case.phrase.replace(" ", " \n\t ") + "  ")


def test_text_is_the_cleaned_phrase() -> None:
    result = parse_deadline("  Trong tháng\n01/2020 ", 2020)
    assert result.text == "Trong tháng 01/2020"
    nfd = parse_deadline(unicodedata.normalize("NFD", "Qúy III/2020"), 2020)
    assert nfd.text == unicodedata.normalize("NFC", "Qúy III/2020")


def test_quarter_in_roman_numerals_is_a_window_over_the_quarter() -> None:
    for numeral, (start, due) in {
        "I": ("2021-01-01", "2021-03-31"),
        "II": ("2021-04-01", "2021-06-30"),
        "III": ("2021-07-01", "2021-09-30"),
        "IV": ("2021-10-01", "2021-12-31"),
    }.items():
        result = parse_deadline(f"Quý {numeral}/2021", 2020)
        assert (result.kind, _iso(result.start), _iso(result.due)) == (DeadlineKind.WINDOW, start, due)


def test_missing_year_is_the_plan_year() -> None:
    assert parse_deadline("Trước 30/6", 2023).due == date(2023, 6, 29)
    assert parse_deadline("Quý II", 2023).start == date(2023, 4, 1)
    assert parse_deadline("Thường xuyên", 2023).due == date(2023, 12, 31)


def test_weekly_deadline_falls_on_every_friday_of_the_plan_year() -> None:
    result = parse_deadline("Hằng tuần", 2020)
    assert result.kind is DeadlineKind.RECURRING
    assert len(result.occurrences) == 52
    assert {d.weekday() for d in result.occurrences} == {4}
    assert (result.occurrences[0], result.occurrences[-1]) == (date(2020, 1, 3), date(2020, 12, 25))
    assert (result.start, result.due) == (date(2020, 1, 1), date(2020, 12, 25))


def test_named_weekdays_give_one_occurrence_per_week_each() -> None:
    result = parse_deadline("Thứ 2 và thứ 6 hằng tuần", 2020)
    assert {d.weekday() for d in result.occurrences} == {0, 4}
    assert len(result.occurrences) == 52 + 52
    assert result.occurrences[0] == date(2020, 1, 3)
    assert parse_deadline("Chủ nhật hằng tuần", 2020).occurrences[0] == date(2020, 1, 5)


def test_twice_monthly_recurring_clamps_the_day_to_february() -> None:
    result = parse_deadline("Ngày 15 và 30 hằng tháng", 2021)
    assert len(result.occurrences) == 24
    assert date(2021, 2, 28) in result.occurrences
    assert result.occurrences[:3] == (date(2021, 1, 15), date(2021, 1, 30), date(2021, 2, 15))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("phrase", "words"), ERROR_CASES, ids=[repr(p) for p, _ in ERROR_CASES])
def test_unreadable_or_impossible_phrase_raises_a_vietnamese_deadline_error(phrase: str, words: str) -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(phrase, 2020)
    error = caught.value
    assert words in error.reason
    assert error.text == " ".join(phrase.split())
    assert error.reason.endswith(".")
    assert str(error) == error.reason


@pytest.mark.parametrize(("phrase", "words"), REFUSED_CASES, ids=[repr(p) for p, _ in REFUSED_CASES])
def test_uncertain_reading_is_refused_with_a_reason_never_guessed(phrase: str, words: str) -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(phrase, 2025)
    assert words in caught.value.reason
    assert caught.value.reason.endswith(".")


def test_the_language_of_real_documents_has_cases_in_every_category() -> None:
    from tests.support import deadline_cases

    for name in ("TIME", "DAY_LIST", "SENTENCE_WINDOW", "RELATIVE", "CUTOFF", "WRAPPER"):
        assert len(getattr(deadline_cases, f"{name}_CASES")) >= 15, name
    assert len(REFUSED_CASES) >= 20
    assert set(LANGUAGE_CASES) <= set(TABLE_CASES)


def test_unreadable_phrase_reason_quotes_the_phrase_and_gives_examples() -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline("Trước Tết", 2020)
    assert caught.value.reason == (
        "Không hiểu thời hạn: “Trước Tết”; hãy ghi rõ ngày, tháng, quý hoặc năm, "
        "ví dụ “Trước 31/12/2020” hoặc “Quý III/2020”."
    )


def test_long_phrase_is_shortened_in_the_reason_but_kept_whole_in_text() -> None:
    phrase = "Không rõ " * 30
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(phrase, 2020)
    assert caught.value.text == phrase.strip()
    assert "…" in caught.value.reason
    assert len(caught.value.reason) < 200


def test_deadline_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_deadline("31/02/2020", 2020)


@pytest.mark.parametrize("year", [0, 1800, 10_000, True, "2020", None])
def test_invalid_plan_year_is_a_deadline_error_too(year: object) -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline("Quý I", year)  # type: ignore[arg-type]
    assert "Năm kế hoạch không hợp lệ" in caught.value.reason


def test_non_text_phrase_is_a_deadline_error() -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(None, 2020)  # type: ignore[arg-type]
    assert caught.value.reason == "Thời hạn phải là một đoạn văn bản."


def test_deadline_error_survives_pickling() -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline("Quý 5", 2020)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.text, copy.reason) == (caught.value.text, caught.value.reason)


# --------------------------------------------------------------------------- JSON


def test_window_to_json_has_exactly_the_documented_shape() -> None:
    assert parse_deadline("Qúy III/2020", 2020).to_json() == {
        "text": "Qúy III/2020",
        "kind": "window",
        "start": "2020-07-01",
        "due": "2020-09-30",
        "occurrences": ["2020-09-30"],
    }


def test_recurring_to_json_lists_every_occurrence() -> None:
    assert parse_deadline("Định kỳ 6 tháng", 2020).to_json() == {
        "text": "Định kỳ 6 tháng",
        "kind": "recurring",
        "start": "2020-01-01",
        "due": "2020-12-31",
        "occurrences": ["2020-06-30", "2020-12-31"],
    }


def test_event_and_open_window_to_json_use_none_for_missing_dates() -> None:
    assert parse_deadline("Khi có văn bản hướng dẫn", 2020).to_json() == {
        "text": "Khi có văn bản hướng dẫn",
        "kind": "event",
        "start": None,
        "due": None,
        "occurrences": [],
    }
    assert parse_deadline("Từ tháng 9/2020", 2020).to_json() == {
        "text": "Từ tháng 9/2020",
        "kind": "window",
        "start": "2020-09-01",
        "due": None,
        "occurrences": [],
    }


def test_error_to_json_has_exactly_the_documented_shape() -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline("31/02/2020", 2020)
    assert caught.value.to_json() == {
        "text": "31/02/2020",
        "kind": None,
        "start": None,
        "due": None,
        "occurrences": [],
        "error": "Thời hạn “31/02/2020” có ngày không tồn tại (31/2/2020).",
    }


# --------------------------------------------------------------------------- properties

_WORDS = (
    "trước", "truoc", "từ", "đến", "hết", "chậm nhất", "trong", "sau", "sau khi", "khi có", "kể từ",
    "ngày", "tháng", "Quý", "Qúy", "Quí", "quy", "năm", "năm học", "hằng", "hàng", "định kỳ", "mỗi",
    "tuần", "thứ", "đầu", "giữa", "cuối", "của", "và", ",", "-", "/", ".", ":", "(", ")", "I", "II",
    "III", "IV", "V", "16h30", "giờ", "lúc", "thường xuyên", "đột xuất", "theo kế hoạch", "trở đi",
    "nửa", "Sáu", "lần", "2020", "2021", "1899", "2199", "2200", "31/12", "29/02", "0", "00",
)  # fmt: skip
_TOKENS = st.one_of(
    st.sampled_from(_WORDS),
    st.integers(min_value=0, max_value=10_000).map(str),
    st.tuples(st.integers(0, 40), st.sampled_from("/.-"), st.integers(0, 14)).map(
        lambda t: f"{t[0]}{t[1]}{t[2]}"
    ),
)
_DEADLINE_LIKE = st.lists(_TOKENS, min_size=1, max_size=9).map(" ".join)


def _check_invariants(text: str, year: int) -> None:
    try:
        result = parse_deadline(text, year)
    except DeadlineError as error:
        assert error.reason
        json.dumps(error.to_json())
        return
    assert isinstance(result, Deadline)
    if result.start and result.due:
        assert result.start <= result.due
    assert list(result.occurrences) == sorted(set(result.occurrences))
    if result.kind is DeadlineKind.RECURRING:
        assert result.occurrences
        assert all(d.year == year for d in result.occurrences)
        assert (result.start, result.due) == (date(year, 1, 1), result.occurrences[-1])
    elif result.kind in (DeadlineKind.EVENT, DeadlineKind.UNSCHEDULED):
        assert (result.start, result.due, result.occurrences) == (None, None, ())
    else:
        assert result.occurrences == ((result.due,) if result.due else ())
        assert result.kind is not DeadlineKind.DATE or result.start is None
        assert result.kind is DeadlineKind.WINDOW or result.due is not None
    json.dumps(result.to_json())


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(text=st.text(), year=st.integers(min_value=1900, max_value=2199))
def test_arbitrary_text_yields_a_consistent_deadline_or_a_deadline_error(text: str, year: int) -> None:
    _check_invariants(text, year)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None)
@given(text=_DEADLINE_LIKE, year=st.integers(min_value=1900, max_value=2199))
def test_text_built_from_deadline_words_yields_a_consistent_deadline_or_a_deadline_error(
    text: str, year: int
) -> None:
    _check_invariants(text, year)


# --------------------------------------------------------------------------- never a wrong date
# Phrases composed from parts whose meaning is known (a day, month, quarter, year or part of one; an operator;
# a range; a time of day; a weekday; words around them that change nothing): the parser either reads exactly
# that meaning or refuses the phrase. A wrong date, or dates read as an event, fails the test.

_ROMANS = ("I", "II", "III", "IV")
_ONE = timedelta(days=1)


@dataclass(frozen=True)
class _Named:
    """A period as written, with the first and last day it names."""

    text: str
    start: date
    end: date
    is_day: bool = False


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


@st.composite
def _periods(draw: st.DrawFn, year: int, yearless: bool = False) -> _Named:
    """A period of ``year``; written without its year when ``yearless`` (the year then comes from elsewhere)."""
    kind = draw(st.sampled_from(("day", "day", "month", "quarter", "year", "half", "part")))
    if kind == "day":
        month = draw(st.integers(1, 12))
        day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
        forms = ("{d}/{m}", "ngày {d}/{m}", "ngày {d} tháng {m}", "{d:02d}/{m:02d}")
        if not yearless:
            forms = (
                "{d}/{m}/{y}", "{d:02d}/{m:02d}/{y}", "ngày {d}/{m}/{y}", "ngày {d} tháng {m} năm {y}",
                "{d}-{m}-{y}", "{d}.{m}.{y}", "ngày {d:02d}/{m:02d}/{y}",
            )  # fmt: skip
        text = draw(st.sampled_from(forms)).format(d=day, m=month, y=year)
        return _Named(text, date(year, month, day), date(year, month, day), is_day=True)
    if kind == "month":
        month = draw(st.integers(1, 12))
        forms = (
            ("tháng {m}",)
            if yearless
            else ("tháng {m}/{y}", "Tháng {m:02d}/{y}", "tháng {m} năm {y}", "T{m}/{y}")
        )
        text = draw(st.sampled_from(forms)).format(m=month, y=year)
        return _Named(text, date(year, month, 1), _month_end(year, month))
    if kind == "quarter":
        q = draw(st.integers(1, 4))
        forms = (
            ("quý {r}",) if yearless else ("Quý {r}/{y}", "quý {q} năm {y}", "Quý {r} năm {y}", "Qúy {r}/{y}")
        )
        text = draw(st.sampled_from(forms)).format(r=_ROMANS[q - 1], q=q, y=year)
        return _Named(text, date(year, 3 * q - 2, 1), _month_end(year, 3 * q))
    if kind == "year" or yearless:
        return _Named(f"năm {year}", date(year, 1, 1), date(year, 12, 31))
    if kind == "half":
        months, first = draw(st.sampled_from(((6, True), (6, False), (9, True), (3, False))))
        text = f"{months} tháng {'đầu' if first else 'cuối'} năm {year}"
        if first:
            return _Named(text, date(year, 1, 1), _month_end(year, months))
        return _Named(text, date(year, 13 - months, 1), date(year, 12, 31))
    month = draw(st.integers(1, 12))
    part = draw(st.integers(0, 2))
    word = ("đầu", "giữa", "cuối")[part]
    start = date(year, month, (1, 11, 21)[part])
    end = (
        date(year, month, 10)
        if part == 0
        else date(year, month, 20)
        if part == 1
        else _month_end(year, month)
    )
    return _Named(f"{word} tháng {month}/{year}", start, end)


# (written operator, what it does); an empty operator reads the period itself.
_OPERATORS = (
    ("", "within"), ("Trong ", "within"), ("Trước ", "before"), ("Chậm nhất ", "by"), ("Đến hết ", "by"),
    ("Muộn nhất là ", "by"), ("Từ ", "start"), ("Bắt đầu từ ", "start"), ("Sớm nhất từ ", "start"),
    ("Sau ", "after"), ("Hoàn thành trước ", "before"),
)  # fmt: skip
_LEADING_WORDS = (
    "",
    "Trình UBND tỉnh ",
    "Dự kiến tổ chức ",
    "Báo cáo kết quả về Sở ",
    "Thời hạn: ",
    "Tổ chức ",
)
_TRAILING_WORDS = ("", " (theo dấu bưu điện)", " để tổng hợp", " (dự kiến)", ", tính theo dấu bưu điện", ".")
Reading = tuple[str, date | None, date | None]


def _reading(op: str, named: _Named, timed: bool) -> Reading:
    if op == "before":
        return ("date", None, named.start if timed and named.is_day else named.start - _ONE)
    if op == "by":
        return ("date", None, named.end)
    if op == "start":
        return ("window", named.start, None)
    if op == "after":
        return ("window", named.end + _ONE, None)
    return ("date", None, named.start) if named.is_day else ("window", named.start, named.end)


@st.composite
def _single_phrases(draw: st.DrawFn) -> tuple[str, int, Reading]:
    plan_year = draw(st.integers(2000, 2040))
    yearless = draw(st.booleans())
    named = draw(_periods(plan_year if yearless else plan_year + draw(st.integers(-1, 1)), yearless))
    written, op = draw(st.sampled_from(_OPERATORS))
    text, timed = named.text, False
    if named.is_day and draw(st.booleans()):
        weekday = WEEKDAYS[named.start.weekday()]
        text = draw(st.sampled_from((f"{weekday}, {text}", f"{text} ({weekday})")))
    if named.is_day and op in ("within", "before", "by") and draw(st.booleans()):
        clock = draw(st.sampled_from(("17h00", "16 giờ 30", "8h30'", "17:00", "10 giờ")))
        text, timed = f"{clock} {text}", True
    phrase = draw(st.sampled_from(_LEADING_WORDS)) + written + text + draw(st.sampled_from(_TRAILING_WORDS))
    return phrase, plan_year, _reading(op, named, timed)


@st.composite
def _range_phrases(draw: st.DrawFn) -> tuple[str, int, Reading]:
    plan_year = draw(st.integers(2000, 2040))
    left = draw(_periods(plan_year + draw(st.integers(-1, 1))))
    right = draw(_periods(left.start.year + draw(st.integers(0, 2))))
    assume(left.start <= right.end)
    form = draw(st.sampled_from(("Từ {a} đến {b}", "từ {a} đến hết {b}", "Bắt đầu từ {a} và kết thúc vào {b}",
                                  "Bắt đầu từ {a}, kết thúc {b}", "từ {a} đến trước {b}",
                                  "Bắt đầu từ {a} và kết thúc trước {b}")))  # fmt: skip
    end = right.start - _ONE if "trước" in form else right.end
    assume(left.start <= end)
    phrase = draw(st.sampled_from(_LEADING_WORDS)) + form.format(a=left.text, b=right.text)
    return phrase + draw(st.sampled_from(_TRAILING_WORDS)), plan_year, ("window", left.start, end)


def _assert_read_exactly_or_refused(phrase: str, plan_year: int, expected: Reading) -> None:
    try:
        result = parse_deadline(phrase, plan_year)
    except DeadlineError as error:
        assert error.reason.endswith(".")
        return
    assert (result.kind.value, result.start, result.due) == expected, phrase


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(case=_single_phrases())
def test_a_period_with_an_operator_and_words_around_it_is_read_exactly_or_refused(
    case: tuple[str, int, Reading],
) -> None:
    _assert_read_exactly_or_refused(*case)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(case=_range_phrases())
def test_a_window_between_two_periods_is_read_exactly_or_refused(case: tuple[str, int, Reading]) -> None:
    _assert_read_exactly_or_refused(*case)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(
    day=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    shift=st.integers(1, 6),
    form=st.sampled_from(("Trước 17h00 {w}, ngày {d}", "Ngày {d} ({w})", "{w}, ngày {d}", "Từ {w} ({d})")),
)
def test_a_weekday_that_is_not_the_dates_weekday_is_refused(day: date, shift: int, form: str) -> None:
    wrong = WEEKDAYS[(day.weekday() + shift) % 7]
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(form.format(w=wrong, d=f"{day.day}/{day.month}/{day.year}"), day.year)
    assert f"ghi {wrong[0].lower()}{wrong[1:]}" in caught.value.reason
