"""Benchmark: one unit's quarter-end output from the database — snapshot + .docx + .xlsx + JSON.

Why: the per-unit cost of the quarter-end run. `bench_export.py` times the exporters on an
in-memory snapshot; this adds what the real run does first: rebuilding the snapshot from the
database (replaying each task's history as of the cut-off, with the definition cache warm, as
in `api.run_all`). The yardstick is a bare python-docx/openpyxl script writing the same cells
and merges (plus `json.dumps` of the snapshot) with no engine around it (`bench_export.raw`).
Prints medians; target: ours/bare <= 1.5.

    .venv/bin/python bench/bench_snapshot_export.py [--units 100] [--db sqlite|postgres|both]
                                                    [-n 30]

It generates the units and plans and marks half the tasks done first, in a database it drops
afterwards; the measured unit is the last commune in slug order.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench_export import ours as export_ours
from bench_export import raw as export_raw
from support import (
    OFFICER,
    PERIOD,
    add_common_arguments,
    analyze,
    bench_database,
    done_changes,
    every_other,
    exit_cleanly_on_sigterm,
    figure,
    generate,
    heading,
    kinds,
    measured_commune,
    note,
    open_bench_runtime,
    tasks_by_unit,
)

from engine.domain.bulk import transition_many
from engine.reporting.snapshot.build import DefinitionCache, build_snapshot
from engine.runtime import Runtime

SECTION = "one unit: snapshot + docx + xlsx + json"


def median_ms(fn: Callable[[], object], n: int) -> float:
    fn()  # warm-up: imports, templates, the definition cache
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run(rt: Runtime, kind: str, *, slug: str, n: int) -> None:
    s = f"{SECTION} [{kind}]"
    cache = DefinitionCache()
    snapshot = build_snapshot(rt, slug, PERIOD, cache=cache)
    counts = " + ".join(f"{a.done}/{a.total}" for a in snapshot.appendices)
    note(f"unit {slug}, {PERIOD}: done/total per appendix {counts}; median of {n}")

    def whole() -> None:
        export_ours(build_snapshot(rt, slug, PERIOD, cache=cache))

    snap_ms = median_ms(lambda: build_snapshot(rt, slug, PERIOD, cache=cache), n)
    export_ms = median_ms(lambda: export_ours(snapshot), n)
    ours_ms = median_ms(whole, n)
    bare_ms = median_ms(lambda: export_raw(snapshot), n)
    figure(s, "snapshot from the database", snap_ms, "ms")
    figure(s, "export: 3 docx + 3 xlsx + json", export_ms, "ms")
    figure(s, "snapshot + export (ours, per unit)", ours_ms, "ms")
    figure(s, "bare python-docx + openpyxl + json.dumps, same cells", bare_ms, "ms")
    figure(s, "ratio ours/bare", ours_ms / bare_ms, "x", target="<= 1.5",
           met=ours_ms / bare_ms <= 1.5)


def prepare(rt: Runtime, units: int) -> None:
    """Units, plans, and half of the tasks done (bulk paths)."""
    generate(rt, units)
    analyze(rt)
    transition_many(rt, "complete", OFFICER, done_changes(every_other(tasks_by_unit(rt))))
    analyze(rt)


def main() -> None:
    exit_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_arguments(parser, units=100)
    parser.add_argument("-n", type=int, default=30, help="repetitions (default 30)")
    args = parser.parse_args()
    for kind in kinds(args.db):
        heading(f"one unit's snapshot and files on {kind} ({args.units:,} communes in the db)")
        with bench_database(kind) as url:
            rt = open_bench_runtime(url)
            try:
                prepare(rt, args.units)
                run(rt, kind, slug=measured_commune(args.units), n=args.n)
            finally:
                rt.db.dispose()


if __name__ == "__main__":
    main()
