"""The unit directory as the messages see it: each unit's contacts per channel, its Telegram chats and
the configuration problems the dispatcher recorded (a unit with no address for a channel)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import select

from plan.errors import UserError
from plan.units import Contacts, Directory, Person, load_directory
from store import outbox
from store.db import session_scope
from store.models import AddressAlias
from web.deps import SignedIn, context, render
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
            "kind": unit.kind,
            "supervisor": unit.supervisor,
            "contacts": _contacts(unit.contacts),
            "head": unit.head,
            "head_contacts": _contacts(unit.head.contacts) if unit.head else None,
            "chats": _chats(unit.contacts, unit.head, aliases),
        }
        for unit in directory.units
    ]


@router.get("/units")
def units_page(request: Request, user: SignedIn) -> Response:
    require(user, Action.VIEW_UNITS)
    ctx = context(request)
    with session_scope(ctx.engine) as db:
        aliases = outbox.aliases(db, "telegram")
        migrations = list(db.exec(select(AddressAlias)))
        problems = outbox.config_problems(db)
    try:
        directory = load_directory(ctx.settings.units_file)
    except UserError as error:  # a broken units.yaml: say what is wrong, still show the problems
        return render(
            request, "units.html", 200, rows=[], error=str(error), migrations=migrations, problems=problems
        )
    return render(
        request,
        "units.html",
        rows=unit_rows(directory, aliases),
        error=None,
        migrations=migrations,
        problems=problems,
        office=directory.office,
    )
