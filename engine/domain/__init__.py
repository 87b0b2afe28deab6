"""Plans in the database and what happens to their tasks: loading, workflow, evidence, dates.

Public API: the names below (loaded on first use, see `engine.public_api`). The CLI and the
web app import these and nothing else of this folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import public_api

if TYPE_CHECKING:
    from engine.domain.attachments import (
        AttachmentView,
        NewAttachment,
        check_pdf,
        get_attachment,
        list_attachments,
        task_documents,
    )
    from engine.domain.choices import resolve_choice
    from engine.domain.comments import add_comment, list_comments
    from engine.domain.free_text import max_text_chars
    from engine.domain.frozen_periods import CORRECTING_ROLES
    from engine.domain.periods import parse_period, quarters_of
    from engine.domain.rollover import roll_over
    from engine.domain.seen import flagged as flagged_tasks
    from engine.domain.seen import mark_seen
    from engine.domain.staged_uploads import discard as discard_staged_upload
    from engine.domain.staged_uploads import load as load_staged_upload
    from engine.domain.staged_uploads import peek as peek_staged_upload
    from engine.domain.staged_uploads import stage as stage_upload
    from engine.domain.tasks import (
        Actor,
        ChangeResult,
        TaskKey,
        TaskView,
        check_command,
        list_tasks,
    )
    from engine.domain.timeliness import TIMELINESS_LABELS_VI, Timeliness
else:  # mypy sees the names above only, so a misspelt name stays an error
    __getattr__, __dir__ = public_api(__name__, __file__)

__all__ = [
    "CORRECTING_ROLES",
    "TIMELINESS_LABELS_VI",
    "Actor",
    "AttachmentView",
    "ChangeResult",
    "NewAttachment",
    "TaskKey",
    "TaskView",
    "Timeliness",
    "add_comment",
    "check_command",
    "check_pdf",
    "discard_staged_upload",
    "flagged_tasks",
    "get_attachment",
    "list_attachments",
    "list_comments",
    "list_tasks",
    "load_staged_upload",
    "mark_seen",
    "max_text_chars",
    "parse_period",
    "peek_staged_upload",
    "quarters_of",
    "resolve_choice",
    "roll_over",
    "stage_upload",
    "task_documents",
]
