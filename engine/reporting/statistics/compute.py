"""Compute Phụ lục 6 from the inputs, the engine's facts and the formulas of the indicator set.

Why every row carries a trace: officers finish the report in Word and reviewers ask "where does
65,22 come from?"; the trace answers in Vietnamese (Phụ lục 1, 15 of 23 tasks as of 13/9/2023;
Phụ lục 4, Tổng cộng, column 'Đúng hạn'), and the draft report quotes the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from engine.reporting.statistics.facts import DocumentFacts, EngineFacts, UpperTaskFacts
from engine.reporting.statistics.indicators import (
    LEVEL_VI,
    Indicator,
    IndicatorSet,
    Level,
    evaluation_order,
)
from engine.reporting.statistics.model import IndicatorRow, StatisticsInput, StatisticsSheet
from engine.reporting.statistics.numbers import NOT_APPLICABLE, format_number_vi, percent
from engine.reporting.statistics.tables import COLUMN_TITLE, FieldRow, field_totals, same_field
from vntext.dates import format_date_vi


@dataclass(frozen=True)
class _Value:
    value: Decimal | None
    text: str
    trace: str


_P4_SOURCE = {
    "p4_received": "received", "p4_online": "online", "p4_carried_over": "carried_over",
    "p4_direct": "direct", "p4_resolved": "resolved", "p4_on_time": "on_time", "p4_late": "late",
    "p4_pending": "pending", "p4_not_yet_due": "not_yet_due", "p4_overdue": "overdue",
}


def _shown(value: Decimal | None) -> str:
    return "" if value is None else format_number_vi(value)


_UPPER = {"upper_tasks": ("total", "nhiệm vụ được giao"),
          "upper_tasks_done_on_time": ("done_on_time", "nhiệm vụ đã hoàn thành đúng hạn"),
          "upper_tasks_done_late": ("done_late", "nhiệm vụ đã hoàn thành nhưng quá hạn"),
          "upper_tasks_overdue": ("overdue", "nhiệm vụ quá hạn nhưng chưa hoàn thành")}
_LISTED = 10  # documents named in a trace; the rest are counted


def _documents(ind: Indicator, facts: DocumentFacts | None) -> _Value:
    if facts is None:
        return _Value(None, "", "chưa có sổ văn bản của đơn vị")
    since = date(facts.end.year, 1, 1) if ind.span == "year" else facts.start
    types = set(ind.document_types or [])
    docs = [d for d in facts.documents
            if since <= d.issued_on <= facts.end and (not types or d.type_code in types)]
    n = len(docs)
    what = (f"Sổ văn bản: {n} văn bản do {facts.issuer} ban hành từ {format_date_vi(since)} "
            f"đến {format_date_vi(facts.end)}")
    if types:
        what += f" (loại {', '.join(sorted(types))})"
    if docs:
        named = "; ".join(d.rendered for d in docs[:_LISTED])
        what += f": {named}" + (f"; và {n - _LISTED} văn bản khác" if n > _LISTED else "")
    return _Value(Decimal(n), format_number_vi(n), what)


def _upper(src: str, facts: UpperTaskFacts | None) -> _Value:
    if facts is None:
        return _Value(None, "", "chưa có ảnh chụp nhiệm vụ")
    attr, what = _UPPER[src]
    n = sum(getattr(p, attr) for p in facts.plans)
    if not facts.plans:
        why = "không có kế hoạch nào do cấp trên ban hành trong kỳ"
        if facts.unnamed_frameworks:
            why += (f" ({facts.unnamed_frameworks} kế hoạch khung chưa khai báo cơ quan ban "
                    "hành 'issuer' nên không tính)")
        return _Value(Decimal(0), "0", why)
    parts = "; ".join(f"Phụ lục {p.appendix} ({p.plan_id}, do {p.issuer} ban hành): "
                      f"{getattr(p, attr)}" for p in facts.plans)
    return _Value(Decimal(n), format_number_vi(n),
                  f"{n} {what}, lũy kế đến {facts.cutoff} — {parts}")


def _engine(ind: Indicator, inputs: StatisticsInput, facts: EngineFacts) -> _Value:
    src = ind.source
    plan = facts.plan
    if src == "documents_issued":
        return _documents(ind, facts.documents)
    if src in _UPPER:
        return _upper(src, facts.upper)
    if src in ("cchc_plan_tasks", "cchc_plan_tasks_done"):
        if plan is None:
            return _Value(None, "", "chưa có kế hoạch CCHC năm của đơn vị")
        n = plan.total if src == "cchc_plan_tasks" else plan.done
        what = "nhiệm vụ" if src == "cchc_plan_tasks" else "nhiệm vụ đã thực hiện"
        return _Value(Decimal(n), str(n), f"Phụ lục {plan.appendix} ({plan.plan_id}): {n} "
                      f"{what}, lũy kế đến {plan.cutoff}")
    column = _P4_SOURCE[str(src)]
    title = COLUMN_TITLE[4][column]
    if inputs.fields is None:
        return _Value(None, "", "chưa nhập Phụ lục 4")
    rows: list[FieldRow] = inputs.fields
    if ind.field is not None:
        match = [r for r in rows if same_field(r.field, ind.field)]
        n = sum(getattr(r, column) for r in match)
        where = (f"Phụ lục 4, lĩnh vực {ind.field}, cột '{title}'" if match else
                 f"Phụ lục 4 không có lĩnh vực {ind.field}: 0")
        return _Value(Decimal(n), format_number_vi(n), where)
    n = field_totals(rows)[column]
    return _Value(Decimal(n), format_number_vi(n), f"Phụ lục 4, dòng Tổng cộng, cột '{title}'")


def _formula(ind: Indicator, got: dict[str, _Value], by: dict[str, Indicator],
             applies: Callable[[Indicator], bool]) -> _Value:
    if ind.ratio is not None:
        num_code, den_code = ind.ratio
        num, den = got[num_code], got[den_code]
        if num.value is None or den.value is None:
            return _Value(None, "", f"thiếu số liệu dòng {num_code} hoặc {den_code}")
        shown = f"{num.text} / {den.text} × 100"
        value = percent(num.value, den.value)
        if value is None:
            return _Value(None, NOT_APPLICABLE, f"{shown}: mẫu số bằng 0, không phát sinh")
        return _Value(value, format_number_vi(value), f"{shown} (dòng {num_code} / {den_code})")
    parts = [c for c in ind.sum or [] if applies(by[c])]
    values = [got[c].value for c in parts]
    if not parts or any(v is None for v in values):
        return _Value(None, "", f"thiếu số liệu một trong các dòng {', '.join(parts)}")
    total = sum((v for v in values if v is not None), Decimal(0))
    return _Value(total, format_number_vi(total), "tổng các dòng " + " + ".join(parts))


def _evaluate(iset: IndicatorSet, applies: Callable[[Indicator], bool], not_here: str,
              base: Callable[[Indicator], _Value], notes: dict[str, str]) -> list[IndicatorRow]:
    """Every row in print order: `base` gives input and engine rows, formulas are computed
    from them (ratios from their numerator and denominator rows, by the one rounding rule)."""
    by = iset.by_code()
    got: dict[str, _Value] = {}
    for ind in evaluation_order(iset):
        if ind.kind == "heading":
            got[ind.code] = _Value(None, "", "")
        elif not applies(ind):
            got[ind.code] = _Value(None, "", not_here)
        elif ind.kind in ("input", "engine"):
            got[ind.code] = base(ind)
        else:
            got[ind.code] = _formula(ind, got, by, applies)
    rows: list[IndicatorRow] = []
    for g in iset.groups:
        rows.append(IndicatorRow(code=g.code, stt=g.stt, label=g.label, unit="", kind="group"))
        for ind in g.indicators:
            v = got[ind.code]
            rows.append(IndicatorRow(
                code=ind.code, stt=ind.stt, label=ind.label, unit=ind.unit, kind=ind.kind,
                value=v.value, text=v.text, note=notes.get(ind.code, ""), trace=v.trace))
    return rows


def compute_indicators(iset: IndicatorSet, inputs: StatisticsInput, level: Level,
                       facts: EngineFacts) -> list[IndicatorRow]:
    """Every row of Phụ lục 6 of one unit in print order, group rows included."""

    def base(ind: Indicator) -> _Value:
        if ind.kind == "engine":
            return _engine(ind, inputs, facts)
        typed = inputs.values.get(ind.code)
        return _Value(typed, _shown(typed), "do đơn vị nhập" if typed is not None
                      else "chưa nhập")

    return _evaluate(iset, lambda i: i.applies_to(level), f"không áp dụng cho {LEVEL_VI[level]}",
                     base, inputs.notes)


def sum_indicators(iset: IndicatorSet, sheets: Sequence[StatisticsSheet], levels: set[Level],
                   what: str = "xã, phường") -> list[IndicatorRow]:
    """Phụ lục 6 of a reviewing body: each input and engine row the sum of `sheets` (its
    units' frozen sheets, matched by indicator code), every formula recomputed from the summed
    rows — a ratio is summed numerator over summed denominator, never an average of the units'
    percentages. A typed percentage cannot be summed (blank); a choice row (Có = 1 / Không = 0)
    is not summed either, its note counts the units per choice. A row applies when it applies to
    the level of any unit in `levels`."""
    rows = [{r.code: r for r in sheet.indicators} for sheet in sheets]
    n = len(sheets)
    notes: dict[str, str] = {}

    def base(ind: Indicator) -> _Value:
        values = [r[ind.code].value for r in rows if ind.code in r]
        given = [v for v in values if v is not None]
        missing = n - len(given)
        gap = f"; {missing} {what} không có số liệu dòng này" if missing else ""
        if ind.value_kind == "choice":
            counts = Counter(int(v) for v in given)
            notes[ind.code] = "; ".join(f"{c}: {counts[c]} {what}" for c in sorted(counts))
            return _Value(None, "", f"lựa chọn, không cộng được{gap}")
        if ind.value_kind == "percent":
            return _Value(None, "", f"tỷ lệ do từng đơn vị nhập, không cộng được{gap}")
        if not given:
            return _Value(None, "", f"không {what} nào có số liệu dòng này")
        total = sum(given, Decimal(0))
        return _Value(total, format_number_vi(total), f"tổng của {len(given)} {what} đã chốt{gap}")

    applies = lambda ind: any(ind.applies_to(lv) for lv in levels)  # noqa: E731
    return _evaluate(iset, applies, "không áp dụng cho các đơn vị được tổng hợp", base, notes)
