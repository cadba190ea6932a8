"""What a message template may use: plain data (strings, numbers, dates, lists, dicts), ready for Vietnamese.

:func:`message_context` turns one planner notification and one recipient into
the context every template of that kind receives; :func:`sample_context` builds
the same shape from built-in sample data (no database, no config file), so an
admin's template can be checked and previewed before anything is sent.

Keys of the context (all always present; ``None`` or empty when they do not apply):

- ``kind``, ``kind_label``, ``channel``, ``rule``, ``key``, ``plan`` (plan code), ``plan_label`` (the code
  and, when the document gives them, its number and date: "KH-2026 (số 15/KH-SGDĐT ngày 10/01/2026)"),
  ``closing`` (closing: the plan's closing date),
  ``day`` (the day the message is for), ``sent_at`` (datetime);
- ``recipient``: code, name, title, role ("to" | "cc"), kind (unit | head | leader),
  unit_name, addressee (what follows "Kính gửi: ");
- ``task``: code, plan, section, content, products (list), products_text,
  deadline_text, kind, start, due (in force: the next working day when the date written is a day off),
  due_weekday ("thứ Hai"), due_as_written, moved (the date written was a day off), plan_due, extended, lead (codes),
  lead_names, lead_text, coordinating_names, coordinating_text;
- ``due``, ``days_left``, ``working_days_left``, ``days_overdue``, ``working_days_overdue``;
- ``level``: number, label ("Trưởng đơn vị", "Phó Giám đốc phụ trách", "Giám đốc Sở"), top,
  repeat (0 the first time, then 1, 2... for the top level sent again);
- ``period`` (also ``report_period``): code, title, cutoff, data_from, covers (codes),
  covers_titles (the other periods closing that day); ``cutoff``;
- ``units`` (names), ``units_text``, ``via`` (where reports go);
- ``office``: code, name, head_name, head_title, email, phone, contact_text;
- ``tasks`` (needs_date: task dicts), ``digest`` (digest: see :func:`digest_context`);
- ``summary`` (digest, needs_date): total, done, open, on_track, due_soon, overdue, undated;
- ``written_deliveries`` (digest): [{channel, count}]: messages of the last week only written to files
  because their channel is not configured (they reached nobody);
- ``links``: done_url (None or a URL), dashboard_url (the digest's link to the web dashboard, None without
  ``NHACVIEC_BASE_URL``), ``done_command`` ("/xong IV.4");
- ``recipients``: everyone the notification goes to (name, role, part: "chủ trì" | "phối hợp" |
  "để biết" | ""), and ``recipients_text``, the email's "Nơi nhận" line ("" for the digest);
- ``embedded``: False; True when the renderer puts a message's body inside a bundle (a digest): the
  layouts then leave out the greeting, the signature and the contact lines;
- ``list_limit``: set by the renderer when it must shorten lists (see its ``cap``/``more`` filters).

A bundle (kind ``bundle``: everything for one addressee on one channel at one send time) has its own
context, from :func:`bundle_context`: ``items`` (each the context above of one item, in order of urgency,
with ``number``), ``count``, ``summary`` ({bucket: count}) and ``summary_text`` ("3 nhiệm vụ quá hạn, 2 sắp
đến hạn"), ``recipient``, ``office``, ``plan`` (the plans named, comma-separated), ``day``, ``sent_at``,
``part`` (None, or number and total when a long message goes in several parts), and the keys every
context has (``kind``, ``kind_label``, ``channel``, ``links``, ``done_command``, ``recipients_text``,
``list_limit``). The renderer adds ``sections``: each item already rendered by ``bundle_item``.

Dict keys never shadow dict methods (no "items", "keys", "values", "get"), because
``task.items`` in a template would find the method, not the data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from plan.deadline import DeadlineKind
from plan.text import fold
from plan.units import Contacts, Directory, Person, Unit
from planner.digest import Digest, DigestTask, build_digest
from planner.model import Notification, PlanInfo, Recipient, ReportingInput, StatusChange, TaskInput
from planner.periods import fixed_period
from rules.model import Channel, NotificationKind, Role
from vocabulary import (
    BUNDLE_COUNTS,
    CHANNEL_LABELS,
    KIND_TITLES,
    LEVEL_LABELS,
    RECIPIENT_PARTS,
    REPORT_KINDS,
    WEEKDAYS,
)

# -- Vietnamese formatting (also the templates' filters) --------------------------------------------------


def vn_date(value: date | datetime | None) -> str:
    """``30/11/2020``; empty for None."""
    return "" if value is None else f"{value:%d/%m/%Y}"


def vn_weekday(value: date | datetime) -> str:
    """``Thứ Hai`` ... ``Chủ nhật``."""
    return WEEKDAYS[value.weekday()]


def vn_day(value: date | datetime | None) -> str:
    """``Thứ Hai, 30/11/2020``; empty for None."""
    return "" if value is None else f"{vn_weekday(value)}, {vn_date(value)}"


def vn_month(value: date | datetime) -> str:
    """``12/2020`` (as in "tháng 12/2020")."""
    return f"{value:%m/%Y}"


def vn_datetime(value: datetime | None) -> str:
    """``07:30 Thứ Hai, 07/12/2020``; empty for None."""
    return "" if value is None else f"{value:%H:%M} {vn_day(value)}"


def shorten(text: str, width: int = 80) -> str:
    """``text`` cut at a word boundary to at most ``width`` characters, with "…" when cut."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-–") + "…"


