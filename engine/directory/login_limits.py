"""What stands in front of the password hash: throttles and a bound on parallel hash checks.

Why: one argon2 check costs ~64 MiB and ~0.4 s of a CPU. Counting failures per username and
address alone let 80 parallel logins with invented usernames run 80 checks at once (server
memory 187 MB → 2.36 GB). Before any hash is computed a login now passes, in order:

1. the failures of this username from this address (`max_failures`, as before);
2. the failures from this address, whatever the username (`per_address`);
3. the failures with this password, whatever the username (`per_password`: one password sprayed
   over many accounts; counted by a short fingerprint, never the password);
4. all failures on the server (`global_max`);
5. a free slot among `concurrent` hash checks, waited for at most `wait_seconds` (else 503).

Attempts are recorded before the check (parallel guesses count) and the rows of a successful
login are removed again, so 30 officers logging in from one commune office are not throttled.
Rows older than the window are purged at every login attempt.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import CchcError, Forbidden
from engine.storage.models import LoginAttempt

ADDRESS_PREFIX = "ip:"
PASSWORD_PREFIX = "pw:"


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    per_address: int = 30
    per_password: int = 10
    global_max: int = 500
    concurrent: int = 2
    wait_seconds: float = 5.0


class LoginThrottled(Forbidden):
    """Too many failed logins (for this username and address, this address, this password or
    the whole server); `minutes` until a new attempt may be made."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, minutes: int, scope: str = "user") -> None:
        self.minutes = minutes
        self.retry_after = minutes * 60
        self.scope = scope
        where = {"user": "", "address": " từ địa chỉ này",
                 "password": " với mật khẩu này", "global": " trên hệ thống"}[scope]
        super().__init__(f"Quá nhiều lần đăng nhập sai{where}, thử lại sau {minutes} phút",
                         f"too many failed logins ({scope}), retry in {minutes} minutes",
                         field="username")


class LoginBusy(CchcError):
    """Every hash-check slot stayed busy for `wait_seconds`: the server is overloaded."""

    code = "busy"
    http_status = 503
    retry_after = 5

    def __init__(self) -> None:
        super().__init__("Máy chủ đang bận kiểm tra đăng nhập, vui lòng thử lại sau ít giây",
                         "the server is busy checking logins, retry in a few seconds",
                         field="password")


def address_key(ip: str) -> str:
    return ADDRESS_PREFIX + ip[:64]


def password_key(password: str) -> str:
    """A 40-bit fingerprint: enough to count one password sprayed over accounts, too short to
    confirm a guess of a strong password (and purged after the window)."""
    fp = hashlib.sha256(b"cchc-login-spray\x00" + password.encode("utf-8")).hexdigest()[:10]
    return PASSWORD_PREFIX + fp


def _wait_minutes(times: list[datetime], limit: int, now: datetime, window: timedelta) -> int:
    """0 if `times` (failures inside the window) leave room for one more, else the minutes
    until enough of them have left the window."""
    if len(times) < limit:
        return 0
    times = sorted(times)
    frees_at = times[len(times) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds() / 60))


def check_limits(session: Session, keys: dict[str, str], now: datetime,
                 limits: LoginLimits) -> None:
    """Raise `LoginThrottled` if any of the keys (scope → key) is past its limit."""
    cutoff = now - limits.window
    per_scope = {"user": limits.max_failures, "address": limits.per_address,
                 "password": limits.per_password}
    for scope, key in keys.items():
        times = [_as_aware(t, now) for t in session.scalars(
            select(LoginAttempt.at).where(LoginAttempt.key == key, LoginAttempt.at > cutoff))]
        minutes = _wait_minutes(times, per_scope[scope], now, limits.window)
        if minutes:
            raise LoginThrottled(minutes, scope)
    total = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.key.startswith(ADDRESS_PREFIX), LoginAttempt.at > cutoff)) or 0
    if total >= limits.global_max:
        raise LoginThrottled(max(1, math.ceil(limits.window.total_seconds() / 60)), "global")


def _as_aware(value: datetime, now: datetime) -> datetime:
    return value.replace(tzinfo=now.tzinfo) if value.tzinfo is None else value


@cache
def _slots(size: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(size)


@contextmanager
def hash_slot(limits: LoginLimits) -> Iterator[None]:
    """Hold one of the process's `limits.concurrent` hash-check slots, or raise `LoginBusy`."""
    slots = _slots(max(1, limits.concurrent))
    if not slots.acquire(timeout=limits.wait_seconds):
        raise LoginBusy()
    try:
        yield
    finally:
        slots.release()


__all__ = [
    "LoginBusy",
    "LoginLimits",
    "LoginThrottled",
    "address_key",
    "check_limits",
    "hash_slot",
    "password_key",
]
