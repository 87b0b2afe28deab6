"""Rebuild every task's state as of a period's cut-off from the history, and shape it as the
appendices print it.

Why from history, not from the current rows: a snapshot taken on 20/9 for a period ending 13/9
must show what was true on 13/9. We replay each task's history, keeping only events recorded
by the snapshot time and effective on or before the cut-off, so a task whose evidence is dated
15/9 is not counted, and late data entry of a document dated 10/9 is.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import local_date
from engine.directory.units import effective_cutoff_day, get_unit
from engine.domain.deadline_due import due_date
from engine.domain.occurrences import SINGLE, pick, planned
from engine.domain.periods import ReportingPeriod, parse_period
from engine.domain.plan_ids import plans_of_unit
from engine.domain.report_definition import number_appendices, report_definition
from engine.domain.timeliness import timeliness
from engine.reporting.snapshot.model import (
    AppendixSnapshot,
    Snapshot,
    SnapshotCorrection,
    SnapshotGroup,
    SnapshotTask,
    UnitHeader,
)
from engine.runtime import Runtime
from engine.storage.models import Plan, PlanSection, PlanTask, Task, TaskHistory, Unit
from plans.deadlines import recurrence_of

_SPACES = re.compile(r"\s+")


@dataclass
class TaskAsOf:
    """A task's state at the cut-off, replayed from history."""

    state: str
    result: str = ""
    note: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)
    done_on: date | None = None
    owner: str | None = None
    deadline: str | None = None
    imported: bool = False


def replay_as_of(
    rt: Runtime, rows: Iterable[TaskHistory], *, owner: str | None, deadline: str | None
) -> TaskAsOf:
    s = TaskAsOf(state=rt.machine.initial, owner=owner, deadline=deadline)
    for h in rows:
        if h.event == "assign":
            s.owner = h.owner
            continue
        if h.event == "set_deadline":
            s.deadline = h.deadline
            continue
        if h.event == "note":
            s.note = h.note or s.note
            continue
        s.state = h.to_state
        if rt.machine.is_done(h.to_state):
            s.result = h.result or ""
            s.evidence = list(h.evidence or [])
            s.done_on = h.effective_on
            s.imported = h.role == "system"
            s.note = h.note or ""
        else:
            s.done_on = None
            s.note = h.note or h.result or s.note
            if h.result:
                s.result = h.result
    return s


def _mentioned(number_symbol: str, text: str) -> bool:
    return _SPACES.sub("", number_symbol) in _SPACES.sub("", text)


def ket_qua(rt: Runtime, s: TaskAsOf) -> str:
    """The Kết quả cell: the result text, plus any evidence the text does not already cite."""
    if rt.machine.is_done(s.state):
        lines = [s.result] if s.result else []
        for ev in s.evidence:
            if not _mentioned(ev.get("no", ev["ref"]), s.result):
                lines.append(f"- {ev['ref']}")
        return "\n".join(lines)
    return s.note or s.result


@dataclass
class _PlanDef:
    plan: Plan
    sections: list[PlanSection]
    tasks: list[PlanTask]


class DefinitionCache:
    """Plan definitions are shared by all units: read them once per run."""

    def __init__(self) -> None:
        self._defs: dict[str, _PlanDef] = {}

    def get(self, session: Session, plan: Plan) -> _PlanDef:
        d = self._defs.get(plan.id)
        if d is None or d.plan.content_hash != plan.content_hash:
            sections = list(session.scalars(
                select(PlanSection).where(PlanSection.plan_id == plan.id,
                                          PlanSection.retired.is_(False))
                .order_by(PlanSection.position)))
            tasks = list(session.scalars(
                select(PlanTask).where(PlanTask.plan_id == plan.id, PlanTask.retired.is_(False))
                .order_by(PlanTask.position)))
            session.expunge_all()
            d = _PlanDef(plan, sections, tasks)
            self._defs[plan.id] = d
        return d


def header_of(session: Session, unit: Unit) -> UnitHeader:
    parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    return UnitHeader(slug=unit.slug, kind=unit.kind, name=unit.name,
                      parent_kind=parent.kind if parent else None,
                      parent_name=parent.name if parent else None)


