"""What a period's statistics are: the officer's inputs, and the computed sheet that is frozen.

Why two models: inputs (Phụ lục 4 and 5 rows, the typed Phụ lục 6 values and notes) change
until the quarter is frozen; the sheet is computed from them plus the engine's own facts and is
what gets frozen, hashed and exported — a separate part next to the task snapshot, so the
appendix files of Phụ lục 1–3 and their hash are untouched by statistics.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from engine.reporting.snapshot.model import UnitHeader
from engine.reporting.statistics.tables import FieldRow, ProcedureRow, field_totals


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatisticsInput(_Frozen):
    """A unit's typed statistics of one period (None: that table was not entered yet)."""

    fields: list[FieldRow] | None = None
    procedures: list[ProcedureRow] | None = None
    values: dict[str, Decimal] = {}
    notes: dict[str, str] = {}


class IndicatorRow(_Frozen):
    """One printed row of Phụ lục 6 with its value and where the value comes from."""

    code: str
    stt: str
    label: str
    unit: str
    kind: Literal["group", "heading", "input", "engine", "formula"]
    value: Decimal | None = None
    text: str = ""  # as printed: '1.134', '20,55', '-' (zero denominator) or ''
    note: str = ""
    trace: str = ""  # how the value was obtained, in Vietnamese


class IndicatorSetRef(_Frozen):
    id: str
    version: str
    content_hash: str
    title: str


class StatisticsSheet(_Frozen):
    """Phụ lục 4–6 of one unit and period, computed; frozen with the period's snapshot."""

    unit: UnitHeader
    period: str
    period_label: str
    start: date
    end: date
    taken_at: datetime
    frozen: bool = False
    content_hash: str | None = None
    indicator_set: IndicatorSetRef
    fields: list[FieldRow] = []
    procedures: list[ProcedureRow] = []
    indicators: list[IndicatorRow] = []

    def indicator(self, code: str) -> IndicatorRow:
        return next(r for r in self.indicators if r.code == code)

    def field_totals(self) -> dict[str, int]:
        return field_totals(self.fields)
