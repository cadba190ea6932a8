"""Importing a plan file from the browser: upload, check row by row, then confirm.

The upload is saved under a random token in a private temporary folder; the
preview shows the parsed tasks and every problem. The confirming POST carries
only the token (never the file again): the file is read and checked once more,
and imported all-or-nothing (``store.plan_import.import_plan``, actor = the user,
``via="web"``) only when it has no problem. The temporary file is removed after.

Nothing of that runs on the event loop: reading and checking the file runs in a limited child process
(``web.isolation``), the trial import of the preview, the import itself and the rendering of a preview of
thousands of rows in a worker thread (``asyncio.to_thread``), so every other request is answered meanwhile. At most
``NHACVIEC_WEB_IMPORT_JOBS`` uploads or confirmations run at once in a web process (each can take a child of up to
``NHACVIEC_WEB_WORK_MEMORY_MB``); another waits up to ``NHACVIEC_WEB_IMPORT_WAIT_SECONDS`` for its turn, then is told
in Vietnamese to try again shortly.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from plan.check import CheckedPlan, check_plan, infer_year
from plan.errors import UserError
from plan.importers import read_plan
from plan.rematch import MatchError, parse_choices
from plan.text import clean
from plan.units import Directory
from store.db import session_scope
from store.directory import add_unlisted_units, load_directory
from store.plan_import import ImportSummary, UncertainMatchError, import_plan
from web.deps import PageNotFound, SignedIn, context, csrf_protect, error_text, render
from web.isolation import run_limited
from web.permissions import Action, require

router = APIRouter()

VIA = "web"
SUFFIXES = (".docx", ".doc", ".xlsx", ".xls", ".pdf", ".csv", ".yaml", ".yml")
MAX_BYTES = 10 * 1024 * 1024
MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_SAFE_NAME = re.compile(r"[^\w.\- ]+")
BUSY = (
    "Đang có tệp kế hoạch khác được xử lý trên máy chủ: vui lòng đợi một lát rồi tải lên (hoặc xác nhận) lại."
)
T = TypeVar("T")
_slots_lock = threading.Lock()


class _Job:
    """One import job's hold on a slot: released once, by the worker thread when it ends, or by the event loop
    when the request was cancelled before the thread started (the thread then does nothing)."""

    def __init__(self, slots: threading.BoundedSemaphore) -> None:
        self.slots = slots
        self.lock = threading.Lock()
        self.started = False
        self.released = False

    def start(self) -> bool:
        with self.lock:
            self.started = not self.released
            return self.started

    def release(self, only_if_not_started: bool = False) -> None:
        with self.lock:
            if self.released or (only_if_not_started and self.started):
                return
            self.released = True
            self.slots.release()


def _slots(request: Request) -> threading.BoundedSemaphore:
    """This web process's import slots (``NHACVIEC_WEB_IMPORT_JOBS``), made on first use."""
    state = request.app.state
    with _slots_lock:
        slots = getattr(state, "import_slots", None)
        if slots is None:
            slots = threading.BoundedSemaphore(max(1, context(request).web.import_jobs))
            state.import_slots = slots
        return slots


async def _take_slot(request: Request) -> _Job | None:
    """A slot for one import job, waiting up to ``NHACVIEC_WEB_IMPORT_WAIT_SECONDS`` (polling: a waiting request
    holds no thread); None when none came free."""
    slots = _slots(request)
    deadline = time.monotonic() + max(0.0, context(request).web.import_wait_seconds)
    while not slots.acquire(blocking=False):
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(0.05)
    return _Job(slots)


async def _off_loop(job: _Job, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread, holding ``job``'s slot until it ends."""

    def work() -> T:
        if not job.start():
            raise RuntimeError("import job cancelled before it started")  # its request is gone
        try:
            return function(*args)
        finally:
            job.release()

    try:
        return await asyncio.to_thread(work)
    except asyncio.CancelledError:
        job.release(only_if_not_started=True)
        raise


def upload_root() -> Path:
    root = Path(tempfile.gettempdir()) / "nhacviec-imports"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def sweep(root: Path, max_age_seconds: float = MAX_AGE_SECONDS) -> None:
    """Forget uploads never confirmed (the admin left the preview): older than a day."""
    limit = time.time() - max_age_seconds
    for folder in root.iterdir():
        if folder.is_dir() and _TOKEN.match(folder.name) and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)


