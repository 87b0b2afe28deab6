"""The facts a report draft may print, all from the engine: every number is one it can trace.

Why a plain dict of small values: the template is a data file clerks edit; what it can use is
exactly what this module gathers — the period, each plan's appendix with its counts as of the
cut-off (the snapshot), the evidence documents of tasks done in the period grouped by reform
area, the sub-report obligations with their status, and the Phụ lục 4–6 figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from engine.directory.units import get_unit
from engine.domain.obligations import ObligationDueView, list_obligation_dues
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot, SnapshotGroup
from engine.reporting.statistics import StatisticsSheet, format_number_vi, percent
from engine.runtime import Runtime
from engine.storage.models import Plan, Unit
from vntext.dates import nd30_date

SIX_MONTHLY = "six_monthly"


@dataclass(frozen=True)
class PlanFact:
    appendix: int
    id: str
    title: str
    issued_by: str
    total: int
    done: int
    not_done: int
    percent: str


@dataclass(frozen=True)
class AreaDocuments:
    title: str  # the reform area (the plan's top section / dimension)
    documents: list[str]


@dataclass(frozen=True)
class ObligationFact:
    title: str
    source_plan: str
    due_on: str  # dd/mm/yyyy as printed
    due: date
    done: bool
    status: str  # 'UBND xã chưa thực hiện báo cáo (kỳ báo cáo: ngày 06/12/2023)'


def _plans(rt: Runtime, snap: Snapshot) -> list[PlanFact]:
    with rt.db.read() as session:
        rows = {p.id: p for p in session.scalars(select(Plan))}
        session.expunge_all()
    out: list[PlanFact] = []
    for a in sorted(snap.appendices, key=lambda a: a.number):
        plan = rows.get(a.plan_id)
        ratio = percent(a.done, a.total)
        out.append(PlanFact(a.number, a.plan_id, plan.title if plan else a.title,
                            plan.issued_by if plan else "", a.total, a.done, a.not_done,
                            format_number_vi(ratio) if ratio is not None else "-"))
    return out


def _documents(snap: Snapshot) -> list[AreaDocuments]:
    """Evidence of the tasks done within the period, by the top group they stand in."""
    out: list[AreaDocuments] = []
    for a in sorted(snap.appendices, key=lambda a: a.number):
        for g in a.groups:
            docs = _done_in(a, g, snap.start, snap.end)
            if docs:
                title = (g.title or g.code).strip()
                out.append(AreaDocuments(f"{title} (Phụ lục {a.number})", docs))
    return out


def _done_in(a: AppendixSnapshot, g: SnapshotGroup, start: date, end: date) -> list[str]:
    seen: list[str] = []
    for t in g.all_tasks():
        if t.done and t.effective_on is not None and start <= t.effective_on <= end:
            seen.extend(ref for ref in t.evidence if ref not in seen)
    return seen


def _obligations(rt: Runtime, unit: str, kind: str, end: date) -> list[ObligationFact]:
    """Per obligation, its first report not yet made (overdue or coming), else its last one."""
    dues = list_obligation_dues(rt, unit, year=end.year)
    by_code: dict[str, list[ObligationDueView]] = {}
    for d in dues:
        by_code.setdefault(d.code, []).append(d)
    out: list[ObligationFact] = []
    for items in by_code.values():
        pending = [d for d in items if d.submitted_on is None]
        d = pending[0] if pending else items[-1]
        when = nd30_date(d.due_on)
        label = "kỳ báo cáo 6 tháng" if d.schedule == SIX_MONTHLY else "kỳ báo cáo"
        if d.submitted_on is None:
            status = f"UBND {kind} chưa thực hiện báo cáo ({label}: ngày {when})"
        else:
            doc = f" ({d.report_doc})" if d.report_doc else ""
            status = (f"UBND {kind} đã báo cáo ngày {nd30_date(d.submitted_on)}{doc} "
                      f"({label}: ngày {when})")
        out.append(ObligationFact(d.title, d.source_plan, when, d.due_on,
                                  d.submitted_on is not None, status))
    return out


def _reviewer_body(rt: Runtime, unit: str) -> tuple[str, str | None]:
    """Who the report goes to: Phòng Nội vụ of a city/district, else Sở Nội vụ of the province;
    and the unit's leader (signer)."""
    with rt.db.read() as session:
        u = get_unit(session, unit)
        parent = session.get(Unit, u.parent_id) if u.parent_id else None
        leader = u.leader
        if parent is None:
            return "Sở Nội vụ", leader
        office = "Sở Nội vụ" if parent.kind == "tỉnh" else "Phòng Nội vụ"
        return f"{office} {parent.kind} {parent.name}", leader


def draft_context(rt: Runtime, snap: Snapshot, sheet: StatisticsSheet) -> dict[str, Any]:
    """Everything the template may print (see plans/data/report-templates/bao-cao-cchc.j2)."""
    reviewer, leader = _reviewer_body(rt, snap.unit.slug)
    obligations = _obligations(rt, snap.unit.slug, snap.unit.kind, snap.end)
    totals = sheet.field_totals()
    rows = {r.code: r for r in sheet.indicators}

    def stat(code: str) -> str:
        row = rows.get(code)
        return row.text if row is not None else ""

    stats: dict[str, object] = {k: format_number_vi(v) for k, v in totals.items()}
    stats["has_fields"] = bool(sheet.fields)
    overdue = sum(1 for o in obligations if not o.done and o.due <= snap.end)
    return {
        "unit": {"display": snap.unit.display, "kind": snap.unit.kind, "name": snap.unit.name,
                 "leader": leader},
        "period": {"code": snap.period, "label": snap.period_label,
                   "label_lower": snap.period_label[:1].lower() + snap.period_label[1:],
                   "start": nd30_date(snap.start), "end": nd30_date(snap.end)},
        "plans": _plans(rt, snap),
        "documents": _documents(snap),
        "obligations": obligations,
        "overdue_obligations": overdue,
        "stats": stats,
        "stat": stat,
        "reviewer_body": reviewer,
    }

