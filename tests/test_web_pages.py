"""The HTML pages over the Vĩnh Thạnh demo, through the real app with TestClient.

The demo database (`engine.demo.run_demo`: 124 tasks replayed as of Q3-2023 and frozen, people,
obligations, one login per role) is built once per module; every test works on its own copy,
with the clock at the demo's "today" (20/09/2023 09:00). Password hashing is cheap here.
What is checked: each page for each role allowed to see it, 403 for another commune or role,
a refused form shown again with the reason next to its field, what was typed kept and nothing
saved, post/redirect/get after a saved change, the stale-version conflict, freezing and the
downloads (opened with python-docx/openpyxl), search without diacritics, reviewers never
writing, and the evidence PDF checks.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from conftest import Clock
from pdf_samples import clean_pdf
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    Login,
    cheap_hashes_fixture,
    csrf,
    demo_db_fixture,
    demo_rt_fixture,
    login_clients,
    text_of,
)
from web_server import seed_failed_reminders

from engine import api
from engine.directory import accounts
from engine.domain.attachments import list_attachments, task_documents
from engine.domain.tasks import TaskKey
from engine.reminders import outbox
from engine.reporting.reader import read_docx, read_xlsx
from engine.runtime import Runtime, open_runtime
from vntext.text import fold
from web import create_app
from web.settings import WebSettings

with warnings.catch_warnings():  # starlette's TestClient warns about httpx at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

UNIT = "vinh-thanh"
OPEN_TASK = TaskKey(UNIT, "cchc-2023", "5")  # Chưa triển khai; Công chức Văn phòng - Thống kê
DONE_TASK = TaskKey(UNIT, "cchc-2023", "1")
BAD_DOC = "Kế hoạch số 223/KH-UBND ngày 24/02/20232"
GOOD_DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"  # as the unit's register has it
RESULT = "Đã số hóa 1.250 kết quả giải quyết TTHC còn hiệu lực"
PASSWORD = "mat-khau-1"  # of the logins the tests add
PDF = clean_pdf()  # a real one-page PDF: uploads are parsed and checked
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



# ---------------------------------------------------------------- fixtures


@pytest.fixture
def app_settings() -> WebSettings:
    return WebSettings()


@pytest.fixture
def login(rt: Runtime, app_settings: WebSettings) -> Iterator[Login]:
    with login_clients(create_app(rt, app_settings), PASSWORD) as login_:
        yield login_



def url(key: TaskKey, suffix: str = "") -> str:
    return f"/units/{key.unit}/tasks/{key.plan}/{key.code}{suffix}"


def progress_of(client: TestClient, plan: str) -> str:
    page = client.get("/dashboard").text
    m = re.search(rf'data-plan="{plan}".*?<strong>(\d+/\d+)</strong>', page, re.S)
    assert m, page
    return m.group(1)


def my_count(client: TestClient) -> int:
    m = re.search(r'id="my-count">(\d+)<', client.get("/dashboard").text)
    assert m
    return int(m.group(1))


def state_of(rt: Runtime, key: TaskKey) -> tuple[int, str, int, int]:
    """version, state, history length, evidence documents: what 'nothing saved' compares."""
    t = api.get_task(rt, key)
    return t.version, t.state, len(api.history(rt, key)), len(task_documents(rt, key))


def complete_form(client: TestClient, version: int, doc: str = GOOD_DOC,
                  result: str = RESULT, **extra: str) -> dict[str, str]:
    return {"csrf_token": csrf(client), "trigger": "complete", "version": str(version),
            "docs": doc, "result": result, **extra}


# ---------------------------------------------------------------- pages per role

UNIT_PAGES = [
    "/dashboard",
    f"/units/{UNIT}/tasks",
    url(OPEN_TASK),
    url(DONE_TASK),
    f"/units/{UNIT}/obligations",
    f"/units/{UNIT}/obligations/3",
    f"/units/{UNIT}/reports",
    f"/units/{UNIT}/reports?period=2023-Q2",
    f"/units/{UNIT}/reports/2023-Q3/check",
]
ROLE_PAGES = {
    "officer": UNIT_PAGES,
    "leader": UNIT_PAGES,
    "admin": [*UNIT_PAGES, "/city", "/admin/outbox", "/admin/people"],
    "reviewer": [*[p for p in UNIT_PAGES if p != "/dashboard"], "/dashboard", "/city"],
}


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_every_page_renders_for_each_allowed_role(login: Login, rt: Runtime, role: str) -> None:
    client = login(role)
    for path in ROLE_PAGES[role]:
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        assert r.headers["content-type"].startswith("text/html")
        assert unicodedata.is_normalized("NFC", r.text), path
        assert "<script>" not in r.text  # CSP: no inline scripts
        assert 'style="' not in r.text  # CSP: no inline styles
    dashboard = text_of(client.get("/dashboard").text)
    if role == "reviewer":  # home: the per-commune summary of the reviewing body
        assert "Tổng hợp các xã, phường" in dashboard and "Vĩnh Thạnh" in dashboard
        assert "thành phố Nha Trang" in dashboard and 'id="summary"' in client.get(
            "/dashboard").text
    else:
        assert "Tiến độ theo kế hoạch" in dashboard and "15/23" in dashboard
        assert "Báo cáo định kỳ sắp đến hạn" in dashboard
        assert "Đến hạn trong tuần" in dashboard and "Quá hạn" in dashboard
    if role == "officer":  # Trần Thị Mỹ Hạnh is the Công chức Văn phòng - Thống kê
        assert "Việc của tôi" in dashboard and my_count(client) == 20


def test_menu_shortcuts_lead_to_the_users_commune(login: Login) -> None:
    officer = login("officer")
    for page in ("tasks", "obligations", "reports"):
        r = officer.get(f"/{page}", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, f"/units/{UNIT}/{page}")
    reviewer = login("reviewer")
    assert reviewer.get("/tasks", follow_redirects=False).headers["location"] == "/city"


def test_anonymous_visitor_is_sent_to_login(rt: Runtime) -> None:
    with TestClient(create_app(rt, WebSettings())) as client:
        r = client.get(url(OPEN_TASK), follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=%2Funits%2Fvinh-thanh%2Ftasks")


def test_task_detail_shows_history_evidence_and_the_allowed_actions(login: Login) -> None:
    officer = login("officer")
    page = officer.get(url(DONE_TASK)).text
    shown = text_of(page)
    assert "Đã thực hiện" in shown and "Công chức Văn phòng - Thống kê" in shown
    assert "Lịch sử cập nhật" in shown and "20/09/2023 09:00" in shown  # dd/mm/yyyy HH:MM
    assert "Mở lại nhiệm vụ đã hoàn thành" not in shown  # reopen: leaders only
    assert "Phân công người phụ trách" not in shown
    leader = text_of(login("leader").get(url(DONE_TASK)).text)
    assert "Mở lại nhiệm vụ đã hoàn thành" in leader and "Phân công người phụ trách" in leader
    open_page = text_of(officer.get(url(OPEN_TASK)).text)
    for label in ("Bắt đầu thực hiện", "Hoàn thành (kèm văn bản)", "Chờ văn bản của cấp trên",
                  "Trong kỳ chưa phát sinh", "Ghi nhận tiến độ"):
        assert label in open_page


# ---------------------------------------------------------------- authorization


@pytest.fixture
def other_commune(rt: Runtime) -> None:
    """xã Vĩnh Lương (same city, no plans) with its officer; thành phố Cam Ranh's reviewer."""
    api.add_unit(rt, slug="vinh-luong", name="Vĩnh Lương", kind="xã", parent="nha-trang")
    api.add_unit(rt, slug="cam-ranh", name="Cam Ranh", kind="thành phố", parent="khanh-hoa")
    accounts.create_user(rt, "canbo.vinhluong", password=PASSWORD, role="officer",
                         unit="vinh-luong", full_name="Lê Văn Bình")
    accounts.create_user(rt, "thamdinh.camranh", password=PASSWORD, role="reviewer",
                         unit="cam-ranh", full_name="Võ Thị Lan")


