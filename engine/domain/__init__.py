"""Plans in the database and what happens to their tasks: loading, workflow, evidence, dates.

Public API: the names below (loaded on first use, see `engine.public_api`). The CLI and the
web app import these and nothing else of this folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import public_api

if TYPE_CHECKING:
    from engine.domain.attachment_files import NewAttachment, check_pdf
    from engine.domain.attachments import (
        AttachmentView,
        get_attachment,
        list_attachments,
        task_documents,
    )
    from engine.domain.choices import resolve_choice
    from engine.domain.comments import add_comment, list_comments
    from engine.domain.free_text import max_text_chars
    from engine.domain.frozen_periods import CORRECTING_ROLES
    from engine.domain.obligations import (
        ObligationChange,
        ObligationDueView,
        assign_obligation,
        list_obligation_dues,
        load_obligations,
        obligation_history,
        obligation_machine,
        reopen_obligation,
        submit_obligation,
    )
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
    "ObligationChange",
    "ObligationDueView",
    "TaskKey",
    "TaskView",
    "Timeliness",
    "add_comment",
    "assign_obligation",
    "check_command",
    "check_pdf",
    "discard_staged_upload",
    "flagged_tasks",
    "get_attachment",
    "list_attachments",
    "list_comments",
    "list_obligation_dues",
    "list_tasks",
    "load_obligations",
    "load_staged_upload",
    "mark_seen",
    "max_text_chars",
    "obligation_history",
    "obligation_machine",
    "parse_period",
    "peek_staged_upload",
    "quarters_of",
    "reopen_obligation",
    "resolve_choice",
    "roll_over",
    "stage_upload",
    "submit_obligation",
    "task_documents",
]
