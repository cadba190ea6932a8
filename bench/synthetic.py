"""A deterministic synthetic plan for benchmarking the planner: any number of tasks, realistic mix.

Deadlines are Vietnamese phrases of the kinds real plans use ("Trong tháng 03/2020",
"Quý II/2020", "Trước 15/06/2020", "Trước ngày 20 hằng tháng", "Thường xuyên",
"Sau khi có hướng dẫn của Bộ", "Theo Kế hoạch"), run through
:func:`plan.deadline.parse_deadline`, so kinds and dates are the parser's, not guesses.
Units are those of the unit directory; a share of tasks carry history (done, extended,
reopened, a date set for an undated task). The same ``(n, year, seed)`` always gives
the same plan.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.settings import Settings
from plan.deadline import Deadline, DeadlineKind, parse_deadline
from plan.units import Directory, load_directory
from planner.model import ReportingInput, StatusChange, TaskInput
from planner.planner import PlannerInput

PLAN_CODE = "BENCH"
SECTIONS = ("I", "II", "III", "IV", "V", "VI", "VII")
REPORTING_UNITS = ("PCMNV", "DVTH")
_ROMAN = ("I", "II", "III", "IV")

# Share of each deadline kind (mostly windows and dates, as in real plans).
KIND_WEIGHTS: dict[DeadlineKind, int] = {
    DeadlineKind.WINDOW: 48,
    DeadlineKind.DATE: 30,
    DeadlineKind.RECURRING: 7,
    DeadlineKind.CONTINUOUS: 6,
    DeadlineKind.UNSCHEDULED: 5,
    DeadlineKind.EVENT: 4,
}

_VERBS = ("Xây dựng", "Triển khai", "Tổ chức", "Rà soát", "Kiểm tra", "Tổng hợp", "Hướng dẫn", "Đánh giá")
_OBJECTS = (
    "kế hoạch cải cách hành chính",
    "văn bản quy phạm pháp luật về giáo dục",
    "thủ tục hành chính thuộc thẩm quyền của Sở",
    "cơ chế một cửa, một cửa liên thông",
    "ứng dụng công nghệ thông tin trong quản lý",
    "chỉ số hài lòng của người dân",
    "tuyên truyền cải cách hành chính",
    "quy chế chi tiêu nội bộ",
)
_EVENTS = (
    "Sau khi có hướng dẫn của Bộ GD&ĐT",
    "Sau khi có các quy định của Chính phủ và các Bộ, ngành Trung ương, UBND Tỉnh.",
    "Khi Luật có hiệu lực thi hành",
    "Trong vòng 30 ngày kể từ ngày ký",
)
_UNSCHEDULED = ("Theo Kế hoạch", "Khi có yêu cầu", "Đột xuất", "Theo chỉ đạo của UBND tỉnh", "Chưa xác định")

Phrase = Callable[[random.Random, int], str]


def _day(rng: random.Random, month: int) -> int:
    return rng.randint(1, 28 if month == 2 else 30)


def _month(rng: random.Random) -> int:
    return rng.randint(1, 12)


def _date_phrase(rng: random.Random, year: int) -> str:
    m = _month(rng)
    d = _day(rng, m)
    return rng.choice(
        (
            f"Trước {d:02d}/{m:02d}/{year}",
            f"Chậm nhất ngày {d}/{m}/{year}",
            f"Trước ngày {d} tháng {m} năm {year}",
            f"Trước tháng {max(m, 2)}/{year}",
            f"Đến hết quý {rng.choice(_ROMAN)}/{year}",
            f"Ngày {d:02d}/{m:02d}/{year}",
            f"Trước 16h30 ngày {d}/{m}/{year}",
        )
    )


def _window_phrase(rng: random.Random, year: int) -> str:
    m = _month(rng)
    q = rng.randrange(4)
    d = rng.randint(1, 18)
    m2 = rng.randint(m, 12)
    return rng.choice(
        (
            f"Trong tháng {m:02d}/{year}",
            f"Tháng {m}/{year}",
            f"Tháng {m}/{year}",
            f"Quý {_ROMAN[q]}/{year}",
            f"Qúy {_ROMAN[q]}/{year}",
            f"Trong năm {year}",
            f"Trong năm {year}",
            f"6 tháng đầu năm {year}",
            f"6 tháng cuối năm {year}",
            f"Từ tháng {m} đến tháng {m2}/{year}",
            f"Quý {_ROMAN[min(q, 2)]}-{_ROMAN[min(q, 2) + 1]}/{year}",
            f"{d}-{d + rng.randint(3, 10)}/{m}/{year}",
            f"Cuối tháng {m}/{year}",
            f"Đầu quý {_ROMAN[q]}/{year}",
        )
    )


def _recurring_phrase(rng: random.Random, year: int) -> str:
    m = _month(rng)
    return rng.choice(
        (
            f"Trước ngày {rng.randint(5, 25)} hằng tháng",
            "Hằng quý",
            "Định kỳ hằng quý",
            "Định kỳ 6 tháng",
            f"Ngày {_day(rng, m)}/{m} hằng năm",
            "Hằng năm",
            "Thứ 6 hằng tuần",
        )
    )


def _continuous_phrase(rng: random.Random, year: int) -> str:
    return rng.choice(
        (
            "Thường xuyên",
            f"Thường xuyên trong năm {year}",
            f"Thường xuyên trong quý {rng.choice(_ROMAN)}/{year}",
            "Liên tục",
        )
    )


_PHRASES: dict[DeadlineKind, Phrase] = {
    DeadlineKind.DATE: _date_phrase,
    DeadlineKind.WINDOW: _window_phrase,
    DeadlineKind.RECURRING: _recurring_phrase,
    DeadlineKind.CONTINUOUS: _continuous_phrase,
    DeadlineKind.EVENT: lambda rng, _year: rng.choice(_EVENTS),
    DeadlineKind.UNSCHEDULED: lambda rng, _year: rng.choice(_UNSCHEDULED),
}


@cache
def _parse(phrase: str, year: int) -> Deadline:
    return parse_deadline(phrase, year)


@cache
def sample_directory() -> Directory:
    return load_directory(Settings().units_file)


def _units(rng: random.Random, codes: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Lead (one unit, sometimes two) and coordinating units (none to three others)."""
    lead = tuple(rng.sample(codes, 2 if rng.random() < 0.15 else 1))
    others = [c for c in codes if c not in lead]
    count = rng.choices((0, 1, 2, 3), weights=(40, 30, 20, 10))[0]
    return lead, tuple(rng.sample(others, count))


