"""The admin pages for units, people and plans (`/admin/units`, `/admin/people`,
`/admin/plans`) over the Vĩnh Thạnh demo, through the real app with TestClient.

The demo database is built once per module; every test works on its own copy. Checked: an
admin adds a unit, a person and uploads a plan for the new unit (its 23 tasks appear); a bad
field (unit slug, phone, email) or a malformed plan file (a wrong field) shows the Vietnamese
reason — for the file: file name, line and reason — and leaves the database unchanged; an
officer, leader or reviewer gets 403 on the pages and the POSTs.
"""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    Login,
    cheap_hashes_fixture,
    csrf,
    demo_db_fixture,
    demo_rt_fixture,
    login_clients,
    text_of,
    token,
)
from web_server import LOGINS

from engine import api
from engine.directory.people import list_people
from engine.directory.units import list_units
from engine.runtime import Runtime
from web import create_app
from web.settings import WebSettings

with warnings.catch_warnings():  # starlette's TestClient warns about httpx at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PLAN_FILE = Path(__file__).resolve().parents[1] / "plans/data/vinh-thanh-2023/cchc-2023.yaml"
NEW_UNIT = "vinh-luong"



@pytest.fixture
def login(rt: Runtime) -> Iterator[Login]:
    with login_clients(create_app(rt, WebSettings())) as login_:
        yield login_


def counts(rt: Runtime) -> tuple[int, int, int, int]:
    """units, people, plans, tasks of all units (what a refused form must not change)."""
    tasks = sum(len(api.list_tasks(rt, u.slug)) for u in list_units(rt))
    return len(list_units(rt)), len(list_people(rt)), len(api.list_plans(rt)), tasks


def add_unit(client: TestClient, **fields: str) -> httpx.Response:
    data = {"slug": NEW_UNIT, "name": "Vĩnh Lương", "kind": "xã", "parent": "nha-trang",
            "cutoff": "15", **fields, "csrf_token": csrf(client)}
    r: httpx.Response = client.post("/admin/units", data=data, follow_redirects=False)
    return r


# ---------------------------------------------------------------- pages and navigation


def test_admin_sees_the_pages_and_menu(login: Login) -> None:
    admin = login("admin")
    page = admin.get("/admin/units")
    assert page.status_code == 200
    for path in ("/admin/units", "/admin/people", "/admin/plans"):
        assert f'href="{path}"' in page.text
    assert "Vĩnh Thạnh" in text_of(page.text) and "vinh-thanh" in page.text
    plans = admin.get("/admin/plans")
    assert plans.status_code == 200 and "cchc-2023" in plans.text
    assert 'enctype="multipart/form-data"' in plans.text
    people = admin.get("/admin/people")
    assert people.status_code == 200 and "Thêm cán bộ" in people.text


@pytest.mark.parametrize("role", ["officer", "leader", "reviewer"])
def test_other_roles_get_403(login: Login, rt: Runtime, role: str) -> None:
    client = login(role)
    before = counts(rt)
    nav = client.get("/dashboard").text
    for path in ("/admin/units", "/admin/people", "/admin/plans"):
        assert f'href="{path}"' not in nav
        assert client.get(path).status_code == 403, path
    tok = csrf(client)
    assert client.post("/admin/units", data={"slug": NEW_UNIT, "name": "Vĩnh Lương",
                                             "kind": "xã", "csrf_token": tok}).status_code == 403
    assert client.post("/admin/people", data={"unit": "vinh-thanh", "name": "Trần Thị B",
                                              "csrf_token": tok}).status_code == 403
    r = client.post("/admin/plans", data={"units": "vinh-thanh", "csrf_token": tok},
                    files={"file": ("cchc-2023.yaml", PLAN_FILE.read_bytes(), "text/yaml")})
    assert r.status_code == 403
    assert counts(rt) == before


# ---------------------------------------------------------------- units


