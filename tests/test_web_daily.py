"""The web app as officers, leaders and the reviewing body use it every day (issue 12):
"Việc của tôi" and its flags, all field errors at once, a PDF kept across a refused form,
the assignee picker, who is behind, instructions and the reviewer's comments, list exports,
the return to a form after the session ended, and `cchc serve --at`."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date

import httpx
import openpyxl
import pytest
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

from engine import api
from engine.directory import accounts
from engine.domain.attachments import list_attachments
from engine.domain.tasks import TaskKey
from engine.reporting import dashboard
from engine.runtime import Runtime
from web import create_app
from web.settings import WebSettings

UNIT = "vinh-thanh"
OFFICER_TITLE = "Công chức Văn phòng - Thống kê"  # canbo.vinhthanh = Trần Thị Mỹ Hạnh
OPEN_TASK = TaskKey(UNIT, "cchc-2023", "5")  # not started, owned by OFFICER_TITLE
DONE_TASK = TaskKey(UNIT, "cchc-2023", "1")
GOOD_DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"
BAD_DOC = "Kế hoạch số 223/KH-UBND ngày 24/02/20232"
PDF = clean_pdf()  # a real one-page PDF: uploads are parsed and checked


@pytest.fixture
def login(rt: Runtime) -> Iterator[Login]:
    with login_clients(create_app(rt, WebSettings())) as login_:
        yield login_


def url(key: TaskKey, suffix: str = "") -> str:
    return f"/units/{key.unit}/tasks/{key.plan}/{key.code}{suffix}"


def listed(page: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-task="([^"]+)"', page)


# ---------------------------------------------------------------- Việc của tôi


def test_my_tasks_are_open_first_overdue_then_by_deadline_and_match_the_dashboard(
        login: Login, rt: Runtime) -> None:
    officer = login("officer")
    dash = officer.get("/dashboard").text
    count = int(re.search(r'id="my-count">(\d+)<', dash).group(1))  # type: ignore[union-attr]
    r = officer.get("/my-tasks", follow_redirects=False)
    assert r.headers["location"] == f"/units/{UNIT}/tasks?mine=1"
    page = officer.get(f"/units/{UNIT}/tasks?mine=1").text
    assert f"<strong>{count}</strong> nhiệm vụ" in page  # the dashboard's count
    assert f'nav-count nav-count-late">{count}<' in page or f'nav-count">{count}<' in page

    person = dashboard.person_of(rt, next(u for u in accounts.list_users(rt)
                                          if u.username == "canbo.vinhthanh"))
    assert person is not None
    mine = dashboard.owned_by(rt, api.list_tasks(rt, UNIT), person)
    assert len(mine) == count
    pages = []
    n = 1
    while True:
        p = officer.get(f"/units/{UNIT}/tasks", params={"mine": 1, "trang": n}).text
        pages += listed(p)
        if 'rel="next"' not in p:
            break
        n += 1
    assert len(pages) == count
    by_ref = {f"{t.plan}/{t.code}": t for t in mine}
    shown = [by_ref[r] for r in pages]
    late = [dashboard.is_overdue(t) for t in shown]
    assert late == sorted(late, reverse=True)  # overdue ones first
    on_time = [t.due_on or date.max for t in shown if not dashboard.is_overdue(t)]
    assert on_time == sorted(on_time)  # then by deadline
    # with the finished ones: after every open one
    everything = officer.get(f"/units/{UNIT}/tasks",
                             params={"mine": 1, "done": 1, "trang": 1}).text
    total = int(re.search(r"<strong>(\d+)</strong> nhiệm vụ", everything).group(1))  # type: ignore[union-attr]
    assert total == len(dashboard.owned_by(rt, api.list_tasks(rt, UNIT), person,
                                           open_only=False)) > count


def test_a_newly_assigned_or_reopened_task_is_flagged_until_opened(login: Login,
                                                                   rt: Runtime) -> None:
    officer, leader = login("officer"), login("leader")
    other = TaskKey(UNIT, "cchc-2023", "2")
    assert api.get_task(rt, other).owner != OFFICER_TITLE
    v = api.get_task(rt, other).version
    r = leader.post(url(other, "/assign"), data={"csrf_token": csrf(leader), "version": str(v),
                                                "owner": OFFICER_TITLE})
    assert r.status_code == 200 and "Đã phân công" in r.text
    page = officer.get(f"/units/{UNIT}/tasks?mine=1&trang=1").text
    row = re.search(r'data-task="cchc-2023/2".*?</tr>', page, re.S)
    assert row and "Mới giao" in row.group(0)
    officer.get(url(other))  # opened
    page = officer.get(f"/units/{UNIT}/tasks?mine=1").text
    assert "Mới giao" not in page
    # reopened by the leader: flagged again ("Mở lại") for the owner
    done = TaskKey(UNIT, "cchc-2023", "1")
    owner = api.get_task(rt, done).owner
    v = api.get_task(rt, done).version
    leader.post(url(done, "/assign"), data={"csrf_token": csrf(leader), "version": str(v),
                                            "owner": OFFICER_TITLE})
    v = api.get_task(rt, done).version
    leader.post(url(done, "/transition"), data={
        "csrf_token": csrf(leader), "version": str(v), "trigger": "reopen",
        "note": "Thiếu văn bản minh chứng"})
    assert api.get_task(rt, done).state == "in_progress" and owner is not None
    page = officer.get(f"/units/{UNIT}/tasks?mine=1").text
    row = re.search(r'data-task="cchc-2023/1".*?</tr>', page, re.S)
    assert row and "Mở lại" in row.group(0)


# ---------------------------------------------------------------- one form, every error


def test_all_field_errors_at_once_and_the_pdf_is_kept(login: Login, rt: Runtime) -> None:
    officer = login("officer")
    v = api.get_task(rt, OPEN_TASK).version
    r = officer.post(url(OPEN_TASK, "/transition"), data={
        "csrf_token": csrf(officer), "trigger": "complete", "version": str(v),
        "docs": f"{GOOD_DOC}\n{BAD_DOC}", "result": "", "on": "31/02/2023"},
        files={"file": ("bao-cao.docx", b"PK\x03\x04 not a pdf", "application/pdf")})
    assert r.status_code == 400
    errors = dict(re.findall(r'<p class="field-error" id="err-complete-(\w+)" role="alert">'
                             r'([^<]+)</p>', r.text))
    assert set(errors) == {"docs", "result", "on", "file"}, errors
    assert "20232" in errors["docs"] and "kết quả" in errors["result"]
    assert "không tồn tại" in errors["on"] and "không phải tệp PDF" in errors["file"]
    assert api.get_task(rt, OPEN_TASK).version == v

    # a valid PDF with a wrong document: the PDF is kept, the next submit uses it
    r = officer.post(url(OPEN_TASK, "/transition"), data={
        "csrf_token": csrf(officer), "trigger": "complete", "version": str(v),
        "docs": BAD_DOC, "result": "Đã số hóa kết quả"},
        files={"file": ("KH-223.pdf", PDF, "application/pdf")})
    assert r.status_code == 400
    assert "Đã giữ tệp KH-223.pdf" in text_of(r.text) and "không cần chọn lại" in r.text
    staged = re.search(r'name="staged_file" value="(\d+)"', r.text)
    assert staged
    other = login("leader")  # someone else's staged file is not theirs to use
    bad = other.post(url(OPEN_TASK, "/transition"), data={
        "csrf_token": csrf(other), "trigger": "complete", "version": str(v),
        "docs": GOOD_DOC, "result": "x", "staged_file": staged.group(1)})
    assert bad.status_code == 400 and "hãy chọn lại tệp PDF" in text_of(bad.text)
    r = officer.post(url(OPEN_TASK, "/transition"), data={
        "csrf_token": csrf(officer), "trigger": "complete", "version": str(v),
        "docs": GOOD_DOC, "result": "Đã số hóa kết quả", "staged_file": staged.group(1)},
        follow_redirects=False)
    assert r.status_code == 303
    assert [a.filename for a in list_attachments(rt, OPEN_TASK)] == ["KH-223.pdf"]
    assert api.get_task(rt, OPEN_TASK).state == "done"


def test_a_leader_corrects_a_frozen_quarter_from_the_task_page(login: Login,
                                                                rt: Runtime) -> None:
    # the demo froze 2023-Q3 (14/6–13/9/2023): a completion dated 20/8/2023 falls inside it
    officer, leader = login("officer"), login("leader")
    assert 'name="correction"' not in officer.get(url(OPEN_TASK)).text
    assert 'name="correction"' in leader.get(url(OPEN_TASK)).text
    v = api.get_task(rt, OPEN_TASK).version
    form = {"trigger": "complete", "version": str(v), "docs": GOOD_DOC,
            "result": "Đã số hóa kết quả", "on": "20/08/2023"}
    r = leader.post(url(OPEN_TASK, "/transition"), data={"csrf_token": csrf(leader), **form})
    assert r.status_code in (400, 409)
    errors = dict(re.findall(r'<p class="field-error" id="err-complete-(\w+)" role="alert">'
                             r'([^<]+)</p>', r.text))
    assert "đã chốt số liệu" in errors["on"], errors
    assert api.get_task(rt, OPEN_TASK).version == v
    r = leader.post(url(OPEN_TASK, "/transition"), data={
        "csrf_token": csrf(leader), **form, "correction": "Sót khi tổng hợp quý III"},
        follow_redirects=False)
    assert r.status_code == 303
    assert api.get_task(rt, OPEN_TASK).state == "done"


def test_marking_done_is_one_tap_from_the_task(login: Login) -> None:
    officer = login("officer")
    page = officer.get(url(OPEN_TASK)).text
    quick = re.search(r'<p class="quick-actions">(.*?)</p>', page, re.S)
    assert quick and f'href="{url(OPEN_TASK)}?form=complete#action-complete"' in quick.group(1)
    opened = officer.get(url(OPEN_TASK) + "?form=complete").text
    assert '<details class="action" id="action-complete" open>' in opened


def test_a_form_sent_after_the_session_ended_returns_to_its_page(login: Login) -> None:
    officer = login("officer")
    token = csrf(officer)
    officer.cookies.clear()  # the session is gone
    r = officer.post(url(OPEN_TASK, "/transition"), data={
        "csrf_token": token, "trigger": "complete", "version": "1", "docs": GOOD_DOC},
        headers={"referer": f"http://testserver{url(OPEN_TASK)}?form=complete"},
        follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == ("/login?next=" + url(OPEN_TASK).replace("/", "%2F")
                                     + "%3Fform%3Dcomplete")
    evil = officer.post(url(OPEN_TASK, "/transition"), data={"csrf_token": token},
                        headers={"referer": "https://evil.example/x"}, follow_redirects=False)
    assert evil.headers["location"] == "/login"


# ---------------------------------------------------------------- the leader


def test_assignee_must_be_one_of_the_units_people(login: Login, rt: Runtime) -> None:
    leader = login("leader")
    page = leader.get(url(OPEN_TASK)).text
    picker = re.search(r'<select id="assign-owner".*?</select>', page, re.S)
    assert picker
    titles = re.findall(r'<optgroup label="Chức danh">(.*?)</optgroup>', picker.group(0), re.S)
    values = re.findall(r'<option value="([^"]+)"', titles[0])
    assert len(values) == len(set(values))  # each position once
    assert "Phó Chủ tịch UBND xã" in values
    v = api.get_task(rt, OPEN_TASK).version
    r = leader.post(url(OPEN_TASK, "/assign"), data={"csrf_token": csrf(leader),
                                                    "version": str(v),
                                                    "owner": "Nguyen Van X"})
    assert r.status_code == 400
    assert "Hãy chọn người phụ trách trong danh sách cán bộ của đơn vị" in text_of(r.text)
    assert api.get_task(rt, OPEN_TASK).version == v
    r = leader.post(url(OPEN_TASK, "/assign"), data={"csrf_token": csrf(leader),
                                                    "version": str(v),
                                                    "owner": "Nguyễn Văn Sỹ"},
                    follow_redirects=False)
    assert r.status_code == 303 and api.get_task(rt, OPEN_TASK).owner == "Nguyễn Văn Sỹ"


def test_who_is_behind_counts_each_person_and_the_unassigned(login: Login,
                                                             rt: Runtime) -> None:
    leader = login("leader")
    assert leader.get("/behind", follow_redirects=False).headers["location"] == \
        f"/units/{UNIT}/behind"
    page = leader.get(f"/units/{UNIT}/behind").text
    load = dashboard.workload(rt, UNIT)
    assert load.people
    for r in load.people:
        row = re.search(rf'<tr class="[^"]*" data-person="{re.escape(r.person.name)}">'
                        r'(.*?)</tr>', page, re.S)
        assert row, r.person.name
        cells = re.findall(r'data-label="(?:Chưa hoàn thành|Quá hạn|Đã hoàn thành)">(.*?)</td>',
                           row.group(1))
        assert [int(text_of(c)) for c in cells] == [r.open, r.overdue, r.done]
        # each number leads to the tasks it counts
        listed_open = leader.get(f"/units/{UNIT}/tasks", params={
            "person_id": r.person.id, "state": "", "trang": 1}).text
        total = int(re.search(r"Tìm thấy <strong>(\d+)</strong>",  # type: ignore[union-attr]
                              listed_open).group(1))
        assert total == r.open + r.done
    worst = load.people[0]
    assert all(worst.overdue >= r.overdue for r in load.people)
    x = leader.get(f"/units/{UNIT}/behind", params={"xuat": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("STT", "Họ và tên", "Chức danh")
    assert rows[1][1] == worst.person.name and rows[1][4] == worst.overdue
    assert login("officer").get(f"/units/{UNIT}/behind").status_code == 200  # read scope


def test_instructions_and_reviewer_comments_reach_the_commune(login: Login,
                                                              rt: Runtime) -> None:
    leader, officer, reviewer = login("leader"), login("officer"), login("reviewer")
    r = leader.post(url(OPEN_TASK, "/comment"), data={
        "csrf_token": csrf(leader), "body": "Hoàn thành trước 30/9/2023, báo cáo kết quả"},
        follow_redirects=False)
    assert r.status_code == 303
    r = reviewer.post(url(OPEN_TASK, "/comment"), data={
        "csrf_token": csrf(reviewer), "body": "Đề nghị bổ sung văn bản minh chứng"},
        follow_redirects=False)
    assert r.status_code == 303
    seen_by_officer = text_of(officer.get(url(OPEN_TASK)).text)
    assert "Ý kiến chỉ đạo · Nguyễn Quốc Bảo" in seen_by_officer
    assert "Hoàn thành trước 30/9/2023" in seen_by_officer
    assert "Ý kiến của cơ quan thẩm định · " in seen_by_officer
    assert "(thành phố Nha Trang)" in seen_by_officer
    assert api.get_task(rt, OPEN_TASK).note is None or \
        "30/9/2023" not in (api.get_task(rt, OPEN_TASK).note or "")  # never in the report
    # an officer writes neither kind; an empty one is refused with the field
    assert officer.post(url(OPEN_TASK, "/comment"), data={
        "csrf_token": csrf(officer), "body": "x"}).status_code == 403
    r = reviewer.post(url(OPEN_TASK, "/comment"), data={"csrf_token": csrf(reviewer),
                                                       "body": "  "})
    assert r.status_code == 400 and "Phải ghi nội dung ý kiến" in text_of(r.text)
    # on a period's report
    r = reviewer.post(f"/units/{UNIT}/reports/2023-Q3/comment", data={
        "csrf_token": csrf(reviewer), "body": "Phụ lục 1 thiếu kết quả nhiệm vụ 12"},
        follow_redirects=False)
    assert r.status_code == 303
    page = text_of(officer.get(f"/units/{UNIT}/reports?period=2023-Q3").text)
    assert "Phụ lục 1 thiếu kết quả nhiệm vụ 12" in page
    assert officer.post(f"/units/{UNIT}/reports/2023-Q3/comment", data={
        "csrf_token": csrf(officer), "body": "x"}).status_code == 403


# ---------------------------------------------------------------- lists


def test_task_list_pages_numbers_and_exports_every_row(login: Login, rt: Runtime) -> None:
    officer = login("officer")
    first = officer.get(f"/units/{UNIT}/tasks").text
    assert "STT" in first and "đang xem 1–25" in first
    stt = re.findall(r'<td class="stt num" data-label="STT">(\d+)</td>', first)
    assert stt == [str(i) for i in range(1, 26)]
    second = officer.get(f"/units/{UNIT}/tasks", params={"trang": 2}).text
    assert re.findall(r'data-label="STT">(\d+)<', second)[0] == "26"
    assert "cchc-2023 ·" not in first and "Phiên bản" not in first  # no internal codes
    x = officer.get(f"/units/{UNIT}/tasks", params={"xuat": "xlsx", "trang": 2})
    rows = list(openpyxl.load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + len(api.list_tasks(rt, UNIT))  # every row, not one page
    assert rows[1][:3] == (1, "Phụ lục 1", "1")


def test_due_soon_never_lists_an_overdue_report(rt: Runtime) -> None:
    board = dashboard.unit_dashboard(rt, UNIT)
    assert not any(d.overdue for d in board.obligations)
    assert all(d.overdue for d in board.obligations_overdue)


def test_serve_at_a_demo_date() -> None:
    from cli.web import demo_clock

    clock = demo_clock("20/09/2023")
    first = clock()
    assert first.date() == date(2023, 9, 20) and first.hour == 9
    assert clock() >= first


# ---------------------------------------------------------------- the admin


def test_admin_manages_people_and_logins_on_the_web(login: Login, rt: Runtime) -> None:
    from engine.directory.people import list_people

    admin = login("admin")
    page = admin.get("/admin/people").text
    picker = re.search(r'<select id="person-unit".*?</select>', page, re.S)
    own = accounts.get_user(rt, "quantri.vinhthanh").unit_slug
    assert picker and f'<option value="{own}" selected>' in picker.group(0)  # own unit
    before = len(list_people(rt, UNIT))

    def post(path: str, **data: object) -> httpx.Response:
        r: httpx.Response = admin.post(path, data={"csrf_token": csrf(admin), **data},
                                       follow_redirects=False)
        return r

    # a name already in the unit: refused, nothing overwritten, until confirmed
    r = post("/admin/people", unit=UNIT, name="Nguyễn Văn Sỹ", role="officer",
             title="Công chức Văn hóa - Xã hội")
    assert r.status_code == 400
    assert "Đơn vị đã có cán bộ 'Nguyễn Văn Sỹ'" in text_of(r.text)
    sy = next(p for p in list_people(rt, UNIT) if p.name == "Nguyễn Văn Sỹ")
    assert sy.title == "Công chức Tư pháp - Hộ tịch"
    r = post("/admin/people", unit=UNIT, name="Nguyễn Văn Sỹ", role="officer",
             title="Công chức Tư pháp - Hộ tịch", email="sy@vinhthanh.gov.vn", cung_nguoi="1")
    assert r.status_code == 303
    assert len(list_people(rt, UNIT)) == before
    # edit from the row: the form is filled; the name cannot be changed there
    edit = admin.get(f"/admin/people?sua={sy.id}").text
    assert f'name="person_id" value="{sy.id}"' in edit and "sy@vinhthanh.gov.vn" in edit
    r = post("/admin/people", unit=UNIT, name="Nguyễn Văn Sỹ", role="officer",
             title="Công chức Tư pháp - Hộ tịch", phone="0905123456", person_id=str(sy.id))
    assert r.status_code == 303
    # deactivate: no longer offered as an owner
    r = post(f"/admin/people/{sy.id}/active", active="0")
    assert r.status_code == 303
    assert not next(p for p in list_people(rt, UNIT) if p.id == sy.id).active
    choices = [v for _g, v, _l in dashboard.owner_choices(list_people(rt, UNIT))]
    assert "Nguyễn Văn Sỹ" not in choices
    # a web login, then locked
    r = post("/admin/logins", username="van.sy", full_name="Nguyễn Văn Sỹ", role="officer",
             unit=UNIT, password="Vinh-Thanh-2023-sy")
    assert r.status_code == 200
    assert "Đã tạo tài khoản van.sy" in text_of(r.text)
    assert accounts.get_user(rt, "van.sy").unit_slug == UNIT
    r = post("/admin/logins", username="Văn Sỹ", full_name="x", role="officer", unit=UNIT,
             password="Vinh-Thanh-2023-sy")
    assert r.status_code == 400 and 'id="err-login-username"' in r.text
    page = admin.get("/admin/people").text
    assert 'action="/admin/users/van.sy/lock"' in page  # the lock of the users page
    r = post("/admin/users/van.sy/lock")
    assert r.status_code == 303
    assert not accounts.get_user(rt, "van.sy").active
    x = admin.get("/admin/people", params={"xuat": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("STT", "Họ và tên") and len(rows) == 1 + len(list_people(rt))
