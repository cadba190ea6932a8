"""Big work streams: simulate a year of 10,000 tasks (JSON, JSON Lines, tables), `plan check` of 200,000 rows,
and a year's catch-up of 10,000 tasks, each in its own process with its peak RSS.

Run: .venv/bin/python bench/bench_streams.py [--tasks 10000] [--rows 200000] [--only simulate,check,catchup]

1. simulate. A SQLite database with ``--tasks`` synthetic tasks of 2020 (bench/bench_service.py's
   build_database). ``nhacviec simulate --from 01/01/2020 --to 31/12/2020 --json`` is timed (wall, its
   output to a file), then ``json.dumps`` of the same output (parsed back) in this process, and the
   ratio. Target: simulate <= 4x json.dumps. Then ``--jsonl``, the table a person gets (summarised) and
   ``--all`` (every row, plain columns). Target: the table (--all) <= 2x the JSON command.
2. plan check. A CSV of ``--rows`` task rows (synthetic deadline phrases, units of the directory, one
   section per 1,000 rows); ``nhacviec plan check FILE --year 2020`` timed. Target: < 60 s, RSS < 500 MB.
3. catch-up. The same database, the watermark at 1 January 2020 07:30, NHACVIEC_MAX_CATCHUP_DAYS=400;
   ``nhacviec run --once --at "31/12/2020 07:30"`` with every channel going to the file sink: the year is
   planned, enqueued and written day by day. Target: RSS < 400 MB.

Peak RSS is the child's ru_maxrss (each command runs under its own small wrapper process). Always exits 0:
this is a report (the machine is shared; read the load average printed with the figures).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_service import build_database, load_average, machine_facts, verdict
from bench.synthetic import _PHRASES, KIND_WEIGHTS, sample_directory
from config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "out = open(sys.argv[1], 'wb')\n"
    "started = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE)\n"
    "seconds = time.perf_counter() - started\n"
    "print(done.returncode, seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "if done.returncode: print(done.stderr.decode(errors='replace')[-2000:], file=sys.stderr)\n"
)


def measured(command: list[str], env: dict[str, str], output: Path) -> tuple[int, float, float]:
    """(exit code, wall seconds, peak RSS in MB) of ``nhacviec COMMAND`` with its stdout in ``output``."""
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(output), sys.executable, "-m", "cli.main", *command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    line = done.stdout.split()
    if int(line[0]) and "plan" not in command:  # plan check exits 1 when the plan has problems
        print(f"nhacviec {' '.join(command)} failed:\n{done.stderr}")
    return int(line[0]), float(line[1]), int(line[2]) / 1024


def environment(folder: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHACVIEC_")}
    env.update(
        NHACVIEC_DATA_DIR=str(folder),
        NHACVIEC_DATABASE_URL=url,
        NHACVIEC_CONSOLE_SINK="false",
        NHACVIEC_ALLOW_PLACEHOLDERS="true",
        COLUMNS="160",
        **extra,
    )
    return env


def bench_simulate(folder: Path, url: str) -> None:
    env = environment(folder, url)
    year = ["simulate", "--from", "01/01/2020", "--to", "31/12/2020"]
    out = folder / "year.json"
    code, json_seconds, json_rss = measured([*year, "--json"], env, out)
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    started = time.perf_counter()
    json.dumps(data, ensure_ascii=False)
    dumps = time.perf_counter() - started
    ratio = json_seconds / dumps
    print(
        f"simulate --json: {len(data):,} notifications, {out.stat().st_size / 1e6:.0f} MB, "
        f"{json_seconds:.1f} s, RSS {json_rss:.0f} MB; json.dumps of the same: {dumps:.2f} s; "
        f"ratio {ratio:.1f}x (target <= 4x) {verdict(ratio <= 4)}"
    )
    del data
    code, jsonl_seconds, jsonl_rss = measured([*year, "--jsonl"], env, folder / "year.jsonl")
    print(f"simulate --jsonl: {jsonl_seconds:.1f} s, RSS {jsonl_rss:.0f} MB")
    code, table_seconds, table_rss = measured(year, env, folder / "year.txt")
    print(f"simulate (table, summarised): {table_seconds:.1f} s, RSS {table_rss:.0f} MB")
    code, all_seconds, all_rss = measured([*year, "--all"], env, folder / "year-all.txt")
    lines = sum(1 for _ in (folder / "year-all.txt").open(encoding="utf-8"))
    print(
        f"simulate --all (every row): {lines:,} lines, {all_seconds:.1f} s, RSS {all_rss:.0f} MB; "
        f"{all_seconds / json_seconds:.2f}x the JSON (target <= 2x) {verdict(all_seconds <= 2 * json_seconds)}"
    )


def write_rows(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    names = [unit.name for unit in sample_directory().units]
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    numerals = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["TT", "Nội dung nhiệm vụ", "Sản phẩm", "Phòng chủ trì", "Phòng phối hợp", "Thời gian hoàn thành"]
        )
        for i in range(rows):
            if i % 1000 == 0:
                section = i // 1000
                writer.writerow(
                    [f"{numerals[section % 10]}{section // 10 or ''}", f"Mục {section + 1}", "", "", "", ""]
                )
            kind = rng.choices(kinds, weights)[0]
            writer.writerow(
                [
                    str(i % 1000 + 1),
                    f"Nhiệm vụ số {i + 1}: rà soát, hoàn thiện quy trình nội bộ",
                    "Báo cáo kết quả",
                    rng.choice(names),
                    rng.choice(names) if rng.random() < 0.4 else "",
                    _PHRASES[kind](rng, 2020),
                ]
            )


def bench_check(folder: Path, url: str, rows: int) -> None:
    plan = folder / "big.csv"
    write_rows(plan, rows)
    env = environment(folder, url)
    code, seconds, rss = measured(["plan", "check", str(plan), "--year", "2020"], env, folder / "check.txt")
    tail = (folder / "check.txt").read_text(encoding="utf-8").strip().splitlines()[-1:]
    print(
        f"plan check {rows:,} rows ({plan.stat().st_size / 1e6:.0f} MB): exit {code}, {seconds:.1f} s "
        f"(target < 60 s) {verdict(seconds < 60)}, RSS {rss:.0f} MB (target < 500 MB) {verdict(rss < 500)}; "
        f"{' '.join(tail)}"
    )


def bench_catch_up(folder: Path, url: str) -> None:
    from store.db import make_engine
    from store.state import set_last_pass

    engine = make_engine(url)
    set_last_pass(engine, datetime(2020, 1, 1, 0, 30, tzinfo=UTC), {})
    engine.dispose()
    env = environment(folder, url, NHACVIEC_MAX_CATCHUP_DAYS="400")
    code, seconds, rss = measured(["run", "--once", "--at", "31/12/2020 07:30"], env, folder / "catchup.txt")
    summary = (folder / "catchup.txt").read_text(encoding="utf-8").strip().splitlines()
    print(
        f"catch-up of a year (run --once, watermark 01/01/2020): exit {code}, {seconds:.0f} s, RSS {rss:.0f} MB "
        f"(target < 400 MB) {verdict(rss < 400)}; {' '.join(summary[:2])}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--only", default="simulate,check,catchup")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    print(f"{machine_facts()}; load {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bench-streams-") as temporary:
        folder = Path(temporary)
        url = f"sqlite:///{folder / 'nhacviec.db'}"
        if only & {"simulate", "catchup"}:
            loaded = build_database(url, Settings(data_dir=folder), args.tasks, 0, 2020, date(2020, 1, 1))
            print(f"database: {loaded.tasks:,} tasks in {loaded.seconds:.0f} s")
        if "simulate" in only:
            bench_simulate(folder, url)
        if "check" in only:
            bench_check(folder, url, args.rows)
        if "catchup" in only:
            bench_catch_up(folder, url)
    print(f"load after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
