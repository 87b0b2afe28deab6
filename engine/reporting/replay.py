"""Replay a past report's state (e.g. the seed's Q3-2023) into the database through the workflow.

Why through the workflow and not by writing rows: every done task with evidence goes through
the same `complete` command an officer uses, so the seed's references are validated like any
input. Done tasks the paper report gives without any document are imported with the
system-only `import_done` transition, flagged as imported, and listed by `cchc report check`.
A recurring task's entry lands on its occurrence of the period's end (a Q3 report's entry on
the Q3 occurrence), since the report states that period's state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.directory.units import get_unit
from engine.domain.tasks import Actor, TaskKey, add_note, find_task, transition
from engine.reporting.snapshot.build import period_of
from engine.runtime import Runtime
from plans import ReplayFile

_NOT_DONE_TRIGGER = {
    "in_progress": "start",
    "waiting_upper": "wait",
    "nothing_arose": "nothing_arose",
}


@dataclass
class ReplayReport:
    applied: int = 0
    skipped: int = 0
    imported_without_evidence: list[str] = field(default_factory=list)


def replay(rt: Runtime, data: ReplayFile,
           progress: Callable[[int, int], None] | None = None) -> ReplayReport:
    with rt.db.read() as session:
        unit = get_unit(session, data.unit)
        period = period_of(rt, session, unit, data.period)
    report = ReplayReport()
    officer = Actor(data.recorded_by, "officer")
    system = Actor(data.recorded_by, "system")
    for i, e in enumerate(data.entries, start=1):
        key = TaskKey(data.unit, e.plan, e.code)
        with rt.db.read() as session:  # recurring work: the occurrence of the period's end
            _u, task = find_task(session, key, on=period.end)
            fresh = task.version == 1
            key = key.of(task)
        if e.state == "not_started" and fresh and e.result:
            add_note(rt, key, e.result, officer, on=e.reached_on or period.end)
            report.applied += 1
        if not fresh or e.state == "not_started":
            report.skipped += 1 if not fresh else 0
            if progress:
                progress(i, len(data.entries))
            continue
        if e.state == "done" and e.evidence:
            transition(rt, key, "complete", officer, evidence=e.evidence, result=e.result,
                       on=e.reached_on)
        elif e.state == "done":
            transition(rt, key, "import_done", system, result=e.result,
                       on=e.reached_on or period.end)
            report.imported_without_evidence.append(str(key))
        else:
            trigger = _NOT_DONE_TRIGGER[e.state]
            note = e.result or rt.machine.definition.label(e.state)
            transition(rt, key, trigger, officer, note=note,
                       on=e.reached_on or period.end)
        report.applied += 1
        if progress:
            progress(i, len(data.entries))
    return report
