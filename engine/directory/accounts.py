"""Web accounts: users, argon2 password hashes, server-side sessions, API tokens, login throttling.

Why here and not in `web/`: the CLI creates users and tokens (`cchc user add`, `cchc user
token`) and the web app logs them in, so both call these functions on the same `Runtime`.
Nothing secret is ever stored in clear: passwords as argon2id hashes (argon2-cffi's
`PasswordHasher`, rehashed at the next login when its parameters change), session ids and API
tokens as SHA-256 digests of 256-bit random values (a digest is enough for a random secret and
makes the lookup an indexed equality). Times are Vietnam time, like the rest of the engine.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from engine.clock import VN_TZ
from engine.directory.actor import COMMUNE_ROLES, ROLES
from engine.directory.login_limits import (
    LoginBusy,
    LoginLimits,
    LoginThrottled,
    address_key,
    check_limits,
    hash_slot,
    password_key,
)
from engine.directory.passwords import MAX_PASSWORD, check_password_rules
from engine.directory.units import KIND_PREFIX, get_unit
from engine.errors import Conflict, Forbidden, NotFound, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import ApiToken, LoginAttempt, Unit, User, WebSession
from engine.storage.rows import plain_row
from vntext.text import nfc

#: Unit kinds an officer or leader belongs to (a commune-level unit).
COMMUNE_KINDS = frozenset(KIND_PREFIX)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
TOKEN_PREFIX = "cchc_"
#: PostgreSQL advisory lock that serialises recording login attempts (any constant id).
LOGIN_LOCK_ID = 0x63636863_0001
#: A live session's expiry moves forward at most this often (one write per minute, not per page).
TOUCH_EVERY = timedelta(minutes=1)

hasher = PasswordHasher()


class LoginFailed(ValidationFailed):
    """Wrong username or password: deliberately the same message for both."""

    code = "login_failed"

    def __init__(self) -> None:
        super().__init__("Sai tên đăng nhập hoặc mật khẩu", "wrong username or password",
                         field="password")


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    full_name: str
    role: str
    unit_id: int | None
    unit_slug: str | None
    unit_name: str | None
    unit_kind: str | None
    active: bool
    person_id: int | None = None
    last_login_at: datetime | None = None

    @property
    def unit_display(self) -> str:
        """'xã Vĩnh Thạnh', 'thành phố Nha Trang'; empty for an admin without a unit."""
        return f"{self.unit_kind} {self.unit_name}" if self.unit_name else ""


@dataclass(frozen=True)
class SessionView:
    user: UserView
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ApiTokenView:
    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# ---------------------------------------------------------------- helpers


def _aware(value: datetime) -> datetime:
    """SQLite hands times back without their offset; the engine writes Vietnam time."""
    return value.replace(tzinfo=VN_TZ) if value.tzinfo is None else value.astimezone(VN_TZ)


def _now(rt: Runtime) -> datetime:
    return _aware(rt.now())


def digest(secret: str) -> str:
    """SHA-256 hex of a random secret (session id, API token): what the database keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    return nfc(username).lower()


