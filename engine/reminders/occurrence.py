"""One reminder that is due: the unit of work between the planner and the outbox.

Why a value object with its own key: the planner (what is due, by the rules and the calendar)
and the outbox (insert once, send once) meet only here. The idempotency key is exactly the
issue's: recipient, item, due date, rule step, channel — so however often or however late a
sweep runs, a reminder exists once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Occurrence:
    unit_id: int
    person_id: int
    channel: str  # "email" | "zalo"
    item_kind: str  # "task" | "obligation"
    item_id: int  # tasks.id or obligation_dues.id
    due_on: date
    step: str  # "before:7" … "due", "overdue:<n>", "escalate"
    send_on: date  # the working day it goes out (digest day)
    not_before: datetime  # aware; e.g. 08:00 Asia/Ho_Chi_Minh on send_on
    payload: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def idempotency_key(self) -> str:
        return (
            f"p{self.person_id}:{self.item_kind}{self.item_id}:{self.due_on.isoformat()}"
            f":{self.step}:{self.channel}"
        )
