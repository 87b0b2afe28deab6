"""One appendix as an .xlsx sheet: the same header lines, table and merges as the .docx.

Why a spreadsheet at all: the Phòng Nội vụ aggregates 3,321 units' appendices, and they do it in
Excel. So the counts are real numbers (the totals row is numbers, not formulas, so readers that do
not recalculate still see them) and the sheet prints on A4 portrait like the .docx.

Why the sheet XML is written here and not cell by cell through openpyxl: openpyxl builds a
workbook, registers its named styles, hashes a style per cell and writes a stylesheet for every
file — more than the cells themselves cost. The parts that do not depend on the cells (styles,
theme, workbook, properties, the sheet's columns and print setup) are made by openpyxl once per
kind of sheet (`_skeleton`, cached) and the rows and merges are written into that sheet in one
pass, exactly as openpyxl's writer (with lxml) would write them: the bytes are the ones the
cell-by-cell openpyxl writer gave (tests/test_export.py compares them).
"""

from __future__ import annotations

import functools
import io
import math
import os
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from engine.reporting.export import texts
from engine.reporting.export.cells import FORMULA_TRIGGERS, is_formula_like, put_cell
from engine.reporting.export.package import StampedZip, appendix_core_xml
from engine.reporting.export.page import (
    FONT,
    HEADER_DISTANCE_MM,
    MARGIN_BOTTOM_MM,
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    MARGIN_TOP_MM,
    MM_PER_INCH,
    Orientation,
    text_width_mm,
)
from engine.reporting.export.table import Cell, Table, build_table
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot

if TYPE_CHECKING:
    from _typeshed import SizedBuffer

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


@dataclass(frozen=True, slots=True)
class PrintSetup:
    head_row: int  # the sheet row of the table's first header row
    head_rows: int = 1  # how many header rows the table has (repeated on every page)
    orientation: Orientation = "portrait"


def _print_setup(ws: Worksheet, setup: PrintSetup) -> None:
    """A4 (landscape for a wide table), fit to one page wide, NĐ 30 margins, the table's
    header rows repeated on every printed page."""
    head_row, head_rows, orientation = setup.head_row, setup.head_rows, setup.orientation
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = (ws.ORIENTATION_LANDSCAPE if orientation == "landscape"
                                 else ws.ORIENTATION_PORTRAIT)
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
    ws.print_title_rows = f"{head_row}:{head_row + head_rows - 1}"
    # NĐ 30: page number centred at the top, not on the first page.
    ws.HeaderFooter.differentFirst = True
    ws.oddHeader.center.text = "&P"
    ws.oddHeader.center.font = f"{FONT},Regular"
    ws.oddHeader.center.size = 13


class _Sheet:
    """The cells (row, col, value, style key), row heights and merges of one sheet, in the
    order they are put; written out by `_sheet_data`."""

    __slots__ = ("cells", "heights", "merges")

    def __init__(self) -> None:
        self.cells: list[tuple[int, int, object, _StyleKey]] = []
        self.heights: dict[int, float] = {}
        self.merges: list[tuple[int, int, int, int]] = []  # min_row, min_col, max_row, max_col

    def put(self, row: int, col: int, value: object, style: str) -> None:
        # A text a spreadsheet program would read as a formula is stored as text (it always
        # is here) with the quote-prefix flag, so editing it keeps it text.
        self.cells.append((row, col, value, (style, is_formula_like(value))))

    def merge(self, min_row: int, min_col: int, max_row: int, max_col: int) -> None:
        self.merges.append((min_row, min_col, max_row, max_col))


def _heading(sheet: _Sheet, snapshot: Snapshot, appendix: AppendixSnapshot, ncols: int,
             width_mm: float) -> int:
    """Header block, 'Phụ lục N', title, period and attachment lines; returns the next row."""
    split = HEADER_LEFT_COLS[appendix.layout]
    org1, org2 = texts.org_lines(snapshot.unit)
    for r, (left, right, right_style) in enumerate(
        ((org1, texts.NATION, "nation"), (org2, texts.MOTTO, "motto")), start=1
    ):
        sheet.put(r, 1, left, _STYLE_NAME["org"])
        sheet.put(r, split + 1, right, _STYLE_NAME[right_style])
        sheet.merge(r, 1, r, split)
        sheet.merge(r, split + 1, r, ncols)
        sheet.heights[r] = LINE_PT[13]
    sheet.heights[3] = 8
    r = 4
    centred: list[tuple[str, str, int]] = [("appendix", texts.appendix_heading(appendix), 14)]
    centred += [("title", line, 14) for line in texts.title_lines(appendix)]
    centred += [("note", texts.period_line(snapshot), 13)]
    centred += [("note", texts.attachment_line(snapshot), 13)]
    for style, text, size in centred:
        sheet.put(r, 1, text, _STYLE_NAME[style])
        sheet.merge(r, 1, r, ncols)
        wraps = math.ceil(texts.text_width_mm(text, size) / width_mm)
        sheet.heights[r] = LINE_PT[size] * max(1, wraps)
        r += 1
    sheet.heights[r] = 8
    return r + 1