def _password(password: str) -> str:
    # NFC so "Hà Nội" typed on a Mac (NFD) and on Windows (NFC) is the same password; never
    # stripped: spaces are part of it.
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    return hasher.hash(_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, _password(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return hasher.hash("cchc-dummy-password")


def _user_view(session: Session, user: User) -> UserView:
    unit = session.get(Unit, user.unit_id) if user.unit_id is not None else None
    return UserView(
        id=user.id, username=user.username, full_name=user.full_name, role=user.role,
        unit_id=user.unit_id, unit_slug=unit.slug if unit else None,
        unit_name=unit.name if unit else None, unit_kind=unit.kind if unit else None,
        active=user.active, person_id=user.person_id,
        last_login_at=_aware(user.last_login_at) if user.last_login_at else None,
    )


def _find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise NotFound(f"Không có tài khoản '{username}' (xem: cchc user list)",
                       f"user '{username}' not found", field="username", value=username)
    return user


def _check_role_unit(role: str, unit: Unit | None) -> None:
    if role not in ROLES:
        raise ValidationFailed(
            f"Vai trò '{role}' không hợp lệ (officer, leader, reviewer, admin)",
            f"unknown role '{role}' (officer, leader, reviewer, admin)", field="role",
            value=role)
    if role == "admin":
        return
    if unit is None:
        raise ValidationFailed("Phải ghi đơn vị của tài khoản", "a unit is required",
                               field="unit")
    if role in COMMUNE_ROLES and unit.kind not in COMMUNE_KINDS:
        raise ValidationFailed(
            f"Cán bộ và lãnh đạo thuộc một xã/phường, không thuộc {unit.kind} {unit.name}",
            "officers and leaders belong to a commune-level unit", field="unit",
            value=unit.slug)
    if role == "reviewer" and unit.kind in COMMUNE_KINDS:
        raise ValidationFailed(
            f"Người thẩm định thuộc cơ quan cấp trên của các xã (tỉnh, thành phố, huyện), không "
            f"thuộc {unit.kind} {unit.name}",
            "a reviewer belongs to a body above the communes (province, city, district)",
            field="unit",
            value=unit.slug)


# ---------------------------------------------------------------- users


def create_user(rt: Runtime, username: str, *, password: str, role: str, full_name: str,
                unit: str | None = None, person_id: int | None = None) -> UserView:
    """A new login; its password is stored as an argon2 hash only."""
    uname = normalise_username(username)
    if not USERNAME_RE.match(uname):
        raise ValidationFailed(
            "Tên đăng nhập gồm 3–64 ký tự a-z, 0-9, dấu chấm, gạch ngang, gạch dưới "
            "(không dấu, không khoảng trắng)",
            "a username is 3-64 characters a-z 0-9 . _ -", field="username", value=username)
    full_name = nfc(full_name)
    if not full_name:
        raise ValidationFailed("Phải ghi họ tên", "the full name is required", field="name")
    check_password_rules(password, uname)
    password_hash = hash_password(password)
    with rt.db.transaction() as session:
        unit_row = get_unit(session, unit) if unit else None
        _check_role_unit(role, unit_row)
        if session.scalar(select(User.id).where(User.username == uname)) is not None:
            raise Conflict(f"Tên đăng nhập '{uname}' đã có người dùng",
                           f"username '{uname}' is taken", field="username", value=uname)
        user = User(username=uname, full_name=full_name, password_hash=password_hash,
                    role=role, unit_id=unit_row.id if unit_row else None, person_id=person_id,
                    active=True, created_at=_now(rt))
        session.add(user)
        session.flush()
        return _user_view(session, user)


def get_user(rt: Runtime, username: str) -> UserView:
    with rt.db.read() as session:
        return _user_view(session, _find_user(session, username))


def get_user_by_id(rt: Runtime, user_id: int) -> UserView | None:
    with rt.db.read() as session:
        user = session.get(User, user_id)
        return _user_view(session, user) if user else None


def list_users(rt: Runtime) -> list[UserView]:
    with rt.db.read() as session:
        return [_user_view(session, u)
                for u in session.scalars(select(User).order_by(User.username))]


def set_password(rt: Runtime, username: str, password: str, *,
                 keep_session: str | None = None) -> UserView:
    """Change a password: every other open session of the user ends (all of them unless
    `keep_session`, the raw id of the session making the change) and every API token of the
    user is revoked — whoever knew the old password may have made one."""
    check_password_rules(password, normalise_username(username))
    password_hash = hash_password(password)
    with rt.db.transaction() as session:
        user = _find_user(session, username)
        user.password_hash = password_hash
        ended = delete(WebSession).where(WebSession.user_id == user.id)
        if keep_session:
            ended = ended.where(WebSession.id_hash != digest(keep_session))
        session.execute(ended)
        session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                               ApiToken.revoked_at.is_(None))
                        .values(revoked_at=_now(rt)))
        return _user_view(session, user)