def _clamp(day: date, year: int) -> date:
    return max(date(year, 1, 2), day)


def _history(rng: random.Random, deadline: Deadline, year: int) -> tuple[StatusChange, ...]:
    """A plausible status history: mostly done around the due date, some extended, reopened or dated."""
    due, roll = deadline.due, rng.random()
    changes: list[StatusChange] = []
    if deadline.kind in (DeadlineKind.EVENT, DeadlineKind.UNSCHEDULED):
        if roll < 0.35:
            on = date(year, 1, 1) + timedelta(days=rng.randint(10, 300))
            new_due = on + timedelta(days=rng.randint(15, 60))
            changes.append(StatusChange(on, "due_set", new_due))
            if rng.random() < 0.5:
                changes.append(StatusChange(new_due - timedelta(days=rng.randint(0, 10)), "done"))
        elif roll < 0.45:
            changes.append(StatusChange(date(year, 1, 1) + timedelta(days=rng.randint(30, 330)), "done"))
    elif deadline.kind in (DeadlineKind.RECURRING, DeadlineKind.CONTINUOUS) or due is None:
        if roll < 0.08:
            changes.append(StatusChange(date(year, 1, 1) + timedelta(days=rng.randint(200, 360)), "done"))
    elif roll < 0.55:
        changes.append(StatusChange(_clamp(due + timedelta(days=rng.randint(-20, 6)), year), "done"))
    elif roll < 0.63:
        on = _clamp(due - timedelta(days=rng.randint(0, 7)), year)
        new_due = due + timedelta(days=rng.randint(30, 90))
        changes.append(StatusChange(on, "extended", new_due))
        if rng.random() < 0.5:
            changes.append(StatusChange(new_due - timedelta(days=rng.randint(0, 10)), "done"))
    elif roll < 0.66:
        done = _clamp(due - timedelta(days=rng.randint(0, 10)), year)
        changes.append(StatusChange(done, "done"))
        changes.append(StatusChange(done + timedelta(days=rng.randint(3, 15)), "reopened"))
    return tuple(sorted(changes, key=lambda c: c.on))


def synthetic_tasks(n: int, year: int = 2020, seed: int = 0) -> list[TaskInput]:
    """``n`` tasks of plan ``BENCH`` over sections I..VII and every unit of the directory, in plan order."""
    rng = random.Random(seed)
    codes = tuple(unit.code for unit in sample_directory().units)
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    tasks = []
    for position in range(n):
        kind = rng.choices(kinds, weights)[0]
        deadline = _parse(_PHRASES[kind](rng, year), year)
        section_number = position * len(SECTIONS) // max(n, 1) + 1
        lead, coordinating = _units(rng, codes)
        tasks.append(
            TaskInput(
                plan=PLAN_CODE,
                code=f"S{section_number}.{position + 1}",
                section=SECTIONS[section_number - 1],
                content=f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}",
                deadline_text=deadline.text,
                kind=deadline.kind,
                start=deadline.start,
                due=deadline.due,
                occurrences=deadline.occurrences,
                lead=lead,
                coordinating=coordinating,
                products=("Báo cáo kết quả thực hiện",),
                changes=_history(rng, deadline, year),
                position=position,
            )
        )
    return tasks


def synthetic_reporting(year: int = 2020, seed: int = 0) -> ReportingInput:
    """The plan's reporting regime (section III.7 of the sample): PCMNV and DVTH, some reports received."""
    rng = random.Random(seed)
    received = {}
    for code, cutoff_month in (("Q1", 3), ("H1", 6), ("9M", 9)):
        for unit in REPORTING_UNITS:
            if rng.random() < 0.6:
                received[(unit, code)] = date(year, cutoff_month, rng.randint(8, 20))
    return ReportingInput(
        plan=PLAN_CODE, year=year, units=REPORTING_UNITS, via="Văn phòng Sở", received=received
    )


def synthetic_input(n: int, year: int = 2020, seed: int = 0) -> PlannerInput:
    """The planner's whole input: ``n`` synthetic tasks, the sample unit directory, one reporting regime."""
    return PlannerInput(
        tasks=synthetic_tasks(n, year, seed),
        directory=sample_directory(),
        reporting=(synthetic_reporting(year, seed),),
    )
