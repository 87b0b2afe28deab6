"""Every rule a period's statistics must pass before anything is saved, each refusal located.

Phụ lục 4: parts add up (tables.FIELD_SUMS), no negatives, one row per field, and a field's
'kỳ trước chuyển qua' equals the previous period's 'đang giải quyết' when both are known.
Phụ lục 5: procedure code shape, level 1–4, integrated 0/1, online ≤ total.
Phụ lục 6: only input rows of the unit's level, whole numbers ≥ 0, percentages 0–100, choices
from the list, and `at_most` bounds (resolved ≤ found …).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from engine.reporting.statistics.indicators import LEVEL_VI, IndicatorSet, Level
from engine.reporting.statistics.model import StatisticsInput
from engine.reporting.statistics.numbers import format_number_vi
from engine.reporting.statistics.tables import (
    COLUMN_TITLE,
    FieldRow,
    Problem,
    field_row_problems,
    field_totals,
    procedure_row_problems,
    same_field,
)


def _lines(lines: Sequence[int] | None, n: int) -> list[int]:
    return list(lines) if lines is not None else list(range(1, n + 1))


def field_problems(rows: Sequence[FieldRow], lines: Sequence[int] | None = None,
                   previous: Sequence[FieldRow] | None = None) -> list[Problem]:
    at = _lines(lines, len(rows))
    out: list[Problem] = []
    seen: dict[str, int] = {}
    for row, line in zip(rows, at, strict=True):
        out.extend(field_row_problems(row, line))
        key = row.field.casefold()
        if key in seen:
            out.append(Problem(4, line, "field", f"lĩnh vực '{row.field}' đã có ở dòng "
                               f"{seen[key]}", "field listed twice", COLUMN_TITLE[4]["field"]))
        seen.setdefault(key, line)
    if previous is not None:
        out.extend(_carried_over(rows, at, previous))
    return out


def _carried_over(rows: Sequence[FieldRow], at: list[int], previous: Sequence[FieldRow]
                  ) -> list[Problem]:
    out: list[Problem] = []
    title = COLUMN_TITLE[4]["carried_over"]
    for row, line in zip(rows, at, strict=True):
        before = [p for p in previous if same_field(p.field, row.field)]
        if before and before[0].pending != row.carried_over:
            out.append(Problem(
                4, line, "carried_over",
                f"lĩnh vực '{row.field}': kỳ trước còn {before[0].pending} hồ sơ đang giải "
                f"quyết nhưng kỳ này ghi {row.carried_over} hồ sơ kỳ trước chuyển qua",
                "carried over differs from the previous period's pending count", title))
    mine, theirs = field_totals(list(rows))["carried_over"], field_totals(list(previous))["pending"]
    if not out and mine != theirs:
        out.append(Problem(4, None, "carried_over",
                           f"tổng hồ sơ kỳ trước chuyển qua là {mine} nhưng kỳ trước còn "
                           f"{theirs} hồ sơ đang giải quyết", "carried-over total differs",
                           title))
    return out


def value_problems(iset: IndicatorSet, values: dict[str, Decimal], level: Level
                   ) -> list[Problem]:
    by = iset.by_code()
    out: list[Problem] = []

    def bad(code: str, vi: str, en: str) -> None:
        out.append(Problem(6, None, code, vi, en))

    for code, value in values.items():
        ind = by.get(code)
        if ind is None:
            bad(code, "không có chỉ tiêu này trong bộ chỉ tiêu", "unknown indicator")
            continue
        if ind.kind != "input":
            bad(code, "chỉ tiêu này do hệ thống tính, không nhập tay",
                "computed indicator, not an input")
            continue
        if not ind.applies_to(level):
            bad(code, f"chỉ tiêu không áp dụng cho {LEVEL_VI[level]}", "not for this level")
            continue
        kind = ind.value_kind
        if value < 0:
            bad(code, f"số âm ({format_number_vi(value)}) không hợp lệ", "negative value")
        elif kind == "percent" and value > 100:
            bad(code, f"tỷ lệ {format_number_vi(value)} % vượt quá 100", "ratio above 100")
        elif kind in ("count", "money", "choice") and value != value.to_integral_value():
            bad(code, f"phải là số nguyên, không phải {format_number_vi(value)}",
                "must be a whole number")
        elif kind == "choice" and int(value) not in (ind.choices or []):
            allowed = ", ".join(str(c) for c in ind.choices or [])
            bad(code, f"chỉ được chọn {allowed} ({ind.unit}), không phải {value}",
                "not one of the choices")
    for code, value in values.items():
        ind = by.get(code)
        if ind is None or ind.at_most is None or ind.at_most not in values:
            continue
        bound = values[ind.at_most]
        if value > bound:
            bad(code, f"ghi {format_number_vi(value)}, lớn hơn dòng {ind.at_most} "
                f"({format_number_vi(bound)})", f"exceeds {ind.at_most}")
    return out


def input_problems(iset: IndicatorSet, inputs: StatisticsInput, level: Level,
                   previous: StatisticsInput | None = None,
                   field_lines: Sequence[int] | None = None) -> list[Problem]:
    """All problems of a period's inputs; an empty list means it may be saved.
    `field_lines`: where the Phụ lục 4 rows stand in the imported file (default 1, 2, …)."""
    out: list[Problem] = []
    if inputs.fields is not None:
        before = previous.fields if previous is not None else None
        out.extend(field_problems(inputs.fields, field_lines, previous=before))
    for i, p in enumerate(inputs.procedures or [], start=1):
        out.extend(procedure_row_problems(p, i))
    out.extend(value_problems(iset, inputs.values, level))
    by = iset.by_code()
    for code in inputs.notes:
        if code not in by:
            out.append(Problem(6, None, code, "ghi chú cho chỉ tiêu không có trong bộ chỉ tiêu",
                               "note for an unknown indicator"))
    return out
