"""Benchmark: marking half of all tasks done in bulk, against a bare Core insert of the history.

Why: a quarter's results for every commune arrive at once (an import, a province-wide sweep).
`engine.domain.bulk.transition_many` validates every change by the functions the
per-task command calls — evidence references, texts, the trigger/role/state/guards through
the runtime's ONE shared workflow machine, the register — then writes, in batched transactions, the
compare-and-set version bump (one UPDATE … FROM per batch), the append-only history rows, the
documents and the evidence links. The inputs look like a real import: every task has its own
result text (about 150 characters) and each unit has four documents, each task citing one or
two of them. The yardstick is the least any such import must do: a plain SQLAlchemy Core
`insert()` of the same history rows (same columns and texts, constraints and foreign key, in a
scratch copy of task_history; same batch size, one transaction per batch).
Target: our throughput at least half the bare insert's (ratio >= 0.5), at full size.

    .venv/bin/python bench/bench_mark_done.py [--units 3321] [--db sqlite|postgres|both]
                                              [--batch 5000]

It generates the units and plans first (bulk path), in a database it drops afterwards.
"""

from __future__ import annotations

import argparse
from typing import Any, cast

from sqlalchemy import Column, MetaData, Table, UniqueConstraint, func, insert, select
from support import (
    FULL_UNITS,
    OFFICER,
    CpuClock,
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
    note,
    open_bench_runtime,
    stopwatch,
    tasks_by_unit,
)

from engine.domain.bulk import transition_many
from engine.runtime import Runtime
from engine.storage.models import Task, TaskEvidence, TaskHistory

SECTION = "bulk mark-done"


def raw_history_table(metadata: MetaData) -> Table:
    """A scratch twin of task_history: same columns, PK, unique (task_id, seq), FK to tasks."""
    source = cast(Table, TaskHistory.__table__)
    cast(Table, Task.__table__).to_metadata(metadata)  # for the foreign key; not created
    columns: list[Column[Any]] = [c._copy() for c in source.columns]
    return Table("bench_raw_history", metadata, *columns, UniqueConstraint("task_id", "seq"))


def raw_insert(rt: Runtime, rows: list[dict[str, Any]], batch: int,
               cpu: list[float] | None = None) -> float:
    """Seconds for a plain Core insert of `rows`, one transaction per batch; table dropped.
    The CPU seconds it took (see CpuClock) are appended to `cpu` if given."""
    metadata = MetaData()
    table = raw_history_table(metadata)
    table.create(rt.db.engine)
    clock = CpuClock(rt)
    try:
        cpu_start = clock.read()
        with stopwatch() as t:
            for start in range(0, len(rows), batch):
                with rt.db.engine.begin() as conn:
                    conn.execute(insert(table), rows[start:start + batch])
        if cpu is not None:
            cpu.append(clock.read() - cpu_start)
        with rt.db.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(table)) == len(rows)
    finally:
        table.drop(rt.db.engine)
    return t[0]


def run(rt: Runtime, kind: str, *, batch: int = 5_000) -> None:
    """Mark every other not-started task done (50%), then the bare insert of the same rows."""
    s = f"{SECTION} [{kind}]"
    keys = every_other(tasks_by_unit(rt))
    changes = done_changes(keys)
    with rt.db.read() as session:
        history_before = session.scalar(select(func.max(TaskHistory.id))) or 0
    clock = CpuClock(rt)
    cpu_start = clock.read()
    with stopwatch() as t:
        result = transition_many(rt, "complete", OFFICER, changes, batch_size=batch)
    ours_cpu = clock.read() - cpu_start
    assert result.changed == len(changes)
    with rt.db.read() as session:
        hist = cast(Table, TaskHistory.__table__)
        rows = [dict(r._mapping) for r in session.execute(
            select(hist).where(hist.c.id > history_before).order_by(hist.c.id))]
        links = session.scalar(select(func.count()).select_from(TaskEvidence)) or 0
    assert len(rows) == len(changes)
    for r in rows:
        del r["id"]
    ours = t[0]
    figure(s, f"transition_many: {len(changes):,} tasks -> done (batch {batch:,})", ours, "s")
    figure(s, "  throughput", len(changes) / ours, "tasks/s")
    note(f"wrote {len(changes):,} version bumps + {len(rows):,} history rows + "
         f"{result.documents_registered:,} documents + {links:,} evidence links "
         f"in {result.batches} transactions")
    bare_cpu: list[float] = []
    bare = raw_insert(rt, rows, batch, bare_cpu)
    ratio = bare / ours
    figure(s, f"bare Core insert of the same {len(rows):,} history rows", bare, "s")
    figure(s, "  throughput", len(rows) / bare, "rows/s")
    figure(s, "ratio ours/bare (throughput)", ratio, "x", target=">= 0.5", met=ratio >= 0.5)
    where = "this process" + ("" if rt.db.is_sqlite else " + its PostgreSQL server processes")
    figure(s, f"  (CPU seconds, ours; {where})", ours_cpu, "s")
    figure(s, "  (CPU seconds, bare insert)", bare_cpu[0], "s")
    figure(s, "  (ratio ours/bare in CPU time: steadier under load)", bare_cpu[0] / ours_cpu,
           "x")
    note(f"{len({c.result for c in changes}):,} distinct result texts; "
         f"{len({e for c in changes for e in c.evidence}):,} distinct documents cited")


def main() -> None:
    exit_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_arguments(parser, units=FULL_UNITS)
    parser.add_argument("--batch", type=int, default=5_000, help="tasks per transaction")
    args = parser.parse_args()
    for kind in kinds(args.db):
        heading(f"bulk mark-done on {kind}: {args.units:,} communes")
        with bench_database(kind) as url:
            rt = open_bench_runtime(url)
            try:
                generate(rt, args.units)
                analyze(rt)
                run(rt, kind, batch=args.batch)
            finally:
                rt.db.dispose()


if __name__ == "__main__":
    main()
