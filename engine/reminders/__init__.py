"""Reminders: reminder rules, planner, sweep, outbox, dispatch, the scheduler and its jobs.

Public API: the names below (loaded on first use, see `engine.public_api`). The CLI and the
web app import these and nothing else of this folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import public_api

if TYPE_CHECKING:
    from engine.reminders.dispatch import close_channels
    from engine.reminders.occurrence import Occurrence
    from engine.reminders.outbox import FALLBACK as OUTBOX_FALLBACK
    from engine.reminders.outbox import SENT as OUTBOX_SENT
    from engine.reminders.outbox import STATE_LABELS as OUTBOX_STATE_LABELS
    from engine.reminders.outbox import STATES as OUTBOX_STATES
    from engine.reminders.outbox import (
        OutboxRow,
        get_outbox,
        list_outbox,
        people_names,
        retry_failed,
    )
    from engine.reminders.outbox import count_by_state as count_outbox_by_state
    from engine.reminders.planner import preview_plan
    from engine.reminders.rules import DEFAULT_RULES_FILE as DEFAULT_REMINDER_RULES_FILE
    from engine.reminders.rules import load_reminder_rules
    from engine.reminders.scheduler import (
        ReminderService,
        build_channels,
        reminder_base_url,
        run_once,
        run_scheduler,
    )
    from engine.reminders.zalo_tokens import SqlTokenStore
else:  # mypy sees the names above only, so a misspelt name stays an error
    __getattr__, __dir__ = public_api(__name__, __file__)

__all__ = [
    "DEFAULT_REMINDER_RULES_FILE",
    "OUTBOX_FALLBACK",
    "OUTBOX_SENT",
    "OUTBOX_STATES",
    "OUTBOX_STATE_LABELS",
    "Occurrence",
    "OutboxRow",
    "ReminderService",
    "SqlTokenStore",
    "build_channels",
    "close_channels",
    "count_outbox_by_state",
    "get_outbox",
    "list_outbox",
    "load_reminder_rules",
    "people_names",
    "preview_plan",
    "reminder_base_url",
    "retry_failed",
    "run_once",
    "run_scheduler",
]
