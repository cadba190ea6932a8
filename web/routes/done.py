"""The page behind the "Đã hoàn thành" link in reminder emails; the signed token is the authority.

A GET only shows the task and a confirm button: mail scanners and link previews
follow links, so nothing may change until a person presses the button (a POST).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from inbound.links import DoneClaim, ExpiredLinkError, LinkError, verify_done_token
from store.db import session_scope
from store.models import Task, TaskStatus
from store.reports import lead_units
from store.tasks import TaskError, choose_occurrence, find_task, mark_done
from web.deps import context, csrf_protect, error_page, error_text, render
from web.queries import unit_names

router = APIRouter()

VIA = "email-link"
MAX_NOTE_CHARS = 1000
TITLE = "Liên kết xác nhận hoàn thành"


class _Refused(Exception):
    """The page to show instead (an expired link, a task gone...)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _verify(request: Request, token: str) -> DoneClaim:
    ctx = context(request)
    secret = ctx.settings.link_secret
    if secret is None:
        raise _Refused(
            error_page(
                request,
                503,
                TITLE,
                "Máy chủ chưa được cấu hình để nhận xác nhận qua liên kết. Anh/chị vui lòng báo Văn phòng "
                "hoặc trả lời /xong trên Telegram.",
            )
        )
    try:
        return verify_done_token(secret, token, ctx.now())
    except ExpiredLinkError as error:
        raise _Refused(error_page(request, 410, "Liên kết đã hết hạn", error_text(error))) from None
    except LinkError as error:
        raise _Refused(error_page(request, 400, "Liên kết không hợp lệ", error_text(error))) from None
    except ValueError:  # a secret too short: the installation's mistake, said without the secret
        raise _Refused(
            error_page(
                request, 503, TITLE, "Cấu hình khóa ký liên kết trên máy chủ không hợp lệ; báo Văn phòng."
            )
        ) from None


def _task(request: Request, db: Session, claim: DoneClaim) -> Task:
    try:
        task = find_task(db, claim.task, claim.plan)
    except TaskError:
        raise _Refused(
            error_page(
                request,
                404,
                TITLE,
                f"Nhiệm vụ {claim.task} không còn trong kế hoạch {claim.plan}. Anh/chị vui lòng liên hệ Văn phòng.",
            )
        ) from None
    if claim.unit not in lead_units(db, task):
        raise _Refused(
            error_page(
                request,
                403,
                TITLE,
                f"Đơn vị {claim.unit} không còn chủ trì nhiệm vụ {task.code} nên liên kết này không dùng được. "
                "Anh/chị vui lòng liên hệ Văn phòng.",
            )
        )
    return task


def _page(
    request: Request, token: str, status_code: int = 200, error: str | None = None, ok: bool = False
) -> Response:
    try:
        claim = _verify(request, token)
        with session_scope(context(request).engine) as db:
            task = _task(request, db, claim)
            names = unit_names(db)
            try:
                occurrence = choose_occurrence(db, task, claim.period, context(request).today())
            except TaskError as refused:
                raise _Refused(error_page(request, 404, TITLE, error_text(refused))) from None
    except _Refused as refused:
        return refused.response
    return render(
        request,
        "done_link.html",
        status_code,
        token=token,
        claim=claim,
        task=task,
        label=f"{task.code} kỳ {occurrence.period}" if occurrence else task.code,
        due=occurrence.effective_due if occurrence else task.effective_due,
        done_on=occurrence.done_on if occurrence else task.done_on,
        unit_name=names.get(claim.unit, claim.unit),
        done=(occurrence.status if occurrence else task.status) == TaskStatus.DONE,
        removed=task.status == TaskStatus.REMOVED,
        error=error,
        ok=ok,
    )


@router.get("/done/{token}")
def confirm_page(request: Request, token: str, ok: str = "") -> Response:
    """Shows the task and a button; changes nothing."""
    return _page(request, token, ok=ok == "1")


@router.post("/done/{token}", dependencies=[Depends(csrf_protect)])
def confirm(request: Request, token: str, note: Annotated[str, Form()] = "") -> Response:
    ctx = context(request)
    try:
        claim = _verify(request, token)
        with session_scope(ctx.engine) as db:
            task = _task(request, db, claim)
            mark_done(
                db,
                task,
                on=ctx.today(),
                actor=f"link:{claim.unit}",
                via=VIA,
                note=note.strip()[:MAX_NOTE_CHARS] or None,
                period=claim.period,
            )
    except _Refused as refused:
        return refused.response
    except TaskError as error:  # already done, or removed from the plan: nothing changed
        return _page(request, token, 409, error=error_text(error))
    return RedirectResponse(f"/done/{token}?ok=1", status_code=303)
