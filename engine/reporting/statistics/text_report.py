"""Read Phụ lục 4, 5 and 6 back from a text report (the seed's format: 'Phụ lục N' lines, then
tab-separated rows; a page break repeats the header and may split a cell over two lines).

Why: `cchc report check --against` reads a hand-made report the way a reviewer does; for the
statistics that means re-doing its ratios from its own rows and comparing its Phụ lục 6 with its
Phụ lục 4, which is where the seed's 98,5 % and 20,54 % show up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.reporting.reader import appendix_regions

_TAG = re.compile(r"</?i>")


@dataclass(frozen=True)
class TextRow:
    line: int  # 1-based line of the report where the row starts
    cells: tuple[str, ...]


def plain(cell: str) -> str:
    """A cell without the seed's <i> tags and with single spaces."""
    return " ".join(_TAG.sub("", cell).split())


def _rows(text: str, number: int) -> list[TextRow]:
    lines = text.splitlines()
    for region in appendix_regions(text):
        if region.number == number:
            return [TextRow(i, tuple(lines[i - 1].split("\t")))
                    for i in range(region.first, region.last + 1) if "\t" in lines[i - 1]]
    return []


def field_rows(text: str) -> list[TextRow]:
    """Phụ lục 4: [STT, Lĩnh vực, 10 numbers as printed], the 'Tổng cộng' row last."""
    return [TextRow(r.line, tuple(plain(c) for c in r.cells)) for r in _rows(text, 4)
            if len(r.cells) == 12 and (r.cells[0].strip().isdigit()
                                       or plain(r.cells[1]).startswith("Tổng"))]


def procedure_rows(text: str) -> list[TextRow]:
    """Phụ lục 5: [STT, Thủ tục, Mã, Lĩnh vực, Mức độ, Tích hợp, trực tuyến, tổng]; a name split
    by a page break is joined."""
    out: list[TextRow] = []
    for r in _rows(text, 5):
        cells = [plain(c) for c in r.cells]
        if len(cells) != 8 or cells[0] == "STT":
            continue
        if cells[0].isdigit():
            out.append(TextRow(r.line, tuple(cells)))
        elif cells[1] and out:
            last = out[-1]
            out[-1] = TextRow(last.line, (last.cells[0], plain(f"{last.cells[1]} {cells[1]}"),
                                          *last.cells[2:]))
    return out


def indicator_rows(text: str) -> list[TextRow]:
    """Phụ lục 6: [STT, Chỉ tiêu, Đơn vị tính, Số liệu, Ghi chú] per row, headers dropped, a label
    split by a page break joined."""
    out: list[TextRow] = []
    for r in _rows(text, 6):
        cells = [plain(c) for c in r.cells] + [""] * (5 - len(r.cells))
        if cells[0] == "STT" or cells[2] == "Đơn vị tính":
            continue
        if not cells[0] and not any(cells[2:]) and out and not cells[1].startswith(("-", "+")):
            last = out[-1]
            out[-1] = TextRow(last.line, (last.cells[0], f"{last.cells[1]} {cells[1]}",
                                          *last.cells[2:]))
            continue
        out.append(TextRow(r.line, tuple(cells[:5])))
    return out