def set_active(rt: Runtime, username: str, active: bool) -> UserView:
    """Lock or unlock an account; locking ends its sessions (its API tokens stop working)."""
    with rt.db.transaction() as session:
        user = _find_user(session, username)
        user.active = active
        if not active:
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        return _user_view(session, user)


# ---------------------------------------------------------------- login and its throttle


def attempt_key(username: str, ip: str) -> str:
    """What failures are counted by: the username typed and the client address."""
    return f"{normalise_username(username)[:120]}|{ip[:64]}"


def _throttle_minutes(session: Session, key: str, now: datetime, max_failures: int,
                      window: timedelta) -> int:
    """0 if a new attempt may be made for `key`, else the whole minutes until one may."""
    try:
        check_limits(session, {"user": key}, now,
                     LoginLimits(max_failures=max_failures, window=window, global_max=2**31))
    except LoginThrottled as exc:
        return exc.minutes
    return 0


def login_wait_minutes(rt: Runtime, username: str, ip: str, *, max_failures: int = 5,
                       window: timedelta = timedelta(minutes=15)) -> int:
    with rt.db.read() as session:
        return _throttle_minutes(session, attempt_key(username, ip), _now(rt), max_failures,
                                 window)


def authenticate(rt: Runtime, username: str, password: str, *, ip: str,
                 max_failures: int = 5, window: timedelta = timedelta(minutes=15),
                 limits: LoginLimits | None = None) -> UserView:
    """The user whose password this is, or `LoginFailed` / `LoginThrottled` / `LoginBusy`.

    In front of the hash (see `engine.directory.login_limits`): the throttles per username +
    address,
    per address, per password and for the whole server, then a bounded number of concurrent
    hash checks. The attempt is recorded *before* the password is checked (its rows are removed,
    with the earlier failures of the same username + address, when it succeeds), so parallel
    guesses count too; expired rows are purged. While throttled the password is not even
    checked. An unknown or locked username costs the same argon2 work and gets the same
    message as a wrong password.
    """
    limits = limits or LoginLimits(max_failures=max_failures, window=window)
    password = _password(password)
    key = attempt_key(username, ip)
    keys = {"user": key, "address": address_key(ip), "password": password_key(password)}
    now = _now(rt)
    with rt.db.serialized(LOGIN_LOCK_ID) as session:  # counted and recorded one at a time
        session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - limits.window))
        check_limits(session, keys, now, limits)
        rows = [LoginAttempt(key=k, at=now) for k in keys.values()]
        session.add_all(rows)
        session.flush()
        row_ids = [r.id for r in rows]
    with rt.db.read() as session:
        user = session.scalar(select(User).where(User.username == normalise_username(username)))
        stored = user.password_hash if user is not None and user.active else None
    if len(password) > MAX_PASSWORD:  # never a valid password; not worth hashing
        raise LoginFailed()
    with hash_slot(limits):
        ok = verify_password(stored if stored is not None else _dummy_hash(), password)
    if stored is None or not ok:
        raise LoginFailed()
    assert user is not None
    with rt.db.transaction() as session:
        row = session.get(User, user.id)
        assert row is not None
        if hasher.check_needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        row.last_login_at = now
        session.execute(delete(LoginAttempt).where(
            (LoginAttempt.key == key) | LoginAttempt.id.in_(row_ids)))
        return _user_view(session, row)


# ---------------------------------------------------------------- sessions


