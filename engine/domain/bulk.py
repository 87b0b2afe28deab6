"""Bulk paths for a whole province at once: plan instances and task transitions in sets.

Why: `engine.domain.plan_loading.load_plans` and `engine.domain.tasks.transition` are shaped for
one officer's
command (an ORM session, a handful of rows, one transaction). Onboarding the 3,321 communes with
their three plans (412,000 task rows) or importing a quarter's results for all of them through
those paths pays the per-command overhead hundreds of thousands of times. The functions here
apply the *same* rules with set-based statements:

- `load_plans_bulk`: the same file validation and definition upsert as `load_plans` (imported
  from it), then the unit instances as plain Core inserts, with each task's due date parsed once
  per plan task instead of once per unit; all in one transaction, like `load_plans`.
- `transition_many`: every change is validated first by the functions `transition` calls
  (`engine.domain.tasks.check_command` — texts, references, date, guards, all problems at
  once —, the own-plan resolution, the retired-task and version refusals, `decide` — the
  runtime's one shared `WorkflowMachine` and the effective date — and the register's
  `check_same_document`), and only when all of them pass are the rows written, in batched
  transactions, by the one task writer (`engine.domain.task_writes`) the per-task commands
  use: one `UPDATE … FROM` per set of changed columns for the version bumps, one set insert
  for the history rows and one for the evidence links, whatever the texts. The rows are the
  ones a sequence of `engine.domain.tasks.transition` calls leaves (tests/test_bulk.py
  compares them, ids included); a rule changes in one place and holds in both paths.

A refused bulk command writes nothing. A *concurrent* change to a task between validation and
its batch (its version moved) is refused as a `Conflict` for that batch, whose transaction rolls
back; the batches committed before it stay committed and the error says how many changes that is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar, cast

from sqlalchemy import (
    Connection,
    Date,
    Dialect,
    Integer,
    String,
    Table,
    bindparam,
    exists,
    insert,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.directory.units import get_unit
from engine.domain.documents import DocumentRef
from engine.domain.evidence import check_same_document
from engine.domain.frozen_periods import FrozenPeriod, frozen_periods, judge_change
from engine.domain.occurrences import normalise_occurrence, pick
from engine.domain.plan_ids import pick_plan_id
from engine.domain.plan_loading import (
    LoadedPlan,
    active_definitions,
    adopt_single_rows,
    prepare_load,
    read_plan_files,
    task_template,
)
from engine.domain.task_writes import Event, Rows, StaleVersion, TaskWrite, writer_for
from engine.domain.tasks import (
    Actor,
    Decision,
    TaskKey,
    _check_version,
    check_command,
    decide,
    evidence_entries,
    find_task,
    parse_evidence,
    retired,
)
from engine.domain.workflow.machine import Command
from engine.errors import CchcError, Conflict, Problem, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import (
    Document,
    PlanTask,
    Task,
    TaskEvidence,
    TaskHistory,
    Unit,
    UnitPlan,
)
from vntext.text import nfc

_IN_CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits
_INSERT_CHUNK = 10_000  # rows per executemany
_VALIDATE_UNITS = 100  # units whose tasks are read (and let go) at a time while validating

T = TypeVar("T")

# Core tables: inserts and updates here bypass the ORM unit of work (no identity map, no events).
_TASKS = cast(Table, Task.__table__)
_UNIT_PLANS = cast(Table, UnitPlan.__table__)
_DOCUMENTS = cast(Table, Document.__table__)
_HISTORY = cast(Table, TaskHistory.__table__)
_EVIDENCE = cast(Table, TaskEvidence.__table__)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ----------------------------------------------------------------------------- plan instances


def _unit_ids(session: Session, slugs: Sequence[str]) -> list[int]:
    found: dict[str, int] = {}
    for chunk in _chunks(slugs, _IN_CHUNK):
        found.update(session.execute(
            select(Unit.slug, Unit.id).where(Unit.slug.in_(chunk))).all())
    for slug in slugs:
        if slug not in found:
            get_unit(session, slug)  # raises the NotFound an officer sees for one unit
    return [found[s] for s in slugs]


def instantiate_bulk(session: Session, rt: Runtime, unit_ids: Sequence[int],
                     plan_id: str) -> int:
    """`plan_loading.instantiate` for many units: the same rows, from one INSERT … SELECT per
    10,000 rows (the units crossed with the plan's task definitions), no per-row Python."""
    plan, defs = active_definitions(session, plan_id)
    now = rt.now()
    initial = rt.machine.initial
    template = task_template(plan, defs)
    adopt_single_rows(session, plan, template, unit_ids)
    have_plan = set(session.scalars(select(UnitPlan.unit_id).where(UnitPlan.plan_id == plan_id)))
    conn = session.connection()
    new_units = [{"unit_id": u, "plan_id": plan_id, "loaded_at": now}
                 for u in unit_ids if u not in have_plan]
    for part in _chunks(new_units, _INSERT_CHUNK):
        conn.execute(insert(_UNIT_PLANS), list(part))
    units = Rows(conn.dialect, "un", [("unit_id", Integer)])
    tasks = Rows(conn.dialect, "df", [("code", String), ("occurrence", String),
                                        ("owner", String), ("deadline", String),
                                        ("due_on", Date)])
    u, d, t, x = units.table, tasks.table, _TASKS, _TASKS.alias("x")
    plan_param = bindparam("plan", type_=String)
    stmt = insert(t).from_select(
        ["unit_id", "plan_id", "code", "occurrence", "state", "owner", "deadline", "due_on",
         "version", "updated_at"],
        select(u.c.unit_id, plan_param, d.c.code, d.c.occurrence,
               bindparam("state", type_=String), d.c.owner, d.c.deadline, d.c.due_on,
               bindparam("version", type_=Integer), bindparam("now", type_=t.c.updated_at.type))
        .select_from(u.join(d, true()))
        .where(~exists().where(x.c.unit_id == u.c.unit_id, x.c.plan_id == plan_param,
                               x.c.code == d.c.code, x.c.occurrence == d.c.occurrence))
        .order_by(u.c.ord, d.c.ord),  # the ids load_plans gives: unit by unit, in plan order
    )
    params = {"plan": plan_id, "state": initial, "version": 1, "now": now,
              **tasks.params(template)}
    inserted = 0
    for some in _chunks(list(unit_ids), _INSERT_CHUNK // max(len(template), 1) + 1):
        inserted += conn.execute(stmt, {**params, **units.params([(i,) for i in some])}).rowcount
    return inserted


def load_plans_bulk(rt: Runtime, unit_slugs: Iterable[str], files: Sequence[Path], *,
                    allow_other_units: bool = False,
                    allow_drop_state: bool = False) -> list[LoadedPlan]:
    """`plan_loading.load_plans` for thousands of units: same validation, same result rows."""
    specs = read_plan_files(files, rt.today())
    slugs = list(dict.fromkeys(unit_slugs))
    out = []
    with rt.db.transaction() as session:
        unit_ids = _unit_ids(session, slugs)
        rows: dict[int, Unit] = {}
        for part in _chunks(unit_ids, _INSERT_CHUNK):
            rows.update((u.id, u) for u in session.scalars(select(Unit).where(Unit.id.in_(part))))
        units = [rows[i] for i in unit_ids]
        for (spec, digest), path in zip(specs, files, strict=True):
            prepared = prepare_load(session, rt, spec, digest, path, units,
                                    allow_other_units=allow_other_units,
                                    allow_drop_state=allow_drop_state)
            instantiate_bulk(session, rt, [u.id for u in prepared.units], prepared.plan_id)
            out.append(prepared.result)
    return out


# ----------------------------------------------------------------------------- transitions


@dataclass(frozen=True)
class BulkChange:
    """One task's part of a bulk command: what `transition` takes besides trigger and actor."""

    key: TaskKey
    evidence: Sequence[str] = ()
    result: str = ""
    note: str = ""
    on: date | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class BulkResult:
    """Counts of what a bulk command wrote (one history row per changed task)."""

    changed: int
    batches: int
    documents_registered: int
    evidence_links: int


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A validated change: the task as read and what the rules decided for it."""

    task_id: int
    unit_id: int
    version: int
    from_state: str
    decision: Decision
    note: str | None  # the texts as typed (NFC), as the history row keeps them
    result: str | None
    evidence: tuple[str, ...]  # the evidence texts as given: the key of the parsed refs


_DocKey = tuple[int, tuple[object, ...]]  # (unit id, DocumentKey as the documents table has it)


@dataclass
class _Doc:
    id: int  # 0: first cited by this command, registered in its batch
    issued_on: date
    type_code: str
    rendered: str
    canonical: str


def _doc_key(unit_id: int, ref: DocumentRef) -> _DocKey:
    issuer, period, number, symbol = ref.key
    return (unit_id, (issuer, str(period), number, symbol))


def _located(exc: CchcError, index: int, key: TaskKey) -> CchcError:
    """The same refusal, saying which change of the bulk command it is about."""
    problems = [Problem(p.field, f"Dòng {index} (nhiệm vụ {key}): {p.message_vi}",
                        f"change {index} (task {key}): {p.message_en}", p.value)
                for p in exc.problems]
    return type(exc)(problems[0].message_vi, problems[0].message_en, problems=problems)


_Row = tuple[int, str, str, int, str | None]  # a task as read: id, plan, state, version, note


class _Validator:
    """Phase one: for every change, the checks `transition` makes, by the functions it calls
    (`check_command`, `find_task`'s refusals, `decide` — which asks the runtime's one shared
    machine —, the register's `check_same_document`), in its order, before any write. Only
    the parsing of an evidence list is done once per distinct list."""

    def __init__(self, rt: Runtime, trigger: str, actor: Actor, retired: set[tuple[str, str]]
                 ) -> None:
        self.rt = rt
        self.trigger = trigger
        self.actor = actor
        self.today = rt.today()
        self.now = rt.now()
        self.retired = retired
        self.refs: dict[tuple[str, ...], list[DocumentRef]] = {}
        self.docs: dict[_DocKey, _Doc] = {}
        self.open_days: set[tuple[int, date]] = set()  # (unit, day) outside frozen periods
        self.frozen: dict[int, list[FrozenPeriod]] = {}  # of the units being validated
        # (unit id, evidence texts) -> the register keys they cite; checked once per pair
        self.cited: dict[tuple[int, tuple[str, ...]], list[_DocKey]] = {}

    def _refs(self, evidence: tuple[str, ...]) -> list[DocumentRef]:
        done = self.refs.get(evidence)
        if done is None:
            done = self.refs[evidence] = parse_evidence(evidence, self.today)
        return done

    def _parse(self, texts: Sequence[str], today: date) -> list[DocumentRef]:
        """`parse_evidence`, once per distinct list of texts (`check_command`'s parser)."""
        return self._refs(tuple(texts))

    def prepare(self, session: Session, change: BulkChange, unit_id: int, row: _Row | None
                ) -> _Prepared:
        """The change checked and decided, or the refusal `transition` would give."""
        result, note = nfc(change.result), nfc(change.note)
        evidence = tuple(change.evidence)
        refs = check_command(self.rt, self.trigger, self.actor, evidence, result, note,
                             change.on, parse=self._parse, today=self.today)
        key = change.key
        if row is None:
            find_task(session, key)  # raises the NotFound (unit, plan, code)
            raise AssertionError(f"{key} disappeared")  # pragma: no cover
        task_id, plan_id, state, version, old_note = row
        if (plan_id, key.code) in self.retired:
            raise retired(key)
        if change.expected_version is not None:
            _check_version(Task(version=version), change.expected_version, key)
        command = Command(trigger=self.trigger, actor=self.actor.name, role=self.actor.role,
                          evidence=refs, result=result, note=note)
        decision = decide(self.rt, state, command, refs, change.on, self.today, self.now,
                          old_note)
        frozen = (unit_id, decision.effective)
        if frozen not in self.open_days:  # a day of a frozen period refuses the change
            judge_change(self.frozen.get(unit_id, ()), decision.effective, self.actor.role, "")
            self.open_days.add(frozen)
        if (unit_id, evidence) not in self.cited:
            self.cited[(unit_id, evidence)] = self._register(unit_id, refs)
        return _Prepared(task_id, unit_id, version, state, decision, note or None,
                         result or None, evidence)

    def _register(self, unit_id: int, refs: Sequence[DocumentRef]) -> list[_DocKey]:
        """The register's rule: one number, one document (stored, or cited earlier here)."""
        keys = []
        for ref in refs:
            k = _doc_key(unit_id, ref)
            known = self.docs.get(k)
            if known is None:
                self.docs[k] = _Doc(0, ref.issued_on, ref.type_code, ref.render(), ref.canonical)
            else:
                check_same_document(ref, known.issued_on, known.type_code, known.rendered,
                                    known.canonical)
            keys.append(k)
        return keys


def _read_documents(conn: Session | Connection, unit_ids: Iterable[int]) -> dict[_DocKey, _Doc]:
    out: dict[_DocKey, _Doc] = {}
    for chunk in _chunks(sorted(set(unit_ids)), _IN_CHUNK):
        for d in conn.execute(
                select(Document.id, Document.unit_id, Document.issuer_key, Document.period_key,
                       Document.number, Document.symbol, Document.issued_on, Document.type_code,
                       Document.rendered, Document.canonical)
                .where(Document.unit_id.in_(chunk))):
            out[(d[1], (d[2], d[3], d[4], d[5]))] = _Doc(d[0], d[6], d[7], d[8], d[9])
    return out


def _validate(rt: Runtime, trigger: str, actor: Actor, changes: Sequence[BulkChange]
              ) -> tuple[list[_Prepared], _Validator]:
    """Every change checked, 100 units at a time (their tasks and documents read, then let go).
    The refusal raised is the one of the first bad change in the caller's order."""
    seen: dict[TaskKey, int] = {}
    by_unit: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(changes):
        if c.key in seen:
            raise ValidationFailed(
                f"Nhiệm vụ {c.key} có mặt hai lần (dòng {seen[c.key] + 1} và {i + 1})",
                f"task {c.key} appears twice (changes {seen[c.key] + 1} and {i + 1})",
                field="key")
        seen[c.key] = i
        by_unit[c.key.unit].append(i)
    del seen
    prepared: list[_Prepared | None] = [None] * len(changes)
    first_error: tuple[int, CchcError] | None = None
    with rt.db.read() as session:
        retired_tasks = {(p, c) for p, c in session.execute(
            select(PlanTask.plan_id, PlanTask.code).where(PlanTask.retired.is_(True)))}
        v = _Validator(rt, trigger, actor, retired_tasks)
        slugs = list(by_unit)
        units: dict[str, int] = {}
        for chunk in _chunks(slugs, _IN_CHUNK):
            units.update(session.execute(
                select(Unit.slug, Unit.id).where(Unit.slug.in_(chunk))).all())
        for chunk in _chunks(slugs, _VALIDATE_UNITS):
            ids = [units[u] for u in chunk if u in units]
            has_plans: dict[int, set[str]] = defaultdict(set)
            for unit_id, plan_id in session.execute(
                    select(UnitPlan.unit_id, UnitPlan.plan_id).where(UnitPlan.unit_id.in_(ids))):
                has_plans[unit_id].add(plan_id)
            rows: dict[tuple[int, str, str], dict[str, _Row]] = defaultdict(dict)
            for task_id, unit_id, plan_id, code, state, version, note, occ in session.execute(
                    select(Task.id, Task.unit_id, Task.plan_id, Task.code, Task.state,
                           Task.version, Task.note, Task.occurrence)
                    .where(Task.unit_id.in_(ids))):
                rows[(unit_id, plan_id, code)][occ] = (task_id, plan_id, state, version, note)
            v.docs.update(_read_documents(session, ids))
            v.frozen = frozen_periods(session, ids)
            for slug in chunk:
                unit_id = units.get(slug, -1)
                for i in by_unit[slug]:
                    if first_error is not None and i > first_error[0]:
                        break  # a change before this one is refused already
                    c = changes[i]
                    plan_id = pick_plan_id(slug, c.key.plan, has_plans[unit_id])
                    try:
                        prepared[i] = v.prepare(session, c, unit_id, _row_of(
                            rows.get((unit_id, plan_id, c.key.code)), c, v.today))
                    except CchcError as exc:
                        first_error = (i, _located(exc, i + 1, c.key))
                        break
    if first_error is not None:
        raise first_error[1]
    return cast(list[_Prepared], prepared), v


def _row_of(found: dict[str, _Row] | None, change: BulkChange, today: date) -> _Row | None:
    """The row `change` means: the occurrence its key names, else the one of its date (as
    `find_task`); None when there is none (`prepare` then raises `find_task`'s refusal)."""
    if not found:
        return None
    if change.key.occurrence is not None:
        return found.get(normalise_occurrence(change.key.occurrence))
    return found[pick(list(found), change.on or today)]


class _Batches:
    """Phase two, one transaction per batch: the documents first cited by the batch, then the
    rows through the one task writer (`engine.domain.task_writes`) the per-task commands use."""

    def __init__(self, v: _Validator, dialect: Dialect) -> None:
        self.v = v
        self.writer = writer_for(dialect)
        self.event = Event(v.trigger, v.actor.name, v.actor.role, v.now)
        self._evidence_text: dict[tuple[str, ...], str] = {}

    def _evidence(self, evidence: tuple[str, ...]) -> str:
        text = self._evidence_text.get(evidence)
        if text is None:
            text = self._evidence_text[evidence] = self.writer.serialize(
                evidence_entries(self.v.refs[evidence]))
        return text

    def write(self, conn: Connection, batch: Sequence[_Prepared]) -> tuple[int, int]:
        registered = self._register(conn, batch)
        docs, cited = self.v.docs, self.v.cited
        ids: dict[tuple[int, tuple[str, ...]], tuple[int, ...]] = {}
        for p in batch:
            pair = (p.unit_id, p.evidence)
            if pair not in ids:
                ids[pair] = tuple(dict.fromkeys(docs[k].id for k in cited[pair]))
        writes = [
            TaskWrite(p.task_id, p.version, p.from_state, p.decision.to_state,
                      p.decision.values, p.decision.effective, p.note, p.result,
                      self._evidence(p.evidence), ids[(p.unit_id, p.evidence)])
            for p in batch]
        try:
            _history, linked = self.writer.write(conn, self.event, writes)
        except StaleVersion:
            raise Conflict(
                "Có nhiệm vụ vừa được người khác cập nhật trong lúc ghi hàng loạt; hãy tải "
                "lại rồi thử lại",
                "a task was updated concurrently during the bulk write; reload and retry",
                field="version",
            ) from None
        return registered, linked

    def _register(self, conn: Connection, batch: Iterable[_Prepared]) -> int:
        """Documents first cited by this batch, in the order one-by-one commands would add them."""
        v = self.v
        new: dict[_DocKey, DocumentRef] = {}
        seen: set[tuple[int, tuple[str, ...]]] = set()
        for p in batch:
            pair = (p.unit_id, p.evidence)
            if pair in seen:
                continue
            seen.add(pair)
            for k, ref in zip(v.cited[pair], v.refs[p.evidence], strict=True):
                if v.docs[k].id == 0:
                    new.setdefault(k, ref)
        if not new:
            return 0
        try:
            conn.execute(insert(_DOCUMENTS), [
                {"unit_id": k[0], "issuer_key": k[1][0], "period_key": k[1][1],
                 "number": k[1][2], "symbol": k[1][3], "issuer": ref.issuer,
                 "type_code": ref.type_code, "issued_on": ref.issued_on,
                 "canonical": ref.canonical, "rendered": ref.render(), "created_at": v.now}
                for k, ref in new.items()])
        except IntegrityError:
            raise Conflict("Có văn bản vừa được người khác ghi nhận; hãy thử lại",
                           "document registered concurrently; retry", field="doc") from None
        stored = _read_documents(conn, {k[0] for k in new})
        for k in new:
            v.docs[k].id = stored[k].id
        return len(new)


def transition_many(rt: Runtime, trigger: str, actor: Actor, changes: Sequence[BulkChange], *,
                    batch_size: int = 5_000) -> BulkResult:
    """Fire `trigger` on many tasks: all validated first, then written in batches."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    prepared, validator = _validate(rt, trigger, actor, changes)
    batches_writer = _Batches(validator, rt.db.engine.dialect)
    committed = batches = registered = linked = 0
    for batch in _chunks(prepared, batch_size):
        try:
            with rt.db.transaction() as session:
                r, n = batches_writer.write(session.connection(), batch)
        except Conflict as exc:
            raise Conflict(
                f"{exc.message_vi} ({committed} thay đổi đã ghi trước đó vẫn giữ nguyên)",
                f"{exc.message_en} ({committed} changes committed before this batch stand)",
                field=exc.field,
            ) from None
        committed += len(batch)
        batches += 1
        registered += r
        linked += n
    return BulkResult(committed, batches, registered, linked)
