"""The one-pass .xlsx writer gives the bytes openpyxl gives for the same cells.

`engine.reporting.export.xlsx_writer` writes the sheet's rows and merges itself into parts openpyxl
made
once (`_skeleton`). The reference here puts the very same cells (from `_fill`) through openpyxl
cell by cell — named style, quote prefix, row heights, `MultiCellRange` merges, print setup —
and saves it with the same deterministic zip: the two files must be equal byte for byte, for
the demo-like snapshot and for texts that need escaping, keep their spaces, look like formulas
or are empty.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

import pytest
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.writer.excel import ExcelWriter
from test_export import make_snapshot, task

from engine.reporting.export import export_xlsx, texts
from engine.reporting.export import xlsx_writer as xw
from engine.reporting.export.cells import put_cell
from engine.reporting.export.package import StampedZip, appendix_core_xml
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot, SnapshotGroup


def reference_xlsx(snapshot: Snapshot, appendix: AppendixSnapshot) -> bytes:
    """The same cells written the ordinary openpyxl way."""
    sheet, widths, setup = xw._fill(snapshot, appendix)
    wb = Workbook()
    xw._register_styles(wb)
    ws = wb.active
    assert ws is not None
    ws.title = texts.appendix_heading(appendix)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for row, col, value, (style, _quote) in sheet.cells:
        put_cell(ws, row, col, value, style)
    for row, height in sheet.heights.items():
        ws.row_dimensions[row].height = height
    ws.merged_cells = MultiCellRange([
        CellRange(min_row=a, min_col=b, max_row=c, max_col=d) for a, b, c, d in sheet.merges])
    xw._print_setup(ws, setup)
    buf = io.BytesIO()
    archive = StampedZip(buf, snapshot.taken_at, appendix_core_xml(snapshot, appendix))
    ExcelWriter(wb, archive).save()
    return buf.getvalue()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _assert_same(snapshot: Snapshot) -> None:
    for appendix in snapshot.appendices:
        ours, ref = export_xlsx(snapshot, appendix), reference_xlsx(snapshot, appendix)
        if ours != ref:  # say which part differs before failing
            assert _parts(ours) == _parts(ref)
        assert ours == ref


def test_same_bytes_as_openpyxl_for_the_demo_like_snapshot() -> None:
    _assert_same(make_snapshot())


ODD_TEXTS = [
    "A & B < C > D \"quoted\" 'single'",
    "  leading and trailing spaces  ",
    "line one\nline two\r\nline three",
    "=HYPERLINK(\"http://example.invalid\",\"Bấm vào đây\")",
    "+84 912 345 678",
    "- gạch đầu dòng;\n- dòng hai",
    "@SUM(A1)",
    "\tbắt đầu bằng tab",
    "Số liệu 100% — “ngoặc kép” ✓ 😀 𝔘",
    "",
]


def test_same_bytes_as_openpyxl_for_texts_that_need_care() -> None:
    tasks = [task(str(i + 1), text or "Nhiệm vụ", i % 2 == 0, text)
             for i, text in enumerate(ODD_TEXTS)]
    tasks += [task(str(len(tasks) + 1), text, False) for text in ODD_TEXTS if text]
    base = make_snapshot()
    first = base.appendices[0].model_copy(update={
        "groups": [SnapshotGroup(code="I", title="=NHÓM <ĐẶC BIỆT> & KHÁC", tasks=tasks)]})
    _assert_same(base.model_copy(update={"appendices": [first, *base.appendices[1:]]}))


def test_formula_like_texts_are_text_with_the_quote_prefix() -> None:
    base = make_snapshot()
    evil = '=HYPERLINK("http://example.invalid","x")'
    first = base.appendices[0].model_copy(update={
        "groups": [SnapshotGroup(code="I", title="Nhóm", tasks=[task("1", "Nhiệm vụ", True,
                                                                     evil)])]})
    snap = base.model_copy(update={"appendices": [first]})
    sheet = _parts(export_xlsx(snap, first))["xl/worksheets/sheet1.xml"].decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet
    styles = _parts(export_xlsx(snap, first))["xl/styles.xml"].decode()
    assert 'quotePrefix="1"' in styles


def test_a_control_character_never_reaches_the_sheet_xml() -> None:
    """Control characters XML cannot hold are dropped before the table (or refused by the
    writer, as openpyxl refuses them): the sheet always parses."""
    bad = "kết quả\x0bcó ký tự điều khiển\x01"
    assert ILLEGAL_CHARACTERS_RE.search(bad)
    base = make_snapshot()
    first = base.appendices[0].model_copy(update={
        "groups": [SnapshotGroup(code="I", title="Nhóm", tasks=[task("1", "Nhiệm vụ", True,
                                                                     bad)])]})
    snap = base.model_copy(update={"appendices": [first]})
    sheet = _parts(export_xlsx(snap, first))["xl/worksheets/sheet1.xml"]
    ElementTree.fromstring(sheet)
    assert b"&#11;" not in sheet and b"\x0b" not in sheet
    with pytest.raises(IllegalCharacterError):
        xw._sheet_data(_one_cell(bad), {("cchc_text", False): 1})


def _one_cell(value: str) -> xw._Sheet:
    sheet = xw._Sheet()
    sheet.put(1, 1, value, "cchc_text")
    return sheet
