"""The unit directory in the database: its one truth, edited from the CLI (`nhacviec units`) and the web.

``config/units.yaml`` only seeds it: the first time the directory is loaded from an empty database
(`nhacviec init`), its units, leadership and Office are written here; a database from before the
directory moved here (units mirrored, no leadership) gets its leadership and Office from the file once.
Every change is checked by building the whole :class:`plan.units.Directory` again (kinds, codes,
supervisors, one owner per name), so a change that would break it raises a :class:`UserError` naming
what is wrong, and the caller's transaction (``store.db.session_scope``) leaves the database as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from plan.errors import UserError
from plan.text import clean, fold
from plan.units import (
    CHANNELS,
    KINDS,
    Contacts,
    Directory,
    Person,
    UnitsFileError,
    parse_directory,
)
from plan.units import Unit as DirectoryUnit
from plan.units import (
    load_directory as read_file,
)
from store.models import ConfigProblemRecord, Leader, Unit, utcnow

DATABASE = "danh bạ trong cơ sở dữ liệu"
HEAD_FIELDS = ("name", "title")
_CODE_CHARS = re.compile(r"[^A-Z0-9]")


def _contacts(contacts: Contacts) -> dict[str, Any]:
    return {channel: getattr(contacts, channel) for channel in CHANNELS}


def _person(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {
        "code": person.code,
        "name": person.name,
        "title": person.title,
        "contacts": _contacts(person.contacts),
        "bundle": person.bundle,
    }


def _unit_row(row: Unit, unit: DirectoryUnit, position: int) -> Unit:
    row.name, row.kind, row.supervisor = unit.name, unit.kind, unit.supervisor
    row.aliases = list(unit.aliases)
    row.contacts = _contacts(unit.contacts)
    row.head = _person(unit.head)
    row.position = position
    row.bundle = unit.bundle
    return row


def write_units(session: Session, directory: Directory) -> None:
    """Insert or update every unit of ``directory`` (its order, contacts, head and the Office's mark)."""
    existing = {row.code: row for row in session.exec(select(Unit))}
    for position, unit in enumerate(directory.units):
        row = existing.get(unit.code) or Unit(code=unit.code, name=unit.name, kind=unit.kind)
        row = _unit_row(row, unit, position)
        row.is_office = unit.code == directory.office
        session.add(row)
    session.flush()


def seed_directory(session: Session, directory: Directory) -> bool:
    """Write ``directory`` into an empty database, or complete one that has units but no leadership yet.

    Returns whether anything was written. Units already in the database are never overwritten.
    """
    units = {row.code: row for row in session.exec(select(Unit))}
    wrote = False
    if not units:
        write_units(session, directory)
        wrote = True
    elif not any(row.is_office for row in units.values()) and directory.office in units:
        units[directory.office].is_office = True
        session.add(units[directory.office])
        wrote = True
    if session.exec(select(Leader.code)).first() is None:
        people = [("director", directory.director), *(("deputy", person) for person in directory.deputies)]
        for position, (role, person) in enumerate(people):
            session.add(
                Leader(
                    code=person.code or role.upper(),
                    role=role,
                    name=person.name,
                    title=person.title,
                    contacts=_contacts(person.contacts),
                    position=position,
                    bundle=person.bundle,
                )
            )
        wrote = True
    session.flush()
    return wrote


def _leader(row: Leader) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "title": row.title,
        "contacts": row.contacts or None,
        "bundle": row.bundle,
    }


def _as_data(units: Iterable[Unit], leaders: Iterable[Leader]) -> dict[str, Any]:
    """The rows as the units file lays them out, for :func:`plan.units.parse_directory` to check and build."""
    ordered = sorted(units, key=lambda row: (row.position, row.code))
    people = sorted(leaders, key=lambda row: (row.position, row.code))
    return {
        "office": next((row.code for row in ordered if row.is_office), None),
        "leadership": {
            "director": next((_leader(row) for row in people if row.role == "director"), None),
            "deputies": [_leader(row) for row in people if row.role == "deputy"],
        },
        "units": [
            {
                "code": row.code,
                "name": row.name,
                "kind": row.kind,
                "aliases": list(row.aliases or []),
                "head": row.head,
                "contacts": {key: value for key, value in (row.contacts or {}).items() if value} or None,
                "supervisor": row.supervisor,
                "bundle": row.bundle,
            }
            for row in ordered
        ],
    }


