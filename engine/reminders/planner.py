"""The planner: which reminders are due, for whom, on which channel — from the data alone.

Why stateless: the planner reads open items (tasks not done with a due date, report
occurrences still pending), the rules and the calendar, and says what should exist by `now`.
It never looks at what was sent; the outbox inserts each `Occurrence` once by its key. So a
sweep may run every minute, twice, or a week late, and the result is the same.

Catch-up (after an outage): every step whose time has passed is still planned — except steps a
later fired step has superseded. On the owner's ladder (before:7, before:3, before:1, due,
overdue:2, overdue:4, …) only the latest fired step is emitted: "còn 7 ngày" is wrong once
"còn 3 ngày" is due, and a message that the item is 4 working days late says all "2 days late"
said. (`overdue.catch_up: all` in reminders.yaml keeps every missed overdue repeat instead.)
The escalation to the leader is a step of its own and is emitted whenever it has fired. In
normal operation (a sweep at least daily) every step is emitted on its own day, so nothing is
lost; two steps that a day off pushes onto the same working day give one message, the later.

Speed on a national database (3,321 units × 124 tasks): one range query per item kind on the
due-date indexes (`ix_tasks_due_on_state`, `ix_obligation_dues_state_due_on`) restricted to the
dates that can have a step to emit; steps computed once per distinct due date; plan texts, units
and people loaded once per batch of units, never per item; who an owner text means resolved once
per unit and text; rows read as plain tuples, each occurrence built directly (one payload dict,
no intermediate objects); no cyclic garbage collection while the plan is built (see
`_collector_paused`). bench/bench_reminders.py measures the national peak (73,062 occurrences).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.clock import VN_TZ, local_date
from engine.directory.people import UNIT_BATCH, Contact, OwnerIndex, contact_indexes
from engine.directory.units import get_unit
from engine.domain.calendar import WorkCalendar
from engine.domain.obligations import PENDING, due_link, period_label
from engine.reminders.occurrence import Base, Occurrence, new_occurrence
from engine.reminders.rules import (
    ReminderRules,
    Step,
    escalation_step,
    load_reminder_rules,
    owner_steps,
    past_reminding,
    query_window,
    select_fired,
)
from engine.runtime import Runtime
from engine.storage.models import Obligation, ObligationDue, PlanTask, Task, Unit


@dataclass(frozen=True)
class Unresolved:
    """An item with a reminder due that nobody can receive (no matching person/leader)."""

    unit: str
    item_kind: str
    item_id: int
    code: str
    owner: str | None
    step: str
    due_on: date
    send_on: date
    reason_vi: str
    reason_en: str


@dataclass
class ReminderPlan:
    #: In send day, unit, person, channel, item kind, due date, item, step order (a total
    #: order: no two occurrences share it all; see `Occurrence`).
    occurrences: list[Occurrence] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    items: int = 0  # open items in the date window that were examined


class _Schedules:
    """Steps per distinct due date: computed once however many items share the date."""

    def __init__(self, rules: ReminderRules, calendar: WorkCalendar, now: datetime,
                 limit: datetime) -> None:
        self.rules, self.calendar, self.now, self.limit = rules, calendar, now, limit
        self.limit_day = local_date(limit)
        self._cache: dict[date, tuple[list[Step], Step | None]] = {}

    def fired(self, due_on: date) -> tuple[list[Step], Step | None]:
        hit = self._cache.get(due_on)
        if hit is None:
            if past_reminding(due_on, self.limit_day, self.rules, self.calendar):
                hit = ([], None)
            else:
                steps = select_fired(owner_steps(due_on, self.rules, self.calendar),
                                     self.limit, self.rules, self.now)
                esc = escalation_step(due_on, self.rules, self.calendar)
                hit = (steps, esc if esc is not None and esc.fire_at <= self.limit else None)
            self._cache[due_on] = hit
        return hit


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a plan is built.

    A national peak builds ~100,000 objects (rows, occurrences) that form no reference cycles;
    each time enough of them survive, CPython's collector walks the whole heap again (half the
    planner's time, measured). Nothing is lost by deferring it: the collector runs as usual
    afterwards. Switched back on only if it was on: a caller that disabled it keeps it off,
    and two plans built at once on two threads at worst let the collector run during one.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())


def _units(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Slug and display name ("xã Vĩnh Thạnh") of the units `ids`: by id for a few units, the
    whole (small: a few thousand rows) table for many, rather than thousands of bound ids."""
    q = select(Unit.id, Unit.slug, Unit.kind, Unit.name)
    if len(ids) <= UNIT_BATCH:
        q = q.where(Unit.id.in_(sorted(ids)))
    return {uid: (slug, f"{kind} {name}")
            for uid, slug, kind, name in session.connection().execute(q) if uid in ids}


