"""Benchmark: the shared workflow machine against one `transitions.Machine` per task object.

Why: the `transitions` documentation's usual pattern binds one Machine to each model object
(`Machine(model=task, states=..., transitions=..., initial=task.state)`). Our engine keeps ONE
machine per workflow definition (`rt.machine`) and fires it on a tiny proxy holding a task's
state (engine/domain/workflow/machine.py). This prints, on a subset of tasks (default 20,000) and
extrapolated linearly to the whole mark-done set (50% of 3,321 x 124 tasks):

1. the machine layer alone, in memory: building the machine(s) and firing `complete` on every
   task — time, and tracemalloc peak while the task objects are alive — four ways: ours as the
   engine runs it (`rt.machine.fire`, which remembers an accepted answer by state, trigger,
   role and guard results), ours running the `transitions` Machine for every task (`_fire`,
   the like-for-like row), the library's own many-models pattern (ONE Machine, `add_model` /
   fire / `remove_model` per task) and one Machine bound to each object;
2. the whole mark-done with database writes: `engine.domain.bulk.transition_many` (shared machine,
   set-based writes) against the per-object way of writing it (ORM Task objects, a Machine bound
   to each, ORM history/evidence objects, flushed per batch) — time and tracemalloc peak.

Each figure is measured on its own subset of not-started tasks (time and memory separately,
since tracemalloc slows everything down), all in the same database.

    .venv/bin/python bench/bench_machine.py [--units 3321] [--db sqlite|postgres|both]
                                            [--subset 20000]

It generates the units and plans first (bulk path), in a database it drops afterwards.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from support import (
    FULL_UNITS,
    OFFICER,
    RESULT,
    TASKS_PER_UNIT,
    TaskRef,
    add_common_arguments,
    analyze,
    bench_database,
    done_changes,
    evidence_of,
    exit_cleanly_on_sigterm,
    figure,
    generate,
    heading,
    kinds,
    note,
    open_bench_runtime,
    tasks_by_unit,
)
from transitions import EventData, Machine

from engine.domain.bulk import transition_many
from engine.domain.evidence import register_documents
from engine.domain.tasks import parse_evidence
from engine.domain.workflow.machine import Command
from engine.errors import ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import Task, TaskEvidence, TaskHistory, Unit
from workflows import WorkflowDef

SECTION = "shared machine vs per-object Machine"
Key = TaskRef


# ----------------------------------------------------------------------------- per-object way


def _cmd(ev: EventData) -> Command:
    cmd = ev.kwargs["command"]
    assert isinstance(cmd, Command)
    return cmd


def _has_evidence(ev: EventData) -> bool:
    if not _cmd(ev).evidence:
        raise ValidationFailed("Phải có văn bản minh chứng", "evidence required", field="doc")
    return True


def _has_result(ev: EventData) -> bool:
    if not _cmd(ev).result.strip():
        raise ValidationFailed("Phải ghi kết quả", "result required", field="result")
    return True


def _has_note(ev: EventData) -> bool:
    if not _cmd(ev).note.strip():
        raise ValidationFailed("Phải ghi lý do", "note required", field="note")
    return True


def _has_result_or_evidence(ev: EventData) -> bool:
    cmd = _cmd(ev)
    if not cmd.result.strip() and not cmd.evidence:
        raise ValidationFailed("Phải có kết quả hoặc văn bản", "result or evidence required",
                               field="result")
    return True


_GUARDS: dict[str, Callable[[EventData], bool]] = {
    "has_evidence": _has_evidence, "has_result": _has_result, "has_note": _has_note,
    "has_result_or_evidence": _has_result_or_evidence,
}


def bind_machine(obj: object, definition: WorkflowDef, state: str) -> Machine:
    """One Machine for one object, as the library's examples do."""
    return Machine(
        model=obj, states=definition.state_names, initial=state, auto_transitions=False,
        send_event=True, ignore_invalid_triggers=False,
        transitions=[{"trigger": t.trigger, "source": list(t.source), "dest": t.dest,
                      "conditions": [_GUARDS[g] for g in t.guards]}
                     for t in definition.transitions],
    )


