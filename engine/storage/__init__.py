"""The database: SQLAlchemy tables, the connection, migrations, optimistic versioning.

Imports no other engine role. Public API: the names below (loaded on first use, see
`engine.public_api`), for the engine's other roles; the CLI and the web app never reach the
database but through the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import public_api

if TYPE_CHECKING:
    from engine.storage.database import (
        Database,
        ScopedDatabase,
        head_revision,
        normalise_url,
        scope_memo,
    )
    from engine.storage.models import (
        ApiToken,
        Attachment,
        Base,
        Comment,
        Document,
        InstallationValue,
        LoginAttempt,
        Obligation,
        ObligationDue,
        ObligationHistory,
        OutboxMessage,
        PeriodStatistics,
        Person,
        Plan,
        PlanRevision,
        PlanSection,
        PlanTask,
        Snapshot,
        StagedUpload,
        StatisticsSnapshot,
        SweepRun,
        Task,
        TaskEvidence,
        TaskHistory,
        TaskSeen,
        Unit,
        UnitPlan,
        User,
        WebSession,
        ZaloToken,
    )
    from engine.storage.versioning import compare_and_set
else:  # mypy sees the names above only, so a misspelt name stays an error
    __getattr__, __dir__ = public_api(__name__, __file__)

__all__ = [
    "ApiToken",
    "Attachment",
    "Base",
    "Comment",
    "Database",
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
    "ScopedDatabase",
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
    "compare_and_set",
    "head_revision",
    "normalise_url",
    "scope_memo",
]
