"""Rules: the list, one rule's form, a preview of what a change adds and removes, then the confirmed save.

The form is turned into the mapping :func:`rules.model.parse_rule` reads (the
stored rule's mapping with the form's fields laid over it), so the web checks a
rule exactly like the CLI and the YAML import. Each problem is shown beside the
field it names; nothing is saved until the preview has been confirmed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from delivery.preview import chain_text, escalation_chain
from plan.dates import parse_date
from plan.deadline import DeadlineKind
from plan.errors import UserError
from planner.describe import rule_timing
from planner.diff import diff_notifications
from rules.channels import CHANNELS
from rules.model import NotificationKind, Rule, RuleProblem, parse_rule
from store.calendar import working_calendar
from store.db import session_scope
from store.models import UserRole
from store.rules import get_rule, load_rules, save_rule, unit_codes
from vocabulary import DEADLINE_KINDS, WEEKDAY_LABELS, label
from web.deps import PageNotFound, SignedIn, Text, context, csrf_protect, error_text, render
from web.permissions import Action, Principal, require
from web.routes.upcoming import clamp_days, notification_row, plan_window

router = APIRouter()

VIA = "web"
PREVIEW_DAYS = 30
# Form fields that are comma-separated lists in the form and lists in the rule's mapping.
SELECTOR_FIELDS = ("sections", "tasks", "lead_units")
# Which kind-specific fields the form shows for each kind of rule.
KIND_FIELDS = {
    "kickoff": ("min_window_days",),
    "reminder": ("offsets",),
    "escalation": ("levels", "repeat_every"),
    "report_request": ("days",),
    "report_reminder": ("days",),
    "report_followup": ("days",),
    "digest": ("weekday",),
}


def summary(rule: Rule) -> str:
    """When a rule sends, in a few words (as ``nhacviec rules list`` says it)."""
    return rule_timing(rule)


# --- form <-> rule mapping -------------------------------------------------------------------------


def form_values(rule: Rule) -> dict[str, Any]:
    """The form's fields for a stored rule."""
    return {
        "title": rule.title,
        "enabled": rule.enabled,
        "bundle": "1" if rule.bundle else "0",
        "channels": [str(c) for c in rule.channels],
        "send_time": rule.send_time.strftime("%H:%M") if rule.send_time else "",
        "offsets": ", ".join(str(o) for o in rule.offsets),
        "levels": ", ".join(str(level.after) for level in rule.levels),
        "repeat_every": str(rule.repeat_every),
        "days": str(rule.days),
        "weekday": rule.weekday,
        "min_window_days": str(rule.min_window_days),
        "sections": ", ".join(rule.applies_to.sections),
        "tasks": ", ".join(rule.applies_to.tasks),
        "lead_units": ", ".join(rule.applies_to.lead_units),
        "deadline_kinds": [str(k) for k in rule.applies_to.deadline_kinds],
    }


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _number(text: str) -> Any:
    """An integer when the text is one, else the text itself (parse_rule then says what is wrong)."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def candidate_mapping(rule: Rule, values: dict[str, Any]) -> dict[str, Any]:
    """The stored rule's mapping with the form's fields laid over it."""
    data = rule.to_dict()
    data["title"] = values["title"]
    data["enabled"] = bool(values["enabled"])
    data.pop("bundle", None)
    if values.get("bundle", "") == "0" or (values.get("bundle", "") == "" and not rule.bundle):
        data["bundle"] = False  # unset or "1": bundled, the default
    data["channels"] = list(values["channels"])
    data.pop("send_time", None)
    if values["send_time"].strip():
        data["send_time"] = values["send_time"].strip()
    selector: dict[str, list[str]] = {name: _items(values[name]) for name in SELECTOR_FIELDS}
    selector["deadline_kinds"] = list(values["deadline_kinds"])
    data.pop("applies_to", None)
    if any(selector.values()):
        data["applies_to"] = {name: items for name, items in selector.items() if items}
    fields = KIND_FIELDS.get(str(rule.kind), ())
    if "offsets" in fields:
        data["offsets"] = [_number(item) for item in _items(values["offsets"])]
    if "levels" in fields:
        data["levels"] = _levels(data.get("levels", []), values["levels"])
        data["repeat_every"] = _number(values["repeat_every"])
    if "days" in fields:
        data["days"] = _number(values["days"])
    if "min_window_days" in fields:
        data["min_window_days"] = _number(values["min_window_days"])
    if "weekday" in fields:
        data["weekday"] = values["weekday"]
    return data


def _levels(current: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """New 'after' days for the levels; each keeps its audience (a level added copies the last one's)."""
    levels = []
    for index, item in enumerate(_items(text)):
        source = current[min(index, len(current) - 1)] if current else {"audience": []}
        levels.append({"after": _number(item), "audience": source["audience"]})
    return levels


def field_of(problem: RuleProblem) -> str:
    """The form field a problem is about ("levels[1].after" -> "levels", "applies_to.tasks" -> "tasks")."""
    name = problem.field.split("[")[0].split(".")[0]
    if name == "applies_to" and "." in problem.field:
        return problem.field.split(".")[1]
    return name


def problems_by_field(problems: list[RuleProblem], shown: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Messages per form field; problems about fields the form does not show are returned apart."""
    errors: dict[str, list[str]] = {}
    other: list[str] = []
    for problem in problems:
        name = field_of(problem)
        if name in shown:
            errors.setdefault(name, []).append(problem.message)
        else:
            other.append(str(problem))
    return errors, other


def shown_fields(rule: Rule) -> set[str]:
    common = {"title", "enabled", "bundle", "channels", "send_time", *SELECTOR_FIELDS, "deadline_kinds"}
    return common | set(KIND_FIELDS.get(str(rule.kind), ()))


# --- pages -----------------------------------------------------------------------------------------


def _stored(request: Request, rule_id: str) -> Rule:
    with session_scope(context(request).engine) as db:
        try:
            return get_rule(db, rule_id)
        except UserError as error:
            raise PageNotFound(error_text(error)) from None


@router.get("/rules")
def rule_list(request: Request, user: SignedIn) -> Response:
    require(user, Action.VIEW_RULES)
    with session_scope(context(request).engine) as db:
        rules = load_rules(db)
    rows = [{"rule": rule, "summary": summary(rule)} for rule in rules]
    return render(request, "rules.html", rows=rows, can_edit=user.role == UserRole.ADMIN)


def _edit_page(
    request: Request,
    user: Principal,
    rule: Rule,
    values: dict[str, Any],
    *,
    status_code: int = 200,
    errors: dict[str, list[str]] | None = None,
    other_errors: list[str] | None = None,
    preview: dict[str, Any] | None = None,
    flash: str | None = None,
    chain_unit: str = "",
) -> Response:
    return render(
        request,
        "rules_edit.html",
        status_code,
        chain=_chain(request, rule, chain_unit) if rule.kind == NotificationKind.ESCALATION else None,
        rule=rule,
        summary=summary(rule),
        values=values,
        errors=errors or {},
        other_errors=other_errors or [],
        preview=preview,
        flash=flash,
        can_edit=user.role == UserRole.ADMIN,
        kind_fields=KIND_FIELDS.get(str(rule.kind), ()),
        channels=list(CHANNELS),
        deadline_kinds=[(str(k), label(DEADLINE_KINDS, k)) for k in DeadlineKind],
        weekdays=WEEKDAY_LABELS,
    )


def _chain(request: Request, rule: Rule, unit_code: str) -> dict[str, Any]:
    """The escalation ladder drawn for a task one unit leads: each rung with the names it reaches."""
    ctx = context(request)
    settings = ctx.settings
    directory = ctx.directory()
    units = [(u.code, u.name) for u in directory.units if u.head is not None] or [
        (u.code, u.name) for u in directory.units
    ]
    if unit_code not in {code for code, _ in units}:
        unit_code = units[0][0]
    with session_scope(ctx.engine) as db:
        calendar = working_calendar(db, settings.calendar_file, settings.send_time, settings.timezone)
    rungs = escalation_chain(rule, directory, calendar, unit_code)
    return {"unit": unit_code, "units": units, "rungs": rungs, "text": chain_text(rungs, rule.repeat_every)}


@router.get("/rules/{rule_id}")
def rule_page(request: Request, user: SignedIn, rule_id: str, ok: str = "", unit: str = "") -> Response:
    require(user, Action.VIEW_RULES)
    rule = _stored(request, rule_id)
    values = form_values(rule) | {
        "start": f"{context(request).today():%d/%m/%Y}",
        "preview_days": str(PREVIEW_DAYS),
    }
    flash = "Đã lưu quy tắc." if ok == "saved" else None
    return _edit_page(request, user, rule, values, flash=flash, chain_unit=unit.strip().upper())


Many = Annotated[list[str], Form()]


def _submitted(
    title: str,
    enabled: str,
    bundle: str,
    channels: list[str],
    send_time: str,
    offsets: str,
    levels: str,
    repeat_every: str,
    days: str,
    weekday: str,
    min_window_days: str,
    sections: str,
    tasks: str,
    lead_units: str,
    deadline_kinds: list[str],
    start: str,
    preview_days: str,
) -> dict[str, Any]:
    return {
        "title": title,
        "enabled": enabled == "1",
        "bundle": bundle if bundle in ("0", "1") else "",
        "channels": channels,
        "send_time": send_time,
        "offsets": offsets,
        "levels": levels,
        "repeat_every": repeat_every,
        "days": days,
        "weekday": weekday,
        "min_window_days": min_window_days,
        "sections": sections,
        "tasks": tasks,
        "lead_units": lead_units,
        "deadline_kinds": deadline_kinds,
        "start": start,
        "preview_days": preview_days,
    }


def rule_form(
    title: Text = "",
    enabled: Text = "",
    bundle: Text = "",
    channels: Many = [],  # noqa: B006 - FastAPI copies form defaults
    send_time: Text = "",
    offsets: Text = "",
    levels: Text = "",
    repeat_every: Text = "0",
    days: Text = "0",
    weekday: Text = "monday",
    min_window_days: Text = "15",
    sections: Text = "",
    tasks: Text = "",
    lead_units: Text = "",
    deadline_kinds: Many = [],  # noqa: B006
    start: Text = "",
    preview_days: Text = "",
) -> dict[str, Any]:
    """FastAPI dependency: the rule form's fields as one mapping (what the page shows again)."""
    return _submitted(
        title,
        enabled,
        bundle,
        channels,
        send_time,
        offsets,
        levels,
        repeat_every,
        days,
        weekday,
        min_window_days,
        sections,
        tasks,
        lead_units,
        deadline_kinds,
        start,
        preview_days,
    )


RuleForm = Annotated[dict[str, Any], Depends(rule_form)]


def _validate(request: Request, rule: Rule, values: dict[str, Any]) -> tuple[Rule | None, list[RuleProblem]]:
    with session_scope(context(request).engine) as db:
        codes = unit_codes(db)
    return parse_rule(candidate_mapping(rule, values), unit_codes=codes)


def _window(request: Request, values: dict[str, Any]) -> tuple[date, int, dict[str, list[str]]]:
    """The preview's first day and length, or the problems with them."""
    errors: dict[str, list[str]] = {}
    start = context(request).today()
    if values["start"].strip():
        try:
            start = parse_date(values["start"].strip(), "ngày bắt đầu xem trước")
        except UserError as error:
            errors["start"] = [error_text(error)]
    days = PREVIEW_DAYS
    if values["preview_days"].strip():
        number = _number(values["preview_days"])
        if isinstance(number, int) and number >= 1:
            days = clamp_days(number)
        else:
            errors["preview_days"] = [f"Số ngày xem trước phải là số nguyên dương, không phải '{number}'."]
    return start, days, errors


@router.post("/rules/{rule_id}/preview", dependencies=[Depends(csrf_protect)])
def preview_form(request: Request, user: SignedIn, rule_id: str, values: RuleForm) -> Response:
    require(user, Action.EDIT_RULES)
    stored = _stored(request, rule_id)
    candidate, problems = _validate(request, stored, values)
    errors, other = problems_by_field(problems, shown_fields(stored))
    start, days, window_errors = _window(request, values)
    errors |= window_errors
    if candidate is None or errors or other:
        return _edit_page(request, user, stored, values, status_code=400, errors=errors, other_errors=other)
    ctx = context(request)
    end = start + timedelta(days=days - 1)
    with session_scope(ctx.engine) as db:
        current = load_rules(db)
    proposed = [candidate if rule.id == candidate.id else rule for rule in current]
    added, removed = diff_notifications(
        plan_window(ctx, start, end, current), plan_window(ctx, start, end, proposed)
    )
    preview = {
        "start": start,
        "end": end,
        "days": days,
        "changed": candidate.to_dict() != stored.to_dict(),
        "added": [(n.at.date(), notification_row(n)) for n in added],
        "removed": [(n.at.date(), notification_row(n)) for n in removed],
    }
    return _edit_page(request, user, stored, values, preview=preview)


@router.post("/rules/{rule_id}/save", dependencies=[Depends(csrf_protect)])
def save_form(request: Request, user: SignedIn, rule_id: str, values: RuleForm) -> Response:
    require(user, Action.EDIT_RULES)
    stored = _stored(request, rule_id)
    candidate, problems = _validate(request, stored, values)
    if candidate is None:
        errors, other = problems_by_field(problems, shown_fields(stored))
        return _edit_page(request, user, stored, values, status_code=400, errors=errors, other_errors=other)
    with session_scope(context(request).engine) as db:
        save_rule(db, candidate, actor=user.name, via=VIA)
    return RedirectResponse(f"/rules/{rule_id}?ok=saved", status_code=303)
