"""Phụ lục 6 of a reviewing body (a province, or a city/district): its units' frozen statistics
summed, formulas recomputed.

Why only frozen sheets: what a commune froze is what it reported; summing live figures would
give the province a total that changes under it. A unit under the body that has plans but has
not frozen the period is listed as "chưa chốt" and left out of every sum, so the reviewer sees
both the total and who is missing from it. Ratios come from the summed numerators and
denominators (`engine.reporting.statistics.compute.sum_indicators`), never from averaging the
communes' percentages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import select

from engine.clock import VN_TZ
from engine.directory.units import effective_cutoff_day, get_unit
from engine.domain.periods import ReportingPeriod, parse_period
from engine.reporting.export.files import appendix_file_name
from engine.reporting.export.json_writer import canonical_json_bytes
from engine.reporting.snapshot.model import UnitHeader
from engine.reporting.statistics import StatisticsSheet, default_indicator_set, level_of
from engine.reporting.statistics.compute import sum_indicators
from engine.reporting.statistics.export import INDICATORS_APPENDIX, export_page
from engine.reporting.statistics.indicators import Level
from engine.reporting.statistics.model import IndicatorSetRef
from engine.reporting.summary.build import FROZEN_VI, LIVE_VI, _descendants
from engine.runtime import Runtime
from engine.storage.models import StatisticsSnapshot, Unit, UnitPlan


@dataclass(frozen=True)
class RolledUnit:
    unit: str  # slug
    name: str  # 'xã Vĩnh Thạnh'
    frozen: bool
    content_hash: str | None = None  # of the frozen statistics summed
    indicator_set: str = ""  # 'thong-ke-cchc@2022-08-r2' the unit's sheet was computed with

    @property
    def status(self) -> str:
        return FROZEN_VI if self.frozen else LIVE_VI

    def as_dict(self) -> dict[str, object]:
        return {"unit": self.unit, "name": self.name, "frozen": self.frozen,
                "status": self.status, "content_hash": self.content_hash,
                "indicator_set": self.indicator_set}


@dataclass(frozen=True)
class BodyStatistics:
    """The body's Phụ lục 6 (`sheet`, under the body's own header) and which units it sums."""

    sheet: StatisticsSheet
    period: ReportingPeriod
    units: list[RolledUnit] = field(default_factory=list)

    @property
    def summed(self) -> list[RolledUnit]:
        return [u for u in self.units if u.frozen]

    @property
    def pending(self) -> list[RolledUnit]:
        return [u for u in self.units if not u.frozen]

    def as_dict(self) -> dict[str, object]:
        return {"body": self.sheet.unit.slug, "period": self.period.code,
                "period_label": self.period.label_vi, "summed": len(self.summed),
                "pending": len(self.pending), "units": [u.as_dict() for u in self.units],
                "sheet": self.sheet.model_dump(mode="json")}


def _header(session_unit: Unit, parent: Unit | None) -> UnitHeader:
    return UnitHeader(slug=session_unit.slug, kind=session_unit.kind, name=session_unit.name,
                      parent_kind=parent.kind if parent else None,
                      parent_name=parent.name if parent else None)


def body_statistics(rt: Runtime, body: str, period: str) -> BodyStatistics:
    """Phụ lục 6 of `body` for `period`: the sum of the frozen sheets of the units under it
    that have plans; the others listed as "chưa chốt" and not summed."""
    with rt.db.read() as session:
        b = get_unit(session, body)
        p = parse_period(period, effective_cutoff_day(session, b, rt.settings.report_cutoff_day))
        units = {u.id: u for u in session.scalars(select(Unit))}
        with_plans = set(session.scalars(select(UnitPlan.unit_id).distinct()))
        under = sorted((u for u in _descendants(units, b.id) if u.id in with_plans),
                       key=lambda u: f"{u.kind} {u.name}")
        ids = [u.id for u in under]
        frozen = {uid: (payload, digest, iset) for uid, payload, digest, iset in session.execute(
            select(StatisticsSnapshot.unit_id, StatisticsSnapshot.payload,
                   StatisticsSnapshot.content_hash, StatisticsSnapshot.indicator_set)
            .where(StatisticsSnapshot.period == p.code,
                   StatisticsSnapshot.unit_id.in_(ids)))} if ids else {}
        header = _header(b, units.get(b.parent_id) if b.parent_id else None)
    sheets: list[StatisticsSheet] = []
    rolled: list[RolledUnit] = []
    for u in under:
        name = f"{u.kind} {u.name}"
        if u.id in frozen:
            payload, digest, iset_ref = frozen[u.id]
            sheets.append(StatisticsSheet.model_validate_json(payload))
            rolled.append(RolledUnit(u.slug, name, True, digest, iset_ref))
        else:
            rolled.append(RolledUnit(u.slug, name, False))
    iset = default_indicator_set()
    levels: set[Level] = {level_of(u.kind) for u in under} or {"commune"}
    taken = max((s.taken_at for s in sheets), default=datetime.combine(p.end, time(12),
                                                                         tzinfo=VN_TZ))
    sheet = StatisticsSheet(
        unit=header, period=p.code, period_label=p.label_vi, start=p.start, end=p.end,
        taken_at=taken, indicator_set=IndicatorSetRef(
            id=iset.id, version=iset.version, content_hash=iset.content_hash, title=iset.title),
        indicators=sum_indicators(iset, sheets, levels))
    return BodyStatistics(sheet, p, rolled)


#: The body's Phụ lục 6 as files: tong-hop-phu-luc-6.docx / .xlsx / tong-hop-thong-ke.json.
ROLLUP_FILES = ("tong-hop-" + appendix_file_name(INDICATORS_APPENDIX, "docx"),
                "tong-hop-" + appendix_file_name(INDICATORS_APPENDIX, "xlsx"),
                "tong-hop-thong-ke.json")


def body_statistics_file(stats: BodyStatistics, name: str) -> bytes | None:
    """One of ROLLUP_FILES as bytes (None for another name)."""
    docx, xlsx, json_name = ROLLUP_FILES
    if name == docx:
        return export_page(stats.sheet, INDICATORS_APPENDIX, "docx")
    if name == xlsx:
        return export_page(stats.sheet, INDICATORS_APPENDIX, "xlsx")
    if name == json_name:
        return canonical_json_bytes(stats.as_dict())
    return None
