"""Contacts from a sheet into the directory (`nhacviec units import`), and the directory as a sheet (`export`).

:func:`diff` matches each checked row (plan.contacts) to a unit, a unit's head or a leader of the directory,
and lists what would change, field by field, with every problem that blocks the import; :func:`apply` writes
those changes. The caller runs both in one transaction: any problem, and nothing is written (all or nothing).

A unit row whose code the directory lacks adds the unit (with the name written), a deputy row whose code it
lacks adds a Deputy Director; anything else unknown is a problem naming the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from plan.contacts import (
    CONTACT_COLUMNS,
    EMAIL,
    PHONE,
    ROLE_WORDS,
    TELEGRAM,
    ZALO,
    ContactRow,
    Sheet,
)
from plan.errors import UserError
from plan.text import fold
from plan.units import UnknownUnitError
from store.directory import add_unit, current_directory, validate_directory
from store.models import Leader, Unit

FIELD_WORDS = {
    "name": "Họ và tên",
    "title": "Chức vụ",
    "unit": "Tên đơn vị",
    "supervisor": "Lãnh đạo phụ trách",
    EMAIL: "Email",
    PHONE: "Điện thoại",
    TELEGRAM: "Telegram",
    ZALO: "Zalo",
}


@dataclass
class Change:
    """What one row changes: a target ("TCCB", "TCCB.head", "PGD1"), added or updated, field by field."""

    target: str
    who: str
    action: str  # "add" | "update"
    row: int
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)  # (field, old, new)

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "who": self.who,
            "action": self.action,
            "row": self.row,
            "changes": [{"field": f, "old": old, "new": new} for f, old, new in self.fields],
        }


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unchanged: int = 0


def _contacts_changes(old: dict[str, Any], row: ContactRow) -> list[tuple[str, Any, Any]]:
    return [
        (column, old.get(column), row.contacts[column])
        for column in CONTACT_COLUMNS
        if column in row.contacts and (old.get(column) or None) != row.contacts[column]
    ]


def _person_changes(old: dict[str, Any], row: ContactRow) -> list[tuple[str, Any, Any]]:
    changes = [
        (key, old.get(key), value)
        for key, value in (("name", row.name), ("title", row.title))
        if value and value != old.get(key)
    ]
    return changes + _contacts_changes(old.get("contacts") or {}, row)


def _leader_code(leaders: dict[str, tuple[str, str]], text: str) -> str | None:
    """The code of the leader ``text`` names (a code or a name), among ``leaders`` ({CODE: (code, name)})."""
    for code, name in leaders.values():
        if code.upper() == text.strip().upper() or fold(name) == fold(text):
            return code
    return None


def diff(session: Session, sheet: Sheet) -> Diff:
    """What importing ``sheet`` would change; ``problems`` lists every row that cannot be imported."""
    result = Diff(problems=list(sheet.problems))
    directory = current_directory(session)
    leaders = {row.code.upper(): row for row in session.exec(select(Leader))}
    director = next((row for row in leaders.values() if row.role == "director"), None)
    units = {row.code.upper(): row for row in session.exec(select(Unit))}
    seen: dict[str, int] = {}
    named = {key: (row.code, row.name) for key, row in leaders.items()}  # with the deputies the sheet adds
    added: dict[str, Change] = {}  # the units the sheet adds, by code in capitals

    def claim(target: str, row: ContactRow) -> bool:
        first = seen.setdefault(target, row.row)
        if first != row.row:
            result.problems.append(f"{sheet.file}:{row.row}: trùng với dòng {first} (cùng là {target}).")
            return False
        return True

    for row in sheet.rows:
        where = f"{sheet.file}:{row.row}"
        code = (row.code or "").upper()
        role = row.role
        if role is None and code in leaders:
            role = leaders[code].role
        if role in ("director", "deputy"):
            leader = director if role == "director" and not code else leaders.get(code)
            if role == "director" and leader is not None and leader.role != "director":
                result.problems.append(f"{where}: {leader.code} là Phó Giám đốc, không phải Giám đốc.")
                continue
            if leader is None:
                if role == "director" or not code:
                    result.problems.append(
                        f"{where}: cần mã lãnh đạo ({', '.join(leaders) or 'chưa có'}) trong cột 'Mã'"
                        + ("; danh bạ đã có Giám đốc." if role == "director" else ".")
                    )
                    continue
                if not (row.name and row.title):
                    result.problems.append(f"{where}: Phó Giám đốc mới {row.code} cần họ tên và chức vụ.")
                    continue
                if claim(row.code or code, row):
                    named[code] = (row.code or code, row.name)
                    fields: list[tuple[str, Any, Any]] = [
                        ("name", None, row.name),
                        ("title", None, row.title),
                    ]
                    fields += _contacts_changes({}, row)
                    result.changes.append(
                        Change(row.code or code, f"{row.title} {row.name}", "add", row.row, fields)
                    )
                continue
            if not claim(leader.code, row):
                continue
            old = {"name": leader.name, "title": leader.title, "contacts": leader.contacts or {}}
            fields = _person_changes(old, row)
            if fields:
                result.changes.append(
                    Change(leader.code, f"{leader.title} {leader.name}", "update", row.row, fields)
                )
            else:
                result.unchanged += 1
            continue
        # a unit or its head
        unit = units.get(code) if code else None
        if unit is None and not code and row.unit:
            try:
                found = directory.resolve(row.unit)
            except UnknownUnitError:
                found = []
            if len(found) == 1:
                unit = units.get(found[0].upper())
        is_head = role == "head" or (role is None and bool(row.name))
        supervisor = None
        if row.has_supervisor and row.supervisor:
            supervisor = _leader_code(named, row.supervisor)
            if supervisor is None:
                result.problems.append(
                    f"{where}: không có lãnh đạo '{row.supervisor}' (có: {', '.join(named)})."
                )
                continue
        if unit is None:  # a new unit: its own row and its head's row may come in either order
            pending = added.get(code) if code else None
            if pending is None:
                if not (code and row.unit):
                    result.problems.append(
                        f"{where}: không có đơn vị '{row.code or row.unit}' trong danh bạ; ghi cả 'Mã' và tên "
                        "'Đơn vị' để thêm đơn vị mới."
                    )
                    continue
                pending = Change(row.code or code, row.unit, "add", row.row, [("unit", None, row.unit)])
                added[code] = pending
                result.changes.append(pending)
            if not claim(f"{pending.target}.head" if is_head else pending.target, row):
                continue
            if not is_head:
                pending.fields += [("supervisor", None, supervisor)] if supervisor else []
                pending.fields += _contacts_changes({}, row)
                pending.row = row.row
            elif row.name and row.title:
                fields = [("name", None, row.name), ("title", None, row.title), *_contacts_changes({}, row)]
                result.changes.append(Change(f"{pending.target}.head", row.name, "add", row.row, fields))
            else:
                result.problems.append(f"{where}: trưởng đơn vị cần cả họ tên và chức vụ.")
            continue
        if is_head:
            target = f"{unit.code}.head"
            if not claim(target, row):
                continue
            head = unit.head or {}
            if not head and not (row.name and row.title):
                result.problems.append(
                    f"{where}: trưởng đơn vị mới của {unit.code} cần cả họ tên và chức vụ."
                )
                continue
            fields = _person_changes(head, row)
            if supervisor and supervisor != unit.supervisor:
                result.problems.append(
                    f"{where}: ghi lãnh đạo phụ trách ở dòng của đơn vị, không ở dòng trưởng đơn vị."
                )
                continue
            who = f"{row.title or head.get('title')} {unit.name} ({row.name or head.get('name')})"
            if fields:
                result.changes.append(Change(target, who, "add" if not head else "update", row.row, fields))
            else:
                result.unchanged += 1
            continue
        if not claim(unit.code, row):
            continue
        fields = _contacts_changes(unit.contacts or {}, row)
        if row.has_supervisor and supervisor != unit.supervisor and (supervisor or row.supervisor is None):
            fields.append(("supervisor", unit.supervisor, supervisor))
        if fields:
            result.changes.append(Change(unit.code, unit.name, "update", row.row, fields))
        else:
            result.unchanged += 1
    return result


def apply(session: Session, changes: list[Change]) -> None:
    """Write ``changes`` (from :func:`diff`); the directory is checked whole afterwards."""
    for change in changes:
        values = {name: new for name, _, new in change.fields}
        contacts = {key: values[key] for key in CONTACT_COLUMNS if key in values}
        if change.target.endswith(".head"):
            unit = _unit(session, change.target.removesuffix(".head"))
            head = dict(unit.head or {"name": "", "title": "", "contacts": {}})
            head.update({key: values[key] for key in ("name", "title") if key in values})
            head["contacts"] = {**(head.get("contacts") or {}), **contacts}
            unit.head = head
            session.add(unit)
        elif change.action == "add" and "unit" in values:
            add_unit(
                session, change.target, values["unit"], supervisor=values.get("supervisor"), contacts=contacts
            )
        elif change.action == "add":
            last = session.exec(select(Leader.position).order_by(col(Leader.position).desc())).first()
            session.add(
                Leader(
                    code=change.target,
                    role="deputy",
                    name=values["name"],
                    title=values["title"],
                    contacts={key: contacts.get(key) for key in CONTACT_COLUMNS},
                    position=(last or 0) + 1,
                )
            )
        elif (leader := session.get(Leader, change.target)) is not None:
            leader.name = values.get("name", leader.name)
            leader.title = values.get("title", leader.title)
            leader.contacts = {**(leader.contacts or {}), **contacts}
            session.add(leader)
        else:
            unit = _unit(session, change.target)
            unit.contacts = {**(unit.contacts or {}), **contacts}
            if "supervisor" in values:
                unit.supervisor = values["supervisor"]
            session.add(unit)
        session.flush()
    validate_directory(session)


def _unit(session: Session, code: str) -> Unit:
    unit = session.get(Unit, code)
    if unit is None:
        raise UserError(f"Không còn đơn vị mã '{code}' trong danh bạ.")
    return unit


# --- export -----------------------------------------------------------------------------------------


def export_rows(session: Session) -> list[list[str]]:
    """The directory in the sheet's layout (plan.contacts.LAYOUT): the leaders, then each unit and its head."""

    def contacts(values: dict[str, Any] | None) -> list[str]:
        values = values or {}
        return [
            values.get(EMAIL) or "",
            values.get(PHONE) or "",
            values.get(TELEGRAM) or "",
            values.get(ZALO) or "",
        ]

    rows: list[list[str]] = []
    for leader in session.exec(select(Leader).order_by(col(Leader.position), col(Leader.code))):
        rows.append(
            [
                leader.code,
                "",
                ROLE_WORDS[leader.role],
                leader.name,
                leader.title,
                *contacts(leader.contacts),
                "",
            ]
        )
    for unit in session.exec(select(Unit).order_by(col(Unit.position), col(Unit.code))):
        rows.append(
            [
                unit.code,
                unit.name,
                ROLE_WORDS["unit"],
                "",
                "",
                *contacts(unit.contacts),
                unit.supervisor or "",
            ]
        )
        if unit.head:
            head = unit.head
            rows.append(
                [unit.code, unit.name, ROLE_WORDS["head"], head.get("name") or "", head.get("title") or "",
                 *contacts(head.get("contacts")), ""]
            )  # fmt: skip
    return rows