class Item:
    """A task in memory: just its state (and, in the per-object way, its own machine)."""

    def __init__(self, state: str) -> None:
        self.state = state


def machine_layer_shared(rt: Runtime, n: int, command: Command) -> list[Item]:
    items = [Item(rt.machine.initial) for _ in range(n)]
    for item in items:
        item.state = rt.machine.fire(item.state, command)
    assert all(i.state == "done" for i in items)
    return items


def machine_layer_shared_every_time(rt: Runtime, n: int, command: Command) -> list[Item]:
    items = [Item(rt.machine.initial) for _ in range(n)]
    for item in items:
        item.state = rt.machine._fire(item.state, command)  # the Machine runs for each task
    assert all(i.state == "done" for i in items)
    return items


def machine_layer_many_models(rt: Runtime, n: int, command: Command) -> list[Item]:
    """transitions' many-models pattern: one Machine, each object added, fired, removed."""
    definition = rt.machine.definition
    machine = Machine(
        model=None, states=definition.state_names, initial=definition.initial,
        auto_transitions=False, send_event=True, ignore_invalid_triggers=False,
        transitions=[{"trigger": t.trigger, "source": list(t.source), "dest": t.dest,
                      "conditions": [_GUARDS[g] for g in t.guards]}
                     for t in definition.transitions])
    items = [Item(rt.machine.initial) for _ in range(n)]
    for item in items:
        machine.add_model(item, initial=item.state)
        item.complete(command=command)  # type: ignore[attr-defined]
        machine.remove_model(item)
    assert all(i.state == "done" for i in items)
    return items


def machine_layer_per_object(rt: Runtime, n: int, command: Command) -> list[Item]:
    items = [Item(rt.machine.initial) for _ in range(n)]
    for item in items:
        bind_machine(item, rt.machine.definition, item.state)
        item.complete(command=command)  # type: ignore[attr-defined]
    assert all(i.state == "done" for i in items)
    return items


def per_object_mark_done(rt: Runtime, keys: Sequence[Key], batch: int = 5_000) -> int:
    """Mark `keys` done the per-object way: ORM objects, a Machine each, ORM writes."""
    definition = rt.machine.definition
    today, now = rt.today(), rt.now()
    written = 0
    for start in range(0, len(keys), batch):
        part = keys[start:start + batch]
        with rt.db.transaction() as session:
            units = {u.slug: u for u in session.scalars(
                select(Unit).where(Unit.slug.in_({k[0] for k in part})))}
            by_id = {u.id: u for u in units.values()}
            wanted = {(units[u].id, p, c, o or "") for u, p, c, o in part}
            tasks = [t for t in session.scalars(select(Task).where(Task.unit_id.in_(by_id)))
                     if (t.unit_id, t.plan_id, t.code, t.occurrence) in wanted]
            docs: dict[int, Any] = {}
            pending = []
            for task in tasks:
                unit = by_id[task.unit_id]
                refs = parse_evidence([evidence_of(unit.slug)], today)
                command = Command(trigger="complete", actor=OFFICER.name, role=OFFICER.role,
                                  evidence=refs, result=RESULT)
                bind_machine(task, definition, task.state)
                before = task.state
                task.complete(command=command)  # type: ignore[attr-defined]
                if unit.id not in docs:
                    docs[unit.id] = register_documents(session, unit, refs, now)
                task.version += 1
                task.result, task.note = RESULT, None
                task.done_on, task.updated_at = refs[0].issued_on, now
                history = TaskHistory(
                    task_id=task.id, seq=task.version, event="complete", from_state=before,
                    to_state=task.state, actor=OFFICER.name, role=OFFICER.role, at=now,
                    effective_on=refs[0].issued_on, result=RESULT, version=task.version,
                    evidence=[{"ref": r.render(), "no": r.render_number(),
                               "on": r.issued_on.isoformat()} for r in refs])
                session.add(history)
                pending.append((task, history, docs[unit.id]))
            session.flush()
            for task, history, unit_docs in pending:
                for d in unit_docs:
                    session.add(TaskEvidence(task_id=task.id, document_id=d.id,
                                             history_id=history.id))
            written += len(pending)
    return written