def create_session(rt: Runtime, user_id: int, *, lifetime: timedelta) -> tuple[str, SessionView]:
    """A new server-side session: (the raw id for the cookie, the session). Only the id's
    digest is stored, so a copy of the database cannot be used to log in."""
    raw = secrets.token_urlsafe(32)
    now = _now(rt)
    with rt.db.transaction() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise NotFound("Không có tài khoản này", "no such active user", field="user")
        row = WebSession(id_hash=digest(raw), user_id=user_id,
                         csrf_token=secrets.token_urlsafe(32), created_at=now,
                         expires_at=now + lifetime, last_seen_at=now)
        session.add(row)
        return raw, SessionView(_user_view(session, user), row.csrf_token, now, row.expires_at)


#: A session or token's user and unit, in one statement (built once: a web request asks it).
_USER_COLUMNS = (User.id, User.username, User.full_name, User.role, User.unit_id, User.active,
                 User.person_id, User.last_login_at, Unit.slug, Unit.name, Unit.kind)
_SESSION_ROW = (select(WebSession.created_at, WebSession.expires_at, WebSession.last_seen_at,
                       WebSession.csrf_token, *_USER_COLUMNS)
                .outerjoin(User, User.id == WebSession.user_id)
                .outerjoin(Unit, Unit.id == User.unit_id)
                .where(WebSession.id_hash == bindparam("key")))
_TOKEN_ROW = (select(ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at, *_USER_COLUMNS)
              .outerjoin(User, User.id == ApiToken.user_id)
              .outerjoin(Unit, Unit.id == User.unit_id)
              .where(ApiToken.token_hash == bindparam("key")))


def _user_view_of(row: Sequence[Any]) -> UserView | None:
    """The `UserView` of a `_USER_COLUMNS` tail (None: no such user, or locked)."""
    (uid, username, full_name, role, unit_id, active, person_id, last_login, slug, name,
     kind) = row[-11:]
    if uid is None or not active:
        return None
    return UserView(id=uid, username=username, full_name=full_name, role=role,
                    unit_id=unit_id, unit_slug=slug, unit_name=name, unit_kind=kind,
                    active=active, person_id=person_id,
                    last_login_at=_aware(last_login) if last_login else None)


def resolve_session(rt: Runtime, raw_id: str, *, lifetime: timedelta,
                    absolute: timedelta | None = None) -> SessionView | None:
    """The live session with this cookie value, or None (unknown, expired, user locked).

    Sliding expiry: each use (at most once a minute) moves the end to now + lifetime, but
    never past `absolute` after the login (a stolen cookie kept busy still dies). An expired
    session's row is deleted when it is met. Read with one statement (session, user, unit);
    written only when it is touched or ended.
    """
    if not raw_id or len(raw_id) > 128:
        return None
    now = _now(rt)
    key = digest(raw_id)
    with rt.db.read() as session:
        row = plain_row(session.connection(), _SESSION_ROW, {"key": key})
    if row is None:
        return None
    created_at, expires_at, last_seen_at, csrf_token = (
        _aware(row[0]), _aware(row[1]), _aware(row[2]), row[3])
    user = _user_view_of(row)
    hard_end = created_at + absolute if absolute is not None else None
    if expires_at <= now or user is None or (hard_end is not None and hard_end <= now):
        with rt.db.transaction() as session:
            session.execute(delete(WebSession).where(WebSession.id_hash == key))
        return None
    if now - last_seen_at >= TOUCH_EVERY:
        expires_at = now + lifetime if hard_end is None else min(now + lifetime, hard_end)
        with rt.db.transaction() as session:
            session.execute(update(WebSession).where(WebSession.id_hash == key)
                            .values(last_seen_at=now, expires_at=expires_at))
    return SessionView(user, csrf_token, created_at, expires_at)


def end_session(rt: Runtime, raw_id: str) -> None:
    """Log out: the session row is deleted, so the cookie is worthless even if kept."""
    with rt.db.transaction() as session:
        session.execute(delete(WebSession).where(WebSession.id_hash == digest(raw_id)))


def end_user_sessions(rt: Runtime, user_id: int) -> int:
    with rt.db.transaction() as session:
        res = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
        return int(res.rowcount)  # type: ignore[attr-defined]


