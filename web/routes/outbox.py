"""The outbox: sent, failed and dead-lettered messages with their errors, and sending them again.

Admins and viewers read it; only an admin requeues (one message by its key, or
every failed and dead-lettered one): the dispatcher of the service sends them on
its next pass. The role checks live here until web/permissions.py has actions
for the admin pages (``admin_only``, ``readers_only``; the other admin pages use them).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from store import outbox
from store.db import session_scope
from store.models import OutboxStatus, UserRole
from vocabulary import CHANNEL_LABELS, OUTBOX_STATUS, describe_items, label
from web.deps import SignedIn, context, csrf_protect, render
from web.permissions import Action, require

router = APIRouter()

STATUS_LABELS = {status: label(OUTBOX_STATUS, status).capitalize() for status in OutboxStatus}
FLASH = {
    "one": "Đã đưa tin trở lại hàng chờ gửi.",
    "all": "Đã đưa mọi tin lỗi trở lại hàng chờ gửi.",
    "none": "Không có tin nào để gửi lại.",
}
PAGE_SIZE = 500


@router.get("/outbox")
def outbox_page(request: Request, user: SignedIn, status: str = "", ok: str = "") -> Response:
    require(user, Action.VIEW_OUTBOX)
    status = status if status in set(OutboxStatus) else ""
    with session_scope(context(request).engine) as db:
        counts = outbox.counts_by_status(db)
        messages = outbox.list_messages(db, status or None)
        shown = list(reversed(messages[-PAGE_SIZE:]))  # the newest first
        items = outbox.items_of(db, [m.id for m in shown if m.id is not None])
        rows = [
            {
                "key": m.key,
                "status": m.status,
                "channel": CHANNEL_LABELS.get(m.channel, m.channel),
                "recipient": m.recipient_name or m.recipient,
                "address": m.address,
                "subject": m.subject,
                "carries": describe_items(items.get(m.id or 0, [])),
                "attempts": m.attempts,
                "error": m.last_error,
                "due_at": m.due_at,
                "sent_at": m.sent_at,
            }
            for m in shown
        ]
    retryable = counts.get(OutboxStatus.FAILED, 0) + counts.get(OutboxStatus.DEAD, 0)
    return render(
        request,
        "outbox.html",
        rows=rows,
        total=len(messages),
        counts=counts,
        status=status,
        statuses=list(OutboxStatus),
        status_labels=STATUS_LABELS,
        retryable=retryable,
        can_retry=user.role == UserRole.ADMIN,
        flash=FLASH.get(ok),
    )


@router.post("/outbox/retry", dependencies=[Depends(csrf_protect)])
def retry(request: Request, user: SignedIn, key: Annotated[str, Form()] = "") -> Response:
    require(user, Action.RETRY_OUTBOX)
    ctx = context(request)
    with session_scope(ctx.engine) as db:
        keys = outbox.requeue(db, key=key, now=ctx.now()) if key else []
    return RedirectResponse(f"/outbox?ok={'one' if keys else 'none'}", status_code=303)


@router.post("/outbox/retry-all", dependencies=[Depends(csrf_protect)])
def retry_all(request: Request, user: SignedIn) -> Response:
    require(user, Action.RETRY_OUTBOX)
    ctx = context(request)
    with session_scope(ctx.engine) as db:
        keys = outbox.requeue(db, all_failed=True, now=ctx.now())
    return RedirectResponse(f"/outbox?ok={'all' if keys else 'none'}", status_code=303)
