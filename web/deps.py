"""FastAPI dependencies: the runtime, the logged-in user (cookie for pages, Bearer for /api),
role checks and CSRF.

Pages: the `cchc_session` cookie (HttpOnly, SameSite=Lax, Path=/, Secure per settings) holds a
random id; the session itself (user, CSRF token, expiry) is a `web_sessions` row. `/api/`
routes never look at cookies: they take `Authorization: Bearer <token>`, which is why they are
exempt from CSRF and nothing else is.

CSRF (synchronizer token): `csrf_protect` is installed as an *application-wide* dependency by
`create_app`, so every POST/PUT/PATCH/DELETE outside `/api/` is checked before its route runs —
a route cannot forget it. The token is the session's (`web_sessions.csrf_token`); forms carry it
as the hidden field `csrf_token` (`{{ csrf_input() }}` in templates), scripts as the header
`X-CSRF-Token`. Anonymous forms (only `/login`) use a token in the `cchc_csrf` cookie instead
(double submit); any other unsafe request without a session is sent to the login page.
"""

from __future__ import annotations

import dataclasses
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from engine import directory
from engine.directory import SessionView, UserView, role_label
from engine.errors import CchcError, Forbidden, ValidationFailed
from engine.runtime import Runtime
from web.settings import WebSettings

SESSION_COOKIE = "cchc_session"
ANON_CSRF_COOKIE = "cchc_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
API_PREFIX = "/api/"
#: Paths whose forms are posted without a session (they use the `cchc_csrf` cookie token).
ANONYMOUS_FORMS = frozenset({"/login"})
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_STATE_SESSION = "cchc_session"
_STATE_RT = "cchc_rt"
_STATE_NEW_ANON = "cchc_new_anon_csrf"


class LoginRequired(CchcError):
    """No (live) session: pages redirect to /login, the API answers 401."""

    code = "login_required"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("Vui lòng đăng nhập", "login required", field="session")


class NotAuthenticated(CchcError):
    """An /api/ request without a valid, unrevoked Bearer token."""

    code = "unauthorized"
    http_status = 401

    def __init__(self, message_vi: str = "Thiếu mã truy cập hoặc mã không hợp lệ",
                 message_en: str = "missing or invalid bearer token") -> None:
        super().__init__(message_vi, message_en, field="authorization")


class RequestTooLarge(ValidationFailed):
    """A request body above `WebSettings.max_request_bytes` (checked by the app's middleware)."""

    code = "too_large"
    http_status = 413

    def __init__(self, max_upload_bytes: int) -> None:
        mb = max_upload_bytes / (1024 * 1024)
        size = f"{mb:.0f} MB" if mb >= 1 else f"{max_upload_bytes // 1024} KB"
        super().__init__(f"Tệp hoặc dữ liệu gửi lên quá lớn (tối đa {size})",
                         f"request body too large (max {size})", field="file")


class CsrfFailed(Forbidden):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "Biểu mẫu đã hết hạn hoặc không hợp lệ; hãy tải lại trang rồi thử lại",
            "missing or wrong CSRF token; reload the page and retry", field=CSRF_FIELD)


# ---------------------------------------------------------------- runtime and settings


def get_rt(request: Request) -> Runtime:
    """This request's `Runtime`: the app's (`app.state.rt`) seen through ONE database
    connection and session for the whole request (`Database.scoped`), so the engine calls of a
    page share them instead of opening one each; pass it to `engine.api` functions. Closed by
    the app's `RequestScope` middleware when the response has been sent."""
    scoped: Runtime | None = getattr(request.state, _STATE_RT, None)
    if scoped is None:
        base: Runtime = request.app.state.rt
        scoped = dataclasses.replace(base, db=base.db.scoped())
        setattr(request.state, _STATE_RT, scoped)
    return scoped


def request_runtime_idle(state: dict[str, Any]) -> bool:
    """Whether closing the request's database scope sends nothing to the database (then the
    middleware closes it without a hop to the thread pool)."""
    rt = state.get(_STATE_RT)
    return not isinstance(rt, Runtime) or rt.db.idle()


