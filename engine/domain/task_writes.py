"""The one writer of task transitions: version bumps, history rows and evidence links, as sets.

Why one writer for one task and for 200,000: a transition changes three tables — the task row
(compare-and-set on its version), the append-only history, the evidence links — and the
one-officer command (`engine.tasks.transition`) and the province-wide import
(`engine.bulk.transition_many`) must leave the very same rows. So both hand their decided
changes (`TaskWrite`, made by `engine.tasks.decide`) to `TaskWriter.write`, which writes a batch
of any size with a fixed number of statements, whatever the texts:

- the version bumps: one `UPDATE tasks … FROM (rows)` per set of columns changed (a done task
  sets result, done date and note; a not-done one keeps its result unless given one), with the
  compare-and-set on the version in its WHERE; on PostgreSQL the rows are one parameter per
  column (`Rows`: unnested arrays), on SQLite ≥ 3.33 a `VALUES` list of 500 rows per
  statement (plain parameters: a JSON array read by `json_each` costs a JSON parse per column
  and row, measured 1.7x slower);
- the history rows: PostgreSQL, one INSERT … SELECT from unnested arrays RETURNING the ids;
  SQLite (one writer at a time: the batch holds the write lock since its UPDATE), ids handed
  out from max(id) + 1 and one executemany of ready tuples;
- the evidence links not there yet, the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

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
    func,
    insert,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.types import TypeEngine

from engine.storage.models import Task, TaskEvidence, TaskHistory

_TASKS = cast(Table, Task.__table__)
_HISTORY = cast(Table, TaskHistory.__table__)
_EVIDENCE = cast(Table, TaskEvidence.__table__)


class Rows:
    """Many rows as ONE statement parameter, usable as a table in SQL: a JSON text read by
    PostgreSQL's json_to_recordset (an array of objects, one key per column) or SQLite's
    json_each (an array of arrays). Whatever the number of rows, the statement text is the
    same (compiled and prepared once) and no per-row statement runs; `ord` numbers the rows
    from 1 in the order given.

    Why JSON on PostgreSQL too, not one array per column: psycopg quotes every element of a
    text array that holds a space with a regular-expression substitution in Python (~20 µs
    per result text); `json.dumps` encodes the same rows in C, and the server's JSON parser
    is as fast as its array parser."""

    def __init__(self, dialect: Dialect, name: str, columns: Sequence[tuple[str, Any]]) -> None:
        self.name = dialect.name
        self.key = name
        self.columns = [(c, t if isinstance(t, TypeEngine) else t()) for c, t in columns]
        self.names = [c for c, _ in self.columns]
        if self.name == "postgresql":
            self.table: Any = func.json_to_recordset(
                sql_cast(bindparam(name, type_=Text), JSON)
            ).table_valued(*[column(c, t) for c, t in self.columns], column("ord", Integer)
                           ).render_derived(name=name, with_types=True)
            self._process: list[Callable[[Any], Any] | None] = [None] * len(self.names)
        elif self.name == "sqlite":
            each = func.json_each(bindparam(name, type_=String)).table_valued("key", "value")
            self.table = select(
                *[func.json_extract(each.c.value, f"$[{i}]").label(c)
                  for i, c in enumerate(self.names)], (each.c.key + 1).label("ord"),
            ).subquery(name)
            self._process = [t.dialect_impl(dialect).bind_processor(dialect)
                             for _, t in self.columns]
        else:  # pragma: no cover - the engine runs on SQLite and PostgreSQL only
            raise NotImplementedError(f"set-based writes on {self.name}")

    def params(self, rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
        if self.name == "postgresql":
            names = [*self.names, "ord"]
            return {self.key: json.dumps(
                [dict(zip(names, (*r, i), strict=True)) for i, r in enumerate(rows, 1)],
                ensure_ascii=False, default=_iso)}
        procs = self._process
        return {self.key: json.dumps(
            [[p(v) if p is not None and v is not None else v for p, v in zip(procs, r,
                                                                               strict=True)]
             for r in rows], ensure_ascii=False)}


def _iso(value: object) -> str:
    """Dates and times in JSON rows: ISO 8601, which PostgreSQL reads back exactly."""
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in set-based rows")


class IdList:
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


@dataclass(frozen=True, slots=True)
class TaskWrite:
    """One decided transition of one task: everything its three tables receive."""

    task_id: int
    version: int  # the version read: the compare-and-set value; the new one is version + 1
    from_state: str
    to_state: str
    values: tuple[tuple[str, Any], ...]  # task columns set besides the version, sorted by name
    effective: date
    note: str | None  # the texts as typed (NFC), as the history row keeps them
    result: str | None
    evidence: str  # the history row's evidence list, serialised as its JSON column stores it
    documents: tuple[int, ...]  # register ids of the cited documents
    owner: str | None = None  # set by an assignment (history column)
    deadline: str | None = None  # set by a new deadline (history column)
    corrects_period: str | None = None  # a correction of a frozen period: which, and why
    correction_reason: str | None = None


class StaleVersion(Exception):
    """Some task of the batch is no longer at the version read: nothing of it may stand."""

    def __init__(self, task_ids: list[int]) -> None:
        super().__init__(f"{len(task_ids)} task(s) changed concurrently")
        self.task_ids = task_ids


#: Rows per SQLite `VALUES` list of the version bumps (x 7 columns: far below its 32,766
#: parameters; larger lists do not go faster).
_VALUES_ROWS = 500

_HISTORY_COLUMNS = ("task_id", "seq", "event", "from_state", "to_state", "actor", "role", "at",
                    "effective_on", "note", "result", "owner", "deadline", "evidence",
                    "version", "corrects_period", "correction_reason")
_LINK_COLUMNS = ("task_id", "document_id", "history_id")


@dataclass(frozen=True, slots=True)
class Event:
    """What every history row of a batch shares: the event, who, and when."""

    name: str
    actor: str
    role: str
    at: datetime


class TaskWriter:
    """Writes batches of `TaskWrite` (see the module); one per dialect, statements built once."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.pg = dialect.name == "postgresql"
        self.serialize = evidence_json(dialect)
        self.ids = IdList(dialect)
        self._updates: dict[tuple[str, ...], tuple[Rows, Any]] = {}
        self._known_links = select(_EVIDENCE.c.task_id, _EVIDENCE.c.document_id).where(
            self.ids.where(_EVIDENCE.c.task_id))
        if self.pg:
            h = _HISTORY
            self._pg_history = Rows(dialect, "hr", [
                ("task_id", Integer), ("seq", Integer), ("from_state", String),
                ("to_state", String), ("effective_on", Date), ("note", Text), ("result", Text),
                ("owner", String), ("deadline", String), ("evidence", Text),
                ("corrects_period", String), ("correction_reason", Text)])
            r = self._pg_history.table
            self._history = insert(h).from_select(list(_HISTORY_COLUMNS), select(
                r.c.task_id, r.c.seq, bindparam("event", type_=String), r.c.from_state,
                r.c.to_state, bindparam("actor", type_=String), bindparam("role", type_=String),
                bindparam("at", type_=h.c.at.type), r.c.effective_on, r.c.note, r.c.result,
                r.c.owner, r.c.deadline, sql_cast(r.c.evidence, JSON), r.c.seq,
                r.c.corrects_period, r.c.correction_reason,
            ).order_by(r.c.ord)).returning(h.c.task_id, h.c.id)
            self._pg_links = Rows(dialect, "ln", [(c, Integer) for c in _LINK_COLUMNS])
            lr = self._pg_links.table
            self._links = insert(_EVIDENCE).from_select(
                list(_LINK_COLUMNS), select(*[lr.c[c] for c in _LINK_COLUMNS]))
        else:
            self._history_sql = _positional_insert(dialect, _HISTORY, ["id", *_HISTORY_COLUMNS])
            self._links_sql = _positional_insert(dialect, _EVIDENCE, list(_LINK_COLUMNS))
            self._at = _bind(dialect, _HISTORY, "at")
            self._sqlite_updates: dict[tuple[tuple[str, ...], int], str] = {}
            self._task_binds: dict[str, Callable[[Any], Any] | None] = {}
            self._day = _bind(dialect, _HISTORY, "effective_on")

    def write(self, conn: Connection, event: Event, batch: Sequence[TaskWrite]
              ) -> tuple[dict[int, int], int]:
        """Bump, append, link; returns (task id -> its new history id, links written).
        Raises `StaleVersion` (the caller rolls back) when a version moved since it was read."""
        self._bump(conn, batch)
        history = self._append(conn, event, batch)
        return history, self._link(conn, batch, history)

    # -- the task rows

    def _update(self, columns: tuple[str, ...]) -> tuple[Rows, Any]:
        found = self._updates.get(columns)
        if found is None:
            t = _TASKS
            rows = Rows(self.dialect, "up", [("id", Integer), ("expected", Integer),
                                             *[(c, t.c[c].type) for c in columns]])
            r = rows.table
            stmt = (update(t).where(t.c.id == r.c.id, t.c.version == r.c.expected)
                    .values(version=r.c.expected + 1, **{c: r.c[c] for c in columns}))
            found = self._updates[columns] = (rows, stmt)
        return found

    def _bump(self, conn: Connection, batch: Sequence[TaskWrite]) -> None:
        by_columns: dict[tuple[str, ...], list[TaskWrite]] = {}
        for w in batch:
            by_columns.setdefault(tuple(c for c, _ in w.values), []).append(w)
        for columns, writes in by_columns.items():
            if self.pg:
                rows, stmt = self._update(columns)
                changed = conn.execute(stmt, rows.params([
                    (w.task_id, w.version, *[v for _, v in w.values]) for w in writes])).rowcount
            else:
                changed = self._bump_sqlite(conn, columns, writes)
            if changed != len(writes):
                ids = [w.task_id for w in writes]
                current = dict(conn.execute(select(_TASKS.c.id, _TASKS.c.version)
                                            .where(self.ids.where(_TASKS.c.id)),
                                            {"ids": self.ids.param(ids)}).all())
                raise StaleVersion([w.task_id for w in writes
                                    if current.get(w.task_id) != w.version + 1])

    def _bump_sqlite(self, conn: Connection, columns: tuple[str, ...],
                     writes: Sequence[TaskWrite]) -> int:
        """SQLite: one `UPDATE tasks … FROM (VALUES …)` per `_VALUES_ROWS` rows, the values
        bound as plain parameters (no JSON to encode and re-parse per column and row)."""
        procs = [self._task_bind(c) for c in columns]
        changed = 0
        for start in range(0, len(writes), _VALUES_ROWS):
            part = writes[start:start + _VALUES_ROWS]
            params: list[Any] = []
            for w in part:
                params += (w.task_id, w.version)
                params += [v if p is None or v is None else p(v)
                           for p, (_, v) in zip(procs, w.values, strict=True)]
            changed += conn.exec_driver_sql(self._sqlite_update(columns, len(part)),
                                            tuple(params)).rowcount
        return changed

    def _sqlite_update(self, columns: tuple[str, ...], rows: int) -> str:
        key = (columns, rows)
        found = self._sqlite_updates.get(key)
        if found is None:
            q = self.dialect.identifier_preparer.quote
            row = "(" + ", ".join(["?"] * (len(columns) + 2)) + ")"
            sets = "".join(f", {q(c)} = up.column{i + 3}" for i, c in enumerate(columns))
            found = self._sqlite_updates[key] = (
                f"UPDATE {q(_TASKS.name)} SET version = up.column2 + 1{sets} "
                f"FROM (VALUES {', '.join([row] * rows)}) AS up "
                f"WHERE {q(_TASKS.name)}.id = up.column1 AND {q(_TASKS.name)}.version = "
                "up.column2")
        return found

    def _task_bind(self, col: str) -> Callable[[Any], Any] | None:
        found = self._task_binds.get(col)
        if found is None and col not in self._task_binds:
            found = self._task_binds[col] = (
                _TASKS.c[col].type.dialect_impl(self.dialect).bind_processor(self.dialect))
        return found

    # -- history and links

    def _append(self, conn: Connection, event: Event, batch: Sequence[TaskWrite]
                ) -> dict[int, int]:
        if self.pg:
            return dict(conn.execute(self._history, {
                "event": event.name, "actor": event.actor, "role": event.role, "at": event.at,
                **self._pg_history.params([
                    (w.task_id, w.version + 1, w.from_state, w.to_state, w.effective, w.note,
                     w.result, w.owner, w.deadline, w.evidence, w.corrects_period,
                     w.correction_reason) for w in batch])}).all())
        first = conn.execute(select(func.coalesce(func.max(_HISTORY.c.id), 0))).scalar_one() + 1
        days: dict[date, Any] = {}
        day, at = self._day, self._at(event.at)
        conn.exec_driver_sql(self._history_sql, [
            (first + i, w.task_id, w.version + 1, event.name, w.from_state, w.to_state,
             event.actor, event.role, at,
             days[w.effective] if w.effective in days
             else days.setdefault(w.effective, day(w.effective)),
             w.note, w.result, w.owner, w.deadline, w.evidence, w.version + 1,
             w.corrects_period, w.correction_reason)
            for i, w in enumerate(batch)])
        return {w.task_id: first + i for i, w in enumerate(batch)}

    def _link(self, conn: Connection, batch: Sequence[TaskWrite], history: dict[int, int]
              ) -> int:
        """Links to the cited documents, except those the task has already (not repeated)."""
        cited = [w.task_id for w in batch if w.documents]
        if not cited:
            return 0
        known = {(t, d) for t, d in conn.execute(self._known_links,
                                                 {"ids": self.ids.param(cited)})}
        links = [(w.task_id, d, history[w.task_id]) for w in batch for d in w.documents
                 if (w.task_id, d) not in known]
        if links:
            if self.pg:
                conn.execute(self._links, self._pg_links.params(links))
            else:
                conn.exec_driver_sql(self._links_sql, links)
        return len(links)


def _positional_insert(dialect: Dialect, table: Table, columns: list[str]) -> str:
    compiled = insert(table).compile(dialect=dialect, column_keys=columns)
    assert compiled.positiontup == columns, compiled.positiontup
    return str(compiled)


def _bind(dialect: Dialect, table: Table, col: str) -> Callable[[Any], Any]:
    process = table.c[col].type.dialect_impl(dialect).bind_processor(dialect)
    return process or (lambda value: value)


_WRITERS: dict[int, TaskWriter] = {}


def writer_for(dialect: Dialect) -> TaskWriter:
    """The dialect's writer (its statements are built once per engine dialect)."""
    found = _WRITERS.get(id(dialect))
    if found is None or found.dialect is not dialect:
        found = _WRITERS[id(dialect)] = TaskWriter(dialect)
    return found


def evidence_json(dialect: Dialect) -> Callable[[Any], str]:
    """How the history's JSON column serialises its value on this dialect."""
    return cast(Callable[[Any], str], getattr(dialect, "_json_serializer", None) or json.dumps)


__all__ = ["Event", "IdList", "Rows", "StaleVersion", "TaskWrite", "TaskWriter", "evidence_json",
           "writer_for"]
