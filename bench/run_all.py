"""All the scale benchmarks of the issue, on SQLite and PostgreSQL, with a summary of the targets.

Why: one command (`make bench`) that answers "does it hold at the size of the country": 3,321
communes after the 2025 reorganisation, each with the three 2023 plans (124 tasks each, 411,804
tasks). On each database, in order, in one generated database (dropped afterwards):

1. generation: units + plan instances (bulk path), and `load_plans` on a sample for comparison
   (bench_generate.py);
2. bulk mark-done of 50% of all tasks, a distinct result text per task and four documents per
   unit (one or two cited per task), against bare Core executemany of the same rows (task
   bumps, history, documents, links) into scratch twins (bench_mark_done.py; target ratio
   >= 0.5);
3. the shared workflow machine against transitions' many-models pattern (one Machine,
   add_model/remove_model) and one `transitions.Machine` per task, time and memory, on
   subsets, extrapolated (bench_machine.py; ours should win both);
4. one unit: snapshot from the database + 3 docx + 3 xlsx + JSON, median, against bare
   python-docx/openpyxl (bench_snapshot_export.py; target <= 1.5);
5. the quarter-end run for all units (bench_quarter_end.py; targets < 10 min, < 500 MB).

Before them, the exporters alone on an in-memory snapshot (bench_export.py), with each part's
own ratio (docx, xlsx against bare openpyxl <= 1.0, JSON against json.dumps <= 1.0). Figures
are wall times on whatever else the machine is doing: read them as orders of magnitude, with
the load average printed in every heading.

    .venv/bin/python bench/run_all.py            # full: 3,321 units, both databases
    .venv/bin/python bench/run_all.py --quick    # 100 units, smaller subsets: a few minutes
    .venv/bin/python bench/run_all.py --db sqlite --units 500 --freeze

Options: --units, --db sqlite|postgres|both, --workers, --subset, --compare-units, -n, --batch,
--sequential province|all|none, --freeze (see --help).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import time
from datetime import datetime

import bench_export
import bench_generate
import bench_machine
import bench_mark_done
import bench_quarter_end
import bench_snapshot_export
import sqlalchemy
from sqlalchemy import create_engine, text
from support import (
    FIGURES,
    FULL_UNITS,
    PG_ADMIN_URL,
    QUICK_UNITS,
    TASKS_PER_UNIT,
    analyze,
    bench_database,
    exit_cleanly_on_sigterm,
    figure,
    heading,
    kinds,
    measured_commune,
    note,
    open_bench_runtime,
    peak_rss_mb,
)

from engine.logging_setup import configure_logging


def _environment(dbs: list[str]) -> None:
    print(f"cchc benchmarks, {datetime.now():%Y-%m-%d %H:%M}")
    print(f"  Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
          f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    if "postgres" in dbs:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            version = conn.scalar(text("show server_version"))
        engine.dispose()
        print(f"  PostgreSQL {version} at {PG_ADMIN_URL.rsplit('@', 1)[-1]}")


def export_only(n: int) -> None:
    """bench_export.py's figures (the exporters on an in-memory snapshot)."""
    section = "exporters alone (in-memory snapshot)"
    heading(section)
    snapshot, source = bench_export.make_snapshot()
    note(f"snapshot from {source}; median of {n}")
    ours = bench_export.median_ms(lambda: bench_export.ours(snapshot), n)
    bare = bench_export.median_ms(lambda: bench_export.raw(snapshot), n)
    figure(section, "engine.reporting.export: 3 docx + 3 xlsx + json", ours, "ms")
    figure(section, "bare python-docx/openpyxl, same cells", bare, "ms")
    figure(section, "ratio ours/bare", ours / bare, "x", target="<= 1.5", met=ours / bare <= 1.5)
    bench_export.part_figures(section, snapshot, n)


def one_database(kind: str, args: argparse.Namespace) -> None:
    with bench_database(kind) as url:
        rt = open_bench_runtime(url)
        try:
            heading(f"[{kind}] 1. generation: {args.units:,} communes x 3 plans")
            bench_generate.run(rt, args.units, kind)
            analyze(rt)
            if args.compare_units:
                bench_generate.compare_load_plans(kind, min(args.compare_units, args.units),
                                                  args.units)
            heading(f"[{kind}] 2. bulk mark-done, 50% of the tasks")
            bench_mark_done.run(rt, kind, batch=args.batch)
            analyze(rt)
            heading(f"[{kind}] 3. shared machine vs per-object Machine")
            bench_machine.run(rt, kind, subset=args.subset,
                              total=args.units * TASKS_PER_UNIT // 2)
            analyze(rt)
            heading(f"[{kind}] 4. one unit: snapshot + docx + xlsx + json")
            bench_snapshot_export.run(rt, kind, slug=measured_commune(args.units), n=args.n)
            heading(f"[{kind}] 5. quarter-end run, all units")
            bench_quarter_end.run(rt, kind, workers=args.workers, sequential=args.sequential,
                                  freeze=args.freeze)
        finally:
            rt.db.dispose()


def summary(elapsed: float) -> None:
    heading("summary: figures with a target")
    section = ""
    for f in FIGURES:
        if f.target:
            if f.section != section:
                section = f.section
                print(f"  [{section}]")
            print(f.line())
    missed = [f for f in FIGURES if f.met is False]
    print(f"\n{len(missed)} target(s) missed; benchmarks took {elapsed / 60:.1f} min, "
          f"peak RSS of this process {peak_rss_mb():.0f} MB")


def main() -> None:
    exit_cleanly_on_sigterm()
    configure_logging()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_UNITS} units, small subsets, fewer repetitions")
    parser.add_argument("--units", type=int, help=f"communes (default {FULL_UNITS:,})")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--workers", type=int, default=2, help="quarter-end worker processes")
    parser.add_argument("--subset", type=int, help="tasks per machine-comparison subset "
                        "(default 20,000; quick 1,000)")
    parser.add_argument("--compare-units", type=int,
                        help="units for the load_plans comparison (default 300; quick 100)")
    parser.add_argument("-n", type=int, help="repetitions of the one-unit timings "
                        "(default 30; quick 10)")
    parser.add_argument("--batch", type=int, default=5_000, help="tasks per transaction")
    parser.add_argument("--sequential", choices=("province", "all", "none"),
                        help="units for the one-process api.run_all (default one province; "
                        "quick: all)")
    parser.add_argument("--freeze", action="store_true",
                        help="freeze every snapshot in the quarter-end run")
    args = parser.parse_args()
    quick = args.quick
    args.units = args.units or (QUICK_UNITS if quick else FULL_UNITS)
    args.subset = args.subset or (1_000 if quick else 20_000)
    args.compare_units = (args.compare_units if args.compare_units is not None
                          else (100 if quick else 300))
    args.n = args.n or (10 if quick else 30)
    args.sequential = args.sequential or ("all" if quick else "province")

    start = time.perf_counter()
    _environment(kinds(args.db))
    export_only(args.n)
    for kind in kinds(args.db):
        one_database(kind, args)
    summary(time.perf_counter() - start)


if __name__ == "__main__":
    main()