@pytest.mark.usefixtures("other_commune")
def test_another_communes_officer_gets_403_everywhere(login: Login, rt: Runtime) -> None:
    client = login("canbo.vinhluong")
    for path in [*UNIT_PAGES[1:], f"/dashboard?unit={UNIT}",
                 f"/units/{UNIT}/reports/2023-Q3/phu-luc-1.docx",
                 "/city", "/admin/outbox", "/admin/people"]:
        r = client.get(path)
        assert r.status_code == 403, path
        assert "quyền" in text_of(r.text) or "không được" in text_of(r.text)
    assert "Bạn không có quyền xem số liệu của xã Vĩnh Thạnh" in text_of(
        client.get(f"/units/{UNIT}/tasks").text)
    before = state_of(rt, OPEN_TASK)
    version = before[0]
    for path, data in [
        (url(OPEN_TASK, "/transition"), complete_form(client, version)),
        (url(OPEN_TASK, "/note"), {"csrf_token": csrf(client), "version": str(version),
                                   "note": "ghi chú"}),
        (f"/units/{UNIT}/obligations/3/submit",
         {"csrf_token": csrf(client), "version": "1",
          "doc": "Báo cáo số 120/BC-UBND ngày 18/09/2023"}),
        (f"/units/{UNIT}/reports/2023-Q2/freeze", {"csrf_token": csrf(client)}),
    ]:
        r = client.post(path, data=data, follow_redirects=False)
        assert r.status_code == 403, path
        assert "Bạn chỉ được cập nhật số liệu của xã Vĩnh Lương" in text_of(r.text) or \
            "không được" in text_of(r.text)
    assert state_of(rt, OPEN_TASK) == before
    assert client.get("/dashboard").status_code == 200  # their own (empty) commune


@pytest.mark.usefixtures("other_commune")
def test_reviewer_of_another_city_is_refused(login: Login) -> None:
    client = login("thamdinh.camranh")
    assert client.get(f"/units/{UNIT}/tasks").status_code == 403
    assert client.get(f"/units/{UNIT}/reports/2023-Q3/phu-luc-1.docx").status_code == 403
    city = text_of(client.get("/city").text)
    assert "Vĩnh Thạnh" not in city and "Chưa có xã, phường nào" in city


