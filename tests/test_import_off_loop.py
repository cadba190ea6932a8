"""A plan import never stalls the web: reading, the preview's trial import and the import itself run off the event
loop (another request is answered while one runs), at most NHACVIEC_WEB_IMPORT_JOBS run at once (another waits its
turn, then is told in Vietnamese to try again), and a child that runs out of memory says so, naming the setting."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from config.settings import Settings
from tests.support.plan_files import write_docx_table
from tests.support.web_pages import CLEAN_CSV, FAST, LINK_SECRET, NOW, PASSWORD, text_of
from web.app import create_app
from web.config import WebSettings
from web.routes import plan_import

BLOCK_SECONDS = 8.0


def _app(engine: Engine, **web: Any) -> Any:
    settings = Settings(link_secret=SecretStr(LINK_SECRET))
    web_settings = WebSettings(secret=SecretStr("web-secret-for-the-tests-0123456789abcdef"), **web)
    return create_app(settings, engine, web_settings=web_settings, clock=lambda: NOW, hasher=FAST)


async def _csrf(client: httpx.AsyncClient, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', (await client.get(path)).text)
    assert match, path
    return match.group(1)


@asynccontextmanager
async def _signed_in(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The admin signed in, talking to ``app`` on this event loop (httpx's ASGI transport: no thread of its own)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        data = {"csrf": await _csrf(client, "/login"), "name": "chanh.vp", "password": PASSWORD, "next": "/"}
        assert (await client.post("/login", data=data)).status_code == 303
        yield client


async def _upload(
    client: httpx.AsyncClient, name: str = "ke-hoach-2021.csv", content: bytes | None = None
) -> httpx.Response:
    data = {"csrf": await _csrf(client, "/import"), "year": "2021", "plan": "KT-2021"}
    files = {"file": (name, content if content is not None else CLEAN_CSV.encode("utf-8"), "text/csv")}
    return await client.post("/import", data=data, files=files)


async def _confirm(client: httpx.AsyncClient, page: str) -> httpx.Response:
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None, text_of(page)
    form = {
        "csrf": await _csrf(client, "/import"),
        "token": token.group(1),
        "year": "2021",
        "plan": "KT-2021",
    }
    return await client.post("/import/confirm", data=form)


class Blocker:
    """Wraps a function so that it blocks (in whatever thread calls it) until released: a slow job, made
    deterministic. ``entered`` is set when a call starts, ``finished`` when one ends."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.entered = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        self.release.wait(BLOCK_SECONDS)
        try:
            return self.function(*args, **kwargs)
        finally:
            self.finished.set()


async def _entered(blocker: Blocker) -> None:
    """Wait (on the event loop) until the blocked job started; a loop that the job blocks gets here only after."""
    deadline = time.monotonic() + BLOCK_SECONDS * 2
    while not blocker.entered.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert blocker.entered.is_set()


