"""A fake Zalo on 127.0.0.1: the ZNS, OA v3 and OAuth-refresh endpoints, over real HTTP.

Why a real server rather than mocking httpx: the channel's contract is the HTTP exchange
(URLs, headers, JSON/form bodies, HTTP-200-with-negative-error answers, timeouts), and the
token refresh must be proven single-use across processes, which only a shared server can see.

Usage::

    with FakeZalo() as fake:
        settings = fake.settings()           # ZaloSettings pointing here, with a fresh pair
        fake.script(ZNS_PATH, -118)          # the next ZNS call answers -118
        ...
        assert fake.calls(REFRESH_PATH) == []

Behaviour (like Zalo): ZNS refuses a missing/unknown/expired token with -124; OA with -216
(unknown) or -220 (expired); refresh tokens are single-use (-14014 when reused); every
request is recorded; `script(path, error, times)` overrides the next answers on a path.

Formats refused like Zalo refuses them (-201 on the OA, -112 on ZNS):
* `/message/transaction` takes only a template attachment: `message.attachment.type`
  "template", `payload.template_type` one of the transaction types, `language` VI/EN,
  `elements` of header (≤ 100 characters) / text (≤ 1000) / table (≤ 5 rows, key ≤ 25,
  value ≤ 100) / banner, and ≤ 4 `buttons` (title ≤ 100; `oa.open.url` with an absolute
  http(s) `payload.url`). Plain text is refused.
* `/message/cs` takes plain text (≤ 2000) and only from users inside their interaction window
  (`interacted`): others get -230.
* ZNS parameters must be exactly the registered template's (`zns_params`) and each within its
  limit (a name 30, a label 30, a title 200 …); a URL parameter must be an absolute URL.
* OAuth v4 `/v4/oa/access_token`: `grant_type=refresh_token` (single-use refresh token) or
  `grant_type=authorization_code` with a code issued by `issue_code` (single-use; with the
  PKCE verifier when one was given).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from notifications.settings import ZaloSettings

ZNS_PATH = "/message/template"
OA_CS_PATH = "/v3.0/oa/message/cs"
OA_TRANSACTION_PATH = "/v3.0/oa/message/transaction"
REFRESH_PATH = "/v4/oa/access_token"

APP_ID = "4318795731002187651"
SECRET_KEY = "fake-app-secret-3Kq9"
TEMPLATE_ID = "291847"

#: The parameters of the ZNS template registered for reminders, with their type's limit.
ZNS_PARAMS: dict[str, int] = {
    "ten": 30, "so_viec": 30, "han_gan_nhat": 30, "noi_dung": 200, "ke_hoach": 200,
    "don_vi": 200, "link": 200,
}
ZNS_URL_PARAMS = frozenset({"link"})
TRANSACTION_TYPES = frozenset({"transaction_order", "transaction_booking", "transaction_event",
                               "transaction_account", "transaction_partnership",
                               "transaction_transaction", "transaction_membership"})
BUTTON_TYPES = frozenset({"oa.open.url", "oa.query.show", "oa.query.hide", "oa.open.sms",
                          "oa.open.phone"})

MESSAGES: dict[int, str] = {
    -32: "Request exceeds rate limit",
    -100: "Unknown error, please retry later",
    -108: "Phone number is invalid",
    -109: "Template ID is invalid",
    -112: "Template data is invalid",
    -118: "Zalo account does not exist",
    -124: "Access token is invalid",
    -131: "Quota exceeded",
    -133: "Sending time is outside the allowed time window",
    -201: "Parameters are invalid",
    -213: "User has not followed OA",
    -216: "Access token is invalid",
    -220: "Access token has expired",
    -230: "User has not interacted with the OA in the last 7 days",
    -232: "User has not interacted with the OA recently",
    -234: "OA is not allowed to send this message at night (22:00-06:00)",
    -14014: "Invalid refresh token",
}


class Tokens(NamedTuple):
    access_token: str
    refresh_token: str


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any  # decoded JSON body, or None
    form: dict[str, str]  # decoded form body (empty when not a form)
    status: int
    answer: Any  # the JSON answered (None for a non-JSON answer)


@dataclass
class _Script:
    error: int
    times: int
    message: str | None
    delay: float


@dataclass
class _State:
    access: dict[str, float] = field(default_factory=dict)  # token -> monotonic expiry
    refresh_valid: set[str] = field(default_factory=set)
    refresh_used: set[str] = field(default_factory=set)
    scripts: dict[str, deque[_Script]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    remaining_quota: int = 500


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeZalo) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected in tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    def do_GET(self) -> None:
        self.server.fake._handle(self)


class FakeZalo:
    """The fake server. Start it with `with FakeZalo() as fake:` (or `start()`/`stop()`)."""

    def __init__(
        self,
        *,
        app_id: str = APP_ID,
        secret_key: str = SECRET_KEY,
        token_lifetime: float = 90000.0,
        expires_in_as_string: bool = True,
        refresh_delay: float = 0.0,
        refresh_error_status: int = 200,
        zns_templates: frozenset[str] = frozenset({TEMPLATE_ID}),
        daily_quota: int = 500,
    ) -> None:
        self.app_id = app_id
        self.secret_key = secret_key
        self.token_lifetime = token_lifetime  # seconds an issued access token is accepted
        self.expires_in_as_string = expires_in_as_string  # Zalo sends "90000"; some docs 90000
        self.refresh_delay = refresh_delay  # seconds a refresh takes (to widen races in tests)
        self.refresh_error_status = refresh_error_status  # HTTP status of refresh errors
        self.zns_templates = set(zns_templates)
        self.daily_quota = daily_quota
        self.no_zalo: set[str] = set()  # phones (84…) without a Zalo account → -118
        self.not_following: set[str] = set()  # OA user ids that do not follow → -213
        self.interacted: set[str] = set()  # OA user ids inside their interaction window (cs)
        self.zns_params: dict[str, int] = dict(ZNS_PARAMS)
        self.hang: float = 0.0  # seconds every message endpoint waits before answering
        self._codes: dict[str, str | None] = {}  # authorisation code -> PKCE verifier
        self._state = _State(remaining_quota=daily_quota)
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeZalo:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeZalo:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeZalo is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- test controls ---------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._state.requests)

    def calls(self, path: str) -> list[Recorded]:
        """The recorded requests to one path."""
        return [r for r in self.requests if r.path == path]

    def script(
        self,
        path: str,
        error: int,
        times: int = 1,
        *,
        message: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next `times` calls to `path` with `error`, before any other check.

        `error` < 0: HTTP 200 with that Zalo error code (and `message`, else Zalo's text);
        `error` >= 400: that HTTP status with a plain-text body. `delay` seconds are waited
        before answering (use it with a short client timeout to provoke a timeout).
        Scripts queue: two `script` calls on one path apply one after the other.
        """
        with self._lock:
            queue = self._state.scripts.setdefault(path, deque())
            queue.append(_Script(error, times, message, delay))

    def issue_tokens(self, lifetime: float | None = None) -> Tokens:
        """A new valid pair, as if an admin had just authorised the OA."""
        tokens = Tokens(
            "fake-at-" + secrets.token_urlsafe(24), "fake-rt-" + secrets.token_urlsafe(24)
        )
        life = self.token_lifetime if lifetime is None else lifetime
        with self._lock:
            self._state.access[tokens.access_token] = time.monotonic() + life
            self._state.refresh_valid.add(tokens.refresh_token)
        return tokens

    def issue_code(self, verifier: str | None = None) -> str:
        """An authorisation code, as the OA permission page gives an admin (single-use)."""
        code = "fake-code-" + secrets.token_urlsafe(12)
        with self._lock:
            self._codes[code] = verifier
        return code

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (OA answers -220, ZNS -124)."""
        with self._lock:
            past = time.monotonic() - 1
            for token in self._state.access:
                self._state.access[token] = past

    def revoke(self, access_token: str) -> None:
        """Forget an access token (OA answers -216, ZNS -124)."""
        with self._lock:
            self._state.access.pop(access_token, None)

    def is_valid(self, access_token: str) -> bool:
        with self._lock:
            expiry = self._state.access.get(access_token)
        return expiry is not None and expiry > time.monotonic()

    def settings(self, **overrides: Any) -> ZaloSettings:
        """`ZaloSettings` aimed at this server, with a freshly issued token pair.

        Overrides use the settings' field names (`zns_api_base` too); pass
        `access_token=None` to start with only a refresh token.
        """
        tokens = self.issue_tokens()
        values: dict[str, Any] = {
            "api_base": self.base_url,
            "zns_api_base": self.base_url,
            "oauth_base": self.base_url,
            "app_id": self.app_id,
            "secret_key": self.secret_key,
            "oa_id": "fake-oa",
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "zns_template_id": TEMPLATE_ID,
            "oa_message_kind": "transaction",
            "timeout": 5.0,
        }
        values.update(overrides)
        values["CCHC_ZNS_API_BASE"] = values.pop("zns_api_base")  # the field's env alias
        return ZaloSettings.model_validate(values)

    # -- the endpoints ---------------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        path = urlsplit(h.path).path
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        parsed_json: Any = None
        form: dict[str, str] = {}
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                parsed_json = json.loads(body)
            except ValueError:
                parsed_json = None
        elif content_type.startswith("application/x-www-form-urlencoded"):
            form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}

        scripted = self._take_script(path)
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            status, answer = self._scripted_answer(path, scripted)
        elif h.command != "POST":
            status, answer = 405, None
        elif path == ZNS_PATH:
            self._hang()
            status, answer = 200, self._zns(headers, parsed_json)
        elif path in (OA_CS_PATH, OA_TRANSACTION_PATH):
            self._hang()
            status, answer = 200, self._oa(path, headers, parsed_json)
        elif path == REFRESH_PATH:
            status, answer = self._refresh(headers, form)
        else:
            status, answer = 404, None

        record = Recorded(h.command, path, headers, body, parsed_json, form, status, answer)
        with self._lock:
            self._state.requests.append(record)
        if answer is None:
            payload, ctype = f"HTTP {status}".encode(), "text/plain"
        else:
            payload, ctype = json.dumps(answer).encode(), "application/json"
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
        except OSError:
            h.close_connection = True  # the client gave up (timeout test)

    def _hang(self) -> None:
        if self.hang:
            time.sleep(self.hang)

    def _take_script(self, path: str) -> _Script | None:
        with self._lock:
            queue = self._state.scripts.get(path)
            if not queue:
                return None
            head = queue[0]
            head.times -= 1
            if head.times <= 0:
                queue.popleft()
            return head

    @staticmethod
    def _scripted_answer(path: str, s: _Script) -> tuple[int, Any]:
        if s.error >= 400:
            return s.error, None
        message = s.message or MESSAGES.get(s.error, "Scripted error")
        if path == REFRESH_PATH:
            return 200, {"error": s.error, "error_name": message, "error_description": message}
        return 200, {"error": s.error, "message": message}

    def _token_state(self, headers: dict[str, str]) -> str:
        token = headers.get("access_token", "")
        with self._lock:
            expiry = self._state.access.get(token)
        if not token or expiry is None:
            return "invalid"
        return "valid" if expiry > time.monotonic() else "expired"

    @staticmethod
    def _err(code: int) -> dict[str, Any]:
        return {"error": code, "message": MESSAGES.get(code, "Error")}

    def _zns(self, headers: dict[str, str], body: Any) -> dict[str, Any]:
        if self._token_state(headers) != "valid":
            return self._err(-124)
        if not isinstance(body, dict):
            return {"error": -122, "message": "Body format is invalid"}
        phone = body.get("phone")
        if not (isinstance(phone, str) and len(phone) == 11 and phone.isdigit()
                and phone.startswith("84") and phone[2] in "35789"):
            return self._err(-108)
        if body.get("template_id") not in self.zns_templates:
            return self._err(-109)
        data = body.get("template_data")
        if not (isinstance(data, dict) and data
                and all(isinstance(k, str) and isinstance(v, str) for k, v in data.items())):
            return self._err(-112)
        if set(data) != set(self.zns_params) or any(
                len(v) > self.zns_params[k] or not v.strip() for k, v in data.items()) or any(
                not data[k].startswith(("https://", "http://")) for k in ZNS_URL_PARAMS
                if k in data):
            return self._err(-112)
        tracking = body.get("tracking_id")
        if tracking is not None and not isinstance(tracking, str):
            return {"error": -201, "message": "tracking_id is invalid"}
        if phone in self.no_zalo:
            return self._err(-118)
        with self._lock:
            if self._state.remaining_quota <= 0:
                return self._err(-131)
            self._state.remaining_quota -= 1
            remaining = self._state.remaining_quota
        return {
            "error": 0,
            "message": "Success",
            "data": {
                "msg_id": "zns-" + secrets.token_hex(10),
                "sent_time": str(int(time.time() * 1000)),
                "quota": {"dailyQuota": str(self.daily_quota), "remainingQuota": str(remaining)},
            },
        }

    def _oa(self, path: str, headers: dict[str, str], body: Any) -> dict[str, Any]:
        state = self._token_state(headers)
        if state == "invalid":
            return self._err(-216)
        if state == "expired":
            return self._err(-220)
        recipient = body.get("recipient") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        user_id = recipient.get("user_id") if isinstance(recipient, dict) else None
        if not (isinstance(user_id, str) and user_id and isinstance(message, dict)):
            return self._err(-201)
        if path == OA_CS_PATH:
            text = message.get("text")
            if set(message) != {"text"} or not (isinstance(text, str) and 0 < len(text) <= 2000):
                return self._err(-201)
        elif not _valid_transaction(message):
            return self._err(-201)
        if user_id in self.not_following:
            return self._err(-213)
        if path == OA_CS_PATH and user_id not in self.interacted:
            return self._err(-230)
        return {
            "error": 0,
            "message": "Success",
            "data": {"message_id": "oa-" + secrets.token_hex(10), "user_id": user_id},
        }

    def _refresh(self, headers: dict[str, str], form: dict[str, str]) -> tuple[int, Any]:
        def refused(code: int, name: str) -> tuple[int, Any]:
            return self.refresh_error_status, {
                "error": code, "error_name": name, "error_description": name,
            }

        if headers.get("secret_key") != self.secret_key:
            return refused(-14002, "Invalid secret key")
        grant = form.get("grant_type")
        if form.get("app_id") != self.app_id or grant not in ("refresh_token",
                                                               "authorization_code"):
            return refused(-14001, "Invalid parameter")
        if grant == "authorization_code":
            code = form.get("code", "")
            with self._lock:
                if code not in self._codes:
                    return refused(-14019, "Invalid authorization code")
                if self._codes[code] is not None and self._codes[code] != form.get(
                        "code_verifier"):
                    return refused(-14024, "Invalid code verifier")
                del self._codes[code]
        else:
            token = form.get("refresh_token", "")
            with self._lock:  # check-and-spend atomically: a second use must fail
                if token not in self._state.refresh_valid:
                    return refused(-14014, MESSAGES[-14014])
                self._state.refresh_valid.discard(token)
                self._state.refresh_used.add(token)
        if self.refresh_delay:
            time.sleep(self.refresh_delay)
        new = self.issue_tokens()
        expires_in = int(self.token_lifetime)
        return 200, {
            "access_token": new.access_token,
            "refresh_token": new.refresh_token,
            "expires_in": str(expires_in) if self.expires_in_as_string else expires_in,
        }


def _short(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit


def _valid_element(el: Any) -> bool:
    if not isinstance(el, dict):
        return False
    kind = el.get("type")
    if kind == "header":
        return _short(el.get("content"), 100)
    if kind == "text":
        return _short(el.get("content"), 1000)
    if kind == "banner":
        return bool(el.get("attachment_id") or el.get("image_url"))
    if kind == "table":
        rows = el.get("content")
        return isinstance(rows, list) and 0 < len(rows) <= 5 and all(
            isinstance(r, dict) and _short(r.get("key"), 25) and _short(r.get("value"), 100)
            for r in rows)
    return False


def _valid_button(b: Any) -> bool:
    if not (isinstance(b, dict) and _short(b.get("title"), 100)
            and b.get("type") in BUTTON_TYPES):
        return False
    if b["type"] == "oa.open.url":
        url = b.get("payload", {}).get("url") if isinstance(b.get("payload"), dict) else None
        return isinstance(url, str) and url.startswith(("https://", "http://"))
    return True


def _valid_transaction(message: dict[str, Any]) -> bool:
    """The OA transaction message format: a template attachment, nothing else."""
    attachment = message.get("attachment")
    if set(message) != {"attachment"} or not isinstance(attachment, dict):
        return False
    payload = attachment.get("payload")
    if attachment.get("type") != "template" or not isinstance(payload, dict):
        return False
    elements = payload.get("elements")
    buttons = payload.get("buttons", [])
    return (payload.get("template_type") in TRANSACTION_TYPES
            and payload.get("language") in ("VI", "EN")
            and isinstance(elements, list) and 0 < len(elements) <= 5
            and all(_valid_element(e) for e in elements)
            and isinstance(buttons, list) and len(buttons) <= 4
            and all(_valid_button(b) for b in buttons))


__all__ = [
    "APP_ID",
    "OA_CS_PATH",
    "OA_TRANSACTION_PATH",
    "REFRESH_PATH",
    "SECRET_KEY",
    "TEMPLATE_ID",
    "ZNS_PATH",
    "FakeZalo",
    "Recorded",
    "Tokens",
]
