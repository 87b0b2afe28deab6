"""The engine's commands as one flat module: what the CLI, the web app and scripts call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import func, select

from engine.directory.units import UnitView, list_units, upsert_units
from engine.domain.occurrences import occurrence_end
from engine.domain.tasks import (
    Actor,
    ChangeResult,
    HistoryEntry,
    TaskKey,
    TaskView,
    add_note,
    assign,
    filter_tasks,
    get_view,
    history,
    in_force,
    list_tasks,
    occurrences_of,
    resolve_key,
    set_deadline,
    transition,
)
from engine.errors import ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import Plan, PlanTask, UnitPlan
from plans.errors import DataFileError

if TYPE_CHECKING:
    # The quarter-end run and the report's readers load the snapshot model and, through it,
    # the plan and statistics schemas: loaded on first use (`engine.public_api`), so the
    # everyday commands (`cchc task list`, `task done`) do not pay for them (issue 13).
    from engine.domain.plan_loading import LoadedPlan
    from engine.reporting.quarter_end import (
        SnapshotResult,
        UnitExport,
        run_all,
        snapshot_and_export,
        take_snapshot,
    )
    from engine.reporting.snapshot.findings import Finding
    from engine.reporting.snapshot.model import Snapshot
else:  # mypy sees the names above only, so a misspelt name stays an error
    from engine import public_api

    __getattr__, __dir__ = public_api(__name__, __file__)

def load_units_file(rt: Runtime, path: Path) -> list[UnitView]:
    from plans import UnitsFile, load_model  # lazy: the data-file schemas (CLI start time)

    return upsert_units(rt, load_model(UnitsFile, path).units)


def add_unit(rt: Runtime, **fields: Any) -> list[UnitView]:
    from plans import UnitSpec  # lazy: the data-file schemas (CLI start time)

    try:
        spec = UnitSpec(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ValidationFailed(f"Trường '{where}' không hợp lệ: {err['msg']}", err["msg"],
                               field=where) from None
    return upsert_units(rt, [spec])


def load_plans(rt: Runtime, units: Sequence[str], files: Sequence[Path], *,
               allow_other_units: bool = False,
               allow_drop_state: bool = False) -> list[LoadedPlan]:
    from engine.domain.plan_loading import load_plans as _load_plans  # lazy: CLI start time

    return _load_plans(rt, units, files, allow_other_units=allow_other_units,
                       allow_drop_state=allow_drop_state)


def list_plans(rt: Runtime) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        counts = dict(session.execute(
            select(PlanTask.plan_id, func.count()).where(PlanTask.retired.is_(False))
            .group_by(PlanTask.plan_id)).all())
        units = dict(session.execute(
            select(UnitPlan.plan_id, func.count()).group_by(UnitPlan.plan_id)).all())
        return [
            {"id": p.id, "code": p.code, "scope": p.scope, "kind": p.kind, "year": p.year,
             "title": p.title,
             "issued_by": p.issued_by, "appendix": p.appendix_number,
             "tasks": counts.get(p.id, 0), "units": units.get(p.id, 0)}
            for p in session.scalars(select(Plan).order_by(Plan.year, Plan.appendix_number))
        ]


def get_task(rt: Runtime, key: TaskKey) -> TaskView:
    return get_view(rt, key)


def check(rt: Runtime, unit: str, period: str, *, against: Path | None = None) -> list[Finding]:
    """What a reviewer would send back; data the report cannot even be built from (two plans
    in force for one appendix, a plan no appendix takes) is a finding with its place."""
    from engine.reporting.quarter_end import take_snapshot  # lazy: CLI start time
    from engine.reporting.snapshot.check import check_report  # lazy: the readers (start time)
    from engine.reporting.snapshot.findings import Finding  # lazy: CLI start time

    try:
        snap = take_snapshot(rt, unit, period)
    except DataFileError as exc:
        return [Finding("report_definition", "error",
                        f"{p.file}{f':{p.line}' if p.line else ''} [{p.location}]: {p.message_vi}",
                        p.message_en)
                for p in exc.file_problems]
    return [*_calendar_findings(rt, snap), *check_report(rt, snap, against=against)]


def _calendar_findings(rt: Runtime, snap: Snapshot) -> list[Finding]:
    """A year of the period the working calendar does not declare: lateness there counts only
    the statutory days off, and a swap announced for that year may be missing."""
    from engine.reporting.snapshot.findings import Finding  # lazy: CLI start time

    return [Finding("calendar_year_missing", "warning",
                    f"Lịch làm việc năm {y} chưa được khai báo trong workflows/calendar.yaml: "
                    "số ngày làm việc chỉ tính theo ngày lễ, Tết luật định; ngày hoán đổi (nếu "
                    "có) chưa được tính",
                    f"the working calendar does not declare {y}: working days count statutory "
                    "holidays only; an announced swap may be missing")
            for y in rt.calendar.missing_years(snap.start, snap.end)]



__all__ = [
    "Actor",
    "ChangeResult",
    "HistoryEntry",
    "SnapshotResult",
    "TaskKey",
    "TaskView",
    "UnitExport",
    "add_note",
    "add_unit",
    "assign",
    "check",
    "filter_tasks",
    "get_task",
    "history",
    "in_force",
    "list_plans",
    "list_tasks",
    "list_units",
    "load_plans",
    "load_units_file",
    "occurrence_end",
    "occurrences_of",
    "resolve_key",
    "run_all",
    "set_deadline",
    "snapshot_and_export",
    "take_snapshot",
    "transition",
]
