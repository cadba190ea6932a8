"""Message templates: the list, an override editor with a live preview, and a save that refuses broken templates.

An edited template is checked exactly as the sender would check it: the
override folder is copied to a temporary folder with the new file, and
:func:`templates.render.validate` renders it against every sample context.
Only a template with no problem is written into ``settings.templates_dir``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

import vocabulary
from plan.errors import UserError
from planner.model import Notification, Recipient
from rules.channels import CHANNELS
from templates.context import message_context, sample_context
from templates.render import BUILTIN_DIR, Rendered, Renderer, TemplateError, TemplateProblem
from vocabulary import CHANNEL_LABELS, TASK_KINDS
from vocabulary import TEMPLATE_SOURCES as SOURCE_LABELS
from web.deps import PageNotFound, SignedIn, Text, WebContext, context, csrf_protect, error_text, render
from web.permissions import Action, require
from web.routes.upcoming import plan_window

router = APIRouter()

_KIND_ORDER = {kind: n for n, kind in enumerate(vocabulary.KIND_TITLES)}

PREVIEW_CHANNELS = tuple(CHANNELS)  # the channels with template files (ZNS has approved templates instead)


def _builtin(channel: str, name: str) -> Path:
    """The built-in template ``channel/name`` (the only files an override may replace)."""
    file = BUILTIN_DIR / channel / name
    if (
        "/" in name
        or ".." in name
        or not name.endswith(".j2")
        or channel not in PREVIEW_CHANNELS
        or not file.is_file()
    ):
        raise PageNotFound(f"Không có mẫu thông báo '{channel}/{name}'.")
    return file


def _kind(name: str) -> str:
    return name.split(".")[0]


def _source(ctx: WebContext, channel: str, name: str) -> tuple[str, bool]:
    """The template's text in use and whether it is an override."""
    folder = ctx.settings.templates_dir
    if folder is not None and (folder / channel / name).is_file():
        return (folder / channel / name).read_text(encoding="utf-8"), True
    return _builtin(channel, name).read_text(encoding="utf-8"), False


@contextmanager
def _candidate_folder(ctx: WebContext, channel: str, name: str, text: str) -> Iterator[Path]:
    """A temporary copy of the override folder with ``text`` as ``channel/name``."""
    with tempfile.TemporaryDirectory(prefix="nhacviec-templates-") as temp:
        folder = Path(temp) / "overrides"
        current = ctx.settings.templates_dir
        if current is not None and current.is_dir():
            shutil.copytree(current, folder)
        (folder / channel).mkdir(parents=True, exist_ok=True)
        (folder / channel / name).write_text(text, encoding="utf-8")
        yield folder


