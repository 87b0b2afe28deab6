"""The `cchc` entry point: the garbage collector held back while the command starts.

Why: starting a command creates some 130,000 objects (modules, classes, functions, the ORM
mappers, the pydantic schemas) that live as long as the process. With the collector's default
threshold (a young collection every 700 new objects) they are scanned again and again while
they are made — about 0.2 s of CPU of `cchc task list`, a fifth of the command (issue 13).
So the first collection waits for `START_OBJECTS` new objects, which a short command never
reaches; after that first collection the default thresholds are back, so a long command
(`serve`, `scheduler run`, `report run-all`, `demo`) collects as usual. `cli.main.run`
freezes the collector at exit (no final scan of what is about to be thrown away).

This module imports nothing of the project at top level: the collector must be held back
before `cli.main` and its imports load.
"""

from __future__ import annotations

import gc
from typing import Any

# More than any short command creates (`task list` ~200,000 objects in all, ~70,000 of them
# Typer's and SQLAlchemy's), few enough that a long command's first collection stays short.
START_OBJECTS = 400_000


def hold_collector(objects: int = START_OBJECTS) -> None:
    """Make the next young collection wait for `objects` new objects; the thresholds in force
    come back as soon as that collection has run."""
    thresholds = gc.get_threshold()
    restored = False

    def restore(phase: str, _info: dict[str, Any]) -> None:
        nonlocal restored
        if phase == "stop" and not restored:
            restored = True
            gc.set_threshold(*thresholds)

    gc.callbacks.append(restore)
    gc.set_threshold(objects, *thresholds[1:])


def run() -> None:
    """`cchc`: hold the collector back, then load and run the command line."""
    hold_collector()
    from cli.main import run as run_command  # lazy: after the collector is held back

    run_command()


__all__ = ["START_OBJECTS", "hold_collector", "run"]
