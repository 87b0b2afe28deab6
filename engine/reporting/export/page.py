"""The NĐ 30/2020 page every appendix is printed on, shared by the .docx and .xlsx writers.

Why one place: Nghị định 30/2020/NĐ-CP fixes paper, margins and typeface for administrative
documents; both formats must agree (the .xlsx column widths are derived from the .docx ones so
that a sheet prints at about 100 % on the same text width).
"""

from __future__ import annotations

from typing import Literal

FONT = "Times New Roman"
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297  # A4 portrait
MARGIN_TOP_MM, MARGIN_BOTTOM_MM, MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 20, 20, 30, 15
HEADER_DISTANCE_MM = 10  # page numbers sit in the top margin
TEXT_WIDTH_MM = PAGE_WIDTH_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM  # 165
# A wide table (a plan declaring many optional columns) is printed on A4 turned sideways, same
# margins (the binding edge stays left).
LANDSCAPE_TEXT_WIDTH_MM = PAGE_HEIGHT_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM  # 252
Orientation = Literal["portrait", "landscape"]
MM_PER_INCH = 25.4


def text_width_mm(orientation: Orientation) -> float:
    """The width a table and the header block span on a page of `orientation`."""
    return LANDSCAPE_TEXT_WIDTH_MM if orientation == "landscape" else TEXT_WIDTH_MM
