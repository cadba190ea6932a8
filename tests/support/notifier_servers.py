"""The providers every channel talks to, as fixtures (a plugin: tests/conftest.py registers it): a real SMTP
server (aiosmtpd on 127.0.0.1), the fake Telegram Bot API and the fake Zalo OpenAPI, each on its own port and
stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_zalo import FakeZalo, running_fake
from tests.support.smtp_server import SmtpTestServer, running_smtp_server


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def telegram_server() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def zalo_server() -> Iterator[FakeZalo]:
    """The fake Zalo with config/zns.yaml's templates approved; it must see no malformed request."""
    from config import CONFIG_DIR

    with running_fake() as fake:
        fake.register_zns_file(CONFIG_DIR / "zns.yaml")
        yield fake
        assert fake.bad_requests == []
