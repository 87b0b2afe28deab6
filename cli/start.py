"""The `cchc` entry point: the garbage collector held back (`cli.collector`) before the
command line loads, then `cli.main.run`, which freezes the collector at exit (no final scan of
what is about to be thrown away).

This module imports nothing of the project but `cli.collector` at top level: the collector
must be held back before `cli.main` and its imports load.
"""

from __future__ import annotations

from cli.collector import hold_collector


def run() -> None:
    """`cchc`: hold the collector back, then load and run the command line."""
    hold_collector()
    from cli.main import run as run_command  # lazy: after the collector is held back

    run_command()


__all__ = ["run"]