def purge_expired(rt: Runtime, *, login_window: timedelta = timedelta(minutes=15)) -> int:
    """Delete expired sessions and login failures older than the window (housekeeping)."""
    now = _now(rt)
    with rt.db.transaction() as session:
        a = session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        b = session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - login_window))
        return int(a.rowcount) + int(b.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- API tokens


def _token_view(session: Session, t: ApiToken) -> ApiTokenView:
    user = session.get(User, t.user_id)
    return ApiTokenView(t.id, user.username if user else "", t.name, t.prefix,
                        _aware(t.created_at), _aware(t.last_used_at) if t.last_used_at else None,
                        _aware(t.revoked_at) if t.revoked_at else None)


def create_api_token(rt: Runtime, username: str, name: str) -> tuple[str, ApiTokenView]:
    """A new token for `username`: (the token, shown once and never stored, its record)."""
    name = nfc(name)
    if not name or len(name) > 100:
        raise ValidationFailed("Phải đặt tên cho mã truy cập (tối đa 100 ký tự), ví dụ "
                               "'Hệ thống báo cáo tỉnh'", "the token needs a name (max 100)",
                               field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with rt.db.transaction() as session:
        user = _find_user(session, username)
        if not user.active:
            raise Forbidden(f"Tài khoản '{user.username}' đang bị khóa",
                            f"user '{user.username}' is locked", field="username")
        row = ApiToken(user_id=user.id, name=name, token_hash=digest(raw), prefix=raw[:12],
                       created_at=_now(rt))
        session.add(row)
        session.flush()
        return raw, _token_view(session, row)


def authenticate_token(rt: Runtime, raw: str) -> UserView | None:
    """The user of a live API token (not revoked, user active), else None. Read with one
    statement (token, user, unit); the token's last use is written at most once a minute."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 128:
        return None
    now = _now(rt)
    with rt.db.read() as session:
        row = plain_row(session.connection(), _TOKEN_ROW, {"key": digest(raw)})
    if row is None or row[1] is not None:
        return None
    user = _user_view_of(row)
    if user is None:
        return None
    if row[2] is None or now - _aware(row[2]) >= TOUCH_EVERY:
        with rt.db.transaction() as session:
            session.execute(update(ApiToken).where(ApiToken.id == row[0])
                            .values(last_used_at=now))
    return user


def list_api_tokens(rt: Runtime, username: str | None = None) -> list[ApiTokenView]:
    with rt.db.read() as session:
        q = select(ApiToken).order_by(ApiToken.id)
        if username:
            q = q.where(ApiToken.user_id == _find_user(session, username).id)
        return [_token_view(session, t) for t in session.scalars(q)]


def revoke_api_token(rt: Runtime, token_id: int) -> ApiTokenView:
    """Revoke a token (by its id, see `list_api_tokens`); revoking twice keeps the first time."""
    with rt.db.transaction() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"Không có mã truy cập số {token_id}", f"token {token_id} not found",
                           field="token", value=str(token_id))
        if row.revoked_at is None:
            row.revoked_at = _now(rt)
        return _token_view(session, row)


__all__ = [
    "COMMUNE_KINDS",
    "ROLES",
    "ApiTokenView",
    "LoginBusy",
    "LoginFailed",
    "LoginLimits",
    "LoginThrottled",
    "SessionView",
    "UserView",
    "attempt_key",
    "authenticate",
    "authenticate_token",
    "check_password_rules",
    "create_api_token",
    "create_session",
    "create_user",
    "digest",
    "end_session",
    "end_user_sessions",
    "get_user",
    "get_user_by_id",
    "hash_password",
    "hasher",
    "list_api_tokens",
    "list_users",
    "login_wait_minutes",
    "normalise_username",
    "purge_expired",
    "resolve_session",
    "revoke_api_token",
    "set_active",
    "set_password",
    "verify_password",
]
