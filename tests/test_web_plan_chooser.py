"""The web's plan choosers say which plans are archived, and a task code two active plans share is refused on
the web with what to choose there (the plan field of the form), not the CLI's --plan. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from store.db import make_engine, session_scope
from store.users import add_user
from tests.support.plan_files import imported
from tests.support.web_pages import PASSWORD, TZ, client_for, csrf_of, text_of
from tests.support.web_support import FAST

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=TZ)


@pytest.fixture
def engine(run_cli, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The sample plan archived by a real plan of 2026 (KH-2026), and an admin."""
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    imported(run_cli, tmp_path)
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        add_user(session, "chanh.vp", PASSWORD, "admin", hasher=FAST)
    yield engine
    engine.dispose()


def _options(page: str) -> dict[str, tuple[str, bool]]:
    """The plan chooser's options: code -> (text, inside the "Đã lưu trữ" group)."""
    select = re.search(r'<select name="plan">(.*?)</select>', page, re.S)
    assert select, "no plan chooser"
    before, _, apart = select.group(1).partition('<optgroup label="Đã lưu trữ')
    option = r'<option value="([^"]+)"[^>]*>([^<]*)</option>'
    found = {code: (text, False) for code, text in re.findall(option, before)}
    return found | {code: (text, True) for code, text in re.findall(option, apart)}


@pytest.mark.parametrize("path", ["/tasks", "/", "/calendar", "/extensions", "/report"])
def test_the_plan_chooser_marks_archived_plans_and_lists_them_apart(engine: Engine, path: str) -> None:
    client = client_for(engine, now=NOW)
    page = client.get(path)
    assert page.status_code == 200
    options = _options(page.text)
    assert set(options) == {"KH-2026", "CCHC-2020"}
    active_text, active_apart = options["KH-2026"]
    archived_text, archived_apart = options["CCHC-2020"]
    assert "lưu trữ" not in active_text and not active_apart
    assert "đã lưu trữ" in archived_text and archived_apart
    assert list(options) == ["KH-2026", "CCHC-2020"]  # the active plan first, chosen by default
    assert re.search(r'<option value="KH-2026"[^>]*selected', page.text)


def test_a_code_two_active_plans_share_is_refused_with_what_to_choose_on_the_web(
    engine: Engine, run_cli
) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("plan", "restore", "CCHC-2020").exit_code == 0
    client = client_for(engine, now=NOW)
    options = _options(client.get("/tasks").text)
    assert not options["CCHC-2020"][1] and "lưu trữ" not in options["CCHC-2020"][0]  # active again

    form = client.get("/manual").text
    assert re.search(
        r'<select name="plan">.*KH-2026.*CCHC-2020', form, re.S
    )  # the plan field, when it matters
    csrf = csrf_of(client, "/manual")
    refused = client.post("/manual/preview", data={"csrf": csrf, "kind": "remind", "task": "I.2"})
    assert refused.status_code == 400
    said = text_of(refused.text)
    assert "Mã nhiệm vụ 'I.2' có trong nhiều kế hoạch" in said and "CCHC-2020" in said and "KH-2026" in said
    assert "ô Kế hoạch" in said and "--plan" not in said
    assert re.search(r'<option value="">Tự tìm theo mã nhiệm vụ</option>', refused.text)

    chosen = client.post(
        "/manual/preview", data={"csrf": csrf, "kind": "remind", "task": "I.2", "plan": "KH-2026"}
    )
    assert chosen.status_code == 200, text_of(chosen.text)
    shown = text_of(chosen.text)
    assert "I.2" in shown and "Xây dựng đề án vị trí việc làm" in shown  # KH-2026's I.2, not the sample's
    assert '<input type="hidden" name="plan" value="KH-2026">' in chosen.text  # carried to the confirmation

    # the task page's "Gửi nhắc ngay" names its plan, so it is never ambiguous
    page = client.get("/tasks/KH-2026/I.2").text
    send_now = re.search(r'<form method="post" action="/manual/preview".*?</form>', page, re.S)
    assert send_now and '<input type="hidden" name="plan" value="KH-2026">' in send_now.group(0)

    cli_refusal = run_cli("tasks", "done", "I.2", "--at", "01/06/2026")
    assert cli_refusal.exit_code == 1 and "--plan" in cli_refusal.stderr  # the CLI keeps its own words
