"""Quarter-end appendix exporters: .docx (NĐ 30 layout), .xlsx and JSON, read back and checked."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypedDict

import openpyxl
import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Length, Mm
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph
from openpyxl.cell.cell import MergedCell

from engine.reporting.export import (
    build_table,
    export_docx,
    export_json,
    export_xlsx,
    read_json,
    write_all,
)
from engine.reporting.export.texts import two_digits
from engine.reporting.snapshot.model import (
    AppendixSnapshot,
    Snapshot,
    SnapshotGroup,
    SnapshotTask,
    UnitHeader,
)
from vntext.dates import nd30_date

REPO = Path(__file__).resolve().parents[1]
TAKEN_AT = datetime(2023, 9, 14, 8, 30, 0)


def task(code: str, text: str, done: bool, result: str = "") -> SnapshotTask:
    return SnapshotTask(
        code=code, text=text, state="done" if done else "in_progress", done=done, result=result
    )


def make_snapshot(flip: str | None = None) -> Snapshot:
    """A small Vĩnh Thạnh-like snapshot; `flip` = a task code whose done flag is inverted."""

    def t(code: str, text: str, done: bool, result: str = "") -> SnapshotTask:
        return task(code, text, (not done) if code == flip else done, result)

    plan = AppendixSnapshot(
        plan_id="cchc-2023",
        number=1,
        title="Kết quả triển khai Kế hoạch cải cách hành chính năm 2023",
        layout="sections",
        groups=[
            SnapshotGroup(
                code="I",
                title="CẢI CÁCH THỂ CHẾ",
                tasks=[
                    t(
                        "1",
                        "Cập nhật, công khai đầy đủ thông tin về các quy hoạch, kế hoạch, "
                        "quy định, chính sách quản lý có liên quan đến hoạt động sản xuất",
                        True,
                        "UBND xã thực hiện công khai đầy đủ, kịp thời trên Trang thông tin "
                        "điện tử xã",
                    ),
                    t(
                        "2",
                        "Thực hiện đầy đủ, kịp thời các nhiệm vụ về rà soát, hệ thống hóa",
                        False,
                        "UBND xã chưa có văn bản đề xuất, báo cáo",
                    ),
                ],
            ),
            SnapshotGroup(
                code="II",
                title="CẢI CÁCH THỦ TỤC HÀNH CHÍNH",
                tasks=[
                    t(
                        "3",
                        "Tiếp tục rà soát, đơn giản hóa TTHC:\n- loại bỏ thủ tục rườm rà;\n"
                        "- loại bỏ mẫu đơn, tờ khai không cần thiết",
                        True,
                        "- Quyết định số 34/QĐ-UBND ngày 16/02/2023 ban hành Kế hoạch\n"
                        "- Công văn số 910/UBND ngày 28/7/2023 báo cáo đơn giản hóa TTHC",
                    ),
                    t("4", "Khảo sát mức độ hài lòng của tổ chức, cá nhân", False),
                ],
            ),
        ],
    )
    papi = AppendixSnapshot(
        plan_id="papi-2023",
        number=2,
        title="Kết quả triển khai bộ khung nhiệm vụ\ncải thiện và nâng cao chỉ số PAPI",
        layout="dimensions",
        groups=[
            SnapshotGroup(
                code="1",
                title="Tham gia của người dân ở cấp cơ sở",
                groups=[
                    SnapshotGroup(
                        code="1.1",
                        title="Tri thức công dân",
                        tasks=[
                            t(
                                "1.1.1",
                                "- Thông tin, tuyên truyền chủ trương của Đảng;\n"
                                "- Giới thiệu lãnh đạo các cấp.",
                                True,
                                "+ Đăng tải trên Trang thông tin điện tử xã\n+ Phát trên Đài "
                                "truyền thanh",
                            )
                        ],
                    ),
                    SnapshotGroup(
                        code="1.2",
                        title="Cơ hội tham gia",
                        tasks=[
                            t("1.2.1", "Giới thiệu các tổ chức chính trị - xã hội", True, "Đã"),
                            t("1.2.2", "Công khai các nội dung công việc quan trọng", True),
                            t("1.2.3", "Tuyên truyền về bầu cử Tổ trưởng thôn", False),
                        ],
                    ),
                ],
            ),
            SnapshotGroup(
                code="5",
                title="Thủ tục hành chính công",
                groups=[
                    SnapshotGroup(
                        code="5.1",
                        title=None,
                        tasks=[t("5.1.1", "Số hóa hồ sơ, kết quả giải quyết TTHC", True, "Đủ")],
                    ),
                    SnapshotGroup(
                        code="5.2",
                        title=None,
                        tasks=[
                            t("5.2.1", "Công khai TTHC kịp thời, đầy đủ", True),
                            t("5.2.2", "Tập huấn nghiệp vụ một cửa", False),
                        ],
                    ),
                ],
            ),
        ],
    )
    kl91 = AppendixSnapshot(
        plan_id="kl91-2023",
        number=3,
        title="Kết quả triển khai Kết luận số 91-KL/TU\nngày 18/10/2022 của Ban Thường vụ Tỉnh ủy",
        layout="sections",
        groups=[
            SnapshotGroup(
                code="I",
                title="Nâng cao vai trò lãnh đạo, chỉ đạo, điều hành",
                tasks=[t("1", "Phân công trách nhiệm từng cá nhân trong CCHC", True, "Đã")],
            )
        ],
    )
    return Snapshot(
        unit=UnitHeader(
            slug="vinh-thanh",
            kind="xã",
            name="Vĩnh Thạnh",
            parent_kind="thành phố",
            parent_name="Nha Trang",
        ),
        period="2023-Q3",
        period_label="Quý III năm 2023",
        start=date(2023, 6, 14),
        end=date(2023, 9, 13),
        taken_at=TAKEN_AT,
        appendices=[plan, papi, kl91],
    )


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return make_snapshot()


def appendix(s: Snapshot, number: int) -> AppendixSnapshot:
    return next(a for a in s.appendices if a.number == number)


def read_docx(s: Snapshot, number: int) -> DocxDocument:
    return Document(io.BytesIO(export_docx(s, appendix(s, number))))


class Tc(TypedDict):
    paras: list[str]
    span: int
    vmerge: str | None


def grid(table: DocxTable) -> list[list[Tc]]:
    """Raw rows of a w:tbl: per w:tc its text paragraphs, gridSpan and vMerge value."""
    rows: list[list[Tc]] = []
    for tr in table._tbl.findall(qn("w:tr")):
        cells: list[Tc] = []
        for tc in tr.findall(qn("w:tc")):
            pr = tc.find(qn("w:tcPr"))
            span = pr.find(qn("w:gridSpan"))
            vmerge = pr.find(qn("w:vMerge"))
            paras = [
                "".join(t.text or "" for t in p.iter(qn("w:t"))) for p in tc.findall(qn("w:p"))
            ]
            cells.append(
                {
                    "paras": [p for p in paras if p],
                    "span": int(span.get(qn("w:val"))) if span is not None else 1,
                    "vmerge": None if vmerge is None else (vmerge.get(qn("w:val")) or "continue"),
                }
            )
        rows.append(cells)
    return rows


def mm(length: Length | None) -> float:
    assert length is not None
    return float(length.mm)


def align(p: Paragraph) -> int | None:
    """A paragraph's effective alignment: direct, else from its style chain (1 = centre)."""
    if p.alignment is not None:
        return int(p.alignment)
    style = p.style
    while style is not None:
        if style.paragraph_format.alignment is not None:
            return int(style.paragraph_format.alignment)
        style = style.base_style
    return None


