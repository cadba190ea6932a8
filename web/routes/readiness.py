"""The page "Sẵn sàng": who each channel reaches, the units and tasks nothing reaches, placeholder addresses,
and the channels (asked on demand, each check bounded by a timeout). The same as `nhacviec doctor`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from delivery.readiness import check_channels, load, unchecked
from plan.errors import UserError
from vocabulary import CHANNEL_LABELS, CONTACT_FIELDS, REACH_STATES, RECIPIENT_KINDS
from web.deps import SignedIn, context, error_text, render
from web.permissions import Action, require

router = APIRouter()


@router.get("/readiness")
async def readiness_page(request: Request, user: SignedIn, check: str = "") -> Response:
    require(user, Action.VIEW_UNITS)
    ctx = context(request)
    try:
        directory = await run_in_threadpool(ctx.directory)
    except UserError as error:
        return render(
            request, "error.html", 500, title="Danh bạ đơn vị không hợp lệ", message=error_text(error)
        )
    checks = await check_channels(ctx.settings, ctx.engine) if check else unchecked(ctx.settings)
    readiness = await run_in_threadpool(load, ctx.engine, ctx.settings, directory, checks)
    return render(
        request,
        "readiness.html",
        readiness=readiness,
        checked=bool(check),
        channel_labels=CHANNEL_LABELS,
        reach_states=REACH_STATES,
        kinds=RECIPIENT_KINDS,
        fields=CONTACT_FIELDS,
    )
