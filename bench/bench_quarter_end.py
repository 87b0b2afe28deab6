"""Benchmark: the quarter-end run for every unit — snapshot and 7 files per commune.

Why: at each quarter's cut-off every commune's appendices are produced at once (3,321 units x
3 .docx + 3 .xlsx + 1 JSON). Targets: all units in under 10 minutes, under 500 MB of memory.

Two ways are measured, each in a fresh child process so that its memory is its own:

- `engine.reporting.quarter_end.run_all_parallel` over all units: a pool of worker processes
  (default 2, one per core), each with its own engine and plan-definition cache; a small
  summary per unit is kept.
  Memory is the sampled sum of the resident memory of the whole process tree (orchestrator +
  workers), read from /proc; the time is wall time.
- `engine.api.run_all` (one process, the CLI's `report run-all`) on a sample — by default the
  units of one parent province (about a sixth of all) — extrapolated linearly to all units.
  It returns every Snapshot it made, so its memory grows with the number of units; the growth
  per unit is measured and extrapolated too.

    .venv/bin/python bench/bench_quarter_end.py [--units 3321] [--db sqlite|postgres|both]
                                                [--workers 2] [--sequential province|all|none]
                                                [--freeze]

It generates the units and plans and marks half the tasks done first, in a database it drops
afterwards; the files go to a temporary directory, deleted afterwards.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench_snapshot_export import prepare
from support import (
    PARENTS,
    PERIOD,
    TreeRss,
    add_common_arguments,
    bench_database,
    exit_cleanly_on_sigterm,
    figure,
    heading,
    kinds,
    note,
    open_bench_runtime,
    peak_rss_mb,
)

from engine import api
from engine.reporting.quarter_end import report_units, run_all_parallel
from engine.runtime import Runtime

SECTION = "quarter-end run"
MAX_SECONDS = 600
MAX_MB = 500


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _sequential(url: str, out: str, parent: str | None) -> dict[str, Any]:
    """In a child process: `api.run_all` as the CLI calls it."""
    rt = open_bench_runtime(url, migrate=False)
    base = _current_rss_mb()
    start = time.perf_counter()
    results = api.run_all(rt, PERIOD, Path(out), parent=parent)
    wall = time.perf_counter() - start
    rt.db.dispose()
    return {"wall": wall, "units": len(results), "files": sum(r.files for r in results),
            "base_mb": base, "peak_mb": peak_rss_mb()}


def _parallel(url: str, out: str, workers: int, freeze: bool) -> dict[str, Any]:
    """In a child process: the process-pool run over every unit."""
    rt = open_bench_runtime(url, migrate=False)
    start = time.perf_counter()
    results = run_all_parallel(rt, PERIOD, Path(out), workers=workers, freeze=freeze,
                               taken_by="Bench", at=rt.now())
    wall = time.perf_counter() - start
    rt.db.dispose()
    return {"wall": wall, "units": len(results), "files": sum(r.files for r in results),
            "bytes": sum(r.bytes for r in results), "peak_mb": peak_rss_mb()}


def _in_child(fn: Any, *args: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        result: dict[str, Any] = pool.submit(fn, *args).result()
        return result


def run(rt: Runtime, kind: str, *, workers: int = 2, sequential: str = "province",
        freeze: bool = False) -> None:
    s = f"{SECTION} [{kind}]"
    everyone = len(report_units(rt))
    out = Path(tempfile.mkdtemp(prefix="cchc_bench_out_"))
    try:
        if sequential != "none":
            parent = PARENTS[0][0] if sequential == "province" else None
            r = _in_child(_sequential, rt.db.url, str(out / "sequential"), parent)
            shutil.rmtree(out / "sequential", ignore_errors=True)
            n = r["units"]
            scope = f"{n:,} units of {parent}" if parent else f"all {n:,} units"
            figure(s, f"api.run_all, one process, {scope}", r["wall"], "s")
            figure(s, "  per unit", r["wall"] / n * 1000, "ms")
            growth = (r["peak_mb"] - r["base_mb"]) / n
            figure(s, "  peak RSS", r["peak_mb"], "MB")
            if n < everyone:
                t_all = r["wall"] * everyone / n
                mb_all = r["base_mb"] + growth * everyone
                figure(s, f"  extrapolated to {everyone:,} units: time", t_all, "s",
                       target=f"< {MAX_SECONDS} s", met=t_all < MAX_SECONDS)
                figure(s, f"  extrapolated to {everyone:,} units: peak RSS", mb_all, "MB",
                       target=f"< {MAX_MB} MB", met=mb_all < MAX_MB)
            else:
                figure(s, "  time against the target", r["wall"], "s",
                       target=f"< {MAX_SECONDS} s", met=r["wall"] < MAX_SECONDS)
                figure(s, "  peak RSS against the target", r["peak_mb"], "MB",
                       target=f"< {MAX_MB} MB", met=r["peak_mb"] < MAX_MB)
            note(f"run_all memory growth (a summary per unit is kept): "
                 f"+{growth * 1024:,.0f} KB per unit")

        with TreeRss() as tree:
            r = _in_child(_parallel, rt.db.url, str(out / "parallel"), workers, freeze)
        n = r["units"]
        what = "snapshot, freeze" if freeze else "snapshot"
        figure(s, f"run_all_parallel, {workers} workers, all {n:,} units ({what} + 7 files)",
               r["wall"], "s", target=f"< {MAX_SECONDS} s", met=r["wall"] < MAX_SECONDS)
        figure(s, "  per unit (wall / units)", r["wall"] / n * 1000, "ms")
        figure(s, "  peak memory, whole process tree (sampled)", tree.peak_mb, "MB",
               target=f"< {MAX_MB} MB", met=tree.peak_mb < MAX_MB)
        figure(s, "  peak RSS: orchestrator", r["peak_mb"], "MB")
        figure(s, "  peak RSS: largest worker (sampled)", tree.largest_mb, "MB")
        note(f"{r['files']:,} files, {r['bytes'] / 2**20:,.0f} MB written")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    exit_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--sequential", choices=("province", "all", "none"), default="province",
                        help="units for the one-process api.run_all (default: one province)")
    parser.add_argument("--freeze", action="store_true", help="also freeze every snapshot")
    args = parser.parse_args()
    for kind in kinds(args.db):
        heading(f"quarter-end run on {kind}: {args.units:,} communes")
        with bench_database(kind) as url:
            rt = open_bench_runtime(url)
            try:
                prepare(rt, args.units)
                run(rt, kind, workers=args.workers, sequential=args.sequential,
                    freeze=args.freeze)
            finally:
                rt.db.dispose()


if __name__ == "__main__":
    main()