def texts_of(row: list[Tc]) -> list[str]:
    return ["\n".join(c["paras"]) for c in row]


# --------------------------------------------------------------------------- wording


def test_nd30_dates_and_padding() -> None:
    assert nd30_date(date(2023, 6, 14)) == "14/6/2023"
    assert nd30_date(date(2023, 9, 3)) == "03/9/2023"
    assert nd30_date(date(2023, 1, 31)) == "31/01/2023"
    assert nd30_date(date(2023, 2, 5)) == "05/02/2023"
    assert nd30_date(date(2023, 12, 10)) == "10/12/2023"
    assert [two_digits(n) for n in (0, 8, 15, 123)] == ["00", "08", "15", "123"]


# --------------------------------------------------------------------------- docx


def test_docx_page_is_nd30_a4(snap: Snapshot) -> None:
    doc = read_docx(snap, 1)
    sec = doc.sections[0]
    assert abs(mm(sec.page_width) - 210) < 0.1
    assert abs(mm(sec.page_height) - 297) < 0.1
    assert mm(sec.page_width) < mm(sec.page_height)  # portrait
    for got, want in (
        (sec.top_margin, 20),
        (sec.bottom_margin, 20),
        (sec.left_margin, 30),
        (sec.right_margin, 15),
    ):
        assert abs(mm(got) - want) < 0.1
    # Page number centred in the header, not on page 1, counted from 1 in each appendix.
    assert sec.different_first_page_header_footer
    header_xml = sec.header._element.xml
    assert "PAGE" in header_xml and "fldChar" in header_xml
    assert "PAGE" not in sec.first_page_header._element.xml
    assert align(sec.header.paragraphs[0]) == 1  # centre
    assert sec._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"