def test_reviewer_never_sees_write_forms_and_their_posts_are_refused(login: Login, rt: Runtime
                                                                     ) -> None:
    client = login("reviewer")
    page = client.get(url(OPEN_TASK)).text
    assert "Cập nhật nhiệm vụ" not in page and "/transition" not in page
    assert "/submit" not in client.get(f"/units/{UNIT}/obligations").text
    reports = client.get(f"/units/{UNIT}/reports?period=2023-Q2").text
    assert "/freeze" not in reports and "phu-luc-1.docx" in reports  # reads, downloads
    before = state_of(rt, OPEN_TASK)
    version = str(before[0])
    tok = csrf(client)
    posts = [
        (url(OPEN_TASK, "/transition"), {"trigger": "start", "version": version}),
        (url(OPEN_TASK, "/transition"), {"trigger": "complete", "version": version,
                                         "docs": GOOD_DOC, "result": RESULT}),
        (url(OPEN_TASK, "/note"), {"version": version, "note": "xem"}),
        (url(OPEN_TASK, "/assign"), {"version": version, "owner": "Ai đó"}),
        (url(OPEN_TASK, "/deadline"), {"version": version, "deadline": "31/12/2023"}),
        (f"/units/{UNIT}/obligations/3/submit",
         {"version": "1", "doc": "Báo cáo số 120/BC-UBND ngày 18/09/2023"}),
        (f"/units/{UNIT}/reports/2023-Q2/freeze", {}),
    ]
    for path, data in posts:
        r = client.post(path, data={"csrf_token": tok, **data}, follow_redirects=False)
        assert r.status_code == 403, path
        assert "Tài khoản thẩm định chỉ được xem" in text_of(r.text) or \
            "không được" in text_of(r.text), path
    assert state_of(rt, OPEN_TASK) == before
    assert len(api.history(rt, OPEN_TASK)) == before[2]
    assert "2023-Q2" not in text_of(login("leader").get(f"/units/{UNIT}/reports").text
                                    ).split("Các kỳ đã chốt")[-1]


def test_post_without_csrf_token_is_refused(login: Login, rt: Runtime) -> None:
    client = login("officer")
    before = state_of(rt, OPEN_TASK)
    r = client.post(url(OPEN_TASK, "/transition"),
                    data={"trigger": "start", "version": str(before[0])})
    assert r.status_code == 403
    assert state_of(rt, OPEN_TASK) == before


# ---------------------------------------------------------------- marking a task done


