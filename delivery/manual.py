"""Manual triggers: a reminder, the weekly digest or a report request sent now, outside the schedule.

This is the "plan" stage of delivery/pipeline.py for manual sends: the notifications are built here
the way the planner builds its own (same recipient resolution, same data, so the same templates render
them), with keys of their own: ``manual/remind/{plan}:{task}/{day}``, ``manual/digest/{day}/{recipient}``,
``manual/report-request/{plan}:{year}-{period}/{day}``. The pipeline's later stages do the rest
(origin ``manual``): one trigger per day and recipient is sent once, a unit's reminders go as one
bundled message, retries and dead letters are the same. ``--force`` picks a new key (``.../2``,
``.../3``...) so the message is sent again.

The builders are pure (tasks, rule, directory, calendar and the moment in; notifications out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from plan.errors import UserError
from plan.text import fold
from plan.units import Directory, UnknownUnitError
from planner.calendar import WorkingCalendar
from planner.model import Notification, Recipient, ReportingInput, TaskInput
from planner.periods import ReportPeriod, adhoc_period, parse_period
from planner.planner import Planner, PlannerInput
from rules.model import WEEKDAYS, NotificationKind, Role, Rule
from vocabulary import KIND_SHORT, label

MANUAL_RULES = {
    NotificationKind.REMINDER: "manual-reminder",
    NotificationKind.DIGEST: "manual-digest",
    NotificationKind.REPORT_REQUEST: "manual-report-request",
}
PREFERRED_RULES = {NotificationKind.REMINDER: "reminder", NotificationKind.REPORT_REQUEST: "report-request"}
# An overdue task keeps the reminder templates: they say "đã quá hạn N ngày làm việc" when days_left < 0.


# -- rules -----------------------------------------------------------------------------------------------


def pick_rule(rules: Sequence[Rule], kind: NotificationKind) -> Rule:
    """The rule whose audience, channels and template a manual trigger of ``kind`` uses.

    The rule with the usual id ("reminder", "report-request") if there is one, even disabled (the
    office asked for this message explicitly); else the first enabled rule of that kind; else the first.
    """
    preferred = PREFERRED_RULES.get(kind)
    of_kind = [rule for rule in rules if rule.kind == kind]
    for rule in of_kind:
        if rule.id == preferred:
            return rule
    enabled = [rule for rule in of_kind if rule.enabled]
    if enabled or of_kind:
        return (enabled or of_kind)[0]
    raise UserError(
        f"Chưa có quy tắc loại '{kind}' ({label(KIND_SHORT, kind)}) nên không biết gửi cho ai, qua kênh nào:"
    ).with_fix("add_rule")


def _planner(
    tasks: Sequence[TaskInput], directory: Directory, calendar: WorkingCalendar, day: date
) -> Planner:
    """The planner's own recipient resolution, so a manual message reaches whom a planned one would."""
    return Planner(PlannerInput(tasks, directory), calendar, day, day)


# -- reminders -------------------------------------------------------------------------------------------


def due_for(task: TaskInput, day: date) -> date | None:
    """The due date a reminder on ``day`` is about: the one in force; a recurring task's next occurrence."""
    if len(task.occurrences) > 1:
        upcoming = [occurrence for occurrence in task.occurrences if occurrence >= day]
        return upcoming[0] if upcoming else task.occurrences[-1]
    return task.due_on(day)


@dataclass(frozen=True)
class TaskSelection:
    tasks: list[TaskInput]
    undated: list[TaskInput] = field(default_factory=list)  # chosen, but with no due date to remind of


def select_tasks(
    tasks: Sequence[TaskInput],
    directory: Directory,
    calendar: WorkingCalendar,
    rule: Rule,
    day: date,
    *,
    code: str | None = None,
    unit: str | None = None,
    plan: str | None = None,
) -> TaskSelection:
    """The open tasks to remind on ``day``: one task, the tasks a unit leads, or those due soon or overdue.

    With neither ``code`` nor ``unit``: the open tasks due within the rule's window (its largest
    offset, in working days) or already overdue. A mistake (unknown task or unit, a task done or
    with no date) raises :class:`UserError`.
    """
    if code and unit:
        raise UserError("Chọn --task hoặc --unit, không dùng cả hai cùng lúc.")
    if code:
        return TaskSelection([_one_task(tasks, code, day, plan)])
    if unit:
        lead = _one_unit(directory, unit)
        chosen = [t for t in tasks if lead in t.lead and t.done_on(day) is None]
        return TaskSelection(
            [t for t in chosen if due_for(t, day) is not None],
            [t for t in chosen if due_for(t, day) is None],
        )
    window = max(rule.offsets, default=0)

    def due_soon_or_overdue(task: TaskInput) -> bool:
        due = due_for(task, day)
        return due is not None and (due < day or calendar.working_days_between(day, due) <= window)

    return TaskSelection([t for t in tasks if t.done_on(day) is None and due_soon_or_overdue(t)])


