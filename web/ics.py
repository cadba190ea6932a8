"""Calendar feeds (iCalendar, RFC 5545) of the plan's due dates, written by hand (pure).

Each task's due date is an all-day event (``DTSTART;VALUE=DATE``, ``DTEND`` the day
after); a recurring task gives one event per occurrence (stored recurring work comes
one input per occurrence, each its own event: done, extended and named on its own). UIDs depend only on the
plan, the task and (for occurrences) the day, so a calendar that subscribes sees
an extension as the same event moving, not a new one. Text is escaped (backslash,
``;``, ``,``, newlines) and lines are folded at 75 octets without splitting a
UTF-8 character, with CRLF line ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from config import DEFAULT_TIMEZONE
from planner.model import TaskInput

PRODID = "-//nhacviec//Nhac viec ke hoach cong tac//VI"
UID_DOMAIN = "nhacviec"
MAX_OCTETS = 75
SUMMARY_CHARS = 120


@dataclass(frozen=True)
class Event:
    uid: str
    day: date
    summary: str
    description: str
    url: str | None = None
    categories: tuple[str, ...] = ()
    sequence: int = 0  # how many times the task changed: a calendar replaces its copy when this grows
    last_modified: datetime | None = None
    alarm: datetime | None = None  # when the calendar should remind (VALARM), None: no reminder


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): ``\\``, ``;`` and ``,`` escaped, line breaks as ``\\n``."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(ch for ch in value if ch in "\n\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """A content line cut into pieces of at most 75 octets, each continuation starting with a space."""
    data = line.encode("utf-8")
    if len(data) <= MAX_OCTETS:
        return line
    pieces: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1  # the leading space takes one octet
        current += ch
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(name: str, events: Iterable[Event], stamp: datetime, timezone: str = DEFAULT_TIMEZONE) -> str:
    """The whole ``VCALENDAR`` text, lines folded and ended with CRLF; ``timezone``: the settings'."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"NAME:{escape_text(name)}",
        f"X-WR-TIMEZONE:{timezone}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{_stamp(stamp)}",
            f"DTSTART;VALUE=DATE:{_day(event.day)}",
            f"DTEND;VALUE=DATE:{_day(event.day + timedelta(days=1))}",
            f"SUMMARY:{escape_text(event.summary)}",
            f"DESCRIPTION:{escape_text(event.description)}",
        ]
        lines.append(f"SEQUENCE:{event.sequence}")
        if event.last_modified is not None:
            lines.append(f"LAST-MODIFIED:{_stamp(event.last_modified)}")
        if event.categories:
            lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in event.categories))
        if event.url:
            lines.append(f"URL:{event.url}")
        lines.append("TRANSP:TRANSPARENT")
        if event.alarm is not None:
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"DESCRIPTION:{escape_text(event.summary)}",
                f"TRIGGER;VALUE=DATE-TIME:{_stamp(event.alarm)}",
                "END:VALARM",
            ]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _uid_part(value: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-._") else "_" for ch in value)


def _shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def task_events(
    task: TaskInput,
    unit_names: Mapping[str, str],
    task_url: str | None = None,
    *,
    coordinating: bool = False,
    modified: datetime | None = None,
    alarm: Callable[[date], datetime | None] | None = None,
) -> list[Event]:
    """The events of one task: its latest due date (an extension moves it), or each occurrence of a recurring one.

    ``coordinating``: the feed's unit coordinates the task (marked "phối hợp"); ``modified``: when the task last
    changed (LAST-MODIFIED); ``alarm``: the moment to remind of a due day (VALARM), or None. SEQUENCE counts the
    task's changes (extensions, dates set, done, reopened), so it grows whenever the event's date or state moves.
    """
    latest_due = task.due_versions()[-1][1]
    recurring = len(task.occurrences) > 1
    moved = not recurring and len(task.due_versions()) > 1
    label = task.code
    done_on = task.done_on(date.max)
    base_uid = f"{_uid_part(task.plan)}-{_uid_part(task.code)}"
    if task.period is not None and task.due is not None:  # one occurrence: its own event, done on its own
        days = [(latest_due or task.due, f"{base_uid}-{_day(task.due)}@{UID_DOMAIN}")]  # UID: the planned day
    elif recurring:  # every occurrence stays in force, as the planner reminds of each (planner/planner.py)
        days = [(day, f"{base_uid}-{_day(day)}@{UID_DOMAIN}") for day in task.occurrences]
    elif latest_due is not None:
        days = [(latest_due, f"{base_uid}@{UID_DOMAIN}")]
    else:
        return []
    names = [unit_names.get(code, code) for code in task.lead]
    prefix = "Đã hoàn thành — " if done_on is not None else ""
    role = "(phối hợp) " if coordinating else ""
    if task.period is not None:
        label = f"{task.code} kỳ {task.period}"
    summary = f"{prefix}[{label}] {role}{_shorten(task.content)}"
    lines = [
        f"Nhiệm vụ {label} (kế hoạch {task.plan}): {task.content}",
        f"Thời hạn theo kế hoạch: {task.deadline_text}",
        f"Chủ trì: {', '.join(names) or '—'}",
    ]
    if task.coordinating:
        lines.append(f"Phối hợp: {', '.join(unit_names.get(code, code) for code in task.coordinating)}")
    if task.products:
        lines.append(f"Sản phẩm: {'; '.join(task.products)}")
    if moved and latest_due is not None:
        lines.append(f"Hạn hiện hành: {latest_due:%d/%m/%Y} (đã điều chỉnh so với kế hoạch)")
    if done_on is not None:
        lines.append(f"Đã hoàn thành ngày {done_on:%d/%m/%Y}.")
    if coordinating:
        lines.insert(1, "Đơn vị phối hợp thực hiện (không chủ trì).")
    if task_url:
        lines.append(task_url)
    description = "\n".join(lines)
    categories = (*names, "Phối hợp") if coordinating else tuple(names)
    sequence = len(task.changes)
    return [
        Event(
            uid,
            day,
            summary,
            description,
            task_url,
            categories,
            sequence=sequence,
            last_modified=modified,
            alarm=alarm(day) if alarm is not None and done_on is None else None,
        )
        for day, uid in days
    ]


def plan_calendar(
    name: str,
    tasks: Sequence[TaskInput],
    unit_names: Mapping[str, str],
    stamp: datetime,
    task_url: Mapping[str, str] | None = None,
    *,
    unit: str | None = None,
    modified: Mapping[str, datetime] | None = None,
    alarm: Callable[[date], datetime | None] | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> str:
    """The feed of ``tasks`` (a unit's: those it leads, then marks the ones it only coordinates)."""
    events = [
        event
        for task in tasks
        for event in task_events(
            task,
            unit_names,
            (task_url or {}).get(f"{task.plan}/{task.code}"),
            coordinating=unit is not None and unit not in task.lead,
            modified=(modified or {}).get(f"{task.plan}/{task.code}"),
            alarm=alarm,
        )
    ]
    return calendar(name, events, stamp, timezone)
