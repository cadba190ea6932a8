"""Comparing two timelines: what a candidate rule set adds and removes (the preview before saving)."""

from __future__ import annotations

from collections.abc import Sequence

from planner.model import Notification


def _signature(notification: Notification) -> tuple[object, ...]:
    return (notification.key, notification.at, notification.recipients)


def diff_notifications(
    current: Sequence[Notification], candidate: Sequence[Notification]
) -> tuple[list[Notification], list[Notification]]:
    """(added, removed): a notification whose key, time or recipients changed counts as removed and added."""
    before = {_signature(n) for n in current}
    after = {_signature(n) for n in candidate}
    added = [n for n in candidate if _signature(n) not in before]
    removed = [n for n in current if _signature(n) not in after]
    return added, removed