def test_wrong_reference_is_shown_inline_with_the_input_kept_and_nothing_saved(
        login: Login, rt: Runtime) -> None:
    client = login("officer")
    assert progress_of(client, "cchc-2023") == "15/23"
    mine = my_count(client)
    before = state_of(rt, OPEN_TASK)

    r = client.post(url(OPEN_TASK, "/transition"),
                    data=complete_form(client, before[0], BAD_DOC, on="24/02/2023"))
    assert r.status_code == 400
    page = r.text
    reason = ("Văn bản 'Kế hoạch số 223/KH-UBND ngày 24/02/20232': Năm '20232' trong ngày "
              "'24/02/20232' có 5 chữ số (năm phải ghi đủ 4 chữ số)")
    error = re.search(r'<p class="field-error" id="err-complete-docs"[^>]*>(.*?)</p>', page,
                      re.S)
    assert error is not None and html.unescape(error.group(1)) == reason
    # the field, its error and the typed values are together in the opened form
    assert '<details class="action" id="action-complete" open>' in page
    assert re.search(r'<textarea id="complete-docs" name="docs"[^>]*aria-invalid="true"[^>]*>'
                     + re.escape(html.escape(BAD_DOC)) + "</textarea>", page)
    assert html.escape(RESULT) in page and 'value="24/02/2023"' in page
    assert state_of(rt, OPEN_TASK) == before  # nothing saved: version, history, documents
    assert progress_of(client, "cchc-2023") == "15/23"

    r = client.post(url(OPEN_TASK, "/transition"),
                    data=complete_form(client, before[0], GOOD_DOC), follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == url(OPEN_TASK, "?ok=complete")
    shown = text_of(client.get(r.headers["location"]).text)
    assert "Đã lưu: Hoàn thành (kèm văn bản)" in shown
    assert "Kế hoạch số 223/KH-UBND ngày 06/3/2023" in shown
    assert "Đã thực hiện" in shown and "Ngày hoàn thành 06/03/2023" in shown
    task = api.get_task(rt, OPEN_TASK)
    assert (task.state, task.version, task.result) == ("done", before[0] + 1, RESULT)
    assert progress_of(client, "cchc-2023") == "16/23"
    assert my_count(client) == mine - 1


def test_guards_and_dates_are_shown_next_to_their_fields(login: Login, rt: Runtime) -> None:
    client = login("officer")
    before = state_of(rt, OPEN_TASK)
    r = client.post(url(OPEN_TASK, "/transition"),
                    data=complete_form(client, before[0], GOOD_DOC, result=""))
    assert r.status_code == 400
    assert re.search(r'id="err-complete-result"[^>]*>Phải ghi kết quả thực hiện<', r.text)
    r = client.post(url(OPEN_TASK, "/transition"),
                    data=complete_form(client, before[0], GOOD_DOC, on="31/02/2023"))
    assert r.status_code == 400 and "Ngày &#39;31/02/2023&#39; không tồn tại" in r.text
    r = client.post(url(OPEN_TASK, "/transition"),
                    data=complete_form(client, before[0], GOOD_DOC, on="01/01/2023"))
    assert r.status_code == 400
    assert "sớm hơn ngày của văn bản minh chứng" in text_of(r.text)
    r = client.post(url(OPEN_TASK, "/transition"),
                    data={"csrf_token": csrf(client), "trigger": "wait",
                          "version": str(before[0]), "note": ""})
    assert r.status_code == 400
    assert re.search(r'id="err-wait-note"[^>]*>Phải ghi lý do / nội dung<', r.text)
    assert '<details class="action" id="action-wait" open>' in r.text
    assert state_of(rt, OPEN_TASK) == before


def test_stale_version_shows_the_conflict_and_keeps_the_input(login: Login, rt: Runtime) -> None:
    officer = login("officer")
    leader = login("leader")
    before = state_of(rt, OPEN_TASK)
    r = leader.post(url(OPEN_TASK, "/assign"),
                    data={"csrf_token": csrf(leader), "version": str(before[0]),
                          "owner": "Công chức Tư pháp - Hộ tịch"}, follow_redirects=False)
    assert r.status_code == 303
    after_assign = state_of(rt, OPEN_TASK)
    assert after_assign[0] == before[0] + 1

    r = officer.post(url(OPEN_TASK, "/transition"),
                     data=complete_form(officer, before[0]))  # the version read before
    assert r.status_code == 409
    shown = text_of(r.text)
    assert "vừa được người khác cập nhật" in shown
    assert "Nội dung bạn nhập vẫn còn nguyên" in shown
    assert "tải lại" not in shown  # reloading would lose what was typed
    assert html.escape(RESULT) in r.text  # what was typed is still there
    assert "Công chức Tư pháp - Hộ tịch" in shown  # and the page shows the current task
    # the form now carries the current version: sending it again saves
    assert f'name="version" value="{after_assign[0]}"' in r.text
    assert state_of(rt, OPEN_TASK) == after_assign
    r = officer.post(url(OPEN_TASK, "/note"),
                     data={"csrf_token": csrf(officer), "version": str(before[0]),
                           "note": "Đang rà soát <danh mục>"})
    assert r.status_code == 409 and "Đang rà soát &lt;danh mục&gt;" in r.text


def test_leader_assigns_sets_deadline_reopens_and_text_is_escaped(login: Login,
                                                                  rt: Runtime) -> None:
    leader = login("leader")
    v = api.get_task(rt, DONE_TASK).version
    steps = [
        ("/assign", {"owner": "Phó Chủ tịch UBND xã"}, "Đã phân công người phụ trách"),
        ("/deadline", {"deadline": "31/12/2023"}, "Đã đặt thời hạn"),
        ("/note", {"note": "<b>Rà soát</b> lại minh chứng"}, "Đã ghi nhận tiến độ"),
        ("/transition", {"trigger": "reopen", "note": "Thiếu văn bản minh chứng"},
         "Đã lưu: Mở lại nhiệm vụ đã hoàn thành"),
    ]
    for suffix, data, message in steps:
        r = leader.post(url(DONE_TASK, suffix),
                        data={"csrf_token": csrf(leader), "version": str(v), **data})
        assert r.status_code == 200 and message in text_of(r.text), suffix
        v += 1
    page = leader.get(url(DONE_TASK)).text
    assert "&lt;b&gt;Rà soát&lt;/b&gt;" in page and "<b>Rà soát</b>" not in page
    task = api.get_task(rt, DONE_TASK)
    assert (task.state, task.owner, task.deadline) == ("in_progress", "Phó Chủ tịch UBND xã",
                                                       "31/12/2023")
    r = leader.post(url(DONE_TASK, "/deadline"),
                    data={"csrf_token": csrf(leader), "version": str(v), "deadline": "hôm qua"})
    assert r.status_code == 400
    assert re.search(r'id="err-deadline"[^>]*>Thời hạn &#39;hôm qua&#39; không hợp lệ', r.text)
    assert 'value="hôm qua"' in r.text


def test_officer_cannot_reopen_or_assign(login: Login, rt: Runtime) -> None:
    client = login("officer")
    before = state_of(rt, DONE_TASK)
    for suffix, data in [("/transition", {"trigger": "reopen", "note": "x"}),
                         ("/assign", {"owner": "Ai đó"}),
                         ("/deadline", {"deadline": "31/12/2023"})]:
        r = client.post(url(DONE_TASK, suffix),
                        data={"csrf_token": csrf(client), "version": str(before[0]), **data})
        assert r.status_code == 403, suffix
    assert state_of(rt, DONE_TASK) == before


# ---------------------------------------------------------------- evidence PDFs


def test_pdf_upload_is_checked_and_stored_with_the_change(login: Login, rt: Runtime) -> None:
    client = login("officer")
    before = state_of(rt, OPEN_TASK)
    r = client.post(url(OPEN_TASK, "/transition"), data=complete_form(client, before[0]),
                    files={"file": ("ke-hoach.pdf", b"<html>not a pdf</html>", "application/pdf")})
    assert r.status_code == 400
    assert re.search(r"id=\"err-complete-file\"[^>]*>Tệp &#39;ke-hoach.pdf&#39; không phải tệp "
                     "PDF", r.text)
    assert html.escape(GOOD_DOC) in r.text  # the rest of the form is kept
    assert state_of(rt, OPEN_TASK) == before and list_attachments(rt, OPEN_TASK) == []

    r = client.post(url(OPEN_TASK, "/transition"), data=complete_form(client, before[0]),
                    files={"file": ("Kế hoạch 223.pdf", PDF, "application/pdf")},
                    follow_redirects=False)
    assert r.status_code == 303
    files = list_attachments(rt, OPEN_TASK)
    assert [(f.filename, f.size, f.history_seq) for f in files] == [
        ("Kế hoạch 223.pdf", len(PDF), before[0] + 1)]  # linked to the 'complete' entry
    page = client.get(r.headers["location"]).text
    link = f"{url(OPEN_TASK)}/files/{files[0].id}"
    assert link in page and "Kế hoạch 223.pdf" in page
    got = client.get(link)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"Ke-hoach-223.pdf\"; "
        "filename*=UTF-8''K%E1%BA%BF%20ho%E1%BA%A1ch%20223.pdf")
    assert client.get(f"{url(DONE_TASK)}/files/{files[0].id}").status_code == 404


