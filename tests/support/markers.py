"""The markers: ``slow`` (seconds each: subprocesses, real servers, many CLI runs), ``postgres`` (a real
PostgreSQL server) and ``browser`` (Chromium). Besides the tests marked in their files, the functions listed in
tests/support/slow_tests.txt are marked slow here, so ``pytest -m "not slow"`` stays under a minute (a plugin:
tests/conftest.py registers it)."""

from __future__ import annotations

from pathlib import Path

import pytest

SLOW_LIST = Path(__file__).with_name("slow_tests.txt")


def listed_slow() -> frozenset[str]:
    lines = SLOW_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = listed_slow()
    for item in items:
        if item.nodeid.split("[")[0] in slow:
            item.add_marker(pytest.mark.slow)