def _one_task(tasks: Sequence[TaskInput], code: str, day: date, plan: str | None = None) -> TaskInput:
    wanted = code.strip().upper()
    matches = [t for t in tasks if t.code.upper() == wanted and (plan is None or t.plan == plan)]
    if not matches:
        where = f" trong kế hoạch {plan}" if plan else ""
        raise UserError(f"Không có nhiệm vụ mã '{code}'{where};").with_fix("list_tasks")
    plans = list(dict.fromkeys(t.plan for t in matches))  # recurring work: one input per period, one plan
    if len(plans) > 1:
        raise UserError(f"Mã nhiệm vụ '{wanted}' có trong nhiều kế hoạch ({', '.join(plans)}):").with_fix(
            "choose_plan"
        )
    task = matches[0]
    periods = [t for t in matches if t.period is not None]
    if periods:  # recurring work: the occurrence current on the day, else the earliest still open
        current = next((t for t in periods if t.due is not None and t.due >= day), periods[-1])
        still_open = [t for t in periods if t.done_on(day) is None]
        task = current if current.done_on(day) is None or not still_open else still_open[0]
    done = task.done_on(day)
    if done is not None:
        raise UserError(f"Nhiệm vụ {task.code} đã hoàn thành ngày {done:%d/%m/%Y}, không cần nhắc.")
    if due_for(task, day) is None:
        raise UserError(
            f'Nhiệm vụ {task.code} chưa có thời hạn ("{task.deadline_text}") nên chưa nhắc được:'
        ).with_fix("set_due_first", task=task.code)
    return task


def resolve_units(directory: Directory, text: str, option: str) -> list[str]:
    """Unit codes named by a user ("TCCB", "Phòng TCCB", "PCMNV,DVTH"), through the directory."""
    try:
        codes = directory.resolve(text)
    except UnknownUnitError as error:
        raise UserError(f"{option}: {error.message}, không có trong danh bạ đơn vị (units.yaml).") from None
    if not codes:
        raise UserError(f"{option}: hãy ghi mã hoặc tên đơn vị (ví dụ TCCB).")
    return codes


def _one_unit(directory: Directory, text: str) -> str:
    codes = resolve_units(directory, text, "--unit")
    if len(codes) != 1:
        raise UserError(f"'{text}' chỉ {len(codes)} đơn vị ({', '.join(codes) or 'không có'}); hãy chọn một.")
    return codes[0]


def reminder_notifications(
    tasks: Iterable[TaskInput],
    rule: Rule,
    directory: Directory,
    calendar: WorkingCalendar,
    moment: datetime,
) -> list[Notification]:
    """A reminder at ``moment`` for each task, to the rule's audience on the rule's channels.

    Data as the planner's reminders (due, working_days_left, days_left); an overdue task has
    negative ``days_left`` and ``working_days_left`` and also ``working_days_overdue`` and ``days_overdue``,
    which the reminder templates word as "đã quá hạn".
    """
    task_list = list(tasks)
    day = moment.date()
    planner = _planner(task_list, directory, calendar, day)
    notifications = []
    for task in task_list:
        due = due_for(task, day)
        if due is None:
            continue
        data: dict[str, Any] = {"day": day, "task": task, "due": due}
        if due >= day:
            data.update(working_days_left=calendar.working_days_between(day, due), days_left=(due - day).days)
        else:
            overdue = calendar.working_days_between(due, day)
            data.update(
                working_days_left=-overdue,
                days_left=(due - day).days,
                working_days_overdue=overdue,
                days_overdue=(day - due).days,
                top_level=False,
            )
        notifications.append(
            Notification(
                key=f"manual/remind/{task.plan}:{task.code}/"
                + (f"{task.period}/" if task.period else "")
                + day.isoformat(),
                at=moment,
                kind=NotificationKind.REMINDER,
                rule=MANUAL_RULES[NotificationKind.REMINDER],
                template=rule.template,
                recipients=planner.recipients(rule, rule.audience, task),
                task=task.code,
                plan=task.plan,
                period=task.period,
                data=data,
            )
        )
    return notifications


# -- digest ----------------------------------------------------------------------------------------------