def period_of(rt: Runtime, session: Session, unit: Unit, code: str) -> ReportingPeriod:
    return parse_period(code, effective_cutoff_day(session, unit, rt.settings.report_cutoff_day))


def build_snapshot(
    rt: Runtime,
    unit_slug: str,
    period_code: str,
    *,
    taken_at: datetime | None = None,
    cache: DefinitionCache | None = None,
) -> Snapshot:
    taken_at = taken_at or rt.now()
    cache = cache or DefinitionCache()
    with rt.db.read() as session:
        unit = get_unit(session, unit_slug)
        period = period_of(rt, session, unit, period_code)
        header = header_of(session, unit)
        numbered = number_appendices(report_definition(), plans_of_unit(session, unit), period,
                                     header.display)
        defs = [(n.number, cache.get(session, n.plan), bool(n.entry and n.entry.cumulative))
                for n in numbered]
        tasks = session.execute(
            select(Task.id, Task.plan_id, Task.code, Task.occurrence)
            .where(Task.unit_id == unit.id)
        ).all()
        ids: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        for tid, plan_id, code, occurrence in tasks:
            ids[(plan_id, code)][occurrence] = tid
        hist: dict[int, list[TaskHistory]] = defaultdict(list)
        rows = session.scalars(
            select(TaskHistory)
            .join(Task, Task.id == TaskHistory.task_id)
            .where(Task.unit_id == unit.id, TaskHistory.at <= taken_at,
                   TaskHistory.effective_on <= period.end)
            .order_by(TaskHistory.task_id, TaskHistory.seq)
        )
        for h in rows:
            hist[h.task_id].append(h)
        appendices = [
            _appendix(rt, d, number, ids, hist, period, cumulative)
            for number, d, cumulative in defs
        ]
        made_here = [c for c in corrections(session, unit.id, until=taken_at)
                     if period.start <= c.recorded_on <= period.end]
    return Snapshot(
        unit=header, period=period.code, period_label=period.label_vi, start=period.start,
        end=period.end, taken_at=taken_at, frozen=False, appendices=appendices,
        corrections=made_here,
    )


def corrections(session: Session, unit_id: int, *, period: str | None = None,
                until: datetime | None = None) -> list[SnapshotCorrection]:
    """The unit's corrections of frozen periods (of `period` only, if given), in order."""
    q = (select(TaskHistory, Task.plan_id, Task.code)
         .join(Task, Task.id == TaskHistory.task_id)
         .where(Task.unit_id == unit_id, TaskHistory.corrects_period.is_not(None))
         .order_by(TaskHistory.at, TaskHistory.id))
    if period is not None:
        q = q.where(TaskHistory.corrects_period == period)
    if until is not None:
        q = q.where(TaskHistory.at <= until)
    return [SnapshotCorrection(
        period=h.corrects_period or "", plan_id=plan_id, task=code, event=h.event,
        effective_on=h.effective_on, recorded_on=local_date(h.at), actor=h.actor,
        reason=h.correction_reason or "") for h, plan_id, code in session.execute(q)]


def _column_values(columns: list[str], t: PlanTask, s: TaskAsOf) -> dict[str, str]:
    """The declared optional columns of one row: owner and deadline as of the cut-off, the
    rest as the plan gives them."""
    given: dict[str, str | None] = {**(t.extra or {}), "product": t.product,
                                    "owner": s.owner, "deadline": s.deadline}
    return {c: v for c in columns if (v := given.get(c))}


def _due(s: TaskAsOf, year: int, occurrence: str, occurrence_due: date | None) -> date | None:
    """The due date as of the cut-off: a recurring task's occurrence is due at its period's end
    unless the deadline was set to something else since."""

    if occurrence and recurrence_of(s.deadline, year) is not None:
        return occurrence_due
    return due_date(s.deadline, year)