# ----------------------------------------------------------------------------- measuring


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def traced_peak_mb(fn: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _pair(s: str, what: str, n: int, total: int, ours: float, theirs: float, unit: str,
          ext: bool = True) -> None:
    figure(s, f"{what}, {n:,} tasks: shared machine (ours)", ours, unit)
    figure(s, f"{what}, {n:,} tasks: per-object Machine", theirs, unit)
    if ext:
        figure(s, f"  extrapolated to {total:,} tasks: ours", ours * total / n, unit)
        figure(s, f"  extrapolated to {total:,} tasks: per-object", theirs * total / n, unit)
    figure(s, f"  per-object / ours ({what})", theirs / ours, "x", target="> 1 (ours wins)",
           met=theirs > ours)


def run(rt: Runtime, kind: str, *, subset: int, total: int) -> None:
    """Compare on 4 disjoint subsets of the not-started tasks (time/memory x ours/theirs)."""
    s = f"{SECTION} [{kind}]"
    keys = tasks_by_unit(rt)
    n = min(subset, len(keys) // 4)
    if n < subset:
        note(f"only {len(keys):,} not-started tasks: subsets of {n:,}")
    a_time, a_mem, b_time, b_mem = (keys[i * n:(i + 1) * n] for i in range(4))

    refs = parse_evidence([evidence_of("x")], rt.today())
    command = Command(trigger="complete", actor=OFFICER.name, role=OFFICER.role,
                      evidence=refs, result=RESULT)
    layers = {
        "ours (answers remembered, as the engine runs)": machine_layer_shared,
        "ours (Machine run for every task)": machine_layer_shared_every_time,
        "many-models (one Machine, add/remove_model)": machine_layer_many_models,
        "per-object Machine": machine_layer_per_object,
    }
    for what, measure in (("time", timed), ("memory peak", traced_peak_mb)):
        unit = "s" if what == "time" else "MB"
        got = {name: measure(lambda fn=fn: fn(rt, n, command))  # type: ignore[misc]
               for name, fn in layers.items()}
        for name, value in got.items():
            figure(s, f"machine layer {what}, {n:,} tasks: {name}", value, unit)
        base = got["ours (Machine run for every task)"]
        for name in ("many-models (one Machine, add/remove_model)", "per-object Machine"):
            figure(s, f"  {name} / ours run every time ({what})", got[name] / base, "x",
                   target="> 1 (ours wins)", met=got[name] > base)

    def ours(part: list[Key]) -> Callable[[], object]:
        return lambda: transition_many(rt, "complete", OFFICER, done_changes(part))

    def theirs(part: list[Key]) -> Callable[[], object]:
        return lambda: per_object_mark_done(rt, part)

    _pair(s, "mark-done with DB writes, time", n, total, timed(ours(a_time)),
          timed(theirs(b_time)), "s")
    analyze(rt)
    ours_mb, theirs_mb = traced_peak_mb(ours(a_mem)), traced_peak_mb(theirs(b_mem))
    _pair(s, "mark-done with DB writes, memory peak", n, total, ours_mb, theirs_mb, "MB",
          ext=False)
    note(f"DB path: ours holds the whole validated command (here {ours_mb * 2**20 / n:,.0f} "
         "bytes per change at peak, input included) and grows with it; the per-object way "
         "holds one batch (5,000) of ORM objects and machines at a time")


def main() -> None:
    exit_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_arguments(parser, units=FULL_UNITS)
    parser.add_argument("--subset", type=int, default=20_000, help="tasks per measured subset")
    args = parser.parse_args()
    for kind in kinds(args.db):
        heading(f"shared vs per-object machine on {kind}: {args.units:,} communes")
        with bench_database(kind) as url:
            rt = open_bench_runtime(url)
            try:
                generate(rt, args.units)
                analyze(rt)
                run(rt, kind, subset=args.subset, total=args.units * TASKS_PER_UNIT // 2)
            finally:
                rt.db.dispose()


if __name__ == "__main__":
    main()