def test_docx_fonts_are_times_new_roman_for_every_script(snap: Snapshot) -> None:
    doc = read_docx(snap, 1)
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size.pt == 13
    rfonts = normal.element.rPr.find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        assert rfonts.get(qn(attr)) == "Times New Roman"
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    default_fonts = defaults.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert default_fonts.get(qn("w:eastAsia")) == "Times New Roman"
    assert default_fonts.get(qn("w:eastAsiaTheme")) is None  # a theme font would win
    # Table text is 12 pt, still Times New Roman by inheritance.
    cell_style = doc.tables[1].rows[1].cells[1].paragraphs[0].style
    assert cell_style.font.size.pt == 12
    assert cell_style.font.name in (None, "Times New Roman")


def test_docx_header_block_and_headings(snap: Snapshot) -> None:
    doc = read_docx(snap, 1)
    head = doc.tables[0]
    left, right = head.rows[0].cells
    assert [p.text for p in left.paragraphs if p.text] == ["ỦY BAN NHÂN DÂN", "XÃ VĨNH THẠNH"]
    assert [p.text for p in right.paragraphs if p.text] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập – Tự do – Hạnh phúc",
    ]
    for cell in (left, right):
        for p in cell.paragraphs:
            if p.text:
                assert p.style.font.bold and align(p) == 1
        rule = cell.paragraphs[-1]
        assert rule.text == "" and rule._p.pPr.find(qn("w:pBdr")) is not None
    # The short rule under the unit name is shorter than the one under the motto.
    ind = [c.paragraphs[-1].paragraph_format for c in (left, right)]
    left_rule = Mm(60) - 2 * ind[0].left_indent
    right_rule = Mm(105) - 2 * ind[1].left_indent
    assert Mm(10) < left_rule < right_rule < Mm(105)
    borders = head._tbl.tblPr.find(qn("w:tblBorders"))
    assert all(b.get(qn("w:val")) in ("nil", "none") for b in borders)

    paras = [p for p in doc.paragraphs if p.text]
    assert [p.text for p in paras] == [
        "Phụ lục 1",
        "KẾT QUẢ TRIỂN KHAI KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM 2023",
        "(Kỳ báo cáo: Từ ngày 14/6/2023 đến 13/9/2023)",
        "(Đính kèm Báo cáo cải cách hành chính Quý III năm 2023 của UBND xã Vĩnh Thạnh)",
    ]
    assert all(align(p) == 1 for p in paras)
    styles = [p.style for p in paras]
    assert all(st is not None for st in styles)
    assert [(st.font.bold, st.font.italic) for st in styles if st is not None] == [
        (True, None),
        (True, None),
        (None, True),
        (None, True),
    ]
    # Line breaks in the title are kept.
    title2 = [p.text for p in read_docx(snap, 2).paragraphs if p.text][1]
    assert title2 == "KẾT QUẢ TRIỂN KHAI BỘ KHUNG NHIỆM VỤ\nCẢI THIỆN VÀ NÂNG CAO CHỈ SỐ PAPI"