def test_admin_adds_a_unit(login: Login, rt: Runtime) -> None:
    admin = login("admin")
    r = add_unit(admin)
    assert r.status_code == 303, r.text
    unit = next(u for u in list_units(rt) if u.slug == NEW_UNIT)
    assert (unit.name, unit.kind, unit.parent_slug, unit.cutoff_day) == (
        "Vĩnh Lương", "xã", "nha-trang", 15)
    page = admin.get("/admin/units?ok=" + NEW_UNIT)
    assert "Đã thêm đơn vị xã Vĩnh Lương" in text_of(page.text)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"slug": "Vĩnh Lương"}, "Mã đơn vị chỉ gồm chữ thường không dấu"),
    ({"slug": "vinh-thanh"}, "Mã đơn vị 'vinh-thanh' đã có"),
    ({"cutoff": "32"}, "Ngày chốt số liệu phải là số từ 1 đến 31"),
    ({"parent": "khong-co"}, "Không có đơn vị cấp trên 'khong-co'"),
    ({"name": ""}, "Hãy nhập tên đơn vị"),
])
def test_bad_unit_field_is_shown_and_nothing_saved(login: Login, rt: Runtime,
                                                   fields: dict[str, str], reason: str) -> None:
    admin = login("admin")
    before = counts(rt)
    r = add_unit(admin, **fields)
    assert r.status_code == 400
    text = r.text
    assert reason in html.unescape(text)
    assert 'class="field-error"' in text and 'aria-invalid="true"' in text
    assert counts(rt) == before


# ---------------------------------------------------------------- people


def test_admin_adds_and_updates_a_person(login: Login, rt: Runtime) -> None:
    admin = login("admin")
    data = {"unit": "vinh-thanh", "name": "Trần Thị Bích", "role": "officer",
            "title": "Công chức Địa chính - Xây dựng", "email": "bich@example.vn",
            "phone": "0912 345 678", "zalo_user_id": "1234567890123456789",
            "channels": ["zalo", "email"]}
    before = len(list_people(rt))
    r = admin.post("/admin/people", data={**data, "csrf_token": csrf(admin)},
                   follow_redirects=False)
    assert r.status_code == 303, r.text
    assert len(list_people(rt)) == before + 1
    person = next(p for p in list_people(rt) if p.name == "Trần Thị Bích")
    assert person.email == "bich@example.vn" and person.title == data["title"]
    assert "Trần Thị Bích" in text_of(admin.get(r.headers["location"]).text)
    # same unit and name: refused (nobody overwritten by accident) until confirmed
    r = admin.post("/admin/people", data={**data, "title": "Công chức Tư pháp - Hộ tịch",
                                          "csrf_token": csrf(admin)}, follow_redirects=False)
    assert r.status_code == 400 and "Đơn vị đã có cán bộ" in text_of(r.text)
    assert next(p for p in list_people(rt) if p.name == "Trần Thị Bích").title == data["title"]
    r = admin.post("/admin/people", data={**data, "title": "Công chức Tư pháp - Hộ tịch",
                                          "cung_nguoi": "1", "csrf_token": csrf(admin)},
                   follow_redirects=False)
    assert r.status_code == 303
    assert len(list_people(rt)) == before + 1
    person = next(p for p in list_people(rt) if p.name == "Trần Thị Bích")
    assert person.title == "Công chức Tư pháp - Hộ tịch"


