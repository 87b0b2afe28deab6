"""Workflow and reminder-rule definitions as data files, with their schema.

`load_workflow("task")` reads `workflows/task.yaml`; a malformed file is refused with the
file, the place and the reason, like the plan files.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from plans.loader import load_model
from workflows.schema import GUARDS, Role, StateDef, TransitionDef, WorkflowDef

WORKFLOW_DIR = Path(__file__).parent


@cache
def load_workflow(name: str = "task", directory: Path = WORKFLOW_DIR) -> WorkflowDef:
    return load_model(WorkflowDef, directory / f"{name}.yaml")


__all__ = [
    "GUARDS",
    "WORKFLOW_DIR",
    "Role",
    "StateDef",
    "TransitionDef",
    "WorkflowDef",
    "load_workflow",
]
