"""The unit directory as the messages see it: each unit's contacts per channel, its Telegram chats and
the configuration problems the dispatcher recorded (a unit with no address for a channel). Admins add
units, add and remove the names plans write them by, and edit their contacts and head: the same
database the CLI's `nhacviec units` edits. A unit's page also makes invite codes (shown once, with the
Telegram link and its QR code), lists its invites and who joined, and removes a binding in one click."""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select

from inbound.invites import handover, qr_svg
from plan.errors import UserError
from plan.units import CHANNELS, KINDS, Contacts, Directory, Person
from store import outbox
from store.db import session_scope
from store.directory import add_unit, load_directory, set_alias, set_fields, set_leader_fields, target_code
from store.invites import create_invite, invites_for_unit, revoke_invite, unbind
from store.invites import state as invite_state
from store.models import AddressAlias, UserRole
from vocabulary import CHANNEL_LABELS, INVITE_STATES, RECIPIENT_KINDS
from web.deps import PageNotFound, SignedIn, Text, context, csrf_protect, error_text, render
from web.permissions import Action, require

router = APIRouter()


def _contacts(contacts: Contacts) -> dict[str, str | None]:
    return {
        "email": contacts.email,
        "telegram": contacts.telegram_chat_id,
        "zalo": contacts.zalo_user_id,
        "phone": contacts.phone,
    }


def _chats(contacts: Contacts, head: Person | None, aliases: dict[str, str]) -> list[dict[str, str | None]]:
    """The Telegram chats registered to a unit (its group, its head), each with the chat it migrated to."""
    chats = []
    for who, chat in (
        ("Đơn vị", contacts.telegram_chat_id),
        ("Trưởng đơn vị", head and head.contacts.telegram_chat_id),
    ):
        if chat:
            chats.append({"who": who, "chat": chat, "now": aliases.get(chat)})
    return chats


def unit_rows(directory: Directory, aliases: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "code": unit.code,
            "name": unit.name,
            "aliases": unit.aliases,
            "kind": unit.kind,
            "supervisor": unit.supervisor,
            "contacts": _contacts(unit.contacts),
            "head": unit.head,
            "head_contacts": _contacts(unit.head.contacts) if unit.head else None,
            "chats": _chats(unit.contacts, unit.head, aliases),
        }
        for unit in directory.units
    ]


def _page(
    request: Request, user: Any, error: str | None = None, status_code: int = 200, flash: str | None = None
) -> Response:
    ctx = context(request)
    with session_scope(ctx.engine) as db:
        aliases = outbox.aliases(db, "telegram")
        migrations = list(db.exec(select(AddressAlias)))
        problems = outbox.config_problems(db)
    values: dict[str, Any] = {"migrations": migrations, "problems": problems, "kinds": KINDS, "flash": flash}
    values["can_edit"] = user.role == UserRole.ADMIN
    try:
        directory = ctx.directory()
    except UserError as broken:  # a broken directory: say what is wrong, still show the problems
        return render(
            request, "units.html", status_code, rows=[], leaders=[], error=error_text(broken), office=None,
            **values,
        )  # fmt: skip
    rows = unit_rows(directory, aliases)
    leaders = [
        {"person": person, "contacts": _contacts(person.contacts), "director": person is directory.director}
        for person in directory.leaders()
    ]
    return render(
        request, "units.html", status_code, rows=rows, leaders=leaders, error=error, office=directory.office,
        **values,
    )  # fmt: skip


@router.get("/units")
def units_page(request: Request, user: SignedIn, ok: str = "") -> Response:
    require(user, Action.VIEW_UNITS)
    return _page(request, user, flash=_FLASH.get(ok))


_FLASH = {
    "leader": "Đã lưu thông tin lãnh đạo.",
    "added": "Đã thêm đơn vị.",
    "saved": "Đã lưu thông tin đơn vị.",
    "alias": "Đã cập nhật tên gọi.",
    "unbound": "Đã gỡ liên kết.",
    "revoked": "Đã huỷ mã mời.",
}


