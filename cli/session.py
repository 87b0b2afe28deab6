"""The runtime every command works in: the database (`--db`) and the clock (`--at`).

Why a module of its own: the command modules (main, reminders, outbox, stats, zalo) all open
their runtime the same way; `cli.main` imports them to build the `cchc` command, so the shared
opener lives below all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from cli.lazy import lazy
from cli.output import fail
from engine.clock import VN_TZ, Clock, fixed_clock
from engine.errors import CchcError
from plans.errors import DataFileError

if TYPE_CHECKING:
    from engine import runtime
    from engine.runtime import Runtime
else:
    runtime = lazy("engine.runtime")


def clock_at(at: str | None) -> Clock | None:
    """The fixed clock of `--at` (Vietnam time unless an offset is given); None: real time."""
    if not at:
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise CchcError(f"Thời điểm '{at}' phải có dạng YYYY-MM-DDTHH:MM",
                        "--at must be YYYY-MM-DDTHH:MM", field="at") from None
    # A time without an offset is Vietnam time; one with an offset is converted to it.
    return fixed_clock(when.astimezone(VN_TZ) if when.tzinfo else when.replace(tzinfo=VN_TZ))


@contextmanager
def session(as_json: bool, db: str | None = None, at: str | None = None) -> Iterator[Runtime]:
    """The runtime of one command; a refusal is printed (Vietnamese or JSON) and exits 1."""
    try:
        rt = runtime.open_runtime(db, clock=clock_at(at), calendar_on_use=True)
        try:
            yield rt
        finally:
            rt.db.dispose()
    except (CchcError, DataFileError) as exc:
        fail(exc, as_json)


__all__ = ["clock_at", "session"]
