"""Who makes a change: the name written in the history and the role the rules check.

Why here: the access policy (engine.directory.access) turns a web user into an actor and the
task workflow (engine.domain.tasks) records one; it belongs to the directory, below both.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    name: str
    role: str = "officer"


__all__ = ["Actor"]
