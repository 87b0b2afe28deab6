"""Saving a period's statistics (validated whole, all or nothing), computing the sheet, freezing it.

Why validate the whole period on every save: a Phụ lục 4 import, a form post of Phụ lục 6 values
and a Phụ lục 5 import all land in one stored input; checking the merged result means a saved
period always passes every rule, and a refused change leaves the database exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.directory.units import get_unit
from engine.domain.periods import parse_period
from engine.errors import Conflict, Problem, ValidationFailed
from engine.reporting.snapshot.model import Snapshot
from engine.reporting.statistics.compute import compute_indicators
from engine.reporting.statistics.facts import engine_facts
from engine.reporting.statistics.importer import read_table
from engine.reporting.statistics.indicators import IndicatorSet, default_indicator_set, level_of
from engine.reporting.statistics.model import IndicatorSetRef, StatisticsInput, StatisticsSheet
from engine.reporting.statistics.numbers import parse_number
from engine.reporting.statistics.tables import Problem as Located
from engine.reporting.statistics.validate import input_problems
from engine.reporting.statistics.values_file import load_values_file
from engine.runtime import Runtime
from engine.storage.models import PeriodStatistics
from engine.storage.models import StatisticsSnapshot as FrozenRow


class StatisticsRefused(ValidationFailed):
    """The statistics break a rule; `located` says where (row, column, reason). Nothing saved."""

    def __init__(self, located: list[Located]) -> None:
        self.located = located
        super().__init__("", "", problems=[
            Problem("", p.label_vi, p.message_en) for p in located])

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code, "problems": [p.as_dict() for p in self.located]}


def previous_period(code: str) -> str | None:
    """The quarter before a quarter ('2023-Q1' → '2022-Q4'); None for half-years and years."""
    p = parse_period(code)
    if p.kind != "quarter":
        return None
    return f"{p.year - 1}-Q4" if p.number == 1 else f"{p.year}-Q{p.number - 1}"


def _stored(session: Session, unit_id: int, period: str) -> PeriodStatistics | None:
    return session.scalar(select(PeriodStatistics).where(
        PeriodStatistics.unit_id == unit_id, PeriodStatistics.period == period))


def _frozen_row(session: Session, unit_id: int, period: str) -> FrozenRow | None:
    return session.scalar(select(FrozenRow).where(FrozenRow.unit_id == unit_id,
                                                  FrozenRow.period == period))


def _input_of(session: Session, unit_id: int, period: str) -> StatisticsInput | None:
    row = _stored(session, unit_id, period)
    return StatisticsInput.model_validate_json(row.payload) if row is not None else None


def load_input(rt: Runtime, unit: str, period: str) -> StatisticsInput:
    with rt.db.read() as session:
        u = get_unit(session, unit)
        return _input_of(session, u.id, period) or StatisticsInput()


def _previous_fields(session: Session, unit_id: int, period: str) -> StatisticsInput | None:
    """The previous quarter's Phụ lục 4 as frozen, else as typed (None when unknown)."""
    before = previous_period(period)
    if before is None:
        return None
    frozen = _frozen_row(session, unit_id, before)
    if frozen is not None:
        sheet = StatisticsSheet.model_validate_json(frozen.payload)
        return StatisticsInput(fields=sheet.fields)
    return _input_of(session, unit_id, before)


def _canonical(model: StatisticsInput | StatisticsSheet) -> str:
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def save_input(rt: Runtime, unit: str, period: str, new: StatisticsInput, by: str,
               iset: IndicatorSet | None = None, *, field_lines: list[int] | None = None,
               source: str = "") -> StatisticsInput:
    """Validate `new` whole and store it as the period's statistics; refused: nothing changes."""
    iset = iset or default_indicator_set()
    code = parse_period(period).code
    with rt.db.transaction() as session:
        u = get_unit(session, unit)
        if _frozen_row(session, u.id, code) is not None:
            raise Conflict(f"Kỳ {code} của {u.kind} {u.name} đã chốt; số liệu thống kê đã chốt "
                           "không thể thay đổi", f"period {code} is frozen", field="period")
        problems = input_problems(iset, new, level_of(u.kind),
                                  _previous_fields(session, u.id, code), field_lines)
        if problems:
            raise StatisticsRefused([replace(p, source=p.source or source) for p in problems])
        row = _stored(session, u.id, code)
        payload = _canonical(new)
        if row is None:
            session.add(PeriodStatistics(unit_id=u.id, period=code, payload=payload, version=1,
                                         updated_at=rt.now(), updated_by=by))
        else:
            row.payload = payload
            row.version += 1
            row.updated_at = rt.now()
            row.updated_by = by
    return new


def _current(rt: Runtime, unit: str, period: str) -> StatisticsInput:
    """The period's stored inputs to merge a change into, without values typed for rows that
    the indicator set no longer has as inputs (1.1 and 1.4.a–d became engine rows in version
    2022-08-r2): those are ignored by the sheet and would otherwise refuse every later save."""
    current = load_input(rt, unit, period)
    by = default_indicator_set().by_code()
    kept = {c: v for c, v in current.values.items() if c in by and by[c].kind == "input"}
    return current if kept == current.values else current.model_copy(update={"values": kept})


