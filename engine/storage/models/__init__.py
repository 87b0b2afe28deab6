"""SQLAlchemy 2 tables. The database is the single source of truth for task state.

Why these shapes: plan *definitions* (text, hierarchy) are stored once per plan, and each unit
gets narrow task rows (state, owner, deadline, version) so 3,321 units x 124 tasks stay small;
history is append-only (triggers in the migration refuse UPDATE/DELETE) and carries enough to
rebuild any task's state as of any date.

One module per role (`plans`, `tasks`, `reports`, `reminders`, `web`; `base` holds the
declarative base). A table is mapped the first time its class is asked for here
(`engine.public_api`), so a command maps only the tables it uses (see `base`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from engine import public_api

if TYPE_CHECKING:
    from engine.storage.models.base import NAMING, Base
    from engine.storage.models.plans import (
        Plan,
        PlanRevision,
        PlanSection,
        PlanTask,
        Unit,
        UnitPlan,
    )
    from engine.storage.models.reminders import (
        InstallationValue,
        Obligation,
        ObligationDue,
        ObligationHistory,
        OutboxMessage,
        Person,
        SweepRun,
        ZaloToken,
    )
    from engine.storage.models.reports import PeriodStatistics, Snapshot, StatisticsSnapshot
    from engine.storage.models.tasks import (
        Attachment,
        Document,
        Task,
        TaskEvidence,
        TaskHistory,
    )
    from engine.storage.models.web import (
        ApiToken,
        Comment,
        LoginAttempt,
        StagedUpload,
        TaskSeen,
        User,
        WebSession,
    )
else:  # mypy sees the names above only, so a misspelt name stays an error
    __getattr__, __dir__ = public_api(__name__, __file__)

#: The modules of the tables (each imports those its foreign keys refer to).
MODULES = ("plans", "tasks", "reports", "reminders", "web")


def load_all() -> type[Base]:
    """Every table mapped (for whatever needs the whole schema: Alembic's `target_metadata`);
    the declarative base, whose `metadata` now holds them all."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    from engine.storage.models.base import Base

    return Base


__all__ = [
    "MODULES",
    "NAMING",
    "ApiToken",
    "Attachment",
    "Base",
    "Comment",
    "Document",
    "InstallationValue",
    "LoginAttempt",
    "Obligation",
    "ObligationDue",
    "ObligationHistory",
    "OutboxMessage",
    "PeriodStatistics",
    "Person",
    "Plan",
    "PlanRevision",
    "PlanSection",
    "PlanTask",
    "Snapshot",
    "StagedUpload",
    "StatisticsSnapshot",
    "SweepRun",
    "Task",
    "TaskEvidence",
    "TaskHistory",
    "TaskSeen",
    "Unit",
    "UnitPlan",
    "User",
    "WebSession",
    "ZaloToken",
    "load_all",
]
