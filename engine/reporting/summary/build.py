"""The reviewing body's summary of a period: one row per commune under it.

Why frozen first: what a commune froze is what it reported, and the province compiles exactly
that (plans from the frozen task snapshot, ratios from the frozen Phụ lục 4). A commune that has
not frozen the period is shown from its live data, marked "chưa chốt", so the reviewer sees who
is behind. Set-based: a few queries for all communes together (payloads of frozen periods, the
live overview for the rest, one query for sub-reports), not one snapshot build per commune.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from engine.directory.units import UnitView, all_views, effective_cutoff_day, get_unit
from engine.domain.obligations import CANCELLED
from engine.domain.periods import ReportingPeriod, parse_period
from engine.domain.timeliness import effective_due
from engine.reporting import dashboard
from engine.reporting.snapshot.model import Snapshot
from engine.reporting.statistics import (
    StatisticsInput,
    StatisticsSheet,
    field_totals,
    format_number_vi,
)
from engine.reporting.statistics.numbers import NOT_APPLICABLE, percent
from engine.runtime import Runtime
from engine.storage.models import (
    Obligation,
    ObligationDue,
    PeriodStatistics,
    StatisticsSnapshot,
    Unit,
    UnitPlan,
)
from engine.storage.models import Snapshot as SnapshotRow

FROZEN_VI, LIVE_VI = "đã chốt", "chưa chốt"


@dataclass(frozen=True)
class PlanCell:
    appendix: int
    plan: str
    total: int
    done: int

    @property
    def not_done(self) -> int:
        return self.total - self.done


@dataclass(frozen=True)
class Ratio:
    value: Decimal | None
    text: str  # '100', '20,55', '-' (nothing to measure) or '' (no Phụ lục 4)


@dataclass(frozen=True)
class SummaryRow:
    unit: str
    name: str  # 'xã Vĩnh Thạnh'
    parent: str  # 'thành phố Nha Trang' (or the province)
    frozen: bool
    content_hash: str | None
    plans: list[PlanCell]
    overdue_tasks: int
    overdue_reports: int
    on_time: Ratio
    online: Ratio

    @property
    def status(self) -> str:
        return FROZEN_VI if self.frozen else LIVE_VI

    @property
    def done(self) -> int:
        return sum(p.done for p in self.plans)

    @property
    def not_done(self) -> int:
        return sum(p.not_done for p in self.plans)

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit, "name": self.name, "parent": self.parent, "frozen": self.frozen,
            "status": self.status, "content_hash": self.content_hash,
            "plans": [{"appendix": p.appendix, "plan": p.plan, "total": p.total,
                       "done": p.done, "not_done": p.not_done} for p in self.plans],
            "overdue_tasks": self.overdue_tasks, "overdue_reports": self.overdue_reports,
            "on_time_ratio": None if self.on_time.value is None else str(self.on_time.value),
            "on_time_text": self.on_time.text,
            "online_ratio": None if self.online.value is None else str(self.online.value),
            "online_text": self.online.text,
        }


@dataclass(frozen=True)
class ProvinceSummary:
    body: UnitView
    period: ReportingPeriod
    as_of: date  # the day live rows are counted on (the cut-off, or today if earlier)
    rows: list[SummaryRow] = field(default_factory=list)

    @property
    def frozen(self) -> int:
        return sum(1 for r in self.rows if r.frozen)

    @property
    def plan_columns(self) -> list[tuple[int, str]]:
        return sorted({(p.appendix, p.plan) for r in self.rows for p in r.plans})

    def as_dict(self) -> dict[str, object]:
        return {"body": self.body.slug, "body_display": self.body.display,
                "period": self.period.code, "period_label": self.period.label_vi,
                "start": self.period.start.isoformat(), "end": self.period.end.isoformat(),
                "as_of": self.as_of.isoformat(), "communes": len(self.rows),
                "frozen": self.frozen, "rows": [r.as_dict() for r in self.rows]}


def _ratio(totals: dict[str, int] | None, num: str, den: str) -> Ratio:
    if totals is None:
        return Ratio(None, "")
    value = percent(totals[num], totals[den])
    return Ratio(value, NOT_APPLICABLE if value is None else format_number_vi(value))


def _descendants(units: dict[int, Unit], body_id: int) -> list[Unit]:
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for u in units.values():
        children[u.parent_id].append(u)
    out: list[Unit] = []
    todo = list(children.get(body_id, []))
    while todo:
        u = todo.pop()
        out.append(u)
        todo.extend(children.get(u.id, []))
    return out


def province_summary(rt: Runtime, body: str, period: str) -> ProvinceSummary:
    """The summary of `period` for the communes under `body` (a province or a district)."""
    with rt.db.read() as session:
        body_unit = get_unit(session, body)
        p = parse_period(period, effective_cutoff_day(session, body_unit,
                                                      rt.settings.report_cutoff_day))
        views = all_views(session, rt.settings.report_cutoff_day)
        units = {u.id: u for u in session.scalars(select(Unit))}
        with_plans = set(session.scalars(select(UnitPlan.unit_id).distinct()))
        communes = [u for u in _descendants(units, body_unit.id) if u.id in with_plans]
        ids = [u.id for u in communes]
        frozen_payloads = {uid: (payload, digest) for uid, payload, digest in session.execute(
            select(SnapshotRow.unit_id, SnapshotRow.payload, SnapshotRow.content_hash).where(
                SnapshotRow.period == p.code, SnapshotRow.unit_id.in_(ids))).all()}
        frozen_stats = dict(session.execute(
            select(StatisticsSnapshot.unit_id, StatisticsSnapshot.payload).where(
                StatisticsSnapshot.period == p.code,
                StatisticsSnapshot.unit_id.in_(ids))).all())
        typed_stats = dict(session.execute(
            select(PeriodStatistics.unit_id, PeriodStatistics.payload).where(
                PeriodStatistics.period == p.code,
                PeriodStatistics.unit_id.in_(ids))).all())
        dues = session.execute(
            select(Obligation.unit_id, ObligationDue.due_on, ObligationDue.submitted_on)
            .join(Obligation, Obligation.id == ObligationDue.obligation_id)
            .where(Obligation.unit_id.in_(ids), Obligation.retired.is_(False),
                   ObligationDue.state != CANCELLED, ObligationDue.due_on <= p.end)).all()
    as_of = min(p.end, rt.today())
    late_reports: dict[int, int] = defaultdict(int)
    for unit_id, due_on, submitted_on in dues:
        deadline = effective_due(due_on, rt.calendar)
        if deadline is not None and deadline < as_of and (
                submitted_on is None or submitted_on > as_of):
            late_reports[unit_id] += 1
    live_ids = [u.id for u in communes if u.id not in frozen_payloads]
    live = {o.unit.id: o for o in dashboard.city_overview(
        rt, [views[units[i].slug] for i in live_ids], today=as_of)} if live_ids else {}
    rows: list[SummaryRow] = []
    for u in communes:
        parent = units.get(u.parent_id) if u.parent_id else None
        parent_name = f"{parent.kind} {parent.name}" if parent else ""
        if u.id in frozen_payloads:
            payload, digest = frozen_payloads[u.id]
            snap = Snapshot.model_validate_json(payload)
            plans = [PlanCell(a.number, a.plan_id, a.total, a.done) for a in snap.appendices]
            overdue = sum(1 for a in snap.appendices for t in a.all_tasks()
                          if t.timeliness == "open_overdue")
            stats = (StatisticsSheet.model_validate_json(frozen_stats[u.id]).fields
                     if u.id in frozen_stats else None)
        else:
            digest = None
            o = live.get(u.id)
            plans = [PlanCell(pp.appendix, pp.plan, pp.total, pp.done)
                     for pp in (o.plans if o else [])]
            overdue = o.overdue_tasks if o else 0
            typed = typed_stats.get(u.id)
            stats = StatisticsInput.model_validate_json(typed).fields if typed else None
        totals = field_totals(stats) if stats else None
        rows.append(SummaryRow(
            unit=u.slug, name=f"{u.kind} {u.name}", parent=parent_name,
            frozen=u.id in frozen_payloads, content_hash=digest, plans=plans,
            overdue_tasks=overdue, overdue_reports=late_reports.get(u.id, 0),
            on_time=_ratio(totals, "on_time", "resolved"),
            online=_ratio(totals, "online", "received")))
    rows.sort(key=lambda r: r.name)
    return ProvinceSummary(views[body_unit.slug], p, as_of, rows)
