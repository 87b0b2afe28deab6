"""The garbage collector held back while a `cchc` command starts.

Why: starting a command creates some 130,000 objects (modules, classes, functions, the ORM
mappers, the pydantic schemas) that live as long as the process. With the collector's default
threshold (a young collection every 700 new objects) they are scanned again and again while
they are made — about 0.2 s of CPU of `cchc task list`, a fifth of the command (issue 13).
So the first collection waits for `START_OBJECTS` new objects, which a short command never
reaches; after that first collection the thresholds in force before are back, so a long
command (`serve`, `scheduler run`, `report run-all`, `demo`) collects as usual.

Imports nothing of the project: `cli.start` holds the collector back before `cli.main` loads,
and `cli.main.run` (an entry point installed before `cli.start` existed) holds it back too.
"""

from __future__ import annotations

import gc
from typing import Any

# More than any short command creates (`task list` ~200,000 objects in all, ~70,000 of them
# Typer's and SQLAlchemy's), few enough that a long command's first collection stays short.
START_OBJECTS = 400_000

_held = False


def hold_collector(objects: int = START_OBJECTS) -> None:
    """Make the next young collection wait for `objects` new objects; the thresholds in force
    come back as soon as that collection has run. Nothing to do while already held."""
    global _held
    if _held:
        return
    _held = True
    thresholds = gc.get_threshold()

    def restore(phase: str, _info: dict[str, Any]) -> None:
        global _held
        if phase == "stop" and _held:
            _held = False
            gc.set_threshold(*thresholds)

    gc.callbacks.append(restore)
    gc.set_threshold(objects, *thresholds[1:])


__all__ = ["START_OBJECTS", "hold_collector"]
