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