def digest_notifications(
    rule: Rule, directory: Directory, calendar: WorkingCalendar, moment: datetime
) -> list[Notification]:
    """The weekly digest at ``moment``: one per addressee of the rule (each Deputy Director), with the
    units they supervise, as the planner's digest (the renderer builds the content from the tasks)."""
    day = moment.date()
    planner = _planner((), directory, calendar, day)
    others = [a for a in rule.audience if a.role == Role.CC]
    weekday = WEEKDAYS.index(rule.weekday)
    week_start = day - timedelta(days=day.weekday())
    this_week = planner.digest_day(week_start, weekday)
    since = (
        this_week
        if this_week is not None and this_week < day
        else planner.previous_digest_day(week_start, weekday)
    )
    notifications = []
    for to in [a for a in rule.audience if a.role == Role.TO]:
        for code in planner.codes_for(to.who, None, ()):
            recipients = tuple(Recipient(code, Role.TO, channel) for channel in rule.channels)
            notifications.append(
                Notification(
                    key=f"manual/digest/{day.isoformat()}/{code}",
                    at=moment,
                    kind=NotificationKind.DIGEST,
                    rule=MANUAL_RULES[NotificationKind.DIGEST],
                    template=rule.template,
                    recipients=recipients + planner.recipients(rule, others),
                    data={"day": day, "recipient": code, "units": planner.supervised(code), "since": since},
                )
            )
    return notifications


# -- report requests -------------------------------------------------------------------------------------


def report_request_notification(
    period: ReportPeriod,
    units: Sequence[str],
    rule: Rule,
    directory: Directory,
    calendar: WorkingCalendar,
    moment: datetime,
    *,
    plan: str | None,
    via: str | None = None,
) -> Notification:
    """A request at ``moment`` for ``period``'s report to ``units``, as the planner's report requests."""
    day = moment.date()
    planner = _planner((), directory, calendar, day)
    period_id = f"{period.year}-{period.code}"
    return Notification(
        key=f"manual/report-request/{plan or '*'}:{period_id}/{day.isoformat()}",
        at=moment,
        kind=NotificationKind.REPORT_REQUEST,
        rule=MANUAL_RULES[NotificationKind.REPORT_REQUEST],
        template=rule.template,
        recipients=planner.recipients(rule, rule.audience, reporting_units=list(units)),
        plan=plan,
        period=period_id,
        data={
            "day": day,
            "report_period": period,
            "covers": [period.code],
            "cutoff": period.cutoff,
            "units": list(units),
            "via": via,
        },
    )


def regime_for(reporting: Sequence[ReportingInput], year: int | None) -> ReportingInput | None:
    """The reporting regime of the plan of ``year`` (the latest plan's when none is of that year)."""
    of_year = [regime for regime in reporting if regime.year == year]
    if of_year:
        return of_year[-1]
    return reporting[-1] if reporting else None


def period_for(text: str, year: int, due: date | None = None) -> ReportPeriod:
    """The period a user asks for ("Q1", "H1", "9M", "Y", "adhoc"...); ``due`` sets its cut-off.

    "adhoc" needs ``due`` (the ad hoc report's cut-off); a fixed period keeps its data window.
    """
    if not 2000 <= year <= 2100:
        raise UserError(f"Năm {year} không hợp lệ (từ 2000 đến 2100).")
    if fold(text).replace(" ", "") in ("adhoc", "dotxuat", "baocaodotxuat"):
        if due is None:
            raise UserError("Báo cáo đột xuất (--period adhoc) cần ngày chốt số liệu: thêm --due NGÀY.")
        return adhoc_period(due)
    try:
        period = parse_period(text, year)
    except ValueError as error:
        raise UserError(f"--period: {error}") from None
    if due is None:
        return period
    return adhoc_period(due) if period.kind == "adhoc" else replace(period, cutoff=due)


# -- keys ------------------------------------------------------------------------------------------------


def forced(
    notifications: Iterable[Notification], known: Callable[[list[str]], set[str]]
) -> list[Notification]:
    """Each notification under a key none of whose deliveries is in the outbox yet (``known`` says which are).

    The usual key when it is still free, else the first free one of ``KEY/2``, ``KEY/3``...
    """
    result = []
    for notification in notifications:
        candidate, attempt = notification, 1
        while known([candidate.delivery_key(r) for r in candidate.recipients]):
            attempt += 1
            candidate = replace(notification, key=f"{notification.key}/{attempt}")
        result.append(candidate)
    return result


def manual_rules(rules: Sequence[Rule]) -> dict[str, Rule]:
    """The rule each manual trigger follows, by the manual rule id its notifications carry."""
    found = {}
    for kind, manual_id in MANUAL_RULES.items():
        try:
            found[manual_id] = pick_rule(rules, kind)
        except UserError:
            continue
    return found