def _value(cell: Cell) -> object:
    if cell.number is not None:
        return cell.number
    return "\n".join(cell.lines) if cell.lines else None


def _fill(snapshot: Snapshot, appendix: AppendixSnapshot, table: Table | None = None
          ) -> tuple[_Sheet, list[float], PrintSetup]:
    """The sheet's cells, heights and merges; the column widths; the print setup."""
    table = table or build_table(appendix)
    ncols = len(table.columns)
    widths = [excel_width(c.width_mm) for c in table.columns]
    sheet = _Sheet()
    head_row = _heading(sheet, snapshot, appendix, ncols, text_width_mm(table.orientation))
    heights = _row_heights(table, widths)
    put = sheet.put
    for offset, row in enumerate(table.rows):
        r = head_row + offset
        sheet.heights[r] = heights[offset]
        for cell in row.cells:
            style = _cell_style(table, cell)
            col = cell.col + 1
            put(r, col, None if cell.continued else _value(cell), style)
            # Covered positions are bordered empty cells, which is what Excel stores.
            for covered in range(col + 1, col + cell.colspan):
                put(r, covered, None, style)
            if cell.colspan > 1 or cell.rowspan > 1:
                sheet.merge(r, col, r + cell.rowspan - 1, col + cell.colspan - 1)
    heads = next((i for i, row in enumerate(table.rows) if row.kind != "head"), len(table.rows))
    return sheet, widths, PrintSetup(head_row, max(heads, 1), table.orientation)


# ----------------------------------------------------------------------------- the parts

_StyleKey = tuple[str, bool]  # (named style, quote prefix)
_SHEET = "xl/worksheets/sheet1.xml"
_EMPTY_DIMENSION = b'<dimension ref="A1:A1"/>'
_EMPTY_DATA = b"<sheetData></sheetData>"


@dataclass(frozen=True, slots=True)
class _Skeleton:
    """Every part of the file but the sheet's rows, as openpyxl writes them, in its order."""

    parts: tuple[tuple[str, bytes], ...]
    sheet_head: bytes  # the sheet XML up to the dimension element
    sheet_middle: bytes  # between the dimension and the sheet data
    sheet_tail: bytes  # after the sheet data (and the merges, which go first in it)


class _Capture(zipfile.ZipFile):
    """Keeps what ExcelWriter writes, in order, instead of compressing it."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), "w")
        self.parts: list[tuple[str, bytes]] = []

    def writestr(self, zinfo_or_arcname: str | zipfile.ZipInfo, data: SizedBuffer | str,
                 compress_type: int | None = None, compresslevel: int | None = None) -> None:
        name = (zinfo_or_arcname.filename if isinstance(zinfo_or_arcname, zipfile.ZipInfo)
                else zinfo_or_arcname)
        self.parts.append((name, data.encode() if isinstance(data, str) else bytes(data)))

    def write(self, filename: str | os.PathLike[str], arcname: str | os.PathLike[str] | None = None,
              compress_type: int | None = None, compresslevel: int | None = None) -> None:
        with open(filename, "rb") as fh:
            self.writestr(os.fspath(arcname if arcname is not None else filename), fh.read())


@functools.lru_cache(maxsize=64)
def _skeleton(title: str, widths: tuple[float, ...], setup: PrintSetup,
              styles: tuple[_StyleKey, ...]) -> _Skeleton:
    """openpyxl's parts for a sheet titled `title` with these column widths, print titles and
    cell styles (in their order of first use, which numbers them), and no cells."""
    wb = Workbook()
    _register_styles(wb)
    ws = wb.active
    assert ws is not None
    ws.title = title
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for i, (style, quote) in enumerate(styles, start=1):
        # put_cell gives a formula-like text its quote prefix: a style of its own.
        cell = put_cell(ws, 1, i, FORMULA_TRIGGERS[0] if quote else None, style)
        _ = cell.style_id  # numbered now, in this order, as writing the cells would
    ws._cells.clear()  # the styles stay registered; the rows are written by us
    _print_setup(ws, setup)
    archive = _Capture()
    ExcelWriter(wb, archive).save()
    parts = tuple(archive.parts)
    sheet = dict(parts)[_SHEET]
    head, rest = sheet.split(_EMPTY_DIMENSION)
    middle, tail = rest.split(_EMPTY_DATA)
    return _Skeleton(parts, head, middle, tail)


def _text(value: str) -> bytes:
    """Element text as lxml serialises it in openpyxl's (ASCII) output."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value.encode("ascii", "xmlcharrefreplace")