def _build(session: Session) -> Directory:
    data = _as_data(session.exec(select(Unit)), session.exec(select(Leader)))
    try:
        return parse_directory(data, DATABASE)
    except UnitsFileError as error:
        if error.field == "units.aliases":  # one name for two units
            raise UserError(f"{error.message}.") from None
        raise UserError(f"Danh bạ đơn vị không hợp lệ: {error.field}: {error.message}.") from None


def load_directory(session: Session, seed_file: Path | str) -> Directory:
    """The directory from the database, seeded from ``seed_file`` (config/units.yaml) when it has none."""
    if session.exec(select(Leader.code)).first() is None or session.exec(select(Unit.code)).first() is None:
        seed_directory(session, read_file(seed_file))
    return _build(session)


# --- changes ----------------------------------------------------------------------------------------


def _unit(session: Session, code: str) -> Unit:
    row = session.get(Unit, code) or session.get(Unit, code.strip().upper())
    if row is None:
        known = ", ".join(session.exec(select(Unit.code).order_by(col(Unit.position), col(Unit.code))))
        raise UserError(f"Không có đơn vị mã '{code}' trong danh bạ (có: {known}).")
    return row


def _check_code(code: str) -> str:
    code = code.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        raise UserError(
            f"Mã đơn vị '{code}' chỉ được gồm chữ cái không dấu, chữ số, '_' và '-' (tối đa 32 ký tự)."
        )
    return code


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UserError(f"Loại đơn vị '{kind}' không hợp lệ; chọn một trong: {', '.join(KINDS)}.")
    return kind


def validate_directory(session: Session) -> Directory:
    """The directory as it now stands in the session, checked whole; a UserError naming what is wrong."""
    session.flush()
    try:
        return _build(session)
    except ValueError as error:  # the same name for two units
        raise UserError(str(error) + ".") from None


def add_unit(
    session: Session,
    code: str,
    name: str,
    *,
    kind: str = "department",
    aliases: Iterable[str] = (),
    supervisor: str | None = None,
    contacts: Mapping[str, str | None] | None = None,
) -> Unit:
    """Add a unit to the directory (no contacts unless given)."""
    code = _check_code(code)
    if session.get(Unit, code) is not None:
        raise UserError(f"Đã có đơn vị mã '{code}' trong danh bạ.")
    name = clean(name)
    if not name:
        raise UserError("Tên đơn vị không được để trống.")
    last = session.exec(select(Unit.position).order_by(col(Unit.position).desc())).first()
    row = Unit(
        code=code,
        name=name,
        kind=_check_kind(kind),
        supervisor=supervisor or None,
        aliases=[clean(alias) for alias in aliases if clean(alias)],
        contacts={channel: (contacts or {}).get(channel) or None for channel in CHANNELS},
        position=(last or 0) + 1,
    )
    session.add(row)
    validate_directory(session)
    return row


def set_alias(session: Session, code: str, alias: str, *, remove: bool = False) -> Unit:
    """Add (or remove) one way a plan writes the unit."""
    row = _unit(session, code)
    alias = clean(alias)
    if not alias:
        raise UserError("Tên gọi không được để trống.")
    aliases = list(row.aliases or [])
    if remove:
        matching = [a for a in aliases if fold(a) == fold(alias)]
        if not matching:
            raise UserError(f"Đơn vị {row.code} không có tên gọi '{alias}'.")
        aliases = [a for a in aliases if fold(a) != fold(alias)]
    elif all(fold(a) != fold(alias) for a in aliases):
        aliases.append(alias)
    row.aliases = aliases
    session.add(row)
    validate_directory(session)
    return row


UNIT_KEYS = (
    "name",
    "kind",
    "supervisor",
    "bundle",
    *CHANNELS,
    *(f"head.{key}" for key in (*HEAD_FIELDS, "bundle", *CHANNELS)),
)
_YES, _NO = frozenset({"true", "co", "1"}), frozenset({"false", "khong", "0"})


def _flag(key: str, value: str | None) -> bool:
    """ "true"/"false" (also "có"/"không") for ``bundle``: gather into the bundled message, or not."""
    word = fold(value or "")
    if word in _YES or word in _NO:
        return word in _YES
    raise UserError(
        f"{key} nhận true (gộp vào tin tổng hợp) hoặc false (gửi riêng từng tin), không phải '{value}'."
    )


LEADER_KEYS = ("name", "title", "bundle", *CHANNELS)