def import_file(rt: Runtime, unit: str, period: str, path: Path, by: str
                ) -> tuple[int, int]:
    """Store a file as the period's Phụ lục 4 or 5 (.xlsx/.csv, replacing that table) or as
    Phụ lục 6 inputs (.yaml, replacing all typed values and notes); (appendix, rows read)."""
    current = _current(rt, unit, period)
    if path.suffix.lower() in (".yaml", ".yml"):
        data = load_values_file(path)
        values = data.decimals()
        save_input(rt, unit, period, current.model_copy(
            update={"values": values, "notes": dict(data.notes)}), by)
        return 6, len(values)
    table = read_table(path)
    if table.problems:
        raise StatisticsRefused(table.problems)
    if table.table == 4:
        save_input(rt, unit, period, current.model_copy(update={"fields": table.fields}), by,
                   field_lines=table.lines, source=path.name)
    else:
        save_input(rt, unit, period, current.model_copy(update={"procedures": table.procedures}),
                   by, source=path.name)
    return table.table, len(table.fields) + len(table.procedures)


def set_values(rt: Runtime, unit: str, period: str, values: dict[str, str],
               notes: dict[str, str], by: str) -> StatisticsInput:
    """Phụ lục 6 inputs as typed in a form: '' clears a value; numbers may be written 1.134."""
    current = _current(rt, unit, period)
    merged: dict[str, Decimal] = dict(current.values)
    bad: list[Located] = []
    for code, raw in values.items():
        if not raw.strip():
            merged.pop(code, None)
            continue
        try:
            merged[code] = parse_number(raw)
        except ValueError as exc:
            bad.append(Located(6, None, code, str(exc), "not a number"))
    if bad:
        raise StatisticsRefused(bad)
    all_notes = {**current.notes, **notes}
    all_notes = {k: v.strip() for k, v in all_notes.items() if v.strip()}
    return save_input(rt, unit, period,
                      current.model_copy(update={"values": merged, "notes": all_notes}), by)


def plan_appendix(rt: Runtime, snap: Snapshot) -> int | None:
    """The appendix number of the year's CCHC plan in `snap` (Phụ lục 1 in the demo)."""
    with rt.db.read() as session:
        facts = engine_facts(session, get_unit(session, snap.unit.slug), snap)
    return facts.plan.appendix if facts.plan else None


def sheet_in(session: Session, snap: Snapshot, iset: IndicatorSet | None = None
             ) -> StatisticsSheet:
    """Phụ lục 4–6 of the snapshot's unit and period, computed in `session` (not frozen)."""
    iset = iset or default_indicator_set()
    u = get_unit(session, snap.unit.slug)
    inputs = _input_of(session, u.id, snap.period) or StatisticsInput()
    return StatisticsSheet(
        unit=snap.unit, period=snap.period, period_label=snap.period_label, start=snap.start,
        end=snap.end, taken_at=snap.taken_at,
        indicator_set=IndicatorSetRef(id=iset.id, version=iset.version,
                                      content_hash=iset.content_hash, title=iset.title),
        fields=inputs.fields or [], procedures=inputs.procedures or [],
        indicators=compute_indicators(iset, inputs, level_of(u.kind),
                                      engine_facts(session, u, snap)))


def build_sheet(rt: Runtime, snap: Snapshot, iset: IndicatorSet | None = None
                ) -> StatisticsSheet:
    """Phụ lục 4–6 of the snapshot's unit and period, computed now (not frozen)."""
    with rt.db.read() as session:
        return sheet_in(session, snap, iset)


def sheet_hash(sheet: StatisticsSheet) -> str:
    plain = sheet.model_copy(update={"content_hash": None, "frozen": True})
    return hashlib.sha256(_canonical(plain).encode("utf-8")).hexdigest()


def frozen_sheet(rt: Runtime, unit: str, period: str) -> StatisticsSheet | None:
    with rt.db.read() as session:
        u = get_unit(session, unit)
        row = _frozen_row(session, u.id, period)
        if row is None:
            return None
        sheet = StatisticsSheet.model_validate_json(row.payload)
        if sheet_hash(sheet) != row.content_hash:  # pragma: no cover - tamper guard
            raise Conflict("Số liệu thống kê đã chốt bị thay đổi", "frozen statistics altered")
        return sheet.model_copy(update={"frozen": True, "content_hash": row.content_hash})


def freeze_in(session: Session, snap: Snapshot, by: str) -> StatisticsSheet:
    """Compute and store the period's sheet for good, in the transaction that freezes `snap`
    (engine.reporting.snapshot.store.freeze): the task snapshot and the statistics are frozen
    together."""
    sheet = sheet_in(session, snap)
    digest = sheet_hash(sheet)
    plain = sheet.model_copy(update={"content_hash": None, "frozen": True})
    u = get_unit(session, sheet.unit.slug)
    if _frozen_row(session, u.id, sheet.period) is not None:
        raise Conflict(f"Số liệu thống kê kỳ {sheet.period} đã chốt",
                       "statistics already frozen", field="period")
    session.add(FrozenRow(unit_id=u.id, period=sheet.period, taken_at=sheet.taken_at,
                          taken_by=by, indicator_set=f"{sheet.indicator_set.id}@"
                          f"{sheet.indicator_set.version}", content_hash=digest,
                          payload=_canonical(plain)))
    return sheet.model_copy(update={"frozen": True, "content_hash": digest})


def take_sheet(rt: Runtime, snap: Snapshot) -> StatisticsSheet:
    """The frozen sheet if the period's statistics are frozen, else computed now."""
    return frozen_sheet(rt, snap.unit.slug, snap.period) or build_sheet(rt, snap)


def frozen_units(session: Session, period: str) -> dict[int, str]:
    """unit id → content hash of every unit whose statistics of `period` are frozen."""
    return dict(session.execute(select(FrozenRow.unit_id, FrozenRow.content_hash).where(
        FrozenRow.period == period)).all())

