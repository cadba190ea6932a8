"""The web admin over the sample plan: the database every page test starts from (``web_engine``, a fixture: the
sample plan with I.1 and IV.4 done, an admin and a TCCB account), a signed-in client, and readers of pages."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from config.settings import Settings
from store.db import session_scope
from store.tasks import find_task, history
from store.users import add_user
from tests.support.web_support import FAST, sample_engine
from web.app import create_app
from web.config import WebSettings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2020, 11, 25)
NOW = datetime(2020, 11, 25, 9, 0, tzinfo=TZ)
PASSWORD = "mat-khau-thu-nghiem"
LINK_SECRET = "link-secret-for-the-web-tests-0123456789"
PLAN = "CCHC-2020"
_template: dict[str, Path] = {}  # the sample database, built once a session and copied for each test


@pytest.fixture
def web_engine(run_cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The sample plan with I.1 and IV.4 done (through the CLI), an admin and a TCCB account."""

    def two_tasks_done() -> None:
        assert run_cli("tasks", "done", "I.1", "--at", "20/11/2020").exit_code == 0
        assert run_cli("tasks", "done", "IV.4", "--at", "24/11/2020", "--note", "QĐ số 12").exit_code == 0

    engine = sample_engine(run_cli, tmp_path_factory, _template, two_tasks_done)
    with session_scope(engine) as session:
        add_user(session, "chanh.vp", PASSWORD, "admin", hasher=FAST)
        add_user(session, "tccb", PASSWORD, "unit", "TCCB", hasher=FAST)
    yield engine
    engine.dispose()


def client_for(engine: Engine, who: str | None = "chanh.vp", now: datetime = NOW) -> TestClient:
    settings = Settings(link_secret=SecretStr(LINK_SECRET))
    web = WebSettings(secret=SecretStr("web-secret-for-the-tests-0123456789abcdef"))
    app = create_app(settings, engine, web_settings=web, clock=lambda: now, hasher=FAST)
    client = TestClient(app, follow_redirects=False)
    if who:
        data = {"csrf": csrf_of(client, "/login"), "name": who, "password": PASSWORD, "next": "/"}
        assert client.post("/login", data=data).status_code == 303
    return client


def csrf_of(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)


def text_of(page: str) -> str:
    """The page's text without tags, entities decoded and spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def counts(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-status="(\w+)">\s*<span class="n">(\d+)</span>', page)}


def codes(page: str) -> list[str]:
    return re.findall(r'<tr class="status-\w+" data-code="([^"]+)"', page)


def post_form(client: TestClient, code: str, form: str, **fields: str) -> httpx.Response:
    path = f"/tasks/{PLAN}/{code}"
    return client.post(f"{path}/{form}", data={"csrf": csrf_of(client, path), **fields})


def last_event(engine: Engine, code: str):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        task = find_task(session, code, PLAN)
        return task, history(session, task)[-1]


# A plan as a CSV file, clean and with a problem (the import page).
HEADER = "TT,Nội dung nhiệm vụ,Sản phẩm,Phòng chủ trì,Phòng phối hợp,Thời gian hoàn thành\n"
CLEAN_CSV = HEADER + (
    "I,Công tác chỉ đạo,,,,\n"
    "1,Ban hành kế hoạch kiểm tra,Kế hoạch,Văn phòng Sở,Phòng TCCB,Trước 31/12/2021\n"
    "2,Tổng hợp báo cáo quý,Báo cáo,Văn phòng Sở,,Trong tháng 6/2021\n"
)
BAD_CSV = CLEAN_CSV.replace("Trong tháng 6/2021", "Lúc nào tiện")  # a date that cannot be read
UNKNOWN_UNIT_CSV = CLEAN_CSV.replace(
    "2,Tổng hợp báo cáo quý,Báo cáo,Văn phòng Sở", "2,Tổng hợp báo cáo quý,Báo cáo,Phòng Tổ chức cán bô"
).replace("Phòng TCCB,Trước", "Phòng Vũ trụ,Trước")