def close_request_runtime(state: dict[str, Any]) -> None:
    """End the request's database scope (for the middleware; nothing if none was opened)."""
    rt = state.pop(_STATE_RT, None)
    if isinstance(rt, Runtime):
        rt.db.dispose()  # a scoped database gives its connection back; the engine stays


def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


async def _rt_dependency(request: Request) -> Runtime:
    """`get_rt` as a route dependency. Async because it does no I/O: FastAPI runs a sync
    dependency in the thread pool, a hop between threads on every request for nothing."""
    return get_rt(request)


async def _settings_dependency(request: Request) -> WebSettings:
    return get_settings(request)


Rt = Annotated[Runtime, Depends(_rt_dependency)]
Settings = Annotated[WebSettings, Depends(_settings_dependency)]


def client_ip(request: Request) -> str:
    """The client's address. Behind a reverse proxy run uvicorn with --proxy-headers
    (and --forwarded-allow-ips) so this is the real client, not the proxy."""
    return request.client.host if request.client else "unknown"


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path == API_PREFIX[:-1]


# ---------------------------------------------------------------- session (pages)


def load_session(request: Request) -> SessionView | None:
    """The live session of this request's cookie (looked up once per request), or None."""
    state = request.state
    if hasattr(state, _STATE_SESSION):
        cached: SessionView | None = getattr(state, _STATE_SESSION)
        return cached
    raw = request.cookies.get(SESSION_COOKIE)
    found = None
    if raw and not is_api(request):
        settings = get_settings(request)
        found = directory.resolve_session(get_rt(request), raw,
                                         lifetime=settings.session_lifetime,
                                         absolute=settings.session_absolute)
    setattr(state, _STATE_SESSION, found)
    return found


def forget_session(request: Request) -> None:
    """After login/logout: the next `load_session` of this request sees no session."""
    setattr(request.state, _STATE_SESSION, None)


def optional_user(request: Request) -> UserView | None:
    sess = load_session(request)
    return sess.user if sess else None


def current_user(request: Request) -> UserView:
    """The logged-in user of a page; anonymous → redirect to /login?next=…"""
    sess = load_session(request)
    if sess is None:
        raise LoginRequired()
    return sess.user


CurrentUser = Annotated[UserView, Depends(current_user)]
OptionalUser = Annotated[UserView | None, Depends(optional_user)]


def set_session_cookie(response: Response, raw_id: str, settings: WebSettings) -> None:
    # No Max-Age: the cookie ends with the browser; the server ends the session after
    # `session_lifetime_minutes` without use (or at logout).
    response.set_cookie(SESSION_COOKIE, raw_id, path="/", httponly=True, samesite="lax",
                        secure=settings.cookie_secure)


def clear_session_cookie(response: Response, settings: WebSettings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=settings.cookie_secure)


# ---------------------------------------------------------------- API (Bearer tokens)


