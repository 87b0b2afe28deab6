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
- `transition_many`: every change is validated first — document references, dates in the
  texts, the trigger, role, source state and guards through the runtime's one shared
  `WorkflowMachine` (never a Machine per task; asked once per distinct state and command, see
  `_Validator`), the effective date, the document register — and only when all of them pass are
  the rows written, in batched transactions: compare-and-set version bump, append-only history
  row, document registration and evidence link. They are the rows a sequence of
  `engine.domain.tasks.transition` calls leaves (tests/test_bulk.py compares them), except that
  history
  ids are handed out outcome by outcome: changes with the same outcome (same state, texts,
  evidence, unit) are written together, one INSERT … SELECT for their history rows and one per
  document for their evidence links; the version bumps are one UPDATE per set of new values.
- `run_all_parallel`: the quarter-end `api.run_all` over a process pool, one engine and one
  plan-definition cache per worker, keeping a small summary per unit instead of every snapshot.

A refused bulk command writes nothing. A *concurrent* change to a task between validation and
its batch (its version moved) is refused as a `Conflict` for that batch, whose transaction rolls
back; the batches committed before it stay committed and the error says how many changes that is.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Connection,
    Date,
    Dialect,
    Integer,
    String,
    Table,
    Text,
    any_,
    bindparam,
    column,
    exists,
    func,
    insert,
    null,
    select,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from engine.api import UnitExport, export_unit
from engine.clock import fixed_clock
from engine.directory.units import get_unit
from engine.domain.deadline_due import due_date
from engine.domain.documents import DocumentRef
from engine.domain.free_text import check_dates
from engine.domain.plan_loading import LoadedPlan, prepare_load, read_plan_files
from engine.domain.tasks import (
    Actor,
    TaskKey,
    _check_version,
    _effective_date,
    find_task,
    parse_evidence,
)
from engine.domain.workflow.machine import Command
from engine.errors import CchcError, Conflict, Problem, ValidationFailed
from engine.reporting.snapshot.build import DefinitionCache
from engine.runtime import Runtime, open_runtime
from engine.storage.models import (
    Document,
    Plan,
    PlanTask,
    Task,
    TaskEvidence,
    TaskHistory,
    Unit,
    UnitPlan,
)
from vntext.dates import format_date_vi
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


