"""Benchmark: marking half of all tasks done in bulk, against bare Core writes of the same rows.

Why: a quarter's results for every commune arrive at once (an import, a province-wide sweep).
`engine.domain.bulk.transition_many` validates every change by the functions the
per-task command calls — evidence references, texts, the trigger/role/state/guards through
the runtime's ONE shared workflow machine, the register — then writes, in batched transactions, the
compare-and-set version bump (one UPDATE … FROM per batch), the append-only history rows, the
documents and the evidence links. The inputs look like a real import: every task has its own
result text (about 150 characters) and each unit has four documents, each task citing one or
two of them. The yardstick is the least any such import must do: write the same rows — the
tasks' new state, result, note, done date and version (compare-and-set on the old one), the
history rows, the new documents and the evidence links — by plain SQLAlchemy Core executemany
(`update()` by id and version, `insert()`), into scratch twins of the four tables (same
columns, keys, unique constraints, indexes and foreign keys to the real tables; the tasks
twin copied from the tasks before the import), with the same batch size and one transaction
per batch. Each part's time is printed, and the ratio against the history rows alone (the
yardstick of the earlier runs, which left the task updates and links out of the bare side).
Target: our throughput at least half the bare writes' (ratio >= 0.5), at full size.

    .venv/bin/python bench/bench_mark_done.py [--units 3321] [--db sqlite|postgres|both]
                                              [--batch 5000]

It generates the units and plans first (bulk path), in a database it drops afterwards.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, cast

from sqlalchemy import (
    Index,
    MetaData,
    Table,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    select,
    update,
)
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
from engine.storage.models import Document, Task, TaskEvidence, TaskHistory

SECTION = "bulk mark-done"


def twin(source: Table, name: str, metadata: MetaData) -> Table:
    """A scratch copy of `source` (not created): the same columns, primary key, foreign keys
    (to the real tables), unique constraints and indexes, under names of its own."""
    for fk in source.foreign_keys:  # the referenced tables, for the keys (not created)
        if fk.column.table.name not in metadata.tables:
            fk.column.table.to_metadata(metadata)
    table = Table(name, metadata, *[c._copy() for c in source.columns])
    uniques = [c for c in source.constraints if isinstance(c, UniqueConstraint)]
    for i, u in enumerate(uniques):
        table.append_constraint(UniqueConstraint(*[c.name for c in u.columns],
                                                 name=f"uq_{name}_{i}"))
    for i, ix in enumerate(sorted(source.indexes, key=lambda x: str(x.name))):
        Index(f"ix_{name}_{i}", *[table.c[c.name] for c in ix.columns], unique=ix.unique)
    return table


def raw_history_table(metadata: MetaData) -> Table:
    """A scratch twin of task_history: same columns, PK, unique (task_id, seq), FK to tasks."""
    return twin(cast(Table, TaskHistory.__table__), "bench_raw_history", metadata)


class Bare:
    """The yardstick: the rows the mark-done leaves — the tasks' changed columns and version,
    the history rows, the new documents, the evidence links — written by plain SQLAlchemy Core
    executemany (`update()` by id and version for the tasks, `insert()` for the rest) into
    scratch twins of the four tables (same columns, keys, constraints, indexes and foreign
    keys to the real tables), with the same batch size and one transaction per batch. The
    tasks twin is a copy of the tasks table taken BEFORE the mark-done (not timed), so its
    updates find the rows as the engine found them."""

    PARTS = ("tasks", "history", "documents", "links")

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.metadata = MetaData()
        self.tables = {
            "tasks": twin(cast(Table, Task.__table__), "bench_raw_tasks", self.metadata),
            "history": raw_history_table(self.metadata),
            "documents": twin(cast(Table, Document.__table__), "bench_raw_documents",
                              self.metadata),
            "links": twin(cast(Table, TaskEvidence.__table__), "bench_raw_links",
                          self.metadata),
        }
        for table in self.tables.values():
            table.create(rt.db.engine)
        tasks = self.tables["tasks"]
        with rt.db.engine.begin() as conn:  # the tasks as they are before the mark-done
            conn.execute(insert(tasks).from_select(
                [c.name for c in tasks.columns], select(cast(Table, Task.__table__))))
        analyze(rt)

    def drop(self) -> None:
        for table in reversed(self.tables.values()):
            table.drop(self.rt.db.engine)

    def run(self, rows: dict[str, list[dict[str, Any]]], batch: int
            ) -> tuple[float, float, dict[str, float]]:
        """(wall seconds, CPU seconds (see CpuClock), wall seconds per part) to write `rows`
        (the task, history, document and link rows, each list in write order)."""
        t = self.tables["tasks"]
        bump = (update(t).where(t.c.id == bindparam("b_id"),
                                t.c.version == bindparam("b_expected"))
                .values(version=t.c.version + 1,
                        **{c: bindparam(f"b_{c}") for c in _TASK_COLUMNS}))
        stmts = {"tasks": bump, **{p: insert(self.tables[p])
                                   for p in ("history", "documents", "links")}}
        n = len(rows["tasks"])
        links_of: dict[int, list[dict[str, Any]]] = {}
        for link in rows["links"]:
            links_of.setdefault(link["task_id"], []).append(link)
        batches = []
        docs = rows["documents"]
        for start in range(0, n, batch):
            end = min(start + batch, n)
            tasks = rows["tasks"][start:end]
            batches.append({
                "documents": docs[len(docs) * start // n:len(docs) * end // n],
                "tasks": tasks, "history": rows["history"][start:end],
                "links": [x for r in tasks for x in links_of.get(r["b_id"], ())],
            })
        parts = dict.fromkeys(self.PARTS, 0.0)
        clock = CpuClock(self.rt)
        cpu_start = clock.read()
        with stopwatch() as total:
            for b in batches:
                with self.rt.db.engine.begin() as conn:
                    for part in ("documents", "tasks", "history", "links"):
                        if b[part]:
                            start_part = time.perf_counter()
                            conn.execute(stmts[part], b[part])
                            parts[part] += time.perf_counter() - start_part
        cpu = clock.read() - cpu_start
        with self.rt.db.engine.connect() as conn:
            for part in self.PARTS:
                table = self.tables[part]
                q = select(func.count()).select_from(table)
                if part == "tasks":
                    q = q.where(table.c.version > 1)
                assert conn.scalar(q) == len(rows[part]), part
        return total[0], cpu, parts


#: The task columns a mark-done sets besides the version.
_TASK_COLUMNS = ("state", "result", "note", "done_on", "updated_at")


def written_rows(rt: Runtime, history_before: int, documents_before: int
                 ) -> dict[str, list[dict[str, Any]]]:
    """What the mark-done wrote after history id `history_before`, read back: the changed
    task columns (with the version they had), the history rows, the documents and links."""
    hist, tasks = cast(Table, TaskHistory.__table__), cast(Table, Task.__table__)
    docs, links = cast(Table, Document.__table__), cast(Table, TaskEvidence.__table__)
    with rt.db.read() as session:
        history = [dict(r._mapping) for r in session.execute(
            select(hist).where(hist.c.id > history_before).order_by(hist.c.id))]
        changed = {r.id: r for r in session.execute(
            select(tasks.c.id, tasks.c.version, *[tasks.c[c] for c in _TASK_COLUMNS])
            .where(tasks.c.id.in_(select(hist.c.task_id).where(hist.c.id > history_before))))}
        task_rows = [{"b_id": h["task_id"], "b_expected": changed[h["task_id"]].version - 1,
                      **{f"b_{c}": getattr(changed[h["task_id"]], c) for c in _TASK_COLUMNS}}
                     for h in history]
        documents = [dict(r._mapping) for r in session.execute(
            select(docs).where(docs.c.id > documents_before).order_by(docs.c.id))]
        link_rows = [dict(r._mapping) for r in session.execute(
            select(links).where(links.c.history_id > history_before)
            .order_by(links.c.history_id, links.c.document_id))]
    for r in history + documents:
        del r["id"]
    return {"tasks": task_rows, "history": history, "documents": documents,
            "links": link_rows}


def run(rt: Runtime, kind: str, *, batch: int = 5_000) -> None:
    """Mark every other not-started task done (50%), then the bare writes of the same rows."""
    s = f"{SECTION} [{kind}]"
    keys = every_other(tasks_by_unit(rt))
    changes = done_changes(keys)
    bare = Bare(rt)
    try:
        with rt.db.read() as session:
            history_before = session.scalar(select(func.max(TaskHistory.id))) or 0
            documents_before = session.scalar(select(func.max(Document.id))) or 0
        clock = CpuClock(rt)
        cpu_start = clock.read()
        with stopwatch() as t:
            result = transition_many(rt, "complete", OFFICER, changes, batch_size=batch)
        ours_cpu = clock.read() - cpu_start
        assert result.changed == len(changes)
        rows = written_rows(rt, history_before, documents_before)
        assert len(rows["history"]) == len(rows["tasks"]) == len(changes)
        ours = t[0]
        figure(s, f"transition_many: {len(changes):,} tasks -> done (batch {batch:,})", ours,
               "s")
        figure(s, "  throughput", len(changes) / ours, "tasks/s")
        note(f"wrote {len(changes):,} version bumps + {len(rows['history']):,} history rows + "
             f"{result.documents_registered:,} documents + {len(rows['links']):,} evidence "
             f"links in {result.batches} transactions")
        bare_wall, bare_cpu, parts = bare.run(rows, batch)
    finally:
        bare.drop()
    ratio = bare_wall / ours
    figure(s, "bare Core executemany of the same rows (tasks, history, documents, links)",
           bare_wall, "s")
    for part in Bare.PARTS:
        figure(s, f"  of which {part} ({len(rows[part]):,} rows)", parts[part], "s")
    figure(s, "  throughput", len(changes) / bare_wall, "tasks/s")
    figure(s, "ratio ours/bare (throughput)", ratio, "x", target=">= 0.5", met=ratio >= 0.5)
    where = "this process" + ("" if rt.db.is_sqlite else " + its PostgreSQL server processes")
    figure(s, f"  (CPU seconds, ours; {where})", ours_cpu, "s")
    figure(s, "  (CPU seconds, bare writes)", bare_cpu, "s")
    figure(s, "  (ratio ours/bare in CPU time: steadier under load)", bare_cpu / ours_cpu, "x")
    figure(s, "  (ratio ours/bare history rows only: the earlier yardstick)",
           parts["history"] / ours, "x")
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