@functools.lru_cache(maxsize=1024)
def _ref(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def _sheet_data(sheet: _Sheet, number: dict[_StyleKey, int]) -> tuple[bytes, str]:
    """The <sheetData> and <mergeCells> elements (openpyxl's markup), and the dimension."""
    by_row: dict[int, list[tuple[int, object, _StyleKey]]] = {}
    for row, col, value, style in sheet.cells:
        by_row.setdefault(row, []).append((col, value, style))
    out = [b"<sheetData>"]
    append = out.append
    max_col = 1
    for r in sorted(by_row.keys() | sheet.heights.keys()):
        height = sheet.heights.get(r)
        if height is None:
            append(f'<row r="{r}">'.encode())
        else:
            append(f'<row r="{r}" ht="{height:.16g}" customHeight="1">'.encode())
        for col, value, style in sorted(by_row.get(r, ()), key=lambda c: c[0]):
            max_col = max(max_col, col)
            head = f'<c r="{_ref(r, col)}" s="{number[style]}"'
            if value is None:
                append(f'{head} t="n"></c>'.encode())
            elif value == "":
                append(f'{head} t="inlineStr"></c>'.encode())
            elif isinstance(value, str):
                if ILLEGAL_CHARACTERS_RE.search(value):
                    raise IllegalCharacterError(f"{value!r} cannot be used in worksheets.")
                space = ' xml:space="preserve"' if value != value.strip() else ""
                append(f'{head} t="inlineStr"><is><t{space}>'.encode())
                append(_text(value))
                append(b"</t></is></c>")
            else:
                append(f'{head} t="n"><v>{value:.16g}</v></c>'.encode())
        append(b"</row>")
    append(b"</sheetData>")
    if sheet.merges:
        # openpyxl keeps merges in a set of ranges hashed as these tuples, built from a set
        # of them by its sequence descriptor: the same two steps give the same order.
        ranges = set(iter(set(sheet.merges)))
        append(f'<mergeCells count="{len(ranges)}">'.encode())
        for min_row, min_col, max_row, max_col_ in ranges:
            first, last = _ref(min_row, min_col), _ref(max_row, max_col_)
            ref = first if first == last else f"{first}:{last}"
            append(f'<mergeCell ref="{ref}"/>'.encode())
        append(b"</mergeCells>")
    rows = by_row.keys()
    cols = [c for row in by_row.values() for c, _, _ in row]
    dimension = (f"{get_column_letter(min(cols))}{min(rows)}:"
                 f"{get_column_letter(max(cols))}{max(rows)}") if rows else "A1:A1"
    return b"".join(out), dimension


def export_xlsx(snapshot: Snapshot, appendix: AppendixSnapshot, table: Table | None = None
                ) -> bytes:
    """The appendix as .xlsx bytes (one sheet 'Phụ lục N'); same snapshot, same bytes.
    `table`: the appendix's own grid (Phụ lục 4–6) instead of the task table of its rows."""
    sheet, widths, setup = _fill(snapshot, appendix, table)
    # Styles are numbered in the order cells are written (by row, then column): 0 is the
    # workbook's default, ours follow.
    number: dict[_StyleKey, int] = {}
    for _, _, _, style in sorted(sheet.cells, key=lambda c: (c[0], c[1])):
        if style not in number:
            number[style] = len(number) + 1
    skeleton = _skeleton(texts.appendix_heading(appendix), tuple(widths), setup,
                         tuple(number))
    data, dimension = _sheet_data(sheet, number)
    sheet_xml = b"".join((skeleton.sheet_head, f'<dimension ref="{dimension}"/>'.encode(),
                          skeleton.sheet_middle, data, skeleton.sheet_tail))
    buf = io.BytesIO()
    # The StampedZip dates every entry taken_at and supplies our core.xml.
    with StampedZip(buf, snapshot.taken_at, appendix_core_xml(snapshot, appendix)) as archive:
        for name, part in skeleton.parts:
            archive.writestr(name, sheet_xml if name == _SHEET else part)
    return buf.getvalue()
