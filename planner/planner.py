"""The planner: a pure function from (tasks with their history, rules, calendar, from, to) to notifications.

No I/O and no clock: the same input gives the same notifications in the same
order, so a whole year can be simulated, diffed against another rule set, or
replayed after downtime. Each kind of rule has one small generator below; they
share the recipient resolution and the key format.

Conventions (all days are working days of the calendar, sent at its send time):
- kick-off: the first working day on or after the window's start, for windows of
  at least ``min_window_days`` days;
- a due date that falls on a day off moves to the next working day (Civil Code 2015, Art. 148: a period
  ending on a day off ends on the next working day): reminders and the escalation ladder count from
  that effective day, while keys keep the date as written (stable whatever the calendar learns later);
- recurring work comes one occurrence at a time (``TaskInput.period``): each period is a task of its
  own for every rule (its due date, reminders, escalation, completion), and its keys name the period;
- reminder: ``offset`` working days before each due date in force (an extension
  or a date set later plans reminders for the new date from the day it is set);
  never before the window opens, never once the task is done;
- check-in: the first working day of each month of a continuous task's span;
- escalation: level *i* on the ``after``-th working day after the due date, then
  the top level again every ``repeat_every`` working days, while the task is not
  done and that due date is still the one in force;
- report request / reminder: ``days`` working days before the period's cut-off;
  follow-up: ``days`` working days after it; reminder and follow-up go only to the
  units that have not reported by then. Periods sharing a cut-off (Q2 and H1, Q3
  and 9M, Q4 and the year) make one request named after the longer period;
- digest: the rule's weekday each ISO week, or the next working day of that same week (none in a week
  off from that day on: at most one digest a week per person, whatever the holidays); it reports what
  changed since the previous week's digest;
- needs-date: the first working day of each month, when some task has no date;
- closing: on a plan's closing date (or the next working day), one list of its unfinished tasks; the
  escalation ladder of a plan stops after its closing date.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from plan.units import Directory
from planner.calendar import WorkingCalendar
from planner.model import Notification, PlanInfo, Recipient, ReportingInput, TaskInput
from planner.periods import ReportPeriod, periods_for_year
from rules.model import WEEKDAYS, Audience, NotificationKind, Role, Rule, Who

KIND_ORDER = {kind: index for index, kind in enumerate(NotificationKind)}
_PERIOD_SPAN = {"quarterly": 1, "6-month": 2, "9-month": 3, "annual": 4}


@dataclass(frozen=True)
class PlannerInput:
    tasks: Sequence[TaskInput]
    directory: Directory
    reporting: Sequence[ReportingInput] = ()
    plans: Mapping[str, PlanInfo] = field(default_factory=dict)  # by code: number, date, closing date


def plan_notifications(
    inputs: PlannerInput, rules: Sequence[Rule], calendar: WorkingCalendar, start: date, end: date
) -> list[Notification]:
    """Every notification the enabled rules produce for the days ``start`` to ``end`` inclusive, in send order."""
    planner = Planner(inputs, calendar, start, end)
    notifications: list[Notification] = []
    # A year of a large plan allocates millions of small objects that are all kept: the cyclic garbage
    # collector would walk them again and again (half the run time). Nothing here makes cycles.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 100_000), *thresholds[1:])
    try:
        for rule in rules:
            if rule.enabled:
                notifications.extend(planner.run(rule))
    finally:
        gc.set_threshold(*thresholds)
    positions = {(t.plan, t.code): t.position for t in inputs.tasks}
    notifications.sort(
        key=lambda n: (
            n.at,
            KIND_ORDER[n.kind],
            n.plan or "",
            positions.get((n.plan or "", n.task or ""), -1),
            n.key,
        )
    )
    return notifications


class Planner:
    """The generators behind :func:`plan_notifications`; manual triggers reuse its recipient resolution."""

    def __init__(self, inputs: PlannerInput, calendar: WorkingCalendar, start: date, end: date) -> None:
        self.inputs = inputs
        self.directory = inputs.directory
        self.calendar = calendar
        self.start = start
        self.end = end
        self._recipients: dict[tuple[object, ...], tuple[Recipient, ...]] = {}
        self._send_times: dict[tuple[date, object], datetime] = {}
        self._effective: dict[date, date] = {}

    def effective(self, due: date) -> date:
        """The day ``due`` really falls due: itself, or the next working day when it is a day off."""
        found = self._effective.get(due)
        if found is None:
            found = self._effective[due] = self.calendar.next_working_day(due)
        return found

    # -- shared -----------------------------------------------------------------------------------------

    def in_range(self, day: date) -> bool:
        return self.start <= day <= self.end

    def run(self, rule: Rule) -> Iterator[Notification]:
        generators = {
            NotificationKind.KICKOFF: self.kickoff,
            NotificationKind.REMINDER: self.reminder,
            NotificationKind.CHECKIN: self.checkin,
            NotificationKind.ESCALATION: self.escalation,
        }
        if rule.kind in generators:
            for task in self.inputs.tasks:
                if _matches(rule, task):
                    yield from generators[rule.kind](rule, task)
        elif rule.kind in (
            NotificationKind.REPORT_REQUEST,
            NotificationKind.REPORT_REMINDER,
            NotificationKind.REPORT_FOLLOWUP,
        ):
            for reporting in self.inputs.reporting:
                yield from self.report(rule, reporting)
        elif rule.kind == NotificationKind.DIGEST:
            yield from self.digest(rule)
        elif rule.kind == NotificationKind.NEEDS_DATE:
            yield from self.needs_date(rule)
        elif rule.kind == NotificationKind.CLOSING:
            yield from self.closing(rule)

    def recipients(
        self,
        rule: Rule,
        audience: Sequence[Audience],
        task: TaskInput | None = None,
        reporting_units: Sequence[str] = (),
    ) -> tuple[Recipient, ...]:
        """Who gets it, on which channels. Memoised: a plan has only a few distinct combinations."""
        cache_key = (
            rule.channels,
            tuple(audience),
            task.lead if task else (),
            task.coordinating if task else (),
            tuple(reporting_units),
        )
        found = self._recipients.get(cache_key)
        if found is None:
            found = self._recipients[cache_key] = self._resolve(rule, audience, task, reporting_units)
        return found

    def _resolve(
        self, rule: Rule, audience: Sequence[Audience], task: TaskInput | None, reporting_units: Sequence[str]
    ) -> tuple[Recipient, ...]:
        roles: dict[str, Role] = {}
        for entry in audience:
            for code in self.codes_for(entry.who, task, reporting_units):
                if roles.get(code) != Role.TO:
                    roles[code] = entry.role
        return tuple(
            Recipient(code, role, channel) for code, role in roles.items() for channel in rule.channels
        )

    def codes_for(self, who: Who, task: TaskInput | None, reporting_units: Sequence[str]) -> list[str]:
        directory = self.directory
        lead = task.lead if task else ()
        if who == Who.LEAD:
            return list(lead)
        if who == Who.COORDINATING:
            return list(task.coordinating) if task else []
        if who == Who.OFFICE:
            return [directory.office]
        if who == Who.UNIT_HEAD:
            return [f"{code}.head" if directory.unit(code).head else code for code in lead]
        if who == Who.SUPERVISOR:
            return [_code(directory.supervisor_of(code)) for code in lead]
        if who == Who.DIRECTOR:
            return [_code(directory.director)]
        if who == Who.DEPUTIES:
            return [_code(deputy) for deputy in directory.deputies]
        return list(reporting_units)

    def make(
        self,
        rule: Rule,
        day: date,
        occurrence: str,
        recipients: tuple[Recipient, ...],
        *,
        task: TaskInput | None = None,
        plan: str | None = None,
        period: str | None = None,
        level: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> Notification:
        plan = task.plan if task else plan
        if task is not None and task.period is not None:  # one occurrence of recurring work: its own keys
            occurrence = f"{task.period}/{occurrence}"
            period = period or task.period
        subject = f"{plan}:{task.code}" if task else (f"{plan}:{period}" if period else (plan or "*"))
        at = self._send_times.get((day, rule.send_time))
        if at is None:
            at = self.calendar.at_send_time(day)
            if rule.send_time is not None:
                at = at.replace(hour=rule.send_time.hour, minute=rule.send_time.minute)
            self._send_times[(day, rule.send_time)] = at
        payload: dict[str, Any] = {"day": day, "task": task, **data} if data else {"day": day, "task": task}
        if task is None:
            del payload["task"]
        return Notification(
            key=f"{rule.id}/{subject}/{occurrence}",
            at=at,
            kind=rule.kind,
            rule=rule.id,
            template=rule.template,
            recipients=recipients,
            task=task.code if task else None,
            plan=plan,
            period=period,
            level=level,
            data=payload,
        )

    # -- task rules -------------------------------------------------------------------------------------

    def kickoff(self, rule: Rule, task: TaskInput) -> Iterator[Notification]:
        if task.start is None or task.due is None or (task.due - task.start).days + 1 < rule.min_window_days:
            return
        day = self.calendar.shift(task.start, "later")
        if self.in_range(day) and task.done_on(day) is None:
            recipients = self.recipients(rule, rule.audience, task)
            yield self.make(
                rule,
                day,
                task.start.isoformat(),
                recipients,
                task=task,
                data={"due": self.effective(task.due), "due_as_written": task.due},
            )

    def reminder(self, rule: Rule, task: TaskInput) -> Iterator[Notification]:
        recipients: tuple[Recipient, ...] | None = None
        for due in self._due_dates(task):
            effective = self.effective(due)
            for offset in rule.offsets:
                day = (
                    self.calendar.add_working_days(effective, -offset)
                    if offset
                    else self.calendar.shift(effective, "earlier")
                )
                if not self.in_range(day) or (task.start is not None and day < task.start):
                    continue
                if task.done_on(day) is not None or not self._due_in_force(task, due, day):
                    continue
                recipients = recipients or self.recipients(rule, rule.audience, task)
                yield self.make(
                    rule,
                    day,
                    f"{due.isoformat()}/d{offset}",
                    recipients,
                    task=task,
                    data={
                        "due": effective,
                        "due_as_written": due,
                        "working_days_left": offset,
                        "days_left": (effective - day).days,
                    },
                )

    def _due_dates(self, task: TaskInput) -> list[date]:
        if task.occurrences and len(task.occurrences) > 1:
            return list(task.occurrences)
        return sorted({due for _, due in task.due_versions() if due is not None})

    @staticmethod
    def _due_in_force(task: TaskInput, due: date, day: date) -> bool:
        if len(task.occurrences) > 1:  # recurring: every occurrence stays in force
            return True
        return task.due_on(day) == due

    def checkin(self, rule: Rule, task: TaskInput) -> Iterator[Notification]:
        first = max(task.start or self.start, self.start)
        last = min(task.due or self.end, self.end)
        year, month = first.year, first.month
        recipients: tuple[Recipient, ...] | None = None
        while (year, month) <= (last.year, last.month):
            day = self.calendar.first_working_day_of_month(year, month)
            opened = task.start is None or day >= task.start
            if self.in_range(day) and day <= last and opened and task.done_on(day) is None:
                recipients = recipients or self.recipients(rule, rule.audience, task)
                due = self.effective(task.due) if task.due else None
                yield self.make(
                    rule,
                    day,
                    f"{year:04d}-{month:02d}",
                    recipients,
                    task=task,
                    data={"due": due, "due_as_written": task.due},
                )
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def escalation(self, rule: Rule, task: TaskInput) -> Iterator[Notification]:
        top = len(rule.levels)
        for due in sorted({due for _, due in task.due_versions() if due is not None}):
            effective = self.effective(due)
            if effective >= self.end:
                continue
            info = self.inputs.plans.get(task.plan)
            closing = info.closing if info is not None else None
            steps = [(index + 1, level.after, 0) for index, level in enumerate(rule.levels)]
            for level_number, after, repeat in self._escalation_steps(steps, rule.repeat_every):
                day = self.calendar.add_working_days(effective, after)
                if day > self.end or (closing is not None and day > closing):
                    break  # the plan has closed: its closing list said what was never finished
                if not self._due_in_force(task, due, day):
                    break
                if task.done_on(day) is not None or day < self.start:
                    continue
                level = rule.levels[level_number - 1]
                occurrence = f"{due.isoformat()}/L{level_number}" + (f"r{repeat}" if repeat else "")
                yield self.make(
                    rule,
                    day,
                    occurrence,
                    self.recipients(rule, level.audience, task),
                    task=task,
                    level=level_number,
                    data={
                        "due": effective,
                        "due_as_written": due,
                        "working_days_overdue": after,
                        "days_overdue": (day - effective).days,
                        "top_level": level_number == top,
                    },
                )

    @staticmethod
    def _escalation_steps(
        steps: list[tuple[int, int, int]], repeat_every: int
    ) -> Iterator[tuple[int, int, int]]:
        yield from steps
        if not steps or repeat_every <= 0:
            return
        top, after, _ = steps[-1]
        repeat = 1
        while True:
            yield top, after + repeat * repeat_every, repeat
            repeat += 1

    # -- report rules -----------------------------------------------------------------------------------

    def report(self, rule: Rule, reporting: ReportingInput) -> Iterator[Notification]:
        for period, covers in merged_periods(reporting):
            if rule.kind == NotificationKind.REPORT_FOLLOWUP:
                day = self.calendar.add_working_days(period.cutoff, rule.days)
            else:
                day = self.calendar.add_working_days(period.cutoff, -rule.days)
            if not self.in_range(day):
                continue
            units = list(reporting.units)
            if rule.kind != NotificationKind.REPORT_REQUEST:
                units = [u for u in units if not has_reported(reporting, u, covers, day)]
                if not units:
                    continue
            recipients = self.recipients(rule, rule.audience, reporting_units=units)
            period_id = f"{period.year}-{period.code}"
            yield self.make(
                rule,
                day,
                period.cutoff.isoformat(),  # not the send day: declaring a make-up day must not re-send
                recipients,
                plan=reporting.plan,
                period=period_id,
                data={
                    "report_period": period,
                    "covers": [p.code for p in covers],
                    "cutoff": period.cutoff,
                    "units": units,
                    "via": reporting.via,
                },
            )

    # -- digest and needs-date ----------------------------------------------------------------------------

    def digest_day(self, week_start: date, weekday: int) -> date | None:
        """The digest's day in the ISO week starting ``week_start``: the rule's weekday, or the next working
        day of the same week; None when the rest of the week is off (a holiday week has no digest, so a
        Deputy Director never gets two in one week)."""
        day = self.calendar.next_working_day(week_start + timedelta(days=weekday))
        return day if day <= week_start + timedelta(days=6) else None

    def previous_digest_day(self, week_start: date, weekday: int) -> date | None:
        """The day of the last digest before the week starting ``week_start`` (looking back 8 weeks)."""
        for back in range(1, 9):
            day = self.digest_day(week_start - timedelta(days=7 * back), weekday)
            if day is not None:
                return day
        return None

    def digest(self, rule: Rule) -> Iterator[Notification]:
        weekday = WEEKDAYS.index(rule.weekday)
        week_start = self.start - timedelta(days=self.start.weekday())
        while week_start <= self.end:
            nominal = week_start + timedelta(days=weekday)
            day = self.digest_day(week_start, weekday)
            if day is not None and self.in_range(day):
                since = self.previous_digest_day(week_start, weekday)
                iso_year, iso_week, _ = nominal.isocalendar()
                for to in [a for a in rule.audience if a.role == Role.TO]:
                    for code in self.codes_for(to.who, None, ()):
                        others = [a for a in rule.audience if a.role == Role.CC]
                        recipients = tuple(
                            Recipient(code, Role.TO, channel) for channel in rule.channels
                        ) + self.recipients(rule, others)
                        yield self.make(
                            rule,
                            day,
                            f"{iso_year}-W{iso_week:02d}/{code}",
                            recipients,
                            data={"recipient": code, "units": self.supervised(code), "since": since},
                        )
            week_start += timedelta(days=7)

    def supervised(self, leader: str) -> list[str]:
        if leader == _code(self.directory.director):
            return [u.code for u in self.directory.units]
        return [u.code for u in self.directory.units if u.supervisor == leader]

    def needs_date(self, rule: Rule) -> Iterator[Notification]:
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            day = self.calendar.first_working_day_of_month(year, month)
            if self.in_range(day):
                undated = [
                    t
                    for t in self.inputs.tasks
                    if _matches(rule, t) and t.is_undated(day) and t.done_on(day) is None
                ]
                if undated:
                    yield self.make(
                        rule,
                        day,
                        f"{year:04d}-{month:02d}",
                        self.recipients(rule, rule.audience),
                        plan=undated[0].plan,
                        data={"tasks": undated},
                    )
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def closing(self, rule: Rule) -> Iterator[Notification]:
        """On each plan's closing day (or the next working day), one list of its unfinished tasks."""
        for code, info in self.inputs.plans.items():
            if info.closing is None:
                continue
            day = self.calendar.next_working_day(info.closing)
            if not self.in_range(day):
                continue
            unfinished = [
                t
                for t in self.inputs.tasks
                if t.plan == code and _matches(rule, t) and t.done_on(day) is None
            ]
            if unfinished:
                yield self.make(
                    rule,
                    day,
                    info.closing.isoformat(),
                    self.recipients(rule, rule.audience),
                    plan=code,
                    data={"tasks": unfinished, "closing": info.closing},
                )


