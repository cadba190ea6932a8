"""The execution report on synthetic plans: figures (pure), the .docx and the .xlsx, for growing plans.

Real plans have tens to a few hundred tasks; the targets keep a large department's plan interactive on the web
page (preview and download) and the CLI.

    .venv/bin/python bench/bench_report.py [--sizes 200,1000,5000]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import sample_directory, synthetic_reporting, synthetic_tasks
from planner.calendar import WorkingCalendar
from planner.periods import fixed_period
from report.docx_writer import write_docx
from report.figures import Change, ReportData, ReportTask, build
from report.text import Letterhead
from report.xlsx_writer import write_xlsx

# (what, size, seconds): the time each step may take at that plan size.
TARGETS = (("figures", 5000, 2.0), ("docx", 1000, 15.0), ("xlsx", 1000, 5.0))


def report_data(n: int) -> ReportData:
    directory = sample_directory()
    reporting = synthetic_reporting()
    tasks = tuple(
        ReportTask(
            code=t.code,
            section=t.section,
            content=t.content,
            products=t.products,
            lead=t.lead,
            deadline_text=t.deadline_text,
            kind=str(t.kind),
            start=t.start,
            due=t.due,
            changes=tuple(Change(c.on, c.kind, c.new_due, note="Lý do thử") for c in t.changes),
            position=t.position,
        )
        for t in synthetic_tasks(n)
    )
    sections = {t.section: f"Nội dung {t.section}" for t in tasks if t.section}
    return ReportData(
        plan_code="BENCH",
        plan_title="Kế hoạch thử nghiệm năm 2020",
        year=2020,
        tasks=tasks,
        sections=sections,
        units={u.code: u.name for u in directory.units},
        reporting_units=reporting.units,
        received=dict(reporting.received),
    )


def timed(action, *args) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200,1000,5000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    calendar = WorkingCalendar()
    letterhead = Letterhead(signer_name="Nguyễn Văn A")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    results: dict[tuple[str, int], float] = {}
    for n in sizes:
        data = report_data(n)
        year = fixed_period("Y", 2020)
        report = build(data, year, year.cutoff, calendar.next_working_day)
        results[("figures", n)] = timed(build, data, year, year.cutoff, calendar.next_working_day)
        results[("docx", n)] = timed(write_docx, report, letterhead, BytesIO())
        results[("xlsx", n)] = timed(write_xlsx, report, letterhead, BytesIO())
        print(
            f"{n:>6} tasks: figures {results[('figures', n)]:.2f} s, docx {results[('docx', n)]:.2f} s, "
            f"xlsx {results[('xlsx', n)]:.2f} s"
        )
    failed = False
    for what, size, limit in TARGETS:
        if (what, size) not in results:
            continue
        ok = results[(what, size)] <= limit
        failed |= not ok
        print(
            f"{'PASS' if ok else 'FAIL'} {what} at {size} tasks: {results[(what, size)]:.2f} s (target <= {limit} s)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
