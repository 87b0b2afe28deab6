"""The menu's counts (`menu_counts`, read from `task_briefs`) equal the ones the task list
gives: the user's open tasks and whether one is overdue, the commune's overdue tasks, its
overdue sub-reports — on any day (recurring work: the occurrence in force), with or without
the page's whole list already read in the request's scope."""

from __future__ import annotations

import dataclasses
from typing import cast

from conftest import Clock
from sql_statements import statements
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    cheap_hashes_fixture,
    demo_db_fixture,
    demo_rt_fixture,
    pg_demo_rt_fixture,
)

from engine import api
from engine.directory import accounts
from engine.directory.units import get_unit
from engine.domain.tasks import Actor, TaskKey, assign
from engine.reporting.dashboard import is_overdue, obligations_overdue, owned_by, person_of
from engine.reporting.menu import MenuCounts, menu_counts
from engine.runtime import Runtime

UNIT = "vinh-thanh"


def from_the_list(rt: Runtime, username: str) -> MenuCounts:
    """The counts as the menu made them before: from the unit's whole task list."""
    user = next(u for u in accounts.list_users(rt) if u.username == username)
    tasks = api.list_tasks(rt, UNIT)
    person = person_of(rt, user)
    mine = owned_by(rt, tasks, person) if person is not None else None
    return MenuCounts(None if mine is None else len(mine),
                      any(is_overdue(t) for t in mine or ()),
                      sum(1 for t in tasks if is_overdue(t)),
                      len(obligations_overdue(rt, UNIT)))


def test_menu_counts_equal_the_lists(rt: Runtime) -> None:
    check_the_counts(rt)


def test_menu_counts_equal_the_lists_on_postgresql(pg_demo_rt: Runtime) -> None:
    """The same on PostgreSQL (dates compared as dates, the done states bound as a list)."""
    check_the_counts(pg_demo_rt)


def check_the_counts(rt: Runtime) -> None:
    officer = accounts.get_user(rt, "canbo.vinhthanh")
    # a task of the officer's, assigned by name (any case), so "mine" has both kinds of owner
    assign(rt, TaskKey(UNIT, "papi-2023", "1.1.1"), officer.full_name.upper(),
           Actor("Lãnh đạo", "leader"))
    seen = []
    # the demo's day, a new quarter (recurring work's next occurrence), later: more overdue
    for day in ("2023-09-20T09:00:00", "2023-10-02T09:00:00", "2023-12-31T10:00:00",
                "2024-04-15T09:00:00"):
        cast(Clock, rt.clock).set(day)
        for username in ("canbo.vinhthanh", "lanhdao.vinhthanh"):
            user = accounts.get_user(rt, username)
            expected = from_the_list(rt, username)
            assert menu_counts(rt, user, UNIT) == expected
            scoped = dataclasses.replace(rt, db=rt.db.scoped())  # a web request's
            try:
                with scoped.db.read() as session:
                    get_unit(session, UNIT)  # as the page did (the access check)
                with statements(scoped) as sent:
                    assert menu_counts(scoped, user, UNIT) == expected
                assert len(sent) == 1, sent  # tasks, people and sub-reports: one statement
                api.list_tasks(scoped, UNIT, earlier=True)  # a page read the whole list
                assert menu_counts(scoped, user, UNIT) == expected  # counted from it
            finally:
                scoped.db.dispose()
            seen.append(expected)
    # the days chosen make every count move
    assert {c.overdue for c in seen} >= {0, 1, 12}
    assert {c.mine for c in seen} >= {20, 22}
    assert {c.mine_late for c in seen} == {False, True}
    assert {c.obligations_overdue for c in seen} == {1, 5}
