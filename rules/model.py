"""Rules are data: what to send, when, to whom, on which channels, with which template.

A rule is read from a plain mapping (YAML file, database row, web form) by
:func:`parse_rules`, which checks every field and reports each mistake with the
rule id and the field, in Vietnamese. The planner only ever sees valid rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import time
from enum import StrEnum
from typing import Any

from plan.deadline import DeadlineKind
from plan.errors import UserError
from vocabulary import REPORT_KINDS, TASK_KINDS


class NotificationKind(StrEnum):
    KICKOFF = "kickoff"
    REMINDER = "reminder"
    CHECKIN = "checkin"
    ESCALATION = "escalation"
    REPORT_REQUEST = "report_request"
    REPORT_REMINDER = "report_reminder"
    REPORT_FOLLOWUP = "report_followup"
    DIGEST = "digest"
    NEEDS_DATE = "needs_date"
    CLOSING = "closing"  # a plan's closing date: the list of what was never finished


class Who(StrEnum):
    """Audiences a rule can name; they are resolved per task through the unit directory."""

    LEAD = "lead"  # the lead unit(s) of the task
    COORDINATING = "coordinating"  # its coordinating units
    OFFICE = "office"  # Văn phòng Sở, which chases the plan
    UNIT_HEAD = "unit_head"  # the head of each lead unit
    SUPERVISOR = "supervisor"  # the Deputy Director supervising each lead unit
    DIRECTOR = "director"
    DEPUTIES = "deputies"  # every Deputy Director (the weekly digest)
    REPORTING_UNITS = "reporting_units"  # units that owe a periodic report (plan section III.7)


class Role(StrEnum):
    TO = "to"
    CC = "cc"


class Channel(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    ZALO = "zalo"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Templates the delivery layer provides; a rule naming another one is refused.
KNOWN_TEMPLATES = frozenset(
    {
        "kickoff",
        "reminder",
        "checkin",
        "escalation",
        "report_request",
        "report_reminder",
        "report_followup",
        "digest",
        "needs_date",
        "closing",
    }
)

# Which audiences make sense for which kind of rule: task rules have a task, report rules a period.
_TASK_KINDS = frozenset(NotificationKind(kind) for kind in TASK_KINDS)  # listed once, in the vocabulary
_REPORT_KINDS = frozenset(NotificationKind(kind) for kind in REPORT_KINDS)
_TASK_AUDIENCES = {Who.LEAD, Who.COORDINATING, Who.UNIT_HEAD, Who.SUPERVISOR}


@dataclass(frozen=True)
class Audience:
    who: Who
    role: Role = Role.TO


@dataclass(frozen=True)
class EscalationLevel:
    after: int  # working days after the due date
    audience: tuple[Audience, ...]


@dataclass(frozen=True)
class Selector:
    """Which tasks a rule applies to; an empty list means "any"."""

    sections: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    lead_units: tuple[str, ...] = ()
    deadline_kinds: tuple[DeadlineKind, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    kind: NotificationKind
    template: str
    enabled: bool = True
    applies_to: Selector = Selector()
    audience: tuple[Audience, ...] = ()
    channels: tuple[Channel, ...] = (Channel.EMAIL,)
    send_time: time | None = None  # None: the calendar's send time
    # False: each message of this rule goes on its own, not bundled with the addressee's others (urgent ones)
    bundle: bool = True
    # kickoff
    min_window_days: int = 15
    # reminder: working days before the due date
    offsets: tuple[int, ...] = ()
    # escalation
    levels: tuple[EscalationLevel, ...] = ()
    repeat_every: int = 0  # working days between repeats of the top level; 0: no repeat
    # report rules: working days before (request, reminder) or after (follow-up) the period's cut-off
    days: int = 0
    # digest
    weekday: str = "monday"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The mapping :func:`parse_rule` reads back: the format of config/rules.yaml."""
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "kind": str(self.kind),
            "enabled": self.enabled,
        }
        selector = {
            name: [str(v) for v in getattr(self.applies_to, name)]
            for name in ("sections", "tasks", "lead_units", "deadline_kinds")
            if getattr(self.applies_to, name)
        }
        if selector:
            data["applies_to"] = selector
        if self.audience:
            data["audience"] = [_audience_dict(a) for a in self.audience]
        data["channels"] = [str(c) for c in self.channels]
        data["template"] = self.template
        if self.send_time is not None:
            data["send_time"] = self.send_time.strftime("%H:%M")
        if not self.bundle:
            data["bundle"] = False
        if self.kind == NotificationKind.KICKOFF:
            data["min_window_days"] = self.min_window_days
        if self.kind == NotificationKind.REMINDER:
            data["offsets"] = list(self.offsets)
        if self.kind == NotificationKind.ESCALATION:
            data["levels"] = [
                {"after": lvl.after, "audience": [_audience_dict(a) for a in lvl.audience]}
                for lvl in self.levels
            ]
            data["repeat_every"] = self.repeat_every
        if self.kind in _REPORT_KINDS:
            data["days"] = self.days
        if self.kind == NotificationKind.DIGEST:
            data["weekday"] = self.weekday
        return data


