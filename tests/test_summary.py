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


# ---------------------------------------------------------------- the body's own Phụ lục 6


def _row(sheet: statistics.StatisticsSheet, code: str) -> statistics.IndicatorRow:
    return sheet.indicator(code)


def test_body_statistics_sum_the_frozen_communes_only(province: Runtime) -> None:
    from engine.reporting.summary import body_statistics

    s = body_statistics(province, "khanh-hoa", P)
    assert [(u.unit, u.status) for u in s.units] == [
        ("xa-a", "đã chốt"), ("xa-b", "chưa chốt"), ("xa-c", "chưa chốt")]
    assert s.sheet.unit.slug == "khanh-hoa" and s.sheet.period == P
    # only xa-a is frozen: its seed Phụ lục 4; xa-b's typed 60 dossiers are not counted
    assert _row(s.sheet, "3.2.2.a").value == 1134 and _row(s.sheet, "3.2.2").text == "100"
    assert _row(s.sheet, "1.2.a").value == 23


def test_body_statistics_recompute_ratios_from_summed_rows(province: Runtime) -> None:
    from engine.reporting.summary import body_statistics

    statistics.set_values(province, "xa-a", "2023-Q4", {"1.3.1": "6", "1.5": "1"}, {}, "x")
    statistics.set_values(province, "xa-b", P, {"1.5": "0", "1.3.2.a": "4",
                                                "1.3.2.b": "3"}, {}, "x")
    api.take_snapshot(province, "xa-b", P, freeze=True, taken_by="Chủ tịch")
    s = body_statistics(province, "khanh-hoa", P)
    assert [u.unit for u in s.summed] == ["xa-a", "xa-b"] and [u.unit for u in s.pending] == [
        "xa-c"]
    sheet = s.sheet
    received, resolved, on_time = (_row(sheet, c).value for c in ("3.2.2.a", "3.2.2.b",
                                                                   "3.2.2.c"))
    assert (received, resolved, on_time) == (Decimal(1134 + 60), Decimal(1117 + 50),
                                              Decimal(1117 + 40))
    ratio = _row(sheet, "3.2.2")
    assert ratio.value == statistics.percent(1157, 1167) == Decimal("99.14")
    assert ratio.value != (Decimal(100) + Decimal(80)) / 2  # never the average of percentages
    online = _row(sheet, "7.2.3")
    assert online.value == statistics.percent(233 + 15, 1194)
    assert _row(sheet, "1.2.a").value == 46 and _row(sheet, "1.2").text == "0"
    # a row only one commune typed: its value, and the trace says who had none
    assert _row(sheet, "1.3.2.a").value == 4 and "1 xã, phường không có số liệu" in \
        _row(sheet, "1.3.2.a").trace
    assert _row(sheet, "1.3.2").text == "75"
    # a choice (Có = 1 / Không = 0) is not summed: the note counts the communes per choice
    choice = _row(sheet, "1.5")
    assert choice.value is None and choice.note == "0: 1 xã, phường"  # xa-a typed Q4, not Q3


def test_body_statistics_files(province: Runtime) -> None:
    from engine.reporting.summary import ROLLUP_FILES, body_statistics, body_statistics_file

    s = body_statistics(province, "khanh-hoa", P)
    docx_name, xlsx_name, json_name = ROLLUP_FILES
    doc = Document(io.BytesIO(body_statistics_file(s, docx_name) or b""))
    cells = [[c.text for c in r.cells] for r in doc.tables[1].rows]
    assert any(r[1].startswith("- Tổng số hồ sơ TTHC đã tiếp nhận") and r[3] == "1.134"
               for r in cells)
    header = " ".join(c.text for r in doc.tables[0].rows for c in r.cells)
    assert "TỈNH KHÁNH HÒA" in header
    ws = openpyxl.load_workbook(io.BytesIO(body_statistics_file(s, xlsx_name) or b"")).active
    assert ws is not None and ws.title == "Phụ lục 6"
    data = json.loads(body_statistics_file(s, json_name) or b"")
    assert data["summed"] == 1 and data["pending"] == 2
    assert [u["status"] for u in data["units"]] == ["đã chốt", "chưa chốt", "chưa chốt"]
    assert body_statistics_file(s, "khac.pdf") is None
    assert body_statistics_file(s, xlsx_name) == body_statistics_file(
        body_statistics(province, "khanh-hoa", P), xlsx_name)  # same data, same bytes