@router.post("/units", dependencies=[Depends(csrf_protect)])
def add(
    request: Request, user: SignedIn, code: Text = "", name: Text = "", kind: Text = "department"
) -> Response:
    require(user, Action.EDIT_UNITS)
    try:
        with session_scope(context(request).engine) as db:
            load_directory(db, context(request).settings.units_file)
            row = add_unit(db, code, name, kind=kind)
    except UserError as error:
        return _page(request, user, error_text(error), 400)
    return RedirectResponse(f"/units/{row.code}?ok=added", status_code=303)


def _unit_or_404(request: Request, code: str) -> Any:
    directory = context(request).directory()
    unit = directory.get(code)
    if unit is None:
        raise PageNotFound(f"Không có đơn vị mã '{code}' trong danh bạ.")
    return unit


def _edit_page(request: Request, user: Any, code: str, error: str | None = None, status_code: int = 200,
               flash: str | None = None) -> Response:  # fmt: skip
    unit = _unit_or_404(request, code)
    ctx = context(request)
    now = ctx.now()
    with session_scope(ctx.engine) as db:
        invites = [
            {
                "invite": row,
                "state": invite_state(row, now),
                "person": "head" if row.target.endswith(".head") else "unit",
            }
            for row in invites_for_unit(db, unit.code)
        ]
    bindings = [
        {"person": person, "channel": channel, "address": address}
        for person, contacts in (("unit", unit.contacts), ("head", unit.head.contacts if unit.head else None))
        if contacts is not None
        for channel, address in (("telegram", contacts.telegram_chat_id), ("zalo", contacts.zalo_user_id))
        if address
    ]
    return render(
        request, "unit_edit.html", status_code, unit=unit, error=error, flash=flash, kinds=KINDS,
        channels=CHANNELS, can_edit=user.role == UserRole.ADMIN, invites=invites, bindings=bindings,
        invite_states=INVITE_STATES, persons=RECIPIENT_KINDS, channel_labels=CHANNEL_LABELS,
    )  # fmt: skip


@router.get("/units/{code}")
def edit_page(request: Request, user: SignedIn, code: str, ok: str = "") -> Response:
    require(user, Action.VIEW_UNITS)
    return _edit_page(request, user, code, flash=_FLASH.get(ok))


# --- the leadership: the Director and the Deputy Directors, whom escalations and digests reach ---------


def _leader_or_404(request: Request, code: str) -> Person:
    for person in context(request).directory().leaders():
        if person.code is not None and person.code.upper() == code.strip().upper():
            return person
    raise PageNotFound(f"Không có lãnh đạo mã '{code}' trong danh bạ.")


def _leader_page(request: Request, user: Any, code: str, error: str | None = None, status_code: int = 200,
                 flash: str | None = None) -> Response:  # fmt: skip
    person = _leader_or_404(request, code)
    directory = context(request).directory()
    director = person is directory.director  # a unit that names no supervisor is the Director's
    supervised = [
        unit
        for unit in directory.units
        if unit.supervisor == person.code or (director and not unit.supervisor)
    ]
    return render(
        request, "leader_edit.html", status_code, leader=person, supervised=supervised, director=director, error=error,
        flash=flash, channels=CHANNELS, can_edit=user.role == UserRole.ADMIN,
    )  # fmt: skip


@router.get("/leaders/{code}")
def leader_page(request: Request, user: SignedIn, code: str, ok: str = "") -> Response:
    require(user, Action.VIEW_UNITS)
    return _leader_page(request, user, code, flash=_FLASH.get(ok))


def _ways_of_receiving(form: Any, *keys: str) -> dict[str, str]:
    """The "Cách nhận tin" selects as given: "1" gathers into the morning's message ("true"), "0" one by one."""
    return {key: "true" if form.get(key) == "1" else "false" for key in keys if form.get(key) in ("0", "1")}


@router.post("/leaders/{code}", dependencies=[Depends(csrf_protect)])
async def save_leader(request: Request, user: SignedIn, code: str) -> Response:
    require(user, Action.EDIT_UNITS)
    form = await request.form()
    changes = {key: str(form.get(key, "")) for key in ("name", "title", *CHANNELS) if key in form}
    changes |= _ways_of_receiving(form, "bundle")
    try:
        with session_scope(context(request).engine) as db:
            load_directory(db, context(request).settings.units_file)
            row = set_leader_fields(db, code, changes)
    except UserError as error:
        return _leader_page(request, user, code, error_text(error), 400)
    return RedirectResponse(f"/leaders/{row.code}?ok=leader", status_code=303)