@pytest.mark.parametrize(("field", "value"), [("phone", "12ab"), ("email", "khong-phai-thu")])
def test_bad_person_field_is_shown_and_nothing_saved(login: Login, rt: Runtime, field: str,
                                                     value: str) -> None:
    admin = login("admin")
    before = counts(rt)
    data = {"unit": "vinh-thanh", "name": "Trần Thị Bích", "role": "officer",
            field: value, "csrf_token": csrf(admin)}
    r = admin.post("/admin/people", data=data, follow_redirects=False)
    assert r.status_code == 400
    assert "Chưa lưu" in r.text
    m = re.search(rf'<input id="person-\w+" name="{field}"[^>]*>\s*<p class="field-error"'
                  r'[^>]*>([^<]+)</p>', r.text)
    assert m, r.text
    reason = html.unescape(m.group(1))
    assert re.search(r"[ạảãàáâầấậẩẫăằắặẳẵđêềếệểễôồốộổỗơờớợởỡưừứựửữíìịỉĩýỳỵỷỹ]", reason.lower())
    assert f'value="{value}"' in r.text  # what was typed is kept
    assert counts(rt) == before


# ---------------------------------------------------------------- plans


def test_admin_uploads_a_plan_for_a_new_unit(login: Login, rt: Runtime) -> None:
    admin = login("admin")
    assert add_unit(admin).status_code == 303
    assert api.list_tasks(rt, NEW_UNIT) == []
    r = admin.post("/admin/plans", data={"units": [NEW_UNIT], "csrf_token": csrf(admin)},
                   files={"file": ("cchc-2023.yaml", PLAN_FILE.read_bytes(), "text/yaml")},
                   follow_redirects=False)
    assert r.status_code == 303, r.text
    assert len({t.code for t in api.list_tasks(rt, NEW_UNIT)}) == 23
    page = admin.get(r.headers["location"])
    assert "Đã nạp kế hoạch cchc-2023 cho 1 đơn vị" in text_of(page.text)
    assert admin.get(f"/units/{NEW_UNIT}/tasks").status_code == 200


def test_malformed_plan_shows_file_line_reason_and_loads_nothing(login: Login,
                                                                  rt: Runtime) -> None:
    admin = login("admin")
    assert add_unit(admin).status_code == 303
    text = PLAN_FILE.read_text(encoding="utf-8")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("deadline:"))
    lines[at] = lines[at].replace("deadline:", "han_chot:", 1)  # a wrong field
    bad = ("\n".join(lines) + "\n").encode("utf-8")
    before = counts(rt)
    r = admin.post("/admin/plans", data={"units": [NEW_UNIT], "csrf_token": csrf(admin)},
                   files={"file": ("ke-hoach-loi.yaml", bad, "text/yaml")},
                   follow_redirects=False)
    assert r.status_code == 400
    shown = text_of(r.text)
    assert "Chưa nạp" in shown
    assert re.search(rf"ke-hoach-loi\.yaml\s*, dòng {at + 1} \(sections\[0\]\.tasks\[0\]"
                     r"\.han_chot\): trường không được phép", shown), shown
    assert "/tmp" not in shown and "cchc-plan-" not in shown  # no server path
    assert counts(rt) == before
    assert api.list_tasks(rt, NEW_UNIT) == []


def test_plan_upload_needs_a_unit_and_a_file(login: Login, rt: Runtime) -> None:
    admin = login("admin")
    before = counts(rt)
    r = admin.post("/admin/plans", data={"csrf_token": csrf(admin)},
                   files={"file": ("x.yaml", b"", "text/yaml")})
    assert r.status_code == 400
    shown = text_of(r.text)
    assert "Hãy chọn ít nhất một đơn vị" in shown
    assert counts(rt) == before


def test_plan_upload_is_size_limited(rt: Runtime) -> None:
    app = create_app(rt, WebSettings(max_upload_bytes=1024))
    with TestClient(app) as client:
        page = client.get("/login")
        username, password = LOGINS["admin"]
        client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token(page.text), "next": "/dashboard"})
        before = counts(rt)
        r = client.post("/admin/plans", data={"units": ["vinh-thanh"], "csrf_token": csrf(client)},
                        files={"file": ("big.yaml", b"#" * 2048, "text/yaml")})
        assert r.status_code in (400, 413)
        assert "quá lớn" in html.unescape(r.text)
        assert counts(rt) == before
