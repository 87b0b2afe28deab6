"""Wide tables print landscape (issue 8.5): when a plan's declared optional columns cannot each
get their natural width on the portrait page, the .docx section turns landscape (A4 sideways,
the table and header block span 252 mm) and the .xlsx prints landscape, one page wide, with the
table's header rows repeated. Tables that fit stay exactly as they were (portrait, 165 mm).
"""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from test_export import make_snapshot
from test_xlsx_one_pass import reference_xlsx

from engine.reporting.export import export_docx, export_xlsx
from engine.reporting.export.docx_base import docx_base, twips
from engine.reporting.export.page import LANDSCAPE_TEXT_WIDTH_MM, TEXT_WIDTH_MM
from engine.reporting.export.table import NATURAL_COLUMN_MM, build_table
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot

SECTIONS, DIMENSIONS = 0, 1  # the demo-like snapshot: Phụ lục 1 (sections), 2 (PAPI)


def with_columns(index: int, columns: list[str]) -> tuple[Snapshot, AppendixSnapshot]:
    snap = make_snapshot()
    appendix = snap.appendices[index].model_copy(update={"columns": columns})
    return snap.model_copy(update={"appendices": [appendix]}), appendix


def document_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read("word/document.xml").decode()


def grid_widths(xml: str) -> list[list[int]]:
    """Every table's gridCol widths (twips): [header block, appendix table]."""
    return [[int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"/>', grid)]
            for grid in re.findall(r"<w:tblGrid>(.*?)</w:tblGrid>", xml)]


@pytest.mark.parametrize(("index", "columns"), [
    (SECTIONS, []), (SECTIONS, ["product"]), (SECTIONS, ["product", "lead_unit"]),
    (DIMENSIONS, []), (DIMENSIONS, ["note"]),
])
def test_tables_that_fit_stay_portrait(index: int, columns: list[str]) -> None:
    snap, appendix = with_columns(index, columns)
    table = build_table(appendix)
    assert table.orientation == "portrait"
    assert all(c.width_mm == NATURAL_COLUMN_MM for c in table.columns
               if c.header in ("Sản phẩm", "Đơn vị chủ trì", "Ghi chú"))
    xml = document_xml(export_docx(snap, appendix))
    assert '<w:pgSz w:w="11906" w:h="16838"/>' in xml and "landscape" not in xml
    header, grid = grid_widths(xml)
    assert sum(header) == sum(grid) == twips(TEXT_WIDTH_MM)
    ws = openpyxl.load_workbook(io.BytesIO(export_xlsx(snap, appendix))).active
    assert ws is not None and ws.page_setup.orientation == "portrait"


@pytest.mark.parametrize(("index", "columns"), [
    (SECTIONS, ["product", "lead_unit", "budget"]),
    (SECTIONS, ["product", "lead_unit", "partners", "completion_time", "budget", "note"]),
    (DIMENSIONS, ["product", "lead_unit"]),
])
def test_wide_tables_print_landscape(index: int, columns: list[str]) -> None:
    snap, appendix = with_columns(index, columns)
    table = build_table(appendix)
    assert table.orientation == "landscape"
    assert sum(c.width_mm for c in table.columns) == pytest.approx(LANDSCAPE_TEXT_WIDTH_MM)
    declared = [c for c in table.columns[2:] if c.header not in (
        "Nội dung thành phần", "Nhiệm vụ", "Đã thực hiện", "Chưa thực hiện", "Kết quả")]
    assert len(declared) == len(columns)
    # on the landscape page the declared columns are wider than the portrait page gave them
    portrait_share = min(NATURAL_COLUMN_MM, (123.0 if index == SECTIONS else 86.0) * 0.5
                         / len(columns))
    assert all(c.width_mm > portrait_share for c in declared)

    data = export_docx(snap, appendix)
    xml = document_xml(data)
    assert '<w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/>' in xml
    header, grid = grid_widths(xml)
    assert sum(header) == sum(grid) == twips(LANDSCAPE_TEXT_WIDTH_MM)
    heads = re.findall(r"<w:tblHeader/>", xml)
    assert len(heads) == 1  # the header row repeats on every page

    xlsx = export_xlsx(snap, appendix)
    ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert ws is not None
    assert ws.page_setup.orientation == "landscape"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    head_row = next(r[0].row for r in ws.iter_rows() if r[0].value in ("Stt", "STT"))
    assert ws.print_title_rows == f"${head_row}:${head_row}"
    assert xlsx == reference_xlsx(snap, appendix)  # the one-pass writer agrees with openpyxl


def test_multi_row_headers_repeat_whole() -> None:
    """Phụ lục 4's three header rows and Phụ lục 6's two are all repeated on each page."""
    from datetime import date, datetime

    from engine.reporting.statistics import StatisticsSheet
    from engine.reporting.statistics.export import fields_table, indicators_table
    from engine.reporting.statistics.model import IndicatorSetRef

    snap = make_snapshot()
    sheet = StatisticsSheet(
        unit=snap.unit, period="2023-Q3", period_label="Quý III năm 2023",
        start=date(2023, 6, 14), end=date(2023, 9, 13), taken_at=datetime(2023, 9, 20),
        indicator_set=IndicatorSetRef(id="x", version="1", content_hash="", title="X"))
    for table, rows in ((fields_table([]), 3), (indicators_table(sheet), 2)):
        assert sum(1 for r in table.rows if r.kind == "head") == rows
        xlsx = export_xlsx(snap, snap.appendices[0], table)
        ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
        assert ws is not None
        first, last = (int(x) for x in (ws.print_title_rows or "").replace("$", "").split(":"))
        assert last - first + 1 == rows
        xml = document_xml(export_docx(snap, snap.appendices[0], table))
        assert xml.count("<w:tblHeader/>") == rows


def test_one_page_base_per_orientation() -> None:
    assert docx_base() == docx_base("portrait")
    portrait, landscape = docx_base("portrait"), docx_base("landscape")
    assert portrait.parts == landscape.parts and portrait.document_head == landscape.document_head
    assert b'w:orient="landscape"' in landscape.document_tail
    assert b"landscape" not in portrait.document_tail