_FIELDS = ("name", "kind", "supervisor", *CHANNELS, *(f"head.{key}" for key in ("name", "title", *CHANNELS)))


@router.post("/units/{code}", dependencies=[Depends(csrf_protect)])
async def save(request: Request, user: SignedIn, code: str) -> Response:
    require(user, Action.EDIT_UNITS)
    form = await request.form()
    changes = {key: str(form.get(key, "")) for key in _FIELDS if key in form}
    changes |= _ways_of_receiving(form, "bundle", "head.bundle")
    try:
        with session_scope(context(request).engine) as db:
            load_directory(db, context(request).settings.units_file)
            row = set_fields(db, code, changes)
    except UserError as error:
        return _edit_page(request, user, code, error_text(error), 400)
    return RedirectResponse(f"/units/{row.code}?ok=saved", status_code=303)


@router.post("/units/{code}/aliases", dependencies=[Depends(csrf_protect)])
def alias(request: Request, user: SignedIn, code: str, alias: Text = "", remove: Text = "") -> Response:
    require(user, Action.EDIT_UNITS)
    try:
        with session_scope(context(request).engine) as db:
            load_directory(db, context(request).settings.units_file)
            row = set_alias(db, code, alias, remove=bool(remove))
    except UserError as error:
        return _edit_page(request, user, code, error_text(error), 400)
    return RedirectResponse(f"/units/{row.code}?ok=alias", status_code=303)


# --- invites and bindings (store.invites) ----------------------------------------------------------------


@router.post("/units/{code}/invites", dependencies=[Depends(csrf_protect)])
def new_invite(
    request: Request, user: SignedIn, code: str, person: Text = "unit", channel: Text = "telegram"
) -> Response:
    """Make a code and show it once, with its link and QR code (only its hash is kept)."""
    require(user, Action.EDIT_UNITS)
    ctx = context(request)
    try:
        with session_scope(ctx.engine) as db:
            load_directory(db, ctx.settings.units_file)
            made = create_invite(
                db, target_code(code, person), channel, now=ctx.now(), actor=f"web:{user.name}"
            )
            given = handover(ctx.settings, channel, made.code, made.target.name)  # no bot name: nothing kept
    except UserError as error:
        return _edit_page(request, user, code, error_text(error), 400)
    return render(
        request,
        "invite_created.html",
        unit=_unit_or_404(request, code),
        made=made,
        given=given,
        qr=qr_svg(given.link) if given.link else None,
        png=segno.make(given.link, error="m").png_data_uri(scale=8) if given.link else None,
        channel_labels=CHANNEL_LABELS,
    )


@router.post("/units/{code}/unbind", dependencies=[Depends(csrf_protect)])
def unbind_chat(
    request: Request, user: SignedIn, code: str, person: Text = "unit", channel: Text = "telegram"
) -> Response:
    require(user, Action.EDIT_UNITS)
    ctx = context(request)
    try:
        with session_scope(ctx.engine) as db:
            load_directory(db, ctx.settings.units_file)
            unbind(db, target_code(code, person), channel, now=ctx.now())
    except UserError as error:
        return _edit_page(request, user, code, error_text(error), 400)
    return RedirectResponse(f"/units/{code}?ok=unbound", status_code=303)


@router.post("/units/{code}/invites/{invite_id}/revoke", dependencies=[Depends(csrf_protect)])
def revoke(request: Request, user: SignedIn, code: str, invite_id: int) -> Response:
    require(user, Action.EDIT_UNITS)
    ctx = context(request)
    try:
        with session_scope(ctx.engine) as db:
            invite = revoke_invite(db, invite_id, now=ctx.now())
            if invite.target.removesuffix(".head") != code:
                raise UserError(f"Mã mời số {invite_id} không thuộc đơn vị {code}.")
    except UserError as error:
        return _edit_page(request, user, code, error_text(error), 400)
    return RedirectResponse(f"/units/{code}?ok=revoked", status_code=303)
