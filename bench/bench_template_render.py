"""Time rendering every built-in template (each kind on each channel, all sample variants) with the Renderer used
at send time: ``python bench/bench_template_render.py [--loops N]``. Prints the median time of one pass."""

from __future__ import annotations

import argparse
import os
import statistics
import time

from templates.context import sample_variants
from templates.render import CHANNELS, KINDS, Renderer


def one_pass(renderer: Renderer, jobs: list[tuple[str, str, dict[str, object]]]) -> float:
    start = time.perf_counter()
    for kind, channel, context in jobs:
        renderer.render(kind, channel, context)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loops", type=int, default=30)
    args = parser.parse_args()
    renderer = Renderer()
    jobs = [
        (kind, channel, context)
        for kind in KINDS
        for channel in CHANNELS
        if channel != "zns"
        for context in sample_variants(kind, channel)
    ]
    one_pass(renderer, jobs)  # warm the template cache
    times = [one_pass(renderer, jobs) for _ in range(args.loops)]
    median = statistics.median(times)
    print(
        f"{len(jobs)} renders a pass, median {median * 1000:.1f} ms a pass "
        f"({median / len(jobs) * 1e6:.0f} us a render), load {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