def leader_of(session: Session, code: str) -> Leader | None:
    """The Director or Deputy Director of ``code`` (as typed: "gd" is "GD"); None for a unit's code."""
    return session.get(Leader, code.strip()) or session.get(Leader, code.strip().upper())


def set_leader_fields(session: Session, code: str, changes: Mapping[str, str]) -> Leader:
    """Change a leader's name, title, bundling or contacts ("email", "telegram_chat_id"...); "" clears a contact."""
    row = leader_of(session, code)
    if row is None:
        raise UserError(f"Không có lãnh đạo mã '{code}' trong danh bạ.")
    contacts = dict(row.contacts or {})
    for key, raw in changes.items():
        value = clean(raw) or None
        if key not in LEADER_KEYS:
            raise UserError(f"Không có trường '{key}' của lãnh đạo; dùng: {', '.join(LEADER_KEYS)}.")
        if key in ("name", "title"):
            if value is None:
                what = "Họ tên" if key == "name" else "Chức vụ"
                raise UserError(f"{what} của lãnh đạo {row.code} không được để trống.")
            setattr(row, key, value)
        elif key == "bundle":
            row.bundle = _flag(key, value)
        else:
            contacts[key] = value
    row.contacts = contacts
    session.add(row)
    validate_directory(session)
    return row


def set_fields(session: Session, code: str, changes: Mapping[str, str]) -> Unit | Leader:
    """Change a unit's name, kind, supervisor, bundling, contacts or head ("email", "head.name"...); "" clears.

    The code of a leader (GD, PGD1...) changes that leader instead (:func:`set_leader_fields`)."""
    if leader_of(session, code) is not None and session.get(Unit, code.strip().upper()) is None:
        return set_leader_fields(session, code, changes)
    row = _unit(session, code)
    contacts = dict(row.contacts or {})
    head = dict(row.head or {}) if row.head else None
    for key, raw in changes.items():
        value = clean(raw) or None
        if key not in UNIT_KEYS:
            raise UserError(f"Không có trường '{key}'; dùng: {', '.join(UNIT_KEYS)}.")
        if key == "name":
            if value is None:
                raise UserError("Tên đơn vị không được để trống.")
            row.name = value
        elif key == "kind":
            row.kind = _check_kind(value or "")
        elif key == "supervisor":
            row.supervisor = value
        elif key == "bundle":
            row.bundle = _flag(key, value)
        elif key in CHANNELS:
            contacts[key] = value
        else:
            field = key.removeprefix("head.")
            head = head or {"name": "", "title": "", "contacts": {}}
            if field in HEAD_FIELDS:
                head[field] = value or ""
            elif field == "bundle":
                head["bundle"] = _flag(key, value)
            else:
                head["contacts"] = {**(head.get("contacts") or {}), field: value}
    if head is not None and not (
        head.get("name") or head.get("title") or any((head.get("contacts") or {}).values())
    ):
        head = None  # every field of the head emptied: no head
    if head is not None and not (head.get("name") and head.get("title")):
        raise UserError(f"Trưởng đơn vị {row.code} cần cả tên (head.name) và chức vụ (head.title).")
    row.contacts, row.head = contacts, head
    session.add(row)
    validate_directory(session)
    return row


def new_code(name: str, taken: Iterable[str]) -> str:
    """A code for a unit added from a plan: the initials of its name ("Phòng Khảo thí" -> "KT"), made unique."""
    words = [word for word in fold(name).replace("đ", "d").split() if word not in {"phong", "p.", "p"}]
    initials = _CODE_CHARS.sub("", "".join(word[0] for word in words if word[:1].isalnum()).upper())
    if len(initials) < 2:
        initials = _CODE_CHARS.sub("", "".join(words).upper())[:8]
    base = (initials or "DV")[:24]
    used = {code.upper() for code in taken}
    code, number = base, 1
    while code.upper() in used:
        number += 1
        code = f"{base}{number}"
    return code


def add_unlisted_units(session: Session, names: Iterable[str], plan_code: str) -> dict[str, str]:
    """Add each unknown unit a plan names to the directory, without contacts; {name as written: new code}.

    Each is reported once as a configuration problem (`nhacviec status`, the web's units page): nothing
    can reach it until it has an address.
    """
    added: dict[str, str] = {}
    for name in names:
        taken = list(session.exec(select(Unit.code)))
        code = new_code(name, taken)
        add_unit(session, code, name)
        added[name] = code
        key = f"unit-without-contacts|{code}"
        if session.get(ConfigProblemRecord, key) is None:
            session.add(
                ConfigProblemRecord(
                    key=key,
                    message=(
                        f"Đơn vị '{name}' ({code}) được thêm vào danh bạ khi nhập kế hoạch {plan_code} và chưa có "
                        f"địa chỉ liên lạc nào; hãy thêm bằng 'nhacviec units set {code} email=...' hoặc trang Đơn vị."
                    ),
                    first_seen=utcnow(),
                    last_seen=utcnow(),
                )
            )
    session.flush()
    return added


