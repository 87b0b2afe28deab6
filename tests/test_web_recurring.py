"""The web task page of recurring work: one page per occurrence (`…/7~2023-Q2`), the others
linked, a form acting on the occurrence shown; the JSON API names occurrences the same way.

On the demo database at the demo's clock (20/9/2023): the Q3-2023 report's state replayed, so
task 7 ("Định kỳ hàng quý") is done in its Q3 occurrence and not started in the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    Login,
    cheap_hashes_fixture,
    csrf,
    demo_db_fixture,
    demo_rt_fixture,
    login_clients,
    text_of,
)

from engine import api
from engine.domain.tasks import TaskKey
from engine.runtime import Runtime
from web import create_app
from web.settings import WebSettings

BASE = "/units/vinh-thanh/tasks/cchc-2023/7"


@pytest.fixture
def login(rt: Runtime) -> Iterator[Login]:
    with login_clients(create_app(rt, WebSettings())) as login_:
        yield login_


def test_the_task_page_shows_one_occurrence_and_links_the_others(login: Login,
                                                                  rt: Runtime) -> None:
    client = login("officer")
    page = client.get(BASE).text  # today's occurrence: Q3
    assert "Nhiệm vụ số 7 (kỳ 2023-Q3)" in text_of(page)
    assert "Đã thực hiện" in text_of(page)
    links = set(re.findall(r'href="(/units/vinh-thanh/tasks/cchc-2023/7~[^"]+)"', page))
    assert {f"{BASE}~2023-Q{q}" for q in (1, 2, 4)} <= links
    assert f'action="{BASE}~2023-Q3/note"' in page  # the forms act on the one shown

    q2 = client.get(f"{BASE}~2023-Q2").text
    assert "Nhiệm vụ số 7 (kỳ 2023-Q2)" in text_of(q2)
    assert "Quá hạn" in text_of(q2)  # due 30/06/2023, not done
    version = api.get_task(rt, TaskKey("vinh-thanh", "cchc-2023", "7", "2023-Q2")).version
    r = client.post(f"{BASE}~2023-Q2/transition",
                    data={"csrf_token": csrf(client), "trigger": "start",
                          "version": str(version)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{BASE}~2023-Q2?ok=start"
    states = {o.occurrence: o.state for o in api.occurrences_of(
        rt, TaskKey("vinh-thanh", "cchc-2023", "7"))}
    assert states == {"2023-Q1": "not_started", "2023-Q2": "in_progress",
                      "2023-Q3": "done", "2023-Q4": "not_started"}
    assert client.get(f"{BASE}~2023-Q9").status_code == 400


def test_the_task_list_links_each_occurrence_it_shows(login: Login) -> None:
    client = login("officer")
    links = r'href="(/units/vinh-thanh/tasks/cchc-2023/7~[^"]+)"'
    page = client.get("/units/vinh-thanh/tasks?plan=cchc-2023").text
    assert set(re.findall(links, page)) == {f"{BASE}~2023-Q3"}  # in force on 20/9
    late = client.get("/units/vinh-thanh/tasks?plan=cchc-2023&overdue=1").text
    assert set(re.findall(links, late)) == {f"{BASE}~2023-Q1", f"{BASE}~2023-Q2"}


def test_the_api_names_the_occurrence(rt: Runtime) -> None:
    from fastapi.testclient import TestClient

    from engine.directory import accounts

    token = accounts.create_api_token(rt, "canbo.vinhthanh", "kiểm thử")[0]
    with TestClient(create_app(rt, WebSettings())) as client:
        one = client.get(f"/api{BASE}~2023-Q2", headers={"Authorization": f"Bearer {token}"})
        assert one.status_code == 200, one.text
        assert (one.json()["occurrence"], one.json()["state"]) == ("2023-Q2", "not_started")
        now = client.get(f"/api{BASE}", headers={"Authorization": f"Bearer {token}"}).json()
        assert (now["occurrence"], now["state"]) == ("2023-Q3", "done")
