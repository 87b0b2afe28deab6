"""The sweep: turn what the planner says is due into outbox rows, once each.

Why a sweep and not one scheduler job per reminder: jobs in a scheduler's memory die with the
process and drift from the data; the sweep recomputes "what is due up to now" from the tasks
and obligations themselves every minute and inserts with ON CONFLICT (idempotency_key) DO
NOTHING. Running it twice, from two processes, or a week late after an outage gives the same
rows: the planner emits past steps too, and the key drops the ones already there.

Why the keys first, and rows rather than `Occurrence`s: at the national peak ~126,000
reminders are due and nearly all were inserted by an earlier sweep. The planner gives them as
plain rows (`planner.due_rows`), each key is computed once (`occurrence_keys`), the outbox says
which keys are new (`outbox.new_keys`: only those come back), and only the new rows become
`Occurrence`s whose payloads are built and inserted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.reminders import outbox as ob
from engine.reminders.dispatch import default_instance
from engine.reminders.occurrence import Occurrence, OccurrenceRow, new_occurrence, occurrence_keys
from engine.reminders.planner import due_rows
from engine.runtime import Runtime
from engine.storage.models import Obligation, ObligationDue, SweepRun, Task

#: What is due at a moment: `Occurrence`s, or plain rows of their fields (`OccurrenceRow`).
Source = Callable[[Runtime, datetime], Iterable[OccurrenceRow]]


def planner_source(rt: Runtime, now: datetime) -> Iterable[OccurrenceRow]:
    """The planner's `due_rows`: what is due now, as plain rows (the sweep makes an
    `Occurrence` only of the rows it inserts)."""
    return due_rows(rt, now)


def _owners(session: Session, occs: Sequence[Occurrence]) -> dict[tuple[str, int], str | None]:
    """Today's owner of each item, kept in the row so the dispatcher notices a re-assignment."""
    owners: dict[tuple[str, int], str | None] = {}
    task_ids = sorted({o.item_id for o in occs if o.item_kind == "task"})
    for i in range(0, len(task_ids), 900):
        for tid, owner in session.execute(
                select(Task.id, Task.owner).where(Task.id.in_(task_ids[i:i + 900]))):
            owners[("task", tid)] = owner
    due_ids = sorted({o.item_id for o in occs if o.item_kind == "obligation"})
    for i in range(0, len(due_ids), 900):
        for did, owner in session.execute(
                select(ObligationDue.id, func.coalesce(ObligationDue.owner, Obligation.owner))
                .join(Obligation, Obligation.id == ObligationDue.obligation_id)
                .where(ObligationDue.id.in_(due_ids[i:i + 900]))):
            owners[("obligation", did)] = owner
    return owners


def _with_owner(occs: Sequence[Occurrence],
                owners: dict[tuple[str, int], str | None]) -> list[Occurrence]:
    out = []
    for o in occs:
        key = (o.item_kind, o.item_id)
        if "item_owner" in o.base or key not in owners:
            out.append(o)
        else:
            out.append(o.with_payload({"item_owner": owners[key]}))
    return out


def sweep(rt: Runtime, now: datetime, source: Source | None = None, *,
          instance: str | None = None, batch_size: int = ob.INSERT_BATCH) -> int:
    """Insert the outbox rows of every reminder due up to `now`; how many were new.

    One transaction per batch (a crash mid-sweep keeps what was inserted; the next sweep adds
    the rest), then a `SweepRun` row recording when it ran, for which `now`, and what it added.
    """
    started = datetime.now(UTC)
    rows = list((source or planner_source)(rt, now))
    keys = occurrence_keys(rows)
    # Most of what is due was inserted by an earlier sweep: look the keys up first (an index
    # probe each) and insert only the rest. ON CONFLICT still settles a race with another
    # process sweeping at the same moment.
    with rt.db.read() as session:
        new = ob.new_keys(session, keys)
    occurrences: list[Occurrence] = [new_occurrence(row) for row, key in zip(rows, keys,
                                                                              strict=True)
                                     if key in new]
    del rows, keys
    inserted = 0
    for start in range(0, len(occurrences), batch_size):
        chunk = occurrences[start:start + batch_size]
        with ob.write_transaction(rt) as session:
            if any("item_owner" not in o.base for o in chunk):
                chunk = _with_owner(chunk, _owners(session, chunk))
            inserted += ob.insert_occurrences(session, chunk, now, batch_size=batch_size)
    with rt.db.transaction() as session:
        session.add(SweepRun(instance=(instance or default_instance())[:64],
                             now_at=ob.db_time(now), started_at=ob.db_time(started),
                             finished_at=ob.db_time(datetime.now(UTC)), inserted=inserted))
    return inserted


def last_sweeps(rt: Runtime, limit: int = 10) -> list[SweepRun]:
    """The most recent sweep runs (what an admin checks after an outage)."""
    with rt.db.read() as session:
        return list(session.scalars(select(SweepRun).order_by(SweepRun.id.desc()).limit(limit)))


__all__ = ["Source", "last_sweeps", "planner_source", "sweep"]
