"""The engine: the rules and the database, in role folders (docs/architecture.md).

Each role folder (`domain`, `directory`, `reporting`, `reminders`, `storage`) states its public
API in its `__init__`: the names listed under `if TYPE_CHECKING:` and in `__all__`. The CLI and
the web app import only those (an import-linter contract in pyproject.toml). The names are
loaded on first use (`public_api`), so `from engine import reporting` costs nothing and
`cchc --help` loads neither the report writers nor the web accounts.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path


def _public_names(init_file: Path) -> dict[str, tuple[str, str]]:
    """Public name → (module, name there), read from the `if TYPE_CHECKING:` imports of a role
    folder's `__init__` (one list, the one mypy checks)."""
    names: dict[str, tuple[str, str]] = {}
    for node in ast.parse(init_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                if isinstance(imp, ast.ImportFrom) and imp.module and imp.level == 0:
                    for alias in imp.names:
                        names[alias.asname or alias.name] = (imp.module, alias.name)
    return names


def public_api(package: str, init_file: str) -> tuple[Callable[[str], object],
                                                       Callable[[], list[str]]]:
    """PEP 562 `__getattr__` and `__dir__` for a role folder's `__init__`.

    Why: a role folder's public API spans modules that pull in openpyxl, python-docx, the
    mail and Zalo clients; importing them all with the package would undo the CLI's start
    time (issue 13). A public name is imported from its module the first time it is used and
    then kept in the package, so later uses cost a dict lookup.
    """
    namespace = sys.modules[package].__dict__
    origins: dict[str, tuple[str, str]] = {}

    def __getattr__(name: str) -> object:
        if not origins:
            origins.update(_public_names(Path(init_file)))
        try:
            module, attr = origins[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attr)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__


__all__ = ["public_api"]
