"""Who gets what: the messages each channel will carry to one person or one unit over some days.

The same view as ``nhacviec preview`` (delivery/preview.py): the delivery pipeline up to rendering,
exactly as the scheduled passes will bundle the messages; nothing is written. Admins and viewers
(those who may read the outbox) see it; a mistake in the form is shown beside it, in Vietnamese.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from delivery.preview import person, preview_for, preview_json, unit, window
from plan.dates import parse_date
from plan.errors import UserError
from templates.render import Renderer
from web.deps import SignedIn, context, error_text, render
from web.permissions import Action, require

router = APIRouter()

DEFAULT_DAYS = 7


@router.get("/preview")
def preview_page(
    request: Request,
    user: SignedIn,
    person_code: Annotated[str, Query(alias="person")] = "",
    unit_code: Annotated[str, Query(alias="unit")] = "",
    at: str = "",
    days: int = DEFAULT_DAYS,
) -> Response:
    require(user, Action.VIEW_OUTBOX)
    ctx = context(request)
    directory = ctx.directory()
    people = [(p.code, f"{p.title} {p.name}") for p in directory.leaders() if p.code]
    people += [
        (f"{u.code}.head", f"{u.head.title} {u.name} ({u.head.name})") for u in directory.units if u.head
    ]
    units = [(u.code, u.name) for u in directory.units]
    values = {"person_code": person_code, "unit_code": unit_code, "at": at, "days": days}
    page: dict[str, Any] = {"people": people, "units": units, "form": values, "result": None, "error": None}
    if not (person_code or unit_code):
        return render(request, "preview.html", **page)
    try:
        if person_code and unit_code:
            raise UserError("Chọn một người hoặc một đơn vị, không chọn cả hai.")
        who = person(directory, person_code) if person_code else unit(directory, unit_code)
        start, end = window(parse_date(at, "ngày bắt đầu") if at.strip() else ctx.today(), days)
        settings = ctx.settings
        renderer = Renderer(settings.templates_dir, settings.zns_templates_file)
        prepared = preview_for(ctx.engine, settings, directory, renderer, who, start, end, ctx.now())
    except UserError as error:
        return render(request, "preview.html", 400, **(page | {"error": error_text(error)}))
    return render(request, "preview.html", **(page | {"result": preview_json(who, start, end, prepared)}))
