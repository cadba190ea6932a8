"""How long re-import matching (plan.rematch) takes on a large revised plan.

Run: .venv/bin/python bench/bench_rematch.py [--tasks 10000]
Targets: 10,000 tasks with one row inserted at the top (every task renumbered, matched by its text) in
under 1 s; with 5% of the rows reworded (fuzzy matching among them) in under 10 s.

Times are CPU seconds of this process (best of three), so other work on a shared machine slows them less.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plan.rematch import Row, rematch

WORDS = [
    "lập",
    "kế",
    "hoạch",
    "rà",
    "soát",
    "thủ",
    "tục",
    "hành",
    "chính",
    "báo",
    "cáo",
    "kết",
    "quả",
    "kiểm",
    "tra",
    "văn",
    "bản",
    "quy",
    "phạm",
    "pháp",
    "luật",
    "tuyên",
    "truyền",
    "cải",
    "cách",
    "chỉ",
    "số",
    "đánh",
    "giá",
    "ứng",
    "dụng",
    "công",
    "nghệ",
    "thông",
    "tin",
    "dịch",
    "vụ",
    "công",
    "trực",
    "tuyến",
    "một",
    "cửa",
    "liên",
    "thông",
    "tổ",
    "chức",
    "bộ",
    "máy",
    "biên",
    "chế",
    "đào",
    "tạo",
    "bồi",
    "dưỡng",
    "cán",
    "bộ",
    "công",
    "chức",
    "viên",
    "chức",
    "tài",
    "chính",
    "công",
    "hiện",
    "đại",
    "hóa",
    "hành",
    "chính",
]
UNITS = ("VP", "TCCB", "KHTC", "GDTrH", "GDTH", "TTRA", "KTKĐ")


def plan(count: int, seed: int = 7) -> list[Row]:
    rng = random.Random(seed)
    return [
        Row(
            f"{i // 50 + 1}.{i % 50 + 1}",
            " ".join(rng.choices(WORDS, k=rng.randint(8, 20))),
            (rng.choice(UNITS),),
        )
        for i in range(count)
    ]


def renumber(rows: list[Row]) -> list[Row]:
    return [Row(f"{i // 50 + 1}.{i % 50 + 1}", r.content, r.lead) for i, r in enumerate(rows)]


def cpu(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    count = parser.parse_args().tasks
    old = plan(count)
    inserted = renumber([Row("", "xây dựng kế hoạch cải cách hành chính năm mới", ("VP",)), *old])
    rng = random.Random(11)
    reworded = renumber(
        [Row(r.code, r.content + " và báo cáo kết quả", r.lead) if rng.random() < 0.05 else r for r in old]
    )
    one = cpu(lambda: rematch(old, inserted))
    five = cpu(lambda: rematch(old, reworded))
    result = rematch(old, reworded)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"load: {os.getloadavg()[0]:.1f}")
    print(
        f"{count} tasks, one row inserted at the top: {one:.2f} s CPU — target < 1 s: {'PASS' if one < 1 else 'FAIL'}"
    )
    print(
        f"{count} tasks, 5% reworded: {five:.2f} s CPU ({len(result.pairs)} matched, {len(result.questions)} asked)"
        f" — target < 10 s: {'PASS' if five < 10 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
