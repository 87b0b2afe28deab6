"""Several reads of one web request sent as ONE statement, each read's rows kept for it.

Why: on PostgreSQL every statement of a request costs the web worker about 0.1 ms of CPU and
the database about as much, whatever it reads; a task page's history, files, evidence
documents, comments and "version last seen" are five small reads of the same task. A page
that knows it will need them asks `read_together` first: the reads go as one `UNION ALL`,
and each read's rows are kept in the request's scope memo (`scope_memo`) under the key
`scoped_rows` looks them up with. The functions that read them are unchanged: each still
calls `scoped_rows(session, ITS_STATEMENT, its_params)`, which finds its rows already read
(or, outside a web request, or when nobody read ahead, simply runs its statement).

How the statement is built (`together_statement`): each branch is a read's statement with its
columns moved into place (same tables, joins and conditions), after its read's number and,
for a read with an ORDER BY, `row_number() OVER (<its ORDER BY>)`. Columns of one kind
(text, integer, date, ... see `_kind`) share slots across the reads, so a row is as wide as
the widest read per kind, not the sum of all. A branch fills the slots it does not use with
NULL, typed in the first branch (`CAST(NULL AS <the slot's type>)`), which types the whole:
PostgreSQL unites the branches with its types, and SQLAlchemy converts each slot as the
reads' own column, SQLite's dates included. Each read's rows are then put back in its own
order by their row number (a read without ORDER BY has no order to keep). No ORDER BY over
the whole: sorting rows this wide cost PostgreSQL more than sorting each read's few rows in
Python. The reads' bound parameters are merged by name: two reads may share a name only for
the same value (`task` is the same task id in all of a task page's).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    TEXT,
    VARCHAR,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    Text,
    cast,
    func,
    literal_column,
    null,
    union_all,
)
from sqlalchemy.orm import Session

from engine.storage.rows import plain_rows

Params = Mapping[str, Any]
AnySelect = Select[*tuple[Any, ...]]
#: One read: a Core select of plain columns and its bound parameters.
Read = tuple[AnySelect, Params]


def _memo_key(stmt: AnySelect, params: Params) -> tuple[object, ...]:
    return ("rows", stmt, tuple(sorted(params.items())))


def _memo(session: Session) -> dict[object, object] | None:
    """The scope's memo, or None: not a web request's scope, or inside a write (its reads see
    what it changes)."""
    cache: dict[object, object] | None = session.info.get("cache")
    return None if cache is None or session.info.get("writing") else cache


def scoped_rows(session: Session, stmt: AnySelect,
                params: Params) -> Sequence[Sequence[Any]]:
    """`plain_rows(stmt, params)`, once per web request: read ahead by `read_together`, or
    run now and kept for the rest of the request (until a write ends)."""
    cache = _memo(session)
    if cache is None:
        return plain_rows(session.connection(), stmt, params)
    key = _memo_key(stmt, params)
    found = cache.get(key)
    if found is None:
        found = cache[key] = plain_rows(session.connection(), stmt, params)
    rows: Sequence[Sequence[Any]] = found  # type: ignore[assignment]
    return rows


def read_together(session: Session, reads: Sequence[Read]) -> None:
    """Run `reads` not read yet in this request as one statement and keep each one's rows for
    `scoped_rows`. Outside a web request's scope it does nothing: each read runs when its
    function asks."""
    cache = _memo(session)
    if cache is None:
        return
    todo = [(stmt, params) for stmt, params in reads if _memo_key(stmt, params) not in cache]
    if len(todo) < 2:
        return  # one read is its own statement when asked
    merged: dict[str, Any] = {}
    for _stmt, params in todo:
        for name, value in params.items():
            if name in merged and merged[name] != value:
                raise ValueError(f"reads read together disagree on parameter '{name}'")
            merged[name] = value
    statements = tuple(stmt for stmt, _params in todo)
    layout = _layout(statements)
    parts: list[list[Sequence[Any]]] = [[] for _ in todo]
    for row in plain_rows(session.connection(), layout.statement, merged):
        parts[row[0]].append(row)
    for (stmt, params), slots, ordered, rows in zip(todo, layout.slots, layout.ordered, parts,
                                                    strict=True):
        if ordered:
            rows.sort(key=itemgetter(1))
        if len(slots) == 1:
            k = slots[0]
            cache[_memo_key(stmt, params)] = [(r[k],) for r in rows]
        else:
            cache[_memo_key(stmt, params)] = list(map(itemgetter(*slots), rows))


@dataclass(frozen=True)
class _Layout:
    statement: CompoundSelect[*tuple[Any, ...]]
    slots: list[list[int]]  # per read: the row position of each of its columns
    ordered: list[bool]  # per read: it has an ORDER BY (its rows carry their row number)


def _kind(column: ColumnElement[Any]) -> tuple[object, ...]:
    """Columns of the same kind can share a slot: the same type class (and time zone
    setting), strings of any length and text as one. A type with a conversion of its own (a
    `TypeDecorator`) shares only with its own class."""
    t = column.type
    if isinstance(t, String) and type(t) in (String, Text, VARCHAR, TEXT):
        return ("text",)
    return (type(t), getattr(t, "timezone", None))


def together_statement(statements: tuple[AnySelect, ...]) -> CompoundSelect[*tuple[Any, ...]]:
    """`statements` as one `UNION ALL` (see the module): rows of (read number, row number
    within the read or 0, the slots). Built once per tuple of reads."""
    return _layout(statements).statement


@functools.cache
def _layout(statements: tuple[AnySelect, ...]) -> _Layout:
    slot_types: list[ColumnElement[Any]] = []  # a column of each slot's kind
    slots: list[list[int]] = []
    for stmt in statements:
        taken: set[int] = set()
        mine = []
        for column in stmt.selected_columns:
            kind = _kind(column)
            k = next((k for k, c in enumerate(slot_types)
                      if k not in taken and _kind(c) == kind), None)
            if k is None:
                k = len(slot_types)
                slot_types.append(column)
            taken.add(k)
            mine.append(k)
        slots.append(mine)
    ordered = [bool(stmt._order_by_clauses) for stmt in statements]
    branches = []
    for i, stmt in enumerate(statements):
        # typed in the first branch only: it types the whole (PostgreSQL unites branches
        # pairwise from the left, an untyped NULL taking the type so far; SQLAlchemy reads
        # the columns' types from the first)
        columns: list[ColumnElement[Any]] = (
            [cast(null(), c.type) for c in slot_types] if i == 0 else
            [null()] * len(slot_types))
        for column, k in zip(stmt.selected_columns, slots[i], strict=True):
            columns[k] = column
        number = (func.row_number().over(order_by=list(stmt._order_by_clauses)) if ordered[i]
                  else literal_column("0", Integer))
        branches.append(stmt.order_by(None).with_only_columns(
            literal_column(str(i), Integer).label("part"), number.label("n"), *columns))
    return _Layout(union_all(*branches), [[2 + k for k in mine] for mine in slots], ordered)


__all__ = ["Read", "read_together", "scoped_rows", "together_statement"]
