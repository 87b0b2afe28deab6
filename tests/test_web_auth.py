"""The web app's foundation: login, sessions, CSRF, API tokens, error pages and the access policy.

The HTTP tests run the real app (`create_app`) with `TestClient` on a throw-away SQLite file;
the account and policy functions run on `rt`, so on PostgreSQL too. Password hashing uses
cheap argon2 parameters here (the default ones take ~0.4 s a hash on CI machines); the
rehash test checks that a hash made with other parameters is upgraded at login.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

import pytest
from argon2 import PasswordHasher
from conftest import Clock
from fastapi import Depends, FastAPI, Form, Request
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from engine import api
from engine.directory import access, accounts
from engine.directory.demo_accounts import DEMO_ACCOUNTS, create_demo_accounts
from engine.errors import Conflict, Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import ApiToken, LoginAttempt, User, WebSession
from plans import DEMO_BUNDLE
from web import create_app
from web.deps import ApiUser, CurrentUser, require_role
from web.settings import WebSettings

with warnings.catch_warnings():  # starlette's TestClient warns about httpx at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "mat-khau-1"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"
KEY = api.TaskKey("vinh-thanh", "cchc-2023", "1")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(accounts, "hasher", CHEAP)
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


def seed_units(rt: Runtime) -> None:
    """khanh-hoa > nha-trang > {vinh-thanh, vinh-luong}; khanh-hoa > cam-ranh > cam-phuc-bac."""
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    api.add_unit(rt, slug="vinh-luong", name="Vĩnh Lương", kind="xã", parent="nha-trang")
    api.add_unit(rt, slug="cam-ranh", name="Cam Ranh", kind="thành phố", parent="khanh-hoa")
    api.add_unit(rt, slug="cam-phuc-bac", name="Cam Phúc Bắc", kind="phường", parent="cam-ranh")


USERS: dict[str, tuple[str, str | None, str]] = {
    "canbo.a": ("officer", "vinh-thanh", "Trần Thị Mỹ Hạnh"),
    "lanhdao.a": ("leader", "vinh-thanh", "Nguyễn Quốc Bảo"),
    "canbo.b": ("officer", "vinh-luong", "Lê Văn Bình"),
    "thamdinh.nt": ("reviewer", "nha-trang", "Lê Minh Khoa"),
    "thamdinh.cr": ("reviewer", "cam-ranh", "Võ Thị Lan"),
    "quantri": ("admin", None, "Quản trị hệ thống"),
}


def make_users(rt: Runtime) -> dict[str, accounts.UserView]:
    return {name: accounts.create_user(rt, name, password=PASSWORD, role=role, unit=unit,
                                       full_name=full)
            for name, (role, unit, full) in USERS.items()}


@pytest.fixture
def world(rt: Runtime) -> dict[str, accounts.UserView]:
    seed_units(rt)
    return make_users(rt)


# ---------------------------------------------------------------- the app


class Web:
    """A TestClient on the real app plus helpers to log in and read the form's token."""

    def __init__(self, rt: Runtime, settings: WebSettings, app: FastAPI) -> None:
        self.rt, self.settings, self.app = rt, settings, app
        self.client = TestClient(app)
        self.probe_calls = 0

    def token(self, path: str = "/login") -> str:
        page = self.client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def login(self, username: str, password: str = PASSWORD, **extra: str) -> Any:
        data = {"username": username, "password": password, "csrf_token": self.token(), **extra}
        return self.client.post("/login", data=data, follow_redirects=False)


@pytest.fixture
def web(sqlite_rt: Runtime) -> Iterator[Web]:
    seed_units(sqlite_rt)
    make_users(sqlite_rt)
    settings = WebSettings(login_max_failures=5, login_window_minutes=15,
                           max_upload_bytes=4096)
    app = create_app(sqlite_rt, settings)
    w = Web(sqlite_rt, settings, app)

    # Probe routes added after create_app get the app-wide CSRF check like any page route.
    @app.post("/_probe")
    def probe(user: CurrentUser) -> dict[str, str]:
        w.probe_calls += 1
        return {"user": user.username}

    @app.post("/_probe/raise/{kind}")
    def probe_raise(kind: str, user: CurrentUser) -> None:
        raise {"invalid": ValidationFailed("Dữ liệu sai", "bad", field="x"),
               "forbidden": Forbidden("Không được phép", "forbidden"),
               "missing": NotFound("Không tìm thấy nhiệm vụ", "not found"),
               "conflict": Conflict("Đã có người sửa", "conflict"),
               "state": TransitionNotAllowed("Không thể ở trạng thái này", "state")}[kind]

    @app.post("/_probe/form")
    def probe_form(user: CurrentUser, n: Annotated[int, Form()]) -> dict[str, int]:
        return {"n": n}

    @app.get("/_probe/admin")
    def probe_admin(user: Annotated[accounts.UserView, Depends(require_role("admin"))]
                    ) -> dict[str, str]:
        return {"user": user.username}

    @app.get("/api/_probe/me")
    def api_me(user: ApiUser) -> dict[str, str]:
        return {"username": user.username, "role": user.role}

    @app.post("/api/_probe/write")
    def api_write(user: ApiUser, request: Request) -> dict[str, str]:
        w.probe_calls += 1
        return {"username": user.username}

    @app.get("/api/_probe/missing")
    def api_missing(user: ApiUser) -> None:
        raise NotFound("Không tìm thấy đơn vị 'x'", "unit 'x' not found", field="unit",
                       value="x")

    yield w
    w.client.close()


