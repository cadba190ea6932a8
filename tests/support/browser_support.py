"""Helpers for the browser tests: Debian's Chromium under Playwright, and ``nhacviec web`` in a subprocess.

No browser is ever downloaded: Playwright drives /usr/bin/chromium (installed by .ci/browser.sh), with a
fresh empty profile and every background network feature off, so a test run talks only to 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_SECONDS = 30.0


def browser_skip_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: run .ci/browser.sh (apt-get install chromium fonts-noto-core)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return (
            "the playwright package is missing: .venv/bin/pip install playwright (never 'playwright install')"
        )
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """``nhacviec ARGS`` in a subprocess with ``env``; its stdout (a failure raises with stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"nhacviec {' '.join(args)} exited {done.returncode}: {done.stderr}{done.stdout}")
    return done.stdout


def ics_token(output: str) -> str:
    """The token in the feed address ``nhacviec ics create`` prints."""
    match = re.search(r"token=([A-Za-z0-9_-]+)", output)
    if not match:
        raise AssertionError(f"no feed address in: {output!r}")
    return match.group(1)


@contextmanager
def web_server(env: dict[str, str], log_file: Path, port: int) -> Iterator[str]:
    """``nhacviec web`` on ``port`` of 127.0.0.1; yields its base URL, stops it (SIGTERM) afterwards."""
    base = f"http://127.0.0.1:{port}"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "web", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(base, process, log_file)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_up(
    base: str, process: subprocess.Popen[bytes], log_file: Path, timeout: float = START_TIMEOUT_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"nhacviec web exited {process.returncode}: {log_file.read_text(errors='replace')}"
            )
        try:
            if httpx.get(f"{base}/login", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nhacviec web did not answer within {timeout:g} s")


@contextmanager
def chromium_context(**options: Any) -> Iterator[Any]:
    """A Playwright browser context over Debian's Chromium with a new, empty profile folder."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="nhacviec-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="vi-VN",
            timezone_id="Asia/Ho_Chi_Minh",
            **options,
        )
        try:
            yield context
        finally:
            context.close()


def unfold(text: str) -> list[str]:
    """An iCalendar body's content lines, folded lines joined (RFC 5545 §3.1)."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def vevents(lines: list[str]) -> list[dict[str, str]]:
    """Each VEVENT as {property name: value} (parameters dropped: ``DTSTART;VALUE=DATE:2020…``)."""
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            events.append(current)
            current = None
        elif current is not None and ":" in line:
            head, value = line.split(":", 1)
            current[head.split(";", 1)[0]] = value
    return events


def screenshot_dir(default: Path) -> Path:
    """NHACVIEC_SCREENSHOT_DIR (relative to the repository) if set, else ``default``."""
    chosen = os.environ.get("NHACVIEC_SCREENSHOT_DIR")
    folder = (ROOT / chosen) if chosen else default
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- the site every browser test drives: ``nhacviec web`` over the sample plan (fixtures) --------------------

SKIP = browser_skip_reason()

PASSWORD = "mat-khau-trinh-duyet-2020"
WEB_SECRET = "web-secret-for-the-browser-tests-0123456789"
LINK_SECRET = "link-secret-for-the-browser-tests-0123456789"
PLAN = "CCHC-2020"
SAMPLE_TASKS = 35
VIEWPORT = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class Site:
    base: str
    env: dict[str, str]
    ics_token: str
    shots: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``nhacviec init`` + an admin account + a TCCB calendar token, served by ``nhacviec web``."""
    shots = screenshot_dir(tmp_path_factory.mktemp("screenshots"))  # read before conftest clears NHACVIEC_*
    folder = tmp_path_factory.mktemp("browser-site")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("NHACVIEC_")}
    env.update(
        NHACVIEC_DATA_DIR=str(folder / "var"),
        NHACVIEC_CONSOLE_SINK="false",
        NHACVIEC_WEB_SECRET=WEB_SECRET,
        NHACVIEC_LINK_SECRET=LINK_SECRET,
        NHACVIEC_BASE_URL=base,
        COLUMNS="200",
    )
    cli(env, "init")
    cli(env, "users", "add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    token = ics_token(cli(env, "ics", "create", "TCCB"))
    with web_server(env, folder / "web.log", port) as url:
        assert url == base
        yield Site(base, env, token, shots)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    with chromium_context(viewport=VIEWPORT) as context:
        yield context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new tab with no session."""
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    tab.close()


def sign_in(page: Any, site: Site, password: str = PASSWORD) -> None:
    page.goto(f"{site.base}/login")
    page.fill("input[name=name]", "admin")
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def shoot(page: Any, site: Site, name: str) -> Path:
    path = site.shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a real picture, not an empty page
    return path


def counts(page: Any) -> dict[str, int]:
    cards = page.locator("section.counts a.count")
    return {
        cards.nth(i).get_attribute("data-status"): int(cards.nth(i).locator(".n").inner_text())
        for i in range(cards.count())
    }


def field(page: Any, name: str) -> str:
    text: str = page.locator(f"dd[data-field={name}]").inner_text()
    return text.strip()
