"""What leaves the engine: dashboards, frozen snapshots, report exports and reading reports back.

Public API: the names below (loaded on first use, see `engine.public_api`). The CLI and the
web app import these and nothing else of this folder. The sub-packages `draft`, `export`,
`statistics` and `summary` have their own public API in their `__init__`, used here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import public_api

if TYPE_CHECKING:
    from engine.reporting.dashboard import (
        PlanProgress,
        SectionView,
        UnitOverview,
        city_overview,
        cutoff_day,
        frozen_periods,
        is_overdue,
        obligations_overdue,
        owned_by,
        owner_choices,
        period_choices,
        person_of,
        plan_progress,
        plan_sections,
        quarter_reported_on,
        reporting_quarter,
        task_section,
        unit_dashboard,
        unit_plans,
        unit_view,
        units_with_plans,
        work_order,
        workload,
    )
    from engine.reporting.draft import DRAFT_NAME, draft_report
    from engine.reporting.export import export_docx, export_json, export_xlsx
    from engine.reporting.export.cells import put_cell
    from engine.reporting.export.files import JSON_NAME as SNAPSHOT_JSON_NAME
    from engine.reporting.export.files import appendix_file_name, download_name
    from engine.reporting.menu import MenuCounts, menu_counts
    from engine.reporting.snapshot.build import build_snapshot
    from engine.reporting.snapshot.check import check_report
    from engine.reporting.snapshot.findings import Finding
    from engine.reporting.snapshot.findings import count_vi as count_findings_vi
    from engine.reporting.snapshot.model import Snapshot
    from engine.reporting.snapshot.store import freeze as freeze_snapshot
    from engine.reporting.snapshot.store import frozen_snapshot
    from engine.reporting.statistics import Problem as StatisticsProblem
    from engine.reporting.statistics import (
        StatisticsRefused,
        StatisticsSheet,
        default_indicator_set,
        format_number_vi,
        take_sheet,
    )
    from engine.reporting.statistics import import_file as import_statistics_file
    from engine.reporting.statistics import level_of as statistics_level_of
    from engine.reporting.statistics import load_input as load_statistics_input
    from engine.reporting.statistics import set_values as set_statistics_values
    from engine.reporting.statistics.export import (
        FIELDS_APPENDIX,
        INDICATORS_APPENDIX,
        PROCEDURES_APPENDIX,
        export_sheet_json,
    )
    from engine.reporting.statistics.export import JSON_NAME as STATISTICS_JSON_NAME
    from engine.reporting.statistics.export import export_page as export_statistics_page
    from engine.reporting.summary import (
        ROLLUP_FILES,
        body_statistics,
        body_statistics_file,
        province_summary,
        sorted_rows,
        summary_docx,
        summary_json,
        summary_xlsx,
    )
    from engine.reporting.summary import SORTS as SUMMARY_SORTS
    from engine.reporting.task_page import read_task_page
else:  # mypy sees the names above only, so a misspelt name stays an error
    __getattr__, __dir__ = public_api(__name__, __file__)

__all__ = [
    "DRAFT_NAME",
    "FIELDS_APPENDIX",
    "INDICATORS_APPENDIX",
    "PROCEDURES_APPENDIX",
    "ROLLUP_FILES",
    "SNAPSHOT_JSON_NAME",
    "STATISTICS_JSON_NAME",
    "SUMMARY_SORTS",
    "Finding",
    "MenuCounts",
    "PlanProgress",
    "SectionView",
    "Snapshot",
    "StatisticsProblem",
    "StatisticsRefused",
    "StatisticsSheet",
    "UnitOverview",
    "appendix_file_name",
    "body_statistics",
    "body_statistics_file",
    "build_snapshot",
    "check_report",
    "city_overview",
    "count_findings_vi",
    "cutoff_day",
    "default_indicator_set",
    "download_name",
    "draft_report",
    "export_docx",
    "export_json",
    "export_sheet_json",
    "export_statistics_page",
    "export_xlsx",
    "format_number_vi",
    "freeze_snapshot",
    "frozen_periods",
    "frozen_snapshot",
    "import_statistics_file",
    "is_overdue",
    "load_statistics_input",
    "menu_counts",
    "obligations_overdue",
    "owned_by",
    "owner_choices",
    "period_choices",
    "person_of",
    "plan_progress",
    "plan_sections",
    "province_summary",
    "put_cell",
    "quarter_reported_on",
    "read_task_page",
    "reporting_quarter",
    "set_statistics_values",
    "sorted_rows",
    "statistics_level_of",
    "summary_docx",
    "summary_json",
    "summary_xlsx",
    "take_sheet",
    "task_section",
    "unit_dashboard",
    "unit_plans",
    "unit_view",
    "units_with_plans",
    "work_order",
    "workload",
]