# -- recipients and units ---------------------------------------------------------------------------------


def _title_with_unit(title: str, unit_name: str) -> str:
    """ "Trưởng phòng" + "Phòng Tổ chức cán bộ" -> "Trưởng phòng Tổ chức cán bộ" (shared words said once)."""
    title_words, unit_words = title.split(), unit_name.split()
    for overlap in range(min(len(title_words), len(unit_words)), 0, -1):
        if fold(" ".join(title_words[-overlap:])) == fold(" ".join(unit_words[:overlap])):
            return " ".join(title_words + unit_words[overlap:])
    return f"{title}, {unit_name}"


def _leader(directory: Directory, code: str | None) -> Person | None:
    if not code:
        return None
    try:
        return directory.leader(code)
    except KeyError:
        return None


def _person_recipient(
    code: str, role: str, person: Person, title: str, unit_name: str | None
) -> dict[str, Any]:
    return {
        "code": code,
        "name": person.name,
        "title": title,
        "role": role,
        "kind": "leader" if unit_name is None else "head",
        "unit_name": unit_name,
        "addressee": f"Đồng chí {person.name}, {title}",
    }


def describe_recipient(code: str, role: str, directory: Directory) -> dict[str, Any]:
    """Name, title and addressee of a recipient code: a unit, a unit's head ("TCCB.head") or a leader."""
    unit_code, _, part = code.partition(".")
    unit = directory.get(unit_code)
    if unit is not None and part == "head" and unit.head is not None:
        leader = _leader(directory, unit.head.code)
        if leader is not None:
            return _person_recipient(code, role, leader, leader.title, None)
        title = _title_with_unit(unit.head.title, unit.name)
        return _person_recipient(code, role, unit.head, title, unit.name)
    if unit is not None:
        return {
            "code": code,
            "name": unit.name,
            "title": "",
            "role": role,
            "kind": "unit",
            "unit_name": unit.name,
            "addressee": unit.name,
        }
    leader = _leader(directory, code)
    if leader is not None:
        return _person_recipient(code, role, leader, leader.title, None)
    return {
        "code": code,
        "name": code,
        "title": "",
        "role": role,
        "kind": "unit",
        "unit_name": None,
        "addressee": code,
    }


def recipients_context(notification: Notification, directory: Directory) -> list[dict[str, Any]]:
    """Everyone ``notification`` goes to, once each (whatever the channels), as an official document's
    "Nơi nhận" names them: the lead unit (chủ trì), coordinating units (phối hợp), the others in cc (để biết)."""
    task: TaskInput | None = notification.data.get("task")
    lead = set(task.lead) if task is not None else set()
    coordinating = set(task.coordinating) if task is not None else set()
    seen: dict[str, dict[str, Any]] = {}
    for recipient in notification.recipients:
        if recipient.code in seen:
            continue
        described = describe_recipient(recipient.code, str(recipient.role), directory)
        if recipient.role == Role.TO:
            part = RECIPIENT_PARTS["lead"] if recipient.code in lead else ""
        else:
            part = RECIPIENT_PARTS["coordinating" if recipient.code in coordinating else "cc"]
        name = (
            described["name"] if described["kind"] == "unit" else f"{described['title']} {described['name']}"
        )
        seen[recipient.code] = {
            "code": recipient.code,
            "name": name,
            "role": str(recipient.role),
            "part": part,
        }
    return list(seen.values())


