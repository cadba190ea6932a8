"""The web admin's rules and templates pages over the sample plan on 05/11/2020, nothing done yet: the database
(``rules_web_engine``, a fixture: an admin, a viewer and a TCCB account), a signed-in client, and page readers."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from config.settings import Settings
from store.db import make_engine, session_scope
from store.users import add_user
from tests.support.web_support import FAST
from web.app import create_app
from web.config import WebSettings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2020, 11, 5, 9, 0, tzinfo=TZ)

PASSWORD = "mat-khau-thu-nghiem"


@pytest.fixture
def rules_web_engine(run_cli) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The sample plan, nothing done yet; an admin, a viewer and a TCCB account."""
    assert run_cli("init").exit_code == 0
    engine = make_engine(Settings().effective_database_url)
    with session_scope(engine) as session:
        add_user(session, "chanh.vp", PASSWORD, "admin", hasher=FAST)
        add_user(session, "xem", PASSWORD, "viewer", hasher=FAST)
        add_user(session, "tccb", PASSWORD, "unit", "TCCB", hasher=FAST)
    yield engine
    engine.dispose()


def client_for(engine: Engine, who: str = "chanh.vp", templates_dir: Path | None = None) -> TestClient:
    settings = Settings(templates_dir=templates_dir)
    web = WebSettings(secret=SecretStr("web-secret-for-the-tests-0123456789abcdef"))
    app = create_app(settings, engine, web_settings=web, clock=lambda: NOW, hasher=FAST)
    client = TestClient(app, follow_redirects=False)
    data = {"csrf": csrf_of(client, "/login"), "name": who, "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=data).status_code == 303
    return client


def csrf_of(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