def task_window_query(rt: Runtime, lo: date, hi: date, unit_id: int | None
                      ) -> Select[int, int, str, str, str | None, date | None]:
    """Open tasks due in [lo, hi]: a range scan of `ix_tasks_due_on_state` (due_on, state)."""
    machine = rt.machine
    open_states = [s for s in machine.definition.state_names if not machine.is_done(s)]
    q = (select(Task.id, Task.unit_id, Task.plan_id, Task.code, Task.owner, Task.due_on)
         .where(Task.due_on >= lo, Task.due_on <= hi, Task.state.in_(open_states)))
    if unit_id is not None:
        q = q.where(Task.unit_id == unit_id)
    return q


def obligation_window_query(lo: date, hi: date, unit_id: int | None
                            ) -> Select[*tuple[Any, ...]]:
    """Pending report occurrences due in [lo, hi]: `ix_obligation_dues_state_due_on`."""
    q = (select(ObligationDue.id, Obligation.unit_id, ObligationDue.period_key,
                ObligationDue.due_on, ObligationDue.owner, Obligation.owner, Obligation.code,
                Obligation.title, Obligation.source_plan, Obligation.recipient,
                Obligation.schedule)
         .join(Obligation, Obligation.id == ObligationDue.obligation_id)
         .where(ObligationDue.state == PENDING, ObligationDue.due_on >= lo,
                ObligationDue.due_on <= hi, Obligation.retired.is_(False)))
    if unit_id is not None:
        q = q.where(Obligation.unit_id == unit_id)
    return q


def _due_tasks(rt: Runtime, session: Session, lo: date, hi: date, unit_id: int | None,
               sched: _Schedules) -> tuple[list[tuple[Any, ...]], int]:
    """(id, unit id, due date, owner, code, title, plan, document, steps, escalation) of the
    open tasks with a step to emit (retired plan tasks left out), and how many were examined."""
    rows = session.connection().execute(task_window_query(rt, lo, hi, unit_id)).all()
    fired = sched.fired
    due = []
    for tid, uid, plan, code, owner, due_on in rows:
        if due_on is None:  # pragma: no cover - excluded by the query
            continue
        steps, esc = fired(due_on)
        if steps or esc:
            due.append((tid, uid, plan, code, owner, due_on, steps, esc))
    if not due:
        return [], len(rows)
    plan_ids = sorted({d[2] for d in due})
    defs = {(p, c): (_first_line(text), product or "", retired)
            for p, c, text, product, retired in session.connection().execute(
                select(PlanTask.plan_id, PlanTask.code, PlanTask.text, PlanTask.product,
                       PlanTask.retired).where(PlanTask.plan_id.in_(plan_ids))).all()}
    missing = ("", "", True)
    out = []
    for tid, uid, plan, code, owner, due_on, steps, esc in due:
        title, document, retired = defs.get((plan, code), missing)
        if not retired:
            out.append((tid, uid, due_on, owner, code, title, plan, document, steps, esc))
    return out, len(rows)


def _due_obligations(session: Session, lo: date, hi: date, unit_id: int | None,
                     sched: _Schedules) -> tuple[list[tuple[Any, ...]], int]:
    """The pending report occurrences with a step to emit (window query columns, then steps
    and escalation), and how many were examined."""
    rows = session.connection().execute(obligation_window_query(lo, hi, unit_id)).all()
    fired = sched.fired
    due = []
    for row in rows:
        steps, esc = fired(row[3])
        if steps or esc:
            due.append((*row, steps, esc))
    return due, len(rows)


_Reach = tuple[list[tuple[int, str, str]], frozenset[int]]


def _reach(index: OwnerIndex[Contact], owner: str | None) -> _Reach:
    """(person id, name, channel) of everyone in charge of `owner` with a channel to reach
    them, and the ids of everyone in charge (reachable or not). Resolved once per unit and
    owner text, not per item (a unit's 124 tasks share a dozen owner texts)."""
    people = index.resolve(owner)
    reach = [(p.id, p.name, channel) for p in people
             if (channel := index.channel(p)) is not None]
    return reach, frozenset(p.id for p in people)