def recipients_text(recipients: Sequence[Mapping[str, Any]]) -> str:
    """ "Phòng Tổ chức cán bộ (chủ trì); Văn phòng Sở (để biết)"."""
    return "; ".join(f"{r['name']} ({r['part']})" if r["part"] else r["name"] for r in recipients)


def unit_name(directory: Directory, code: str) -> str:
    found = directory.get(code)
    return found.name if found is not None else code


def _names(directory: Directory, codes: Sequence[str]) -> list[str]:
    return [unit_name(directory, code) for code in codes]


def _via_name(directory: Directory, via: str | None) -> str:
    """Where reports go: a unit code or a name written in the plan ("Văn phòng Sở")."""
    if not via:
        return directory.office_unit.name
    if directory.get(via) is not None:
        return unit_name(directory, via)
    try:
        codes = directory.resolve(via)
    except Exception:  # a name the directory does not know: say it as the plan wrote it
        return via
    return unit_name(directory, codes[0]) if codes else via


def office_context(directory: Directory) -> dict[str, Any]:
    """The Office that chases the plan: whom a recipient contacts."""
    office = directory.office_unit
    head = office.head
    contacts = [f"email {office.contacts.email}"] if office.contacts.email else []
    if office.contacts.phone:
        contacts.append(f"điện thoại {office.contacts.phone}")
    return {
        "code": office.code,
        "name": office.name,
        "head_name": head.name if head else "",
        "head_title": head.title if head else "",
        "email": office.contacts.email or "",
        "phone": office.contacts.phone or "",
        "contact_text": office.name + (f" ({', '.join(contacts)})" if contacts else ""),
    }


# -- tasks, periods, digest -----------------------------------------------------------------------------


def task_context(
    task: TaskInput,
    directory: Directory,
    day: date,
    due: date | None = None,
    written: date | None = None,
) -> dict[str, Any]:
    """A task as templates show it; ``due`` is the date the message is about (default: the one in force),
    ``written`` that date as the plan or the extension wrote it, when a day off moved ``due`` to the next
    working day (the planner passes both)."""
    due = due if due is not None else task.due_on(day)
    written = written if written is not None else due
    moved = due is not None and written is not None and written != due
    lead_names = _names(directory, task.lead)
    coordinating_names = _names(directory, task.coordinating)
    return {
        "code": task.code,
        "plan": task.plan,
        "section": task.section or "",
        "content": task.content,
        "products": list(task.products),
        "products_text": "; ".join(p.strip().rstrip(";,.").strip() for p in task.products if p.strip()),
        "deadline_text": task.deadline_text,
        "kind": str(task.kind),
        "start": task.start,
        "due": due,
        "due_weekday": _weekday_lower(due) if due is not None else "",
        "due_as_written": written,
        "moved": moved,  # the date written fell on a day off: due is the next working day
        "plan_due": task.due,
        "extended": written is not None and task.due is not None and written != task.due,
        "lead": list(task.lead),
        "lead_names": lead_names,
        "lead_text": "; ".join(lead_names),
        "coordinating_names": coordinating_names,
        "coordinating_text": "; ".join(coordinating_names),
    }


def _weekday_lower(value: date) -> str:
    """``thứ Hai`` (inside a sentence), ``Chủ nhật`` kept."""
    name = vn_weekday(value)
    return "thứ " + name.removeprefix("Thứ ") if name.startswith("Thứ ") else name


def _period_context(data: Mapping[str, Any]) -> dict[str, Any] | None:
    period = data.get("report_period")
    if period is None:
        return None
    covers = list(data.get("covers") or [period.code])
    others = [fixed_period(code, period.year).title for code in covers if code != period.code]
    return {
        "code": period.code,
        "title": period.title,
        "cutoff": period.cutoff,
        "data_from": period.data_from,
        "covers": covers,
        "covers_titles": others,
    }


def _digest_line(line: DigestTask, directory: Directory) -> dict[str, Any]:
    lead_names = _names(directory, line.lead)
    return {
        "code": line.code,
        "plan": line.plan,
        "content": line.content,
        "lead_names": lead_names,
        "lead_text": "; ".join(lead_names),
        "deadline_text": line.deadline_text,
        "due": line.due,
        "days_left": line.days_left,
        "days_overdue": line.days_overdue,
        "done_on": line.done_on,
        "due_as_written": line.due_as_written,
        "moved": line.due is not None and line.due_as_written is not None and line.due != line.due_as_written,
    }


