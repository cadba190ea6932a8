"""A clerk changes a message's wording: subject, opening and closing sentence with named placeholders, previewed
on the plan's real data for every channel, saved as template overrides the renderer then uses."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from templates.context import sample_context
from templates.render import Renderer, validate
from tests.support.web_rules import client_for, csrf_of, text_of

OPENING = "Văn phòng nhắc {đơn vị chủ trì}: nhiệm vụ {mã nhiệm vụ} có hạn {hạn} (đừng quên {{ 7*7 }})."
CLOSING = "Cảm ơn đơn vị <đã> phối hợp."


@pytest.fixture
def engine(rules_web_engine: Engine) -> Engine:
    """The sample plan on 05/11/2020, nothing done yet (tests/support/web_rules.py)."""
    return rules_web_engine


def _post(client, action: str, **fields: str):  # type: ignore[no-untyped-def]
    form = {"subject": "Nhắc {mã nhiệm vụ} trước {hạn}", "opening": OPENING, "closing": CLOSING} | fields
    return client.post(
        f"/wording/reminder/{action}", data={"csrf": csrf_of(client, "/wording/reminder"), **form}
    )


def test_the_form_starts_from_the_built_in_wording_and_lists_the_placeholders(engine: Engine) -> None:
    page = client_for(engine).get("/wording/reminder")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "{văn phòng} xin nhắc: nhiệm vụ {mã nhiệm vụ}" in shown and "{hạn}" in shown
    assert "Chưa bật mẫu tuỳ chỉnh" in shown and "/wording/reminder/save" not in page.text
    assert "Sửa lời văn" in client_for(engine).get("/templates-admin").text
    assert client_for(engine).get("/wording/report_request").status_code == 404


def test_the_preview_fills_the_placeholders_from_a_real_message_on_every_channel(engine: Engine) -> None:
    page = _post(client_for(engine), "preview")
    assert page.status_code == 200, text_of(page.text)
    previews = dict(re.findall(r'<div class="preview" data-channel="(\w+)">(.*?)</div>', page.text, re.S))
    assert set(previews) == {"email", "telegram", "zalo"}
    email = html.unescape(previews["email"])
    code = re.search(r"nhiệm vụ ([IVX]+\.\d+) có hạn (\d\d/\d\d/\d{4})", email)
    assert code, email  # a task of the plan, its due date written dd/mm/yyyy
    assert f"Nhắc {code.group(1)} trước {code.group(2)}" in email  # the subject
    assert "{{ 7*7 }}" in email and "49" not in email  # what the clerk types stays text
    assert "Cảm ơn đơn vị <đã> phối hợp." in email
    assert "tin sắp gửi của kế hoạch đang dùng" in text_of(page.text)
    for channel in ("telegram", "zalo"):
        assert code.group(1) in previews[channel] and "Cảm ơn đơn vị" in html.unescape(previews[channel])


def test_an_unknown_placeholder_or_an_empty_opening_is_refused_in_vietnamese(engine: Engine) -> None:
    page = _post(client_for(engine), "preview", opening="Nhắc {ngày hết hạn}")
    assert page.status_code == 400
    assert "Không có chỗ điền {ngày hết hạn}; chỉ dùng được: {mã nhiệm vụ}" in text_of(page.text)
    assert "Cần nhập câu mở đầu." in text_of(_post(client_for(engine), "preview", opening=" ").text)


def test_saving_writes_overrides_the_renderer_uses_and_the_form_shows_again(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "mau"
    client = client_for(engine, templates_dir=folder)
    assert _post(client_for(engine), "save").status_code == 400  # no override folder: nothing saved
    response = _post(client, "save")
    assert response.status_code == 303 and response.headers["location"] == "/wording/reminder?ok=saved"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.j2")) == [
        "email/reminder.html.j2",
        "email/reminder.subject.j2",
        "email/reminder.txt.j2",
        "telegram/reminder.html.j2",
        "zalo/reminder.txt.j2",
    ]
    assert validate(folder) == []
    rendered = Renderer(folder).render("reminder", "email", sample_context("reminder", "email"))
    assert rendered.text.count("Văn phòng nhắc") == 1 and "{{ 7*7 }}" in rendered.text
    assert rendered.html is not None and "Cảm ơn đơn vị &lt;đã&gt; phối hợp." in rendered.html
    page = client.get("/wording/reminder?ok=saved")
    assert "Đã lưu lời văn." in text_of(page.text) and "Văn phòng nhắc {đơn vị chủ trì}" in text_of(page.text)
