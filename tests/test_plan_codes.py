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