def _matches(rule: Rule, task: TaskInput) -> bool:
    selector = rule.applies_to
    return (
        (not selector.sections or (task.section or "").upper() in selector.sections)
        and (not selector.tasks or task.code.upper() in selector.tasks)
        and (not selector.lead_units or any(unit in selector.lead_units for unit in task.lead))
        and (not selector.deadline_kinds or task.kind in selector.deadline_kinds)
    )


def _code(person: Any) -> str:
    return str(person.code or person.title)


def merged_periods(reporting: ReportingInput) -> list[tuple[ReportPeriod, list[ReportPeriod]]]:
    """Periods grouped by cut-off; each group is named after its longest period (Q2 + H1 -> H1)."""
    groups: dict[date, list[ReportPeriod]] = {}
    for period in periods_for_year(reporting.year, reporting.kinds):
        groups.setdefault(period.cutoff, []).append(period)
    merged = []
    for cutoff in sorted(groups):
        members = groups[cutoff]
        main = max(members, key=lambda p: _PERIOD_SPAN.get(p.kind, 0))
        merged.append((main, members))
    return merged


def has_reported(reporting: ReportingInput, unit: str, covers: Sequence[ReportPeriod], day: date) -> bool:
    for period in covers:
        received = reporting.received.get((unit, period.code))
        if received is not None and received <= day:
            return True
    return False
