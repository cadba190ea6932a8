"""Rules in the database: seeded from config/rules.yaml, edited by admins, every change in the history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, col, select

from plan.errors import UserError
from rules.model import Rule, RulesError, parse_rule, parse_rules
from store.models import RuleEvent, RuleRecord, Unit, utcnow


def read_rules_file(path: Path, unit_codes: frozenset[str] | None = None) -> list[Rule]:
    """Read and validate a YAML rule file; every problem names the rule and the field."""
    from plan.limits import load_yaml

    data = load_yaml(path, "tệp quy tắc")
    return parse_rules(data, unit_codes=unit_codes, source=str(path))


def rules_to_yaml(rules: list[Rule]) -> str:
    return yaml.safe_dump({"rules": [rule.to_dict() for rule in rules]}, allow_unicode=True, sort_keys=False)


def unit_codes(session: Session) -> frozenset[str]:
    return frozenset(session.exec(select(Unit.code)).all())


def load_rules(session: Session) -> list[Rule]:
    """The stored rules, in order. They were valid when saved; a unit removed since then is reported."""
    records = list(session.exec(select(RuleRecord).order_by(col(RuleRecord.position), col(RuleRecord.id))))
    return parse_rules([r.data for r in records], unit_codes=unit_codes(session), source="cơ sở dữ liệu")


def get_rule(session: Session, rule_id: str) -> Rule:
    record = session.get(RuleRecord, rule_id)
    if record is None:
        known = ", ".join(session.exec(select(RuleRecord.id).order_by(col(RuleRecord.position))).all())
        raise UserError(f"Không có quy tắc '{rule_id}' (các quy tắc hiện có: {known or 'chưa có'}).")
    rule, problems = parse_rule(record.data, unit_codes=unit_codes(session))
    if rule is None:
        raise RulesError(problems, "cơ sở dữ liệu")
    return rule


def replace_rules(
    session: Session, rules: list[Rule], *, actor: str, via: str = "cli"
) -> dict[str, list[str]]:
    """Make the stored rule set exactly ``rules`` (already validated); returns ids created, updated, deleted."""
    existing = {r.id: r for r in session.exec(select(RuleRecord))}
    changes: dict[str, list[str]] = {"created": [], "updated": [], "deleted": []}
    for position, rule in enumerate(rules):
        data = rule.to_dict()
        record = existing.pop(rule.id, None)
        if record is None:
            session.add(RuleRecord(id=rule.id, position=position, data=data, updated_by=actor))
            session.add(RuleEvent(rule_id=rule.id, action="created", actor=actor, via=via, after=data))
            changes["created"].append(rule.id)
            continue
        if record.data != data:
            session.add(
                RuleEvent(
                    rule_id=rule.id, action="updated", actor=actor, via=via, before=record.data, after=data
                )
            )
            changes["updated"].append(rule.id)
            record.data = data
            record.updated_at = utcnow()
            record.updated_by = actor
        record.position = position
        session.add(record)
    for record in existing.values():
        session.add(RuleEvent(rule_id=record.id, action="deleted", actor=actor, via=via, before=record.data))
        session.delete(record)
        changes["deleted"].append(record.id)
    session.flush()
    return changes


def save_rule(session: Session, rule: Rule, *, actor: str, via: str = "cli", action: str = "updated") -> None:
    """Store one validated rule (insert or replace), with a history entry when it changed."""
    record = session.get(RuleRecord, rule.id)
    data = rule.to_dict()
    if record is None:
        position = len(session.exec(select(RuleRecord.id)).all())
        session.add(RuleRecord(id=rule.id, position=position, data=data, updated_by=actor))
        session.add(RuleEvent(rule_id=rule.id, action="created", actor=actor, via=via, after=data))
    elif record.data != data:
        session.add(
            RuleEvent(rule_id=rule.id, action=action, actor=actor, via=via, before=record.data, after=data)
        )
        record.data = data
        record.updated_at = utcnow()
        record.updated_by = actor
        session.add(record)
    session.flush()


def set_field(rule: Rule, assignment: str, unit_codes: frozenset[str]) -> Rule:
    """Apply ``KEY=VALUE`` to a rule (KEY may be dotted: ``applies_to.sections``); VALUE is read as YAML.

    The result is validated like any rule; an invalid value raises :class:`RulesError`.
    """
    if "=" not in assignment:
        raise UserError(f"'{assignment}' không đúng dạng KHÓA=GIÁ_TRỊ (ví dụ offsets=[14,7,3,1]).")
    key, raw_value = (part.strip() for part in assignment.split("=", 1))
    try:
        value: Any = yaml.safe_load(raw_value) if raw_value else None
    except yaml.YAMLError:
        value = raw_value
    if key == "send_time" and value is not None:
        value = raw_value  # 07:30 must stay text (YAML 1.1 would read it as a number of minutes)
    data = rule.to_dict()
    target = data
    parts = key.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise UserError(f"Trường '{key}' không tồn tại trong quy tắc '{rule.id}'.")
    if parts[-1] == "id" and value != rule.id:
        raise UserError("Không đổi được mã quy tắc; hãy xuất (export), sửa và nhập (import) lại.")
    target[parts[-1]] = value
    updated, problems = parse_rule(data, unit_codes=unit_codes)
    if updated is None:
        raise RulesError(problems)
    return updated
