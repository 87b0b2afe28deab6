"""Production mode (issue 9): `cchc serve` refuses a database with demo logins (unless
`--demo`); Secure cookies and HSTS over HTTPS (also behind a trusted proxy); an absolute
session lifetime; locking a user from the CLI and the web; a password change revokes API
tokens and other sessions; an admin scoped to a unit and the units below it.

Findings: `cchc serve` started on a database with the demo accounts; the cookie had no
`Secure` flag by default, no HSTS, no absolute session lifetime; no way to lock a user from
the CLI or web; a password change kept the user's API tokens; an admin of one commune could
act on any unit.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import Clock
from test_web_auth import PASSWORD, make_users, seed_units
from typer.testing import CliRunner
from web_client import cheap_hashes_fixture  # noqa: F401 - registers the cheap hashes

from engine import api
from engine.directory import access, accounts
from engine.directory.demo_accounts import create_demo_accounts
from engine.directory.production import production_problems
from engine.errors import Forbidden
from engine.runtime import Runtime, open_runtime
from web import create_app
from web.settings import WebSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    import re

    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token.group(1)}, follow_redirects=False)
    return int(r.status_code)


# ---------------------------------------------------------------- serve refuses demo logins


def test_serve_refuses_demo_accounts_unless_demo(tmp_path: Path) -> None:
    from cli.main import app

    url = f"sqlite:///{tmp_path / 'cchc.sqlite3'}"
    rt = open_runtime(url)
    seed_units(rt)
    create_demo_accounts(rt)
    assert any("canbo.vinhthanh" in p for p in production_problems(rt))
    rt.db.dispose()
    result = CliRunner().invoke(app, ["serve", "--db", url, "--port", "1"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "Không chạy được" in result.stdout and "tài khoản trình diễn" in result.stdout
    assert "--demo" in result.stdout
    # once every demo login is locked or has a new password, nothing is left to refuse
    for name in ("canbo.vinhthanh", "lanhdao.vinhthanh", "thamdinh.nhatrang"):
        assert CliRunner().invoke(app, ["user", "lock", name, "--db", url]).exit_code == 0
    assert CliRunner().invoke(app, ["user", "passwd", "quantri.vinhthanh", "--password",
                                    "Vĩnh Thạnh quản trị 2026", "--db", url]).exit_code == 0
    rt = open_runtime(url)
    assert production_problems(rt) == []
    rt.db.dispose()


def test_placeholder_secret_is_reported(sqlite_rt: Runtime,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_SMTP_PASSWORD", "changeme")
    assert any("CCHC_SMTP_PASSWORD" in p for p in production_problems(sqlite_rt))


# ---------------------------------------------------------------- HTTPS: Secure and HSTS


def _app(rt: Runtime, **settings: object) -> TestClient:
    seed_units(rt)
    make_users(rt)
    return TestClient(create_app(rt, WebSettings(**settings)))  # type: ignore[arg-type]


def test_plain_http_has_no_hsts_and_no_secure(sqlite_rt: Runtime) -> None:
    client = _app(sqlite_rt)
    page = client.get("/login")
    assert "strict-transport-security" not in page.headers
    assert "secure" not in page.headers["set-cookie"].lower()


def test_https_gets_hsts_and_secure_cookies(sqlite_rt: Runtime) -> None:
    client = _app(sqlite_rt)
    https = TestClient(client.app, base_url="https://testserver")
    page = https.get("/login")
    assert page.headers["strict-transport-security"].startswith("max-age=31536000")
    assert all("; Secure" in c for c in page.headers.get_list("set-cookie"))
    assert _login(https, "canbo.a") == 303


def test_forwarded_proto_counts_only_from_a_trusted_proxy(sqlite_rt: Runtime) -> None:
    client = _app(sqlite_rt, trusted_proxies="testclient")
    hdr = {"X-Forwarded-Proto": "https"}
    assert "strict-transport-security" in client.get("/login", headers=hdr).headers
    untrusted = TestClient(create_app(sqlite_rt, WebSettings(trusted_proxies="10.0.0.1")))
    assert "strict-transport-security" not in untrusted.get("/login", headers=hdr).headers


# ---------------------------------------------------------------- sessions and passwords


def test_absolute_session_lifetime(sqlite_rt: Runtime, clock: Clock) -> None:
    client = _app(sqlite_rt, session_max_hours=2, session_lifetime_minutes=60)
    assert _login(client, "canbo.a") == 303
    for _ in range(4):  # busy all along: the idle expiry keeps sliding
        clock.at += timedelta(minutes=29)
        assert client.get("/dashboard", follow_redirects=False).status_code == 200
    clock.at += timedelta(minutes=5)  # 2 h 1 min after the login
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_password_change_revokes_tokens_and_other_sessions(rt: Runtime) -> None:
    seed_units(rt)
    make_users(rt)
    raw, _ = accounts.create_api_token(rt, "canbo.a", "Kịch bản")
    keep, _ = accounts.create_session(rt, accounts.get_user(rt, "canbo.a").id,
                                      lifetime=timedelta(hours=1))
    other, _ = accounts.create_session(rt, accounts.get_user(rt, "canbo.a").id,
                                       lifetime=timedelta(hours=1))
    assert accounts.authenticate_token(rt, raw) is not None
    accounts.set_password(rt, "canbo.a", "Mật khẩu mới 2026", keep_session=keep)
    assert accounts.authenticate_token(rt, raw) is None
    assert [t.active for t in accounts.list_api_tokens(rt, "canbo.a")] == [False]
    assert accounts.resolve_session(rt, keep, lifetime=timedelta(hours=1)) is not None
    assert accounts.resolve_session(rt, other, lifetime=timedelta(hours=1)) is None


# ---------------------------------------------------------------- lock and unlock


def test_cli_lock_and_unlock(tmp_path: Path) -> None:
    from cli.main import app

    url = f"sqlite:///{tmp_path / 'cchc.sqlite3'}"
    rt = open_runtime(url)
    seed_units(rt)
    make_users(rt)
    raw, _ = accounts.create_api_token(rt, "canbo.a", "Kịch bản")
    locked = CliRunner().invoke(app, ["user", "lock", "canbo.a", "--db", url])
    assert locked.exit_code == 0 and "Đã khóa tài khoản canbo.a" in locked.stdout
    assert not accounts.get_user(rt, "canbo.a").active
    assert accounts.authenticate_token(rt, raw) is None
    unlocked = CliRunner().invoke(app, ["user", "unlock", "canbo.a", "--db", url])
    assert unlocked.exit_code == 0 and "Đã mở khóa" in unlocked.stdout
    assert accounts.get_user(rt, "canbo.a").active
    missing = CliRunner().invoke(app, ["user", "lock", "khong-co", "--db", url])
    assert missing.exit_code != 0 and "Không có tài khoản" in missing.output
    help_ = CliRunner().invoke(app, ["user", "lock", "--help"], env={"COLUMNS": "200"})
    assert "Khóa tài khoản" in help_.stdout
    rt.db.dispose()


def test_web_admin_locks_a_user_and_their_session_ends(sqlite_rt: Runtime) -> None:
    admin = _app(sqlite_rt)
    officer = TestClient(admin.app)
    assert _login(officer, "canbo.a") == 303 and _login(admin, "quantri") == 303
    page = admin.get("/admin/users")
    assert page.status_code == 200 and 'id="user-canbo.a"' in page.text
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    r = admin.post("/admin/users/canbo.a/lock", data={"csrf_token": token.group(1)},
                   follow_redirects=False)
    assert r.status_code == 303
    assert officer.get("/dashboard", follow_redirects=False).status_code == 303  # logged out
    assert _login(officer, "canbo.a") == 400
    r = admin.post("/admin/users/canbo.a/unlock", data={"csrf_token": token.group(1)},
                   follow_redirects=False)
    assert r.status_code == 303 and _login(officer, "canbo.a") == 303
    lead = TestClient(admin.app)
    assert _login(lead, "lanhdao.a") == 303
    assert lead.get("/admin/users").status_code == 403


# ---------------------------------------------------------------- admin scoped to a unit


def test_admin_of_a_commune_cannot_act_on_another_unit(rt: Runtime) -> None:
    seed_units(rt)
    make_users(rt)
    accounts.create_user(rt, "quantri.vt", password=PASSWORD, role="admin",
                         full_name="Quản trị xã Vĩnh Thạnh", unit="vinh-thanh")
    accounts.create_user(rt, "quantri.nt", password=PASSWORD, role="admin",
                         full_name="Quản trị thành phố Nha Trang", unit="nha-trang")
    vt = accounts.get_user(rt, "quantri.vt")
    nt = accounts.get_user(rt, "quantri.nt")
    glob = accounts.get_user(rt, "quantri")
    assert access.can_write_unit(rt, vt, "vinh-thanh")
    assert not access.can_read_unit(rt, vt, "vinh-luong")
    assert not access.can_write_unit(rt, vt, "cam-phuc-bac")
    with pytest.raises(Forbidden):
        access.require(rt, vt, "report.freeze", "vinh-luong")
    # a city's admin covers its communes, not another city's
    assert access.can_write_unit(rt, nt, "vinh-thanh") and access.can_write_unit(
        rt, nt, "vinh-luong")
    assert not access.can_read_unit(rt, nt, "cam-phuc-bac")
    assert [u.slug for u in access.readable_units(rt, nt)] == [
        "nha-trang", "vinh-luong", "vinh-thanh"]
    # an admin without a unit still covers everything
    assert access.can_write_unit(rt, glob, "cam-phuc-bac")


def test_scoped_admin_pages_stay_in_scope(sqlite_rt: Runtime) -> None:
    client = _app(sqlite_rt)
    accounts.create_user(sqlite_rt, "quantri.vt", password=PASSWORD, role="admin",
                         full_name="Quản trị xã Vĩnh Thạnh", unit="vinh-thanh")
    assert _login(client, "quantri.vt") == 303
    import re

    page = client.get("/admin/users")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    listed = set(re.findall(r'id="user-([^"]+)"', page.text))
    assert "canbo.b" not in listed and "canbo.a" in listed  # canbo.b is of Vĩnh Lương
    r = client.post("/admin/users/canbo.b/lock", data={"csrf_token": token.group(1)})
    assert r.status_code == 404 and accounts.get_user(sqlite_rt, "canbo.b").active
    r = client.post("/admin/units", data={"slug": "vinh-moi", "name": "Vĩnh Mới",
                                          "kind": "xã", "parent": "nha-trang",
                                          "csrf_token": token.group(1)})
    assert r.status_code == 403
    assert "vinh-moi" not in {u.slug for u in api.list_units(sqlite_rt)}
    assert client.get("/units/vinh-luong/tasks").status_code == 403