@pytest.mark.parametrize("app_settings", [WebSettings(max_upload_bytes=2048)])
def test_oversize_pdf_is_refused(login: Login, rt: Runtime) -> None:
    client = login("officer")
    before = state_of(rt, OPEN_TASK)
    big = PDF + b"0" * 3000
    r = client.post(url(OPEN_TASK, "/transition"), data=complete_form(client, before[0]),
                    files={"file": ("lon.pdf", big, "application/pdf")})
    assert r.status_code == 400
    assert "Tệp &#39;lon.pdf&#39; quá lớn (3 KB); tối đa 2 KB" in r.text
    huge = PDF + b"0" * (80 * 1024)  # beyond the request limit: the middleware refuses it
    r = client.post(url(OPEN_TASK, "/transition"), data=complete_form(client, before[0]),
                    files={"file": ("rat-lon.pdf", huge, "application/pdf")})
    assert r.status_code == 413
    assert "Tệp hoặc dữ liệu gửi lên quá lớn" in text_of(r.text)
    assert state_of(rt, OPEN_TASK) == before and list_attachments(rt, OPEN_TASK) == []


# ---------------------------------------------------------------- list and search


def test_search_without_diacritics_finds_the_vietnamese_text(login: Login, rt: Runtime) -> None:
    client = login("officer")
    def found(query: str) -> list[str]:
        page = client.get(f"/units/{UNIT}/tasks", params={"q": query}).text
        return re.findall(r'href="/units/vinh-thanh/tasks/([^"]+)" class="clamp"', page)

    plain = found("cong khai")
    assert plain and plain == found("công khai") == found("CÔNG KHAI") == found("Cong Khai")
    assert "cchc-2023/1" in plain  # "Cập nhật, công khai đầy đủ thông tin…"
    both = [t for t in api.list_tasks(rt, UNIT)
            if "cong" in fold(t.text + " " + (t.result or ""))
            and "khai" in fold(t.text + " " + (t.result or ""))]
    assert len(both) > 25  # more than one page
    assert f"Tìm thấy {len(both)} trên 124 nhiệm vụ" in text_of(
        client.get(f"/units/{UNIT}/tasks", params={"q": "cong khai"}).text)
    assert found("khong co nhiem vu nao nhu the nay") == []
    # words in any order, without diacritics: "Khảo sát sự hài lòng …"
    any_order = found("khao sat hai long")
    assert any_order and any_order == found("hai long khao sat") == found("HÀI LÒNG sát khảo")
    for ref in any_order:
        plan, code = ref.split("/")
        text = fold(api.get_task(rt, TaskKey(UNIT, plan, code)).text)
        assert all(w in text for w in ("khao", "sat", "hai", "long"))


def test_task_list_filters(login: Login) -> None:
    client = login("officer")

    def count(**params: str) -> int:
        page = text_of(client.get(f"/units/{UNIT}/tasks", params=params).text)
        m = re.search(r"(?:Tìm thấy )?(\d+) (?:trên 124 )?nhiệm vụ", page)
        assert m
        return int(m.group(1))

    assert count() == 124
    assert count(plan="cchc-2023") == 23
    assert count(plan="cchc-2023", state="done") == 15
    assert count(section="cchc-2023|II") == count(plan="cchc-2023", section="II") > 0
    assert count(owner="Công chức Văn phòng - Thống kê", plan="cchc-2023") > 0
    assert count(overdue="1") == 0  # nothing is overdue on 20/09/2023
    assert count(mine="1") >= 20


# ---------------------------------------------------------------- obligations


