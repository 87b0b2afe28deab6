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
and people loaded once per batch of units, never per item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.calendar import WorkCalendar
from engine.clock import VN_TZ, local_date
from engine.obligations import PENDING, due_link, period_label
from engine.people import UNIT_BATCH, Contact, OwnerIndex, contact_indexes
from engine.reminders.occurrence import Occurrence
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
from engine.units import get_unit


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
    occurrences: list[Occurrence] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    items: int = 0  # open items in the date window that were examined


@dataclass(frozen=True, slots=True)
class _Item:
    kind: str  # "task" | "obligation"
    id: int
    unit_id: int
    due_on: date
    owner: str | None
    code: str
    base: dict[str, Any]  # payload without the per-step fields
    owner_steps: list[Step]
    escalation: Step | None


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


def _chunks(ids: Sequence[int], size: int = UNIT_BATCH) -> list[Sequence[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())


def _units(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(sorted(ids)):
        for uid, slug, kind, name in session.connection().execute(
                select(Unit.id, Unit.slug, Unit.kind, Unit.name).where(Unit.id.in_(chunk))).all():
            out[uid] = (slug, f"{kind} {name}")
    return out


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


def _task_items(rt: Runtime, session: Session, lo: date, hi: date, unit_id: int | None,
                sched: _Schedules) -> tuple[list[_Item], int]:
    rows = session.connection().execute(task_window_query(rt, lo, hi, unit_id)).all()
    due: list[tuple[tuple[int, int, str, str, str | None, date], list[Step], Step | None]] = []
    for tid, uid, plan, code, owner, due_on in rows:
        if due_on is None:  # pragma: no cover - excluded by the query
            continue
        steps, esc = sched.fired(due_on)
        if steps or esc:
            due.append(((tid, uid, plan, code, owner, due_on), steps, esc))
    if not due:
        return [], len(rows)
    plan_ids = sorted({d[0][2] for d in due})
    defs = {(p, c): (_first_line(text), product, retired)
            for p, c, text, product, retired in session.connection().execute(
                select(PlanTask.plan_id, PlanTask.code, PlanTask.text, PlanTask.product,
                       PlanTask.retired).where(PlanTask.plan_id.in_(plan_ids))).all()}
    units = _units(session, list({d[0][1] for d in due}))
    items = []
    for (tid, uid, plan, code, owner, due_on), steps, esc in due:
        text, product, retired = defs.get((plan, code), ("", None, True))
        if retired:
            continue
        slug, unit_name = units[uid]
        base = {
            "kind": "task", "title": text, "unit": slug, "unit_name": unit_name,
            "plan": plan, "code": code, "recipient_body": "", "document": product or "",
            "link": f"/units/{slug}/tasks/{plan}/{code}", "item_owner": owner,
        }
        items.append(_Item("task", tid, uid, due_on, owner, code, base, steps, esc))
    return items, len(rows)


def _obligation_items(session: Session, lo: date, hi: date, unit_id: int | None,
                      sched: _Schedules) -> tuple[list[_Item], int]:
    rows = session.connection().execute(obligation_window_query(lo, hi, unit_id)).all()
    due = [(r, *sched.fired(r[3])) for r in rows]
    due = [d for d in due if d[1] or d[2]]
    units = _units(session, list({d[0][1] for d in due})) if due else {}
    items = []
    for (did, uid, period, due_on, owner, default_owner, code, title, source_plan, recipient,
         schedule), steps, esc in due:
        slug, unit_name = units[uid]
        shown = title if schedule == "once" else f"{title} ({period_label(period)})"
        who = owner or default_owner
        base = {
            "kind": "obligation", "title": shown, "unit": slug, "unit_name": unit_name,
            "plan": source_plan, "code": code, "period": period, "recipient_body": recipient,
            "document": title, "link": due_link(slug, did), "item_owner": who,
        }
        items.append(_Item("obligation", did, uid, due_on, who, code, base, steps, esc))
    return items, len(rows)


def _emit(item: _Item, index: OwnerIndex[Contact], plan: ReminderPlan) -> None:
    owners = index.resolve(item.owner)
    for step in item.owner_steps:
        sent = 0
        for person in owners:
            channel = index.channel(person)
            if channel is None:
                continue
            payload = {**item.base, "days": step.days, "person_name": person.name,
                       "escalation": False}
            plan.occurrences.append(Occurrence(
                item.unit_id, person.id, channel, item.kind, item.id, item.due_on, step.name,
                step.send_on, step.fire_at, payload))
            sent += 1
        if not sent:
            plan.unresolved.append(Unresolved(
                item.base["unit"], item.kind, item.id, item.code, item.owner, step.name,
                item.due_on, step.send_on,
                f"không có ai (đang hoạt động, có địa chỉ nhận) mang chức danh hoặc tên "
                f"'{item.owner or '—'}'",
                f"nobody active and reachable has the title or name '{item.owner or '-'}'"))
    esc = item.escalation
    if esc is None:
        return
    leader = index.leader
    channel = index.channel(leader) if leader is not None else None
    if leader is None or channel is None:
        plan.unresolved.append(Unresolved(
            item.base["unit"], item.kind, item.id, item.code, item.owner, esc.name,
            item.due_on, esc.send_on,
            "đơn vị chưa có lãnh đạo (vai trò leader) nhận được tin báo quá hạn",
            "the unit has no reachable leader to escalate to"))
        return
    for p in owners:
        if p.id == leader.id:
            return  # the leader is in charge himself: he already has the overdue reminders
    payload = {**item.base, "days": esc.days, "person_name": leader.name, "escalation": True}
    plan.occurrences.append(Occurrence(
        item.unit_id, leader.id, channel, item.kind, item.id, item.due_on, esc.name,
        esc.send_on, esc.fire_at, payload))


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
    limit = now + timedelta(days=horizon_days)
    sched = _Schedules(rules, rt.calendar, now, limit)
    lo, hi = query_window(local_date(now), local_date(limit), rules, rt.calendar)
    plan = ReminderPlan()
    with rt.db.read() as session:
        unit_id = get_unit(session, unit).id if unit is not None else None
        items: list[_Item] = []
        if "task" in rules.items:
            found, seen = _task_items(rt, session, lo, hi, unit_id, sched)
            items += found
            plan.items += seen
        if "obligation" in rules.items:
            found, seen = _obligation_items(session, lo, hi, unit_id, sched)
            items += found
            plan.items += seen
        items.sort(key=lambda i: i.unit_id)
        unit_ids = sorted({i.unit_id for i in items})
        start = 0
        for chunk in _chunks(unit_ids):
            indexes = contact_indexes(session, chunk)
            last = chunk[-1]
            while start < len(items) and items[start].unit_id <= last:
                _emit(items[start], indexes[items[start].unit_id], plan)
                start += 1
    plan.occurrences.sort(key=lambda o: (o.send_on, o.unit_id, o.person_id, o.channel,
                                         o.item_kind, o.due_on, o.item_id, o.step))
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