def api_user(request: Request) -> UserView:
    """The user of `Authorization: Bearer <token>` (see `cchc user token`); else 401 JSON."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated()
    user = directory.authenticate_token(get_rt(request), token.strip())
    if user is None:
        raise NotAuthenticated("Mã truy cập không hợp lệ hoặc đã bị thu hồi",
                               "invalid or revoked bearer token")
    return user


ApiUser = Annotated[UserView, Depends(api_user)]


# ---------------------------------------------------------------- roles


def require_role(*roles: str, api: bool = False) -> Callable[..., Awaitable[UserView]]:
    """A dependency returning the user if their role is one of `roles`, else 403.

    `Depends(require_role("leader", "admin"))` for pages, `require_role(..., api=True)` for
    /api/ routes. Unit scope is not a role question: use `engine.directory.access` in the route.
    """
    allowed = frozenset(roles)

    def check(user: UserView) -> UserView:
        if user.role not in allowed:

            raise Forbidden(f"Vai trò {role_label(user.role)} không được dùng chức năng này",
                            f"role '{user.role}' may not use this", field="role")
        return user

    # async: a role check does no I/O (a sync dependency would cost a hop to the thread pool)
    if api:
        async def dep_api(user: ApiUser) -> UserView:
            return check(user)

        return dep_api

    async def dep(user: CurrentUser) -> UserView:
        return check(user)

    return dep


# ---------------------------------------------------------------- CSRF


def csrf_token(request: Request) -> str:
    """The token forms of this request must carry: the session's, or (anonymous) the
    `cchc_csrf` cookie's — a new one is made and set as a cookie when there is none."""
    sess = load_session(request)
    if sess is not None:
        return sess.csrf_token
    existing = request.cookies.get(ANON_CSRF_COOKIE, "")
    if _TOKEN_RE.match(existing):
        return existing
    new: str | None = getattr(request.state, _STATE_NEW_ANON, None)
    if new is None:
        new = secrets.token_urlsafe(32)
        setattr(request.state, _STATE_NEW_ANON, new)
    return new


def new_anonymous_csrf(scope_state: dict[str, Any]) -> str | None:
    """For the middleware: the anonymous token made during this request, to set as cookie."""
    value = scope_state.get(_STATE_NEW_ANON)
    return value if isinstance(value, str) else None


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


async def csrf_protect(request: Request) -> None:
    """Application-wide: refuse an unsafe non-API request whose token is missing or wrong
    (403, before the route runs, so nothing is changed)."""
    if request.method in SAFE_METHODS or is_api(request):
        return
    sess = await run_in_threadpool(load_session, request)
    if sess is not None:
        expected = sess.csrf_token
    elif request.url.path in ANONYMOUS_FORMS:
        expected = request.cookies.get(ANON_CSRF_COOKIE, "")
        if not _TOKEN_RE.match(expected):
            raise CsrfFailed()
    else:
        raise LoginRequired()
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded",
                                    "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else ""
    if not _same(sent, expected):
        raise CsrfFailed()


# ---------------------------------------------------------------- NUL bytes


def _nul_refused(where: str) -> ValidationFailed:
    return ValidationFailed(
        f"Dữ liệu gửi lên có ký tự rỗng (NUL) ở '{where}'; hãy gõ lại hoặc dán lại nội dung",
        f"a NUL character in '{where}' is not accepted", field=where)


async def refuse_nul(request: Request) -> None:
    """Application-wide: no text may carry a NUL character (PostgreSQL cannot store one; no
    officer ever types one) — in the path, the query, a form field or a JSON body → 400.
    File contents are bytes and may hold NULs (a PDF does); their names may not."""
    if "\x00" in request.url.path:
        raise _nul_refused("path")
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise _nul_refused(name.replace("\x00", "") or "query")
    if request.method in SAFE_METHODS:
        return
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for name, item in form.multi_items():
            text = item if isinstance(item, str) else (item.filename or "")
            if "\x00" in name or "\x00" in text:
                raise _nul_refused(name.replace("\x00", "") or "form")
    elif "json" in content_type:
        body = await request.body()
        if b"\x00" in body or b"\\u0000" in body:
            raise _nul_refused("body")


__all__ = [
    "ANONYMOUS_FORMS",
    "ANON_CSRF_COOKIE",
    "API_PREFIX",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "ApiUser",
    "CsrfFailed",
    "CurrentUser",
    "LoginRequired",
    "NotAuthenticated",
    "OptionalUser",
    "RequestTooLarge",
    "Rt",
    "Settings",
    "api_user",
    "clear_session_cookie",
    "client_ip",
    "close_request_runtime",
    "csrf_protect",
    "csrf_token",
    "current_user",
    "forget_session",
    "get_rt",
    "get_settings",
    "is_api",
    "load_session",
    "optional_user",
    "refuse_nul",
    "request_runtime_idle",
    "require_role",
    "set_session_cookie",
]
