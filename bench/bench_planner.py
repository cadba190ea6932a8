"""A year of notifications for synthetic plans of growing size: time, throughput and peak memory.

Run: .venv/bin/python bench/bench_planner.py [--sizes 1000,10000,100000] [--repeat N] [--tracemalloc]
     .venv/bin/python bench/bench_planner.py --profile 10000   (cProfile of one run, top functions)

Each size runs in its own subprocess, so the peak RSS printed is that size's alone. The
synthetic plan (bench/synthetic.py), the default rules (config/rules.yaml) and the working
calendar are built before the clock starts; the calendar's index is warmed too, as a
long-running service would have it. Targets: 10,000 tasks in at most 5 s; 100,000 tasks in
at most 12x the 10,000-task time (linear growth). Always exits 0: this is a report.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import synthetic_input
from config.settings import Settings
from planner.calendar import WorkingCalendar, load_calendar
from planner.planner import PlannerInput, plan_notifications
from rules.model import Rule
from store.rules import read_rules_file

YEAR = 2020
TARGET_10K_SECONDS = 5.0
TARGET_GROWTH = 12.0
DEFAULT_SIZES = "1000,10000,100000"


# --------------------------------------------------------------------------- child: one size


def _rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _setup(size: int, seed: int) -> tuple[PlannerInput, list[Rule], WorkingCalendar, float]:
    started = time.perf_counter()
    inputs = synthetic_input(size, YEAR, seed)
    build_seconds = time.perf_counter() - started
    settings = Settings()
    rules = read_rules_file(settings.rules_file)
    calendar = load_calendar(settings.calendar_file)
    calendar.add_working_days(date(YEAR, 6, 30), 1)  # builds the index (YEAR-1..YEAR+1) outside the timing
    return inputs, rules, calendar, build_seconds


def _plan(inputs: PlannerInput, rules: list[Rule], calendar: WorkingCalendar) -> list[Any]:
    return plan_notifications(inputs, rules, calendar, date(YEAR, 1, 1), date(YEAR, 12, 31))


def run_size(size: int, seed: int, repeat: int, trace: bool) -> dict[str, Any]:
    """Measure one size in this process; returns the figures as a JSON-able mapping."""
    inputs, rules, calendar, build_seconds = _setup(size, seed)
    rss_before = _rss_mb()
    timings = []
    notifications: list[Any] = []
    for _ in range(repeat):
        notifications = []
        gc.collect()
        started = time.perf_counter()
        notifications = _plan(inputs, rules, calendar)
        timings.append(time.perf_counter() - started)
    result: dict[str, Any] = {
        "tasks": size,
        "notifications": len(notifications),
        "by_kind": dict(Counter(str(n.kind) for n in notifications).most_common()),
        "seconds": min(timings),
        "first_seconds": timings[0],
        "build_seconds": build_seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
    }
    if trace:
        del notifications
        gc.collect()
        tracemalloc.start()
        _plan(inputs, rules, calendar)
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result


def profile_size(size: int, seed: int, top: int) -> None:
    inputs, rules, calendar, _ = _setup(size, seed)
    profiler = cProfile.Profile()
    profiler.runcall(_plan, inputs, rules, calendar)
    stats = pstats.Stats(profiler).strip_dirs()
    print(f"cProfile, {size:,} tasks, one year: top {top} by own time")
    stats.sort_stats("tottime").print_stats(top)
    print(f"cProfile, {size:,} tasks, one year: top {top} by cumulative time")
    stats.sort_stats("cumulative").print_stats(top)


# --------------------------------------------------------------------------- parent: the report


def machine_facts() -> list[str]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0]
    busy = " (busy machine: timings are noisy)" if load > 0.5 * (os.cpu_count() or 1) else ""
    return [
        f"CPU: {model} (nproc {os.cpu_count()})",
        f"Python {platform.python_version()} ({platform.python_implementation()}), {platform.platform()}",
        f"Load average (1 min) at start: {load:.2f}{busy}",
    ]


def _child(size: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(size), "--seed", str(args.seed)]
    command += ["--repeat", str(args.repeat)] + (["--tracemalloc"] if args.tracemalloc else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"tasks": size, "error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_report(results: list[dict[str, Any]], repeat: int, trace: bool) -> None:
    seconds = "best s" if repeat > 1 else "seconds"
    header = f"{'tasks':>9} {'notifications':>14} {seconds:>9} {'notif/s':>11} {'peak RSS MB':>12}"
    header += f" {'RSS pre MB':>11} {'build s':>8}"
    header += (f" {'first s':>8}" if repeat > 1 else "") + (f" {'traced MB':>10}" if trace else "")
    print(header)
    print("-" * len(header))
    for r in results:
        if "error" in r:
            print(f"{r['tasks']:>9,} ERROR: {' '.join(r['error'])}")
            continue
        line = (
            f"{r['tasks']:>9,} {r['notifications']:>14,} {r['seconds']:>9.3f} "
            f"{r['notifications'] / r['seconds']:>11,.0f} {r['peak_rss_mb']:>12.1f} "
            f"{r['rss_before_mb']:>11.1f} {r['build_seconds']:>8.2f}"
        )
        line += f" {r['first_seconds']:>8.3f}" if repeat > 1 else ""
        print(line + (f" {r['traced_peak_mb']:>10.1f}" if trace else ""))
    print()
    for r in results:
        if "by_kind" in r:
            kinds = ", ".join(f"{kind} {count:,}" for kind, count in r["by_kind"].items())
            print(f"{r['tasks']:>9,} tasks: {kinds}")
    print()
    by_size = {r["tasks"]: r for r in results if "error" not in r}
    ten, hundred = by_size.get(10_000), by_size.get(100_000)
    if ten:
        verdict = _verdict(ten["seconds"] <= TARGET_10K_SECONDS)
        print(f"TARGET 10,000 tasks <= {TARGET_10K_SECONDS:.0f} s: {ten['seconds']:.3f} s   {verdict}")
    else:
        print("TARGET 10,000 tasks: not measured (add 10000 to --sizes)")
    if ten and hundred:
        ratio = hundred["seconds"] / ten["seconds"]
        verdict = _verdict(ratio <= TARGET_GROWTH)
        print(f"TARGET time(100k)/time(10k) <= {TARGET_GROWTH:.0f}: {ratio:.2f}   {verdict}")
    else:
        print("TARGET time(100k)/time(10k): not measured (needs 10000 and 100000 in --sizes)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated task counts")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic plan")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per size (the best counts)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the planning call's peak")
    parser.add_argument("--profile", type=int, metavar="SIZE", help="cProfile one run of SIZE tasks")
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        print(json.dumps(run_size(args.child, args.seed, max(1, args.repeat), args.tracemalloc)))
        return 0
    if args.profile is not None:
        profile_size(args.profile, args.seed, args.top)
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print("nhacviec planner benchmark: one year (2020-01-01 to 2020-12-31), default rules")
    for fact in machine_facts():
        print(fact)
    print(flush=True)
    results = []
    for size in sizes:
        print(f"... {size:,} tasks", file=sys.stderr, flush=True)
        results.append(_child(size, args))
    print_report(results, max(1, args.repeat), args.tracemalloc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
