"""In-process web clients for the page tests: log a role in, read the CSRF token, read text.

Why a module: the page, admin and other web tests drive the same login form the same way.
"""

from __future__ import annotations

import html
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import Clock
from web_server import DEMO_NOW, LOGINS, cheap_hashes

from engine.runtime import Runtime, open_runtime

with warnings.catch_warnings():  # starlette's TestClient warns about httpx at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Login = Callable[[str], TestClient]  # role or username → a logged-in client


@contextmanager
def login_clients(app: Any, password: str = "") -> Iterator[Login]:
    """`login(role)` gives a client logged in through the real form; `password` is used for
    usernames that are not demo roles (logins a test added)."""
    clients: list[TestClient] = []

    def _login(role: str) -> TestClient:
        username, pw = LOGINS.get(role, (role, password))
        client = TestClient(app)
        clients.append(client)
        page = client.get("/login")
        r = client.post("/login", data={"username": username, "password": pw,
                                         "csrf_token": token(page.text), "next": "/dashboard"},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        return client

    try:
        yield _login
    finally:
        for c in clients:
            c.close()


def token(page: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, "no CSRF field on the page"
    return m.group(1)


def csrf(client: TestClient) -> str:
    return token(client.get("/dashboard").text)


def text_of(page: str) -> str:
    """The page's text, unescaped, whitespace collapsed (for 'is this sentence shown')."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


# ------------------------------------------- fixtures (import the *_fixture names into a module)


@pytest.fixture(scope="module", name="demo_db")
def demo_db_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Vĩnh Thạnh demo database, built once per test module."""
    from engine.demo import run_demo

    with cheap_hashes():
        return run_demo(tmp_path_factory.mktemp("demo")).database


@pytest.fixture(autouse=True, name="_cheap")
def cheap_hashes_fixture() -> Iterator[None]:
    with cheap_hashes():
        yield


@pytest.fixture(name="pg_demo_rt")
def pg_demo_rt_fixture(pg_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """The Vĩnh Thạnh demo built on a fresh PostgreSQL database, at the demo's clock."""
    from engine.demo import run_demo

    with cheap_hashes():
        run_demo(tmp_path, url=pg_url)
    runtime = open_runtime(pg_url, clock=Clock(DEMO_NOW), migrate=False)
    yield runtime
    runtime.db.dispose()


@pytest.fixture(name="rt")
def demo_rt_fixture(demo_db: Path, tmp_path: Path) -> Iterator[Runtime]:
    """A private copy of the demo database per test, at the demo's clock."""
    copy = tmp_path / "cchc.sqlite3"
    shutil.copy(demo_db, copy)
    runtime = open_runtime(f"sqlite:///{copy}", clock=Clock(DEMO_NOW), migrate=False)
    yield runtime
    runtime.db.dispose()
