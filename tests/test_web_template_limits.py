"""The web's template previews and saves check and render in a child process with a time and memory limit: the
QA probe is refused in Vietnamese within seconds, and what the sandbox misses is "too heavy", never a stall."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from config.settings import Settings
from tests.support.template_probes import PROBES, SLOW
from tests.support.web_rules import FAST, NOW, PASSWORD, csrf_of, text_of
from web.app import create_app
from web.config import WebSettings

PAGE = "/templates-admin/email/reminder.txt.j2"


@pytest.fixture
def engine(rules_web_engine: Engine) -> Engine:
    return rules_web_engine


def _client(engine: Engine, templates_dir: Path | None = None, **web: object) -> TestClient:
    settings = Settings(templates_dir=templates_dir)
    limits = WebSettings(secret=SecretStr("web-secret-for-the-tests-0123456789abcdef"), **web)  # type: ignore[arg-type]
    client = TestClient(create_app(settings, engine, web_settings=limits, clock=lambda: NOW, hasher=FAST))
    data = {"csrf": csrf_of(client, "/login"), "name": "chanh.vp", "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    return client


def _preview(client: TestClient, text: str, action: str = "preview"):  # type: ignore[no-untyped-def]
    form = {"csrf": csrf_of(client, PAGE), "text": text, "task": "", "preview_channel": "email"}
    return client.post(f"{PAGE}/{action}", data=form, follow_redirects=False)


@pytest.fixture
def parent_never_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the web process, checking or rendering a template fails: what passes was done in the child."""
    import templates.render as render

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a template was checked or rendered in the web process")

    monkeypatch.setattr(render, "validate", refuse)
    monkeypatch.setattr(render.Renderer, "render", refuse)


@pytest.mark.parametrize(("source", "bound"), PROBES)
def test_the_live_preview_refuses_the_probe_in_vietnamese(
    engine: Engine, parent_never_renders: None, source: str, bound: str
) -> None:
    client = _client(engine)
    started = time.monotonic()
    page = _preview(client, "Kính gửi\n" + source + "\n")
    assert time.monotonic() - started < 4
    assert page.status_code == 400
    shown = text_of(page.text)
    assert bound in shown and "Error" not in shown


def test_a_normal_preview_still_renders_in_the_child(engine: Engine, parent_never_renders: None) -> None:
    page = _preview(_client(engine), "Kính gửi {{ recipient.name }}: nhiệm vụ {{ task.code }}.\n")
    assert page.status_code == 200
    assert "Kính gửi" in text_of(page.text) and "nhiệm vụ" in text_of(page.text)


def test_a_preview_past_the_time_limit_is_killed_and_called_too_heavy(engine: Engine) -> None:
    client = _client(engine, template_seconds=1.0)
    started = time.monotonic()
    page = _preview(client, SLOW)
    assert time.monotonic() - started < 5
    assert page.status_code == 400
    assert "Mẫu quá nặng: kiểm tra và dựng thử mất hơn 1 giây" in text_of(page.text)


def test_saving_a_heavy_template_is_refused_and_nothing_is_written(engine: Engine, tmp_path: Path) -> None:
    client = _client(engine, templates_dir=tmp_path, template_seconds=1.0)
    page = _preview(client, SLOW, action="save")
    assert page.status_code == 400 and "Mẫu quá nặng" in text_of(page.text)
    page = _preview(client, PROBES[0].values[0] + "\n", action="save")
    assert page.status_code == 400 and "quá giới hạn" in text_of(page.text)
    assert not (tmp_path / "email" / "reminder.txt.j2").exists()


def test_the_wording_preview_is_checked_and_rendered_in_the_child(
    engine: Engine, parent_never_renders: None
) -> None:
    client = _client(engine)
    form = {
        "csrf": csrf_of(client, "/wording/reminder"),
        "subject": "Nhắc {mã nhiệm vụ}",
        "opening": "Văn phòng nhắc {đơn vị chủ trì}.",
        "closing": "Cảm ơn.",
    }
    page = client.post("/wording/reminder/preview", data=form, follow_redirects=False)
    assert page.status_code == 200
    assert text_of(page.text).count("Văn phòng nhắc") >= 3  # one preview a channel
