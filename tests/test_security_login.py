"""Login flooding and weak passwords (issue 9).

Findings: failed logins were counted per username + address only, so 80 parallel logins with
invented usernames all ran the 64 MiB argon2 check; one password sprayed over 40 usernames
was not throttled; `12345678` or eight spaces were accepted; `login_attempts` were never purged.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from conftest import Clock
from sqlalchemy import func, select
from test_web_auth import PASSWORD, make_users, seed_units

from engine.directory import accounts
from engine.directory.login_limits import LoginBusy, LoginLimits, LoginThrottled, hash_slot
from engine.errors import ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import LoginAttempt
from web import create_app
from web.settings import WebSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class CountingHasher(PasswordHasher):
    """A cheap hasher that counts `verify` calls and the most running at once."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.delay, self.calls, self.running, self.peak = delay, 0, 0, 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(self.delay)
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingHasher]:
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "hasher", hasher)
    accounts._dummy_hash.cache_clear()
    yield hasher
    accounts._dummy_hash.cache_clear()


@pytest.fixture
def world(rt: Runtime, counting: CountingHasher) -> dict[str, accounts.UserView]:
    seed_units(rt)
    users = make_users(rt)
    counting.calls = counting.peak = 0
    return users


def attempts(rt: Runtime) -> int:
    with rt.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(LoginAttempt)) or 0)


def test_80_parallel_invented_usernames_stay_bounded(rt: Runtime, world: dict[str, Any],
                                                     counting: CountingHasher) -> None:
    counting.delay = 0.02
    limits = LoginLimits(per_address=30, concurrent=2, wait_seconds=30)
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            accounts.authenticate(rt, f"khong-co-{i}", f"doan-mo-{i}", ip="203.0.113.9",
                                  limits=limits)
            kind = "ok"
        except Exception as exc:
            kind = type(exc).__name__
        with lock:
            outcomes[kind] = outcomes.get(kind, 0) + 1

    with ThreadPoolExecutor(max_workers=80) as pool:
        list(pool.map(one, range(80)))
    assert outcomes == {"LoginFailed": 30, "LoginThrottled": 50}
    assert counting.calls == 30  # 50 never reached the hash
    assert counting.peak <= 2  # never more than `concurrent` hashes at once


def test_overflowing_the_hash_slots_answers_busy() -> None:
    limits = LoginLimits(concurrent=1, wait_seconds=0.05)
    with hash_slot(limits), pytest.raises(LoginBusy) as info, hash_slot(limits):
        pass
    assert "bận" in info.value.message_vi and LoginBusy.http_status == 503
    with hash_slot(limits):  # released again
        pass


def test_one_password_sprayed_over_many_usernames_is_throttled(
        rt: Runtime, world: dict[str, Any], counting: CountingHasher) -> None:
    limits = LoginLimits(per_password=10)
    for i in range(10):  # a botnet: each attempt from another address
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(rt, f"nguoi-{i}", "Mua-thu-2023", ip=f"198.51.100.{i}",
                                  limits=limits)
    with pytest.raises(LoginThrottled) as info:
        accounts.authenticate(rt, "canbo.a", "Mua-thu-2023", ip="198.51.100.77", limits=limits)
    assert info.value.scope == "password" and "với mật khẩu này" in info.value.message_vi
    assert counting.calls == 10
    # the real owner with their own password is not affected
    assert accounts.authenticate(rt, "canbo.a", PASSWORD, ip="198.51.100.77",
                                 limits=limits).username == "canbo.a"


def test_global_throttle(rt: Runtime, world: dict[str, Any], counting: CountingHasher) -> None:
    limits = LoginLimits(global_max=5)
    for i in range(5):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(rt, "canbo.a", f"sai-{i}-x", ip=f"10.0.0.{i}", limits=limits)
    with pytest.raises(LoginThrottled) as info:
        accounts.authenticate(rt, "lanhdao.a", PASSWORD, ip="10.9.9.9", limits=limits)
    assert info.value.scope == "global" and counting.calls == 5


def test_successful_logins_from_one_office_are_not_counted(
        rt: Runtime, world: dict[str, Any]) -> None:
    limits = LoginLimits(per_address=3)
    for _ in range(5):
        for name in ("canbo.a", "lanhdao.a"):
            accounts.authenticate(rt, name, PASSWORD, ip="10.1.1.1", limits=limits)
    assert attempts(rt) == 0


def test_expired_attempts_are_purged(rt: Runtime, world: dict[str, Any],
                                     clock: Clock) -> None:
    for i in range(4):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(rt, f"x{i}yz", "sai-mat-khau", ip=f"10.2.0.{i}")
    assert attempts(rt) == 12  # username+address, address, password
    clock.at += timedelta(minutes=16)
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(rt, "canbo.a", "khac-han-nhe", ip="10.3.0.1")
    assert attempts(rt) == 3  # only the new attempt's rows are left
    clock.at += timedelta(minutes=16)
    assert accounts.purge_expired(rt) == 3 and attempts(rt) == 0


def test_web_login_throttled_per_address_answers_429(sqlite_rt: Runtime,
                                                     counting: CountingHasher) -> None:
    seed_units(sqlite_rt)
    make_users(sqlite_rt)
    app = create_app(sqlite_rt, WebSettings(login_max_failures_per_address=3))
    with TestClient(app) as client:
        def post(username: str, password: str) -> Any:
            page = client.get("/login")
            found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert found
            return client.post("/login", data={"username": username, "password": password,
                                               "csrf_token": found.group(1)},
                               follow_redirects=False)

        for i in range(3):
            assert post(f"bia-{i}", "sai-mat-khau").status_code == 400
        r = post("canbo.a", PASSWORD)
        assert r.status_code == 429
        assert "từ địa chỉ này" in r.text and int(r.headers["retry-after"]) > 0


@pytest.mark.parametrize(("password", "reason"), [
    ("12345678", "quá phổ biến"),
    ("123456789", "quá phổ biến"),
    ("matkhau123", "quá phổ biến"),
    ("Mật Khẩu 123", "quá phổ biến"),
    ("anhyeuem", "quá phổ biến"),
    ("        ", "để trống"),
    ("\t \u00a0 \n   ", "để trống"),
    ("ngắn", "ít nhất 8"),
    ("aaaaaaaaaa", "3 ký tự khác nhau"),
    ("canbo.moi", "trùng với tên đăng nhập"),
    ("CANBO.MOI", "trùng với tên đăng nhập"),
])
def test_password_policy(rt: Runtime, world: dict[str, Any], password: str,
                         reason: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        accounts.create_user(rt, "canbo.moi", password=password, role="officer",
                             unit="vinh-thanh", full_name="Cán bộ mới")
    assert reason in info.value.message_vi and info.value.field == "password"
    with pytest.raises(ValidationFailed):
        same_as_name = "canbo.a" if "moi" in password.lower() else password
        accounts.set_password(rt, "canbo.a", same_as_name)
    assert accounts.create_user(rt, "canbo.moi", password="Vĩnh Thạnh 2026!", role="officer",
                                unit="vinh-thanh", full_name="Cán bộ mới").username == "canbo.moi"
