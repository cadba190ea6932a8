"""The web page "Báo cáo": the execution report previewed, then downloaded as .docx and .xlsx."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from config.settings import Settings
from store.db import session_scope
from store.users import add_user
from tests.support.web_support import FAST, sample_engine
from web.app import create_app
from web.config import WebSettings

NOW = datetime(2020, 6, 20, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
PASSWORD = "mat-khau-thu-nghiem"
_template: dict[str, Path] = {}


@pytest.fixture
def engine(run_cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The sample plan with I.1 done on time and I.2 late, an admin, a viewer and a TCCB account."""

    def two_tasks_done() -> None:
        assert run_cli("tasks", "done", "I.1", "--at", "20/01/2020", "--note", "KH số 15").exit_code == 0
        assert run_cli("tasks", "done", "I.2", "--at", "10/02/2020").exit_code == 0

    engine = sample_engine(run_cli, tmp_path_factory, _template, two_tasks_done)
    with session_scope(engine) as session:
        add_user(session, "chanh.vp", PASSWORD, "admin", hasher=FAST)
        add_user(session, "lanh.dao", PASSWORD, "viewer", hasher=FAST)
        add_user(session, "tccb", PASSWORD, "unit", "TCCB", hasher=FAST)
    yield engine
    engine.dispose()


def client_for(engine: Engine, who: str = "chanh.vp") -> TestClient:
    web = WebSettings(secret=SecretStr("web-secret-for-the-tests-0123456789abcdef"))
    app = create_app(Settings(), engine, web_settings=web, clock=lambda: NOW, hasher=FAST)
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"csrf": token.group(1), "name": who, "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=data).status_code == 303
    return client


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_form_offers_each_period_and_the_menu_links_it(engine: Engine) -> None:
    page = client_for(engine, "lanh.dao").get("/report")

    assert page.status_code == 200
    assert '<a href="/report">Báo cáo</a>' in page.text
    assert re.findall(r'<option value="(\w+)"', page.text) == ["Q1", "H1", "9M", "Y", "adhoc"]
    assert "Tải về" not in page.text  # nothing drafted before a period is chosen


def test_preview_shows_the_draft_of_the_period(engine: Engine) -> None:
    page = client_for(engine).get("/report", params={"period": "H1", "at": "20/06/2020"})
    text = text_of(page.text)

    assert page.status_code == 200
    assert "BÁO CÁO Kết quả thực hiện Kế hoạch Cải cách hành chính năm 2020 (6 tháng đầu năm 2020)" in text
    assert "Hoà Bình, ngày 20 tháng 6 năm 2020" in text
    assert (
        "Trong kỳ có 5 nhiệm vụ đến hạn, trong đó: 1 nhiệm vụ hoàn thành đúng hạn, 1 nhiệm vụ hoàn thành quá hạn, 3 nhiệm vụ quá hạn chưa hoàn thành."
        in text
    )
    assert "So với quý I năm 2020" in text
    assert "Nhiệm vụ II.1 (Văn phòng Sở) quá hạn" in text
    rows = re.findall(r'<tr data-status="(\w+)">', page.text)
    assert len(rows) == 35 and rows[:3] == ["done_on_time", "done_late", "in_progress"]
    assert page.text.count('class="section-row"') == 7
    assert "/report/download?period=H1&amp;plan=CCHC-2020&amp;at=20%2F06%2F2020&amp;format=docx" in page.text


def test_download_docx_and_xlsx(engine: Engine) -> None:
    from docx import Document
    from openpyxl import load_workbook

    client = client_for(engine)
    params = {"period": "H1", "plan": "CCHC-2020", "at": "20/06/2020"}
    docx = client.get("/report/download", params=params | {"format": "docx"})
    xlsx = client.get("/report/download", params=params | {"format": "xlsx"})

    assert docx.status_code == 200 and xlsx.status_code == 200
    assert docx.headers["content-disposition"] == 'attachment; filename="bao-cao-CCHC-2020-H1-20200620.docx"'
    assert docx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    document = Document(BytesIO(docx.content))
    assert "SỞ GIÁO DỤC VÀ ĐÀO TẠO" in document.tables[0].cell(0, 0).text
    workbook = load_workbook(BytesIO(xlsx.content))
    assert workbook.sheetnames == ["Tổng hợp", "Nhiệm vụ", "Đơn vị", "Khó khăn, kiến nghị"]


def test_a_unit_account_may_not_see_the_report(engine: Engine) -> None:
    client = client_for(engine, "tccb")

    assert client.get("/report").status_code == 403
    assert client.get("/report/download", params={"period": "Q1"}).status_code == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "Q3"}, "chọn Q1, H1, 9M, Y hoặc adhoc"),
        ({"period": "Q1", "at": "31/02/2020"}, "không hợp lệ"),
        ({"period": "Q1", "plan": "KH-KHAC"}, "Không có kế hoạch mã 'KH-KHAC'"),
    ],
    ids=["period", "date", "plan"],
)
def test_a_mistake_is_shown_beside_the_form(engine: Engine, params: dict[str, str], message: str) -> None:
    client = client_for(engine)

    page = client.get("/report", params=params)
    download = client.get("/report/download", params=params | {"format": "docx"})

    assert page.status_code == 400 and message in html.unescape(page.text)
    assert download.status_code == 400 and message in html.unescape(download.text)
