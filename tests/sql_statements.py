"""What a block of code sends to the database, for tests that bound or count statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from engine.runtime import Runtime


@contextmanager
def statements(rt: Runtime) -> Iterator[list[str]]:
    """The statements sent to `rt`'s database inside the block."""
    sent: list[str] = []

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", on_statement)
    try:
        yield sent
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", on_statement)
