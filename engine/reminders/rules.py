"""Reminder rules (`workflows/reminders.yaml`) and the steps they give one due date.

Why pure functions of (due date, rules, calendar): a step's day depends only on those, so the
planner computes each distinct due date's steps once however many thousand items share it,
and tests can check every calendar case without a database.

A due date's steps, for the person in charge (one "ladder", in order):
  before:7, before:3, before:1, due  — `before_due_days` calendar days before the due date;
      a day off moves the step to the previous working day (two steps may then share a day);
  overdue:2, overdue:4, …            — every `overdue.every_working_days` working days after
      the effective due date (the due date, or the next working day when it is a day off, as
      `engine.domain.timeliness` counts lateness), thinning out to every
      `then_every_working_days` after `then_after_working_days`, up to
      `overdue.stop_after_working_days`;
and for the unit's leader:
  escalate                           — once, `escalation.after_working_days` working days
      after the effective due date.
Each step fires at `send_at` (08:00 Vietnam time) on its day.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from engine.clock import VN_TZ, local_date
from engine.domain import timeliness
from engine.domain.calendar import WorkCalendar
from plans.loader import load_model_cached
from workflows import WORKFLOW_DIR
from workflows.reminder_schema import OverdueRule, ReminderRules

DEFAULT_RULES_FILE = WORKFLOW_DIR / "reminders.yaml"
#: Days off between a nominal date and the working day a step moves to: Tết, plus weekends
#: around it, stays well inside this. Used only to widen the planner's date-range query.
DAY_OFF_SLACK = 16

Track = Literal["owner", "leader"]


def load_reminder_rules(path: Path | None = None) -> ReminderRules:
    """Read and validate the rules file; `DataFileError` (file, line, reason) if malformed."""
    return load_model_cached(ReminderRules, path or DEFAULT_RULES_FILE)


@dataclass(frozen=True, slots=True)
class Step:
    """One reminder step of one due date."""

    name: str  # "before:7", "due", "overdue:2", "escalate"
    track: Track
    rank: int  # position on the owner's ladder (later steps supersede earlier ones)
    send_on: date
    fire_at: datetime  # aware, Vietnam time
    days: int  # calendar days left before the due date (> 0), 0, or -working days overdue

    @property
    def is_before_due(self) -> bool:
        return self.name == "due" or self.name.startswith("before:")

    @property
    def is_overdue(self) -> bool:
        return self.name.startswith("overdue:")


@functools.lru_cache(maxsize=16)
def _repeats(rule: OverdueRule) -> tuple[int, ...]:
    return tuple(rule.repeats())


def fire_time(day: date, rules: ReminderRules) -> datetime:
    return datetime.combine(day, rules.send_at, tzinfo=VN_TZ)


def effective_due(due_on: date, calendar: WorkCalendar) -> date:
    """The last day work may be done: the next working day when the due date is a day off
    (`engine.domain.timeliness.effective_due`, never None for a date)."""
    deadline = timeliness.effective_due(due_on, calendar)
    assert deadline is not None
    return deadline


def owner_steps(due_on: date, rules: ReminderRules, calendar: WorkCalendar) -> tuple[Step, ...]:
    """The ladder for the person in charge, in order (pre-due steps, then overdue repeats)."""
    out: list[Step] = []
    rank = 0
    for lead in rules.lead_days:
        day = calendar.previous_working_day(due_on - timedelta(days=lead))
        out.append(Step("due" if lead == 0 else f"before:{lead}", "owner", rank, day,
                        fire_time(day, rules), (due_on - day).days))
        rank += 1
    eff = effective_due(due_on, calendar)
    for n in _repeats(rules.overdue):
        day = calendar.add_working_days(eff, n)
        out.append(Step(f"overdue:{n}", "owner", rank, day, fire_time(day, rules), -n))
        rank += 1
    return tuple(out)


def escalation_step(due_on: date, rules: ReminderRules, calendar: WorkCalendar) -> Step | None:
    esc = rules.escalation
    if esc is None:
        return None
    n = esc.after_working_days
    day = calendar.add_working_days(effective_due(due_on, calendar), n)
    return Step("escalate", "leader", 0, day, fire_time(day, rules), -n)


def select_fired(steps: tuple[Step, ...], limit: datetime, rules: ReminderRules,
                 now: datetime | None = None) -> list[Step]:
    """The owner steps to emit: those fired by `now`, minus the superseded ones, plus (for a
    preview, `now` < `limit`) those that will fire in (now, limit].

    A pre-due step is superseded by any later step already fired ("còn 7 ngày" is wrong once
    "còn 3 ngày" is due); with `catch_up: latest` an overdue repeat is superseded by a later one
    as well, so a sweep that ran late sends one up-to-date message, not a backlog. Steps still
    to come are each sent on their day, except that of steps a day off puts on the same day,
    only the latest goes (as the sweep of that morning will do).
    """
    now = limit if now is None or now > limit else now
    fired = [s for s in steps if s.fire_at <= now]
    out: list[Step] = []
    if fired:
        if rules.overdue.catch_up == "latest" or not fired[-1].is_overdue:
            out = [fired[-1]]
        else:
            out = [s for s in fired if s.is_overdue]
    coming = [s for s in steps if now < s.fire_at <= limit]
    out += [s for i, s in enumerate(coming)
            if i + 1 == len(coming) or coming[i + 1].fire_at != s.fire_at]
    return out


def query_window(today: date, limit_day: date, rules: ReminderRules,
                 calendar: WorkCalendar) -> tuple[date, date]:
    """Due dates that can have a step to emit between the reminders' end and `limit_day`.

    The lower end: `stop_after_working_days` working days before today (the escalation is
    never later, the schema checks it), less the slack a day-off shift can add; the upper end:
    the longest lead after `limit_day`, plus the same slack.
    """
    stop = rules.overdue.stop_after_working_days
    lo = calendar.add_working_days(today, -stop) - timedelta(days=DAY_OFF_SLACK)
    hi = limit_day + timedelta(days=rules.max_lead + DAY_OFF_SLACK)
    return lo, hi


def past_reminding(due_on: date, today: date, rules: ReminderRules,
                   calendar: WorkCalendar) -> bool:
    """True once an item is more overdue than `stop_after_working_days`: no more reminders."""
    eff = effective_due(due_on, calendar)
    return today > eff and (calendar.working_days_between(eff, today)
                            > rules.overdue.stop_after_working_days)


def next_send_time(at: datetime, rules: ReminderRules, calendar: WorkCalendar) -> datetime:
    """The first moment at or after `at` inside the sending window on a working day.

    For the dispatcher: a message planned for 08:00 but picked up at 19:00 (or on a Saturday)
    waits for 07:30 of the next working day instead of waking someone up.
    """
    local = at.astimezone(VN_TZ)
    day = local_date(local)
    window = rules.send_window
    if calendar.is_working_day(day):
        if local.time() < window.start:
            return datetime.combine(day, window.start, tzinfo=VN_TZ)
        if local.time() <= window.end:
            return local
    nxt = calendar.next_working_day(day + timedelta(days=1))
    return datetime.combine(nxt, window.start, tzinfo=VN_TZ)


def in_send_window(at: datetime, rules: ReminderRules, calendar: WorkCalendar) -> bool:
    local = at.astimezone(VN_TZ)
    return calendar.is_working_day(local.date()) and rules.send_window.contains(
        time(local.hour, local.minute, local.second))


__all__ = [
    "DEFAULT_RULES_FILE",
    "ReminderRules",
    "Step",
    "effective_due",
    "escalation_step",
    "fire_time",
    "in_send_window",
    "load_reminder_rules",
    "next_send_time",
    "owner_steps",
    "past_reminding",
    "query_window",
    "select_fired",
]