#: One item with a step to emit: kind, id, unit id, unit slug, due date, owner text, code,
#: payload without the per-step fields (built when read), fired owner steps, fired escalation.
_Item = tuple[str, int, int, str, date, str | None, str, Base, list[Step], Step | None]


def _task_payload(slug: str, unit_name: str, plan: str, code: str, title: str,
                  document: str, owner: str | None) -> dict[str, Any]:
    return {"kind": "task", "title": title, "unit": slug, "unit_name": unit_name,
            "plan": plan, "code": code, "recipient_body": "", "document": document,
            "link": f"/units/{slug}/tasks/{plan}/{code}", "item_owner": owner}


def _obligation_payload(slug: str, unit_name: str, did: int, period: str, owner: str | None,
                        code: str, title: str, shown: str, source_plan: str,
                        recipient: str) -> dict[str, Any]:
    return {"kind": "obligation", "title": shown, "unit": slug, "unit_name": unit_name,
            "plan": source_plan, "code": code, "period": period, "recipient_body": recipient,
            "document": title, "link": due_link(slug, did), "item_owner": owner}


def _items(tasks: list[tuple[Any, ...]], obligations: list[tuple[Any, ...]],
           units: dict[int, tuple[str, str]]) -> Iterator[_Item]:
    """The due tasks, then the due report occurrences, each with the function building its
    payload (called only for an occurrence whose payload is read: a new outbox row)."""
    for tid, uid, due_on, owner, code, title, plan, document, steps, esc in tasks:
        slug, unit_name = units[uid]
        yield "task", tid, uid, slug, due_on, owner, code, partial(
            _task_payload, slug, unit_name, plan, code, title, document, owner), steps, esc
    shown_titles: dict[tuple[str, str, str], str] = {}
    for (did, uid, period, due_on, owner, default_owner, code, title, source_plan, recipient,
         schedule, steps, esc) in obligations:
        slug, unit_name = units[uid]
        shown = shown_titles.get((title, schedule, period))
        if shown is None:
            shown = shown_titles[(title, schedule, period)] = (
                title if schedule == "once" else f"{title} ({period_label(period)})")
        who = owner or default_owner
        yield "obligation", did, uid, slug, due_on, who, code, partial(
            _obligation_payload, slug, unit_name, did, period, who, code, title, shown,
            source_plan, recipient), steps, esc


def _emit(items: Iterator[_Item], indexes: dict[int, OwnerIndex[Contact]],
          plan: ReminderPlan) -> None:
    """Each item's occurrences (one per fired step and reachable person in charge, plus the
    leader's escalation), or an `Unresolved` where nobody can receive one.

    Unit by unit, in unit id order: a unit's occurrences are sorted among themselves (a few
    dozen), then appended to their send day's list, and the days concatenated in order — the
    order of `ReminderPlan.occurrences` at a fraction of one sort of all of them."""
    by_unit: dict[int, list[_Item]] = {}
    for item in items:
        found = by_unit.get(item[2])
        if found is None:
            by_unit[item[2]] = [item]
        else:
            found.append(item)
    days: dict[date, list[Occurrence]] = {}
    unresolved: list[Unresolved] = []  # unit by unit: tasks, then reports, in query order
    new = new_occurrence
    for unit_id in sorted(by_unit):
        index = indexes[unit_id]
        owners: dict[str | None, _Reach] = {}
        occurrences: list[Occurrence] = []
        append = occurrences.append
        for kind, item_id, _uid, slug, due_on, owner, code, base, steps, esc in by_unit[unit_id]:
            found_reach = owners.get(owner)
            if found_reach is None:
                found_reach = owners[owner] = _reach(index, owner)
            reach, owner_ids = found_reach
            for step in steps:
                if not reach:
                    unresolved.append(Unresolved(
                        slug, kind, item_id, code, owner, step.name, due_on, step.send_on,
                        f"không có ai (đang hoạt động, có địa chỉ nhận) mang chức danh hoặc "
                        f"tên '{owner or '—'}'",
                        f"nobody active and reachable has the title or name '{owner or '-'}'"))
                    continue
                name, send_on, fire_at, days_left = step.name, step.send_on, step.fire_at, step.days
                for person_id, person_name, channel in reach:
                    append(new((send_on, unit_id, person_id, channel, kind, due_on, item_id,
                                name, fire_at, base, person_name, days_left, False)))
            if esc is None:
                continue
            leader = index.leader
            leader_channel = index.channel(leader) if leader is not None else None
            if leader is None or leader_channel is None:
                unresolved.append(Unresolved(
                    slug, kind, item_id, code, owner, esc.name, due_on, esc.send_on,
                    "đơn vị chưa có lãnh đạo (vai trò leader) nhận được tin báo quá hạn",
                    "the unit has no reachable leader to escalate to"))
                continue
            if leader.id in owner_ids:
                continue  # the leader is in charge himself: he already has the overdue ones
            append(new((esc.send_on, unit_id, leader.id, leader_channel, kind, due_on,
                        item_id, esc.name, esc.fire_at, base, leader.name, esc.days, True)))
        occurrences.sort()  # by their first fields: the order `Occurrence` documents
        for day, group in groupby(occurrences, key=_SEND_ON):
            found_day = days.get(day)
            if found_day is None:
                days[day] = list(group)
            else:
                found_day.extend(group)
    plan.unresolved = unresolved
    plan.occurrences = [o for day in sorted(days) for o in days[day]]


