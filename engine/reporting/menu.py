"""The counts next to the menu of a commune's officer or leader, on every page: their open
tasks (and whether one is overdue), the commune's overdue tasks, its overdue sub-reports.

Why a module of its own: every page asks for them, so they are read in ONE statement. On
PostgreSQL each statement of a request costs the web worker and the database about as much
CPU as building the page's views; counting from `task_briefs`, the people (`person_of`) and
the pending sub-reports (`obligations_overdue`) separately took three. The three reads
(`menu_reads`: each its own module's statement) go together (`engine.storage.together`), and
their rows are counted by the same functions that count the lists (`briefs_of`,
`login_person`, `past_due`, `owned_by`, `is_overdue`), so the numbers are the lists' numbers
(`tests/test_menu_counts.py` compares them on days that move every count). A page that reads
other things ahead (the task page, `task_page.read_task_page`) sends the menu's reads with
its own; a page that read the unit's whole task list (the dashboard, the task list) counts
from it instead, with no statement for the tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.directory.accounts import UserView
from engine.directory.people import ACTIVE_NAMED, Named, PersonView, login_person
from engine.directory.units import get_unit
from engine.domain.obligations import PENDING_DUE_DATES, past_due
from engine.domain.tasks import TaskRow, brief_statement, briefs_of, task_briefs
from engine.reporting.dashboard import is_overdue, obligations_overdue, owned_by, person_of
from engine.runtime import Runtime
from engine.storage.together import Read, read_together, scoped_rows


@dataclass(frozen=True)
class MenuCounts:
    """The counts next to the menu of a commune's officer or leader."""

    mine: int | None  # their open tasks (`my_tasks`); None: the login stands for nobody
    mine_late: bool  # one of those is overdue
    overdue: int  # the commune's overdue tasks (recurring work: the occurrence in force)
    obligations_overdue: int  # its sub-reports overdue (`obligations_overdue`)


def menu_reads(rt: Runtime, unit_id: int) -> list[Read]:
    """The menu's three reads of unit `unit_id`: its task briefs (`brief_statement`), its
    active people (`ACTIVE_NAMED`), its pending sub-reports' due dates (`PENDING_DUE_DATES`)."""
    return [(brief_statement(rt), {"unit": unit_id, "today": rt.today()}),
            (ACTIVE_NAMED, {"unit": unit_id}), (PENDING_DUE_DATES, {"unit": unit_id})]


def menu_counts(rt: Runtime, user: UserView, unit: str) -> MenuCounts:
    """What the menu shows on every page: the same numbers as `owned_by` and `is_overdue`
    over `list_tasks(rt, unit)` and `obligations_overdue` — read in one statement (or with
    the page's own reads), or counted from the unit's task list when the request's scope has
    read it already."""
    with rt.db.read() as session:
        cache: dict[object, object] | None = session.info.get("cache")
        if cache is not None and ("tasks", unit) in cache:
            # the people and the sub-reports as the page read them, if it did
            return _counts(rt, task_briefs(rt, unit), person_of(rt, user),
                           len(obligations_overdue(rt, unit)))
        reads = menu_reads(rt, get_unit(session, unit).id)
        read_together(session, reads)
        briefs, people, dues = (scoped_rows(session, *read) for read in reads)
    today = rt.today()
    # the login's person is of its own unit (the menu's): read with the rest
    person = (login_person([Named(*p) for p in people], user.person_id, user.full_name)
              if user.unit_slug == unit else person_of(rt, user))
    return _counts(rt, briefs_of(rt, briefs), person,
                   sum(1 for (due_on,) in dues if past_due(due_on, today, rt)))


def _counts(rt: Runtime, tasks: Sequence[TaskRow], person: Named | PersonView | None,
            late_reports: int) -> MenuCounts:
    mine = owned_by(rt, tasks, person) if person is not None else None
    return MenuCounts(
        mine=None if mine is None else len(mine),
        mine_late=any(is_overdue(t) for t in mine or ()),
        overdue=sum(1 for t in tasks if is_overdue(t)),
        obligations_overdue=late_reports)


__all__ = ["MenuCounts", "menu_counts", "menu_reads"]
