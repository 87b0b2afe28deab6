"""Spreadsheet cells that can never become formulas (OWASP "CSV injection").

Why: results and notes are typed by officers and printed verbatim into the appendix .xlsx. A
text such as `=HYPERLINK("http://…","Bấm vào đây")` or `=WEBSERVICE(…)` would otherwise be
stored as a live formula (openpyxl turns any string starting with `=` into one) and be run on
the Phòng Nội vụ's machine — and it would stay in the frozen quarter. Every .xlsx writer puts
its values through `put_cell`: strings are always stored as text, and a text that starts with
one of the characters spreadsheet programs read as the start of a formula (`=`, `+`, `-`, `@`,
tab, carriage return) also gets the "quote prefix" flag, so editing the cell in Excel or
LibreOffice keeps it text. Numbers (negative ones too) stay numbers.
"""

from __future__ import annotations

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

#: First characters a spreadsheet program takes as the start of a formula or a command.
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    """True for a string a spreadsheet program would read as a formula if typed in."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def put_cell(ws: Worksheet, row: int, col: int, value: object, style: str | None = None) -> Cell:
    """Write `value` at (row, col) as data, never as a formula, with the named `style`."""
    cell = ws.cell(row=row, column=col)
    if style is not None:
        cell.style = style  # before the quote prefix: a named style resets the cell's flags
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl made it "f" when it starts with "="
        if is_formula_like(value):
            cell.quotePrefix = True
        return cell
    cell.value = value
    return cell


__all__ = ["FORMULA_TRIGGERS", "is_formula_like", "put_cell"]
