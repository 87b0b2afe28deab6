"""The year's plans as data files, their schema and their loader.

Plan files live in `plans/data/<bundle>/`; a non-programmer at the Phòng Nội vụ can edit them,
and `load_plan` refuses a malformed one with the file, the place and the reason.
"""

from __future__ import annotations

from pathlib import Path

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


def load_plan(path: Path) -> PlanSpec:
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
