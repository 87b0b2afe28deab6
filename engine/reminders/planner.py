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

Speed on a national database (3,321 units × 124 tasks, recurring work one row per period):
one range query per item kind on the due-date indexes (`ix_tasks_due_on_state`,
`ix_obligation_dues_state_due_on`) restricted to the dates that can have a step to emit, its
rows taken from the driver as plain tuples (`engine.storage.rows`); steps computed once per
distinct due date; plan texts, units and people loaded once per plan, never per item; who an
owner text means resolved once per unit and text, and kept between plans while the unit's
people are unchanged (`engine.reminders.recipients`); each item reduced to ONE tuple of its id
and shared values, which is also its occurrences' lazily built payload (`_Item`; the rows are
freed while the plan is built); each occurrence one tuple, sorted by send day within its unit
and merged; no cyclic garbage collection while the plan is built, and a large plan put
straight into the collector's oldest generation (see `_collector_paused`).
The sweep's find (`due_rows`) makes each occurrence a plain tuple (`OccurrenceRow`: one tuple
literal, no `Occurrence` instance): the sweep only keys them and makes an `Occurrence` of the
few it inserts. Previews and tests (`plan_reminders`, `due_occurrences`) get `Occurrence`s,
built by the same code with the same fields in the same order.
bench/bench_reminders.py measures the national peak (126,198 occurrences of 83,025 items);
docs/reminders.md, "Planner, issue 13 item 6, third pass", has the figures.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import chain
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.clock import VN_TZ, local_date
from engine.directory.people import UNIT_BATCH, active_people_rows
from engine.directory.units import get_unit
from engine.domain.calendar import WorkCalendar
from engine.domain.obligations import PENDING, due_link, period_label
from engine.domain.occurrences import path_code
from engine.reminders.occurrence import Occurrence, OccurrenceRow, new_occurrence
from engine.reminders.recipients import Recipients, unit_recipients
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
from engine.storage.rows import plain_rows


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


#: One step to emit for a due date, as the occurrences need it: send day, step name, fire
#: time, days (to the due date, or -working days late).
_Spec = tuple[date, str, datetime, int]
#: A due date (one object per date, shared by its items), its steps for the owner and the
#: leader's escalation.
_Fired = tuple[date, list[_Spec], _Spec | None]


def _spec(step: Step) -> _Spec:
    return step.send_on, step.name, step.fire_at, step.days


class _Schedules:
    """Steps per distinct due date: computed once however many items share the date."""

    def __init__(self, rules: ReminderRules, calendar: WorkCalendar, now: datetime,
                 limit: datetime) -> None:
        self.rules, self.calendar, self.now, self.limit = rules, calendar, now, limit
        self.limit_day = local_date(limit)
        self.cache: dict[date, _Fired] = {}

    def fired(self, due_on: date) -> _Fired:
        hit = self.cache.get(due_on)
        if hit is None:
            if past_reminding(due_on, self.limit_day, self.rules, self.calendar):
                hit = (due_on, [], None)
            else:
                steps = select_fired(owner_steps(due_on, self.rules, self.calendar),
                                     self.limit, self.rules, self.now)
                esc = escalation_step(due_on, self.rules, self.calendar)
                hit = (due_on, [_spec(s) for s in steps],
                       _spec(esc) if esc is not None and esc.fire_at <= self.limit else None)
            self.cache[due_on] = hit
        return hit