def test_docx_sections_table_rows(snap: Snapshot) -> None:
    table = read_docx(snap, 1).tables[1]
    rows = grid(table)
    assert texts_of(rows[0]) == ["Stt", "Nhiệm vụ", "Đã thực hiện", "Chưa thực hiện", "Kết quả"]
    trs = table._tbl.findall(qn("w:tr"))
    assert trs[0].trPr.find(qn("w:tblHeader")) is not None
    assert all(tr.trPr.find(qn("w:cantSplit")) is not None for tr in trs)
    assert all(tr.trPr.find(qn("w:tblHeader")) is None for tr in trs[1:])

    # Section row: Roman numeral, bold title across the four remaining columns.
    assert texts_of(rows[1]) == ["I", "CẢI CÁCH THỂ CHẾ"]
    assert rows[1][1]["span"] == 4
    section_p = table.rows[1].cells[1].paragraphs[0]
    assert section_p.style.font.bold
    # Task rows: Stt "1.", text, x in the right column, Kết quả.
    assert texts_of(rows[2])[:4] == [
        "1.",
        "Cập nhật, công khai đầy đủ thông tin về các quy hoạch, kế hoạch, quy định, chính sách "
        "quản lý có liên quan đến hoạt động sản xuất",
        "x",
        "",
    ]
    assert texts_of(rows[3])[:4] == ["2.", texts_of(rows[3])[1], "", "x"]
    assert rows[3][4]["paras"] == ["UBND xã chưa có văn bản đề xuất, báo cáo"]
    x_para = table.rows[2].cells[2].paragraphs[0]
    assert align(x_para) == 1
    # Multi-line text and result become separate paragraphs.
    assert texts_of(rows[4])[0] == "II"
    assert rows[5][1]["paras"] == [
        "Tiếp tục rà soát, đơn giản hóa TTHC:",
        "- loại bỏ thủ tục rườm rà;",
        "- loại bỏ mẫu đơn, tờ khai không cần thiết",
    ]
    assert rows[5][4]["paras"] == [
        "- Quyết định số 34/QĐ-UBND ngày 16/02/2023 ban hành Kế hoạch",
        "- Công văn số 910/UBND ngày 28/7/2023 báo cáo đơn giản hóa TTHC",
    ]
    assert texts_of(rows[6])[:4] == ["4.", "Khảo sát mức độ hài lòng của tổ chức, cá nhân", "", "x"]
    assert texts_of(rows[-1]) == ["", "Tổng: 4 nhiệm vụ", "02", "02", ""]
    # Column widths fill the 165 mm text width.
    widths = [int(g.get(qn("w:w"))) for g in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert abs(sum(widths) - round(165 * 1440 / 25.4)) <= 1


def vertical_spans(rows: list[list[Tc]], col: int) -> list[tuple[str, int]]:
    """(text, number of rows) for each vertical merge run in grid column `col`."""
    runs: list[tuple[str, int]] = []
    for row in rows:
        pos, cell = 0, None
        for c in row:
            if pos == col:
                cell = c
                break
            pos += c["span"]
        assert cell is not None
        if cell["vmerge"] == "continue":
            text, n = runs[-1]
            runs[-1] = (text, n + 1)
        else:
            runs.append(("\n".join(cell["paras"]), 1))
    return runs


def test_docx_papi_merges(snap: Snapshot) -> None:
    rows = grid(read_docx(snap, 2).tables[1])
    assert texts_of(rows[0]) == [
        "STT",
        "Nội dung",
        "Nội dung thành phần",
        "Nhiệm vụ",
        "Đã thực hiện",
        "Chưa thực hiện",
        "Kết quả",
    ]
    body = rows[1:-1]
    assert len(body) == 7
    assert vertical_spans(body, 0) == [("1", 4), ("5", 3)]
    assert vertical_spans(body, 1) == [
        ("Tham gia của người dân ở cấp cơ sở", 4),
        ("Thủ tục hành chính công", 3),
    ]
    assert vertical_spans(body, 2) == [
        ("1.1. Tri thức công dân", 1),
        ("1.2. Cơ hội tham gia", 3),
        ("5.1", 1),
        ("5.2", 2),
    ]
    assert body[0][0]["vmerge"] == "restart" and body[1][0]["vmerge"] == "continue"
    assert body[0][3]["paras"] == [
        "- Thông tin, tuyên truyền chủ trương của Đảng;",
        "- Giới thiệu lãnh đạo các cấp.",
    ]
    assert body[0][6]["paras"] == [
        "+ Đăng tải trên Trang thông tin điện tử xã",
        "+ Phát trên Đài truyền thanh",
    ]
    marks = [(r[4]["paras"], r[5]["paras"]) for r in body]
    assert marks == [
        (["x"], []),
        (["x"], []),
        (["x"], []),
        ([], ["x"]),
        (["x"], []),
        (["x"], []),
        ([], ["x"]),
    ]
    assert texts_of(rows[-1]) == ["", "", "", "Tổng cộng: 7 nhiệm vụ", "05", "02", ""]


def test_totals_are_counted_from_rows() -> None:
    before, after = make_snapshot(), make_snapshot(flip="2")
    t0, t1 = build_table(appendix(before, 1)), build_table(appendix(after, 1))
    assert (t0.total, t0.done, t0.not_done) == (4, 2, 2)
    assert (t1.total, t1.done, t1.not_done) == (4, 3, 1)
    rows = grid(read_docx(after, 1).tables[1])
    assert texts_of(rows[-1]) == ["", "Tổng: 4 nhiệm vụ", "03", "01", ""]
    assert texts_of(rows[3])[2:4] == ["x", ""]
    ws = openpyxl.load_workbook(io.BytesIO(export_xlsx(after, appendix(after, 1)))).active
    last = ws.max_row
    assert [ws.cell(last, c).value for c in (2, 3, 4)] == [4, 3, 1]


# --------------------------------------------------------------------------- xlsx


def load_sheet(s: Snapshot, number: int) -> Any:
    wb = openpyxl.load_workbook(io.BytesIO(export_xlsx(s, appendix(s, number))))
    assert wb.sheetnames == [f"Phụ lục {number}"]
    return wb.active


def find_row(ws: Any, value: str) -> int:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == value:
                return int(cell.row)
    raise AssertionError(value)


def test_xlsx_heading_and_print_setup(snap: Snapshot) -> None:
    ws = load_sheet(snap, 2)
    assert ws["A1"].value == "ỦY BAN NHÂN DÂN" and ws["A2"].value == "XÃ VĨNH THẠNH"
    assert ws["D1"].value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert ws["D2"].value == "Độc lập – Tự do – Hạnh phúc"
    assert ws["A1"].font.bold and ws["D2"].font.bold
    column_a = [ws.cell(r, 1).value for r in range(4, 9)]
    assert column_a == [
        "Phụ lục 2",
        "KẾT QUẢ TRIỂN KHAI BỘ KHUNG NHIỆM VỤ",
        "CẢI THIỆN VÀ NÂNG CAO CHỈ SỐ PAPI",
        "(Kỳ báo cáo: Từ ngày 14/6/2023 đến 13/9/2023)",
        "(Đính kèm Báo cáo cải cách hành chính Quý III năm 2023 của UBND xã Vĩnh Thạnh)",
    ]
    assert ws["A7"].font.italic
    head = find_row(ws, "STT")
    assert [ws.cell(head, c).value for c in range(1, 8)] == [
        "STT",
        "Nội dung",
        "Nội dung thành phần",
        "Nhiệm vụ",
        "Đã thực hiện",
        "Chưa thực hiện",
        "Kết quả",
    ]
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_rows == f"${head}:${head}"
    assert abs(ws.page_margins.left - 30 / 25.4) < 1e-6
    assert abs(ws.page_margins.right - 15 / 25.4) < 1e-6
    assert "&P" in ws.oddHeader.center.text and ws.HeaderFooter.differentFirst
    for col in "ABCDEFG":
        assert ws.column_dimensions[col].width > 4


def test_xlsx_papi_table_merges_and_numbers(snap: Snapshot) -> None:
    ws = load_sheet(snap, 2)
    head = find_row(ws, "STT")
    first = head + 1
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert f"A{first}:A{first + 3}" in merged and f"B{first}:B{first + 3}" in merged
    assert f"A{first + 4}:A{first + 6}" in merged
    assert f"C{first + 1}:C{first + 3}" in merged and f"C{first + 5}:C{first + 6}" in merged
    assert not any(r.startswith(f"C{first}:") for r in merged)  # single-task sub-dimension
    assert ws.cell(first, 3).value == "1.1. Tri thức công dân"
    assert ws.cell(first + 4, 3).value == "5.1"
    assert ws.cell(first, 4).value == (
        "- Thông tin, tuyên truyền chủ trương của Đảng;\n- Giới thiệu lãnh đạo các cấp."
    )
    assert [ws.cell(first + 3, c).value for c in (5, 6)] == [None, "x"]
    total = first + 7
    label, done, not_done = (ws.cell(total, c) for c in (4, 5, 6))
    assert (label.value, done.value, not_done.value) == (7, 5, 2)
    assert all(isinstance(c.value, int) for c in (label, done, not_done))
    assert label.number_format == '"Tổng cộng: "0" nhiệm vụ"'
    assert not_done.number_format == "00"
    # Every table cell is Times New Roman, wrapped and boxed ...
    for row in ws.iter_rows(min_row=head, max_row=total, max_col=7):
        for cell in row:
            if isinstance(cell, MergedCell):
                continue  # openpyxl rebuilds these on load; checked in the XML below
            assert cell.font.name == "Times New Roman"
            assert cell.alignment.wrap_text
            assert cell.border.left.style == "thin" and cell.border.bottom.style == "thin"
    # ... and the covered parts of merges are stored with a style too (their borders).
    raw = export_xlsx(snap, appendix(snap, 2))
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    styled = dict(re.findall(r'<c r="([A-Z]+\d+)"[^>]* s="(\d+)"', sheet))
    for r in range(head, total + 1):
        for col in "ABCDEFG":
            assert styled.get(f"{col}{r}", "0") != "0", f"{col}{r} unstyled"


def test_xlsx_sections_merge_section_titles(snap: Snapshot) -> None:
    ws = load_sheet(snap, 1)
    head = find_row(ws, "Stt")
    row = find_row(ws, "CẢI CÁCH THỂ CHẾ")
    assert ws.cell(row, 1).value == "I" and row == head + 1
    assert f"B{row}:E{row}" in {str(r) for r in ws.merged_cells.ranges}
    assert [ws.cell(row + 1, c).value for c in (1, 3, 4)] == ["1.", "x", None]
    assert ws.row_dimensions[row].height  # merged rows get an explicit height
    last = ws.max_row
    assert [ws.cell(last, c).value for c in (2, 3, 4)] == [4, 2, 2]
    assert ws.cell(last, 2).number_format == '"Tổng: "0" nhiệm vụ"'


# --------------------------------------------------------------------------- determinism


def _all_bytes(s: Snapshot) -> dict[str, bytes]:
    out = {f"{a.number}.docx": export_docx(s, a) for a in s.appendices}
    out |= {f"{a.number}.xlsx": export_xlsx(s, a) for a in s.appendices}
    out["json"] = export_json(s)
    return out


def test_exports_are_byte_identical_and_dated_taken_at(snap: Snapshot) -> None:
    first, second = _all_bytes(snap), _all_bytes(make_snapshot())
    assert first == second
    for name, data in first.items():
        if name == "json":
            continue
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if name.endswith(".docx"):
                assert zf.namelist()[0] == "[Content_Types].xml"
            assert {i.date_time for i in zf.infolist()} == {(2023, 9, 14, 8, 30, 0)}
            core = zf.read("docProps/core.xml").decode()
        assert core.count("2023-09-14T08:30:00Z") == 2  # created and modified


def test_exports_are_byte_identical_in_another_process(snap: Snapshot) -> None:
    """A later run in a fresh interpreter (other hash seed, other clock) gives the same bytes."""
    script = (
        "import hashlib, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from tests.test_export import make_snapshot, _all_bytes\n"
        "for k, v in sorted(_all_bytes(make_snapshot()).items()):\n"
        "    print(k, hashlib.sha256(v).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script, str(REPO)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=REPO,
    ).stdout
    here = "".join(
        f"{k} {hashlib.sha256(v).hexdigest()}\n" for k, v in sorted(_all_bytes(snap).items())
    )
    assert out == here


def test_exports_change_when_a_task_changes(snap: Snapshot) -> None:
    changed = make_snapshot(flip="1.2.3")
    a, b = _all_bytes(snap), _all_bytes(changed)
    assert a["2.docx"] != b["2.docx"] and a["2.xlsx"] != b["2.xlsx"] and a["json"] != b["json"]
    assert a["1.docx"] == b["1.docx"] and a["1.xlsx"] == b["1.xlsx"]


# --------------------------------------------------------------------------- json and files


def test_json_is_canonical_and_round_trips(snap: Snapshot) -> None:
    raw = export_json(snap)
    assert raw.endswith(b"}\n")
    text = raw.decode("utf-8")
    assert "Vĩnh Thạnh" in text and "\\u" not in text
    data = json.loads(text)
    assert text == json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    assert data["totals"] == [
        {"number": 1, "plan_id": "cchc-2023", "total": 4, "done": 2, "not_done": 2},
        {"number": 2, "plan_id": "papi-2023", "total": 7, "done": 5, "not_done": 2},
        {"number": 3, "plan_id": "kl91-2023", "total": 1, "done": 1, "not_done": 0},
    ]
    assert read_json(raw) == snap
    # Plain pydantic works too once the derived counts are set aside.
    data.pop("totals")
    for a in data["appendices"]:
        for key in ("total", "done", "not_done"):
            a.pop(key)
    assert Snapshot.model_validate(data) == snap


def test_read_json_refuses_totals_that_disagree(snap: Snapshot) -> None:
    data = json.loads(export_json(snap))
    data["totals"][0]["done"] = 4
    with pytest.raises(ValueError, match="Phụ lục 1"):
        read_json(json.dumps(data))


def test_write_all(tmp_path: Path, snap: Snapshot) -> None:
    paths = write_all(snap, tmp_path / "vinh-thanh" / "2023-Q3")
    assert [p.name for p in paths] == [
        "phu-luc-1.docx",
        "phu-luc-2.docx",
        "phu-luc-3.docx",
        "phu-luc-1.xlsx",
        "phu-luc-2.xlsx",
        "phu-luc-3.xlsx",
        "snapshot.json",
    ]
    assert paths[1].read_bytes() == export_docx(snap, appendix(snap, 2))
    assert paths[-1].read_bytes() == export_json(snap)
    assert sorted(p.name for p in paths[0].parent.iterdir()) == sorted(p.name for p in paths)


def test_markup_and_control_characters_are_safe(snap: Snapshot) -> None:
    """Officers paste from Word/Zalo: &, <, > must be escaped, \\x0b and \\r\\n tamed."""
    odd = AppendixSnapshot(
        plan_id="cchc-2023",
        number=1,
        title="Kết quả <thử> & kiểm tra",
        layout="sections",
        groups=[
            SnapshotGroup(
                code="I",
                title="A & B",
                tasks=[task("1", "Giá trị < 5 & > 2\x0b\r\n- dòng hai", True, "<b>đậm</b>")],
            )
        ],
    )
    s = snap.model_copy(update={"appendices": [odd]})
    rows = grid(read_docx(s, 1).tables[1])
    assert rows[1][1]["paras"] == ["A & B"]
    assert rows[2][1]["paras"] == ["Giá trị < 5 & > 2", "- dòng hai"]
    assert rows[2][4]["paras"] == ["<b>đậm</b>"]
    ws = load_sheet(s, 1)
    assert ws.cell(find_row(ws, "1."), 2).value == "Giá trị < 5 & > 2\n- dòng hai"


def test_aware_taken_at_is_utc_in_properties(snap: Snapshot) -> None:
    hanoi = timezone(timedelta(hours=7))
    s = snap.model_copy(update={"taken_at": datetime(2023, 9, 14, 15, 30, tzinfo=hanoi)})
    for data in (export_docx(s, appendix(s, 1)), export_xlsx(s, appendix(s, 1))):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert "2023-09-14T08:30:00Z" in zf.read("docProps/core.xml").decode()
            assert {i.date_time for i in zf.infolist()} == {(2023, 9, 14, 15, 30, 0)}
