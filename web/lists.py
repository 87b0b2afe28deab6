"""Lists as the provincial systems show them: pages of rows numbered STT, and "Xuất Excel" of
the whole list (every row the filters keep, not only the page shown).

One place for every list page (tasks, who is behind, the province's communes, people, the
reminder log): a route builds its rows, then

    page = lists.paginate(rows, page_number)          # ?trang=N, 25 rows a page
    if lists.wants_xlsx(request):                      # ?xuat=xlsx
        return lists.xlsx_response("Nhiệm vụ", COLUMNS, [[...] for r in rows], "nhiem-vu")

and the template uses the `pager(page)` and `export_link()` macros of `_macros.html`, with
`page.stt(loop.index0)` in the STT column. The query string is kept in every link
(`page_url(request, trang=N)`), so paging never loses the filters.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from engine.reporting import put_cell
from vntext.dates import format_date_vi
from web.downloads import content_disposition

T = TypeVar("T")

#: Rows per page of every list.
PAGE_SIZE = 25
#: Query parameters (Vietnamese, as officers see them in the address bar).
PAGE_PARAM = "trang"
EXPORT_PARAM = "xuat"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, its number (from 1) and the size of the whole list."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The STT of the first row on this page (1 on page 1)."""
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    def stt(self, index0: int) -> int:
        """The STT of the row at `index0` on this page."""
        return self.first + index0

    @property
    def numbers(self) -> list[int | None]:
        """Page numbers to link, None for a gap: 1 … 4 5 6 … 12."""
        wanted = {1, self.pages, self.number - 1, self.number, self.number + 1}
        shown = sorted(n for n in wanted if 1 <= n <= self.pages)
        out: list[int | None] = []
        prev = 0
        for n in shown:
            if prev and n - prev > 1:
                out.append(None)
            out.append(n)
            prev = n
        return out


def paginate(items: Sequence[T], number: int | str | None, size: int = PAGE_SIZE) -> Page[T]:
    """The page `number` (a wrong or too large number shows the nearest page)."""
    try:
        n = int(number or 1)
    except (TypeError, ValueError):
        n = 1
    pages = max(1, -(-len(items) // size))
    n = min(max(n, 1), pages)
    return Page(list(items[(n - 1) * size:n * size]), n, size, len(items))


def page_url(request: Request, **changes: object) -> str:
    """This page's address with some query parameters changed (None drops one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


def wants_xlsx(request: Request) -> bool:
    return request.query_params.get(EXPORT_PARAM) == "xlsx"


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return format_date_vi(value)
    return "" if value is None else value


def xlsx_bytes(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """A one-sheet workbook: a bold header row with "STT" first, then the rows numbered."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    header = ["STT", *columns]
    for j, h in enumerate(header, start=1):
        cell = put_cell(ws, 1, j, h)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [len(h) for h in header]
    for i, row in enumerate(rows, start=1):
        values = [i, *(_cell(v) for v in row)]
        for j, v in enumerate(values):
            put_cell(ws, i + 1, j + 1, v)  # typed text never becomes a formula
            widths[j] = max(widths[j], min(60, len(str(v))))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w + 2
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
                  filename: str) -> Response:
    """"Xuất Excel" of a list: `filename` without extension (e.g. "nhiem-vu_vinh-thanh")."""
    return Response(xlsx_bytes(title, columns, rows), media_type=XLSX,
                    headers={"Content-Disposition": content_disposition(f"{filename}.xlsx")})


__all__ = [
    "EXPORT_PARAM",
    "PAGE_PARAM",
    "PAGE_SIZE",
    "Page",
    "page_url",
    "paginate",
    "wants_xlsx",
    "xlsx_bytes",
    "xlsx_response",
]
