"""One appendix as a .docx in the NĐ 30/2020 layout: header block, headings, the table.

Why the body is written as WordprocessingML text rather than through python-docx objects: the
appendix table is hundreds of cells with vertical and horizontal merges, and python-docx's cell
API re-walks the whole grid on each access and merge (quadratic in rows). Writing the XML in one
pass from the neutral grid (engine.reporting.export.table) is linear, and the styles, page setup and
header it points to were made with python-docx once (engine.reporting.export.docx_base).
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

from engine.reporting.export import texts
from engine.reporting.export.docx_base import DOCUMENT_XML, STYLE_SPECS, docx_base, twips
from engine.reporting.export.package import CORE_XML, appendix_core_xml, write_zip
from engine.reporting.export.page import TEXT_WIDTH_MM, text_width_mm
from engine.reporting.export.table import Cell, Row, Table, build_table
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot

HEADER_LEFT_MM = 60.0  # unit name column of the header block; the national title gets the rest
TABLE_CELL_MARGIN_MM = 1.0
_BORDER = '<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
_NO_BORDER = '<w:{side} w:val="nil"/>'
_SIDES = ("top", "left", "bottom", "right", "insideH", "insideV")

# Which paragraph style a grid cell uses, by cell kind.
_CELL_STYLE = {
    "head": "cell_head",
    "section_no": "cell_head",
    "section": "cell_bold",
    "stt": "cell_center",
    "mark": "cell_center",
    "text": "cell",
    "total_label": "cell_bold",
    "total_num": "cell_head",
}


def _style(key: str) -> str:
    return docx_base().style_ids[key]


def _p(style: str, text: str = "", extra_ppr: str = "") -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{_style(style)}"/>{extra_ppr}</w:pPr>'
    if not text:
        return f"<w:p>{ppr}</w:p>"
    return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def _p_lines(style: str, lines: Iterable[str]) -> str:
    """One paragraph whose lines are separated by <w:br/> (the title keeps its breaks)."""
    runs = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines)
    return f'<w:p><w:pPr><w:pStyle w:val="{_style(style)}"/></w:pPr><w:r>{runs}</w:r></w:p>'


def _rule(cell_mm: float, rule_mm: float) -> str:
    """A centred horizontal rule of `rule_mm` under the line above (NĐ 30 'đường kẻ ngang')."""
    rule_mm = min(max(rule_mm, 10.0), cell_mm)
    indent = twips((cell_mm - rule_mm) / 2)
    ppr = (
        '<w:pBdr><w:bottom w:val="single" w:sz="6" w:space="1" w:color="000000"/></w:pBdr>'
        f'<w:ind w:left="{indent}" w:right="{indent}"/>'
    )
    return _p("rule", extra_ppr=ppr)


def _tbl_pr(width_mm: float, border: str, margin_mm: float, jc: str = "center") -> str:
    borders = "".join(border.format(side=s) for s in _SIDES)
    margin = twips(margin_mm)
    return (
        f'<w:tblPr><w:tblW w:w="{twips(width_mm)}" w:type="dxa"/><w:jc w:val="{jc}"/>'
        f"<w:tblBorders>{borders}</w:tblBorders>"
        '<w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:left w:w="{margin}" w:type="dxa"/>'
        f'<w:right w:w="{margin}" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" '
        'w:lastColumn="0" w:noHBand="1" w:noVBand="1"/></w:tblPr>'
    )


def _grid(widths: Iterable[int]) -> str:
    return "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>"


def _header_block(snapshot: Snapshot, width_mm: float = TEXT_WIDTH_MM) -> str:
    """The two-column, borderless NĐ 30 header: unit name left, national title right."""
    right_mm = width_mm - HEADER_LEFT_MM
    org1, org2 = texts.org_lines(snapshot.unit)
    org_size = STYLE_SPECS["org"].size
    motto_size = STYLE_SPECS["motto"].size
    left = (
        _p("org", org1)
        + _p("org", org2)
        + _rule(HEADER_LEFT_MM, 0.4 * texts.text_width_mm(org2, org_size))
    )
    right = (
        _p("nation", texts.NATION)
        + _p("motto", texts.MOTTO)
        + _rule(right_mm, texts.text_width_mm(texts.MOTTO, motto_size))
    )
    widths = (twips(HEADER_LEFT_MM), twips(width_mm) - twips(HEADER_LEFT_MM))
    cells = "".join(
        f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>{body}</w:tc>'
        for w, body in zip(widths, (left, right), strict=True)
    )
    return (
        "<w:tbl>"
        + _tbl_pr(width_mm, _NO_BORDER, 0)
        + _grid(widths)
        + f"<w:tr><w:trPr><w:cantSplit/></w:trPr>{cells}</w:tr></w:tbl>"
    )


def _col_widths(table: Table) -> list[int]:
    """Column widths in twips, the last absorbing rounding so they add up to the text width."""
    widths = [twips(c.width_mm) for c in table.columns]
    widths[-1] += twips(text_width_mm(table.orientation)) - sum(widths)
    return widths


def _cell(cell: Cell, widths: list[int]) -> str:
    width = sum(widths[cell.col : cell.col + cell.colspan])
    pr = f'<w:tcW w:w="{width}" w:type="dxa"/>'
    if cell.colspan > 1:
        pr += f'<w:gridSpan w:val="{cell.colspan}"/>'
    if cell.continued:
        pr += "<w:vMerge/>"
    elif cell.rowspan > 1:
        pr += '<w:vMerge w:val="restart"/>'
    pr += '<w:vAlign w:val="center"/>'
    style = _CELL_STYLE[cell.kind]
    if cell.continued or not cell.lines:
        body = _p(style)
    else:
        body = "".join(_p(style, line) for line in cell.lines)
    return f"<w:tc><w:tcPr>{pr}</w:tcPr>{body}</w:tc>"


def _row(row: Row, widths: list[int]) -> str:
    # Rows stay whole on a page where they fit; the header row repeats on every page.
    tr_pr = "<w:cantSplit/><w:tblHeader/>" if row.kind == "head" else "<w:cantSplit/>"
    cells = "".join(_cell(c, widths) for c in row.cells)
    return f"<w:tr><w:trPr>{tr_pr}</w:trPr>{cells}</w:tr>"


def _table(table: Table) -> str:
    widths = _col_widths(table)
    rows = "".join(_row(r, widths) for r in table.rows)
    return (
        "<w:tbl>"
        + _tbl_pr(text_width_mm(table.orientation), _BORDER, TABLE_CELL_MARGIN_MM)
        + _grid(widths)
        + rows
        + "</w:tbl>"
    )


def document_body(snapshot: Snapshot, appendix: AppendixSnapshot, table: Table | None = None
                  ) -> str:
    """The <w:body> content (without the section properties) of one appendix; `table` is the
    appendix's own grid (Phụ lục 4–6) instead of the task table built from its rows."""
    table = table or build_table(appendix)
    return "".join(
        (
            _header_block(snapshot, text_width_mm(table.orientation)),
            _p("appendix", texts.appendix_heading(appendix)),
            _p_lines("title", texts.title_lines(appendix)),
            _p("note", texts.period_line(snapshot)),
            _p("note", texts.attachment_line(snapshot)),
            _p("gap"),
            _table(table),
            _p("gap"),
        )
    )


def export_docx(snapshot: Snapshot, appendix: AppendixSnapshot, table: Table | None = None
                ) -> bytes:
    """The appendix as .docx bytes; the same snapshot always gives the same bytes. A wide
    table (Table.orientation) is written on a landscape page."""
    table = table or build_table(appendix)
    base = docx_base(table.orientation)
    body = document_body(snapshot, appendix, table).encode()
    document = base.document_head + body + base.document_tail
    core = appendix_core_xml(snapshot, appendix)
    return write_zip((*base.parts, (DOCUMENT_XML, document), (CORE_XML, core)), snapshot.taken_at)