@pytest.mark.parametrize("step", ["confirm", "upload of a plan already stored"])
def test_another_request_is_answered_while_an_import_runs(
    web_engine: Engine, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    async def scenario() -> None:
        app = _app(web_engine)
        async with _signed_in(app) as admin, _signed_in(app) as other:
            page = await _upload(admin)
            assert page.status_code == 200, text_of(page.text)
            if step == "confirm":
                blocker = Blocker(plan_import.import_plan)
                monkeypatch.setattr(plan_import, "import_plan", blocker)
                job = asyncio.create_task(_confirm(admin, page.text))
            else:  # the plan is stored: the preview's trial import (preview_diff) is what takes long
                assert (await _confirm(admin, page.text)).status_code == 200
                blocker = Blocker(plan_import.preview_diff)
                monkeypatch.setattr(plan_import, "preview_diff", blocker)
                job = asyncio.create_task(_upload(admin, "ke-hoach-2021-lan-2.csv"))
            await _entered(blocker)
            started = time.monotonic()
            login = await other.get("/login")
            answered_while_running = not blocker.finished.is_set()
            blocker.release.set()
            done = await job
            assert login.status_code in (200, 303)
            assert answered_while_running, "the import ran on the event loop: /login waited for it"
            assert time.monotonic() - started < BLOCK_SECONDS / 2
            assert done.status_code == 200, text_of(done.text)

    asyncio.run(scenario())


def test_a_second_import_waits_its_turn_or_is_told_to_try_again(
    web_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = Blocker(plan_import.read_and_check)
    monkeypatch.setattr(plan_import, "read_and_check", blocker)

    async def scenario() -> None:
        app = _app(web_engine, import_jobs=1, import_wait_seconds=0.3)
        async with _signed_in(app) as first, _signed_in(app) as second:
            running = asyncio.create_task(_upload(first))
            await _entered(blocker)
            busy = await _upload(second)
            assert busy.status_code == 503
            assert plan_import.BUSY in text_of(busy.text)
            assert not blocker.finished.is_set()
            # a patient one gets its turn as soon as the first ends
            waiting = asyncio.create_task(_upload(second, "ke-hoach-2021-b.csv"))
            await asyncio.sleep(0.1)
            blocker.release.set()
            assert (await running).status_code == 200
            later = await _upload(second, "ke-hoach-2021-c.csv")  # the slot was given back
            assert later.status_code == 200, text_of(later.text)
            await waiting

    asyncio.run(scenario())


def test_two_imports_run_together_when_two_jobs_are_allowed(
    web_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    both = threading.Barrier(2, timeout=BLOCK_SECONDS)
    original = plan_import.read_and_check

    def meet(*args: Any, **kwargs: Any) -> Any:
        calls.append("in")
        both.wait()  # breaks (and the upload fails) unless the two run at once
        return original(*args, **kwargs)

    monkeypatch.setattr(plan_import, "read_and_check", meet)

    async def scenario() -> None:
        app = _app(web_engine, import_jobs=2, import_wait_seconds=0.3)
        async with _signed_in(app) as first, _signed_in(app) as second:
            pages = await asyncio.gather(_upload(first), _upload(second, "ke-hoach-2021-b.csv"))
            assert [page.status_code for page in pages] == [200, 200]

    asyncio.run(scenario())
    assert calls == ["in", "in"]


def test_a_child_out_of_memory_says_so_naming_the_setting(web_engine: Engine, tmp_path: Any) -> None:
    rows = [["TT", "Nội dung nhiệm vụ", "Phòng chủ trì", "Thời gian hoàn thành"]]
    rows += [[str(i), f"Nhiệm vụ số {i}", "Văn phòng Sở", "Trước 31/12/2021"] for i in range(1, 41)]
    plan = write_docx_table(tmp_path / "ke-hoach.docx", rows).read_bytes()

    async def scenario() -> str:
        app = _app(web_engine, work_memory_mb=30)
        async with _signed_in(app) as admin:
            page = await _upload(admin, "ke-hoach.docx", plan)
            assert page.status_code == 400
            return text_of(page.text)

    text = asyncio.run(scenario())
    assert "30 MB bộ nhớ" in text and "NHACVIEC_WEB_WORK_MEMORY_MB" in text and "quản trị viên" in text
    assert "bị hỏng" not in text


def test_libxml2_out_of_memory_is_not_called_a_damaged_file(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docx
    from lxml import etree

    from plan.importers.docx_plan import read_docx_plan
    from plan.limits import out_of_memory
    from plan.model import PlanFileError

    no_memory = etree.XMLSyntaxError(
        "unknown error", 2, 0, 0
    )  # libxml2's XML_ERR_NO_MEMORY, as lxml raises it
    damaged = etree.XMLSyntaxError("Opening and ending tag mismatch", 76, 1, 11)
    assert out_of_memory(no_memory) and not out_of_memory(damaged)
    path = write_docx_table(tmp_path / "ke-hoach.docx", [["TT", "Nội dung nhiệm vụ"], ["1", "Việc"]])
    for error, expected in ((no_memory, MemoryError), (damaged, PlanFileError)):

        def failing(*_: Any, error: Exception = error) -> Any:
            raise error

        monkeypatch.setattr(docx, "Document", failing)
        with pytest.raises(expected):
            read_docx_plan(path)


def test_a_failed_save_gives_the_import_slot_back(
    web_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while the upload is saved: that upload fails, the next one still gets the (only) slot."""
    real_save = plan_import.save_upload
    calls = []

    def full_disk_once(name: str, content: bytes) -> str:
        calls.append(name)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real_save(name, content)

    monkeypatch.setattr(plan_import, "save_upload", full_disk_once)

    async def scenario() -> None:
        app = _app(web_engine, import_jobs=1, import_wait_seconds=0.3)
        async with _signed_in(app) as client:
            with contextlib.suppress(
                OSError
            ):  # the app's error page, or the error itself through the transport
                failed = await _upload(client)
                assert failed.status_code >= 500
            later = await _upload(client, "ke-hoach-2021-b.csv")
            assert later.status_code == 200, text_of(later.text)

    asyncio.run(scenario())
