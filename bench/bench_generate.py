"""Benchmark: generating the country — 3,321 communes, each with the three 2023 plans.

Why: onboarding a province (or the whole country after the 2025 reorganisation) creates 3,321
units x 124 tasks = 411,804 task rows. This prints the time to create the units and to give
every commune its instances of cchc-2023, papi-2023 and kl91-2023 through the bulk path
(`engine.domain.bulk.load_plans_bulk`), and, for comparison, the one-command path
`engine.domain.plan_loading.load_plans` measured on a sample of units in a second database and
extrapolated linearly (it is linear: one row set per unit).

    .venv/bin/python bench/bench_generate.py [--units 3321] [--db sqlite|postgres|both]
                                             [--compare-units 300]

Every database it creates is dropped (PostgreSQL) or deleted (SQLite) afterwards.
"""

from __future__ import annotations

import argparse

from support import (
    FULL_UNITS,
    PLAN_FILES,
    TASKS_PER_UNIT,
    add_common_arguments,
    bench_database,
    commune_slugs,
    count_tasks,
    exit_cleanly_on_sigterm,
    figure,
    generate,
    heading,
    kinds,
    note,
    open_bench_runtime,
    stopwatch,
    unit_specs,
)

from engine.directory.units import upsert_units
from engine.domain.plan_loading import load_plans
from engine.runtime import Runtime

SECTION = "generation"


def run(rt: Runtime, units: int, kind: str) -> None:
    """Generate `units` communes with their plans in `rt` (empty) and print the figures."""
    t_units, t_plans = generate(rt, units)
    tasks = count_tasks(rt)
    expected = units * TASKS_PER_UNIT
    assert tasks == expected, f"{tasks} tasks, expected {expected}"
    s = f"{SECTION} [{kind}]"
    figure(s, f"units upsert ({units:,} communes + 6 parents)", t_units, "s")
    figure(s, f"plan instances, bulk ({tasks:,} tasks, 3 plans)", t_plans, "s")
    figure(s, "generation total (units + plan instances)", t_units + t_plans, "s")
    figure(s, "plan instances per second (bulk)", tasks / t_plans, "tasks/s")


def compare_load_plans(kind: str, sample: int, units: int) -> None:
    """`engine.domain.plan_loading.load_plans` (the one-command path) on `sample` units."""
    s = f"{SECTION} [{kind}]"
    with bench_database(kind) as url:
        rt = open_bench_runtime(url)
        try:
            upsert_units(rt, unit_specs(sample))
            with stopwatch() as t:
                load_plans(rt, commune_slugs(sample), PLAN_FILES)
        finally:
            rt.db.dispose()
    figure(s, f"plan_loading.load_plans, {sample:,} units", t[0], "s")
    if sample < units:
        figure(s, f"  extrapolated to {units:,} units (linear)", t[0] * units / sample, "s")
    note("(the one-command path: per-unit lookups, ORM bulk insert, a due date parsed per row)")


def main() -> None:
    exit_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_arguments(parser, units=FULL_UNITS)
    parser.add_argument("--compare-units", type=int, default=300,
                        help="units for the load_plans comparison (default 300; 0: skip)")
    args = parser.parse_args()
    for kind in kinds(args.db):
        heading(f"generation on {kind}: {args.units:,} communes x 3 plans")
        with bench_database(kind) as url:
            rt = open_bench_runtime(url)
            try:
                run(rt, args.units, kind)
            finally:
                rt.db.dispose()
        if args.compare_units:
            compare_load_plans(kind, min(args.compare_units, args.units), args.units)


if __name__ == "__main__":
    main()
