"""A message kind's wording, for a clerk: the subject, the opening and the closing sentence in plain text with
named placeholders, previewed on the current plan's real data for every channel, saved as template overrides.

The files it writes are checked exactly as the raw editor's are (templates.render.validate on a copy of the
override folder with them); the raw Jinja editor stays on the templates page for admins who ask for it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from plan.errors import UserError
from planner.model import Notification, Recipient
from rules.channels import CHANNELS
from templates.context import message_context, sample_context
from templates.wording import DEFAULTS, KINDS, PLACEHOLDERS, Wording, check, files, read
from vocabulary import CHANNEL_LABELS, KIND_TITLES
from web.deps import PageNotFound, SignedIn, Text, WebContext, context, csrf_protect, render
from web.permissions import Action, require
from web.routes.upcoming import plan_window

router = APIRouter()


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise PageNotFound(f"Không có loại thông báo '{kind}' để sửa lời văn.")
    return kind


def _current(ctx: WebContext, kind: str) -> tuple[Wording, bool]:
    """The wording in use (saved by this form, else the built-in one) and whether a hand-written override
    replaces it (saving here would replace that)."""
    folder = ctx.settings.templates_dir
    hand_written = False
    if folder is not None:
        for name in files(kind, DEFAULTS[kind]):
            path = folder / name
            if path.is_file():
                saved = read(path.read_text(encoding="utf-8"))
                if saved is not None:
                    return saved, False
                hand_written = True
    return DEFAULTS[kind], hand_written


@contextmanager
def _candidate(ctx: WebContext, kind: str, wording: Wording) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="nhacviec-wording-") as temp:
        folder = Path(temp) / "overrides"
        current = ctx.settings.templates_dir
        if current is not None and current.is_dir():
            shutil.copytree(current, folder)
        folder.mkdir(exist_ok=True)
        for name, text in files(kind, wording).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
        yield folder


def _example(ctx: WebContext, kind: str) -> Notification | None:
    """The first message of ``kind`` the current plan will send (from today to the end of next year)."""
    start = ctx.today()
    return next((n for n in plan_window(ctx, start, date(start.year + 1, 12, 31)) if n.kind == kind), None)


def _previews(
    ctx: WebContext, kind: str, folder: Path
) -> tuple[list[str], list[dict[str, Any]], str | None, str]:
    """The folder checked and the message of ``kind`` rendered for every channel, in a child process within the
    web's template limits: (problems, previews, a bound real data crossed, where the data came from)."""
    example = _example(ctx, kind)
    renders = []
    for channel in CHANNELS:
        if example is not None:
            chosen = next((r for r in example.recipients if r.channel == channel), example.recipients[0])
            values = message_context(
                example, Recipient(chosen.code, chosen.role, chosen.channel), ctx.directory()
            )
            values["channel"] = channel
        else:
            values = sample_context(kind, channel)
        renders.append((kind, channel, values))
    try:
        checked = ctx.check_templates(folder, renders)
    except UserError as error:  # the child ran out of time or memory
        return [str(error)], [], None, ""
    previews = [
        {
            "channel": channel,
            "label": CHANNEL_LABELS.get(channel, channel),
            "subject": rendered.subject,
            "text": rendered.text,
        }
        for channel, rendered in zip(CHANNELS, checked.rendered, strict=False)
    ]
    source = (
        f"nhiệm vụ {example.task} — tin sắp gửi của kế hoạch đang dùng"
        if example is not None
        else "dữ liệu minh hoạ (kế hoạch đang dùng không còn tin loại này sắp gửi)"
    )
    return [p.message for p in checked.problems], previews, checked.refused, source


def _page(
    request: Request,
    kind: str,
    wording: Wording,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    previews: list[dict[str, Any]] | None = None,
    source: str = "",
    flash: str | None = None,
    hand_written: bool = False,
) -> Response:
    ctx = context(request)
    return render(
        request,
        "wording.html",
        status_code,
        kind=kind,
        title=KIND_TITLES.get(kind, kind),
        wording=wording,
        placeholders=PLACEHOLDERS,
        errors=errors or {},
        previews=previews,
        source=source,
        flash=flash,
        folder=ctx.settings.templates_dir,
        hand_written=hand_written,
        raw_links=[(c, f"{kind}.{part}") for c, part in _raw_files()],
    )


def _raw_files() -> list[tuple[str, str]]:
    return [
        ("email", "subject.j2"),
        ("email", "txt.j2"),
        ("email", "html.j2"),
        ("telegram", "html.j2"),
        ("zalo", "txt.j2"),
    ]


@router.get("/wording/{kind}")
def wording_page(request: Request, user: SignedIn, kind: str, ok: str = "") -> Response:
    require(user, Action.EDIT_TEMPLATES)
    kind = _kind(kind)
    wording, hand_written = _current(context(request), kind)
    flash = "Đã lưu lời văn." if ok == "saved" else None
    return _page(request, kind, wording, flash=flash, hand_written=hand_written)


def _submitted(subject: str, opening: str, closing: str) -> Wording:
    return Wording(subject.strip(), opening.strip(), closing.strip())


@router.post("/wording/{kind}/preview", dependencies=[Depends(csrf_protect)])
def wording_preview(
    request: Request, user: SignedIn, kind: str, subject: Text = "", opening: Text = "", closing: Text = ""
) -> Response:
    require(user, Action.EDIT_TEMPLATES)
    kind = _kind(kind)
    ctx = context(request)
    wording = _submitted(subject, opening, closing)
    errors = check(wording)
    if errors:
        return _page(request, kind, wording, status_code=400, errors=errors)
    with _candidate(ctx, kind, wording) as folder:
        problems, previews, refused, source = _previews(ctx, kind, folder)
    if problems or refused is not None:
        message = problems[0] if problems else str(refused)
        return _page(request, kind, wording, status_code=400, errors={"opening": message})
    return _page(request, kind, wording, previews=previews, source=source)


@router.post("/wording/{kind}/save", dependencies=[Depends(csrf_protect)])
def wording_save(
    request: Request, user: SignedIn, kind: str, subject: Text = "", opening: Text = "", closing: Text = ""
) -> Response:
    require(user, Action.EDIT_TEMPLATES)
    kind = _kind(kind)
    ctx = context(request)
    wording = _submitted(subject, opening, closing)
    errors = check(wording)
    folder = ctx.settings.templates_dir
    if not errors and folder is None:
        errors = {
            "save": "Chưa bật mẫu tuỳ chỉnh: hãy đặt biến môi trường NHACVIEC_TEMPLATES_DIR rồi khởi động lại."
        }
    if not errors:
        with _candidate(ctx, kind, wording) as candidate:
            try:  # in a child process within the web's template limits
                problems = [p.message for p in ctx.check_templates(candidate).problems]
            except UserError as error:
                problems = [str(error)]
        if problems:
            errors = {"opening": problems[0]}
    if errors or folder is None:
        return _page(request, kind, wording, status_code=400, errors=errors)
    for name, text in files(kind, wording).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return RedirectResponse(f"/wording/{kind}?ok=saved", status_code=303)
