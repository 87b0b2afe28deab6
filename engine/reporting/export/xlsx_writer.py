"""One appendix as an .xlsx sheet: the same header lines, table and merges as the .docx.

Why a spreadsheet at all: the Phòng Nội vụ aggregates 3,321 units' appendices, and they do it in
Excel. So the counts are real numbers (the totals row is numbers, not formulas, so readers that do
not recalculate still see them) and the sheet prints on A4 portrait like the .docx. Styles are a
handful of NamedStyles built from cached Font/Border/Alignment objects, and merges are registered
in one go rather than through `merge_cells`, which rescans every earlier merge (quadratic).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from engine.reporting.export import texts
from engine.reporting.export.package import StampedZip, appendix_core_xml
from engine.reporting.export.page import (
    FONT,
    HEADER_DISTANCE_MM,
    MARGIN_BOTTOM_MM,
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    MARGIN_TOP_MM,
    MM_PER_INCH,
    TEXT_WIDTH_MM,
)
from engine.reporting.export.table import Cell, Table, build_table
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot

LINE_PT = {12: 15.75, 13: 17.25, 14: 18.75}  # row height per text line, by font size
HEADER_LEFT_COLS = {"sections": 2, "dimensions": 3}  # columns under the unit name


def excel_width(mm: float) -> float:
    """Column width in Excel character units for `mm` on paper at 100 % (7 px a unit + 5 px).

    Using the .docx widths keeps the sheet printing at about 100 % with fit-to-width, so 12 pt
    text stays 12 pt on paper instead of being shrunk to fit a wide screen layout.
    """
    return round((mm * 96 / MM_PER_INCH - 5) / 7, 2)


@dataclass(frozen=True, slots=True)
class _Spec:
    size: int
    bold: bool = False
    italic: bool = False
    horizontal: str = "center"
    border: bool = False
    number_format: str = "General"


_SPECS: dict[str, _Spec] = {
    "org": _Spec(13, bold=True),
    "nation": _Spec(12, bold=True),
    "motto": _Spec(13, bold=True),
    "appendix": _Spec(14, bold=True),
    "title": _Spec(14, bold=True),
    "note": _Spec(13, italic=True),
    "head": _Spec(12, bold=True, border=True),
    "section_no": _Spec(12, bold=True, border=True),
    "section": _Spec(12, bold=True, horizontal="left", border=True),
    "stt": _Spec(12, border=True),
    "mark": _Spec(12, border=True),
    "text": _Spec(12, horizontal="left", border=True),
    "total_label": _Spec(
        12, bold=True, horizontal="left", border=True, number_format='"Tổng: "0" nhiệm vụ"'
    ),
    "total_label_dimensions": _Spec(
        12, bold=True, horizontal="left", border=True, number_format='"Tổng cộng: "0" nhiệm vụ"'
    ),
    "total_num": _Spec(12, bold=True, border=True, number_format="00"),
}

_THIN = Side(style="thin", color="000000")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_NONE = Border()


def _distinct(specs: dict[str, _Spec]) -> tuple[dict[str, str], dict[str, _Spec]]:
    """Key -> style name, sharing one NamedStyle among keys that look the same.

    Registering a NamedStyle costs a few hundred microseconds (openpyxl hashes every part),
    so the sheet uses as few as it needs.
    """
    names: dict[str, str] = {}
    first: dict[_Spec, str] = {}
    for key, spec in specs.items():
        names[key] = first.setdefault(spec, f"cchc_{key}")
    return names, {name: specs[name.removeprefix("cchc_")] for name in first.values()}


_STYLE_NAME, _NAMED_SPECS = _distinct(_SPECS)


def _named(name: str, spec: _Spec) -> NamedStyle:
    return NamedStyle(
        name=name,
        font=Font(name=FONT, size=spec.size, bold=spec.bold, italic=spec.italic),
        alignment=Alignment(horizontal=spec.horizontal, vertical="center", wrap_text=True),
        border=_GRID if spec.border else _NONE,
        number_format=spec.number_format,
    )


def _register_styles(wb: Workbook) -> None:
    for name, spec in _NAMED_SPECS.items():
        wb.add_named_style(_named(name, spec))


def _cell_style(table: Table, cell: Cell) -> str:
    if cell.kind == "total_label" and table.layout == "dimensions":
        return _STYLE_NAME["total_label_dimensions"]
    return _STYLE_NAME[cell.kind]


def _lines_needed(lines: tuple[str, ...], width_chars: float) -> int:
    """Wrapped line count, a little pessimistic so that text is not clipped.

    Vietnamese text in 12 pt Times New Roman fits about 1.35 characters per Excel width unit
    (measured in LibreOffice with the metric-compatible Liberation Serif); 1.15 leaves room
    for word wrapping and wider capitals.
    """
    per_line = max(width_chars * 1.15 - 1, 3)
    return max(1, sum(max(1, math.ceil(len(line) / per_line)) for line in lines))


def _row_heights(table: Table, widths: list[float]) -> list[float]:
    """Explicit heights (pt): merged cells are never auto-fitted by spreadsheet programs."""
    line_pt, pad = LINE_PT[12], 4.0
    heights = [0.0] * len(table.rows)
    spans: list[tuple[int, int, float]] = []
    for i, row in enumerate(table.rows):
        for cell in row.cells:
            if cell.continued:
                continue
            width = sum(widths[cell.col : cell.col + cell.colspan])
            need = _lines_needed(cell.lines, width) * line_pt + pad
            if cell.rowspan > 1:
                spans.append((i, cell.rowspan, need))
            else:
                heights[i] = max(heights[i], need)
    for first, count, need in spans:
        have = sum(heights[first : first + count])
        if need > have:
            extra = (need - have) / count
            for j in range(first, first + count):
                heights[j] += extra
    return [round(h, 2) for h in heights]


def _print_setup(ws: Worksheet, head_row: int) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(
        left=MARGIN_LEFT_MM / MM_PER_INCH,
        right=MARGIN_RIGHT_MM / MM_PER_INCH,
        top=MARGIN_TOP_MM / MM_PER_INCH,
        bottom=MARGIN_BOTTOM_MM / MM_PER_INCH,
        header=HEADER_DISTANCE_MM / MM_PER_INCH,
        footer=HEADER_DISTANCE_MM / MM_PER_INCH,
    )
    ws.print_title_rows = f"{head_row}:{head_row}"
    # NĐ 30: page number centred at the top, not on the first page.
    ws.HeaderFooter.differentFirst = True
    ws.oddHeader.center.text = "&P"
    ws.oddHeader.center.font = f"{FONT},Regular"
    ws.oddHeader.center.size = 13


def _put(ws: Worksheet, row: int, col: int, value: object, style: str) -> None:
    ws.cell(row=row, column=col, value=value).style = style


def _heading(
    ws: Worksheet,
    snapshot: Snapshot,
    appendix: AppendixSnapshot,
    ncols: int,
    merges: list[CellRange],
) -> int:
    """Header block, 'Phụ lục N', title, period and attachment lines; returns the next row."""
    split = HEADER_LEFT_COLS[appendix.layout]
    org1, org2 = texts.org_lines(snapshot.unit)
    for r, (left, right, right_style) in enumerate(
        ((org1, texts.NATION, "nation"), (org2, texts.MOTTO, "motto")), start=1
    ):
        _put(ws, r, 1, left, _STYLE_NAME["org"])
        _put(ws, r, split + 1, right, _STYLE_NAME[right_style])
        merges.append(CellRange(min_col=1, min_row=r, max_col=split, max_row=r))
        merges.append(CellRange(min_col=split + 1, min_row=r, max_col=ncols, max_row=r))
        ws.row_dimensions[r].height = LINE_PT[13]
    ws.row_dimensions[3].height = 8
    r = 4
    centred: list[tuple[str, str, int]] = [("appendix", texts.appendix_heading(appendix), 14)]
    centred += [("title", line, 14) for line in texts.title_lines(appendix)]
    centred += [("note", texts.period_line(snapshot), 13)]
    centred += [("note", texts.attachment_line(snapshot), 13)]
    for style, text, size in centred:
        _put(ws, r, 1, text, _STYLE_NAME[style])
        merges.append(CellRange(min_col=1, min_row=r, max_col=ncols, max_row=r))
        wraps = math.ceil(texts.text_width_mm(text, size) / TEXT_WIDTH_MM)
        ws.row_dimensions[r].height = LINE_PT[size] * max(1, wraps)
        r += 1
    ws.row_dimensions[r].height = 8
    return r + 1


def _value(cell: Cell) -> object:
    if cell.number is not None:
        return cell.number
    return "\n".join(cell.lines) if cell.lines else None


def fill_sheet(ws: Worksheet, snapshot: Snapshot, appendix: AppendixSnapshot) -> None:
    table = build_table(appendix)
    ncols = len(table.columns)
    widths = [excel_width(c.width_mm) for c in table.columns]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    merges: list[CellRange] = []
    head_row = _heading(ws, snapshot, appendix, ncols, merges)
    heights = _row_heights(table, widths)
    for offset, row in enumerate(table.rows):
        r = head_row + offset
        ws.row_dimensions[r].height = heights[offset]
        for cell in row.cells:
            style = _cell_style(table, cell)
            col = cell.col + 1
            _put(ws, r, col, None if cell.continued else _value(cell), style)
            for covered in range(col + 1, col + cell.colspan):
                _put(ws, r, covered, None, style)
            if cell.colspan > 1 or cell.rowspan > 1:
                merges.append(
                    CellRange(
                        min_col=col,
                        min_row=r,
                        max_col=col + cell.colspan - 1,
                        max_row=r + cell.rowspan - 1,
                    )
                )
    # One set construction instead of n calls to merge_cells (each rescans all earlier ranges).
    # Covered positions were written above as bordered empty cells, which is what Excel stores.
    ws.merged_cells = MultiCellRange(merges)
    _print_setup(ws, head_row)


def export_xlsx(snapshot: Snapshot, appendix: AppendixSnapshot) -> bytes:
    """The appendix as .xlsx bytes (one sheet 'Phụ lục N'); same snapshot, same bytes."""
    wb = Workbook()
    _register_styles(wb)
    ws = wb.active
    assert ws is not None
    ws.title = texts.appendix_heading(appendix)
    fill_sheet(ws, snapshot, appendix)
    buf = io.BytesIO()
    # ExcelWriter is what Workbook.save runs, minus stamping "now" into the properties; the
    # StampedZip dates every entry taken_at and supplies our core.xml.
    archive = StampedZip(buf, snapshot.taken_at, appendix_core_xml(snapshot, appendix))
    ExcelWriter(wb, archive).save()
    return buf.getvalue()
