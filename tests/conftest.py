"""The test suite's plugins: every fixture and helper the tests share lives in tests/support/ (a test imports
from there, never from another test module or from this file; tests/test_architecture.py checks it)."""

pytest_plugins = [
    "tests.support.markers",
    "tests.support.databases",
    "tests.support.cli_runner",
    "tests.support.web_pages",
    "tests.support.web_rules",
    "tests.support.browser_support",
    "tests.support.notifier_servers",
]