_SEND_ON = itemgetter(0)


def plan_reminders(
    rt: Runtime,
    now: datetime,
    *,
    unit: str | None = None,
    horizon_days: int = 0,
    rules: ReminderRules | None = None,
) -> ReminderPlan:
    """Every reminder whose fire time is at or before `now + horizon_days`, with the items
    whose owner matches nobody (so an admin can fix people.yaml)."""
    rules = rules or load_reminder_rules()
    if now.tzinfo is None:
        now = now.replace(tzinfo=VN_TZ)
    with _collector_paused():  # and the rows, people, … are freed before it runs again
        return _build_plan(rt, now, now + timedelta(days=horizon_days), unit, rules)


def _build_plan(rt: Runtime, now: datetime, limit: datetime, unit: str | None,
                rules: ReminderRules) -> ReminderPlan:
    sched = _Schedules(rules, rt.calendar, now, limit)
    lo, hi = query_window(local_date(now), local_date(limit), rules, rt.calendar)
    plan = ReminderPlan()
    with rt.db.read() as session:
        unit_id = get_unit(session, unit).id if unit is not None else None
        tasks: list[tuple[Any, ...]] = []
        obligations: list[tuple[Any, ...]] = []
        if "task" in rules.items:
            tasks, seen = _due_tasks(rt, session, lo, hi, unit_id, sched)
            plan.items += seen
        if "obligation" in rules.items:
            obligations, seen = _due_obligations(session, lo, hi, unit_id, sched)
            plan.items += seen
        unit_ids = {t[1] for t in tasks} | {o[1] for o in obligations}
        if unit_ids:
            indexes = contact_indexes(session, unit_ids)
            _emit(_items(tasks, obligations, _units(session, unit_ids)), indexes, plan)
    return plan


def due_occurrences(
    rt: Runtime,
    now: datetime,
    *,
    unit: str | None = None,
    horizon_days: int = 0,
    rules: ReminderRules | None = None,
) -> list[Occurrence]:
    """Every reminder due by `now + horizon_days` (horizon > 0 for previews: the reminders
    of the coming days, each on its day), for every open item; see the module docstring for
    catch-up and speed."""
    return plan_reminders(rt, now, unit=unit, horizon_days=horizon_days,
                          rules=rules).occurrences


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=VN_TZ)


def preview_plan(rt: Runtime, on: date, unit: str | None = None, *,
                 rules: ReminderRules | None = None) -> ReminderPlan:
    """What goes out on `on` (a normal day: the sweep ran every day before it)."""
    full = plan_reminders(rt, end_of_day(on), unit=unit, rules=rules)
    return ReminderPlan([o for o in full.occurrences if o.send_on == on],
                        [u for u in full.unresolved if u.send_on == on], full.items)


def preview(rt: Runtime, on: date, unit: str | None = None, *,
            rules: ReminderRules | None = None) -> list[Occurrence]:
    """The reminders that go out on `on` (for `cchc reminders preview --date`)."""
    return preview_plan(rt, on, unit, rules=rules).occurrences


__all__ = [
    "ReminderPlan",
    "Unresolved",
    "due_occurrences",
    "end_of_day",
    "obligation_window_query",
    "plan_reminders",
    "preview",
    "preview_plan",
    "task_window_query",
]
