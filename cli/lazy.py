"""Modules loaded on first use, so `cchc --help` and the everyday commands start fast.

Why: importing every engine module a command *might* need (the report writers with openpyxl
and python-docx, the reminder dispatch with its e-mail and Zalo clients, the web accounts)
cost most of a second on every `cchc` call. A module bound with `lazy` is imported the
first time one of its attributes is used (`importlib.util.LazyLoader`); type checkers see the
ordinary import under `TYPE_CHECKING`.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy(name: str) -> ModuleType:
    """The module `name`, executed on first attribute access (at once if already loaded)."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


__all__ = ["lazy"]
