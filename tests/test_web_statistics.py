"""Phụ lục 4–6 on the web over the Vĩnh Thạnh demo: the downloads next to Phụ lục 1–3, the
statistics page (form with located refusals, nothing saved), the file import, the draft report
and the province's summary page and API.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator

import openpyxl
import pytest
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    Login,
    cheap_hashes_fixture,
    csrf,
    demo_db_fixture,
    demo_rt_fixture,
    login_clients,
    text_of,
)

from engine.reporting import statistics
from engine.runtime import Runtime
from web import create_app
from web.settings import WebSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")

UNIT = "vinh-thanh"
PASSWORD = "mat-khau-1"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def login(rt: Runtime) -> Iterator[Login]:
    with login_clients(create_app(rt, WebSettings()), PASSWORD) as login_:
        yield login_


def test_statistics_downloads_next_to_the_appendices(login: Login, rt: Runtime) -> None:
    reviewer = login("reviewer")
    page = reviewer.get(f"/units/{UNIT}/reports?period=2023-Q3").text
    for n in (4, 5, 6):
        assert f'/reports/2023-Q3/phu-luc-{n}.xlsx"' in page
    frozen = statistics.frozen_sheet(rt, UNIT, "2023-Q3")
    assert frozen is not None
    r = reviewer.get(f"/units/{UNIT}/reports/2023-Q3/phu-luc-4.xlsx")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert r.headers["x-content-hash"] == frozen.content_hash
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    values = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert "Tổng cộng" in values and 1134 in values
    r = reviewer.get(f"/units/{UNIT}/reports/2023-Q3/phu-luc-6.docx")
    assert r.status_code == 200 and r.headers["content-type"] == DOCX
    assert reviewer.get(f"/units/{UNIT}/reports/2023-Q3/phu-luc-6.docx").content == r.content
    js = reviewer.get(f"/units/{UNIT}/reports/2023-Q3/thong-ke.json").json()
    assert js["content_hash"] == frozen.content_hash
    assert {r["code"]: r["text"] for r in js["indicators"]}["3.2.2"] == "100"


def test_draft_button_downloads_the_report_body(login: Login) -> None:
    leader = login("leader")
    page = leader.get(f"/units/{UNIT}/reports?period=2023-Q3").text
    assert 'href="/units/vinh-thanh/reports/2023-Q3/bao-cao.docx"' in page
    r = leader.get(f"/units/{UNIT}/reports/2023-Q3/bao-cao.docx")
    assert r.status_code == 200 and r.headers["content-type"] == DOCX
    assert 'filename="bao-cao_vinh-thanh_2023-Q3.docx"' in r.headers["content-disposition"]
    import docx

    text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
    assert "Tỷ lệ giải quyết đúng hạn: 100 %" in text


def test_province_summary_page_downloads_and_api(login: Login, rt: Runtime) -> None:
    from engine.directory import accounts

    reviewer = login("reviewer")  # Phòng Nội vụ Nha Trang in the demo
    page = reviewer.get("/summary?period=2023-Q3")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "thành phố Nha Trang · Quý III năm 2023" in shown
    assert "1 đã chốt số liệu" in shown
    row = page.text.split('data-unit="vinh-thanh"')[1].split("</tr>")[0]
    assert "đã chốt" in row and "15 / 8" in row and ">100<" in row and ">20,55<" in row
    q4 = text_of(reviewer.get("/summary?period=2023-Q4&sort=online&desc=1").text)
    assert "chưa chốt" in q4 and "0 đã chốt số liệu" in q4
    assert reviewer.get("/summary?body=khanh-hoa").status_code == 403  # not their body
    assert login("officer").get("/summary").status_code == 403
    admin = login("admin")
    assert "tỉnh Khánh Hòa" in text_of(admin.get("/summary?body=khanh-hoa&period=2023-Q3").text)
    x = reviewer.get("/summary/nha-trang/2023-Q3/tong-hop.xlsx")
    assert x.status_code == 200 and x.headers["content-type"] == XLSX
    assert 'filename="tong-hop_nha-trang_2023-Q3.xlsx"' in x.headers["content-disposition"]
    d = reviewer.get("/summary/nha-trang/2023-Q3/tong-hop.docx")
    assert d.status_code == 200 and d.headers["content-type"] == DOCX
    token = accounts.create_api_token(rt, "thamdinh.nhatrang", "tổng hợp")[0]
    data = reviewer.get("/api/summary/nha-trang/2023-Q3",
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert data["rows"][0]["unit"] == "vinh-thanh" and data["rows"][0]["status"] == "đã chốt"
    assert data["rows"][0]["online_text"] == "20,55"
    # the body's own Phụ lục 6: the frozen communes summed (the demo: Vĩnh Thạnh alone)
    rollup = page.text.split('id="rollup"')[1].split("</section>")[0]
    assert 'id="rollup-summed">1<' in rollup and "rollup-pending" not in rollup
    assert '<tr data-code="3.2.2">' in rollup
    assert ">100<" in rollup.split('<tr data-code="3.2.2">')[1].split("</tr>")[0]
    assert 'id="rollup-pending">xã Vĩnh Thạnh<' in reviewer.get(
        "/summary?period=2023-Q4").text  # not frozen in Q4: named, not summed
    x6 = reviewer.get("/summary/nha-trang/2023-Q3/tong-hop-phu-luc-6.xlsx")
    assert x6.status_code == 200 and x6.headers["content-type"] == XLSX
    assert "tong-hop-phu-luc-6_nha-trang_2023-Q3.xlsx" in x6.headers["content-disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(x6.content)).active
    assert ws is not None and any(r[3] == 1134 for r in ws.iter_rows(values_only=True)
                                  if r and len(r) > 3)
    d6 = reviewer.get("/summary/nha-trang/2023-Q3/tong-hop-phu-luc-6.docx")
    assert d6.status_code == 200 and d6.headers["content-type"] == DOCX
    api6 = reviewer.get("/api/summary/nha-trang/2023-Q3/statistics",
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert (api6["summed"], api6["pending"]) == (1, 0)
    row322 = next(r for r in api6["sheet"]["indicators"] if r["code"] == "3.2.2")
    assert row322["text"] == "100"
    assert reviewer.get("/api/summary/khanh-hoa/2023-Q3/statistics",
                        headers={"Authorization": f"Bearer {token}"}).status_code == 403


Q4_HEADER = ("STT,Lĩnh vực,Tiếp nhận - Tổng số,Tiếp nhận - Trực tuyến,Tiếp nhận - Kỳ trước chuyển "
             "qua,Tiếp nhận - Trực tiếp/bưu chính,Đã giải quyết - Tổng số,Đã giải quyết - Đúng "
             "hạn,Đã giải quyết - Quá hạn,Đang giải quyết - Tổng số,Đang giải quyết - Chưa đến "
             "hạn,Đang giải quyết - Quá hạn\n")


def _stored(rt: Runtime) -> list[tuple[object, ...]]:
    from sqlalchemy import select

    from engine.storage.models import PeriodStatistics

    with rt.db.read() as s:
        return [(r.period, r.payload, r.version)
                for r in s.scalars(select(PeriodStatistics).order_by(PeriodStatistics.id))]


def test_statistics_form_refuses_with_the_reason_and_saves_nothing(login: Login,
                                                                  rt: Runtime) -> None:
    officer = login("officer")
    frozen = officer.get(f"/units/{UNIT}/statistics?period=2023-Q3").text
    assert 'name="v:1.3.1"' not in frozen and "Đã chốt" in text_of(frozen)  # frozen: read only
    page = officer.get(f"/units/{UNIT}/statistics?period=2023-Q4").text
    assert 'name="v:1.3.1"' in page and 'name="v:3.2.2"' not in page  # computed rows: no input
    assert 'name="v:1.1"' not in page  # counted from the register
    before = _stored(rt)
    r = officer.post(f"/units/{UNIT}/statistics/2023-Q4", data={
        "csrf_token": csrf(officer), "v:1.6": "1", "v:1.3.1": "-2", "v:1.5": "3",
        "n:1.2": "Đang triển khai"})
    assert r.status_code == 400
    shown = text_of(r.text)
    assert "Không lưu được" in shown and "số âm (-2) không hợp lệ" in shown
    assert "chỉ được chọn 0, 1" in shown
    assert 'name="v:1.3.1" value="-2"' in r.text  # what was typed is kept
    assert _stored(rt) == before
    r = officer.post(f"/units/{UNIT}/statistics/2023-Q4", data={
        "csrf_token": csrf(officer), "v:1.3.1": "7", "v:7.2.4.e": "1.250.000",
        "n:1.2": "Đang triển khai"}, follow_redirects=False)
    assert r.status_code == 303
    saved = statistics.load_input(rt, UNIT, "2023-Q4")
    assert str(saved.values["1.3.1"]) == "7" and int(saved.values["7.2.4.e"]) == 1250000
    assert saved.notes == {"1.2": "Đang triển khai"}


def test_statistics_upload_names_row_and_column(login: Login, rt: Runtime) -> None:
    officer = login("officer")
    bad = Q4_HEADER + ("1,Bảo trợ xã hội,20,10,6,4,20,20,0,0,0,0\n"
                       "2,Hộ tịch,30,10,10,10,25,25,0,5,4,0\n"
                       "3,Người có công,1,0,1,0,1,1,0,0,0,0\n")
    before = _stored(rt)
    r = officer.post(f"/units/{UNIT}/statistics/2023-Q4/import",
                     data={"csrf_token": csrf(officer)},
                     files={"file": ("phu-luc-4.csv", bad.encode(), "text/csv")})
    assert r.status_code == 400
    assert ("phu-luc-4.csv: Phụ lục 4, dòng 3, cột 'J (Đang giải quyết - Tổng số)': Đang giải "
            "quyết - Tổng số ghi 5 nhưng Đang giải quyết - Chưa đến hạn (4) + Đang giải quyết - "
            "Quá hạn (0) = 4") in text_of(r.text)
    assert _stored(rt) == before
    good = bad.replace("25,25,0,5,4,0", "25,25,0,5,5,0")
    r = officer.post(f"/units/{UNIT}/statistics/2023-Q4/import",
                     data={"csrf_token": csrf(officer)},
                     files={"file": ("phu-luc-4.csv", good.encode(), "text/csv")},
                     follow_redirects=False)
    assert r.status_code == 303
    fields = statistics.load_input(rt, UNIT, "2023-Q4").fields
    assert fields is not None and [f.carried_over for f in fields] == [6, 10, 1]


def test_one_period_selector_on_the_report_pages(login: Login) -> None:
    """reports.html, statistics.html and summary.html print the same selector (one macro)."""
    import re

    reviewer = login("reviewer")
    pages = [reviewer.get(f"/units/{UNIT}/reports?period=2023-Q3").text,
             reviewer.get(f"/units/{UNIT}/statistics?period=2023-Q3").text,
             reviewer.get("/summary?body=nha-trang&period=2023-Q3").text]
    selects = [re.search(r'<label for="period">.*?</select>', p, re.S) for p in pages]
    assert all(selects), "every page has the period selector"
    found = [m.group(0) for m in selects if m]
    assert '<option value="2023-Q3" selected>' in found[0]
    assert found[0] == found[1]  # same choices: the unit's periods
    assert found[2].split("<select")[0] == found[0].split("<select")[0]
