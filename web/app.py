"""The app factory: `create_app(rt, settings)` → a FastAPI app over one engine `Runtime`.

What it installs, in one place: the runtime and settings on `app.state`; the application-wide
CSRF check; the request body limit; security headers (a CSP without inline scripts, no
framing, no sniffing, same-origin referrers, `no-store` on everything but /static/); the static
files; and the error handlers that turn any `CchcError` into its Vietnamese message — an HTML
page for browsers, JSON (`error_payload`) for `/api/` and clients asking for JSON — with the
status of its class (400 invalid, 403 forbidden, 404 not found, 409 conflict / not allowed in
this state, 429 too many logins, 401 not logged in).
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import (
    CchcError,
    Problem,
    ValidationFailed,
)
from engine.runtime import Runtime, open_runtime
from plans.errors import DataFileError
from web import api as json_api
from web.deps import (
    ANON_CSRF_COOKIE,
    LoginRequired,
    RequestTooLarge,
    close_request_runtime,
    csrf_protect,
    is_api,
    new_anonymous_csrf,
    refuse_nul,
    request_runtime_idle,
)
from web.routes import (
    admin,
    auth,
    behind,
    city,
    obligations,
    pages,
    reports,
    statistics,
    summary,
    tasks,
)
from web.routes.common import status_of
from web.settings import WebSettings, get_web_settings
from web.templating import STATIC_DIR, render

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Yêu cầu không hợp lệ", "bad request"),
    401: ("Vui lòng đăng nhập", "login required"),
    403: ("Bạn không có quyền thực hiện thao tác này", "forbidden"),
    404: ("Không tìm thấy trang này", "not found"),
    405: ("Thao tác này không được hỗ trợ ở địa chỉ này", "method not allowed"),
    413: ("Tệp hoặc dữ liệu gửi lên quá lớn", "request body too large"),
    429: ("Quá nhiều yêu cầu, thử lại sau", "too many requests"),
}


def error_payload(exc: CchcError | DataFileError) -> dict[str, Any]:
    """The JSON body of every /api/ error: code, Vietnamese and English message, field,
    and the list of problems (one per field)."""
    body = exc.as_dict()
    field = exc.field if isinstance(exc, CchcError) else ""
    return {"error": body["error"], "message": exc.message_vi, "message_vi": exc.message_vi,
            "message_en": exc.message_en, "field": field, "problems": body["problems"]}


def wants_json(request: Request) -> bool:
    if is_api(request):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, exc: CchcError | DataFileError, status: int,
                   headers: dict[str, str] | None = None) -> Response:
    if wants_json(request):
        return JSONResponse(error_payload(exc), status_code=status, headers=headers)
    problems = exc.problems if isinstance(exc, CchcError) else []
    return render(request, "error.html",
                  {"status": status, "message": exc.message_vi, "problems": problems,
                   "code": exc.as_dict()["error"]},
                  status_code=status, headers=headers)


# ---------------------------------------------------------------- handlers


def _return_to(request: Request) -> str | None:
    """Where to come back after logging in: the page asked for; for a form sent after the
    session ended, the page the form was on (its same-site Referer) — the browser keeps what
    was typed (static/app.js) and puts it back there."""
    if request.method == "GET":
        if request.url.path in ("/", "/login"):
            return None
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/") \
            or referer.path in ("/", "/login"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


async def _cchc_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CchcError)
    if isinstance(exc, LoginRequired) and not wants_json(request):
        target = "/login"
        path = _return_to(request)
        if path is not None:
            target += "?next=" + quote(path, safe="")
        return RedirectResponse(target, status_code=303)
    headers = {"WWW-Authenticate": "Bearer"} if status_of(exc) == 401 else None
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):  # LoginThrottled, LoginBusy
        headers = {"Retry-After": str(retry_after)}
    return error_response(request, exc, status_of(exc), headers)


async def _data_file_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DataFileError)
    return error_response(request, exc, 400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    vi, en = HTTP_MESSAGES.get(exc.status_code, ("Lỗi khi xử lý yêu cầu", "request failed"))
    err = CchcError(vi, en)
    err.code = f"http_{exc.status_code}"
    return error_response(request, err, exc.status_code, dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "form")]
        where = ".".join(loc)
        if e.get("type") == "missing":
            vi = f"Thiếu thông tin bắt buộc: '{where}'" if where else "Thiếu thông tin bắt buộc"
        else:
            vi = f"Trường '{where}' không hợp lệ" if where else "Giá trị không hợp lệ"
        problems.append(Problem(where, vi, str(e.get("msg", ""))))
    err = ValidationFailed("Dữ liệu gửi lên không hợp lệ", "invalid request",
                           problems=problems or None)
    return error_response(request, err, 400)


async def _server_error(request: Request, exc: Exception) -> Response:
    err = CchcError("Lỗi hệ thống; thao tác chưa được ghi nhận. Vui lòng thử lại hoặc báo "
                    "quản trị viên", "internal error")
    err.code = "internal"
    if wants_json(request):
        return JSONResponse(error_payload(err), status_code=500)
    return render(request, "error.html", {"status": 500, "message": err.message_vi,
                                          "problems": [], "code": err.code}, status_code=500)


Handler = Callable[[Request, Exception], Awaitable[Response]]


def install_error_handlers(app: FastAPI) -> None:
    handlers: dict[type[Exception], Handler] = {
        CchcError: _cchc_error,
        DataFileError: _data_file_error,
        StarletteHTTPException: _http_error,
        RequestValidationError: _validation_error,
        Exception: _server_error,
    }
    for cls, handler in handlers.items():
        app.add_exception_handler(cls, handler)


# ---------------------------------------------------------------- middleware


class RequestScope:
    """Admits at most `slots` requests into the app at once (the size of the handler thread
    pool; the others wait here, in the event loop, costing nothing) and closes each request's
    database scope (see `web.deps.get_rt`) once its response is sent, whatever happened.

    Why admission: a request holds its database connection from its first engine call to its
    end. Admitting more requests than there are handler threads would let waiting requests
    hold connections while the threads wait for a connection — the pool runs dry and
    everything stalls until the pool's timeout."""

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.size = slots
        # One semaphore per event loop (a uvicorn worker has one; a test client may run each
        # request in a loop of its own, and an asyncio semaphore belongs to one loop).
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    def slots(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        found = self._slots.get(loop)
        if found is None:
            found = self._slots[loop] = asyncio.Semaphore(self.size)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self.slots():
            try:
                await self.app(scope, receive, send)
            finally:
                state = scope.get("state")
                if state and request_runtime_idle(state):
                    close_request_runtime(state)  # nothing to send: no thread needed
                elif state:
                    await run_in_threadpool(close_request_runtime, state)


HSTS = "max-age=31536000; includeSubDomains"


def _secure_cookies(headers: MutableHeaders) -> None:
    """Every cookie of a response served over HTTPS gets the Secure flag."""
    cookies = headers.getlist("set-cookie")
    if not cookies:
        return
    del headers["set-cookie"]
    for value in cookies:
        if "secure" not in [part.strip().lower() for part in value.split(";")]:
            value += "; Secure"
        headers.append("set-cookie", value)


class SecurityMiddleware:
    """Adds the security headers to every response, sets the anonymous CSRF cookie when a
    page made one (see `web.deps.csrf_token`), and refuses a request body above `max_body`
    bytes with 413 and the Vietnamese message (at once when Content-Length says so, else as
    soon as the body read goes past it)."""

    def __init__(self, app: ASGIApp, *, cookie_secure: bool = False, max_body: int,
                 max_upload: int, trusted_proxies: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.cookie_secure = cookie_secure
        self.trusted_proxies = trusted_proxies
        self.max_body = max_body
        self.max_upload = max_upload

    def is_https(self, scope: Scope) -> bool:
        """Served over HTTPS: the setting says so, the server saw TLS (or uvicorn's
        --proxy-headers already applied a trusted proxy's X-Forwarded-Proto), or the request
        comes from a trusted proxy (`CCHC_WEB_TRUSTED_PROXIES`) saying https."""
        if self.cookie_secure or scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        if not client or client[0] not in self.trusted_proxies:
            return False
        proto = Headers(scope=scope).get("x-forwarded-proto", "")
        return proto.split(",")[0].strip().lower() == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        static = str(scope.get("path", "")).startswith("/static/")
        https = self.is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
                token = new_anonymous_csrf(state)
                if token:
                    cookie = Response()
                    cookie.set_cookie(ANON_CSRF_COOKIE, token, path="/", httponly=True,
                                      samesite="lax", secure=self.cookie_secure)
                    for value in cookie.headers.getlist("set-cookie"):
                        headers.append("set-cookie", value)
                if https:
                    _secure_cookies(headers)
            await send(message)

        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            request = Request(scope, receive)
            response = error_response(request, RequestTooLarge(self.max_upload), 413,
                                      {"Connection": "close"})
            await response(scope, receive, send_with_headers)
            return

        received = 0
        exceeded = False

        async def receive_with_limit() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    exceeded = True
                    raise RequestTooLarge(self.max_upload)
            return message

        async def send_unless_exceeded(message: Message) -> None:
            # A body without Content-Length (chunked) found too large while a route parsed it:
            # whatever the parser made of the error (FastAPI answers 400), the answer is 413.
            if not exceeded:
                await send_with_headers(message)

        try:
            await self.app(scope, receive_with_limit, send_unless_exceeded)
        except RequestTooLarge:
            exceeded = True
        if exceeded:
            request = Request(scope, receive)
            response = error_response(request, RequestTooLarge(self.max_upload), 413,
                                      {"Connection": "close"})
            await response(scope, receive, send_with_headers)


# ---------------------------------------------------------------- factory


def create_worker_app() -> FastAPI:
    """The app of one `cchc serve --workers N` worker process: the database from
    CCHC_DATABASE_URL, already migrated by the command that started the workers."""
    return create_app(open_runtime(migrate=False), freeze_collector=True)


def freeze_startup_objects() -> None:
    """Move every object alive now — modules, classes, the ORM mappers, the routes, the
    templates' environment: ~175,000 objects that live as long as the server — out of the
    garbage collector's reach (`gc.freeze`, as the Python docs advise for servers).

    Why: a full collection walks every tracked object. In a web worker that is ~100 ms during
    which no request of that worker moves, and it comes every few thousand requests: the paced
    p99 of issue 13 was made of these pauses. Frozen objects are still freed by their
    reference counts; only a cycle among them would wait (none is made at startup to be
    dropped). Garbage made before is collected first so it is not kept frozen."""
    gc.collect()
    gc.freeze()


def create_app(rt: Runtime | None = None, settings: WebSettings | None = None, *,
               freeze_collector: bool = False) -> FastAPI:
    """The web app over `rt` (default: `open_runtime()` from CCHC_DATABASE_URL, migrated,
    disposed at shutdown) with `settings` (default: CCHC_WEB_* from the environment).
    `freeze_collector`: a serving process (`cchc serve`) freezes what exists once the app has
    started (`freeze_startup_objects`); tests and embedders that build many apps do not."""
    settings = settings or get_web_settings()
    owns_runtime = rt is None
    runtime = rt or open_runtime()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A bounded pool for the synchronous handlers: more threads than cores only add
        # interpreter-lock contention (anyio's default is 40).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        if freeze_collector:
            freeze_startup_objects()
        yield
        if owns_runtime:
            runtime.db.dispose()

    app = FastAPI(
        title="CCHC",
        description="Theo dõi kế hoạch cải cách hành chính cấp xã",
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_protect), Depends(refuse_nul)],
        lifespan=lifespan,
    )
    app.state.rt = runtime
    app.state.settings = settings
    app.add_middleware(RequestScope, slots=settings.threads)
    app.add_middleware(SecurityMiddleware, cookie_secure=settings.cookie_secure,
                       max_body=settings.max_request_bytes, max_upload=settings.max_upload_bytes,
                       trusted_proxies=settings.trusted_proxy_set)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.include_router(auth.router)
    app.include_router(pages.router)
    for module in (tasks, behind, obligations, reports, statistics, city, summary, admin):
        app.include_router(module.router)
    json_api.install(app)  # /api/… and its OpenAPI document at /openapi.json
    return app


__all__ = [
    "CSP",
    "SECURITY_HEADERS",
    "SecurityMiddleware",
    "create_app",
    "create_worker_app",
    "error_payload",
    "error_response",
    "freeze_startup_objects",
    "install_error_handlers",
    "wants_json",
]
