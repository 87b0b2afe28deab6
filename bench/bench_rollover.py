"""Benchmark: year rollover of every commune's plans, and the quarter-end with two plan years.

Why: at the turn of the year every one of the 3,321 communes starts next year's CCHC plan from
this year's (its own plan, distinct texts), and the province's frameworks (PAPI, KL91) roll over
for all of them; from then on the database holds two plan years side by side and the
quarter-end run must pick each period's plans (report definition + validity) for every unit.

Measured, on one fresh database:

1. setup — units, the two frameworks for all communes (bulk path), then each commune's OWN
   2023 plan (a distinct file per commune: its name in the title, its own issuing number),
   loaded one by one through `plan_loading.load_plans` as `cchc plan load` does. This per-unit
   load of a 23-task plan file is the baseline the rollover is compared with: the rollover does
   the same load plus reading the stored definition, moving the year and writing the file.
2. quarter-end 2023-Q4 with ONE plan year loaded (`run_all_parallel`, all units).
3. rollover — the two frameworks (`roll_over` for all their units), then each commune's own
   plan, carrying over task 10 (in progress everywhere: a history note on both sides).
4. quarter-end 2024-Q1 with TWO plan years loaded: the ratio to (2) is the cost of the second
   year.

    .venv/bin/python bench/bench_rollover.py [--units 3321] [--db sqlite|postgres|both]
                                             [--workers 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import yaml
from support import (
    OFFICER,
    add_common_arguments,
    bench_database,
    commune_slugs,
    exit_cleanly_on_sigterm,
    figure,
    heading,
    kinds,
    load_average,
    note,
    open_bench_runtime,
    unit_specs,
)

from engine.clock import VN_TZ, fixed_clock
from engine.directory.units import upsert_units
from engine.domain.bulk import BulkChange, load_plans_bulk, transition_many
from engine.domain.plan_loading import load_plans
from engine.domain.rollover import roll_over
from engine.domain.tasks import TaskKey
from engine.reporting.quarter_end import run_all_parallel
from engine.runtime import Runtime
from plans import DEMO_BUNDLE

SECTION = "rollover"
FRAMEWORKS = [DEMO_BUNDLE / "papi-2023.yaml", DEMO_BUNDLE / "kl91-2023.yaml"]


def own_plan_files(slugs: list[str], names: dict[str, str], folder: Path) -> list[Path]:
    """Each commune's own 2023 CCHC plan: the demo plan with its name and its own number."""
    base = yaml.safe_load((DEMO_BUNDLE / "cchc-2023.yaml").read_text(encoding="utf-8"))
    out = []
    for i, slug in enumerate(slugs):
        data = dict(base)
        data["owner"] = slug
        data["title"] = f"Kế hoạch cải cách hành chính {names[slug]} năm 2023"
        data["issued_by"] = f"Quyết định số {10 + i % 900}/QĐ-UBND ngày 31/01/2023"
        path = folder / f"cchc-2023-{slug}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        out.append(path)
    return out


def quarter_end(rt: Runtime, period: str, workers: int, label: str, units: int) -> float:
    out = Path(tempfile.mkdtemp(prefix="cchc_rollover_out_"))
    try:
        start = time.perf_counter()
        results = run_all_parallel(rt, period, out, workers=workers, at=rt.now())
        wall = time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)
    failed = [r.unit for r in results if r.error]
    assert len(results) == units and not failed, failed[:5]
    figure(SECTION, f"quarter-end {period}, {label}, {units:,} units", wall, "s")
    return wall


def run(kind: str, n: int, workers: int) -> None:
    heading(f"{SECTION} — {kind}, {n:,} communes")
    folder = Path(tempfile.mkdtemp(prefix="cchc_rollover_files_"))
    try:
        with bench_database(kind) as url:
            rt = open_bench_runtime(url)
            specs = unit_specs(n)
            upsert_units(rt, specs)
            slugs = commune_slugs(n)
            names = {s.slug: f"{s.kind} {s.name}" for s in specs}
            load_plans_bulk(rt, slugs, FRAMEWORKS)
            files = own_plan_files(slugs, names, folder)
            start = time.perf_counter()
            for path in files:
                load_plans(rt, [], [path])
            own = time.perf_counter() - start
            figure(SECTION, f"baseline: own-plan load, {n:,} units", own, "s")
            figure(SECTION, "baseline: own-plan load per unit", own / n * 1000, "ms")
            transition_many(rt, "start", OFFICER,
                            [BulkChange(TaskKey(s, f"cchc-2023@{s}", "10")) for s in slugs])
            one_year = quarter_end(rt, "2023-Q4", workers, "one plan year", n)

            rt = replace(rt, clock=fixed_clock(datetime(2024, 1, 12, 9, 0, tzinfo=VN_TZ)))
            issued = "Kế hoạch số 5/KH-UBND ngày 10/01/2024"
            new = folder / "new"
            start = time.perf_counter()
            for plan in ("papi-2023", "kl91-2023"):
                roll_over(rt, None, plan, year=2024, issued_by=issued, out_dir=new)
            frameworks = time.perf_counter() - start
            figure(SECTION, f"rollover of the 2 frameworks for {n:,} units", frameworks, "s")
            start = time.perf_counter()
            for slug in slugs:
                roll_over(rt, slug, "cchc-2023", year=2024, issued_by=issued, out_dir=new,
                          carry=["10"])
            rolled = time.perf_counter() - start
            figure(SECTION, f"rollover of {n:,} own plans (carrying task 10 over)", rolled, "s")
            figure(SECTION, "rollover per own plan", rolled / n * 1000, "ms")
            note(f"ratio rollover / plain own-plan load, per unit: {rolled / own:.2f}x")
            two_years = quarter_end(rt, "2024-Q1", workers, "two plan years", n)
            note(f"ratio quarter-end two plan years / one: {two_years / one_year:.2f}x")
            note(f"after: {load_average()}")
            rt.db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    exit_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for kind in kinds(args.db):
        run(kind, args.units, args.workers)


if __name__ == "__main__":
    main()