def set_cookie_headers(response: Any) -> list[str]:
    return [v for k, v in response.headers.multi_items() if k == "set-cookie"]


def session_count(rt: Runtime) -> int:
    with rt.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(WebSession)) or 0)


# ---------------------------------------------------------------- login page and headers


def test_anonymous_root_leads_to_the_vietnamese_login_page(web: Web) -> None:
    first = web.client.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login"
    page = web.client.get("/")
    assert page.status_code == 200 and page.url.path == "/login"
    assert '<html lang="vi">' in page.text
    assert "<h1>Đăng nhập</h1>" in page.text and "Tên đăng nhập" in page.text
    assert "Mật khẩu" in page.text
    assert page.text == unicodedata.normalize("NFC", page.text)
    assert page.headers["content-type"].startswith("text/html; charset=utf-8")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text and " style=" not in page.text
    # a protected page sends an anonymous visitor to the login page, remembering where to
    protected = web.client.get("/dashboard?x=1", follow_redirects=False)
    assert protected.status_code == 303
    assert protected.headers["location"] == "/login?next=%2Fdashboard%3Fx%3D1"


def test_static_stylesheet_is_served(web: Web) -> None:
    css = web.client.get("/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "Segoe UI" in css.text and css.headers["x-content-type-options"] == "nosniff"


def test_good_login_sets_a_safe_session_cookie_and_opens_the_dashboard(web: Web) -> None:
    res = web.login("canbo.a", next="/dashboard")
    assert res.status_code == 303 and res.headers["location"] == "/dashboard"
    cookie = next(c for c in set_cookie_headers(res) if c.startswith("cchc_session="))
    flags = {p.strip().lower() for p in cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=lax"} <= flags
    assert "secure" not in flags  # localhost default; CCHC_WEB_COOKIE_SECURE=1 on HTTPS
    raw = cookie.split(";")[0].split("=", 1)[1]
    with web.rt.db.read() as s:  # the server keeps only the id's digest
        assert s.get(WebSession, raw) is None
        assert s.get(WebSession, accounts.digest(raw)) is not None
    dash = web.client.get("/dashboard")
    assert dash.status_code == 200
    assert "Tổng quan" in dash.text and "xã Vĩnh Thạnh" in dash.text
    assert "Trần Thị Mỹ Hạnh" in dash.text and "Cán bộ, công chức" in dash.text
    assert ">Nhiệm vụ<" in dash.text and ">Nhắc việc<" not in dash.text
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/dashboard"
    assert web.client.get("/login", follow_redirects=False).status_code == 303
    with web.rt.db.read() as s:
        user = s.scalar(select(User).where(User.username == "canbo.a"))
        assert user is not None and user.last_login_at is not None


def test_secure_cookie_flag_follows_the_setting(sqlite_rt: Runtime) -> None:
    seed_units(sqlite_rt)
    make_users(sqlite_rt)
    w = Web(sqlite_rt, WebSettings(cookie_secure=True),
            create_app(sqlite_rt, WebSettings(cookie_secure=True)))
    w.client = TestClient(w.app, base_url="https://testserver")
    res = w.login("canbo.a")
    cookie = next(c for c in set_cookie_headers(res) if c.startswith("cchc_session="))
    assert "secure" in cookie.lower()


def test_navigation_follows_the_role(web: Web) -> None:
    web.login("thamdinh.nt")
    page = web.client.get("/dashboard").text
    menu = page.split('<nav class="mainnav"')[1].split("</nav>")[0]  # the page may say Nhiệm vụ
    assert ">Các xã, phường<" in menu and ">Nhiệm vụ<" not in menu and ">Nhắc việc<" not in menu
    assert "thành phố Nha Trang" in page
    web.client.post("/logout", data={"csrf_token": web.token("/dashboard")})
    web.login("quantri")
    page = web.client.get("/dashboard").text
    assert ">Nhắc việc<" in page and ">Các xã, phường<" in page and "Toàn hệ thống" in page


def test_login_never_redirects_off_site(web: Web) -> None:
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example", "dashboard"):
        web.client.cookies.clear()
        res = web.login("canbo.a", next=target)
        assert res.headers["location"] == "/dashboard", target


def test_bad_login_is_refused_with_one_message_for_both_mistakes(web: Web) -> None:
    for username, password in [("canbo.a", "sai-mat-khau"), ("khong-co-ai", PASSWORD),
                               ("CANBO.A", "sai-mat-khau")]:
        res = web.login(username, password)
        assert res.status_code == 400
        assert "Sai tên đăng nhập hoặc mật khẩu" in res.text
        assert 'value="' + username + '"' in res.text  # the username is kept, never the password
        assert password not in res.text
        assert not any(c.startswith("cchc_session=") for c in set_cookie_headers(res))
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 303
    with web.rt.db.read() as s:
        # one row per attempt for username + address (and one each per address, password)
        assert s.scalar(select(func.count()).select_from(LoginAttempt)
                        .where(LoginAttempt.key.contains("|"))) == 3
    # usernames are case-insensitive; a good login clears that key's failures
    assert web.login("CanBo.A").status_code == 303
    with web.rt.db.read() as s:
        keys = set(s.scalars(select(LoginAttempt.key).where(LoginAttempt.key.contains("|"))))
    assert keys == {"khong-co-ai|testclient"}


def test_a_locked_account_cannot_log_in(web: Web) -> None:
    accounts.set_active(web.rt, "canbo.a", False)
    res = web.login("canbo.a")
    assert res.status_code == 400 and "Sai tên đăng nhập hoặc mật khẩu" in res.text


def test_logout_ends_the_server_side_session(web: Web) -> None:
    web.login("canbo.a")
    cookie = web.client.cookies.get("cchc_session")
    assert cookie and session_count(web.rt) == 1
    res = web.client.post("/logout", data={"csrf_token": web.token("/dashboard")},
                          follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login"
    deleted = next(c for c in set_cookie_headers(res) if c.startswith("cchc_session="))
    assert "max-age=0" in deleted.lower() or "expires=" in deleted.lower()
    assert session_count(web.rt) == 0
    # the old cookie, replayed, opens nothing
    replay = TestClient(web.app, cookies={"cchc_session": cookie})
    assert replay.get("/dashboard", follow_redirects=False).status_code == 303
    assert accounts.resolve_session(web.rt, cookie, lifetime=timedelta(hours=1)) is None


def test_a_session_expires_after_its_idle_lifetime(web: Web, clock: Clock) -> None:
    web.login("canbo.a")
    clock.at += timedelta(minutes=web.settings.session_lifetime_minutes - 1)
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 200  # slides
    clock.at += timedelta(minutes=web.settings.session_lifetime_minutes - 1)
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 200
    clock.at += timedelta(minutes=web.settings.session_lifetime_minutes + 1)
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 303
    assert session_count(web.rt) == 0


def test_a_new_login_replaces_the_old_session(web: Web) -> None:
    web.login("canbo.a")
    first = web.client.cookies.get("cchc_session")
    web.login("canbo.a")
    second = web.client.cookies.get("cchc_session")
    assert first != second and session_count(web.rt) == 1


# ---------------------------------------------------------------- CSRF


def test_csrf_refuses_unsafe_requests_without_the_right_token(web: Web) -> None:
    web.login("canbo.a")
    good = web.token("/dashboard")
    for data, headers in [({}, {}), ({"csrf_token": "x" * 43}, {}),
                          ({"csrf_token": ""}, {}), ({}, {"X-CSRF-Token": "wrong-token"})]:
        res = web.client.post("/_probe", data=data, headers=headers)
        assert res.status_code == 403, (data, headers)
        assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in res.text
        res = web.client.post("/logout", data=data, headers=headers)
        assert res.status_code == 403
    # JSON and multipart bodies are checked too
    assert web.client.post("/_probe", json={"csrf_token": good}).status_code == 403
    assert web.client.post("/_probe", files={"f": ("a.pdf", b"%PDF-1.4")}).status_code == 403
    assert web.probe_calls == 0 and session_count(web.rt) == 1  # nothing changed
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 200
    # with the session's token (form field, multipart field or header) the request goes through
    assert web.client.post("/_probe", data={"csrf_token": good}).json() == {"user": "canbo.a"}
    assert web.client.post("/_probe", data={"csrf_token": good},
                           files={"f": ("a.pdf", b"%PDF-1.4")}).status_code == 200
    assert web.client.post("/_probe", headers={"X-CSRF-Token": good}).status_code == 200
    assert web.probe_calls == 3


def test_the_login_form_is_csrf_protected_too(web: Web) -> None:
    res = web.client.post("/login", data={"username": "canbo.a", "password": PASSWORD},
                          follow_redirects=False)
    assert res.status_code == 403
    web.token()  # the login page sets the anonymous token cookie
    res = web.client.post("/login", data={"username": "canbo.a", "password": PASSWORD,
                                          "csrf_token": "y" * 43}, follow_redirects=False)
    assert res.status_code == 403 and session_count(web.rt) == 0


def test_anonymous_unsafe_requests_go_to_the_login_page(web: Web) -> None:
    res = web.client.post("/_probe", data={"csrf_token": "z" * 43}, follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login"
    res = web.client.post("/logout", follow_redirects=False)  # an expired session's logout
    assert res.status_code == 303 and res.headers["location"] == "/login"
    assert web.probe_calls == 0


# ---------------------------------------------------------------- login rate limit


def test_login_rate_limit_per_username_and_address(web: Web, clock: Clock) -> None:
    for _ in range(5):
        assert web.login("canbo.a", "sai-mat-khau").status_code == 400
    blocked = web.login("canbo.a")  # even the right password
    assert blocked.status_code == 429
    assert "Quá nhiều lần đăng nhập sai, thử lại sau 15 phút" in blocked.text
    assert session_count(web.rt) == 0
    # another address, or another username from this one, is not blocked
    other = Web(web.rt, web.settings, web.app)
    other.client = TestClient(web.app, client=("10.0.0.9", 4000))
    assert other.login("canbo.a").status_code == 303
    assert web.login("canbo.b").status_code == 303
    web.client.cookies.clear()
    clock.at += timedelta(minutes=10)
    res = web.login("canbo.a")
    assert res.status_code == 429 and "thử lại sau 5 phút" in res.text
    clock.at += timedelta(minutes=5, seconds=1)
    assert web.login("canbo.a").status_code == 303


def test_throttle_counts_recorded_failures(rt: Runtime, world: dict[str, Any],
                                           clock: Clock) -> None:
    for _ in range(3):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(rt, "canbo.a", "sai", ip="1.2.3.4", max_failures=3)
    with pytest.raises(accounts.LoginThrottled) as info:
        accounts.authenticate(rt, "canbo.a", PASSWORD, ip="1.2.3.4", max_failures=3)
    assert info.value.minutes == 15 and info.value.message_vi.endswith("sau 15 phút")
    assert accounts.login_wait_minutes(rt, "canbo.a", "1.2.3.4", max_failures=3) == 15
    clock.at += timedelta(minutes=15)
    assert accounts.authenticate(rt, "canbo.a", PASSWORD, ip="1.2.3.4",
                                 max_failures=3).username == "canbo.a"


# ---------------------------------------------------------------- API tokens


def test_api_bearer_token_good_bad_and_revoked(web: Web) -> None:
    raw, token = accounts.create_api_token(web.rt, "thamdinh.nt", "Hệ thống báo cáo tỉnh")
    assert raw.startswith("cchc_") and token.prefix == raw[:12]
    api_client = TestClient(web.app)
    good = api_client.get("/api/_probe/me", headers={"Authorization": f"Bearer {raw}"})
    assert good.status_code == 200 and good.json() == {"username": "thamdinh.nt",
                                                       "role": "reviewer"}
    # Bearer routes are not CSRF-checked (no cookie is ever read there)
    assert api_client.post("/api/_probe/write",
                           headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    for header in [None, "Bearer", f"Basic {raw}", "Bearer cchc_wrong", f"Bearer {raw}x"]:
        res = api_client.get("/api/_probe/me",
                             headers={"Authorization": header} if header else {})
        assert res.status_code == 401, header
        assert res.headers["www-authenticate"] == "Bearer"
        body = res.json()
        assert body["error"] == "unauthorized" and body["field"] == "authorization"
        assert "mã truy cập" in body["message"].lower()
    # a logged-in browser session does not open the API
    web.login("quantri")
    assert web.client.get("/api/_probe/me").status_code == 401
    # revoked: refused from then on
    accounts.revoke_api_token(web.rt, token.id)
    res = api_client.get("/api/_probe/me", headers={"Authorization": f"Bearer {raw}"})
    assert res.status_code == 401 and "thu hồi" in res.json()["message"]
    with web.rt.db.read() as s:
        row = s.get(ApiToken, token.id)
        assert row is not None and row.token_hash == accounts.digest(raw)
        assert row.last_used_at is not None and raw not in row.token_hash
    # a locked user's tokens stop working too
    raw2, _ = accounts.create_api_token(web.rt, "canbo.a", "Thử")
    accounts.set_active(web.rt, "canbo.a", False)
    assert accounts.authenticate_token(web.rt, raw2) is None


def test_api_errors_are_json_with_the_vietnamese_message(web: Web) -> None:
    raw, _ = accounts.create_api_token(web.rt, "quantri", "Thử")
    res = TestClient(web.app).get("/api/_probe/missing",
                                  headers={"Authorization": f"Bearer {raw}"})
    assert res.status_code == 404
    assert res.json() == {
        "error": "not_found", "message": "Không tìm thấy đơn vị 'x'",
        "message_vi": "Không tìm thấy đơn vị 'x'", "message_en": "unit 'x' not found",
        "field": "unit",
        "problems": [{"field": "unit", "message_vi": "Không tìm thấy đơn vị 'x'",
                      "message_en": "unit 'x' not found", "value": "x"}],
    }
    unknown = TestClient(web.app).get("/api/khong-co")
    assert unknown.status_code == 404 and unknown.json()["message"] == "Không tìm thấy trang này"


# ---------------------------------------------------------------- error pages


@pytest.mark.parametrize(("kind", "status", "text"), [
    ("invalid", 400, "Dữ liệu sai"), ("forbidden", 403, "Không được phép"),
    ("missing", 404, "Không tìm thấy nhiệm vụ"), ("conflict", 409, "Đã có người sửa"),
    ("state", 409, "Không thể ở trạng thái này"),
])
def test_engine_errors_become_vietnamese_pages_with_their_status(web: Web, kind: str,
                                                                 status: int, text: str) -> None:
    web.login("canbo.a")
    token = web.token("/dashboard")
    res = web.client.post(f"/_probe/raise/{kind}", data={"csrf_token": token})
    assert res.status_code == status
    assert res.headers["content-type"].startswith("text/html")
    assert text in res.text and "Về trang chính" in res.text
    as_json = web.client.post(f"/_probe/raise/{kind}", headers={
        "X-CSRF-Token": token, "Accept": "application/json"})
    assert as_json.status_code == status and as_json.json()["message"] == text


def test_form_errors_and_role_gates_answer_in_vietnamese(web: Web) -> None:
    web.login("canbo.a")
    token = web.token("/dashboard")
    bad = web.client.post("/_probe/form", data={"csrf_token": token, "n": "mười"})
    assert bad.status_code == 400 and "Trường &#39;n&#39; không hợp lệ" in bad.text
    missing = web.client.post("/_probe/form", data={"csrf_token": token},
                              headers={"Accept": "application/json"})
    assert missing.status_code == 400
    assert missing.json()["message"] == "Thiếu thông tin bắt buộc: 'n'"
    denied = web.client.get("/_probe/admin")
    assert denied.status_code == 403
    assert "Vai trò Cán bộ, công chức không được dùng chức năng này" in denied.text
    web.client.post("/logout", data={"csrf_token": token})
    web.login("quantri")
    assert web.client.get("/_probe/admin").json() == {"user": "quantri"}


def test_unknown_pages_and_oversized_bodies_answer_in_vietnamese(web: Web) -> None:
    web.login("canbo.a")
    missing = web.client.get("/khong-co-trang-nay")
    assert missing.status_code == 404 and "Không tìm thấy trang này" in missing.text
    too_big = web.client.post("/_probe", data={"csrf_token": web.token("/dashboard")},
                              files={"f": ("a.pdf", b"0" * (web.settings.max_request_bytes))})
    assert too_big.status_code == 413
    assert "Tệp hoặc dữ liệu gửi lên quá lớn (tối đa 4 KB)" in too_big.text
    token = web.token("/dashboard")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it is read
        yield f"csrf_token={token}&x=".encode()
        for _ in range(web.settings.max_request_bytes // 1024 + 1):
            yield b"0" * 1024

    streamed = web.client.post("/_probe", content=chunks(), headers={
        "content-type": "application/x-www-form-urlencoded"})
    assert streamed.status_code == 413 and "quá lớn" in streamed.text
    assert web.probe_calls == 0
    small = web.client.post("/_probe", data={"csrf_token": token},
                            files={"f": ("a.pdf", b"0" * web.settings.max_upload_bytes)})
    assert small.status_code == 200 and web.probe_calls == 1


# ---------------------------------------------------------------- accounts on both databases


def test_passwords_are_stored_as_argon2_hashes_only(rt: Runtime) -> None:
    seed_units(rt)
    accounts.create_user(rt, "canbo.a", password="Mật khẩu dài", role="officer",
                         unit="vinh-thanh", full_name="Trần Thị Mỹ Hạnh")
    with rt.db.read() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "canbo.a"))
    assert stored is not None and stored.startswith("$argon2id$")
    assert "Mật khẩu dài" not in stored
    # the same password typed decomposed (NFD, as some keyboards send it) is the same password
    nfd = unicodedata.normalize("NFD", "Mật khẩu dài")
    assert accounts.authenticate(rt, "canbo.a", nfd, ip="x").username == "canbo.a"
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(rt, "canbo.a", "mật khẩu dài", ip="x")


def test_an_outdated_hash_is_upgraded_at_the_next_login(rt: Runtime) -> None:
    seed_units(rt)
    accounts.create_user(rt, "canbo.a", password=PASSWORD, role="officer", unit="vinh-thanh",
                         full_name="Trần Thị Mỹ Hạnh")
    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(PASSWORD)
    assert accounts.hasher.check_needs_rehash(old)
    with rt.db.transaction() as s:
        s.execute(update(User).where(User.username == "canbo.a").values(password_hash=old))
    with pytest.raises(accounts.LoginFailed):  # a failed login leaves the hash alone
        accounts.authenticate(rt, "canbo.a", "sai", ip="x")
    assert _hash(rt, "canbo.a") == old
    accounts.authenticate(rt, "canbo.a", PASSWORD, ip="x")
    new = _hash(rt, "canbo.a")
    assert new != old and not accounts.hasher.check_needs_rehash(new)
    assert accounts.verify_password(new, PASSWORD)
    accounts.authenticate(rt, "canbo.a", PASSWORD, ip="x")
    assert _hash(rt, "canbo.a") == new  # up to date: not rewritten


def _hash(rt: Runtime, username: str) -> str:
    with rt.db.read() as s:
        value = s.scalar(select(User.password_hash).where(User.username == username))
    assert value is not None
    return value


def test_user_creation_is_validated(rt: Runtime) -> None:
    seed_units(rt)
    ok = accounts.create_user(rt, " CanBo.A ", password=PASSWORD, role="officer",
                              unit="vinh-thanh", full_name="  Trần Thị Mỹ Hạnh ")
    assert (ok.username, ok.full_name, ok.unit_display) == (
        "canbo.a", "Trần Thị Mỹ Hạnh", "xã Vĩnh Thạnh")
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"username": "canbo.a"}, Conflict, "username"),
        ({"username": "cán bộ"}, ValidationFailed, "username"),
        ({"password": "ngan"}, ValidationFailed, "password"),
        ({"role": "boss"}, ValidationFailed, "role"),
        ({"unit": None}, ValidationFailed, "unit"),
        ({"unit": "nha-trang"}, ValidationFailed, "unit"),  # an officer belongs to a commune
        ({"role": "reviewer"}, ValidationFailed, "unit"),   # a reviewer to the city
        ({"unit": "khong-co"}, NotFound, "unit"),
        ({"full_name": "  "}, ValidationFailed, "name"),
    ]
    for change, error, field in cases:
        args: dict[str, Any] = {"username": "moi", "password": PASSWORD, "role": "officer",
                                "unit": "vinh-thanh", "full_name": "Người mới", **change}
        with pytest.raises(error) as info:
            accounts.create_user(rt, args.pop("username"), **args)
        assert info.value.field == field, change  # type: ignore[attr-defined]
    assert [u.username for u in accounts.list_users(rt)] == ["canbo.a"]


def test_password_change_ends_sessions(rt: Runtime, world: dict[str, Any]) -> None:
    raw, sess = accounts.create_session(rt, world["canbo.a"].id, lifetime=timedelta(hours=1))
    assert accounts.resolve_session(rt, raw, lifetime=timedelta(hours=1)) == sess
    accounts.set_password(rt, "canbo.a", "mat-khau-moi")
    assert accounts.resolve_session(rt, raw, lifetime=timedelta(hours=1)) is None
    assert accounts.authenticate(rt, "canbo.a", "mat-khau-moi", ip="x").username == "canbo.a"


def test_demo_accounts_one_per_role(rt: Runtime) -> None:
    seed_units(rt)
    created = create_demo_accounts(rt)
    assert created == list(DEMO_ACCOUNTS)
    assert create_demo_accounts(rt) == created  # idempotent
    users = {u.username: u for u in accounts.list_users(rt)}
    assert {(u.role, u.unit_slug) for u in users.values()} == {
        ("officer", "vinh-thanh"), ("leader", "vinh-thanh"), ("admin", "khanh-hoa"),
        ("reviewer", "nha-trang")}
    for a in DEMO_ACCOUNTS:
        assert accounts.authenticate(rt, a.username, a.password, ip="x").role == a.role


# ---------------------------------------------------------------- the access policy


READ_TABLE: list[tuple[str, str, bool, bool]] = [
    # user, unit, can read, can write
    ("canbo.a", "vinh-thanh", True, True),
    ("canbo.a", "vinh-luong", False, False),
    ("canbo.a", "nha-trang", False, False),
    ("lanhdao.a", "vinh-thanh", True, True),
    ("lanhdao.a", "vinh-luong", False, False),
    ("canbo.b", "vinh-luong", True, True),
    ("canbo.b", "vinh-thanh", False, False),
    ("thamdinh.nt", "vinh-thanh", True, False),
    ("thamdinh.nt", "vinh-luong", True, False),
    ("thamdinh.nt", "cam-phuc-bac", False, False),
    ("thamdinh.nt", "khanh-hoa", False, False),
    ("thamdinh.cr", "cam-phuc-bac", True, False),
    ("thamdinh.cr", "vinh-thanh", False, False),
    ("quantri", "vinh-thanh", True, True),
    ("quantri", "cam-phuc-bac", True, True),
]


def test_access_policy_unit_scope(rt: Runtime, world: dict[str, accounts.UserView]) -> None:
    for username, unit, reads, writes in READ_TABLE:
        user = world[username]
        assert access.can_read_unit(rt, user, unit) is reads, (username, unit)
        assert access.can_write_unit(rt, user, unit) is writes, (username, unit)
        assert access.can(rt, user, "unit.read", unit) is reads
        assert access.can(rt, user, "task.note", unit) is writes
        if not reads:
            with pytest.raises(Forbidden) as info:
                access.require_read(rt, user, unit)
            assert info.value.message_vi.startswith("Bạn không có quyền xem số liệu của")
        if not writes:
            with pytest.raises(Forbidden):
                access.require_write(rt, user, unit)
    with pytest.raises(Forbidden) as info:
        access.require_read(rt, world["canbo.a"], "vinh-luong")
    assert info.value.message_vi == "Bạn không có quyền xem số liệu của xã Vĩnh Lương"
    with pytest.raises(Forbidden) as info:
        access.require_write(rt, world["thamdinh.nt"], "vinh-thanh")
    assert "chỉ được xem" in info.value.message_vi
    with pytest.raises(NotFound):
        access.require_read(rt, world["quantri"], "khong-co")
    slugs = {name: [u.slug for u in access.readable_units(rt, user)]
             for name, user in world.items()}
    assert slugs["canbo.a"] == ["vinh-thanh"]
    assert slugs["thamdinh.nt"] == ["vinh-luong", "vinh-thanh"]
    assert slugs["thamdinh.cr"] == ["cam-phuc-bac"]
    assert len(slugs["quantri"]) == 6


def test_access_policy_actions(rt: Runtime, world: dict[str, accounts.UserView]) -> None:
    officer, leader, reviewer, admin = (world[n] for n in
                                        ("canbo.a", "lanhdao.a", "thamdinh.nt", "quantri"))
    vt = "vinh-thanh"
    assert access.can(rt, leader, "task.assign", vt) and access.can(rt, admin, "task.assign", vt)
    assert not access.can(rt, officer, "task.assign", vt)
    assert access.can(rt, leader, "report.freeze", vt)
    assert not access.can(rt, officer, "report.freeze", vt)
    assert not access.can(rt, leader, "report.freeze", "vinh-luong")
    assert access.can(rt, reviewer, "report.export", vt)
    for action in access.WRITE_ACTIONS:  # a reviewer never writes, anywhere
        assert not access.can(rt, reviewer, action, vt), action
        with pytest.raises(Forbidden):
            access.require(rt, reviewer, action, vt)
    assert access.can(rt, reviewer, "city.read") and not access.can(rt, officer, "city.read")
    assert access.can(rt, admin, "users.manage") and not access.can(rt, leader, "users.manage")
    with pytest.raises(Forbidden) as info:
        access.require(rt, officer, "task.assign", vt)
    assert info.value.message_vi == "Vai trò Cán bộ, công chức không được phân công nhiệm vụ"
    with pytest.raises(KeyError):
        access.can(rt, officer, "no.such.action", vt)
    locked = accounts.set_active(rt, "canbo.a", False)
    assert not access.can_read_unit(rt, locked, vt)


def test_leader_can_reopen_and_officer_cannot(rt: Runtime,
                                              world: dict[str, accounts.UserView]) -> None:
    api.load_plans(rt, ["vinh-thanh"], [DEMO_BUNDLE / "cchc-2023.yaml"])
    officer, leader, reviewer = world["canbo.a"], world["lanhdao.a"], world["thamdinh.nt"]
    officer_b = world["canbo.b"]
    assert access.actor_for(officer) == api.Actor("Trần Thị Mỹ Hạnh", "officer")
    assert access.allowed_triggers(rt, officer, "vinh-thanh", "not_started") == [
        "start", "complete", "wait", "nothing_arose"]
    assert access.allowed_triggers(rt, reviewer, "vinh-thanh", "not_started") == []
    assert access.allowed_triggers(rt, officer_b, "vinh-thanh", "not_started") == []
    access.require_transition(rt, officer, "vinh-thanh", "complete")
    api.transition(rt, KEY, "complete", access.actor_for(officer), evidence=[DOC],
                   result="Đã ban hành kế hoạch")

    assert access.allowed_triggers(rt, officer, "vinh-thanh", "done") == []
    assert access.allowed_triggers(rt, leader, "vinh-thanh", "done") == ["reopen"]
    assert not access.can_transition(rt, officer, "vinh-thanh", "reopen")
    assert access.can_transition(rt, leader, "vinh-thanh", "reopen")
    assert not access.can_transition(rt, reviewer, "vinh-thanh", "start")
    assert not access.can_transition(rt, officer_b, "vinh-thanh", "start")
    with pytest.raises(Forbidden) as info:
        access.require_transition(rt, officer, "vinh-thanh", "reopen")
    assert info.value.message_vi == ("Vai trò Cán bộ, công chức không được "
                                     "'Mở lại nhiệm vụ đã hoàn thành'")
    # the engine refuses too, whatever the web forgets
    with pytest.raises(Forbidden):
        api.transition(rt, KEY, "reopen", access.actor_for(officer), note="Sai văn bản")
    with pytest.raises(Forbidden):
        api.transition(rt, KEY, "reopen", access.actor_for(reviewer), note="Sai văn bản")
    assert api.get_task(rt, KEY).state == "done"
    res = api.transition(rt, KEY, "reopen", access.actor_for(leader),
                         note="Văn bản minh chứng chưa đúng")
    assert (res.from_state, res.to_state) == ("done", "in_progress")
    last = api.history(rt, KEY)[-1]
    assert (last.actor, last.role) == ("Nguyễn Quốc Bảo", "leader")


# ---------------------------------------------------------------- CLI


def test_cli_user_add_and_token(tmp_path: Any) -> None:
    from cli.main import app

    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()
    env = {"CCHC_DATABASE_URL": db, "COLUMNS": "200"}

    def run(*args: str, code: int = 0, **kw: Any) -> Any:
        result = runner.invoke(app, list(args), env=env, **kw)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    run("unit", "load", str(DEMO_BUNDLE / "units.yaml"))
    run("user", "add", "canbo.a", "--role", "officer", "--unit", "vinh-thanh",
        "--name", "Trần Thị Mỹ Hạnh", "--password", PASSWORD)
    prompted = run("user", "add", "lanhdao.a", "--role", "leader", "--unit", "vinh-thanh",
                   "--name", "Nguyễn Quốc Bảo", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert "Đã tạo tài khoản" in prompted.stdout and PASSWORD not in prompted.stdout
    bad = run("user", "add", "x.y", "--role", "officer", "--unit", "nha-trang",
              "--name", "X", "--password", PASSWORD, code=2)
    assert "xã/phường" in bad.stderr
    listing = run("user", "list")
    assert "canbo.a" in listing.stdout and "Lãnh đạo UBND" in listing.stdout
    out = run("user", "token", "canbo.a", "--name", "Báo cáo tỉnh").stdout
    raw = re.search(r"cchc_[A-Za-z0-9_-]{43}", out)
    assert raw and "không được hiển thị lần nữa" in out
    from engine.runtime import open_runtime

    rt = open_runtime(db)
    try:
        user = accounts.authenticate_token(rt, raw.group(0))
        assert user is not None and user.username == "canbo.a"
        tokens = accounts.list_api_tokens(rt, "canbo.a")
        run("user", "revoke-token", str(tokens[0].id))
        assert accounts.authenticate_token(rt, raw.group(0)) is None
        assert raw.group(0) not in run("user", "tokens").stdout
    finally:
        rt.db.dispose()


def test_cchc_demo_prints_the_web_logins(tmp_path: Any) -> None:
    from cli.main import app

    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    for a in DEMO_ACCOUNTS:
        assert f"{a.username} / {a.password}" in result.stdout
    assert "cchc serve --db sqlite:///" in result.stdout
