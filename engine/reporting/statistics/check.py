"""The reviewer's checks across appendices: Phụ lục 6 against Phụ lục 4 and Phụ lục 1, each
ratio re-done by the one rounding rule — on the engine's sheet and on a hand-made report.

Why both: the engine's own sheet is consistent by construction, but a sheet frozen from another
snapshot, or a Phụ lục 5 whose online count disagrees with Phụ lục 4, still needs saying; a
hand-made report (`--against`) is where the typed 98,5 % for 1.117 / 1.117 shows up.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from engine.reporting.snapshot.findings import Finding
from engine.reporting.snapshot.model import Snapshot
from engine.reporting.statistics.indicators import (
    REGISTER_AND_UPPER,
    IndicatorSet,
    default_indicator_set,
)
from engine.reporting.statistics.model import StatisticsSheet
from engine.reporting.statistics.numbers import (
    NOT_APPLICABLE,
    format_number_vi,
    parse_number,
    percent,
)
from engine.reporting.statistics.store import build_sheet, frozen_sheet, plan_appendix
from engine.reporting.statistics.tables import COLUMN_TITLE, FIELD_NUMBERS
from engine.reporting.statistics.text_report import TextRow, field_rows, indicator_rows
from engine.runtime import Runtime

# Phụ lục 6 rows that restate a Phụ lục 4 total: code → Phụ lục 4 column.
P4_RESTATED = {"3.2.2.a": "received", "3.2.2.b": "resolved", "3.2.2.c": "on_time",
               "7.2.3.a": "received", "7.2.3.b": "online"}
P1_RESTATED = {"1.2.a": "total", "1.2.b": "done"}


def _finding(code: str, severity: str, row: str, vi: str, en: str, source: str,
             line: int | None = None) -> Finding:
    return Finding(code, "error" if severity == "error" else "warning",
                   f"Phụ lục 6, dòng {row}: {vi}", f"appendix 6, row {row}: {en}",
                   task=row, source="against" if source == "against" else "snapshot",
                   appendix=6, line=line)


def sheet_findings(snap: Snapshot, sheet: StatisticsSheet, plan_appendix: int | None
                   ) -> list[Finding]:
    """The engine's own Phụ lục 4–6 against its Phụ lục 1 and each other."""
    out: list[Finding] = []
    if not sheet.fields:  # nothing entered yet: the appendices simply stay empty
        return out
    totals = sheet.field_totals()
    for code, column in P4_RESTATED.items():
        row = next((r for r in sheet.indicators if r.code == code), None)
        if row is not None and row.value is not None and row.value != totals[column]:
            out.append(_finding("cross_appendix", "error", code,
                                f"ghi {row.text} nhưng Phụ lục 4 dòng Tổng cộng cột "
                                f"'{COLUMN_TITLE[4][column]}' là "
                                f"{format_number_vi(totals[column])}",
                                "differs from appendix 4 totals", "snapshot"))
    appendix = next((a for a in snap.appendices if a.number == plan_appendix), None)
    if appendix is not None:
        for code, attr in P1_RESTATED.items():
            row = next((r for r in sheet.indicators if r.code == code), None)
            want = getattr(appendix, attr)
            if row is not None and row.value is not None and row.value != want:
                out.append(_finding("cross_appendix", "error", code,
                                    f"ghi {row.text} nhưng Phụ lục {appendix.number} có {want}",
                                    f"differs from appendix {appendix.number}", "snapshot"))
    if sheet.procedures:
        online5 = sum(p.online for p in sheet.procedures)
        if online5 != totals["online"]:
            out.append(Finding(
                "online_counts_differ", "warning",
                f"Phụ lục 5: tổng số hồ sơ trực tuyến theo thủ tục là {format_number_vi(online5)}"
                f" nhưng Phụ lục 4 ghi {format_number_vi(totals['online'])} hồ sơ mới tiếp nhận "
                "trực tuyến (kiểm tra hồ sơ kỳ trước chuyển qua hoặc thủ tục thiếu)",
                "appendix 5 online total differs from appendix 4", appendix=5))
    return out


def _engine_codes(iset: IndicatorSet) -> list[str]:
    return [i.code for i in iset.all() if i.source in REGISTER_AND_UPPER]


def recomputed_findings(sheet: StatisticsSheet, now: StatisticsSheet, iset: IndicatorSet
                        ) -> list[Finding]:
    """A frozen sheet's register and upper-level rows (1.1, 1.4.a–d) against what the engine
    computes now: a document registered or a task changed later, dated inside the period."""
    out: list[Finding] = []
    mine, fresh = ({r.code: r for r in s.indicators} for s in (sheet, now))
    for code in _engine_codes(iset):
        a, b = mine.get(code), fresh.get(code)
        if a is not None and b is not None and a.value != b.value:
            out.append(_finding("engine_fact_changed", "warning", code,
                                f"đã chốt {a.text or 'trống'} nhưng hệ thống nay tính được "
                                f"{b.text or 'trống'} ({b.trace})",
                                "frozen value differs from what the engine computes now",
                                "snapshot"))
    return out