def digest_context(digest: Digest, directory: Directory) -> dict[str, Any]:
    """The digest with unit names resolved; every section a list (empty when nothing to show)."""
    counts = digest.counts
    day_unit = "ngày làm việc" if digest.working_days else "ngày"
    return {
        "as_of": digest.as_of,
        "since": digest.since,
        "plans": list(digest.plans),
        "day_unit": day_unit,  # what days_left and days_overdue count
        # the due-soon count's window: "10 ngày làm việc tới" (the same as the list's), "7 ngày" without the calendar
        "soon_label": f"{digest.soon_days} {day_unit} tới"
        if digest.working_days
        else f"{digest.soon_days} ngày",
        "upcoming_label": f"{digest.upcoming_days} {day_unit} tới",  # the due-soon list's window
        "units": [
            {
                "code": row.unit,
                "name": unit_name(directory, row.unit),
                "total": row.total,
                "done": row.done,
                "overdue": row.overdue,
                "done_on_time": row.done_on_time,
                "on_time_percent": row.on_time_percent,
            }
            for row in digest.units
        ],
        "became_overdue": [_digest_line(line, directory) for line in digest.became_overdue],
        "week_start": digest.as_of - timedelta(days=digest.as_of.weekday()),
        "counts": {
            "total": counts.total,
            "done": counts.done,
            "on_track": counts.on_track,
            "due_soon": counts.due_soon,
            "overdue": counts.overdue,
            "needs_date": counts.needs_date,
        },
        "overdue_by_unit": [
            {
                "code": group.unit,
                "name": unit_name(directory, group.unit),
                "tasks": [_digest_line(line, directory) for line in group.tasks],
            }
            for group in digest.overdue_by_unit
        ],
        "due_soon": [_digest_line(line, directory) for line in digest.due_soon],
        "done_last_week": [_digest_line(line, directory) for line in digest.done_last_week],
        "needs_date": [_digest_line(line, directory) for line in digest.needs_date],
        "reports_outstanding": [
            {
                "plan": report.plan,
                "code": report.period.code,
                "title": report.period.title,
                "cutoff": report.period.cutoff,
                "units": _names(directory, report.units),
            }
            for report in digest.reports_outstanding
        ],
        "failed_deliveries": [
            {
                "recipient": describe_recipient(failed.recipient, "to", directory)["name"],
                "recipient_code": failed.recipient,
                "channel": CHANNEL_LABELS.get(failed.channel, failed.channel),
                "error": shorten(failed.error, 160),
                "task": failed.task or "",
            }
            for failed in digest.failed_deliveries
        ],
    }


# -- the context -------------------------------------------------------------------------------------------


_REPEAT = re.compile(r"/L\d+r(\d+)$")  # the planner's occurrence of a repeated top level: ".../L3r2"


def _level_context(notification: Notification) -> dict[str, Any] | None:
    if notification.level is None:
        return None
    number = notification.level
    return {
        "number": number,
        "label": LEVEL_LABELS.get(number, f"Cấp {number}"),
        "top": bool(notification.data.get("top_level", False)),
        "repeat": int(repeat.group(1)) if (repeat := _REPEAT.search(notification.key)) else 0,
    }


def _summary(
    digest: Digest | None,
    undated: list[dict[str, Any]] | None,
    unfinished: list[dict[str, Any]] | None = None,
) -> dict[str, int | None] | None:
    """Counts as single values (for ZNS parameters): the digest's, the number of tasks needing a date, or
    the number of tasks a closing plan leaves unfinished (``open``)."""
    if unfinished is not None:
        return dict.fromkeys(("total", "done", "on_track", "due_soon", "overdue", "undated"), None) | {
            "open": len(unfinished)
        }
    if digest is not None:
        counts = digest.counts
        return {
            "total": counts.total,
            "done": counts.done,
            "open": counts.total - counts.done,
            "on_track": counts.on_track,
            "due_soon": counts.due_soon,
            "overdue": counts.overdue,
            "undated": counts.needs_date,
        }
    if undated is not None:
        return dict.fromkeys(("total", "done", "open", "on_track", "due_soon", "overdue"), None) | {
            "undated": len(undated)
        }
    return None


