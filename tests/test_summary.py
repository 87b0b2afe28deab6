"""The province's summary: one row per commune, frozen figures where frozen and 'chưa chốt'
live ones elsewhere; sorting; the .xlsx/.docx/JSON exports read back. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

import openpyxl
import pytest
from docx import Document

from engine import api
from engine.reporting import statistics
from engine.reporting.summary import (
    province_summary,
    sorted_rows,
    summary_docx,
    summary_json,
    summary_xlsx,
)
from engine.runtime import Runtime
from plans import DEMO_BUNDLE

DATA = DEMO_BUNDLE / "thong-ke-2023-q3"
P = "2023-Q3"
COMMUNES = {"xa-a": "An Phú", "xa-b": "Bình Minh", "xa-c": "Cát Lợi"}
HEADER = ("STT,Lĩnh vực,Tiếp nhận - Tổng số,Tiếp nhận - Trực tuyến,Tiếp nhận - Kỳ trước chuyển "
          "qua,Tiếp nhận - Trực tiếp/bưu chính,Đã giải quyết - Tổng số,Đã giải quyết - Đúng hạn,"
          "Đã giải quyết - Quá hạn,Đang giải quyết - Tổng số,Đang giải quyết - Chưa đến hạn,"
          "Đang giải quyết - Quá hạn\n")


@pytest.fixture
def province(rt: Runtime, tmp_path: pytest.TempPathFactory) -> Runtime:
    api.add_unit(rt, slug="khanh-hoa", name="Khánh Hòa", kind="tỉnh", report_cutoff_day=13)
    for slug, name in COMMUNES.items():
        api.add_unit(rt, slug=slug, name=name, kind="xã", parent="khanh-hoa")
    api.add_unit(rt, slug="xa-trong", name="Trống", kind="xã", parent="khanh-hoa")  # no plans
    api.load_plans(rt, list(COMMUNES), [DEMO_BUNDLE / "cchc-2023.yaml"])
    # xa-a: the seed's Phụ lục 4, frozen; xa-b: 40 of 50 on time, typed, not frozen; xa-c: none.
    statistics.import_file(rt, "xa-a", P, DATA / "phu-luc-4.csv", "x")
    b = tmp_path / "b.csv"  # type: ignore[operator]
    b.write_text(HEADER + "1,Hộ tịch,60,15,0,45,50,40,10,10,10,0\n", encoding="utf-8")
    statistics.import_file(rt, "xa-b", P, b, "x")
    api.take_snapshot(rt, "xa-a", P, freeze=True, taken_by="Chủ tịch")
    return rt


def test_rows_frozen_and_live(province: Runtime) -> None:
    s = province_summary(province, "khanh-hoa", P)
    assert (s.period.start.isoformat(), s.period.end.isoformat()) == ("2023-06-14", "2023-09-13")
    assert [r.unit for r in s.rows] == ["xa-a", "xa-b", "xa-c"]  # xa-trong has no plans
    a, b, c = s.rows
    assert (a.status, b.status, c.status) == ("đã chốt", "chưa chốt", "chưa chốt")
    assert a.content_hash and b.content_hash is None
    assert (a.on_time.text, a.online.text) == ("100", "20,55")
    assert (b.on_time.value, b.online.text) == (Decimal("80.00"), "25")
    assert (c.on_time.text, c.online.text) == ("", "")
    assert [(p.plan, p.total, p.done) for p in a.plans] == [("cchc-2023", 23, 0)]
    assert s.frozen == 1 and s.plan_columns == [(1, "cchc-2023")]


def test_sorting(province: Runtime) -> None:
    s = province_summary(province, "khanh-hoa", P)
    assert [r.unit for r in sorted_rows(s, "on_time", True)] == ["xa-a", "xa-b", "xa-c"]
    assert [r.unit for r in sorted_rows(s, "online")] == ["xa-c", "xa-a", "xa-b"]
    assert [r.unit for r in sorted_rows(s, "status")] == ["xa-b", "xa-c", "xa-a"]


def test_exports_read_back(province: Runtime) -> None:
    s = province_summary(province, "khanh-hoa", P)
    ws = openpyxl.load_workbook(io.BytesIO(summary_xlsx(s))).active
    assert ws is not None
    rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    first = next(i for i, r in enumerate(rows) if r[0] == "STT")
    body = rows[first + 2:]
    assert [r[1] for r in body] == ["xã An Phú", "xã Bình Minh", "xã Cát Lợi"]
    assert body[0][2] == "đã chốt" and body[0][3] == "0 / 23"
    assert list(body[0][-2:]) == [100, 20.55]
    assert "TỈNH KHÁNH HÒA" in [c for r in rows[:3] for c in r if c]
    doc = Document(io.BytesIO(summary_docx(s)))
    cells = [c.text for r in doc.tables[1].rows for c in r.cells]
    assert "xã Bình Minh" in cells and "chưa chốt" in cells and "80" in cells
    data = json.loads(summary_json(s))
    assert data["communes"] == 3 and data["frozen"] == 1
    assert data["rows"][0]["on_time_text"] == "100"
    assert summary_xlsx(s) == summary_xlsx(province_summary(province, "khanh-hoa", P))
