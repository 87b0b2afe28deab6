"""Who a unit's reminders reach: the people an owner text names, and the unit's leader.

Why kept between plans: the sweep plans every minute, and at the national scale (33,210 people
in 3,321 units, ~13,000 unit and owner text pairs at the peak) resolving owners and channels
was about a fifth of the planner's time, though people rarely change. Each unit's answers are
kept with the rows they were computed from (its active people as read, its leader's name) and
reused only while the next plan reads the same rows, value for value and in the same order;
any change in a unit (a person added, renamed, moved, deactivated, a new address or channel, a
new leader) recomputes that unit. So the kept answers cannot be stale: they only save work.
The people are still read by every plan (33,210 rows at the national scale): when they are the
rows of the plan before, one comparison of the two lists stands for the per-unit ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.directory.people import Contact, OwnerIndex, PersonRow, contact

#: (person id, name, channel) of each reachable person in charge, and the ids of everyone in
#: charge (reachable or not: the leader is not escalated to about an item in his own charge).
Reach = tuple[list[tuple[int, str, str]], frozenset[int]]
#: The leader's (person id, name, channel), or None when the unit has no reachable leader.
Leader = tuple[int, str, str] | None


class Recipients:
    """One unit's answers: computed on first use, then kept."""

    __slots__ = ("_index", "_leader", "_leader_known", "reach_of")

    def __init__(self, people: Sequence[PersonRow], leader_name: str | None) -> None:
        self._index: OwnerIndex[Contact] = OwnerIndex(map(contact, people), leader_name)
        #: The answers so far, by owner text (read directly by the planner's inner loop).
        self.reach_of: dict[str | None, Reach] = {}
        self._leader: Leader = None
        self._leader_known = False

    def reach(self, owner: str | None) -> Reach:
        """Everyone in charge of `owner` (a title or a name) and how to reach them."""
        found = self.reach_of.get(owner)
        if found is None:
            index = self._index
            people = index.resolve(owner)
            found = self.reach_of[owner] = (
                [(p.id, p.name, channel) for p in people
                 if (channel := index.channel(p)) is not None],
                frozenset(p.id for p in people))
        return found

    def leader(self) -> Leader:
        if not self._leader_known:
            person = self._index.leader
            channel = self._index.channel(person) if person is not None else None
            self._leader = (None if person is None or channel is None
                            else (person.id, person.name, channel))
            self._leader_known = True
        return self._leader


@dataclass
class _Kept:
    rows: Sequence[PersonRow]  # the people rows as last read, in the order read
    leaders: dict[int, str | None]  # the units answered then, with their leader's name
    answers: dict[int, Recipients]  # for those units
    #: Every unit's answers with the rows they were computed from (leader's name first).
    by_unit: dict[int, tuple[tuple[Any, ...], Recipients]]


#: By database URL.
_KEPT: dict[str, _Kept] = {}


def unit_recipients(database: str, leaders: Mapping[int, str | None],
                    rows: Sequence[PersonRow]) -> Mapping[int, Recipients]:
    """The `Recipients` of each unit of `leaders` (unit id: its leader's name), from `rows`
    (the active people of at least those units, as read now): those computed before from
    the same rows, else new ones. Most sweeps read exactly the rows of the one before: one
    comparison of the two lists then answers for every unit."""
    kept = _KEPT.get(database)
    if kept is not None and kept.leaders == leaders and kept.rows == rows:
        return kept.answers
    by_unit = kept.by_unit if kept is not None else {}
    people: dict[int, list[PersonRow]] = {uid: [] for uid in leaders}
    for row in rows:
        found = people.get(row[1])
        if found is not None:
            found.append(row)
    answers: dict[int, Recipients] = {}
    for uid, unit_rows in people.items():
        leader_name = leaders[uid]
        key = (leader_name, *unit_rows)
        hit = by_unit.get(uid)
        if hit is None or hit[0] != key:
            hit = by_unit[uid] = (key, Recipients(unit_rows, leader_name))
        answers[uid] = hit[1]
    _KEPT[database] = _Kept(rows, dict(leaders), answers, by_unit)
    return answers


__all__ = ["Leader", "Reach", "Recipients", "unit_recipients"]
