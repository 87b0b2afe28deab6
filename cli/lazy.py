"""Modules loaded on first use, so `cchc --help` and the everyday commands start fast.

Why: importing every engine module a command *might* need (the report writers with openpyxl
and python-docx, the reminder dispatch with its e-mail and Zalo clients, the web accounts)
cost most of a second on every `cchc` call. A module bound with `lazy` is imported the
first time one of its attributes is used (`importlib.util.LazyLoader`); type checkers see the
ordinary import under `TYPE_CHECKING`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType


class _ThenLoader(importlib.abc.Loader):
    """A loader that runs `then(module)` right after the module's own code."""

    def __init__(self, loader: importlib.abc.Loader, then: Callable[[ModuleType], None]) -> None:
        self.loader = loader
        self.then = then

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.then(module)


def lazy(name: str, then: Callable[[ModuleType], None] | None = None) -> ModuleType:
    """The module `name`, executed on first attribute access (at once if already loaded);
    `then(module)` runs right after it is executed (to adjust a library's module, e.g. put
    its texts into Vietnamese, without loading it before it is used)."""
    found = sys.modules.get(name)
    if found is not None:
        if then is not None:
            then(found)
        return found
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(
        spec.loader if then is None else _ThenLoader(spec.loader, then))
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:  # as the import system does: the package names its module
        setattr(sys.modules[parent], child, module)
    return module


__all__ = ["lazy"]
