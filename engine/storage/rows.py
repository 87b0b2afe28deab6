"""Plain rows: a Core select's rows as the driver returns them, and, where nothing needs
SQLAlchemy between the two, straight from the driver's cursor.

Why: SQLAlchemy wraps each fetched row in a `Row` (with its key map), which costs more than
the driver's own fetch — twice the time for the reminder planner's 70,000-row due-date window
on PostgreSQL. When no column needs SQLAlchemy's conversion (psycopg returns integers, text,
dates, booleans and JSON itself), the driver's tuples are the same values: take them directly.
Otherwise (SQLite's dates are text that SQLAlchemy parses) the rows are converted as usual.

And per statement: a web page sends a dozen small ones, and SQLAlchemy's execution around
each (an execution context, the result's metadata from the cursor description, the result
object) cost as much CPU as the driver and the database together. A statement whose first
run showed it needs nothing of that — no result conversion, no bound-value conversion, a
driver taking named parameters (psycopg; not SQLite) — runs from then on as the SQL text
SQLAlchemy compiled for it (with the statement's default values; an expanding IN list
rendered by `construct_expanded_state`, as SQLAlchemy would) on the connection's own
cursor, inside the connection's transaction. Whenever anything listens to the connection's
events (the tests counting statements, `echo`), every statement takes SQLAlchemy's path, so
what is observed is what runs.
"""

from __future__ import annotations

import functools
import re
import sys
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Executable
from sqlalchemy.engine import Compiled
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

#: Per statement and dialect, what its first run showed: the compiled form to run directly,
#: or None (SQLAlchemy's path). Weak keys: a statement built per call is forgotten with it.
_DIRECT: weakref.WeakKeyDictionary[Executable, dict[str, SQLCompiler | None]] = \
    weakref.WeakKeyDictionary()


def plain_rows(conn: Connection, stmt: Executable,
               params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]:
    """The rows of `stmt` (with its bound `params`), each a tuple of the columns' Python values
    (a `Row` when a column needs converting: same values, same unpacking)."""
    dialect = conn.dialect.name
    known = _DIRECT.get(stmt)
    compiled = known.get(dialect) if known is not None else None
    if compiled is not None and not _observed(conn):
        return _run_direct(conn, compiled, params)
    result = conn.execute(stmt, params)
    # SQLAlchemy's per-column result converters; if the attribute is not found (another
    # SQLAlchemy version), take the converting path: slower, never wrong.
    processors = getattr(result._metadata, "_processors", None)
    plain = isinstance(processors, list) and not any(processors)
    if known is None or dialect not in known:
        _DIRECT.setdefault(stmt, {})[dialect] = \
            _direct_form(conn, result.context.compiled) if plain else None
    if plain:
        rows: list[tuple[Any, ...]] = result._fetchall_impl()  # closes the cursor
        return rows
    return result.all()


def plain_row(conn: Connection, stmt: Executable,
              params: Mapping[str, Any] | None = None) -> Sequence[Any] | None:
    """The one row of `stmt` (`plain_rows`), or None when it has none."""
    rows = plain_rows(conn, stmt, params)
    if len(rows) > 1:
        raise AssertionError(f"one row expected, {len(rows)} found")
    return rows[0] if rows else None


def _direct_form(conn: Connection, compiled: Compiled | None) -> SQLCompiler | None:
    """`compiled` if its statement can run without SQLAlchemy (see the module docstring)."""
    if not isinstance(compiled, SQLCompiler) or conn.dialect.positional:
        return None
    # bound values SQLAlchemy converts before the driver sees them (none for psycopg's types
    # we use); unknown attribute (another SQLAlchemy version): keep SQLAlchemy's path
    if getattr(compiled, "_bind_processors", None) != {}:
        return None
    return compiled


def _observed(conn: Connection) -> bool:
    """Whether anything listens to this connection's statements (events or echo)."""
    return bool(getattr(conn, "_has_events", True) or getattr(conn.engine, "_has_events", True)
                or getattr(conn, "_echo", True))


def _run_direct(conn: Connection, compiled: SQLCompiler,
                params: Mapping[str, Any] | None) -> list[tuple[Any, ...]]:
    if compiled.post_compile_params or compiled.literal_execute_params:
        expanded = compiled.construct_expanded_state(dict(params or {}))
        statement, parameters = expanded.statement, expanded.parameters
    else:  # the SQL text as compiled, its values by name (with the statement's own defaults)
        statement, parameters = compiled.string, compiled.construct_params(params)
    if not conn.in_transaction():
        conn.begin()  # as `conn.execute` would (autobegin): the caller's commit ends it
    dbapi_conn = conn.connection.dbapi_connection
    assert dbapi_conn is not None
    psycopg = sys.modules.get("psycopg")  # loaded with a PostgreSQL connection, not before
    if psycopg is not None and isinstance(dbapi_conn, psycopg.Connection):
        # the text in PostgreSQL's own `$1` form, converted once per text (see `_numbered`)
        statement, names = _numbered(statement)
        cursor = psycopg.RawCursor(dbapi_conn)
        values: Sequence[Any] | Mapping[str, Any] = [parameters[name] for name in names]
    else:
        cursor, values = dbapi_conn.cursor(), parameters
    try:
        cursor.execute(statement, values)
        rows = cast(list[tuple[Any, ...]], cursor.fetchall())
    except conn.dialect.loaded_dbapi.Error as exc:
        invalid = conn.dialect.is_disconnect(exc, dbapi_conn, cursor)
        if invalid:
            conn.invalidate(exc)
        raise DBAPIError.instance(statement, parameters, exc,
                                  conn.dialect.loaded_dbapi.Error,
                                  connection_invalidated=invalid,
                                  dialect=conn.dialect) from exc
    finally:
        cursor.close()
    return rows


_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%")


@functools.lru_cache(maxsize=512)
def _numbered(statement: str) -> tuple[str, tuple[str, ...]]:
    """SQLAlchemy's text for psycopg (`%(name)s` placeholders, `%%` for a percent sign) in
    PostgreSQL's own form (`$1`, `$2`, … and `%`) with the parameter names in their order.

    Why: psycopg converts a text with named placeholders at every run, and keeps the result
    only for texts of up to 4,096 characters; a page's reads sent together
    (`engine.storage.together`) are longer, and converting one took ~3 % of the task page's
    instructions. Converted here once per text, it runs on a `RawCursor`, which takes the
    `$n` form as it is."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return f"${names.setdefault(name, len(names) + 1)}"

    return _PLACEHOLDER.sub(number, statement), tuple(names)


__all__ = ["plain_row", "plain_rows"]
