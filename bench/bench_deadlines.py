"""Throughput of plan.deadline.parse_deadline on the test table, and of dateparser if installed.

Run: .venv/bin/python bench/bench_deadlines.py [--rounds N]
Target: at least 20,000 phrases/s for parse_deadline.

Rates are phrases per second of this process's CPU time (best of three), so other work on a shared machine
slows them less than wall-clock time would. The yardstick, measured in the same run, is a fixed piece of
work that is none of our code (Unicode NFD and lower-casing of the same phrases): the ratio of the two
says how the parser's cost moved independently of the machine's speed that minute.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plan.deadline import DeadlineError, parse_deadline
from tests.support.deadline_cases import LANGUAGE_CASES, SEED_CASES, TABLE_CASES

TARGET = 20_000
PHRASES = [(case.phrase, case.year) for case in SEED_CASES + TABLE_CASES]


def _ours(phrase: str, year: int) -> object:
    try:
        return parse_deadline(phrase, year)
    except DeadlineError as error:
        return error


def _rate(
    parse: Callable[[str, int], object], rounds: int, phrases: list[tuple[str, int]] = PHRASES
) -> float:
    """Phrases per second of CPU time over ``rounds`` passes through ``phrases`` (best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(rounds):
            for phrase, year in phrases:
                parse(phrase, year)
        best = min(best, time.process_time() - started)
    return rounds * len(phrases) / best


def _machine() -> str:
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in line
            ),
            platform.processor() or "unknown CPU",
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, load {load}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=100, help="passes through the table per timing")
    args = parser.parse_args()

    print(f"machine: {_machine()}")
    ours = _rate(_ours, args.rounds)
    newer = _rate(_ours, args.rounds, [(case.phrase, case.year) for case in LANGUAGE_CASES])
    yardstick = _rate(lambda phrase, _year: unicodedata.normalize("NFD", phrase).lower(), args.rounds)
    verdict = "PASS" if ours >= TARGET else "FAIL"
    print(f"{len(PHRASES)} phrases x {args.rounds} rounds")
    print(f"parse_deadline: {ours:,.0f} phrases/s (target {TARGET:,}: {verdict})")
    print(f"  on the {len(LANGUAGE_CASES)} phrases of real documents' language alone: {newer:,.0f} phrases/s")
    print(
        f"yardstick (NFD + lower-case): {yardstick:,.0f} phrases/s; a parse costs {yardstick / ours:.0f} of them"
    )

    try:
        import dateparser
    except ImportError:
        print("dateparser: skipped (not installed; pip install 'nhacviec[bench]')")
        return 0 if ours >= TARGET else 1
    dateparser.parse("31/12/2020", languages=["vi"])  # load its language data outside the timing
    understood = sum(dateparser.parse(p, languages=["vi"]) is not None for p, _ in PHRASES)
    theirs = _rate(lambda p, _year: dateparser.parse(p, languages=["vi"]), max(1, args.rounds // 50))
    print(
        f"dateparser.parse(languages=['vi']): {theirs:,.0f} phrases/s, "
        f"returns a date for {understood}/{len(PHRASES)} phrases"
    )
    print(f"ratio: parse_deadline is {ours / theirs:,.1f}x faster")
    return 0 if ours >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
