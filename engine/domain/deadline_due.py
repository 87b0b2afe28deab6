"""A task's due date from its Vietnamese deadline text (None for ongoing or recurring)."""

from __future__ import annotations

from datetime import date

from plans.deadlines import DeadlineError, parse_deadline


def due_date(text: str | None, year: int) -> date | None:
    if not text:
        return None
    try:
        return parse_deadline(text, year).due
    except DeadlineError:
        return None
