"""In-process web clients for the page tests: log a role in, read the CSRF token, read text.

Why a module: the page, admin and other web tests drive the same login form the same way.
"""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from web_server import LOGINS

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