def _audience_dict(audience: Audience) -> dict[str, str]:
    return {"who": str(audience.who), "role": str(audience.role)}


@dataclass(frozen=True)
class RuleProblem:
    rule: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"Quy tắc '{self.rule}', trường '{self.field}': {self.message}"


class RulesError(UserError):
    """One or more rules are invalid; nothing was changed."""

    def __init__(self, problems: list[RuleProblem], source: str | None = None) -> None:
        self.problems = problems
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + "; ".join(str(p) for p in problems))


_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# Fields that only some kinds of rule read.
_KIND_KEYS: dict[str, set[NotificationKind]] = {
    "min_window_days": {NotificationKind.KICKOFF},
    "offsets": {NotificationKind.REMINDER},
    "levels": {NotificationKind.ESCALATION},
    "repeat_every": {NotificationKind.ESCALATION},
    "days": set(_REPORT_KINDS),
    "weekday": {NotificationKind.DIGEST},
}

_KNOWN_KEYS = {
    "id",
    "title",
    "kind",
    "enabled",
    "applies_to",
    "audience",
    "channels",
    "template",
    "send_time",
    "bundle",
    "min_window_days",
    "offsets",
    "levels",
    "repeat_every",
    "days",
    "weekday",
}


class _Reader:
    """Reads one rule mapping, collecting problems instead of stopping at the first."""

    def __init__(self, data: dict[str, Any], rule_id: str, unit_codes: frozenset[str] | None) -> None:
        self.data = data
        self.rule_id = rule_id
        self.unit_codes = unit_codes
        self.problems: list[RuleProblem] = []

    def fail(self, field_name: str, message: str) -> None:
        self.problems.append(RuleProblem(self.rule_id, field_name, message))

    def enum(self, enum: type[StrEnum], value: Any, field_name: str) -> Any:
        try:
            return enum(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            self.fail(field_name, f"giá trị '{value}' không hợp lệ (chỉ nhận: {allowed}).")
            return None

    def integer(self, field_name: str, default: int, *, minimum: int = 0) -> int:
        value = self.data.get(field_name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field_name, f"phải là một số nguyên, không phải '{value}'.")
            return default
        if value < minimum:
            self.fail(field_name, f"không được nhỏ hơn {minimum} (đang là {value}).")
        return value

    def string_list(self, value: Any, field_name: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            self.fail(field_name, "phải là một danh sách.")
            return ()
        return tuple(str(v).strip() for v in value)

    def audience(self, value: Any, field_name: str) -> tuple[Audience, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(field_name, "phải là danh sách người nhận, ví dụ [{who: lead, role: to}].")
            return ()
        result = []
        for index, item in enumerate(value):
            where = f"{field_name}[{index}]"
            if isinstance(item, str):
                item = {"who": item}
            if not isinstance(item, dict) or "who" not in item:
                self.fail(
                    where,
                    "thiếu 'who' (lead, coordinating, office, unit_head, supervisor, director, deputies).",
                )
                continue
            who = self.enum(Who, item["who"], f"{where}.who")
            role = self.enum(Role, item.get("role", "to"), f"{where}.role")
            if who is not None and role is not None:
                result.append(Audience(who, role))
        return tuple(result)


def parse_rule(
    data: Any, *, unit_codes: frozenset[str] | None = None, index: int = 0
) -> tuple[Rule | None, list[RuleProblem]]:
    """Read and check one rule mapping. ``unit_codes``, when given, checks ``applies_to.lead_units``."""
    if not isinstance(data, dict):
        return None, [RuleProblem(f"#{index + 1}", "", "mỗi quy tắc phải là một bảng khoá: giá trị.")]
    rule_id = str(data.get("id", "")).strip()
    reader = _Reader(data, rule_id or f"#{index + 1}", unit_codes)
    if not _ID.match(rule_id):
        reader.fail("id", "phải có, gồm chữ thường không dấu, số, '-' hoặc '_' (ví dụ 'nhac-truoc-han').")
    for key in sorted(set(data) - _KNOWN_KEYS):
        reader.fail(key, "trường này không tồn tại.")
    title = str(data.get("title", "")).strip()
    if not title:
        reader.fail("title", "cần một tên dễ hiểu bằng tiếng Việt.")
    kind = reader.enum(NotificationKind, data.get("kind", ""), "kind")
    if kind is not None:
        for key in sorted(set(data) & _KIND_KEYS.keys()):
            if kind not in _KIND_KEYS[key]:
                reader.fail(key, f"trường này không dùng cho quy tắc loại '{kind}'.")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        reader.fail("enabled", "chỉ nhận true hoặc false.")
        enabled = True
    bundle = data.get("bundle", True)
    if not isinstance(bundle, bool):
        reader.fail("bundle", "chỉ nhận true (gộp vào tin tổng hợp) hoặc false (gửi riêng từng tin).")
        bundle = True

    selector_data = data.get("applies_to") or {}
    if not isinstance(selector_data, dict):
        reader.fail("applies_to", "phải là bảng với sections, tasks, lead_units, deadline_kinds.")
        selector_data = {}
    for key in sorted(set(selector_data) - {"sections", "tasks", "lead_units", "deadline_kinds"}):
        reader.fail(f"applies_to.{key}", "trường này không tồn tại.")
    lead_units = tuple(
        u.upper() for u in reader.string_list(selector_data.get("lead_units"), "applies_to.lead_units")
    )
    if unit_codes is not None:
        for unit in lead_units:
            if unit not in unit_codes:
                reader.fail("applies_to.lead_units", f"không có đơn vị mã '{unit}' trong danh bạ.")
    kinds = tuple(
        k
        for k in (
            reader.enum(DeadlineKind, v, "applies_to.deadline_kinds")
            for v in reader.string_list(selector_data.get("deadline_kinds"), "applies_to.deadline_kinds")
        )
        if k is not None
    )
    selector = Selector(
        sections=tuple(
            s.upper() for s in reader.string_list(selector_data.get("sections"), "applies_to.sections")
        ),
        tasks=tuple(t.upper() for t in reader.string_list(selector_data.get("tasks"), "applies_to.tasks")),
        lead_units=lead_units,
        deadline_kinds=kinds,
    )

    audience = reader.audience(data.get("audience"), "audience")
    channels = tuple(
        c
        for c in (
            reader.enum(Channel, v, "channels")
            for v in reader.string_list(data.get("channels", ["email"]), "channels")
        )
        if c is not None
    )
    if not data.get("channels", ["email"]):
        reader.fail("channels", "cần ít nhất một kênh gửi (email, telegram, zalo).")
    template = str(data.get("template", kind.value if kind else "")).strip()
    if template not in KNOWN_TEMPLATES:
        reader.fail("template", f"không có mẫu tin '{template}' (có: {', '.join(sorted(KNOWN_TEMPLATES))}).")

    send_time = None
    if data.get("send_time") is not None:
        match = _TIME.match(str(data["send_time"]).strip())
        if match:
            send_time = time(int(match.group(1)), int(match.group(2)))
        else:
            reader.fail(
                "send_time", f"giờ gửi '{data['send_time']}' không hợp lệ: viết dạng GIỜ:PHÚT, ví dụ 07:30."
            )

    rule = Rule(
        id=rule_id,
        title=title,
        kind=kind or NotificationKind.REMINDER,
        template=template,
        enabled=enabled,
        applies_to=selector,
        audience=audience,
        channels=channels,
        send_time=send_time,
        bundle=bundle,
    )
    if kind is not None:
        rule = _kind_specific(reader, rule)
    return (rule if not reader.problems else None), reader.problems


def _kind_specific(reader: _Reader, rule: Rule) -> Rule:
    data = reader.data
    kind = rule.kind
    if kind == NotificationKind.ESCALATION:
        levels = _levels(reader, data.get("levels"))
        repeat_every = reader.integer("repeat_every", 0)
        if not levels:
            reader.fail("levels", "cần ít nhất một bậc, ví dụ [{after: 1, audience: [{who: unit_head}]}].")
        if data.get("audience"):
            reader.fail("audience", "quy tắc quá hạn gửi theo từng bậc: đặt người nhận trong 'levels'.")
        for index, level in enumerate(levels):
            if any(a.who == Who.REPORTING_UNITS for a in level.audience):
                reader.fail(
                    f"levels[{index}].audience", "'reporting_units' chỉ dùng cho quy tắc báo cáo định kỳ."
                )
        return replace(rule, levels=levels, repeat_every=repeat_every)
    if not data.get("audience"):
        reader.fail("audience", "cần ít nhất một người nhận.")
    if kind in _REPORT_KINDS or kind in (
        NotificationKind.DIGEST,
        NotificationKind.NEEDS_DATE,
        NotificationKind.CLOSING,
    ):
        misplaced = [a.who for a in rule.audience if a.who in _TASK_AUDIENCES]
        if misplaced:
            reader.fail(
                "audience", f"'{misplaced[0]}' chỉ dùng cho quy tắc theo nhiệm vụ, không dùng cho '{kind}'."
            )
    if kind in _TASK_KINDS and any(a.who == Who.REPORTING_UNITS for a in rule.audience):
        reader.fail("audience", "'reporting_units' chỉ dùng cho quy tắc báo cáo định kỳ.")
    if kind == NotificationKind.KICKOFF:
        return replace(rule, min_window_days=reader.integer("min_window_days", 15, minimum=1))
    if kind == NotificationKind.REMINDER:
        raw = data.get("offsets")
        offsets: list[int] = []
        if not isinstance(raw, list) or not raw:
            reader.fail("offsets", "cần danh sách số ngày làm việc trước hạn, ví dụ [14, 7, 3, 1].")
        else:
            for value in raw:
                if isinstance(value, bool) or not isinstance(value, int):
                    reader.fail("offsets", f"'{value}' không phải số nguyên.")
                elif value < 0:
                    reader.fail("offsets", f"số ngày trước hạn không được âm ({value}).")
                else:
                    offsets.append(value)
        return replace(rule, offsets=tuple(sorted(set(offsets), reverse=True)))
    if kind in _REPORT_KINDS:
        return replace(rule, days=reader.integer("days", 1 if kind != NotificationKind.REPORT_REQUEST else 5))
    if kind == NotificationKind.DIGEST:
        weekday = str(data.get("weekday", "monday")).strip().lower()
        if weekday not in WEEKDAYS:
            reader.fail("weekday", f"'{weekday}' không phải thứ trong tuần ({', '.join(WEEKDAYS)}).")
        return replace(rule, weekday=weekday)
    return rule


def _levels(reader: _Reader, value: Any) -> tuple[EscalationLevel, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.fail("levels", "phải là một danh sách bậc.")
        return ()
    levels = []
    previous = 0
    for index, item in enumerate(value):
        where = f"levels[{index}]"
        if not isinstance(item, dict):
            reader.fail(where, "mỗi bậc cần 'after' và 'audience'.")
            continue
        after = item.get("after")
        if isinstance(after, bool) or not isinstance(after, int) or after < 1:
            reader.fail(
                f"{where}.after", f"số ngày làm việc sau hạn phải là số nguyên dương, không phải '{after}'."
            )
            continue
        if after <= previous:
            reader.fail(f"{where}.after", "các bậc phải theo thứ tự ngày tăng dần.")
        previous = after
        audience = reader.audience(item.get("audience"), f"{where}.audience")
        if not item.get("audience"):
            reader.fail(f"{where}.audience", "cần ít nhất một người nhận.")
        levels.append(EscalationLevel(after, audience))
    return tuple(levels)


def parse_rules(
    items: Any, *, unit_codes: frozenset[str] | None = None, source: str | None = None
) -> list[Rule]:
    """Read a whole rule set; raise :class:`RulesError` listing every problem (the set is used whole or not at all)."""
    if isinstance(items, dict) and "rules" in items:
        items = items["rules"]
    if not isinstance(items, list):
        raise RulesError([RuleProblem("*", "rules", "tệp quy tắc phải có danh sách 'rules'.")], source)
    rules: list[Rule] = []
    problems: list[RuleProblem] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        rule, found = parse_rule(item, unit_codes=unit_codes, index=index)
        problems += found
        rule_id = str(item.get("id", "")).strip() if isinstance(item, dict) else ""
        if rule_id and rule_id in seen:
            problems.append(RuleProblem(rule_id, "id", "trùng với một quy tắc khác."))
        seen.add(rule_id)
        if rule is not None:
            rules.append(rule)
    if problems:
        raise RulesError(problems, source)
    return rules
