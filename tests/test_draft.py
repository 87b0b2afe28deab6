"""The narrative draft (Báo cáo): a Jinja2 template kept as data, filled with engine facts,
written as .docx in the NĐ 30 layout — over the Vĩnh Thạnh demo (Q3-2023, frozen).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from engine import api
from engine.demo import DemoResult, run_demo
from engine.errors import ValidationFailed
from engine.reporting import statistics
from engine.reporting.draft import DRAFT_NAME, draft_context, draft_report
from engine.reporting.draft.render import TEMPLATES
from engine.runtime import Runtime, open_runtime

NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("demo-draft"))


@pytest.fixture
def rt(demo: DemoResult) -> Any:
    runtime = open_runtime(f"sqlite:///{demo.database}", migrate=False)
    yield runtime
    runtime.db.dispose()


def _text(data: bytes) -> list[str]:
    doc = Document(io.BytesIO(data))
    out = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            out.extend(c.text for c in row.cells)
    return out


def test_the_demo_writes_the_draft(demo: DemoResult) -> None:
    path = demo.database.parent / DRAFT_NAME
    lines = _text(path.read_bytes())
    body = "\n".join(lines)
    assert "Tình hình thực hiện công tác cải cách hành chính của xã Vĩnh Thạnh trong quý III " \
           "năm 2023" in body
    assert "(Kỳ báo cáo: Từ ngày 14/6/2023 đến 13/9/2023)" in body
    assert ("Kế hoạch cải cách hành chính xã Vĩnh Thạnh năm 2023 (Quyết định số 19/QĐ-UBND "
            "ngày 31/01/2023): 23 nhiệm vụ; lũy kế đến ngày 13/9/2023 đã thực hiện 15 nhiệm vụ "
            "(65,22 %), chưa thực hiện 8 nhiệm vụ. (Đính kèm Phụ lục 1)") in body
    # The seed's own sentences for the sub-reports, from the obligations' state.
    assert body.count("UBND xã chưa thực hiện báo cáo (kỳ báo cáo: ngày 06/12/2023)") == 2
    assert "UBND xã chưa thực hiện báo cáo (kỳ báo cáo 6 tháng: ngày 15/6/2023)" in body
    assert "UBND xã chưa thực hiện báo cáo (kỳ báo cáo: ngày 21/11/2023)" in body
    assert "tiếp nhận 1.134 hồ sơ (trực tuyến 233, kỳ trước chuyển qua 7" in body
    assert "Tỷ lệ giải quyết đúng hạn: 100 %" in body and "20,55 % (233/1.134 hồ sơ)" in body
    assert "Công văn số 910/UBND ngày 28/7/2023" in body  # evidence done in the period
    assert "- Phòng Nội vụ thành phố Nha Trang;" in body and "Nguyễn Quốc Bảo" in body
    assert "Số:        /BC-UBND" in body


def test_every_number_is_traceable(demo: DemoResult, rt: Runtime) -> None:
    snap = api.take_snapshot(rt, "vinh-thanh", "2023-Q3")
    context = draft_context(rt, snap, statistics.take_sheet(rt, snap))
    facts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif hasattr(value, "__dataclass_fields__"):
            walk(list(vars(value).values()))
        elif value is not None and not callable(value):
            facts.append(str(value))

    walk(context)
    facts += [r.text for r in statistics.take_sheet(rt, snap).indicators]
    known = {n for f in facts for n in NUMBER.findall(f)}
    body = _text((demo.database.parent / DRAFT_NAME).read_bytes())
    numbers = {n for line in body for n in NUMBER.findall(line)}
    # 'Phụ lục 4/5' are the statistics appendices; 'I.', '1.' are section numbers.
    headings = {str(i) for i in range(1, 7)}
    unknown = {n for n in numbers - known - headings
               if not all(part in known for part in n.split("/"))}  # '233/1.134'
    assert unknown == set()


def test_same_data_same_bytes_and_template_errors_located(rt: Runtime, tmp_path: Path) -> None:
    snap = api.take_snapshot(rt, "vinh-thanh", "2023-Q3")
    assert draft_report(rt, snap) == draft_report(rt, snap)
    bad = tmp_path / "bao-cao-cchc.j2"
    text = (TEMPLATES / "bao-cao-cchc.j2").read_text(encoding="utf-8")
    bad.write_text(text.replace("{{ p.total }}", "{{ p.tong_so }}"), encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"bao-cao-cchc\.j2, dòng \d+.*tong_so"):
        draft_report(rt, snap, bad)