def test_obligation_submit_refuses_a_bad_number_inline_then_records_it(login: Login, rt: Runtime
                                                                       ) -> None:
    from engine.domain.obligations import list_obligation_dues

    client = login("officer")
    cal = text_of(client.get(f"/units/{UNIT}/obligations").text)
    assert "Tháng 6/2023" in cal and "Tháng 12/2023" in cal and "Quá hạn" in cal
    due = next(d for d in list_obligation_dues(rt, UNIT) if d.id == 3)
    bad = "Báo cáo số 120/BC-UBND ngày 31/09/2023"
    r = client.post(f"/units/{UNIT}/obligations/3/submit",
                    data={"csrf_token": csrf(client), "version": str(due.version), "doc": bad})
    assert r.status_code == 400
    assert re.search(r'id="err-doc"[^>]*>Văn bản &#39;Báo cáo số 120/BC-UBND ngày '
                     r"31/09/2023&#39;: Ngày 31/9/2023 không tồn tại "
                     r"\(tháng 9 năm 2023 chỉ có 30 ngày\)", r.text)
    assert f'value="{bad}"' in r.text
    assert next(d for d in list_obligation_dues(rt, UNIT) if d.id == 3).version == due.version
    r = client.post(f"/units/{UNIT}/obligations/3/submit",
                    data={"csrf_token": csrf(client), "version": str(due.version),
                          "doc": "Báo cáo số 120/BC-UBND ngày 18/09/2023", "back": "detail"},
                    follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (
        303, f"/units/{UNIT}/obligations/3?ok=submit")
    shown = text_of(client.get(r.headers["location"]).text)
    assert "Đã ghi nhận báo cáo đã gửi" in shown and "Đã gửi quá hạn" in shown
    assert "Báo cáo số 120/BC-UBND ngày 18/9/2023" in shown  # as NĐ 30/2020 writes it


# ---------------------------------------------------------------- reports


def test_freeze_and_download_the_appendices(login: Login, rt: Runtime, tmp_path: Path) -> None:
    leader = login("leader")
    q3 = text_of(leader.get(f"/units/{UNIT}/reports").text)  # the quarter being reported
    assert "Quý III năm 2023" in q3 and "Đã chốt lúc 20/09/2023 09:00" in q3
    r = leader.post(f"/units/{UNIT}/reports/2023-Q3/freeze", data={"csrf_token": csrf(leader)})
    assert r.status_code == 409 and "Kỳ Quý III năm 2023 đã được chốt trước đó" in text_of(
        r.text)
    r = leader.post(f"/units/{UNIT}/reports/2023-Q4/freeze", data={"csrf_token": csrf(leader)})
    assert r.status_code == 400 and "Chưa đến ngày chốt số liệu của kỳ 2023-Q4" in text_of(
        r.text)

    q2 = leader.get(f"/units/{UNIT}/reports?period=2023-Q2").text
    assert "Chưa chốt" in text_of(q2) and "/reports/2023-Q2/freeze" in q2
    # the check's findings, counted and grouped; every error must be confirmed one by one.
    # Two progress notes of Q2 citing a document wrongly (nowhere on record) are its errors.
    for code in ("2", "5"):
        api.add_note(rt, TaskKey(UNIT, "cchc-2023", code),
                     "Đã ban hành Kế hoạch số 9/QĐ-UBND ngày 02/6/2023",
                     api.Actor("Trần Thị Mỹ Hạnh", "officer"), on=date(2023, 6, 2))
    q2 = leader.get(f"/units/{UNIT}/reports?period=2023-Q2").text
    findings = api.check(rt, UNIT, "2023-Q2")
    errors = [f for f in findings if f.severity == "error"]
    notes = len(findings) - len(errors)
    assert errors, "the demo's Q2 has errors to confirm"
    found = re.search(r'<p id="check-summary">(.*?)</p>', q2, re.S)
    assert found
    summary = text_of(found.group(1))
    assert summary.strip() == f"{len(errors)} lỗi {notes} lưu ý"
    keys = re.findall(r'name="xac_nhan" value="([^"]+)"', q2)
    assert len(keys) == len(errors)
    r = leader.post(f"/units/{UNIT}/reports/2023-Q2/freeze",
                    data={"csrf_token": csrf(leader), "xac_nhan": keys[:-1]})
    assert r.status_code == 400
    assert "còn 1 lỗi chưa được xác nhận" in text_of(r.text)
    assert re.findall(r'value="([^"]+)" checked', r.text) == keys[:-1]  # ticks kept
    assert api.take_snapshot(rt, UNIT, "2023-Q2").frozen is False
    r = leader.post(f"/units/{UNIT}/reports/2023-Q2/freeze",
                    data={"csrf_token": csrf(leader), "xac_nhan": keys},
                    follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (
        303, f"/units/{UNIT}/reports?period=2023-Q2&ok=freeze")
    page = leader.get(r.headers["location"]).text
    shown = text_of(page)
    assert "Đã chốt số liệu" in shown and "bởi Nguyễn Quốc Bảo" in shown
    totals = {int(n): (int(t), int(d)) for n, t, d in re.findall(
        r'data-appendix="(\d)">.*?class="num">(\d+)</td>\s*<td data-label="Đã thực hiện" '
        r'class="num">(\d+)<', page, re.S)}
    assert sorted(totals) == [1, 2, 3]

    reviewer = login("reviewer")  # reviewers download too
    for n, (total, done) in totals.items():
        for fmt, ctype, reader in [("docx", DOCX, read_docx), ("xlsx", XLSX, read_xlsx)]:
            r = reviewer.get(f"/units/{UNIT}/reports/2023-Q2/phu-luc-{n}.{fmt}")
            assert r.status_code == 200 and r.headers["content-type"] == ctype
            name = f"phu-luc-{n}_vinh-thanh_2023-Q2.{fmt}"
            assert r.headers["content-disposition"].startswith(f'attachment; filename="{name}"')
            assert r.headers["x-content-hash"]
            path = tmp_path / name
            path.write_bytes(r.content)
            if fmt == "docx":
                assert docx.Document(io.BytesIO(r.content)).tables
            else:
                assert openpyxl.load_workbook(io.BytesIO(r.content)).active.max_row > 10
            read = reader(path)
            assert [(a.number, len(a.rows), a.done) for a in read] == [(n, total, done)]
            again = reviewer.get(f"/units/{UNIT}/reports/2023-Q2/phu-luc-{n}.{fmt}")
            assert again.content == r.content  # frozen: the same bytes every time
    js = reviewer.get(f"/units/{UNIT}/reports/2023-Q2/snapshot.json")
    assert js.headers["content-type"] == "application/json"
    assert js.json()["period"] == "2023-Q2" and js.json()["content_hash"]
    assert reviewer.get(f"/units/{UNIT}/reports/2023-Q2/phu-luc-9.docx").status_code == 404
    assert reviewer.get(f"/units/{UNIT}/reports/2023-Q2/khac.pdf").status_code == 404
    assert reviewer.get(f"/units/{UNIT}/reports/2023-Q9/phu-luc-1.docx").status_code == 400


def test_report_check_lists_its_findings(login: Login) -> None:
    client = login("reviewer")
    page = text_of(client.get(f"/units/{UNIT}/reports/2023-Q3/check").text)
    assert "Kết quả kiểm tra" in page
    assert "Phụ lục 1: 6 nhiệm vụ báo cáo 'Đã thực hiện' nhưng không có văn bản minh chứng " \
        "(nhiệm vụ 1, 6, 8, 9, 11, 14)" in page


def test_city_overview_for_reviewer_and_admin(login: Login) -> None:
    for role in ("reviewer", "admin"):
        page = login(role).get("/city").text
        shown = text_of(page)
        assert "thành phố Nha Trang" in shown and "xã Vĩnh Thạnh" in shown
        assert "89/124" in shown and "15/23" in shown and "Quý III năm 2023" in shown
        assert "Đã chốt" in shown
        assert f'/units/{UNIT}/reports?period=2023-Q3' in page
    for role in ("officer", "leader"):
        assert login(role).get("/city").status_code == 403


def test_city_shows_empty_communes_periods_sorts_and_exports(login: Login) -> None:
    admin = login("admin")
    r = admin.post("/admin/units", data={
        "slug": "vinh-luong", "name": "Vĩnh Lương", "kind": "xã", "parent": "nha-trang",
        "cutoff": "", "csrf_token": csrf(admin)}, follow_redirects=False)
    assert r.status_code == 303
    reviewer = login("reviewer")
    page = reviewer.get("/city").text
    shown = text_of(page)
    assert "thành phố Nha Trang" in shown and "2 đơn vị, 1 đơn vị có kế hoạch" in shown
    empty = re.search(r'<tr data-unit="vinh-luong".*?</tr>', page, re.S)
    assert empty and "Chưa có kế hoạch nào được nạp" in empty.group(0)  # shown, never dropped
    # a period other than the quarter reported on: Q2 is not frozen in the demo
    q2 = text_of(reviewer.get("/city", params={"period": "2023-Q2"}).text)
    assert "Quý II năm 2023" in q2 and "Chưa chốt" in q2
    assert reviewer.get("/city", params={"period": "2023-Q9"}).status_code == 400
    # sorted by overdue tasks: the commune with data first
    by_late = reviewer.get("/city", params={"sort": "qua-han"}).text
    assert by_late.index('data-unit="vinh-thanh"') < by_late.index('data-unit="vinh-luong"')
    # Excel: every row, with STT, the year's rate and the empty commune marked as such
    x = reviewer.get("/city", params={"xuat": "xlsx"})
    assert x.headers["content-type"] == XLSX
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "STT" and "Năm 2023: tỷ lệ hoàn thành (%)" in rows[0]
    by_unit = {r[1]: r for r in rows[1:]}
    assert set(by_unit) == {"xã Vĩnh Thạnh", "xã Vĩnh Lương"}
    assert by_unit["xã Vĩnh Lương"][-1] == "Chưa có kế hoạch"
    assert by_unit["xã Vĩnh Thạnh"][rows[0].index("Năm 2023: tỷ lệ hoàn thành (%)")] == 71


# ---------------------------------------------------------------- admin


def test_admin_outbox_retry_and_people(login: Login, rt: Runtime) -> None:
    failed = seed_failed_reminders(rt)
    admin = login("admin")
    page = admin.get("/admin/outbox", params={"state": "failed"}).text
    shown = text_of(page)
    assert "Gửi không được" in shown and "người nhận chưa quan tâm Zalo OA" in shown
    assert f"/admin/outbox/{failed[0]}/retry" in page and "Gửi lại" in shown
    officer = login("officer")
    assert officer.post(f"/admin/outbox/{failed[0]}/retry",
                        data={"csrf_token": csrf(officer)}).status_code == 403
    r = admin.post(f"/admin/outbox/{failed[0]}/retry", data={"csrf_token": csrf(admin)},
                   follow_redirects=False)
    assert r.status_code == 303
    assert f"Đã đưa thư nhắc số {failed[0]} vào hàng chờ gửi lại" in text_of(
        admin.get(r.headers["location"]).text)
    assert outbox.get_outbox(rt, failed[0]).state == "pending"
    r = admin.post(f"/admin/outbox/{failed[0]}/retry", data={"csrf_token": csrf(admin)})
    assert r.status_code == 400 and ("chỉ thư &#39;Gửi không được&#39; hoặc &#39;Không rõ đã "
                                     "đến chưa&#39; mới gửi lại được") in r.text
    assert admin.get("/admin/outbox", params={"state": "xyz"}).status_code == 400
    people = text_of(admin.get("/admin/people").text)
    assert "Trần Thị Mỹ Hạnh" in people and "Công chức Văn phòng - Thống kê" in people
    assert "canbo.vinhthanh" in people


# ---------------------------------------------------------------- the dashboard's dates


def test_due_this_week_and_overdue_follow_the_clock(login: Login, rt: Runtime) -> None:
    from engine.reporting import dashboard

    clock = rt.clock
    assert isinstance(clock, Clock)
    clock.set("2023-12-27T09:00")  # a Wednesday: the week is 25/12–31/12
    board = dashboard.unit_dashboard(rt, UNIT)
    assert (board.week.start.isoformat(), board.week.end.isoformat()) == ("2023-12-25",
                                                                          "2023-12-31")
    week = {t.code for t in board.due_this_week}
    assert week and all(t.due_on is not None and t.due_on.isoformat() == "2023-12-31"
                        for t in board.due_this_week)  # Sunday 31/12, moved to Tuesday 02/01
    assert [t.code for t in board.overdue] == ["23"]  # due 15/12, still open
    client = login("officer")
    page = client.get("/dashboard").text
    assert re.search(r'id="h-week">Đến hạn trong tuần <span class="count">'
                     rf"{len(week)}<", page)
    assert "Từ 25/12/2023 đến 31/12/2023" in page
    assert re.search(r'id="h-late">Quá hạn <span class="count count-late">1<', page)

    clock.set("2024-01-03T09:00")  # a week later: the session has ended, log in again
    client = login("officer")
    overdue = dashboard.overdue_tasks(rt, UNIT)
    assert len(overdue) == len(week) + 1 and dashboard.due_this_week(rt, UNIT) == []
    shown = text_of(client.get(f"/units/{UNIT}/tasks", params={"overdue": "1"}).text)
    assert f"Tìm thấy {len(overdue)} trên 124 nhiệm vụ" in shown and "Quá hạn" in shown
    city = login("reviewer").get("/city").text
    assert re.search(rf'href="/units/{UNIT}/tasks\?overdue=1">{len(overdue)}<', city)
    assert "Quý IV năm 2023" in text_of(city)  # the quarter being reported on now


def test_reporting_quarter_turns_on_the_cutoff_day(rt: Runtime) -> None:
    from engine.reporting import dashboard

    clock = rt.clock
    assert isinstance(clock, Clock)
    clock.set("2023-09-12T17:00")  # Khánh Hòa cuts off on the 13th
    assert dashboard.reporting_quarter(rt, UNIT).code == "2023-Q2"
    clock.set("2023-09-13T08:00")
    assert dashboard.reporting_quarter(rt, UNIT).code == "2023-Q3"
    assert [p.code for p in dashboard.period_choices(rt, UNIT)] == [
        "2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4", "2023-H1", "2023-Y"]


# ---------------------------------------------------------------- the engine parts, on both
# databases (SQLite and PostgreSQL)


@pytest.fixture
def plan_rt(db_url: str, clock: Clock) -> Iterator[Runtime]:
    from plans import DEMO_BUNDLE

    runtime = open_runtime(db_url, clock=clock)
    api.load_units_file(runtime, DEMO_BUNDLE / "units.yaml")
    api.load_plans(runtime, [UNIT], [DEMO_BUNDLE / "cchc-2023.yaml"])
    yield runtime
    runtime.db.dispose()


def test_attachments_are_stored_with_the_transition_or_not_at_all(plan_rt: Runtime) -> None:
    from engine.domain.attachment_files import check_pdf
    from engine.domain.attachments import get_attachment
    from engine.domain.tasks import Actor
    from engine.errors import NotFound, ValidationFailed

    rt = plan_rt
    key = TaskKey(UNIT, "cchc-2023", "2")
    upload = check_pdf("C:\\Văn bản\\KH 223.pdf", PDF, max_bytes=1024)
    assert upload.filename == "KH 223.pdf"
    for name, content, reason in [("a.pdf", b"GIF89a", "không phải tệp PDF"),
                                  ("b.pdf", b"", "rỗng"),
                                  ("c.pdf", PDF * 100, "quá lớn")]:
        with pytest.raises(ValidationFailed, match=reason) as err:
            check_pdf(name, content, max_bytes=1024)
        assert err.value.field == "file"
    actor = Actor("Trần Thị Mỹ Hạnh", "officer")
    with pytest.raises(ValidationFailed):
        api.transition(rt, key, "complete", actor, evidence=[BAD_DOC], result=RESULT,
                       attachments=[upload])
    assert list_attachments(rt, key) == [] and api.get_task(rt, key).version == 1
    change = api.transition(rt, key, "complete", actor, evidence=[GOOD_DOC], result=RESULT,
                            expected_version=1, attachments=[upload])
    [stored] = list_attachments(rt, key)
    assert (stored.filename, stored.size, stored.history_seq, stored.uploaded_by) == (
        "KH 223.pdf", len(PDF), change.version, "Trần Thị Mỹ Hạnh")
    meta, content = get_attachment(rt, key, stored.id)
    assert content == PDF and meta.sha256 == upload.sha256
    with pytest.raises(NotFound):
        get_attachment(rt, TaskKey(UNIT, "cchc-2023", "1"), stored.id)
    [doc] = task_documents(rt, key)
    assert (doc.rendered, doc.history_seq) == ("Kế hoạch số 223/KH-UBND ngày 06/3/2023",
                                               change.version)


def test_dashboard_aggregates(plan_rt: Runtime) -> None:
    from engine.domain.tasks import Actor
    from engine.reporting import dashboard

    rt = plan_rt
    [cchc] = dashboard.plan_progress(rt, UNIT)
    assert (cchc.plan, cchc.appendix, cchc.total, cchc.done, cchc.percent) == (
        "cchc-2023", 1, 23, 0, 0)
    api.transition(rt, TaskKey(UNIT, "cchc-2023", "1"), "complete",
                   Actor("Trần Thị Mỹ Hạnh", "officer"), evidence=[GOOD_DOC], result=RESULT)
    [cchc] = dashboard.plan_progress(rt, UNIT)
    assert (cchc.done, cchc.not_done, cchc.percent) == (1, 22, 4)
    officer = accounts.create_user(rt, "canbo", password=PASSWORD, role="officer", unit=UNIT,
                                   full_name="Trần Thị Mỹ Hạnh")
    assert dashboard.person_of(rt, officer) is None  # no people loaded: nobody's tasks
    assert dashboard.my_tasks(rt, officer) == []
    overview = dashboard.city_overview(rt, dashboard.units_with_plans(
        rt, api.list_units(rt)))
    assert [(o.unit.slug, o.done, o.total, o.period, o.frozen) for o in overview] == [
        (UNIT, 1, 23, "2023-Q3", False)]
