"""The summary as .xlsx and .docx through the appendices' writers, and its sort orders.

One row per commune: STT, commune, status (đã chốt / chưa chốt), per plan 'done / not done',
overdue tasks, overdue sub-reports, on-time and online ratios; printed under the reviewing
body's own header, for the period.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from engine.clock import VN_TZ
from engine.reporting.export import export_docx, export_xlsx
from engine.reporting.export.json_writer import canonical_json_bytes
from engine.reporting.export.table import Cell, Column, Row, Table
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot, UnitHeader
from engine.reporting.summary.build import ProvinceSummary, Ratio, SummaryRow

TITLE = "TỔNG HỢP KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH HÀNH CHÍNH CỦA CÁC XÃ, PHƯỜNG"
SUMMARY_APPENDIX = 1  # the summary is the first appendix of the reviewing body's own report

_LOW = Decimal(-1)
SORTS: dict[str, Callable[[SummaryRow], Any]] = {
    "name": lambda r: r.name,
    "status": lambda r: (r.frozen, r.name),
    "done": lambda r: (r.done, r.name),
    "not_done": lambda r: (r.not_done, r.name),
    "overdue_tasks": lambda r: (r.overdue_tasks, r.name),
    "overdue_reports": lambda r: (r.overdue_reports, r.name),
    "on_time": lambda r: (r.on_time.value if r.on_time.value is not None else _LOW, r.name),
    "online": lambda r: (r.online.value if r.online.value is not None else _LOW, r.name),
}


def sorted_rows(summary: ProvinceSummary, key: str = "name", descending: bool = False
                ) -> list[SummaryRow]:
    return sorted(summary.rows, key=SORTS.get(key, SORTS["name"]), reverse=descending)


def _ratio_cell(col: int, ratio: Ratio) -> Cell:
    number = None if ratio.value is None else float(ratio.value)
    return Cell(col, "stt", (ratio.text,) if ratio.text else (), number=number)


def summary_table(summary: ProvinceSummary, rows: list[SummaryRow] | None = None) -> Table:
    plans = summary.plan_columns
    plan_w = 42 / max(len(plans), 1)
    columns = (Column("STT", 9), Column("Xã, phường", 34), Column("Trạng thái", 16),
               *(Column(f"Phụ lục {n} ({plan})", plan_w) for n, plan in plans),
               Column("Nhiệm vụ quá hạn", 16), Column("Báo cáo quá hạn", 16),
               Column("Tỷ lệ hồ sơ đúng hạn (%)", 16), Column("Tỷ lệ hồ sơ trực tuyến (%)", 16))
    last = 3 + len(plans)
    head = (
        Row("head", (Cell(0, "head", ("STT",), rowspan=2), Cell(1, "head", ("Xã, phường",),
                     rowspan=2), Cell(2, "head", ("Trạng thái số liệu",), rowspan=2),
                     Cell(3, "head", ("Nhiệm vụ đã / chưa thực hiện",), colspan=len(plans))
                     if plans else Cell(3, "head"),
                     *(Cell(last + i, "head", (c.header,), rowspan=2)
                       for i, c in enumerate(columns[last:])))),
        Row("head", (*(Cell(i, "head", continued=True) for i in range(3)),
                     *(Cell(3 + i, "head", (f"Phụ lục {n}",)) for i, (n, _) in enumerate(plans)),
                     *(Cell(last + i, "head", continued=True)
                       for i in range(len(columns) - last)))),
    )
    body: list[Row] = []
    for i, r in enumerate(rows if rows is not None else summary.rows, start=1):
        by_plan = {(p.appendix, p.plan): p for p in r.plans}
        cells = [Cell(0, "stt", (str(i),)), Cell(1, "text", (r.name,)),
                 Cell(2, "stt", (r.status,))]
        for j, key in enumerate(plans):
            p = by_plan.get(key)
            cells.append(Cell(3 + j, "stt", (f"{p.done} / {p.not_done}",) if p else ()))
        cells += [Cell(last, "stt", (str(r.overdue_tasks),), number=r.overdue_tasks),
                  Cell(last + 1, "stt", (str(r.overdue_reports),), number=r.overdue_reports),
                  _ratio_cell(last + 2, r.on_time), _ratio_cell(last + 3, r.online)]
        body.append(Row("task", tuple(cells)))
    return Table("sections", columns, (*head, *body), len(body), 0)


def _carrier(summary: ProvinceSummary) -> tuple[Snapshot, AppendixSnapshot]:
    b = summary.body
    p = summary.period
    snap = Snapshot(unit=UnitHeader(slug=b.slug, kind=b.kind, name=b.name),
                    period=p.code, period_label=p.label_vi, start=p.start, end=p.end,
                    taken_at=_noon(summary), appendices=[])
    head = AppendixSnapshot(plan_id="tong-hop", number=SUMMARY_APPENDIX, title=TITLE,
                            layout="sections", groups=[])
    return snap, head


def _noon(summary: ProvinceSummary) -> datetime:
    """The files' date: noon of the day the summary counts as of (same data, same bytes)."""
    return datetime.combine(summary.as_of, time(12), tzinfo=VN_TZ)


def summary_xlsx(summary: ProvinceSummary, rows: list[SummaryRow] | None = None) -> bytes:
    snap, head = _carrier(summary)
    return export_xlsx(snap, head, summary_table(summary, rows))


def summary_docx(summary: ProvinceSummary, rows: list[SummaryRow] | None = None) -> bytes:
    snap, head = _carrier(summary)
    return export_docx(snap, head, summary_table(summary, rows))


def summary_json(summary: ProvinceSummary) -> bytes:
    return canonical_json_bytes(summary.as_dict())
