"""Planned notifications and rules in a few plain words, as the CLI (``simulate``, ``rules``) and the web admin
(upcoming, the rules' pages) show them: pure functions, one wording for both."""

from __future__ import annotations

from planner.model import Notification
from rules.model import Rule
from vocabulary import WEEKDAY_LABELS


def concerns_unit(notification: Notification, unit: str) -> bool:
    """Whether ``unit`` leads the notification's task or receives it (itself or its head, ``UNIT.head``)."""
    task = notification.data.get("task")
    if task is not None and unit in task.lead:
        return True
    return any(r.code == unit or r.code.startswith(unit + ".") for r in notification.recipients)


def recipients_text(notification: Notification) -> str:
    """ "VP (email, telegram); cc: PCMNV (email)" — one entry per recipient, channels grouped."""
    groups: dict[tuple[str, str], list[str]] = {}
    for recipient in notification.recipients:
        groups.setdefault((recipient.role, recipient.code), []).append(recipient.channel)
    to = [f"{code} ({', '.join(ch)})" for (role, code), ch in groups.items() if role == "to"]
    cc = [f"{code} ({', '.join(ch)})" for (role, code), ch in groups.items() if role == "cc"]
    return "; ".join(to) + (f"; cc: {'; '.join(cc)}" if cc else "")


def subject_text(notification: Notification) -> str:
    """The task's code, or the report period's."""
    if notification.task:
        return notification.task
    return notification.period or ""


def rule_timing(rule: Rule) -> str:
    """When a rule sends, in a few words ("trước hạn 14, 7, 3, 1 ngày làm việc")."""
    if rule.offsets:
        return "trước hạn " + ", ".join(str(o) for o in rule.offsets) + " ngày làm việc"
    if rule.levels:
        steps = ", ".join(f"+{lvl.after}" for lvl in rule.levels)
        repeat = f", lặp lại mỗi {rule.repeat_every} ngày" if rule.repeat_every else ""
        return f"sau hạn {steps} ngày làm việc{repeat}"
    if rule.kind == "digest":
        return f"hằng tuần ({WEEKDAY_LABELS.get(str(rule.weekday), str(rule.weekday)).lower()})"
    if rule.kind in ("report_request", "report_reminder"):
        return f"{rule.days} ngày làm việc trước ngày chốt số liệu"
    if rule.kind == "report_followup":
        return f"{rule.days} ngày làm việc sau ngày chốt số liệu"
    if rule.kind == "kickoff":
        return f"ngày làm việc đầu tiên, kỳ từ {rule.min_window_days} ngày"
    return "ngày làm việc đầu tiên mỗi tháng"
