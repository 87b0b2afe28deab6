"""NUL bytes are refused with 400 on every input — path, query, form, JSON — on SQLite and on
PostgreSQL, where a NUL in a text used to end in a 500 (issue 9)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from test_web_auth import make_users, seed_units

from engine.directory import accounts
from engine.runtime import Runtime
from web import create_app
from web.settings import WebSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(autouse=True)
def cheap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(accounts, "hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                           parallelism=1))
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


@pytest.fixture
def any_db_app(rt: Runtime) -> TestClient:
    """The app over the `rt` fixture: SQLite and PostgreSQL (where NUL used to give 500)."""
    seed_units(rt)
    make_users(rt)
    return TestClient(create_app(rt, WebSettings()))


def test_nul_bytes_are_refused_on_every_input(rt: Runtime, any_db_app: TestClient) -> None:
    client = any_db_app
    raw, _ = accounts.create_api_token(rt, "canbo.a", "Kiểm thử")
    h = {"Authorization": f"Bearer {raw}"}
    # JSON body, as an escape and as a raw byte
    r = client.post("/api/units/vinh-thanh/tasks/cchc-2023/1/notes", headers=h,
                    json={"note": "Đã họp\u0000", "expected_version": 1})
    assert r.status_code == 400 and "NUL" in r.json()["message_vi"]
    # query string
    r = client.get("/api/units/vinh-thanh/tasks?q=a%00b", headers=h)
    assert r.status_code == 400 and r.json()["field"] == "q"
    # a form (the login form, anonymous) and a path
    page = client.get("/login")
    token = page.cookies.get("cchc_csrf") or client.cookies.get("cchc_csrf")
    r = client.post("/login", data={"username": "canbo.a\x00", "password": "x",
                                    "csrf_token": token or ""})
    assert r.status_code == 400 and "NUL" in r.text
    r = client.get("/api/units/vinh%00thanh/tasks", headers=h)
    assert r.status_code in (400, 404)
    assert accounts.list_api_tokens(rt)  # the server is fine


