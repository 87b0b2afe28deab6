"""The quarter-end run: a unit's snapshot (frozen if asked) and its appendix files, for one
unit or for every unit with plans, serially or over a pool of worker processes.

Why a module of its own: it is reporting (snapshot, export) over many units; `engine.api`
offers it to the CLI and the web app, the reminder scheduler's quarter-end job calls it, and
the set-based write paths (engine.domain.bulk) no longer carry it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.clock import fixed_clock
from engine.directory.units import get_unit
from engine.domain.periods import normalise_period
from engine.errors import CchcError
from engine.reporting.snapshot.build import DefinitionCache, build_snapshot
from engine.reporting.snapshot.model import Snapshot
from engine.reporting.snapshot.store import freeze as _freeze
from engine.reporting.snapshot.store import frozen_snapshot
from engine.runtime import Runtime, open_runtime
from engine.storage.models import Unit, UnitPlan
from plans import DataFileError


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
    # lazy: the writers (openpyxl, python-docx) and the statistics load when a report is
    # written, not with engine.api in every command (`cchc task done` starts faster).
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


# ----------------------------------------------------------------------------- worker processes


_worker: tuple[Runtime, DefinitionCache] | None = None


def _start_worker(url: str, at: datetime | None) -> None:
    global _worker
    rt = open_runtime(url, clock=fixed_clock(at) if at is not None else None, migrate=False)
    _worker = (rt, DefinitionCache())


def _export_units(slugs: Sequence[str], period: str, out: str, freeze: bool,
                  taken_by: str) -> list[UnitExport]:
    assert _worker is not None, "worker not started"
    rt, cache = _worker
    done = []
    for slug in slugs:
        done.append(export_unit(rt, slug, period, Path(out), freeze=freeze, taken_by=taken_by,
                                cache=cache))
    return done


def report_units(rt: Runtime, parent: str | None = None) -> list[str]:
    """The units `run_all` covers: every unit with a plan (of `parent`, if given)."""
    with rt.db.read() as session:
        q = select(Unit.slug).where(Unit.id.in_(select(UnitPlan.unit_id))).order_by(Unit.slug)
        if parent:
            q = q.where(Unit.parent_id == get_unit(session, parent).id)
        return list(session.scalars(q))


def run_all_parallel(rt: Runtime, period: str, out: Path, *, workers: int = 2,
                     parent: str | None = None, freeze: bool = False, taken_by: str = "",
                     at: datetime | None = None, chunk_size: int = 20,
                     progress: Callable[[int, int], None] | None = None) -> list[UnitExport]:
    """`run_all` over a pool of processes, each with its own engine and definition cache.

    Why: one unit's snapshot and files are CPU-bound Python (~50 ms), independent of the other
    units, so the quarter-end run for 3,321 units scales with the cores; and unlike `run_all` it
    keeps only a small summary per unit, not every snapshot, so memory stays flat. The files
    are the same bytes `run_all` writes when `at` is the runtime's time (each worker's snapshots
    are taken at `at`; None: at each worker's own clock).
    """
    # lazy: the process pool loads with the run, not with engine.api in every command
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    slugs = report_units(rt, parent)
    out.mkdir(parents=True, exist_ok=True)
    size = max(chunk_size, 1)
    chunks = [slugs[i:i + size] for i in range(0, len(slugs), size)]
    results: list[UnitExport] = []
    done = 0
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections
    with ProcessPoolExecutor(max_workers=max(workers, 1), mp_context=ctx,
                             initializer=_start_worker, initargs=(rt.db.url, at)) as pool:
        futures = [pool.submit(_export_units, c, period, str(out), freeze, taken_by)
                   for c in chunks]
        try:
            for future in as_completed(futures):
                part = future.result()
                results.extend(part)
                done += len(part)
                if progress:
                    progress(done, len(slugs))
        except BaseException:
            pool.shutdown(cancel_futures=True)  # do not export the rest after a failure
            raise
    return sorted(results, key=lambda r: r.unit)


__all__ = [
    "SnapshotResult",
    "UnitExport",
    "export_unit",
    "report_units",
    "run_all",
    "run_all_parallel",
    "snapshot_and_export",
    "take_snapshot",
]
