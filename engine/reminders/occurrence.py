"""One reminder that is due: the unit of work between the planner and the outbox.

Why a value object with its own key: the planner (what is due, by the rules and the calendar)
and the outbox (insert once, send once) meet only here. The idempotency key is exactly the
issue's: recipient, item, due date, rule step, channel — so however often or however late a
sweep runs, a reminder exists once.

Why a tuple, in this field order, with a lazy payload: the national peak has ~126,000 of
them per sweep, every minute, and nearly all are already in the outbox (the sweep only looks
their keys up). A tuple is built in C (`new_occurrence`, no Python `__init__` per reminder),
and its first eight fields are the planner's output order (send day, unit, person, channel,
item kind, due date, item, step: a total order), so a list of them sorts by plain tuple
comparison, without a key per element. An occurrence points at its item's shared values
(`base`: a dict, or a function building it, called only when read — the planner passes its
item, the tuple (function, *arguments): one object per item where a `functools.partial` is
two, which the garbage collector walks each time it passes over the plan) plus the per-person
values;
the merged payload dict is built only when someone reads it (the insert of a NEW row, a
preview). Equality and hashing are on the identity (the first nine fields), never the
payload.

Why the planner's sweep path has no `Occurrence` at all: a sweep only needs the key of each
due reminder, and an `Occurrence` for the few it inserts. So `planner.due_rows` gives plain
tuples of the same fields in the same order (`OccurrenceRow`: a tuple literal, where an
`Occurrence` is that tuple copied into a subclass instance — a second allocation and a call
per reminder), `occurrence_keys` computes their keys in one loop (each due date written
once), and `new_occurrence(row)` makes the `Occurrence` of a row the sweep inserts (an
`Occurrence` is itself a valid row).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import partial
from operator import itemgetter
from typing import Any, cast

#: The item's shared payload values; or a function that builds them when first read; or, the
#: same without a `functools.partial` per item, a tuple (function, *arguments).
Base = dict[str, Any] | Callable[[], dict[str, Any]] | tuple[Any, ...]

#: An occurrence as a plain tuple: `Occurrence`'s thirteen fields, in its order (see
#: `Occurrence.__new__` for the fields, `new_occurrence` for the way back).
OccurrenceRow = tuple[Any, ...]

_NO_PAYLOAD: dict[str, Any] = {}
_IDENTITY = 9  # send_on … not_before: what makes two occurrences the same reminder


class Occurrence(tuple[Any, ...]):
    __slots__ = ()

    def __new__(cls, unit_id: int, person_id: int, channel: str, item_kind: str,
                item_id: int, due_on: date, step: str, send_on: date, not_before: datetime,
                payload: Base | None = None, person_name: str | None = None,
                days: int = 0, escalation: bool = False) -> Occurrence:
        """`payload`: the item's values (shared by its occurrences); with `person_name` the
        payload read back also carries `days`, `person_name` and `escalation`."""
        return tuple.__new__(cls, (send_on, unit_id, person_id, channel, item_kind, due_on,
                                   item_id, step, not_before,
                                   _NO_PAYLOAD if payload is None else payload,
                                   person_name, days, escalation))

    def __getnewargs__(self) -> tuple[Any, ...]:  # copy and pickle through __new__
        return (self.unit_id, self.person_id, self.channel, self.item_kind, self.item_id,
                self.due_on, self.step, self.send_on, self.not_before, self.base,
                self.person_name, self.days, self.escalation)

    send_on: date = cast(date, property(itemgetter(0)))  # the working day it goes out
    unit_id: int = cast(int, property(itemgetter(1)))
    person_id: int = cast(int, property(itemgetter(2)))
    channel: str = cast(str, property(itemgetter(3)))  # "email" | "zalo"
    item_kind: str = cast(str, property(itemgetter(4)))  # "task" | "obligation"
    due_on: date = cast(date, property(itemgetter(5)))
    item_id: int = cast(int, property(itemgetter(6)))  # tasks.id or obligation_dues.id
    step: str = cast(str, property(itemgetter(7)))  # "before:7" … "due", "overdue:<n>", …
    not_before: datetime = cast(datetime, property(itemgetter(8)))  # aware; 08:00 on send_on
    person_name: str | None = cast("str | None", property(itemgetter(10)))
    days: int = cast(int, property(itemgetter(11)))
    escalation: bool = cast(bool, property(itemgetter(12)))

    @property
    def base(self) -> dict[str, Any]:
        """The item's shared values (built now if the planner left a function)."""
        base: Base = self[9]
        if isinstance(base, dict):
            return base
        if isinstance(base, tuple):
            return cast("dict[str, Any]", base[0](*base[1:]))
        return base()

    @property
    def payload(self) -> dict[str, Any]:
        """The row's payload: the item's values, plus the per-person ones when given."""
        if self.person_name is None:
            return dict(self.base)
        return {**self.base, "days": self.days, "person_name": self.person_name,
                "escalation": self.escalation}

    def with_payload(self, extra: dict[str, Any]) -> Occurrence:
        """The same occurrence whose payload also carries `extra`."""
        return Occurrence(self.unit_id, self.person_id, self.channel, self.item_kind,
                          self.item_id, self.due_on, self.step, self.send_on, self.not_before,
                          {**self.payload, **extra})

    @property
    def idempotency_key(self) -> str:
        return occurrence_key(self)

    def _identity(self) -> tuple[Any, ...]:
        return self[:_IDENTITY]

    def __eq__(self, other: object) -> bool:  # the payload is not part of the identity
        if not isinstance(other, Occurrence):
            return NotImplemented
        return self[:_IDENTITY] == other[:_IDENTITY]

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, Occurrence):
            return NotImplemented
        return self[:_IDENTITY] != other[:_IDENTITY]

    def __hash__(self) -> int:
        return hash(self[:_IDENTITY])

    def __repr__(self) -> str:
        return (f"Occurrence({self.idempotency_key!r}, send_on={self.send_on.isoformat()}, "
                f"not_before={self.not_before.isoformat()})")


def occurrence_key(row: OccurrenceRow) -> str:
    """The idempotency key of an occurrence, or of a plain row of its fields:
    `p{person_id}:{item_kind}{item_id}:{due_on}:{step}:{channel}` (`occurrence_keys`)."""
    return occurrence_keys((row,))[0]


def occurrence_keys(rows: Iterable[OccurrenceRow]) -> list[str]:
    """The idempotency key of each row, in order — the one place the key is written: one loop,
    each due date written once (a sweep keys every reminder due, ~126,000 at the national
    peak)."""
    iso: dict[date, str] = {}
    keys: list[str] = []
    add = keys.append
    for row in rows:
        due_on = row[5]
        day = iso.get(due_on)
        if day is None:
            day = iso[due_on] = due_on.isoformat()
        add(f"p{row[2]}:{row[4]}{row[6]}:{day}:{row[7]}:{row[3]}")
    return keys


#: The `Occurrence` of a row: `new_occurrence((send_on, unit_id, person_id, channel,
#: item_kind, due_on, item_id, step, not_before, base, person_name, days, escalation))`,
#: built in C.
new_occurrence: Callable[[OccurrenceRow], Occurrence] = partial(tuple.__new__, Occurrence)

__all__ = ["Base", "Occurrence", "OccurrenceRow", "new_occurrence", "occurrence_key",
           "occurrence_keys"]