def message_context(
    notification: Notification,
    recipient: Recipient,
    directory: Directory,
    *,
    digest: Digest | None = None,
    notices: Sequence[str] = (),
    links: Mapping[str, Any] | None = None,
    recipients: Sequence[Mapping[str, Any]] | None = None,
    written_deliveries: Sequence[Mapping[str, Any]] = (),
    plan_info: PlanInfo | None = None,
) -> dict[str, Any]:
    """Everything the templates of ``notification.kind`` may use, for ``recipient`` (see the module doc).

    ``notices``: warnings about the channels the digest carries for the admin's readers (a Zalo token
    about to expire). ``recipients`` is :func:`recipients_context` of the notification when the caller
    already has it (the same for each recipient of a notification); ``written_deliveries`` (the digest's
    delivery section): per channel not configured, how many messages were only written to files
    ({"channel": label, "count": n}).
    """
    data = notification.data
    kind = str(notification.kind)
    plan_code = notification.plan or (data["task"].plan if data.get("task") is not None else "")
    day: date = data.get("day") or notification.at.date()
    task_input: TaskInput | None = data.get("task")
    task = (
        task_context(task_input, directory, day, data.get("due"), data.get("due_as_written"))
        if task_input is not None
        else None
    )
    if kind == NotificationKind.DIGEST and digest is None:
        raise ValueError("A digest notification needs its digest (planner.digest.build_digest).")
    unit_codes = list(data.get("units") or ())
    period = _period_context(data)
    tasks = [task_context(t, directory, day) for t in data.get("tasks") or ()]
    if recipients is None:
        recipients = recipients_context(notification, directory)
    return {
        "kind": kind,
        "kind_label": KIND_TITLES.get(kind, kind),
        "channel": str(recipient.channel),
        "rule": notification.rule,
        "key": notification.key,
        "plan": plan_code,
        "plan_label": plan_info.label if plan_info is not None and plan_info.code == plan_code else plan_code,
        "day": day,
        "sent_at": notification.at,
        "recipient": describe_recipient(recipient.code, str(recipient.role), directory),
        "task": task,
        "due": task["due"] if task else data.get("due"),
        "days_left": data.get("days_left"),
        "working_days_left": data.get("working_days_left"),
        "days_overdue": data.get("days_overdue"),
        "working_days_overdue": data.get("working_days_overdue"),
        "level": _level_context(notification),
        "period": period,
        "report_period": period,  # the planner's name for it (config/zns.yaml uses both)
        "cutoff": period["cutoff"] if period else None,
        "units": _names(directory, unit_codes),
        "units_text": "; ".join(_names(directory, unit_codes)),
        "via": _via_name(directory, data.get("via")),
        "office": office_context(directory),
        "tasks": tasks,
        "digest": digest_context(digest, directory) if digest is not None else None,
        "notices": list(notices),
        "summary": _summary(
            digest,
            tasks if kind == NotificationKind.NEEDS_DATE else None,
            tasks if kind == NotificationKind.CLOSING else None,
        ),
        "closing": data.get("closing"),
        "links": {"done_url": None, "dashboard_url": None, **(links or {})},
        "done_command": f"/xong {task_input.code}" if task_input is not None else None,
        "recipients": list(recipients),
        "recipients_text": "" if kind == NotificationKind.DIGEST else recipients_text(recipients),
        "written_deliveries": list(written_deliveries),
        "embedded": False,
        "list_limit": None,
    }


# -- bundles -----------------------------------------------------------------------------------------------


def summary_bucket(item: Mapping[str, Any]) -> str:
    """Which count of a bundle's summary an item's context falls under (a key of BUNDLE_COUNTS)."""
    kind = item["kind"]
    if kind == NotificationKind.ESCALATION:
        return "overdue"
    if kind == NotificationKind.REMINDER:
        left = item.get("working_days_left")
        return "overdue" if left is not None and left < 0 else "due_soon"
    return str(kind)


def bundle_summary(items: Sequence[Mapping[str, Any]]) -> tuple[dict[str, int], str]:
    """Counts per bucket (every bucket of BUNDLE_COUNTS, 0 when none), and the sentence of those that are
    not 0, in that order: "3 nhiệm vụ quá hạn, 2 sắp đến hạn"."""
    counts: dict[str, int] = {}
    for item in items:
        bucket = summary_bucket(item)
        counts[bucket] = counts.get(bucket, 0) + 1
    ordered = {bucket: counts.get(bucket, 0) for bucket in BUNDLE_COUNTS}
    text = ", ".join(f"{count} {BUNDLE_COUNTS[bucket]}" for bucket, count in ordered.items() if count)
    return ordered, text


