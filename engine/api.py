"""The engine's commands as one flat module: what the CLI, the web app and scripts call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from engine.directory.units import UnitView, list_units, upsert_units
from engine.domain.occurrences import occurrence_end
from engine.domain.periods import normalise_period
from engine.domain.plan_loading import LoadedPlan
from engine.domain.plan_loading import load_plans as _load_plans
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
from engine.errors import CchcError
from engine.reporting.snapshot.build import DefinitionCache, build_snapshot
from engine.reporting.snapshot.model import Snapshot
from engine.reporting.snapshot.store import freeze as _freeze
from engine.reporting.snapshot.store import frozen_snapshot
from engine.runtime import Runtime
from engine.storage.models import Plan, PlanTask, Unit, UnitPlan
from plans import DataFileError, UnitsFile, UnitSpec, load_model

if TYPE_CHECKING:
    from engine.reporting.snapshot.check import Finding


def load_units_file(rt: Runtime, path: Path) -> list[UnitView]:
    return upsert_units(rt, load_model(UnitsFile, path).units)


def add_unit(rt: Runtime, **fields: Any) -> list[UnitView]:
    from pydantic import ValidationError

    from engine.errors import ValidationFailed

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


@dataclass
class SnapshotResult:
    snapshot: Snapshot
    files: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.snapshot.unit.slug,
            "period": self.snapshot.period,
            "start": self.snapshot.start.isoformat(),
            "end": self.snapshot.end.isoformat(),
            "frozen": self.snapshot.frozen,
            "content_hash": self.snapshot.content_hash,
            "appendices": [
                {"number": a.number, "plan": a.plan_id, "total": a.total, "done": a.done,
                 "not_done": a.not_done}
                for a in self.snapshot.appendices
            ],
            "files": [str(p) for p in self.files],
        }


def take_snapshot(rt: Runtime, unit: str, period: str, *, freeze: bool = False,
                  taken_by: str = "", cache: DefinitionCache | None = None) -> Snapshot:
    """The frozen snapshot if the period is frozen, else a live one (frozen now if asked)."""
    period = normalise_period(period)
    existing = frozen_snapshot(rt, unit, period)
    if existing is not None:
        return existing
    snap = build_snapshot(rt, unit, period, cache=cache)
    return _freeze(rt, snap, taken_by) if freeze else snap


def snapshot_and_export(rt: Runtime, unit: str, period: str, out: Path, *,
                        freeze: bool = False, taken_by: str = "",
                        cache: DefinitionCache | None = None) -> SnapshotResult:
    # The writers (openpyxl, python-docx) and the statistics are loaded when a report is
    # written, not by every command that imports this module (`cchc task done` starts faster).
    from engine.reporting.export import write_all
    from engine.reporting.statistics import take_sheet
    from engine.reporting.statistics.export import has_statistics, write_statistics

    snap = take_snapshot(rt, unit, period, freeze=freeze, taken_by=taken_by, cache=cache)
    out.mkdir(parents=True, exist_ok=True)
    files = write_all(snap, out)
    sheet = take_sheet(rt, snap)
    if has_statistics(sheet):  # Phụ lục 4–6, once the period's statistics are entered
        files += write_statistics(sheet, out)
    return SnapshotResult(snap, files)


def check(rt: Runtime, unit: str, period: str, *, against: Path | None = None) -> list[Finding]:
    """What a reviewer would send back; data the report cannot even be built from (two plans
    in force for one appendix, a plan no appendix takes) is a finding with its place."""
    from engine.reporting.snapshot.check import (  # the readers: only when checking
        Finding,
        check_report,
    )

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
    from engine.reporting.snapshot.check import Finding  # the readers: only when checking

    return [Finding("calendar_year_missing", "warning",
                    f"Lịch làm việc năm {y} chưa được khai báo trong workflows/calendar.yaml: "
                    "số ngày làm việc chỉ tính theo ngày lễ, Tết luật định; ngày hoán đổi (nếu "
                    "có) chưa được tính",
                    f"the working calendar does not declare {y}: working days count statutory "
                    "holidays only; an announced swap may be missing")
            for y in rt.calendar.missing_years(snap.start, snap.end)]


@dataclass(frozen=True)
class UnitExport:
    """What a quarter-end run keeps of one unit: the snapshot itself stays on disk."""

    unit: str
    content_hash: str | None
    frozen: bool
    files: int
    bytes: int
    error: str | None = None  # why this unit failed (the others are still exported)

    @classmethod
    def of(cls, res: SnapshotResult) -> UnitExport:
        return cls(res.snapshot.unit.slug, res.snapshot.content_hash, res.snapshot.frozen,
                   len(res.files), sum(p.stat().st_size for p in res.files))

    @classmethod
    def failed(cls, unit: str, exc: CchcError | DataFileError) -> UnitExport:
        return cls(unit, None, False, 0, 0, exc.render())

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unit": self.unit, "content_hash": self.content_hash,
                               "frozen": self.frozen, "files": self.files, "bytes": self.bytes}
        if self.error is not None:
            out["error"] = self.error
        return out


def export_unit(rt: Runtime, slug: str, period: str, out: Path, *, freeze: bool,
                taken_by: str, cache: DefinitionCache) -> UnitExport:
    """One unit of a batch run: its refusal (bad data, unknown period…) is kept, not raised,
    so the batch finishes every other unit."""
    try:
        return UnitExport.of(snapshot_and_export(rt, slug, period, out / slug, freeze=freeze,
                                                 taken_by=taken_by, cache=cache))
    except (CchcError, DataFileError) as exc:
        return UnitExport.failed(slug, exc)


def run_all(rt: Runtime, period: str, out: Path, *, parent: str | None = None,
            freeze: bool = False, taken_by: str = "", workers: int = 1,
            progress: Callable[[int, int], None] | None = None) -> list[UnitExport]:
    """Snapshot and export every unit with plans; `workers` > 1 uses a process pool.

    Only a small summary per unit is kept, so memory stays flat however many units there are.
    A unit that fails (its data refused) is listed with its `error`; every other unit is
    still exported.
    """
    if workers > 1:
        from engine.domain.bulk import run_all_parallel

        return run_all_parallel(rt, period, out, workers=workers, parent=parent, freeze=freeze,
                                taken_by=taken_by, at=rt.now(), progress=progress)
    with rt.db.read() as session:
        q = select(Unit.slug).where(Unit.id.in_(select(UnitPlan.unit_id))).order_by(Unit.slug)
        if parent:
            pid = session.scalar(select(Unit.id).where(Unit.slug == parent))
            q = q.where(Unit.parent_id == pid)
        slugs = list(session.scalars(q))
    cache = DefinitionCache()
    results = []
    for i, slug in enumerate(slugs, start=1):
        results.append(export_unit(rt, slug, period, out, freeze=freeze, taken_by=taken_by,
                                   cache=cache))
        if progress:
            progress(i, len(slugs))
    return results


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
