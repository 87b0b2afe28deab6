"""Phụ lục 4–6 of the quarterly CCHC report: dossier statistics and the CCHC statistics sheet.

Phụ lục 4 (dossiers per field) and 5 (online dossiers per procedure) are typed tables imported
from the one-stop-shop system's export; Phụ lục 6 is an indicator set kept as data
(plans/data/statistics/), whose rows are typed inputs, facts the engine already has (the CCHC
plan's tasks as of the cut-off, Phụ lục 4 totals) or formulas over other rows. Every input is
validated with its row, column and reason before anything is saved; the computed sheet is
frozen and hashed together with the period's task snapshot. The rounding rule lives in
`numbers` and nowhere else.
"""

from __future__ import annotations

from engine.reporting.statistics.compute import compute_indicators
from engine.reporting.statistics.facts import EngineFacts, PlanFacts, engine_facts
from engine.reporting.statistics.importer import ImportedTable, read_table
from engine.reporting.statistics.indicators import (
    DEFAULT_SET,
    Indicator,
    IndicatorSet,
    default_indicator_set,
    level_of,
    load_indicator_set,
)
from engine.reporting.statistics.model import IndicatorRow, StatisticsInput, StatisticsSheet
from engine.reporting.statistics.numbers import format_number_vi, parse_number, percent
from engine.reporting.statistics.store import (
    StatisticsRefused,
    build_sheet,
    frozen_sheet,
    import_file,
    load_input,
    previous_period,
    save_input,
    set_values,
    sheet_hash,
    take_sheet,
)
from engine.reporting.statistics.tables import (
    FIELD_COLUMNS,
    PROCEDURE_COLUMNS,
    FieldRow,
    Problem,
    ProcedureRow,
    field_totals,
)
from engine.reporting.statistics.validate import input_problems

__all__ = [
    "DEFAULT_SET",
    "FIELD_COLUMNS",
    "PROCEDURE_COLUMNS",
    "EngineFacts",
    "FieldRow",
    "ImportedTable",
    "Indicator",
    "IndicatorRow",
    "IndicatorSet",
    "PlanFacts",
    "Problem",
    "ProcedureRow",
    "StatisticsInput",
    "StatisticsRefused",
    "StatisticsSheet",
    "build_sheet",
    "compute_indicators",
    "default_indicator_set",
    "engine_facts",
    "field_totals",
    "format_number_vi",
    "frozen_sheet",
    "import_file",
    "input_problems",
    "level_of",
    "load_indicator_set",
    "load_input",
    "parse_number",
    "percent",
    "previous_period",
    "read_table",
    "save_input",
    "set_values",
    "sheet_hash",
    "take_sheet",
]
