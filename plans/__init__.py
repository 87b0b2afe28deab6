"""The year's plans as data files, their schema and their loader.

Plan files live in `plans/data/<bundle>/`; a non-programmer at the Phòng Nội vụ can edit them,
and `load_plan` refuses a malformed one with the file, the place and the reason.

The names below load on first use (PEP 562 `__getattr__`): every `cchc` command imports
`plans.errors`, which runs this package first, and most commands need neither the plan
schemas nor the loader (start time, issue 13). mypy sees the imports under `TYPE_CHECKING`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plans.deadlines import Deadline, DeadlineError, parse_deadline
    from plans.errors import DataFileError, FileProblem
    from plans.loader import content_hash, load_model, parse_model, read_text
    from plans.schema import (
        AppendixSpec,
        ObligationsFile,
        ObligationSpec,
        PlanSpec,
        ReplayEntry,
        ReplayFile,
        SectionSpec,
        TaskSpec,
        UnitsFile,
        UnitSpec,
    )

DATA_DIR = Path(__file__).parent / "data"
DEMO_BUNDLE = DATA_DIR / "vinh-thanh-2023"

_MODULE_OF = {
    **dict.fromkeys(("Deadline", "DeadlineError", "parse_deadline"), "plans.deadlines"),
    **dict.fromkeys(("DataFileError", "FileProblem"), "plans.errors"),
    **dict.fromkeys(("content_hash", "load_model", "parse_model", "read_text"), "plans.loader"),
    **dict.fromkeys(("AppendixSpec", "ObligationsFile", "ObligationSpec", "PlanSpec",
                     "ReplayEntry", "ReplayFile", "SectionSpec", "TaskSpec", "UnitsFile",
                     "UnitSpec"), "plans.schema"),
}


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'plans' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def load_plan(path: Path) -> PlanSpec:
    from plans.loader import load_model  # lazy: see the module's docstring
    from plans.schema import PlanSpec  # lazy: see the module's docstring

    return load_model(PlanSpec, path)


__all__ = [
    "DATA_DIR",
    "DEMO_BUNDLE",
    "AppendixSpec",
    "DataFileError",
    "Deadline",
    "DeadlineError",
    "FileProblem",
    "ObligationSpec",
    "ObligationsFile",
    "PlanSpec",
    "ReplayEntry",
    "ReplayFile",
    "SectionSpec",
    "TaskSpec",
    "UnitSpec",
    "UnitsFile",
    "content_hash",
    "load_model",
    "load_plan",
    "parse_deadline",
    "parse_model",
    "read_text",
]
