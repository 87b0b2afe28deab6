"""One database connection and session per web request, and no query asked twice.

Every engine call of a page used to open its own session (and check a connection out of the
pool): the task page issued 25 statements, `get_unit` 10 times. The request's `Runtime` is now
one `ScopedDatabase` (`web.deps.get_rt`): these tests count, with SQLAlchemy's engine events,
the connections checked out and the statements sent for the pages officers open most, and
check that no statement is sent twice with the same parameters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    Login,
    cheap_hashes_fixture,
    csrf,
    demo_db_fixture,
    demo_rt_fixture,
    login_clients,
    pg_demo_rt_fixture,
)

from engine import api
from engine.domain.tasks import TaskKey
from engine.runtime import Runtime
from web import create_app

UNIT = "vinh-thanh"
OPEN_TASK = TaskKey(UNIT, "cchc-2023", "5")


@dataclass
class Traffic:
    statements: list[tuple[str, str]] = field(default_factory=list)
    checkouts: int = 0

    def clear(self) -> None:
        self.statements.clear()
        self.checkouts = 0

    def repeated(self) -> list[tuple[str, str]]:
        return [s for s, n in Counter(self.statements).items() if n > 1]


@pytest.fixture
def traffic(rt: Runtime) -> Iterator[Traffic]:
    seen = Traffic()

    def on_statement(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.statements.append((statement, repr(params)))

    def on_checkout(*_: Any) -> None:
        seen.checkouts += 1

    event.listen(rt.db.engine, "before_cursor_execute", on_statement)
    event.listen(rt.db.engine, "checkout", on_checkout)
    yield seen
    event.remove(rt.db.engine, "before_cursor_execute", on_statement)
    event.remove(rt.db.engine, "checkout", on_checkout)


@pytest.fixture
def login(rt: Runtime) -> Iterator[Login]:
    with login_clients(create_app(rt)) as login_:
        yield login_


@pytest.mark.parametrize(("path", "bound"), [
    # the task page: session with its user and unit (one statement), the unit with the units
    # above it (one statement), the unit's plans (which the plan code resolves against), the
    # task's rows (every occurrence of recurring task 7) with its definition and section;
    # history, files, documents, comments, the version last seen and the menu's counts
    # (tasks, people, sub-reports) in one statement
    (f"/units/{UNIT}/tasks/cchc-2023/7", 5),  # 25 before issue 13, 20, 15, 12, 10
    ("/dashboard", 7),  # 14 before issue 13, 9 before: no list of communes for an officer
    # the list: the sections of the unit's plans in one statement (one per plan before)
    (f"/units/{UNIT}/tasks", 7),  # 14 before issue 13, 10 before the one statement
    (f"/units/{UNIT}/tasks?plan=papi-2023&q=cong+khai", 7),
    (f"/units/{UNIT}/obligations", 4),  # 6 when the menu read people and sub-reports apart
])
def test_a_page_uses_one_connection_and_asks_nothing_twice(
        login: Login, traffic: Traffic, path: str, bound: int) -> None:
    client = login("officer")
    assert client.get(path).status_code == 200  # warm: templates, plan definitions
    traffic.clear()
    page = client.get(path)
    assert page.status_code == 200
    assert traffic.checkouts == 1
    assert traffic.repeated() == []
    assert len(traffic.statements) <= bound, [s for s, _ in traffic.statements]


def test_a_write_and_its_refusal_use_one_connection(login: Login, traffic: Traffic,
                                                    rt: Runtime) -> None:
    """A saved form and a refused one (shown again with the reason, from fresh rows)."""
    saved_and_refused(login, traffic, rt)


def test_a_write_and_its_refusal_on_postgresql(pg_demo_rt: Runtime) -> None:
    """The same on PostgreSQL, whose request reads run in autocommit mode and writes in a
    transaction of their own (`ScopedDatabase`)."""
    seen = Traffic()

    def on_checkout(*_: Any) -> None:
        seen.checkouts += 1

    event.listen(pg_demo_rt.db.engine, "checkout", on_checkout)
    try:
        with login_clients(create_app(pg_demo_rt)) as login_:
            saved_and_refused(login_, seen, pg_demo_rt)
    finally:
        event.remove(pg_demo_rt.db.engine, "checkout", on_checkout)


def saved_and_refused(login: Login, traffic: Traffic, rt: Runtime) -> None:
    client = login("officer")
    token = csrf(client)
    before = api.get_task(rt, OPEN_TASK).version
    traffic.clear()
    saved = client.post(f"/units/{UNIT}/tasks/cchc-2023/5/note",
                        data={"csrf_token": token, "version": before, "note": "Đang làm"},
                        follow_redirects=False)
    assert saved.status_code == 303
    assert traffic.checkouts == 1
    traffic.clear()
    stale = client.post(f"/units/{UNIT}/tasks/cchc-2023/5/note",
                        data={"csrf_token": token, "version": before, "note": "Lần hai"},
                        follow_redirects=False)
    assert stale.status_code == 409
    assert traffic.checkouts == 1
    # the page shown with the refusal reads the task after the failed write: version + 1
    assert f'name="version" value="{before + 1}"' in stale.text
    assert api.get_task(rt, OPEN_TASK).version == before + 1


def test_a_list_asks_as_much_for_54_rows_as_for_124(login: Login, traffic: Traffic) -> None:
    """A list's statements do not grow with its rows: no lookup per row (of a unit, a plan,
    an owner, an access check), for the HTML page (every page of it) and the JSON API."""
    client = login("officer")
    counts = {}
    for path in (f"/units/{UNIT}/tasks?plan=papi-2023", f"/units/{UNIT}/tasks",
                 f"/units/{UNIT}/tasks?trang=5"):
        assert client.get(path).status_code == 200
        traffic.clear()
        assert client.get(path).status_code == 200
        counts[path] = len(traffic.statements)
    assert len(set(counts.values())) == 1, counts


@pytest.mark.parametrize(("path", "bound"), [
    ("/api/me", 1),  # the token with its user and unit, one statement
    (f"/api/units/{UNIT}/tasks/cchc-2023/7", 5),
    (f"/api/units/{UNIT}/tasks", 5),
    (f"/api/units/{UNIT}/tasks?plan=papi-2023", 7),  # + the plan asked for, checked
])
def test_an_api_call_asks_little(rt: Runtime, traffic: Traffic, path: str, bound: int) -> None:
    from fastapi.testclient import TestClient

    from engine.directory import accounts

    token, _ = accounts.create_api_token(rt, "canbo.vinhthanh", "đếm câu lệnh")
    with TestClient(create_app(rt)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(path, headers=headers).status_code == 200  # warm; token touched
        traffic.clear()
        assert client.get(path, headers=headers).status_code == 200
    assert traffic.repeated() == []
    assert len(traffic.statements) <= bound, [s for s, _ in traffic.statements]
