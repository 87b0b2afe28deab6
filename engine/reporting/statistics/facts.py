"""The engine's own facts that Phụ lục 6 rows of `kind: engine` print, gathered for one snapshot.

Why gathered here and not typed: a count the engine already holds is one an officer should not
re-type (and mistype). Three kinds of facts:

* the year's CCHC plan as of the cut-off (rows 1.2.a/b): the snapshot's appendix of the
  `kind: cchc` plan of the period's year;
* the documents the unit itself issued (row 1.1): the unit's register
  (`engine.domain.evidence`), documents with no other issuer (or the unit's own name as issuer),
  registered by the time the snapshot was taken;
* tasks assigned by upper levels (rows 1.4.a–d): the tasks of every plan in the snapshot whose
  `issuer` is a unit above this one (the province, the city/district), counted as of the cut-off
  by their timeliness. A framework that does not name its `issuer` is not counted: the engine
  cannot tell a province's framework from a commune's own plan loaded without `owner`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.reporting.snapshot.model import Snapshot
from engine.storage.models import Document, Plan, Unit
from vntext.dates import format_date_vi
from vntext.text import fold


@dataclass(frozen=True)
class PlanFacts:
    """The year's CCHC plan as of the cut-off (from the task snapshot, Phụ lục N)."""

    appendix: int
    plan_id: str
    total: int
    done: int
    cutoff: str  # dd/mm/yyyy


@dataclass(frozen=True)
class IssuedDocument:
    type_code: str  # 'CV', 'KH', 'QĐ' …
    issued_on: date
    rendered: str  # 'Công văn số 910/UBND ngày 28/7/2023'


@dataclass(frozen=True)
class DocumentFacts:
    """The unit's own documents in its register, issued from `since` to `end` (the cut-off)."""

    issuer: str  # 'UBND xã Vĩnh Thạnh'
    since: date  # the earliest day any span may need: the period's start or 1/1 of the year
    start: date  # the period's first day
    end: date
    documents: list[IssuedDocument] = field(default_factory=list)


@dataclass(frozen=True)
class UpperPlan:
    """One plan issued by an upper body, as of the cut-off."""

    appendix: int
    plan_id: str
    issuer: str  # 'UBND tỉnh Khánh Hòa'
    total: int
    done_on_time: int
    done_late: int
    overdue: int


@dataclass(frozen=True)
class UpperTaskFacts:
    cutoff: str  # dd/mm/yyyy
    plans: list[UpperPlan] = field(default_factory=list)
    unnamed_frameworks: int = 0  # frameworks in the report that do not name their issuer


@dataclass(frozen=True)
class EngineFacts:
    plan: PlanFacts | None = None
    documents: DocumentFacts | None = None
    upper: UpperTaskFacts | None = None


def _plan_facts(snap: Snapshot, plans: dict[str, Plan]) -> PlanFacts | None:
    year = snap.end.year
    for a in sorted(snap.appendices, key=lambda a: a.number):
        p = plans.get(a.plan_id)
        if p is not None and (p.kind, p.year) == ("cchc", year):
            return PlanFacts(a.number, a.plan_id, a.total, a.done, format_date_vi(snap.end))
    return None


def _is_own(issuer: str | None, own: str) -> bool:
    """A register entry with no issuer is the unit's own document (NĐ 30: the default)."""
    return issuer is None or fold(own) in fold(issuer)


def _document_facts(session: Session, unit: Unit, snap: Snapshot) -> DocumentFacts:
    since = min(snap.start, date(snap.end.year, 1, 1))
    rows = session.execute(
        select(Document.type_code, Document.issued_on, Document.rendered, Document.issuer)
        .where(Document.unit_id == unit.id, Document.issued_on >= since,
               Document.issued_on <= snap.end, Document.created_at <= snap.taken_at)
        .order_by(Document.issued_on, Document.type_code, Document.number)).all()
    own = f"{unit.kind} {unit.name}"
    docs = [IssuedDocument(t, d, r) for t, d, r, issuer in rows if _is_own(issuer, own)]
    return DocumentFacts(f"UBND {own}", since, snap.start, snap.end, docs)


def _ancestors(session: Session, unit: Unit) -> dict[str, Unit]:
    out: dict[str, Unit] = {}
    parent_id = unit.parent_id
    while parent_id is not None and len(out) < 20:
        parent = session.get(Unit, parent_id)
        if parent is None:
            break
        out[parent.slug] = parent
        parent_id = parent.parent_id
    return out


def _upper_facts(session: Session, unit: Unit, snap: Snapshot, plans: dict[str, Plan]
                 ) -> UpperTaskFacts:
    above = _ancestors(session, unit)
    out: list[UpperPlan] = []
    unnamed = 0
    for a in sorted(snap.appendices, key=lambda a: a.number):
        p = plans.get(a.plan_id)
        if p is None:
            continue
        body = above.get(p.issuer) if p.issuer else None
        if body is None:
            unnamed += p.scope == "framework" and not p.issuer
            continue
        tasks = a.all_tasks()
        out.append(UpperPlan(
            a.number, a.plan_id, f"UBND {body.kind} {body.name}", len(tasks),
            sum(1 for t in tasks if t.done and t.timeliness == "done_on_time"),
            sum(1 for t in tasks if t.done and t.timeliness == "done_late"),
            sum(1 for t in tasks if not t.done and t.timeliness == "open_overdue")))
    return UpperTaskFacts(format_date_vi(snap.end), out, unnamed)


def engine_facts(session: Session, unit: Unit, snap: Snapshot) -> EngineFacts:
    """Every fact an `engine` row may print, for `unit` (the snapshot's) as of its cut-off."""
    ids = [a.plan_id for a in snap.appendices]
    plans = {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_(ids)))} if ids \
        else {}
    return EngineFacts(_plan_facts(snap, plans), _document_facts(session, unit, snap),
                       _upper_facts(session, unit, snap, plans))