class _Rows:
    """Many rows as ONE statement parameter, usable as a table in SQL: a JSON array read by
    SQLite's json_each, or one array per column unnested by PostgreSQL. Whatever the number of
    rows, the statement text is the same (compiled and prepared once) and no per-row statement
    runs; `ord` numbers the rows from 1 in the order given."""

    def __init__(self, dialect: Dialect, name: str, columns: Sequence[tuple[str, Any]]) -> None:
        self.name = dialect.name
        self.key = name
        self.columns = [(c, t if isinstance(t, TypeEngine) else t()) for c, t in columns]
        names = [c for c, _ in self.columns]
        if self.name == "postgresql":
            self.table: Any = func.unnest(*[
                bindparam(f"{name}_{c}", type_=ARRAY(t)) for c, t in self.columns
            ]).table_valued(*names, with_ordinality="ord").render_derived(name=name)
            self._process: list[Callable[[Any], Any] | None] = [None] * len(names)
        elif self.name == "sqlite":
            each = func.json_each(bindparam(name, type_=String)).table_valued("key", "value")
            self.table = select(
                *[func.json_extract(each.c.value, f"$[{i}]").label(c)
                  for i, c in enumerate(names)], (each.c.key + 1).label("ord"),
            ).subquery(name)
            self._process = [t.dialect_impl(dialect).bind_processor(dialect)
                             for _, t in self.columns]
        else:  # pragma: no cover - the engine runs on SQLite and PostgreSQL only
            raise NotImplementedError(f"bulk writes on {self.name}")

    def params(self, rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
        if self.name == "postgresql":
            return {f"{self.key}_{c}": [r[i] for r in rows]
                    for i, (c, _) in enumerate(self.columns)}
        procs = self._process
        return {self.key: json.dumps(
            [[p(v) if p is not None and v is not None else v for p, v in zip(procs, r,
                                                                               strict=True)]
             for r in rows], ensure_ascii=False)}


class _IdList:
    """`column IN (ids)` with the ids as ONE parameter named `ids`: a PostgreSQL array, or a
    JSON array read by SQLite's json_each (the statement text is the same for any count)."""

    def __init__(self, dialect: Dialect) -> None:
        self.pg = dialect.name == "postgresql"

    def where(self, col: ColumnElement[int]) -> ColumnElement[bool]:
        if self.pg:
            return col == any_(bindparam("ids", type_=ARRAY(Integer)))
        return col.in_(select(column("value", Integer))
                       .select_from(func.json_each(bindparam("ids", type_=String))))

    def param(self, ids: list[int]) -> Any:
        return ids if self.pg else json.dumps(ids)


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
    plan = session.get(Plan, plan_id)
    assert plan is not None
    defs = session.scalars(
        select(PlanTask).where(PlanTask.plan_id == plan_id, PlanTask.retired.is_(False))
        .order_by(PlanTask.position)
    ).all()
    now = rt.now()
    initial = rt.machine.initial
    template = [(d.code, d.default_owner, d.deadline, due_date(d.deadline, plan.year))
                for d in defs]
    have_plan = set(session.scalars(select(UnitPlan.unit_id).where(UnitPlan.plan_id == plan_id)))
    conn = session.connection()
    new_units = [{"unit_id": u, "plan_id": plan_id, "loaded_at": now}
                 for u in unit_ids if u not in have_plan]
    for part in _chunks(new_units, _INSERT_CHUNK):
        conn.execute(insert(_UNIT_PLANS), list(part))
    units = _Rows(conn.dialect, "un", [("unit_id", Integer)])
    tasks = _Rows(conn.dialect, "df", [("code", String), ("owner", String),
                                        ("deadline", String), ("due_on", Date)])
    u, d, t, x = units.table, tasks.table, _TASKS, _TASKS.alias("x")
    plan_param = bindparam("plan", type_=String)
    stmt = insert(t).from_select(
        ["unit_id", "plan_id", "code", "state", "owner", "deadline", "due_on", "version",
         "updated_at"],
        select(u.c.unit_id, plan_param, d.c.code,
               bindparam("state", type_=String), d.c.owner, d.c.deadline, d.c.due_on,
               bindparam("version", type_=Integer), bindparam("now", type_=t.c.updated_at.type))
        .select_from(u.join(d, true()))
        .where(~exists().where(x.c.unit_id == u.c.unit_id, x.c.plan_id == plan_param,
                               x.c.code == d.c.code))
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


@dataclass(frozen=True, eq=False)
class _Outcome:
    """What a validated change writes, task id aside. Changes with equal outcomes share one
    object (interned): its texts and evidence are converted and sent once per batch, and the
    version bumps of all tasks with the same new column values are one UPDATE."""

    version: int  # the version read: the compare-and-set value; the new one is version + 1
    from_state: str
    to_state: str
    values: tuple[tuple[str, Any], ...]  # task columns set besides the version
    effective: date
    note: str | None  # the texts as typed (NFC), as the history row keeps them
    result: str | None
    evidence: tuple[str, ...]  # the evidence texts as given: the key of the parsed refs
    unit_id: int | None  # the unit whose register holds the documents (None: no evidence)


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


def _doc_conflict(ref: DocumentRef, known: _Doc) -> Conflict:
    """The refusal `evidence.register_documents` gives for a number already used otherwise."""
    other = (f"ngày {format_date_vi(ref.issued_on)}" if known.issued_on != ref.issued_on
             else "loại văn bản khác")
    return Conflict(
        f"Văn bản số {ref.render_number()} đã được ghi nhận là '{known.rendered}'; không thể "
        f"dùng cùng số đó với {other}",
        f"document number {ref.render_number()} is already registered as '{known.canonical}' "
        "with another date or type",
        field="doc", value=ref.render(),
    )


class _Validator:
    """Phase one: everything `transition` checks, for every change, before any write.

    Parsing and text checks are done once per distinct text. The workflow machine (the
    runtime's shared one) decides every task's transition, asked once per distinct (state,
    command) pair: its answer is a function of those two alone (the guards read only the
    command; the workflow has no callbacks), so the 61 other tasks of a unit citing the same
    document from the same state get the answer the machine gave for the first — a refusal is
    never remembered, it ends the command.
    """

    def __init__(self, rt: Runtime, trigger: str, actor: Actor) -> None:
        self.rt = rt
        self.trigger = trigger
        self.actor = actor
        self.today = rt.today()
        self.now = rt.now()
        self.refs: dict[tuple[str, ...], tuple[list[DocumentRef], list[dict[str, str]]]] = {}
        self.docs: dict[_DocKey, _Doc] = {}
        self._texts: dict[tuple[str, str], str] = {}
        self._commands: dict[tuple[tuple[str, ...], str, str], Command] = {}
        self._outcomes: dict[tuple[Any, ...], _Outcome] = {}
        self._decided: dict[tuple[str, int], str] = {}  # (state, id of an interned command)
        self._given: dict[tuple[Any, ...], _Outcome] = {}  # a change's inputs -> its outcome

    def _text(self, raw: str, field: str) -> str:
        done = self._texts.get((raw, field))
        if done is None:
            done = nfc(raw)
            check_dates(done, field)
            self._texts[(raw, field)] = done
        return done

    def _refs(self, evidence: tuple[str, ...]) -> list[DocumentRef]:
        done = self.refs.get(evidence)
        if done is None:
            refs = parse_evidence(evidence, self.today)
            done = refs, [{"ref": r.render(), "no": r.render_number(),
                           "on": r.issued_on.isoformat()} for r in refs]
            self.refs[evidence] = done
        return done[0]

    def _command(self, evidence: tuple[str, ...], result: str, note: str) -> Command:
        key = (evidence, result, note)
        cmd = self._commands.get(key)
        if cmd is None:
            cmd = Command(trigger=self.trigger, actor=self.actor.name, role=self.actor.role,
                          evidence=self._refs(evidence), result=result, note=note)
            self._commands[key] = cmd
        return cmd

    def _fire(self, state: str, command: Command) -> str:
        """`rt.machine.fire`, once per (state, command); commands are interned by `_command`."""
        key = (state, id(command))
        new_state = self._decided.get(key)
        if new_state is None:
            new_state = self.rt.machine.fire(state, command)  # raises if refused
            self._decided[key] = new_state
        return new_state

    def prepare(self, change: BulkChange, unit_id: int, state: str, version: int,
                old_note: str | None) -> _Outcome:
        """The outcome of one change, or the refusal. Every check below depends only on these
        inputs, so a change with the same inputs as one already accepted has its outcome."""
        given = (unit_id, state, version, old_note, tuple(change.evidence), change.result,
                 change.note, change.on, change.expected_version)
        accepted = self._given.get(given)
        if accepted is not None:
            return accepted
        rt = self.rt
        result = self._text(change.result, "result")
        note = self._text(change.note, "note")
        evidence = tuple(change.evidence)
        command = self._command(evidence, result, note)
        if change.on is not None and change.on > self.today:
            raise ValidationFailed(
                f"Ngày thực hiện {format_date_vi(change.on)} ở tương lai "
                f"(hôm nay {format_date_vi(self.today)})",
                "the stated date is in the future", field="on",
            )
        if change.expected_version is not None:
            _check_version(Task(version=version), change.expected_version, change.key)
        new_state = self._fire(state, command)
        done = rt.machine.is_done(new_state)
        keeps_old_note = not done and not note and not result
        key = (version, state, new_state, evidence, result, note, change.on,
               old_note if keeps_old_note else None, unit_id if evidence else None)
        outcome = self._outcomes.get(key)
        if outcome is None:
            refs = self._refs(evidence)
            effective = _effective_date(rt, refs, change.on, self.today, new_state)
            values: dict[str, Any] = {"state": new_state, "updated_at": self.now}
            if done:
                values.update(result=result or None, done_on=effective, note=note or None)
            else:
                values.update(done_on=None, note=note or result or old_note)
                if result:
                    values["result"] = result
            outcome = _Outcome(version, state, new_state, tuple(sorted(values.items())),
                               effective, note or None, result or None, evidence,
                               unit_id if evidence else None)
            self._register(unit_id, refs)
            self._outcomes[key] = outcome
        self._given[given] = outcome
        return outcome

    def _register(self, unit_id: int, refs: Sequence[DocumentRef]) -> None:
        """The register's rule: one number, one document (stored, or cited earlier here)."""
        for ref in refs:
            k = _doc_key(unit_id, ref)
            known = self.docs.get(k)
            if known is None:
                self.docs[k] = _Doc(0, ref.issued_on, ref.type_code, ref.render(), ref.canonical)
            elif known.issued_on != ref.issued_on or known.type_code != ref.type_code:
                raise _doc_conflict(ref, known)


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
              ) -> tuple[list[tuple[int, _Outcome]], _Validator]:
    """Every change checked, 100 units at a time (their tasks and documents read, then let go),
    so memory holds little more than one (task id, outcome) pair per change. The refusal
    raised is the one of the first bad change in the caller's order."""
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
    v = _Validator(rt, trigger, actor)
    prepared: list[tuple[int, _Outcome] | None] = [None] * len(changes)
    first_error: tuple[int, CchcError] | None = None
    with rt.db.read() as session:
        slugs = list(by_unit)
        units: dict[str, int] = {}
        for chunk in _chunks(slugs, _IN_CHUNK):
            units.update(session.execute(
                select(Unit.slug, Unit.id).where(Unit.slug.in_(chunk))).all())
        for chunk in _chunks(slugs, _VALIDATE_UNITS):
            ids = [units[u] for u in chunk if u in units]
            rows = {(unit_id, plan_id, code): (task_id, state, version, note)
                    for task_id, unit_id, plan_id, code, state, version, note in session.execute(
                        select(Task.id, Task.unit_id, Task.plan_id, Task.code, Task.state,
                               Task.version, Task.note).where(Task.unit_id.in_(ids)))}
            v.docs.update(_read_documents(session, ids))
            for slug in chunk:
                unit_id = units.get(slug, -1)
                for i in by_unit[slug]:
                    if first_error is not None and i > first_error[0]:
                        break  # a change before this one is refused already
                    c = changes[i]
                    try:
                        row = rows.get((unit_id, c.key.plan, c.key.code))
                        if row is None:
                            find_task(session, c.key)  # raises the NotFound (unit, plan, code)
                            raise AssertionError(f"{c.key} disappeared")  # pragma: no cover
                        task_id, state, version, note = row
                        prepared[i] = (task_id, v.prepare(c, unit_id, state, version, note))
                    except CchcError as exc:
                        first_error = (i, _located(exc, i + 1, c.key))
                        break
    if first_error is not None:
        raise first_error[1]
    return cast(list[tuple[int, _Outcome]], prepared), v


class _Writer:
    """Phase two, one transaction per batch: the documents first cited, the version bumps (one
    UPDATE per set of new column values, compare-and-set on the version), then the batch's
    history rows and evidence links, each set in one go:

    - PostgreSQL: an INSERT … SELECT from unnested arrays for the history rows — (task id,
      outcome number) pairs plus one row per distinct outcome, so the texts and evidence a
      unit's tasks share are sent once — returning their ids, then one INSERT … SELECT for the
      links (those that exist already are read first and left out, as `transition` does).
    - SQLite (one writer at a time, in this process): the history ids are handed out from
      max(id) + 1, which is safe because the batch holds the database's write lock since its
      first write; history rows and links then go in as two plain executemany of ready tuples,
      each value converted by its column type once per distinct value.
    """

    _HISTORY_COLUMNS = ("task_id", "seq", "event", "from_state", "to_state", "actor", "role",
                        "at", "effective_on", "note", "result", "owner", "deadline", "evidence",
                        "version")

    def __init__(self, v: _Validator, dialect: Dialect) -> None:
        self.v = v
        self.pg = dialect.name == "postgresql"
        self.ids = _IdList(dialect)
        self._updates: dict[tuple[str, ...], Any] = {}
        self._serialize: Callable[[Any], str] = (
            getattr(dialect, "_json_serializer", None) or json.dumps)  # as the JSON type does
        self._evidence_text: dict[tuple[str, ...], str] = {}
        self._doc_ids: dict[_Outcome, list[int]] = {}
        self.known_links = select(_EVIDENCE.c.task_id, _EVIDENCE.c.document_id).where(
            self.ids.where(_EVIDENCE.c.task_id))
        if self.pg:
            self._pg_statements(dialect)
        else:
            self._sqlite_statements(dialect)

    # -- statements

    def _pg_statements(self, dialect: Dialect) -> None:
        h = _HISTORY
        self.pairs = _Rows(dialect, "tk", [("task_id", Integer), ("outcome", Integer)])
        self.outcomes = _Rows(dialect, "oc", [
            ("seq", Integer), ("from_state", String), ("to_state", String),
            ("effective_on", Date), ("note", Text), ("result", Text), ("evidence", Text)])
        tk, oc = self.pairs.table, self.outcomes.table
        self.history = insert(h).from_select(list(self._HISTORY_COLUMNS), select(
            tk.c.task_id, oc.c.seq, bindparam("event", type_=String), oc.c.from_state,
            oc.c.to_state, bindparam("actor", type_=String), bindparam("role", type_=String),
            bindparam("at", type_=h.c.at.type), oc.c.effective_on, oc.c.note, oc.c.result,
            null(), null(), sql_cast(oc.c.evidence, JSON), oc.c.seq,
        ).select_from(tk.join(oc, oc.c.ord == tk.c.outcome)).order_by(tk.c.ord)
        ).returning(h.c.task_id, h.c.id)
        self.link_rows = _Rows(dialect, "link", [("task_id", Integer), ("doc_id", Integer),
                                                  ("history_id", Integer)])
        lr = self.link_rows.table
        self.links = insert(_EVIDENCE).from_select(
            ["task_id", "document_id", "history_id"],
            select(lr.c.task_id, lr.c.doc_id, lr.c.history_id))

    def _sqlite_statements(self, dialect: Dialect) -> None:
        h = _HISTORY
        columns = ["id", *self._HISTORY_COLUMNS]
        compiled = insert(h).compile(dialect=dialect, column_keys=columns)
        assert compiled.positiontup == columns, compiled.positiontup
        self.history_sql = str(compiled)
        links = ["task_id", "document_id", "history_id"]
        compiled = insert(_EVIDENCE).compile(dialect=dialect, column_keys=links)
        assert compiled.positiontup == links, compiled.positiontup
        self.links_sql = str(compiled)

        def convert(col: str) -> Callable[[Any], Any]:
            process = h.c[col].type.dialect_impl(dialect).bind_processor(dialect)
            return process or (lambda value: value)

        self.at = convert("at")(self.v.now)
        self.day: Callable[[Any], Any] = convert("effective_on")

    def _update(self, columns: tuple[str, ...]) -> Any:
        stmt = self._updates.get(columns)
        if stmt is None:
            t = _TASKS
            stmt = (update(t)
                    .where(self.ids.where(t.c.id),
                           t.c.version == bindparam("expected", type_=Integer))
                    .values(version=bindparam("new_version", type_=Integer),
                            **{c: bindparam(f"v_{c}", type_=t.c[c].type) for c in columns}))
            self._updates[columns] = stmt
        return stmt

    # -- values shared by the tasks of one outcome

    def _evidence(self, o: _Outcome) -> str:
        text = self._evidence_text.get(o.evidence)
        if text is None:
            text = self._serialize(self.v.refs[o.evidence][1])
            self._evidence_text[o.evidence] = text
        return text

    def _docs(self, o: _Outcome) -> list[int]:
        ids = self._doc_ids.get(o)
        if ids is None:
            ids = [] if o.unit_id is None else [
                self.v.docs[_doc_key(o.unit_id, r)].id for r in self.v.refs[o.evidence][0]]
            self._doc_ids[o] = ids
        return ids

    # -- one batch

    def write(self, conn: Connection, batch: Sequence[tuple[int, _Outcome]]) -> tuple[int, int]:
        bumps: dict[tuple[int, tuple[tuple[str, Any], ...]], list[int]] = defaultdict(list)
        for task_id, o in batch:
            bumps[(o.version, o.values)].append(task_id)  # same new column values
        registered = self._register(conn, dict.fromkeys(o for _, o in batch))
        self._doc_ids.clear()  # ids of documents registered by this batch are known now
        for (version, values), task_ids in bumps.items():
            res = conn.execute(self._update(tuple(c for c, _ in values)), {
                "ids": self.ids.param(task_ids), "expected": version,
                "new_version": version + 1, **{f"v_{c}": value for c, value in values}})
            if res.rowcount != len(task_ids):
                raise Conflict(
                    "Có nhiệm vụ vừa được người khác cập nhật trong lúc ghi hàng loạt; hãy tải "
                    "lại rồi thử lại",
                    "a task was updated concurrently during the bulk write; reload and retry",
                    field="version",
                )
        linked = self._pg_rows(conn, batch) if self.pg else self._sqlite_rows(conn, batch)
        return registered, linked

    def _pg_rows(self, conn: Connection, batch: Sequence[tuple[int, _Outcome]]) -> int:
        v = self.v
        number: dict[_Outcome, int] = {}
        pairs = [(task_id, number.setdefault(o, len(number) + 1)) for task_id, o in batch]
        history: dict[int, int] = dict(conn.execute(self.history, {
            "event": v.trigger, "actor": v.actor.name, "role": v.actor.role, "at": v.now,
            **self.pairs.params(pairs),
            **self.outcomes.params([
                (o.version + 1, o.from_state, o.to_state, o.effective, o.note, o.result,
                 self._evidence(o)) for o in number])}).all())  # task id -> history id
        known = self._known_links(conn, batch)
        links = [(task_id, doc, history[task_id]) for task_id, o in batch
                 for doc in self._docs(o) if (task_id, doc) not in known]
        if links:
            conn.execute(self.links, self.link_rows.params(links))
        return len(links)

    def _sqlite_rows(self, conn: Connection, batch: Sequence[tuple[int, _Outcome]]) -> int:
        v = self.v
        first = conn.execute(select(func.coalesce(func.max(_HISTORY.c.id), 0))).scalar_one() + 1
        days: dict[date, Any] = {}
        conn.exec_driver_sql(self.history_sql, [
            (first + i, task_id, o.version + 1, v.trigger, o.from_state, o.to_state,
             v.actor.name, v.actor.role, self.at,
             days[o.effective] if o.effective in days
             else days.setdefault(o.effective, self.day(o.effective)),
             o.note, o.result, None, None, self._evidence(o), o.version + 1)
            for i, (task_id, o) in enumerate(batch)])
        known = self._known_links(conn, batch)
        links = [(task_id, doc, first + i) for i, (task_id, o) in enumerate(batch)
                 for doc in self._docs(o) if (task_id, doc) not in known]
        if links:
            conn.exec_driver_sql(self.links_sql, links)
        return len(links)

    def _known_links(self, conn: Connection, batch: Sequence[tuple[int, _Outcome]]
                     ) -> set[tuple[int, int]]:
        """The (task, document) links that exist already: `transition` does not repeat them."""
        cited = [task_id for task_id, o in batch if self._docs(o)]
        if not cited:
            return set()
        return {(t, d) for t, d in conn.execute(self.known_links,
                                                {"ids": self.ids.param(cited)})}

    def _register(self, conn: Connection, groups: Iterable[_Outcome]) -> int:
        """Documents first cited by this batch, in the order one-by-one commands would add them."""
        v = self.v
        new: dict[_DocKey, DocumentRef] = {}
        for o in groups:
            if o.unit_id is not None:
                for ref in v.refs[o.evidence][0]:
                    k = _doc_key(o.unit_id, ref)
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
    writer = _Writer(validator, rt.db.engine.dialect)
    committed = batches = registered = linked = 0
    for batch in _chunks(prepared, batch_size):
        try:
            with rt.db.transaction() as session:
                r, n = writer.write(session.connection(), batch)
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


# ----------------------------------------------------------------------------- quarter-end run


_worker: tuple[Runtime, DefinitionCache] | None = None


def _start_worker(url: str, at: datetime | None) -> None:
    global _worker
    rt = open_runtime(url, clock=fixed_clock(at) if at is not None else None, migrate=False)
    _worker = (rt, DefinitionCache())


def _export_units(slugs: Sequence[str], period: str, out: str, freeze: bool,
                  taken_by: str) -> list[UnitExport]:
    assert _worker is not None, "worker not started"
    rt, cache = _worker
    done = []
    for slug in slugs:
        done.append(export_unit(rt, slug, period, Path(out), freeze=freeze, taken_by=taken_by,
                                cache=cache))
    return done


def units_with_plans(rt: Runtime, parent: str | None = None) -> list[str]:
    """The units `api.run_all` covers: every unit with a plan (of `parent`, if given)."""
    with rt.db.read() as session:
        q = select(Unit.slug).where(Unit.id.in_(select(UnitPlan.unit_id))).order_by(Unit.slug)
        if parent:
            q = q.where(Unit.parent_id == get_unit(session, parent).id)
        return list(session.scalars(q))


def run_all_parallel(rt: Runtime, period: str, out: Path, *, workers: int = 2,
                     parent: str | None = None, freeze: bool = False, taken_by: str = "",
                     at: datetime | None = None, chunk_size: int = 20,
                     progress: Callable[[int, int], None] | None = None) -> list[UnitExport]:
    """`api.run_all` over a pool of processes, each with its own engine and definition cache.

    Why: one unit's snapshot and files are CPU-bound Python (~50 ms), independent of the other
    units, so the quarter-end run for 3,321 units scales with the cores; and unlike `run_all` it
    keeps only a small summary per unit, not every snapshot, so memory stays flat. The files
    are the same bytes `run_all` writes when `at` is the runtime's time (each worker's snapshots
    are taken at `at`; None: at each worker's own clock).
    """
    slugs = units_with_plans(rt, parent)
    out.mkdir(parents=True, exist_ok=True)
    chunks = [list(c) for c in _chunks(slugs, max(chunk_size, 1))]
    results: list[UnitExport] = []
    done = 0
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections
    with ProcessPoolExecutor(max_workers=max(workers, 1), mp_context=ctx,
                             initializer=_start_worker, initargs=(rt.db.url, at)) as pool:
        futures = [pool.submit(_export_units, c, period, str(out), freeze, taken_by)
                   for c in chunks]
        try:
            for future in as_completed(futures):
                part = future.result()
                results.extend(part)
                done += len(part)
                if progress:
                    progress(done, len(slugs))
        except BaseException:
            pool.shutdown(cancel_futures=True)  # do not export the rest after a failure
            raise
    return sorted(results, key=lambda r: r.unit)