def _against_engine(by_code: dict[str, TextRow], engine: StatisticsSheet, iset: IndicatorSet
                    ) -> list[Finding]:
    """A hand-made report's 1.1 / 1.4.a–d against the engine's own count for the period."""
    out: list[Finding] = []
    ours = {r.code: r for r in engine.indicators}
    for code in _engine_codes(iset):
        row, mine = by_code.get(code), ours.get(code)
        if row is None or mine is None or mine.value is None:
            continue
        stated = row.cells[3].strip()
        if _number(stated) != mine.value:
            out.append(_finding("statistic_not_engine", "error", code,
                                f"ghi {stated or 'trống'} nhưng hệ thống tính được "
                                f"{mine.text}: {mine.trace}",
                                f"states {stated or 'nothing'} but the engine counts "
                                f"{mine.value}", "against", row.line))
    return out


def _number(text: str) -> Decimal | None:
    try:
        return parse_number(text) if text.strip() else None
    except ValueError:
        return None


def against_findings(text: str, iset: IndicatorSet, engine: StatisticsSheet | None = None
                     ) -> list[Finding]:
    """A text report's Phụ lục 6 checked against itself (ratios), its Phụ lục 4 and, given the
    engine's sheet of the same unit and period, the rows the engine counts (1.1, 1.4.a–d)."""
    rows = indicator_rows(text)
    codes: list[str] = []
    for g in iset.groups:
        codes.append(g.code)
        codes.extend(i.code for i in g.indicators)
    if not rows:
        return []
    if len(rows) != len(codes):
        return [Finding("statistics_layout", "warning",
                        f"Phụ lục 6 có {len(rows)} dòng, bộ chỉ tiêu {iset.id} có {len(codes)}"
                        " dòng: không đối chiếu được từng chỉ tiêu",
                        "appendix 6 rows do not match the indicator set", source="against",
                        appendix=6)]
    by_code = dict(zip(codes, rows, strict=True))
    stated = {c: _number(r.cells[3]) for c, r in by_code.items()}
    out: list[Finding] = []
    for ind in iset.all():
        if ind.ratio is None:
            continue
        row = by_code[ind.code]
        shown = row.cells[3].strip()
        if not shown or shown == NOT_APPLICABLE:
            continue
        num, den = (stated.get(c) for c in ind.ratio)
        if num is None or den is None:
            continue
        want = percent(num, den)
        num_s, den_s = (by_code[c].cells[3] for c in ind.ratio)
        if want is None:
            out.append(_finding("statistic_over_zero", "warning", ind.code,
                                f"ghi {shown} % nhưng {num_s} / {den_s}: mẫu số bằng 0, tỷ lệ "
                                "không tính được (ghi '-')", "ratio over zero", "against",
                                row.line))
        elif stated[ind.code] != want:
            out.append(_finding("statistic_differs", "error", ind.code,
                                f"ghi {shown} % nhưng {num_s} / {den_s} = "
                                f"{format_number_vi(want)} % (làm tròn 2 chữ số thập phân)",
                                f"states {shown} % but the rows give {want} %", "against",
                                row.line))
    out.extend(_against_p4(text, by_code))
    if engine is not None:
        out.extend(_against_engine(by_code, engine, iset))
    return out


def _against_p4(text: str, by_code: dict[str, TextRow]) -> list[Finding]:
    p4 = field_rows(text)
    if not p4 or not p4[-1].cells[1].startswith("Tổng"):
        return []
    totals = dict(zip(FIELD_NUMBERS, (_number(c) for c in p4[-1].cells[2:]), strict=True))
    out: list[Finding] = []
    for code, column in P4_RESTATED.items():
        row = by_code.get(code)
        if row is None:
            continue
        cells = row.cells
        mine = _number(cells[3])
        if mine is not None and totals[column] is not None and mine != totals[column]:
            out.append(_finding("cross_appendix", "error", code,
                                f"ghi {cells[3]} nhưng Phụ lục 4 dòng Tổng cộng cột "
                                f"'{COLUMN_TITLE[4][column]}' là "
                                f"{p4[-1].cells[2 + FIELD_NUMBERS.index(column)]}",
                                "differs from appendix 4", "against", row.line))
    return out


def check_statistics(rt: Runtime, snap: Snapshot, against: Path | None = None) -> list[Finding]:
    """What `cchc report check` adds for Phụ lục 4–6 (see the module docstring)."""
    iset = default_indicator_set()
    now = build_sheet(rt, snap, iset)
    frozen = frozen_sheet(rt, snap.unit.slug, snap.period)
    out = sheet_findings(snap, frozen or now, plan_appendix(rt, snap))
    if frozen is not None:
        out.extend(recomputed_findings(frozen, now, iset))
    if against is not None and against.suffix.lower() == ".txt":
        out.extend(against_findings(against.read_text(encoding="utf-8"), iset, now))
    return out