# --- recipients: a unit, its head, a leader ---------------------------------------------------------


def current_directory(session: Session) -> Directory:
    """The directory as the database holds it now (no seeding: the database already has one)."""
    return _build(session)


@dataclass(frozen=True)
class Target:
    """Who an address belongs to, by the recipient code the planner uses: "TCCB", "TCCB.head", "PGD1"."""

    code: str
    kind: str  # "unit" | "head" | "leader" (vocabulary.RECIPIENT_KINDS)
    unit: str | None  # the unit's code, for a unit or its head
    name: str  # as people read it


def target_code(code: str, person: str = "unit") -> str:
    """The recipient code for ``UNIT`` and ``--person head|unit`` ("TCCB", "head" -> "TCCB.head")."""
    code = code.strip()
    if person not in ("unit", "head"):
        raise UserError(f"'{person}' không hợp lệ: chọn 'unit' (đơn vị) hoặc 'head' (trưởng đơn vị).")
    if person == "head" and not code.endswith(".head"):
        return f"{code}.head"
    return code


def find_target(session: Session, code: str) -> Target:
    """The unit, head or leader ``code`` names; a sentence naming the known codes when there is none."""
    code = code.strip()
    unit_code, is_head = (code.removesuffix(".head"), True) if code.endswith(".head") else (code, False)
    leader = leader_of(session, code)
    if leader is not None and not is_head:
        return Target(leader.code, "leader", None, f"{leader.title} {leader.name}")
    row = session.get(Unit, unit_code) or session.get(Unit, unit_code.upper())
    if row is None:
        units = ", ".join(session.exec(select(Unit.code).order_by(col(Unit.position), col(Unit.code))))
        leaders = ", ".join(session.exec(select(Leader.code).order_by(col(Leader.position))))
        raise UserError(
            f"Không có đơn vị hay lãnh đạo mã '{code}' trong danh bạ (đơn vị: {units}; lãnh đạo: {leaders})."
        )
    if not is_head:
        return Target(row.code, "unit", row.code, row.name)
    if not row.head:
        raise UserError(f"Đơn vị {row.code} chưa có trưởng đơn vị;").with_fix("add_head", unit=row.code)
    return Target(
        f"{row.code}.head", "head", row.code, f"{row.head['title']} {row.name} ({row.head['name']})"
    )


def contacts_of(session: Session, target: Target) -> dict[str, Any]:
    """The target's contacts as stored (a copy)."""
    if target.kind == "leader":
        leader = session.get(Leader, target.code)
        return dict((leader.contacts if leader else None) or {})
    row = session.get(Unit, target.unit)
    if row is None:
        return {}
    if target.kind == "head":
        return dict(((row.head or {}).get("contacts")) or {})
    return dict(row.contacts or {})


def set_contacts(session: Session, target: Target, changes: Mapping[str, str | None]) -> None:
    """Change some of the target's contacts ({"telegram_chat_id": "-100...", "email": None to clear})."""
    unknown = [key for key in changes if key not in CHANNELS]
    if unknown:
        raise UserError(f"Không có trường liên lạc '{unknown[0]}'; dùng: {', '.join(CHANNELS)}.")
    contacts = {**contacts_of(session, target), **{key: value or None for key, value in changes.items()}}
    if target.kind == "leader":
        leader = session.get(Leader, target.code)
        if leader is None:
            raise UserError(f"Không còn lãnh đạo mã '{target.code}' trong danh bạ.")
        leader.contacts = contacts
        session.add(leader)
    else:
        row = session.get(Unit, target.unit)
        if row is None:
            raise UserError(f"Không còn đơn vị mã '{target.unit}' trong danh bạ.")
        if target.kind == "head":
            if not row.head:
                raise UserError(f"Đơn vị {row.code} không còn trưởng đơn vị trong danh bạ.")
            row.head = {**row.head, "contacts": contacts}
        else:
            row.contacts = contacts
        session.add(row)
    validate_directory(session)
