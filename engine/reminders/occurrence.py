"""One reminder that is due: the unit of work between the planner and the outbox.

Why a value object with its own key: the planner (what is due, by the rules and the calendar)
and the outbox (insert once, send once) meet only here. The idempotency key is exactly the
issue's: recipient, item, due date, rule step, channel — so however often or however late a
sweep runs, a reminder exists once.

Why a plain slotted class with a lazy payload: the national peak builds ~73,000 of them per
sweep, every minute, and nearly all are already in the outbox (the sweep only looks their keys
up). A frozen dataclass pays `object.__setattr__` per field and a payload dict per occurrence;
here an occurrence is one small object pointing at its item's shared payload (`base`) plus
the per-person values, and the merged payload dict is built only when someone reads it (the
insert of a NEW row, a preview). Treat instances as immutable.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

_NO_PAYLOAD: dict[str, Any] = {}


class Occurrence:
    __slots__ = ("_payload", "base", "channel", "days", "due_on", "escalation", "item_id",
                 "item_kind", "not_before", "person_id", "person_name", "send_on", "step",
                 "unit_id")

    unit_id: int
    person_id: int
    channel: str  # "email" | "zalo"
    item_kind: str  # "task" | "obligation"
    item_id: int  # tasks.id or obligation_dues.id
    due_on: date
    step: str  # "before:7" … "due", "overdue:<n>", "escalate"
    send_on: date  # the working day it goes out (digest day)
    not_before: datetime  # aware; e.g. 08:00 Asia/Ho_Chi_Minh on send_on

    def __init__(self, unit_id: int, person_id: int, channel: str, item_kind: str,
                 item_id: int, due_on: date, step: str, send_on: date, not_before: datetime,
                 payload: dict[str, Any] | None = None, person_name: str | None = None,
                 days: int = 0, escalation: bool = False) -> None:
        """`payload`: the item's values (shared by its occurrences); with `person_name` the
        payload read back also carries `days`, `person_name` and `escalation`."""
        self.unit_id = unit_id
        self.person_id = person_id
        self.channel = channel
        self.item_kind = item_kind
        self.item_id = item_id
        self.due_on = due_on
        self.step = step
        self.send_on = send_on
        self.not_before = not_before
        self.base = _NO_PAYLOAD if payload is None else payload
        self.person_name = person_name
        self.days = days
        self.escalation = escalation
        self._payload: dict[str, Any] | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """The row's payload: the item's values, plus the per-person ones when given."""
        if self._payload is None:
            if self.person_name is None:
                self._payload = dict(self.base)
            else:
                self._payload = {**self.base, "days": self.days,
                                 "person_name": self.person_name,
                                 "escalation": self.escalation}
        return self._payload

    def with_payload(self, extra: dict[str, Any]) -> Occurrence:
        """The same occurrence whose payload also carries `extra`."""
        return Occurrence(self.unit_id, self.person_id, self.channel, self.item_kind,
                          self.item_id, self.due_on, self.step, self.send_on, self.not_before,
                          {**self.payload, **extra})

    @property
    def idempotency_key(self) -> str:
        return (
            f"p{self.person_id}:{self.item_kind}{self.item_id}:{self.due_on.isoformat()}"
            f":{self.step}:{self.channel}"
        )

    def _identity(self) -> tuple[object, ...]:
        return (self.unit_id, self.person_id, self.channel, self.item_kind, self.item_id,
                self.due_on, self.step, self.send_on, self.not_before)

    def __eq__(self, other: object) -> bool:  # the payload is not part of the identity
        if not isinstance(other, Occurrence):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return (f"Occurrence({self.idempotency_key!r}, send_on={self.send_on.isoformat()}, "
                f"not_before={self.not_before.isoformat()})")