#: Young objects (allocated while the plan was built and still alive) above which a plan's
#: objects go straight to the oldest generation (see `_collector_paused`): a plan of a few
#: hundred units stays well below, the national peak leaves ~220,000.
PROMOTE_AFTER = 50_000


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a plan is built, nor young collections walking it.

    A national peak keeps ~213,000 tracked objects (126,198 occurrences, 83,025 items) that
    form no reference cycles; each time enough of them survive, CPython's collector walks the whole
    heap again (half the planner's time, measured), so it is off while the plan is built.
    Switched back on only if it was on: a caller that disabled it keeps it off, and two plans
    built at once on two threads at worst let the collector run during one.

    Switched back on, the collector would walk every object of a large plan at its next
    young collection (~130 ms CPU at the peak: a quarter of the planner's time) and again at
    the next middle one (~450 ms), though the sweep keeps the plan until its inserts are done
    and none of it is cyclic garbage. So when more than `PROMOTE_AFTER` young objects are
    left, they are moved to the oldest generation at once (`gc.freeze()` then
    `gc.unfreeze()`: two list splices, nothing walked), where only a full collection looks at
    them. Young objects of the caller made before the plan go with them: cyclic garbage among
    them waits for a full collection. Not done when something is frozen already (the
    caller's freeze is kept).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] > PROMOTE_AFTER and gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())


#: A unit's slug, display name ("xã Vĩnh Thạnh") and leader's name (units.yaml).
_UnitRow = tuple[str, str, str | None]


def _units(session: Session, ids: set[int]) -> dict[int, _UnitRow]:
    """Slug, display name and leader of the units `ids`: by id for a few units, the whole
    (small: a few thousand rows) table for many, rather than thousands of bound ids."""
    q = select(Unit.id, Unit.slug, Unit.kind, Unit.name, Unit.leader)
    if len(ids) <= UNIT_BATCH:
        q = q.where(Unit.id.in_(sorted(ids)))
    return {uid: (slug, f"{kind} {name}", leader)
            for uid, slug, kind, name, leader in plain_rows(session.connection(), q)
            if uid in ids}


def task_window_query(rt: Runtime, lo: date, hi: date, unit_id: int | None
                      ) -> Select[int, int, str, str, str | None, date | None, str]:
    """Open tasks due in [lo, hi]: a range scan of `ix_tasks_due_on_state` (due_on, state).
    Each occurrence of recurring work is a row with its own due date: its own series."""
    machine = rt.machine
    open_states = [s for s in machine.definition.state_names if not machine.is_done(s)]
    q = (select(Task.id, Task.unit_id, Task.plan_id, Task.code, Task.owner, Task.due_on,
                Task.occurrence)
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


#: One item to plan, which is also its occurrences' payload (`Occurrence.base`: the tuple
#: (builder, *arguments), the builder taking the item's fields after the builder): payload
#: builder, unit id, shared values (`_TaskWhat`, `_ReportWhat`: the code second), owner text,
#: item id, its due date's steps, and the report's period (None for a task). One tuple per
#: item, where an item and its payload were two.
_Item = tuple[Any, int, Any, str | None, int, _Fired, str | None]
_ByUnit = dict[int, list[_Item]]
#: A task's plan, code and period (`occurrence`, "" for one-off work): one shared tuple each.
_TaskWhat = tuple[str, str, str]
#: A report's default owner, code, title, plan, recipient body and schedule: shared likewise.
_ReportWhat = tuple[str | None, str, str, str, str, str]


class _Payloads:
    """Builds an item's payload when it is read (a new outbox row, a preview) from what the
    plan read once: units, plan task texts, report titles.

    Why: until then an item keeps only its id and the values it is built from (the rows it
    was read from are freed while the plan is built), so each of the 83,025 items of the
    national peak is one tuple (`_Item`: builder, unit id, values, …), not a row of strings
    and dates plus a payload dict."""

    def __init__(self) -> None:
        self.units: dict[int, _UnitRow] = {}
        self.tasks: dict[tuple[str, str], tuple[str, str]] = {}  # live plan tasks' texts
        self.shown: dict[tuple[str, str, str], str] = {}

    def task(self, unit_id: int, what: _TaskWhat, owner: str | None, *_item: object
             ) -> dict[str, Any]:
        plan, code, occurrence = what
        slug, unit_name, _leader = self.units[unit_id]
        title, document = self.tasks[(plan, code)]
        return {"kind": "task", "title": title, "unit": slug, "unit_name": unit_name,
                "plan": plan, "code": code, "recipient_body": "", "document": document,
                "link": f"/units/{slug}/tasks/{plan}/{path_code(code, occurrence)}",
                "item_owner": owner, **({"period": occurrence} if occurrence else {})}

    def obligation(self, unit_id: int, what: _ReportWhat, owner: str | None, did: int,
                   _fired: _Fired, period: str) -> dict[str, Any]:
        """`owner`: the occurrence's own owner, else the report's."""
        _default_owner, code, title, source_plan, recipient, schedule = what
        slug, unit_name, _leader = self.units[unit_id]
        shown = self.shown.get((title, schedule, period))
        if shown is None:
            shown = self.shown[(title, schedule, period)] = (
                title if schedule == "once" else f"{title} ({period_label(period)})")
        return {"kind": "obligation", "title": shown, "unit": slug, "unit_name": unit_name,
                "plan": source_plan, "code": code, "period": period,
                "recipient_body": recipient, "document": title, "link": due_link(slug, did),
                "item_owner": owner}


def _add(by_unit: _ByUnit, unit_id: int, item: _Item) -> None:
    found = by_unit.get(unit_id)
    if found is None:
        by_unit[unit_id] = [item]
    else:
        found.append(item)


def _task_items(session: Session, rows: Sequence[Sequence[Any]], sched: _Schedules,
                payloads: _Payloads) -> _ByUnit:
    """The open tasks of `rows` (the task window) with a step to emit, by unit, in row order;
    tasks of a retired (or unknown) plan task left out. Reads the plan task texts the
    payloads need."""
    fired, fire = sched.cache, sched.fired
    plan_ids = sorted({r[2] for r in rows})
    live = payloads.tasks
    if plan_ids:
        for p, c, text, product, retired in plain_rows(session.connection(), select(
                PlanTask.plan_id, PlanTask.code, PlanTask.text, PlanTask.product,
                PlanTask.retired).where(PlanTask.plan_id.in_(plan_ids))):
            if not retired:
                live[(p, c)] = (_first_line(text), product or "")
    build = payloads.task
    by_unit: _ByUnit = {}
    # One object per distinct value, shared by the items (a row's own die with the rows).
    unit_ids: dict[int, int] = {}
    owners: dict[str | None, str | None] = {}
    whats: dict[_TaskWhat, _TaskWhat] = {}
    for tid, uid, plan, code, owner, due_on, occurrence in rows:
        steps = fired.get(due_on) or fire(due_on)
        if not (steps[1] or steps[2]):
            continue
        what = whats.get((plan, code, occurrence))
        if what is None:
            if (plan, code) not in live:
                continue  # a retired plan task's
            what = (plan, code, occurrence)
            whats[what] = what
        uid = unit_ids.setdefault(uid, uid)
        owner = owners.setdefault(owner, owner)
        found = by_unit.get(uid)
        item = (build, uid, what, owner, tid, steps, None)
        if found is None:
            by_unit[uid] = [item]
        else:
            found.append(item)
    return by_unit


def _obligation_items(rows: Sequence[Sequence[Any]], sched: _Schedules, payloads: _Payloads
                      ) -> _ByUnit:
    """The pending report occurrences of `rows` (the report window) with a step to emit, by
    unit, in row order."""
    fired, fire = sched.cache, sched.fired
    build = payloads.obligation
    by_unit: _ByUnit = {}
    unit_ids: dict[int, int] = {}
    shared: dict[Any, Any] = {}
    for row in rows:
        did, uid, period, due_on, owner = row[:5]
        steps = fired.get(due_on) or fire(due_on)
        if not (steps[1] or steps[2]):
            continue
        what: _ReportWhat = tuple(row[5:])
        what = shared.setdefault(what, what)
        uid = unit_ids.setdefault(uid, uid)
        who = shared.setdefault(owner or what[0], owner or what[0])
        _add(by_unit, uid, (build, uid, what, who, did, steps, shared.setdefault(period, period)))
    return by_unit


def _no_reach(slug: str, kind: str, item_id: int, code: str, owner: str | None,
              spec: _Spec, due_on: date) -> Unresolved:
    return Unresolved(
        slug, kind, item_id, code, owner, spec[1], due_on, spec[0],
        f"không có ai (đang hoạt động, có địa chỉ nhận) mang chức danh hoặc "
        f"tên '{owner or '—'}'",
        f"nobody active and reachable has the title or name '{owner or '-'}'")


def _no_leader(slug: str, kind: str, item_id: int, code: str, owner: str | None,
               spec: _Spec, due_on: date) -> Unresolved:
    return Unresolved(
        slug, kind, item_id, code, owner, spec[1], due_on, spec[0],
        "đơn vị chưa có lãnh đạo (vai trò leader) nhận được tin báo quá hạn",
        "the unit has no reachable leader to escalate to")


#: What the planner makes of an occurrence's fields: `OccurrenceRow` or `Occurrence`.
_Row = TypeVar("_Row", bound=OccurrenceRow)


class _Emitter(Generic[_Row]):
    """Each item's occurrences (one per fired step and reachable person in charge, plus the
    leader's escalation), or an `Unresolved` where nobody can receive one.

    Each occurrence is `make` of its fields: a plain tuple (`tuple` gives the tuple itself:
    `OccurrenceRow`, the sweep's) or an `Occurrence` (`new_occurrence`). Unit by unit, in unit
    id order. A unit's occurrences go to one list per send day, sorted (a few dozen, nearly in
    order already: the people of an owner text come by id), then to that day's list; the days
    are concatenated in order — the order of `ReminderPlan.occurrences` without one sort of
    them all."""

    def __init__(self, units: dict[int, _UnitRow], make: Callable[[OccurrenceRow], _Row]
                 ) -> None:
        self.units, self.make = units, make
        self.days: dict[date, list[_Row]] = {}
        self.unresolved: list[Unresolved] = []  # unit by unit: tasks, reports, in row order

    def unit(self, unit_id: int, recipients: Recipients,
             kinds: tuple[tuple[str, list[_Item]], ...]) -> None:
        reach_of, reach = recipients.reach_of, recipients.reach
        by_day: dict[date, list[_Row]] = {}
        make = self.make
        day_of = by_day.get
        for kind, items in kinds:
            for base in items:
                _build, _uid, what, owner, item_id, (due_on, specs, esc), _period = base
                found = reach_of.get(owner)
                people, in_charge = found if found is not None else reach(owner)
                if people:
                    for send_on, name, fire_at, days in specs:
                        day = day_of(send_on)
                        if day is None:
                            day = by_day[send_on] = []
                        for person_id, person_name, channel in people:
                            day.append(make((send_on, unit_id, person_id, channel, kind,
                                             due_on, item_id, name, fire_at, base, person_name,
                                             days, False)))
                else:
                    for spec in specs:
                        self.unresolved.append(_no_reach(self.units[unit_id][0], kind, item_id,
                                                         what[1], owner, spec, due_on))
                if esc is None:
                    continue
                leader = recipients.leader()
                if leader is None:
                    self.unresolved.append(_no_leader(self.units[unit_id][0], kind, item_id,
                                                      what[1], owner, esc, due_on))
                    continue
                if leader[0] in in_charge:
                    continue  # the leader is in charge himself: he already has the overdue ones
                send_on, name, fire_at, days = esc
                day = day_of(send_on)
                if day is None:
                    day = by_day[send_on] = []
                day.append(make((send_on, unit_id, leader[0], leader[2], kind, due_on, item_id,
                                 name, fire_at, base, leader[1], days, True)))
        all_days = self.days
        for send_on, occurrences in by_day.items():
            occurrences.sort()  # by their first fields: the order `Occurrence` documents
            found_day = all_days.get(send_on)
            if found_day is None:
                all_days[send_on] = occurrences
            else:
                found_day.extend(occurrences)

    def rows(self) -> list[_Row]:
        return list(chain.from_iterable(self.days[day] for day in sorted(self.days)))


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
    with _collector_paused():  # and the rows, people, … are freed before it runs again
        return ReminderPlan(*_build_plan(rt, now, unit, horizon_days, rules, new_occurrence))


def due_rows(rt: Runtime, now: datetime, *, unit: str | None = None, horizon_days: int = 0,
             rules: ReminderRules | None = None) -> list[OccurrenceRow]:
    """`due_occurrences` as plain tuples of the same fields, in the same order (the sweep's
    find: it keys them all and makes an `Occurrence` only of the rows it inserts)."""
    with _collector_paused():
        return _build_plan(rt, now, unit, horizon_days, rules, tuple)[0]


def _build_plan(rt: Runtime, now: datetime, unit: str | None, horizon_days: int,
                rules: ReminderRules | None, make: Callable[[OccurrenceRow], _Row]
                ) -> tuple[list[_Row], list[Unresolved], int]:
    """The plan's occurrences (each `make` of its fields), its unresolved items and how many
    items it examined."""
    rules = rules or load_reminder_rules()
    if now.tzinfo is None:
        now = now.replace(tzinfo=VN_TZ)
    limit = now + timedelta(days=horizon_days)
    sched = _Schedules(rules, rt.calendar, now, limit)
    lo, hi = query_window(local_date(now), local_date(limit), rules, rt.calendar)
    with rt.db.read() as session:
        conn = session.connection()
        unit_id = get_unit(session, unit).id if unit is not None else None
        task_rows: Sequence[Sequence[Any]] = []
        obligation_rows: Sequence[Sequence[Any]] = []
        if "task" in rules.items:
            task_rows = plain_rows(conn, task_window_query(rt, lo, hi, unit_id))
        if "obligation" in rules.items:
            obligation_rows = plain_rows(conn, obligation_window_query(lo, hi, unit_id))
        items = len(task_rows) + len(obligation_rows)
        payloads = _Payloads()
        tasks = _task_items(session, task_rows, sched, payloads)
        obligations = _obligation_items(obligation_rows, sched, payloads)
        del task_rows, obligation_rows  # freed now: the items keep shared values only
        unit_ids = tasks.keys() | obligations.keys()
        if not unit_ids:
            return [], [], items
        units = payloads.units
        units.update(_units(session, unit_ids))
        recipients = unit_recipients(
            rt.db.url, {uid: leader for uid, (_slug, _name, leader) in units.items()},
            active_people_rows(session, unit_ids))
    emitter = _Emitter(units, make)
    for uid in sorted(unit_ids):
        emitter.unit(uid, recipients[uid],
                     (("task", tasks.get(uid, [])), ("obligation", obligations.get(uid, []))))
    return emitter.rows(), emitter.unresolved, items


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
    "due_rows",
    "end_of_day",
    "obligation_window_query",
    "plan_reminders",
    "preview",
    "preview_plan",
    "task_window_query",
]
