"""Task codes as the source plan writes them: 1, 1.2.3, I.1, II.3.a; numbering per section."""

from __future__ import annotations

from pathlib import Path

import pytest
from province_seed import province_units

from engine import api
from engine.runtime import Runtime
from plans import DataFileError, PlanSpec, parse_model

HEAD = """schema_version: 1
id: kh-2026
kind: other
year: 2026
owner: xa-a
title: Kế hoạch thực hiện Kết luận số 12-KL/TU
issued_by: Kế hoạch số 7/KH-UBND ngày 15/01/2026
appendix:
  number: 4
  title: KẾT QUẢ THỰC HIỆN
  layout: sections
  numbering: {numbering}
sections:
  - code: I
    title: NHIỆM VỤ CHUNG
    tasks:
      - code: {a}
        text: Quán triệt kết luận
      - code: {b}
        text: Xây dựng kế hoạch
  - code: II
    title: NHIỆM VỤ CỤ THỂ
    tasks:
      - code: {c}
        text: Rà soát thủ tục
"""


def spec(numbering: str, a: str, b: str, c: str) -> PlanSpec:
    return parse_model(PlanSpec, HEAD.format(numbering=numbering, a=a, b=b, c=c), "kh.yaml")


def test_codes_per_section_and_as_written() -> None:
    assert [t.code for _p, t in spec("per_section", "I.1", "I.2", "II.1").iter_tasks()] == [
        "I.1", "I.2", "II.1"]
    assert [t.code for _p, t in spec("as_written", "I.1", "I.1.a", "II.3.a").iter_tasks()] == [
        "I.1", "I.1.a", "II.3.a"]
    assert [t.code for _p, t in spec("continuous", "1", "2", "3").iter_tasks()] == ["1", "2", "3"]


@pytest.mark.parametrize(("numbering", "codes", "where", "reason"), [
    ("per_section", ("I.1", "I.3", "II.1"), "sections[0].tasks[1].code",
     "đánh số theo từng mục: ở đây phải là 'I.2', không phải 'I.3'"),
    ("continuous", ("1", "2", "II.1"), "sections[1].tasks[0].code",
     "phải là '3', không phải 'II.1'"),
    ("as_written", ("I.1", "I.1", "II.1"), "sections[0].tasks[1].code",
     "mã nhiệm vụ 'I.1' bị trùng"),
    ("as_written", ("I.1", "I.a.1", "II.1"), "sections[0].tasks[1].code", "sai định dạng"),
])
def test_bad_codes_are_located(numbering: str, codes: tuple[str, str, str], where: str,
                               reason: str) -> None:
    with pytest.raises(DataFileError) as refused:
        spec(numbering, *codes)
    [problem] = refused.value.file_problems
    assert problem.location == where and reason in problem.message_vi


def test_a_plan_coded_per_section_loads_and_reports(rt: Runtime, tmp_path: Path) -> None:
    rt.clock.set("2026-03-01T09:00")  # type: ignore[attr-defined]
    province_units(rt)
    path = tmp_path / "kh.yaml"
    path.write_text(HEAD.format(numbering="as_written", a="I.1", b="I.1.a", c="II.3.a"),
                    encoding="utf-8")
    [res] = api.load_plans(rt, [], [path])
    assert res.per_unit[0].created == 3
    snap = api.take_snapshot(rt, "xa-a", "2026-Q1")
    [appendix] = snap.appendices  # no report appendix takes kind 'other': the file's number
    assert appendix.number == 4
    assert [t.code for t in appendix.all_tasks()] == ["I.1", "I.1.a", "II.3.a"]


COLUMNS_PLAN = HEAD.replace(
    "  numbering: {numbering}\n",
    "  numbering: {numbering}\n  columns: [product, lead_unit, budget]\n",
).replace(
    "        text: Quán triệt kết luận\n",
    "        text: Quán triệt kết luận\n        product: Kế hoạch của UBND xã\n"
    "        lead_unit: Văn phòng HĐND và UBND\n        budget: 5 triệu đồng\n"
    "        partners: Mặt trận Tổ quốc xã\n",
)


def test_declared_columns_in_order_in_every_export(rt: Runtime, tmp_path: Path) -> None:
    import json

    import docx
    import openpyxl

    rt.clock.set("2026-03-01T09:00")  # type: ignore[attr-defined]
    province_units(rt)
    path = tmp_path / "kh.yaml"
    path.write_text(COLUMNS_PLAN.format(numbering="per_section", a="I.1", b="I.2", c="II.1"),
                    encoding="utf-8")
    api.load_plans(rt, [], [path])
    res = api.snapshot_and_export(rt, "xa-a", "2026-Q1", tmp_path / "out")
    snap = json.loads((tmp_path / "out" / "snapshot.json").read_text(encoding="utf-8"))
    [appendix] = snap["appendices"]
    assert appendix["columns"] == ["product", "lead_unit", "budget"]
    first = appendix["groups"][0]["tasks"][0]
    assert first["columns"] == {"product": "Kế hoạch của UBND xã",
                                "lead_unit": "Văn phòng HĐND và UBND", "budget": "5 triệu đồng"}
    assert "columns" not in appendix["groups"][0]["tasks"][1]  # nothing given: left out
    heads = ["Stt", "Nhiệm vụ", "Sản phẩm", "Đơn vị chủ trì", "Kinh phí", "Đã thực hiện",
             "Chưa thực hiện", "Kết quả"]
    by_name = {p.name: p for p in res.files}
    table = docx.Document(str(by_name["phu-luc-4.docx"])).tables[-1]
    assert [c.text for c in table.rows[0].cells] == heads
    assert [c.text for c in table.rows[2].cells][:5] == [
        "I.1.", "Quán triệt kết luận", "Kế hoạch của UBND xã", "Văn phòng HĐND và UBND",
        "5 triệu đồng"]
    assert "Tổng" in table.rows[-1].cells[1].text and table.rows[-1].cells[6].text == "03"
    ws = openpyxl.load_workbook(by_name["phu-luc-4.xlsx"]).active
    found = [[c.value for c in row] for row in ws.iter_rows()]
    assert heads in found
    assert any(r[:5] == ["I.1.", "Quán triệt kết luận", "Kế hoạch của UBND xã",
                         "Văn phòng HĐND và UBND", "5 triệu đồng"] for r in found)
