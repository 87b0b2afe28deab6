"""Aggregates the web pages and the JSON API show: progress per plan, what is due this week,
what is overdue, "my tasks", sub-reports coming due, and the city's overview of its communes.

Why a module of its own: the dashboard, the city page and the API must count the same way —
"done" is the workflow's done state, "overdue" is `Timeliness.OPEN_OVERDUE` as of today (a due
date on a day off moves to the next working day), a week runs Monday to Sunday — so the rules
live here once, built only on the engine's own read functions (`list_tasks`,
`list_obligation_dues`, `list_people`, the snapshot store). Everything is read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, bindparam, select

from engine.directory.accounts import UserView
from engine.directory.people import PersonView, list_people, login_person, owner_key
from engine.directory.units import (
    KIND_PREFIX,
    UnitView,
    all_views,
    effective_cutoff_day,
    get_unit,
    view,
)
from engine.domain.obligations import PENDING, ObligationDueView, list_obligation_dues
from engine.domain.occurrences import current_of, listed
from engine.domain.periods import ReportingPeriod, parse_period, period_containing, quarters_of
from engine.domain.plan_ids import PlanHead, plan_heads
from engine.domain.tasks import (
    TaskKey,
    TaskRow,
    TaskView,
    definition_of,
    find_task,
    in_force,
    list_tasks,
)
from engine.domain.timeliness import Timeliness, effective_due, is_ongoing, timeliness
from engine.runtime import Runtime
from engine.storage.models import (
    Obligation,
    ObligationDue,
    Plan,
    PlanSection,
    PlanTask,
    Task,
    UnitPlan,
)
from engine.storage.models import Snapshot as SnapshotRow

#: The unit kinds that are communes (have plans of their own; a city or province reviews them).
COMMUNE_KINDS = frozenset(KIND_PREFIX)

#: How far ahead the dashboard lists sub-reports coming due (overdue ones are always listed).
OBLIGATIONS_AHEAD_DAYS = 30


# ---------------------------------------------------------------- plain views


@dataclass(frozen=True)
class PlanProgress:
    """One plan of one unit: how many tasks, how many done (the workflow's done state)."""

    plan: str
    title: str
    appendix: int
    year: int
    total: int
    done: int
    overdue: int
    ongoing: int = 0  # "Thường xuyên" work among `total`: no due date, counted apart

    @property
    def not_done(self) -> int:
        return self.total - self.done

    @property
    def percent(self) -> int:
        """Done share in whole percent, rounded down (100 only when everything is done)."""
        return (100 * self.done) // self.total if self.total else 0


@dataclass(frozen=True)
class SectionView:
    """A section (I–VII) or PAPI dimension (1–8, 1.1–8.3) of a plan."""

    plan: str
    code: str
    title: str | None
    parent: str | None


@dataclass(frozen=True)
class FrozenPeriod:
    """A period whose figures were frozen (chốt số liệu): never changes afterwards."""

    period: str
    start: date
    end: date
    taken_at: datetime
    taken_by: str
    content_hash: str


@dataclass(frozen=True)
class Week:
    """Monday to Sunday (inclusive) of the week containing `today`."""

    today: date
    start: date
    end: date


class _PlansTotals:
    """Tasks and done tasks over a unit's plans, and the done share in whole percent."""

    plans: list[PlanProgress]

    @property
    def total(self) -> int:
        return sum(p.total for p in self.plans)

    @property
    def done(self) -> int:
        return sum(p.done for p in self.plans)

    @property
    def percent(self) -> int:
        return (100 * self.done) // self.total if self.total else 0


@dataclass(frozen=True)
class UnitDashboard(_PlansTotals):
    """Everything the dashboard of one unit shows, computed from one read of its tasks."""

    unit: UnitView
    today: date
    week: Week
    plans: list[PlanProgress]
    due_this_week: list[TaskView]
    overdue: list[TaskView]
    obligations: list[ObligationDueView]
    person: PersonView | None = None
    my_tasks: list[TaskView] = field(default_factory=list)
    obligations_overdue: list[ObligationDueView] = field(default_factory=list)


@dataclass(frozen=True)
class UnitOverview(_PlansTotals):
    """One commune as the city reviewer sees it: completion per plan, overdue counts and
    whether the reporting quarter (`period`) has been frozen."""

    unit: UnitView
    plans: list[PlanProgress]
    overdue_tasks: int
    overdue_obligations: int
    period: str
    period_label: str
    frozen: bool

    @property
    def has_data(self) -> bool:
        return bool(self.plans)

    def year(self, year: int) -> PlanProgress | None:
        """Done/total over the plans of one year only: plans of different years are never
        added into one figure."""
        plans = [p for p in self.plans if p.year == year]
        if not plans:
            return None
        total, done = sum(p.total for p in plans), sum(p.done for p in plans)
        return PlanProgress(f"{year}", f"Năm {year}", 0, year, total, done,
                            sum(p.overdue for p in plans), sum(p.ongoing for p in plans))


# ---------------------------------------------------------------- pure helpers


def week_of(day: date) -> Week:
    """The Monday–Sunday week containing `day`."""
    start = day - timedelta(days=day.weekday())
    return Week(day, start, start + timedelta(days=6))


#: The timeliness values the counts compare with (an enum member's `.value` is slow to read).
_OVERDUE, _ONGOING = Timeliness.OPEN_OVERDUE.value, Timeliness.ONGOING.value


def is_overdue(task: TaskRow) -> bool:
    return task.timeliness == _OVERDUE


def progress(rt: Runtime, tasks: Iterable[TaskView], plans: Sequence[PlanHead]
             ) -> list[PlanProgress]:
    """Per plan (in appendix order): total, done, overdue and ongoing among `tasks`. Recurring
    work counts once in total and done (its occurrence in force: the latest one listed) and
    every listed overdue occurrence in overdue."""
    tasks = list(tasks)
    counted = {id(t) for t in in_force(tasks)}
    return _progress(
        ((t.plan, rt.machine.is_done(t.state), is_overdue(t),
          t.timeliness == _ONGOING, id(t) in counted) for t in tasks),
        [(p.id, p.title, p.appendix_number, p.year) for p in plans])


def _progress(tasks: Iterable[tuple[str, bool, bool, bool, bool]],
              plans: Sequence[tuple[str, str, int, int]]) -> list[PlanProgress]:
    """`progress` on plain values: tasks as (plan id, done, overdue, ongoing, counted — false
    for an earlier occurrence listed only because it is overdue), plans as (id, title, appendix
    number, year)."""
    counts: dict[str, list[int]] = {p[0]: [0, 0, 0, 0] for p in plans}
    for task_plan, is_done, late, ongoing, counted in tasks:
        c = counts.setdefault(task_plan, [0, 0, 0, 0])
        c[0] += counted
        c[1] += is_done and counted
        c[2] += late
        c[3] += ongoing and counted
    by_id = {p[0]: p for p in plans}
    out = []
    for plan_id, (total, done, overdue, n_ongoing) in counts.items():
        p = by_id.get(plan_id)
        out.append(PlanProgress(plan_id, p[1] if p else plan_id, p[2] if p else 0,
                                p[3] if p else 0, total, done, overdue, n_ongoing))
    return sorted(out, key=lambda x: (x.appendix, x.plan))


def due_between(rt: Runtime, tasks: Iterable[TaskView], start: date, end: date
                ) -> list[TaskView]:
    """Open, not yet overdue tasks due in [start, end] — by the date written (Sunday
    31/12) or by the day it moves to when that is a day off (Tuesday 02/01) — soonest
    first."""
    out: list[tuple[date, TaskView]] = []
    for t in tasks:
        if t.due_on is None or rt.machine.is_done(t.state) or is_overdue(t):
            continue
        due = effective_due(t.due_on, rt.calendar) or t.due_on
        if start <= t.due_on <= end or start <= due <= end:
            out.append((t.due_on, t))
    return [t for _due, t in sorted(out, key=lambda x: x[0])]


def work_order(rt: Runtime, tasks: Iterable[TaskView]) -> list[TaskView]:
    """The order an officer works in: open tasks first — overdue ones, then by due date
    (no date last) — then finished ones; ties keep the given (appendix) order."""
    far = date.max

    def key(t: TaskView) -> tuple[int, date]:
        if rt.machine.is_done(t.state):
            return (2, t.due_on or far)
        return (0 if is_overdue(t) else 1, t.due_on or far)

    return sorted(tasks, key=key)


class _Owned(Protocol):
    @property
    def owner(self) -> str | None: ...
    @property
    def state(self) -> str: ...


_Task = TypeVar("_Task", bound=_Owned)


class _Titled(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str | None: ...


def owned_by(rt: Runtime, tasks: Iterable[_Task], person: _Titled, *,
             open_only: bool = True) -> list[_Task]:
    """Tasks whose owner text names `person`'s title or name (NFC, any case, dashes
    normalised — the same matching reminders use)."""
    keys = {owner_key(person.name)}
    if person.title:
        keys.add(owner_key(person.title))
    matches: dict[str, bool] = {}  # per owner text: a list repeats few of them

    def named(owner: str) -> bool:
        hit = matches.get(owner)
        if hit is None:
            hit = matches[owner] = owner_key(owner) in keys
        return hit

    return [t for t in tasks if t.owner and named(t.owner)
            and not (open_only and rt.machine.is_done(t.state))]


# ---------------------------------------------------------------- reads


def unit_view(rt: Runtime, unit: str) -> UnitView:
    with rt.db.read() as session:
        return view(session, get_unit(session, unit), rt.settings.report_cutoff_day)


def unit_plans(rt: Runtime, unit: str) -> list[PlanHead]:
    """The plans loaded for `unit`, in appendix order."""
    with rt.db.read() as session:
        return plan_heads(session, get_unit(session, unit))


def plan_progress(rt: Runtime, unit: str) -> list[PlanProgress]:
    """Done/total (and overdue) per plan of `unit`, in appendix order."""
    return progress(rt, list_tasks(rt, unit, earlier=True), unit_plans(rt, unit))


def due_this_week(rt: Runtime, unit: str, *, today: date | None = None) -> list[TaskView]:
    """Open tasks of `unit` due from today to Sunday of this week (overdue ones excluded)."""
    today = today or rt.today()
    return due_between(rt, list_tasks(rt, unit), today, week_of(today).end)


def overdue_tasks(rt: Runtime, unit: str) -> list[TaskView]:
    """Open tasks of `unit` past their (effective) due date, as of today."""
    return list_tasks(rt, unit, overdue=True)


def person_of(rt: Runtime, user: UserView) -> PersonView | None:
    """The person (people.yaml) a login stands for: the linked `person_id`, else the active
    person of the user's unit with the same name. None for a login that is nobody's."""
    if user.unit_slug is None:
        return None
    return login_person((p for p in list_people(rt, user.unit_slug) if p.active),
                        user.person_id, user.full_name)


def my_tasks(rt: Runtime, user: UserView, *, open_only: bool = True) -> list[TaskView]:
    """Tasks of the user's commune whose owner is the user's position or name."""
    person = person_of(rt, user)
    if person is None or user.unit_slug is None:
        return []
    return owned_by(rt, list_tasks(rt, user.unit_slug), person, open_only=open_only)


def obligations_coming_due(rt: Runtime, unit: str, *, days: int = OBLIGATIONS_AHEAD_DAYS,
                           today: date | None = None) -> list[ObligationDueView]:
    """Sub-reports not yet sent, not overdue, due within `days` days, by due date (the
    overdue ones are `obligations_overdue`: "sắp đến hạn" never lists a late report)."""
    today = today or rt.today()
    horizon = today + timedelta(days=days)
    return [d for d in list_obligation_dues(rt, unit, state=PENDING)
            if not d.overdue and d.due_on <= horizon]


def obligations_overdue(rt: Runtime, unit: str) -> list[ObligationDueView]:
    """Sub-reports not yet sent whose (effective) due date has passed, oldest first."""
    return [d for d in list_obligation_dues(rt, unit, state=PENDING) if d.overdue]


def unit_dashboard(rt: Runtime, unit: str, *, user: UserView | None = None,
                   today: date | None = None) -> UnitDashboard:
    """The dashboard of `unit` (and of `user` in it: their own open tasks)."""
    today = today or rt.today()
    listed = list_tasks(rt, unit, earlier=True)  # recurring work's overdue occurrences too
    tasks = in_force(listed)
    week = week_of(today)
    person = person_of(rt, user) if user is not None and user.unit_slug == unit else None
    return UnitDashboard(
        unit=unit_view(rt, unit), today=today, week=week,
        plans=progress(rt, listed, unit_plans(rt, unit)),
        due_this_week=due_between(rt, tasks, today, week.end),
        overdue=[t for t in listed if is_overdue(t)],
        obligations=obligations_coming_due(rt, unit, today=today),
        person=person,
        my_tasks=work_order(rt, owned_by(rt, tasks, person)) if person is not None else [],
        obligations_overdue=obligations_overdue(rt, unit),
    )


def task_section(rt: Runtime, key: TaskKey) -> SectionView | None:
    """The plan section `key`'s task is in (None if it is not in the plan any more), read with
    the task itself (`find_task` loads it: no statement of its own in a web request)."""
    with rt.db.read() as session:
        _unit, task = find_task(session, key, on=rt.today())
        d = definition_of(session, task)
    if d is None or not d.section_listed:
        return None
    return SectionView(task.plan_id, d.section_code, d.section_title, d.section_parent)


def plan_sections(rt: Runtime, plan: str | None = None, *,
                  plans: Sequence[str] | None = None) -> list[SectionView]:
    """The sections of one plan, of each of `plans` in that order (one statement), or of
    every plan; each plan's in document order."""
    if plans is not None and not plans:
        return []
    which = "one" if plan else "some" if plans else "all"
    params: dict[str, object] = {"plan": plan} if plan else {"plans": list(plans)} if plans \
        else {}
    with rt.db.read() as session:
        rows = session.connection().execute(_SECTIONS[which], params).all()
    found = [SectionView(plan_id, code, title, parent) for plan_id, code, title, parent in rows]
    if which != "some":
        return found
    order = {p: i for i, p in enumerate(plans or ())}
    return sorted(found, key=lambda s: order[s.plan])  # stable: document order kept


def _sections_query(which: str) -> Select[*tuple[Any, ...]]:
    q = (select(PlanSection.plan_id, PlanSection.code, PlanSection.title,
                PlanSection.parent_code).where(PlanSection.retired.is_(False)))
    if which == "one":
        q = q.where(PlanSection.plan_id == bindparam("plan"))
    elif which == "some":
        q = q.where(PlanSection.plan_id.in_(bindparam("plans", expanding=True)))
    return q.order_by(PlanSection.plan_id, PlanSection.position)


#: `plan_sections`' statement, for every plan, one or some (built once).
_SECTIONS = {which: _sections_query(which) for which in ("all", "one", "some")}


# ---------------------------------------------------------------- who is behind


@dataclass(frozen=True)
class PersonLoad:
    """One person of a commune as the leader's "who is behind" view counts them."""

    person: PersonView
    open: int
    overdue: int
    done: int

    @property
    def total(self) -> int:
        return self.open + self.done


@dataclass(frozen=True)
class Workload:
    """Per person: open / overdue / done; the tasks nobody owns; owners that are nobody."""

    people: list[PersonLoad]
    unassigned_open: int
    unassigned_overdue: int
    unknown_owners: list[tuple[str, int]]  # owner text matching no person, open tasks


def owner_choices(people: Iterable[PersonView]) -> list[tuple[str, str, str]]:
    """The assignee picker: (group, value saved as owner, label). First each position once
    ("Công chức Tư pháp - Hộ tịch – Nguyễn Thị Bích Nhi, Nguyễn Văn Sỹ": everyone holding it
    is reminded), then each person by name. Only active people of the unit."""
    active = [p for p in people if p.active]
    holders: dict[str, tuple[str, list[str]]] = {}
    for p in active:
        if p.title:
            holders.setdefault(owner_key(p.title), (p.title, []))[1].append(p.name)
    titles = sorted(holders.values(), key=lambda h: h[0])
    out = [("Chức danh", title, f"{title} – {', '.join(names)}") for title, names in titles]
    out += sorted((("Cán bộ", p.name, p.name + (f" ({p.title})" if p.title else ""))
                   for p in active), key=lambda c: c[2])
    return out


def workload(rt: Runtime, unit: str, tasks: Sequence[TaskView] | None = None) -> Workload:
    """Who is behind in `unit`: each active person's open, overdue and done tasks (a task whose
    owner is a title shared by several people counts for each of them), the open tasks with no
    owner, and owner texts that match nobody. People most overdue first."""
    tasks = list(tasks) if tasks is not None else list_tasks(rt, unit)
    people = [p for p in list_people(rt, unit) if p.active]
    keys: dict[str, list[int]] = {}
    for i, p in enumerate(people):
        keys.setdefault(owner_key(p.name), []).append(i)
        if p.title:
            keys.setdefault(owner_key(p.title), []).append(i)
    counts = [[0, 0, 0] for _ in people]
    unassigned = [0, 0]
    unknown: dict[str, int] = {}
    for t in tasks:
        done = rt.machine.is_done(t.state)
        late = is_overdue(t)
        if not t.owner:
            if not done:
                unassigned[0] += 1
                unassigned[1] += late
            continue
        hits = sorted(set(keys.get(owner_key(t.owner), [])))
        if not hits:
            if not done:
                unknown[t.owner] = unknown.get(t.owner, 0) + 1
            continue
        for i in hits:
            c = counts[i]
            if done:
                c[2] += 1
            else:
                c[0] += 1
                c[1] += late
    rows = [PersonLoad(p, *c) for p, c in zip(people, counts, strict=True)]
    rows.sort(key=lambda r: (-r.overdue, -r.open, r.person.name))
    return Workload(rows, unassigned[0], unassigned[1], sorted(unknown.items()))


# ---------------------------------------------------------------- periods and the city


def cutoff_day(rt: Runtime, unit: str) -> int:
    with rt.db.read() as session:
        return effective_cutoff_day(session, get_unit(session, unit),
                                    rt.settings.report_cutoff_day)


def reporting_quarter(rt: Runtime, unit: str, *, today: date | None = None) -> ReportingPeriod:
    """The quarter being reported on now: the latest one whose cut-off day has come (on
    20/9/2023 with cut-off day 13 it is 2023-Q3, 14/6–13/9). Its figures may be frozen from
    its cut-off day on."""
    return quarter_reported_on(today or rt.today(), cutoff_day(rt, unit))


def quarter_reported_on(today: date, cutoff: int) -> ReportingPeriod:
    """`reporting_quarter` for a known cut-off day (no query)."""
    current = period_containing(today, "quarter", cutoff)
    if current.end <= today:
        return current
    return period_containing(current.start - timedelta(days=1), "quarter", cutoff)


def period_choices(rt: Runtime, unit: str) -> list[ReportingPeriod]:
    """The periods a unit may snapshot: for each year of its plans the four quarters, the
    six-month period and the year, in that order."""
    day = cutoff_day(rt, unit)
    years = sorted({p.year for p in unit_plans(rt, unit)})
    out: list[ReportingPeriod] = []
    for y in years:
        out.extend(quarters_of(y, day))
        out.append(parse_period(f"{y}-H1", day))
        out.append(parse_period(f"{y}-Y", day))
    return out


def frozen_periods(rt: Runtime, unit: str) -> list[FrozenPeriod]:
    """The periods of `unit` already frozen, oldest first (without their payload)."""
    with rt.db.read() as session:
        u = get_unit(session, unit)
        rows = session.execute(
            select(SnapshotRow.period, SnapshotRow.start, SnapshotRow.end, SnapshotRow.taken_at,
                   SnapshotRow.taken_by, SnapshotRow.content_hash)
            .where(SnapshotRow.unit_id == u.id).order_by(SnapshotRow.end)).all()
        return [FrozenPeriod(*row) for row in rows]


_UNITS_WITH_PLANS = select(UnitPlan.unit_id).distinct()


def units_with_plans(rt: Runtime, units: Iterable[UnitView]) -> list[UnitView]:
    """Those of `units` that have plans loaded (communes), in the given order."""
    with rt.db.read() as session:
        loaded = set(session.connection().execute(_UNITS_WITH_PLANS).scalars())
    return [u for u in units if u.id in loaded]


def unit_overview(rt: Runtime, unit: str, *, today: date | None = None) -> UnitOverview:
    """One commune for the city page."""
    today = today or rt.today()
    tasks = list_tasks(rt, unit, earlier=True)  # recurring work's overdue occurrences too
    quarter = reporting_quarter(rt, unit, today=today)
    frozen = {f.period for f in frozen_periods(rt, unit)}
    pending = list_obligation_dues(rt, unit, state=PENDING)
    return UnitOverview(
        unit=unit_view(rt, unit), plans=progress(rt, tasks, unit_plans(rt, unit)),
        overdue_tasks=sum(1 for t in tasks if is_overdue(t)),
        overdue_obligations=sum(1 for d in pending if d.overdue),
        period=quarter.code, period_label=quarter.label_vi, frozen=quarter.code in frozen,
    )


def city_overview(rt: Runtime, units: Iterable[UnitView], *, today: date | None = None,
                  period: str | None = None, include_empty: bool = False
                  ) -> list[UnitOverview]:
    """Every unit among `units` that has plans (pass `access.readable_units(rt, user)`: the
    reviewer's communes, or every unit for an admin), by name.

    Set-based: a handful of queries for all the units together (not `unit_overview` per unit,
    ~12 ms a commune), counted here with the same rules — equal to `unit_overview` of each.
    `period` ("2023-Q2"): whether that period is frozen, instead of the quarter being reported
    on; `include_empty`: communes (xã, phường, thị trấn, đặc khu) with no plan are listed too,
    with no figures, never dropped."""
    today = today or rt.today()
    units = list(units)
    now = rt.today()  # task timeliness and overdue sub-reports are as of today, as in the views
    with rt.db.read() as session:
        views = all_views(session, rt.settings.report_cutoff_day)
        plan_rows = session.execute(
            select(UnitPlan.unit_id, Plan.id, Plan.title, Plan.appendix_number, Plan.year)
            .join(Plan, Plan.id == UnitPlan.plan_id)
            .order_by(UnitPlan.unit_id, Plan.appendix_number)).all()
        plans_by_unit: dict[int, list[tuple[str, str, int, int]]] = {}
        for unit_id, plan_id, title, appendix, year in plan_rows:
            plans_by_unit.setdefault(unit_id, []).append((plan_id, title, appendix, year))
        wanted = [views[u.slug] for u in units
                  if u.slug in views and (u.id in plans_by_unit
                                          or (include_empty and u.kind in COMMUNE_KINDS))]
        ids = sorted({v.id for v in wanted})
        if not ids:
            return []
        task_rows = session.execute(
            select(Task.unit_id, Task.plan_id, Task.state, Task.due_on, Task.done_on,
                   Task.code, Task.occurrence, Task.deadline)
            .join(PlanTask, (PlanTask.plan_id == Task.plan_id) & (PlanTask.code == Task.code))
            .join(Plan, Plan.id == Task.plan_id)
            .where(Task.unit_id.in_(ids), PlanTask.retired.is_(False))).all()
        due_rows = session.execute(
            select(Obligation.unit_id, ObligationDue.due_on)
            .join(Obligation, Obligation.id == ObligationDue.obligation_id)
            .where(Obligation.unit_id.in_(ids), ObligationDue.state == PENDING,
                   Obligation.retired.is_(False), ObligationDue.due_on < now)).all()
        frozen = {(unit_id, period) for unit_id, period in session.execute(
            select(SnapshotRow.unit_id, SnapshotRow.period)
            .where(SnapshotRow.unit_id.in_(ids)))}

    overdue_memo: dict[tuple[date | None, date | None], bool] = {}

    def overdue(due_on: date | None, done_on: date | None) -> bool:
        k = (due_on, done_on)
        hit = overdue_memo.get(k)
        if hit is None:
            hit = overdue_memo[k] = timeliness(due_on, done_on, now, rt.calendar) \
                == Timeliness.OPEN_OVERDUE
        return hit

    done_memo: dict[str, bool] = {}
    ongoing_memo: dict[str | None, bool] = {}
    tasks_by_unit: dict[int, list[tuple[str, bool, bool, bool, bool]]] = {}
    current = current_of((((u, p, c), o) for u, p, _s, _d, _dn, c, o, _dl in task_rows), now)
    for unit_id, plan_id, state, due_on, done_on, code, occurrence, written in task_rows:
        late = overdue(due_on, done_on)
        in_force = not occurrence or occurrence == current[(unit_id, plan_id, code)]
        if not in_force and not listed(occurrence, current[(unit_id, plan_id, code)], late):
            continue  # recurring work: as the unit's list shows it (`list_tasks`)
        done = done_memo.get(state)
        if done is None:
            done = done_memo[state] = rt.machine.is_done(state)
        ongoing = ongoing_memo.get(written)
        if ongoing is None:
            ongoing = ongoing_memo[written] = is_ongoing(written)
        tasks_by_unit.setdefault(unit_id, []).append(
            (plan_id, done, late, ongoing and due_on is None, in_force))
    late_dues: dict[int, int] = {}
    for unit_id, due_on in due_rows:
        deadline = effective_due(due_on, rt.calendar)
        assert deadline is not None
        if now > deadline:
            late_dues[unit_id] = late_dues.get(unit_id, 0) + 1

    rows = []
    for v in wanted:
        tasks = tasks_by_unit.get(v.id, [])
        quarter = (parse_period(period, v.cutoff_day) if period
                   else quarter_reported_on(today, v.cutoff_day))
        rows.append(UnitOverview(
            unit=v, plans=_progress(tasks, plans_by_unit.get(v.id, [])),
            overdue_tasks=sum(1 for t in tasks if t[2]),
            overdue_obligations=late_dues.get(v.id, 0),
            period=quarter.code, period_label=quarter.label_vi,
            frozen=(v.id, quarter.code) in frozen))
    return sorted(rows, key=lambda o: (o.unit.parent_slug or "", o.unit.name, o.unit.slug))


__all__ = [
    "OBLIGATIONS_AHEAD_DAYS",
    "FrozenPeriod",
    "PersonLoad",
    "PlanProgress",
    "SectionView",
    "UnitDashboard",
    "UnitOverview",
    "Week",
    "Workload",
    "city_overview",
    "cutoff_day",
    "due_between",
    "due_this_week",
    "frozen_periods",
    "is_overdue",
    "my_tasks",
    "obligations_coming_due",
    "obligations_overdue",
    "overdue_tasks",
    "owned_by",
    "owner_choices",
    "period_choices",
    "person_of",
    "plan_progress",
    "plan_sections",
    "progress",
    "quarter_reported_on",
    "reporting_quarter",
    "unit_dashboard",
    "unit_overview",
    "unit_plans",
    "unit_view",
    "week_of",
    "work_order",
    "workload",
]
