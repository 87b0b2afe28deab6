"""The reviewing body's (province's, or a district's) summary of a period, commune by commune:
tasks done / not done per plan, overdue tasks and sub-reports, on-time and online dossier
ratios — from frozen snapshots where they exist, live and marked "chưa chốt" where not; as a
table for the web, .xlsx, .docx and JSON; and the body's own Phụ lục 6, its units' frozen
statistics summed (`rollup`)."""

from __future__ import annotations

from engine.reporting.summary.build import (
    FROZEN_VI,
    LIVE_VI,
    PlanCell,
    ProvinceSummary,
    Ratio,
    SummaryRow,
    province_summary,
)
from engine.reporting.summary.export import (
    SORTS,
    sorted_rows,
    summary_docx,
    summary_json,
    summary_table,
    summary_xlsx,
)
from engine.reporting.summary.rollup import (
    ROLLUP_FILES,
    BodyStatistics,
    RolledUnit,
    body_statistics,
    body_statistics_file,
)

__all__ = [
    "FROZEN_VI",
    "LIVE_VI",
    "ROLLUP_FILES",
    "SORTS",
    "BodyStatistics",
    "PlanCell",
    "ProvinceSummary",
    "Ratio",
    "RolledUnit",
    "SummaryRow",
    "body_statistics",
    "body_statistics_file",
    "province_summary",
    "sorted_rows",
    "summary_docx",
    "summary_json",
    "summary_table",
    "summary_xlsx",
]