def save_upload(name: str, content: bytes) -> str:
    """Keep the uploaded file under a new token (its own folder, its original file name); returns the token."""
    sweep(upload_root())
    token = secrets.token_urlsafe(32)
    folder = upload_root() / token
    folder.mkdir(mode=0o700)
    safe = _SAFE_NAME.sub("_", Path(name).name).strip(". ") or "ke-hoach"
    (folder / safe).write_bytes(content)
    return token


def uploaded_file(token: str) -> Path:
    """The file saved under ``token``; a token that is malformed or gone is a page not found."""
    folder = upload_root() / token if _TOKEN.match(token) else None
    files = sorted(folder.iterdir()) if folder is not None and folder.is_dir() else []
    if not files:
        raise PageNotFound("Tệp đã tải lên không còn (đã nhập hoặc đã hết hạn). Vui lòng tải tệp lên lại.")
    return files[0]


def discard(token: str) -> None:
    if _TOKEN.match(token):
        shutil.rmtree(upload_root() / token, ignore_errors=True)


def _year(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise UserError(f"Năm '{text}' không hợp lệ: ghi năm bốn chữ số, ví dụ 2021.")
    return int(text)


def check_file(path: str, year_text: str, directory: Directory) -> CheckedPlan:
    """As ``nhacviec plan check``: read the file, find its year, check it against the unit directory
    (run in a child process with a time and memory limit: web.isolation)."""
    raw = read_plan(Path(path))
    year = _year(year_text) or infer_year(raw)
    if year is None:
        raise UserError("Không xác định được năm của kế hoạch trong tệp: hãy ghi năm vào ô “Năm”.")
    return check_plan(raw, directory, year)


def read_and_check(
    request: Request, path: Path, year_text: str, directory: Directory | None = None
) -> CheckedPlan:
    """:func:`check_file` in a child process; called from a worker thread, never on the event loop."""
    ctx = context(request)
    return run_limited(
        check_file,
        str(path),
        year_text,
        directory or ctx.directory(),
        seconds=ctx.web.work_seconds,
        memory_mb=ctx.web.work_memory_mb,
    )


def _form(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "import.html", status_code, error=error, suffixes=SUFFIXES)


@router.get("/import")
def import_form(request: Request, user: SignedIn) -> Response:
    require(user, Action.IMPORT_PLAN)
    return _form(request)


@router.post("/import", dependencies=[Depends(csrf_protect)])
async def upload(
    request: Request,
    user: SignedIn,
    file: Annotated[UploadFile | None, File()] = None,
    year: Annotated[str, Form()] = "",
    plan: Annotated[str, Form()] = "",
) -> Response:
    require(user, Action.IMPORT_PLAN)
    if file is None or not file.filename:
        return _form(request, "Hãy chọn tệp kế hoạch để tải lên.", 400)
    if Path(file.filename).suffix.lower() not in SUFFIXES:
        return _form(
            request,
            f"Tệp {file.filename} không được hỗ trợ: chỉ nhận Word (.docx, .doc), Excel (.xlsx, .xls), "
            "PDF có lớp chữ, CSV hoặc YAML.",
            400,
        )
    content = await file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        return _form(request, "Tệp quá lớn (tối đa 10 MB).", 400)
    if not content:
        return _form(request, f"Tệp {file.filename} rỗng.", 400)
    job = await _take_slot(request)
    if job is None:
        return _form(request, BUSY, 503)
    try:
        token = save_upload(file.filename, content)
    except BaseException:  # a full disk must not keep the import slot taken until a restart
        job.release()
        raise
    return await _off_loop(job, _preview, request, user.name, token, file.filename, year, plan)


def _preview(request: Request, actor: str, token: str, name: str, year: str, plan: str) -> Response:
    """The upload's work, in a worker thread: read and check (in the child), the trial import, the page."""
    try:
        checked = read_and_check(request, uploaded_file(token), year)
    except UserError as error:
        discard(token)
        message = getattr(error, "message", None) or error_text(error)  # no temporary path in the message
        return _form(request, f"Không đọc được tệp {name}: {message}", 400)
    code = clean(plan) or checked.code or f"KH-{checked.year}"
    return render(  # a preview of thousands of rows
        request,
        "import_preview.html",
        checked=checked,
        name=name,
        token=token if checked.ok else "",
        plan_code=code,
        year=str(checked.year),
        diff=preview_diff(request, checked, code, actor) if checked.ok else None,
    )


def preview_diff(
    request: Request, checked: CheckedPlan, code: str, actor: str, choices: dict[str, str] | None = None
) -> ImportSummary | None:
    """What importing would change in the stored plan ``code`` (None for a plan not stored yet): the
    import itself, rolled back."""
    from sqlmodel import select

    from store.models import Plan

    with session_scope(context(request).engine) as db:
        if db.exec(select(Plan.id).where(Plan.code == code)).first() is None:
            return None
        try:
            return import_plan(db, checked, code, actor=actor, via=VIA, choices=choices, dry_run=True)
        finally:
            db.rollback()


def _choices(form: dict[str, str]) -> dict[str, str]:
    """The admin's answers to the uncertain matches: field ``match:NEW`` holds OLD, or "-" (a new task)."""
    answers = [
        f"{old}={name.removeprefix('match:')}"
        for name, old in form.items()
        if name.startswith("match:") and old
    ]
    return parse_choices(answers)


@router.post("/import/confirm", dependencies=[Depends(csrf_protect)])
async def confirm(
    request: Request,
    user: SignedIn,
    token: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
    plan: Annotated[str, Form()] = "",
    add_units: Annotated[str, Form()] = "",
) -> Response:
    require(user, Action.IMPORT_PLAN)
    form = {name: str(value) for name, value in (await request.form()).items()}
    path = uploaded_file(token)
    job = await _take_slot(request)
    if job is None:
        return _form(request, BUSY, 503)
    return await _off_loop(job, _confirm, request, user.name, path, token, year, plan, add_units, form)


def _confirm(
    request: Request, actor: str, path: Path, token: str, year: str, plan: str, add_units: str,
    form: dict[str, str],
) -> Response:  # fmt: skip
    """The confirmation's work, in a worker thread: read and check again (in the child), import, the page."""
    try:
        checked = read_and_check(request, path, year)
    except UserError as error:
        discard(token)
        return _form(request, error_text(error), 400)
    if checked.problems:  # never imported, even if the form was forged
        return render(
            request, "import_preview.html", 400, checked=checked, name=path.name, token="",
            plan_code=plan, year=year, diff=None,
        )  # fmt: skip
    code = clean(plan) or checked.code or f"KH-{checked.year}"
    ctx = context(request)
    added: dict[str, str] = {}
    try:
        choices = _choices(form)
        with session_scope(ctx.engine) as db:
            if add_units and checked.unknown_units:  # the admin chose to add them, without contacts
                added = add_unlisted_units(db, [unit.name for unit in checked.unknown_units], code)
                directory = load_directory(db, ctx.settings.units_file)
                checked = read_and_check(request, path, str(checked.year), directory)
            summary = import_plan(db, checked, code, actor=actor, via=VIA, choices=choices)
    except (
        UncertainMatchError,
        MatchError,
    ) as error:  # a match left unanswered: the preview again, nothing written
        return render(
            request, "import_preview.html", 400, checked=checked, name=path.name, token=token,
            plan_code=code, year=year, diff=preview_diff(request, checked, code, actor), error=error_text(error),
        )  # fmt: skip
    discard(token)
    return render(
        request, "import_done.html", summary=summary, name=path.name, added=added,
        unknown=[] if added else checked.unknown_units,
    )  # fmt: skip
