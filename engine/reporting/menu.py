"""The counts next to the menu of a commune's officer or leader, on every page: their open
tasks (and whether one is overdue), the commune's overdue tasks, its overdue sub-reports.

Why a module of its own: every page asks for them, so they are read in ONE statement. On
PostgreSQL each statement of a request costs the web worker and the database about as much
CPU as building the page's views; counting from `task_briefs`, the people (`person_of`) and
the pending sub-reports (`obligations_overdue`) separately took three. The statement is the
three reads as one `UNION ALL`, each part the rows its own function reads, told apart by a
`part` column; each part's rows are then counted by the same functions that count the lists
(`briefs_of`, `login_person`, `past_due`, `owned_by`, `is_overdue`), so the numbers are the
lists' numbers (`tests/test_menu_counts.py` compares them on days that move every count). A
page that read the unit's whole task list (the dashboard, the task list) counts from it
instead, with no statement for the tasks.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    literal_column,
    null,
    union_all,
)

from engine.directory.accounts import UserView
from engine.directory.people import ACTIVE_NAMED, Named, PersonView, login_person
from engine.directory.units import get_unit
from engine.domain.obligations import PENDING_DUE_DATES, past_due
from engine.domain.tasks import TaskRow, brief_statement, briefs_of, task_briefs
from engine.reporting.dashboard import is_overdue, obligations_overdue, owned_by, person_of
from engine.runtime import Runtime
from engine.storage.rows import plain_rows

#: The `part` of each row of the menu's statement.
_TASK, _PERSON, _DUE = 0, 1, 2


@dataclass(frozen=True)
class MenuCounts:
    """The counts next to the menu of a commune's officer or leader."""

    mine: int | None  # their open tasks (`my_tasks`); None: the login stands for nobody
    mine_late: bool  # one of those is overdue
    overdue: int  # the commune's overdue tasks (recurring work: the occurrence in force)
    obligations_overdue: int  # its sub-reports overdue (`obligations_overdue`)


def menu_counts(rt: Runtime, user: UserView, unit: str) -> MenuCounts:
    """What the menu shows on every page: the same numbers as `owned_by` and `is_overdue`
    over `list_tasks(rt, unit)` and `obligations_overdue` — read in one statement, or counted
    from the unit's task list when the request's scope has read it already."""
    with rt.db.read() as session:
        cache: dict[object, object] | None = session.info.get("cache")
        if cache is not None and ("tasks", unit) in cache:
            rows = None
        else:
            rows = plain_rows(session.connection(), _menu_statement(brief_statement(rt)),
                              {"unit": get_unit(session, unit).id, "today": rt.today()})
    if rows is None:  # the people and the sub-reports as the page read them, if it did
        return _counts(rt, task_briefs(rt, unit), person_of(rt, user),
                       len(obligations_overdue(rt, unit)))
    today = rt.today()
    people = [Named(r[9], r[1], r[2]) for r in rows if r[8] == _PERSON]
    # the login's person is of its own unit (the menu's): read with the rest
    person = (login_person(people, user.person_id, user.full_name) if user.unit_slug == unit
              else person_of(rt, user))
    return _counts(rt, briefs_of(rt, [r[:8] for r in rows if r[8] == _TASK]), person,
                   sum(1 for r in rows if r[8] == _DUE and past_due(r[6], today, rt)))


def _counts(rt: Runtime, tasks: Sequence[TaskRow], person: Named | PersonView | None,
            late_reports: int) -> MenuCounts:
    mine = owned_by(rt, tasks, person) if person is not None else None
    return MenuCounts(
        mine=None if mine is None else len(mine),
        mine_late=any(is_overdue(t) for t in mine or ()),
        overdue=sum(1 for t in tasks if is_overdue(t)),
        obligations_overdue=late_reports)


@functools.cache
def _menu_statement(briefs: Select[Any]) -> CompoundSelect[Any]:
    """The unit's task briefs (`briefs`: `brief_statement`), its active people
    (`ACTIVE_NAMED`) and its pending sub-reports' due dates (`PENDING_DUE_DATES`), as rows of
    ten columns: a brief's eight (a person's name and title in the second and third, a due
    date in the seventh, NULL elsewhere), the part, a person's id. Each part is its own
    statement with its columns moved into place: same tables, joins and conditions.
    Parameters: `unit` (the unit's id) and `today`."""
    def part(n: int) -> ColumnElement[int]:
        return literal_column(str(n), Integer)

    person = ACTIVE_NAMED.selected_columns
    return union_all(
        briefs.add_columns(part(_TASK), null()),
        ACTIVE_NAMED.with_only_columns(
            null(), person["name"], person["title"], null(), null(), null(), null(), null(),
            part(_PERSON), person["id"]),
        PENDING_DUE_DATES.with_only_columns(
            null(), null(), null(), null(), null(), null(),
            PENDING_DUE_DATES.selected_columns["due_on"], null(), part(_DUE), null()),
    )


__all__ = ["MenuCounts", "menu_counts"]
