"""Several reads of one web request sent as ONE statement, each read's rows kept for it.

Why: on PostgreSQL every statement of a request costs the web worker about 0.1 ms of CPU and
the database about as much, whatever it reads; a task page's history, files, evidence
documents, comments and "version last seen" are five small reads of the same task. A page
that knows it will need them asks `read_together` first: the reads go as one `UNION ALL`,
and each read's rows are kept in the request's scope memo (`scope_memo`) under the key
`scoped_rows` looks them up with. The functions that read them are unchanged: each still
calls `scoped_rows(session, ITS_STATEMENT, its_params)`, which finds its rows already read
(or, outside a web request, or when nobody read ahead, simply runs its statement).

How the statement is built (`together_statement`): read i's columns go in a slot of their
own, the other reads' slots are `CAST(NULL AS <type>)` (typed, so PostgreSQL unites the
branches and SQLAlchemy converts the slot as the read's column, SQLite's dates included);
each branch also carries its read's number and `row_number() OVER (<its ORDER BY>)`, and the
whole is ordered by those two, so each read's rows come back in the order its own statement
gives them. Same tables, joins and conditions: each branch is its read's statement with its
columns moved into place. The reads' bound parameters are merged by name: two reads may
share a name only for the same value (`task` is the same task id in all of a task page's).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
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
    parts: list[list[Sequence[Any]]] = [[] for _ in todo]
    for row in plain_rows(session.connection(), together_statement(statements), merged):
        parts[row[0]].append(row)
    for (stmt, params), (start, width), rows in zip(todo, _slots(statements), parts,
                                                     strict=True):
        cache[_memo_key(stmt, params)] = [tuple(r[start:start + width]) for r in rows]


def _slots(statements: Sequence[AnySelect]) -> list[tuple[int, int]]:
    """Where each read's columns are in a row of `together_statement`: (start, width)."""
    out, start = [], 2  # after the read's number and its row number
    for stmt in statements:
        width = len(stmt.selected_columns)
        out.append((start, width))
        start += width
    return out


@functools.cache
def together_statement(statements: tuple[AnySelect, ...]) -> CompoundSelect[*tuple[Any, ...]]:
    """`statements` as one `UNION ALL` (see the module): rows of (read number, row number
    within the read, every read's columns side by side). Built once per tuple of reads."""
    typed_nulls = [[cast(null(), c.type) for c in stmt.selected_columns] for stmt in statements]
    branches = []
    for i, stmt in enumerate(statements):
        columns: list[ColumnElement[Any]] = [
            literal_column(str(i), Integer).label("part"),
            func.row_number().over(order_by=list(stmt._order_by_clauses)).label("n"),
        ]
        for j, nulls in enumerate(typed_nulls):
            columns += list(stmt.selected_columns) if j == i else nulls
        branches.append(stmt.order_by(None).with_only_columns(*columns))
    together = union_all(*branches)
    return together.order_by(together.selected_columns.part, together.selected_columns.n)


__all__ = ["Read", "read_together", "scoped_rows", "together_statement"]