def _shown(problems: Sequence[TemplateProblem | str], folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for problem in problems:
        if isinstance(problem, str):  # a problem of the whole folder, no file to name
            rows.append({"file": "", "line": None, "message": problem})
            continue
        try:
            where = problem.path.resolve().relative_to(folder.resolve()).as_posix()
        except ValueError:
            where = problem.path.name
        rows.append({"file": where, "line": problem.line, "message": problem.message})
    return rows


@router.get("/templates-admin")
def template_list(request: Request, user: SignedIn) -> Response:
    require(user, Action.EDIT_TEMPLATES)
    ctx = context(request)
    folder = ctx.settings.templates_dir
    problems: list[dict[str, Any]] = []
    try:
        renderer = Renderer(folder)
    except TemplateError as error:  # the folder on disk is broken: show it, list the built-in ones
        problems = _shown(error.problems, folder) if folder is not None else []
        renderer = Renderer()
    groups: dict[str, dict[str, Any]] = {}
    for info in renderer.templates():
        title = vocabulary.KIND_TITLES.get(info.kind) or vocabulary.TEMPLATE_PARTS.get(info.kind, info.kind)
        group = groups.setdefault(
            info.kind, {"kind": info.kind, "title": title, "shared": info.kind.startswith("_"), "rows": []}
        )
        name = info.path.name
        part = next((label for end, label in vocabulary.TEMPLATE_FILES.items() if name.endswith(end)), "")
        group["rows"].append(
            {
                "kind": info.kind,
                "channel": info.channel,
                "channel_label": "mọi kênh"
                if info.channel == "*"
                else CHANNEL_LABELS.get(info.channel, info.channel),
                "name": name,
                "part": part if info.channel != "zns" else "mẫu ZNS đã duyệt",
                "source": SOURCE_LABELS.get(info.source, info.source),
                "editable": info.channel in PREVIEW_CHANNELS,
            }
        )
    ordered = sorted(groups.values(), key=lambda g: (g["shared"], _KIND_ORDER.get(g["kind"], 99), g["kind"]))
    from templates.wording import KINDS as WORDING_KINDS

    return render(
        request,
        "template_list.html",
        groups=ordered,
        folder=folder,
        problems=problems,
        wording_kinds=WORDING_KINDS,
    )


def _editor(
    request: Request,
    channel: str,
    name: str,
    *,
    text: str,
    is_override: bool,
    values: dict[str, str],
    status_code: int = 200,
    problems: list[dict[str, Any]] | None = None,
    errors: dict[str, str] | None = None,
    preview: dict[str, Any] | None = None,
    flash: str | None = None,
) -> Response:
    ctx = context(request)
    return render(
        request,
        "template_edit.html",
        status_code,
        channel=channel,
        name=name,
        kind=_kind(name),
        kind_title=vocabulary.KIND_TITLES.get(_kind(name))
        or vocabulary.TEMPLATE_PARTS.get(_kind(name), _kind(name)),
        channel_label=CHANNEL_LABELS.get(channel, channel),
        part=next((label for end, label in vocabulary.TEMPLATE_FILES.items() if name.endswith(end)), ""),
        text=text,
        is_override=is_override,
        folder=ctx.settings.templates_dir,
        values=values,
        problems=problems or [],
        errors=errors or {},
        preview=preview,
        flash=flash,
        channels=[(c, CHANNEL_LABELS.get(c, c)) for c in PREVIEW_CHANNELS],
        task_kind=_kind(name) in TASK_KINDS,
    )


@router.get("/templates-admin/{channel}/{name}")
def template_page(request: Request, user: SignedIn, channel: str, name: str, ok: str = "") -> Response:
    require(user, Action.EDIT_TEMPLATES)
    _builtin(channel, name)
    text, is_override = _source(context(request), channel, name)
    values = {"task": "", "preview_channel": channel}
    flash = "Đã lưu mẫu tuỳ chỉnh." if ok == "saved" else None
    return _editor(request, channel, name, text=text, is_override=is_override, values=values, flash=flash)


def _task_notification(ctx: WebContext, kind: str, code: str) -> Notification | None:
    """The first notification of ``kind`` for task ``code`` from today to the end of the year after."""
    start = ctx.today()
    for notification in plan_window(ctx, start, date(start.year + 1, 12, 31)):
        if notification.kind == kind and (notification.task or "").upper() == code:
            return notification
    return None


def _context(ctx: WebContext, kind: str, channel: str, code: str) -> dict[str, Any]:
    if not code:
        return sample_context(kind, channel)
    notification = _task_notification(ctx, kind, code)
    if notification is None:
        raise LookupError(
            f"Không có thông báo loại '{kind}' nào sắp gửi cho nhiệm vụ {code}; để trống để xem với dữ liệu minh hoạ."
        )
    chosen = next((r for r in notification.recipients if r.channel == channel), notification.recipients[0])
    recipient = Recipient(chosen.code, chosen.role, chosen.channel)
    context_ = message_context(notification, recipient, ctx.directory())
    context_["channel"] = channel
    return context_


@router.post("/templates-admin/{channel}/{name}/preview", dependencies=[Depends(csrf_protect)])
def preview_form(
    request: Request,
    user: SignedIn,
    channel: str,
    name: str,
    text: Text = "",
    task: Text = "",
    preview_channel: Text = "",
) -> Response:
    require(user, Action.EDIT_TEMPLATES)
    _builtin(channel, name)
    ctx = context(request)
    kind = _kind(name)
    code = task.strip().upper() if kind in TASK_KINDS else ""
    target = preview_channel if preview_channel in PREVIEW_CHANNELS else channel
    values = {"task": code, "preview_channel": target}
    is_override = _source(ctx, channel, name)[1]
    errors: dict[str, str] = {}
    shown: list[dict[str, Any]] = []
    results: list[Rendered] = []
    with _candidate_folder(ctx, channel, name, text) as folder:
        try:
            renders = [(kind, target, _context(ctx, kind, target, code))]
        except LookupError as error:
            renders, errors = [], {"task": error_text(error)}
        try:  # checked and rendered in a child with a time and memory limit (web.isolation)
            checked = ctx.check_templates(folder, renders)
        except UserError as error:  # the child ran out of time or memory
            shown = _shown([str(error)], folder)
        else:
            shown, results = _shown(checked.problems, folder), checked.rendered
            if checked.refused is not None:  # a limit: real data larger than the samples
                errors = {"task": checked.refused}
    if shown or errors or not results:
        return _editor(
            request,
            channel,
            name,
            text=text,
            is_override=is_override,
            values=values,
            status_code=400,
            problems=shown or None,
            errors=None if shown else errors,
        )
    rendered = results[0]
    preview = {"channel": target, "subject": rendered.subject, "text": rendered.text, "html": rendered.html}
    return _editor(request, channel, name, text=text, is_override=is_override, values=values, preview=preview)


@router.post("/templates-admin/{channel}/{name}/save", dependencies=[Depends(csrf_protect)])
def save_form(request: Request, user: SignedIn, channel: str, name: str, text: Text = "") -> Response:
    require(user, Action.EDIT_TEMPLATES)
    _builtin(channel, name)
    ctx = context(request)
    values = {"task": "", "preview_channel": channel}
    is_override = _source(ctx, channel, name)[1]
    folder = ctx.settings.templates_dir
    if folder is None:
        errors = {
            "save": "Chưa bật mẫu tuỳ chỉnh: hãy đặt biến môi trường NHACVIEC_TEMPLATES_DIR rồi khởi động lại."
        }
        return _editor(
            request,
            channel,
            name,
            text=text,
            is_override=is_override,
            values=values,
            status_code=400,
            errors=errors,
        )
    with _candidate_folder(ctx, channel, name, text) as candidate:
        try:
            problems = _shown(ctx.check_templates(candidate, []).problems, candidate)
        except UserError as error:  # the child ran out of time or memory
            problems = _shown([str(error)], candidate)
    if problems:
        return _editor(
            request,
            channel,
            name,
            text=text,
            is_override=is_override,
            values=values,
            status_code=400,
            problems=problems,
        )
    (folder / channel).mkdir(parents=True, exist_ok=True)
    (folder / channel / name).write_text(text, encoding="utf-8")
    return RedirectResponse(f"/templates-admin/{channel}/{name}?ok=saved", status_code=303)
