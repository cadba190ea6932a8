"""Every page of the web admin reads in Vietnamese: no internal word (codes of kinds, statuses, events, weekdays...).

The pages are found by following the links of the signed-in admin's pages (and a unit account's) from the
dashboard, one page per address shape, with the sample plan's tasks in every state (done, extended, an
extension asked for). Only the text a user reads is checked: tags, attribute values, addresses and the raw
template editor's source are left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.users import add_user
from tests.support.web_pages import PASSWORD, client_for
from tests.support.web_support import FAST, sample_engine

INTERNAL = re.compile(
    r"\b(window|date|recurring|created|done|updated|reminder|kickoff|checkin|escalation|digest|report_request|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|lead|coordinating|Usage|Options|pending|sending|"
    r"sent|written|failed|dead|skipped|department|office|inspectorate|unscheduled|event|quarter|month|year|"
    r"range|by_date|extended|reopened|due_set|on_track|due_soon|overdue|needs_date|None|True|False|null)\b",
    re.IGNORECASE,
)
SNAKE_CASE = re.compile(r"(?<![\w/.-])_?[a-z]+_[a-z_]+\b|(?<![\w/.-])_[a-z]+\b")  # "needs_date", "_bundle"
SKIPPED = ("/static/", "/ics/", "/done/", "/logout")
_template: dict[str, object] = {}


@pytest.fixture
def engine(run_cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    def states() -> None:
        assert run_cli("tasks", "done", "I.1", "--at", "20/11/2020").exit_code == 0
        assert run_cli("tasks", "extend", "IV.4", "--to", "20/12/2020", "--reason", "Chờ UBND").exit_code == 0

    engine = sample_engine(run_cli, tmp_path_factory, _template, states)  # type: ignore[arg-type]
    with session_scope(engine) as session:
        add_user(session, "chanh.vp", PASSWORD, "admin", hasher=FAST)
        add_user(session, "tccb", PASSWORD, "unit", "TCCB", hasher=FAST)
    yield engine
    engine.dispose()


def shape(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[:1] + ["*"] * (len(parts) - 1))


def readable(page: str) -> str:
    """What a reader sees: no tags, no script/style, no textarea source, entities decoded."""
    page = re.sub(r"(?is)<(textarea|style|script)\b.*?</\1>", " ", page)
    page = re.sub(r"(?is)<code\b.*?</code>", " ", page)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return " ".join(re.sub(r"\S*[/=]\S*|NHACVIEC_\w+", " ", text).split())  # paths and settings are names


def walk(client: TestClient) -> dict[str, str]:
    """Each page reachable by links from the dashboard (one per address shape, plus list pages' queries)."""
    queue = ["/"]
    seen: set[str] = set()
    pages: dict[str, str] = {}
    while queue:
        path = queue.pop(0)
        key = shape(urlsplit(path).path)
        if key in seen and not key.startswith("tasks/"):  # every task's page: each kind of deadline
            continue
        if path in pages:
            continue
        seen.add(key)
        response = client.get(path)
        if response.status_code != 200 or not response.headers["content-type"].startswith("text/html"):
            continue
        pages[path] = response.text
        for href in re.findall(r'href="([^"#]+)"', response.text):
            href = html.unescape(href)
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIPPED):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return pages


@pytest.mark.parametrize("who", ["chanh.vp", "tccb"])
def test_no_internal_word_on_any_page(engine: Engine, who: str) -> None:
    client = client_for(engine, who)
    pages = walk(client)
    assert len(pages) >= (12 if who == "chanh.vp" else 3), sorted(pages)
    leaks = {}
    for path, page in pages.items():
        shown = readable(page)
        words = sorted({m.group(0) for m in (*INTERNAL.finditer(shown), *SNAKE_CASE.finditer(shown))})
        if words:
            leaks[path] = words
    assert not leaks, "\n".join(f"{path}: {words}" for path, words in leaks.items())


def test_the_walk_sees_the_words_it_looks_for() -> None:
    assert INTERNAL.search(readable("<p>Cách hiểu: date</p>"))
    assert INTERNAL.search(readable("<td>hằng tuần (monday)</td>"))
    assert not INTERNAL.search(readable('<a href="/done/x" class="date">Hoàn thành</a>'))
    assert SNAKE_CASE.search(readable("<td>_bundle</td>")) and SNAKE_CASE.search(
        readable("<td>needs_date</td>")
    )


def test_the_import_preview_names_columns_and_kinds_in_vietnamese(engine: Engine) -> None:
    from tests.support.web_pages import BAD_CSV, CLEAN_CSV, csrf_of

    admin = client_for(engine)
    for text in (CLEAN_CSV, BAD_CSV, BAD_CSV.replace(",Văn phòng Sở,Phòng TCCB,", ",,Phòng TCCB,")):
        data = {"csrf": csrf_of(admin, "/import"), "year": "2021", "plan": "KT-2021"}
        page = admin.post("/import", data=data, files={"file": ("ke-hoach.csv", text.encode(), "text/csv")})
        assert page.status_code == 200
        shown = readable(page.text)
        assert not INTERNAL.search(shown), INTERNAL.findall(shown)
    assert "Đơn vị chủ trì" in shown  # the column of the missing lead unit, named as the plan names it
