"""Throughput of plan.deadline.parse_deadline on the test table, and of dateparser if installed.

Run: .venv/bin/python bench/bench_deadlines.py [--rounds N]
Target: at least 20,000 phrases/s for parse_deadline.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plan.deadline import DeadlineError, parse_deadline
from tests.deadline_cases import SEED_CASES, TABLE_CASES

TARGET = 20_000
PHRASES = [(case.phrase, case.year) for case in SEED_CASES + TABLE_CASES]


def _ours(phrase: str, year: int) -> object:
    try:
        return parse_deadline(phrase, year)
    except DeadlineError as error:
        return error


def _rate(parse: Callable[[str, int], object], rounds: int) -> float:
    """Phrases per second over ``rounds`` passes through the table (best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(rounds):
            for phrase, year in PHRASES:
                parse(phrase, year)
        best = min(best, time.process_time() - started)
    return rounds * len(PHRASES) / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=100, help="passes through the table per timing")
    args = parser.parse_args()

    ours = _rate(_ours, args.rounds)
    verdict = "OK" if ours >= TARGET else "BELOW TARGET"
    print(f"{len(PHRASES)} phrases x {args.rounds} rounds")
    print(f"parse_deadline: {ours:,.0f} phrases/s (target {TARGET:,}: {verdict})")

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
