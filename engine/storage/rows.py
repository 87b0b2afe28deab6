"""Plain rows in bulk: a Core select's rows as the driver returns them.

Why: SQLAlchemy wraps each fetched row in a `Row` (with its key map), which costs more than
the driver's own fetch — twice the time for the reminder planner's 70,000-row due-date window
on PostgreSQL. When no column needs SQLAlchemy's conversion (psycopg returns integers, text,
dates and booleans itself), the driver's tuples are the same values: take them directly.
Otherwise (SQLite's dates are text that SQLAlchemy parses) the rows are converted as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Executable


def plain_rows(conn: Connection, stmt: Executable,
               params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]:
    """The rows of `stmt` (with its bound `params`), each a tuple of the columns' Python values
    (a `Row` when a column needs converting: same values, same unpacking)."""
    result = conn.execute(stmt, params)
    # SQLAlchemy's per-column result converters; if the attribute is not found (another
    # SQLAlchemy version), take the converting path: slower, never wrong.
    processors = getattr(result._metadata, "_processors", None)
    if isinstance(processors, list) and not any(processors):
        rows: list[tuple[Any, ...]] = result._fetchall_impl()  # closes the cursor
        return rows
    return result.all()


__all__ = ["plain_rows"]