def bundle_context(
    items: Sequence[Mapping[str, Any]],
    directory: Directory,
    *,
    channel: str,
    sent_at: datetime,
    recipient: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The context of a bundle of ``items`` (their contexts, most urgent first) for one addressee.

    ``recipient`` defaults to the first item's; when items reach the addressee in different capacities
    (to for some, cc for others), the bundle is "to" them.
    """
    numbered = [{**item, "number": index} for index, item in enumerate(items, start=1)]
    addressee = dict(recipient or items[0]["recipient"])
    addressee["role"] = "to" if any(item["recipient"]["role"] == "to" for item in items) else "cc"
    counts, text = bundle_summary(items)
    plans = list(dict.fromkeys(str(item["plan"]) for item in items if item.get("plan")))
    labels = list(
        dict.fromkeys(str(item.get("plan_label") or item["plan"]) for item in items if item.get("plan"))
    )
    return {
        "kind": "bundle",
        "kind_label": KIND_TITLES["bundle"],
        "channel": channel,
        "rule": "",
        "key": "",
        "plan": ", ".join(plans),
        "plan_label": ", ".join(labels),
        "day": sent_at.date(),
        "sent_at": sent_at,
        "recipient": addressee,
        "items": numbered,
        "count": len(numbered),
        "summary": counts,
        "summary_text": text,
        "office": office_context(directory),
        "links": {"done_url": None, "dashboard_url": None},
        "done_command": None,
        "recipients": [],
        "recipients_text": "",
        "written_deliveries": [],
        "notices": [],
        "embedded": False,
        "part": None,
        "list_limit": None,
    }


# -- sample data (validation and preview without a database) ----------------------------------------------

_SAMPLE_PLAN = "CCHC-2020"


def sample_directory() -> Directory:
    """A small directory in the style of config/units.yaml (placeholders, no file read)."""

    def unit(code: str, name: str, kind: str, head: Person | None, supervisor: str | None) -> Unit:
        contacts = Contacts(
            email=f"{code.lower()}@nhacviec.example",
            telegram_chat_id=f"-1001000{code}",
            zalo_user_id=f"zalo-{code.lower()}",
            phone="0900000001",
        )
        return Unit(code, name, kind, (), head, contacts, supervisor)

    return Directory(
        units=(
            unit("VP", "Văn phòng Sở", "office", Person(None, "Phạm Thị D", "Chánh Văn phòng"), "PGD1"),
            unit(
                "TCCB",
                "Phòng Tổ chức cán bộ",
                "department",
                Person(None, "Hoàng Văn E", "Trưởng phòng"),
                "PGD1",
            ),
            unit(
                "KHTC",
                "Phòng Kế hoạch - Tài chính",
                "department",
                Person(None, "Vũ Thị G", "Trưởng phòng"),
                "PGD2",
            ),
            unit("PCMNV", "Các phòng chuyên môn, nghiệp vụ Sở", "group", None, "PGD1"),
            unit("DVTH", "Các đơn vị, trường học trực thuộc", "group", None, "PGD2"),
        ),
        office="VP",
        director=Person("GD", "Nguyễn Văn A", "Giám đốc Sở"),
        deputies=(
            Person("PGD1", "Trần Thị B", "Phó Giám đốc Sở"),
            Person("PGD2", "Lê Văn C", "Phó Giám đốc Sở"),
        ),
    )


def _sample_task(
    code: str,
    content: str,
    deadline: str,
    kind: DeadlineKind,
    *,
    due: date | None = None,
    start: date | None = None,
    lead: tuple[str, ...] = ("TCCB",),
    coordinating: tuple[str, ...] = ("PCMNV", "DVTH"),
    products: tuple[str, ...] = ("Báo cáo kết quả thực hiện",),
    changes: tuple[StatusChange, ...] = (),
) -> TaskInput:
    return TaskInput(
        plan=_SAMPLE_PLAN,
        code=code,
        section=code.split(".")[0],
        content=content,
        deadline_text=deadline,
        kind=kind,
        start=start,
        due=due,
        occurrences=(due,) if due else (),
        lead=lead,
        coordinating=coordinating,
        products=products,
        changes=changes,
    )


def sample_tasks() -> tuple[TaskInput, ...]:
    """Tasks in the style of the sample plan: one of each situation the digest shows."""
    window = DeadlineKind.WINDOW
    return (
        _sample_task(
            "IV.4",
            "Tổ chức thực hiện các lớp đào tạo, bồi dưỡng cán bộ, công chức năm 2020 theo kế hoạch của UBND tỉnh, Sở GD&ĐT.",
            "Trước tháng 12/2020",
            DeadlineKind.DATE,
            due=date(2020, 11, 30),
            products=("Kế hoạch triển khai;", "Báo cáo kết quả thực hiện"),
        ),
        _sample_task(
            "VII.6",
            "Tham gia Điều tra xác định chỉ số CCHC và mức độ hài lòng của người dân, tổ chức.",
            "Trước tháng 12/2020",
            DeadlineKind.DATE,
            due=date(2020, 11, 30),
            lead=("VP",),
            coordinating=("PCMNV",),
        ),
        _sample_task(
            "VII.7",
            "Tự đánh giá Bộ chỉ số cải cách hành chính",
            "Tháng 11/2020",
            window,
            start=date(2020, 11, 1),
            due=date(2020, 11, 30),
            lead=("VP",),
            changes=(StatusChange(date(2020, 12, 2), "done"),),
        ),
        _sample_task(
            "VII.9",
            "Tự đánh giá mức độ hoàn thành nhiệm vụ của cơ quan Sở",
            "Tháng 12/2020",
            window,
            start=date(2020, 12, 1),
            due=date(2020, 12, 31),
            lead=("VP",),
        ),
        _sample_task(
            "V.1",
            "Thực hiện phương án tự chủ đối với các đơn vị sự nghiệp công lập theo Quyết định của UBND tỉnh.",
            "Trước 15/12/2020",
            DeadlineKind.DATE,
            due=date(2020, 12, 14),
            lead=("KHTC",),
            coordinating=("DVTH",),
        ),
        _sample_task(
            "II.2",
            "Rà soát và đề xuất phương án đơn giản hóa TTHC",
            "Theo Kế hoạch",
            DeadlineKind.UNSCHEDULED,
            lead=("VP",),
            coordinating=("PCMNV",),
        ),
        _sample_task(
            "IV.8",
            "Triển khai các quy định mới sau khi Luật sửa đổi Luật cán bộ, công chức và Luật viên chức có hiệu lực thi hành",
            "Sau khi có các quy định của Chính phủ và các Bộ, ngành Trung ương, UBND Tỉnh.",
            DeadlineKind.EVENT,
            products=("Văn bản triển khai;",),
        ),
    )


_SAMPLE_DAY = {
    "kickoff": date(2020, 12, 1),
    "reminder": date(2020, 11, 10),
    "checkin": date(2020, 12, 1),
    "escalation": date(2020, 12, 7),
    "report_request": date(2020, 12, 7),
    "report_reminder": date(2020, 12, 11),
    "report_followup": date(2020, 12, 15),
    "digest": date(2020, 12, 7),
    "needs_date": date(2020, 12, 1),
    "closing": date(2021, 3, 31),
}
_ESCALATION_TO = {1: "TCCB.head", 2: "PGD1", 3: "GD"}


def _sample_data(kind: str, level: int) -> tuple[dict[str, Any], str, TaskInput | None]:
    """The notification data, the first recipient and the task of a sample notification of ``kind``."""
    tasks = {t.code: t for t in sample_tasks()}
    if kind == "kickoff":
        return {"due": date(2020, 12, 31)}, "VP", tasks["VII.9"]
    if kind == "reminder":
        return {"due": date(2020, 11, 30), "working_days_left": 14, "days_left": 20}, "TCCB", tasks["IV.4"]
    if kind == "checkin":
        return {"due": date(2020, 12, 31)}, "VP", replace(tasks["VII.9"], kind=DeadlineKind.CONTINUOUS)
    if kind == "escalation":
        after = {1: 1, 2: 5, 3: 10}.get(level, 10)
        data = {
            "due": date(2020, 11, 30),
            "working_days_overdue": after,
            "days_overdue": 7,
            "top_level": level >= 3,
        }
        return data, _ESCALATION_TO.get(level, "GD"), tasks["IV.4"]
    if kind in REPORT_KINDS:
        period = fixed_period("Y", 2020)
        data = {
            "report_period": period,
            "covers": ["Q4", "Y"],
            "cutoff": period.cutoff,
            "units": ["PCMNV", "DVTH"],
            "via": "VP",
        }
        return data, "PCMNV", None
    if kind == "digest":
        return {"recipient": "PGD1", "units": ["VP", "TCCB", "PCMNV"]}, "PGD1", None
    if kind == "closing":
        return {"tasks": [tasks["IV.4"], tasks["II.2"]], "closing": date(2021, 3, 31)}, "VP", None
    return {"tasks": [tasks["II.2"], tasks["IV.8"]]}, "VP", None


def sample_digest(as_of: date = _SAMPLE_DAY["digest"]) -> Digest:
    """A digest over :func:`sample_tasks` with one report outstanding and one failed delivery."""
    reporting = ReportingInput(
        plan=_SAMPLE_PLAN,
        year=2020,
        units=("PCMNV", "DVTH"),
        via="VP",
        received={("DVTH", "Q3"): date(2020, 9, 20)},
    )
    failed = [
        {
            "recipient": "TCCB.head",
            "channel": "telegram",
            "error": "Forbidden: bot was blocked by the user",
            "task": "IV.4",
        }
    ]
    return build_digest(sample_tasks(), as_of, units=None, reporting=(reporting,), failed_deliveries=failed)


def sample_notification(
    kind: str, channel: str = "email", *, level: int = 1
) -> tuple[Notification, Recipient]:
    """A notification of ``kind`` like the planner makes, and its first recipient on ``channel``."""
    kind = NotificationKind(kind)
    day = _SAMPLE_DAY[kind]
    data, recipient_code, task = _sample_data(kind, level)
    payload: dict[str, Any] = {"day": day, **data}
    if task is not None:
        payload["task"] = task
    period = data.get("report_period")
    recipient = Recipient(recipient_code, Role.TO, Channel.ZALO if channel == "zns" else Channel(channel))
    notification = Notification(
        key=f"{kind}/sample/{day.isoformat()}",
        at=datetime(day.year, day.month, day.day, 7, 30),
        kind=kind,
        rule=str(kind).replace("_", "-"),
        template=str(kind),
        recipients=(recipient,),
        task=task.code if task else None,
        plan=_SAMPLE_PLAN,
        period=f"2020-{period.code}" if period else None,
        level=level if kind == NotificationKind.ESCALATION else None,
        data=payload,
    )
    return notification, recipient


# A warning like the digest carries when the Zalo token will soon expire (notifiers.zalo.expiry_warning).
_SAMPLE_NOTICES = (
    "Token Zalo sẽ hết hạn ngày 21/12/2020 vì chưa làm mới được: quản trị viên xem 'nhacviec zalo status' "
    "và cấp quyền lại nếu cần ('nhacviec zalo reauthorise').",
)


def sample_context(
    kind: str, channel: str = "email", *, level: int = 1, done_url: str | None = None
) -> dict[str, Any]:
    """The context of a sample message of ``kind`` for ``channel`` (email, telegram, zalo, zns)."""
    if kind == "bundle":
        return sample_bundle_context(channel, done_url=done_url)
    notification, recipient = sample_notification(kind, channel, level=level)
    digest = sample_digest() if kind == NotificationKind.DIGEST else None
    written = [{"channel": CHANNEL_LABELS["zalo"], "count": 12}] if digest is not None else []
    context = message_context(
        notification,
        recipient,
        sample_directory(),
        digest=digest,
        notices=_SAMPLE_NOTICES if digest is not None else (),
        links={"done_url": done_url},
        written_deliveries=written,
    )
    context["channel"] = channel
    return context


def sample_bundle_context(channel: str = "email", *, done_url: str | None = None) -> dict[str, Any]:
    """A sample bundle on 07/12/2020: escalations of two levels, a reminder, a report request, the digest."""
    directory = sample_directory()
    items = []
    samples = (("escalation", 3), ("escalation", 2), ("reminder", 1), ("report_request", 1), ("digest", 1))
    for kind, level in samples:
        notification, _ = sample_notification(kind, channel, level=level)
        role = Role.TO if kind == "escalation" and level == 3 else Role.CC
        recipient = Recipient("GD", role, Channel.ZALO if channel == "zns" else Channel(channel))
        url = done_url if notification.task else None
        digest = sample_digest() if kind == NotificationKind.DIGEST else None
        items.append(
            message_context(notification, recipient, directory, digest=digest, links={"done_url": url})
        )
    moment = datetime(2020, 12, 7, 7, 30)
    return bundle_context(items, directory, channel=channel, sent_at=moment)


def sample_variants(kind: str, channel: str) -> list[dict[str, Any]]:
    """Every sample context a template of ``kind`` must render: with and without a link, every level."""
    if kind == "bundle":
        return [
            sample_bundle_context(channel, done_url=url)
            for url in (None, "https://nhacviec.example/xong/IV.4?sig=abc&exp=1")
        ]
    levels = (1, 2, 3) if kind == NotificationKind.ESCALATION else (1,)
    return [
        sample_context(kind, channel, level=level, done_url=url)
        for level in levels
        for url in (None, "https://nhacviec.example/xong/IV.4?sig=abc&exp=1")
    ]