def _appendix(rt: Runtime, d: _PlanDef, number: int,
              ids: dict[tuple[str, str], dict[str, int]], hist: dict[int, list[TaskHistory]],
              period: ReportingPeriod, cumulative: bool = False) -> AppendixSnapshot:
    by_section: dict[str, list[SnapshotTask]] = defaultdict(list)
    plan_dues: dict[str, dict[str, date | None]] = {}
    for t in d.tasks:
        rows = ids.get((d.plan.id, t.code), {})
        if len(rows) > 1 and cumulative:
            by_section[t.section_code].append(
                _cumulative_row(rt, d, t, rows, hist, period))
            continue
        occurrence = pick(list(rows), period.end) if rows else SINGLE
        tid = rows.get(occurrence)
        s = replay_as_of(rt, hist.get(tid, []) if tid is not None else [],
                         owner=t.default_owner, deadline=t.deadline)
        if occurrence and t.code not in plan_dues:
            plan_dues[t.code] = dict(planned(t.deadline, d.plan.year, d.plan.valid_from,
                                             d.plan.valid_to))
        due = _due(s, d.plan.year, occurrence, plan_dues.get(t.code, {}).get(occurrence))
        status: Any = timeliness(due, s.done_on, period.end, rt.calendar)
        by_section[t.section_code].append(SnapshotTask(
            code=t.code, text=t.text, state=s.state, done=rt.machine.is_done(s.state),
            result=ket_qua(rt, s), evidence=[e["ref"] for e in s.evidence],
            effective_on=s.done_on, owner=s.owner, due=due,
            timeliness=getattr(status, "value", status),
            columns=_column_values(d.plan.columns or [], t, s),
        ))
    children: dict[str | None, list[PlanSection]] = defaultdict(list)
    for sec in d.sections:
        children[sec.parent_code].append(sec)

    def group(sec: PlanSection) -> SnapshotGroup:
        return SnapshotGroup(code=sec.code, title=sec.title,
                             groups=[group(c) for c in children.get(sec.code, [])],
                             tasks=by_section.get(sec.code, []))

    return AppendixSnapshot(
        plan_id=d.plan.id, number=number, title=d.plan.appendix_title,
        layout=d.plan.layout,
        groups=[group(s) for s in children.get(None, [])],
        columns=list(d.plan.columns or []),
    )


def _cumulative_row(rt: Runtime, d: _PlanDef, t: PlanTask, rows: dict[str, int],
                    hist: dict[int, list[TaskHistory]], period: ReportingPeriod) -> SnapshotTask:
    """A recurring task "lũy kế": its occurrences from the plan's start up to the one in force
    at the cut-off. Done when every occurrence due by the cut-off is done (and, before the
    first is due, when the current one is); Kết quả lists each occurrence's own."""
    dues = dict(planned(t.deadline, d.plan.year, d.plan.valid_from, d.plan.valid_to))
    current = pick(list(rows), period.end)
    so_far = sorted(o for o in rows if o <= current)
    states = [(o, replay_as_of(rt, hist.get(rows[o], []), owner=t.default_owner,
                               deadline=t.deadline)) for o in so_far]
    due_by_end = [(o, s) for o, s in states
                  if (due := dues.get(o)) is not None and due <= period.end]
    counted = due_by_end or states[-1:]
    done = [s for _o, s in counted if rt.machine.is_done(s.state)]
    all_done = len(done) == len(counted)
    statuses = [timeliness(dues.get(o), s.done_on, period.end, rt.calendar) for o, s in counted]
    if any(x.value == "open_overdue" for x in statuses):
        status = "open_overdue"
    elif not all_done:
        status = "open_on_time"
    else:
        status = "done_late" if any(x.value == "done_late" for x in statuses) else "done_on_time"
    open_ones = [s for _o, s in counted if not rt.machine.is_done(s.state)]
    shown = states[-1][1] if all_done else open_ones[0]
    lines = [f"Lũy kế: đã thực hiện {len(done)}/{len(counted)} kỳ"]
    for o, s in states:
        text = ket_qua(rt, s)
        if text:
            lines.append(f"{parse_period(o, 31).label_vi}: {text}")
    evidence = [e["ref"] for _o, s in states for e in s.evidence]
    return SnapshotTask(
        code=t.code, text=t.text, state=shown.state, done=all_done, result="\n".join(lines),
        evidence=list(dict.fromkeys(evidence)),
        effective_on=max((s.done_on for s in done if s.done_on), default=None) if all_done
        else None,
        owner=shown.owner, due=dues.get(counted[-1][0]), timeliness=status,
        columns=_column_values(d.plan.columns or [], t, shown),
    )
