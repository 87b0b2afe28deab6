"""Who makes a change: the name written in the history and the role the rules check.

Why here: the access policy (engine.directory.access) turns a web user into an actor and the
task workflow (engine.domain.tasks) records one; it belongs to the directory, below both.
The roles and their Vietnamese names live here too: `cchc task done --role "lãnh đạo"` reads
a role without loading the accounts (argon2) or the access policy (CLI start time, issue 13).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES: tuple[str, ...] = ("officer", "leader", "reviewer", "admin")
#: The roles of a commune's own staff: they work in their own commune and read only it.
COMMUNE_ROLES: frozenset[str] = frozenset({"officer", "leader"})
ROLE_LABELS: dict[str, str] = {
    "officer": "Cán bộ, công chức",
    "leader": "Lãnh đạo UBND",
    "reviewer": "Thẩm định",
    "admin": "Quản trị hệ thống",
}


@dataclass(frozen=True)
class Actor:
    name: str
    role: str = "officer"


__all__ = ["COMMUNE_ROLES", "ROLES", "ROLE_LABELS", "Actor"]
