"""Phụ lục 4–6 as files: .docx in the NĐ 30/2020 layout and .xlsx through the same writers as
Phụ lục 1–3 (engine.reporting.export), and the sheet as canonical JSON with its hash.

Why through the shared writers: the header block, headings, period and attachment lines, page
setup, deterministic packaging and formula-proof cells are the appendices' own; only the grid
differs, so this module builds the grid (engine.reporting.export.table) and hands it over.
"""

from __future__ import annotations

from pathlib import Path

from engine.reporting.export import export_docx, export_xlsx
from engine.reporting.export.files import appendix_file_name, write_atomic
from engine.reporting.export.json_writer import canonical_json_bytes
from engine.reporting.export.table import Cell, CellKind, Column, Row, Table
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot
from engine.reporting.statistics.model import StatisticsSheet
from engine.reporting.statistics.numbers import format_number_vi
from engine.reporting.statistics.tables import FIELD_NUMBERS, FieldRow

# The appendix numbers of the statistics in the quarterly report (after the plans' 1–3).
FIELDS_APPENDIX, PROCEDURES_APPENDIX, INDICATORS_APPENDIX = 4, 5, 6
JSON_NAME = "thong-ke.json"
TITLES = {
    FIELDS_APPENDIX: "THỐNG KÊ TÌNH HÌNH TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH",
    PROCEDURES_APPENDIX: "THỐNG KÊ TÌNH HÌNH TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ TRỰC TUYẾN",
}

_FIELD_WIDTHS = (10.0, 29.0) + (12.6,) * 10
_FIELD_HEAD_3 = ("Số mới tiếp nhận trực tuyến", "Số kỳ trước chuyển qua",
                 "Số mới tiếp nhận (trực tiếp - bưu chính)", "Tổng số", "Trả đúng thời hạn",
                 "Trả quá hạn", "Tổng số", "Chưa đến hạn", "Quá hạn")
_PROCEDURE_COLUMNS = (
    Column("STT", 9), Column("Thủ tục", 52), Column("Mã thủ tục", 24), Column("Lĩnh vực", 20),
    Column("Mức độ", 12), Column("Tích hợp với cổng DVC QG", 16),
    Column("Số hồ sơ trực tuyến", 16), Column("Tổng số hồ sơ", 16))
_INDICATOR_WIDTHS = (14.0, 81.0, 22.0, 18.0, 30.0)


def _head(col: int, text: str, *, colspan: int = 1, rowspan: int = 1) -> Cell:
    return Cell(col, "head", (text,), colspan=colspan, rowspan=rowspan)


def _cont(*cols: int) -> tuple[Cell, ...]:
    return tuple(Cell(c, "head", continued=True) for c in cols)


def _num(col: int, value: int, kind: CellKind = "stt") -> Cell:
    return Cell(col, kind, (format_number_vi(value),), number=value)


def fields_table(rows: list[FieldRow]) -> Table:
    """Phụ lục 4: the seed's three header rows, one row per field, the 'Tổng cộng' row."""
    columns = tuple(Column("", w) for w in _FIELD_WIDTHS)
    head = (
        Row("head", (_head(0, "STT", rowspan=3), _head(1, "Lĩnh vực", rowspan=3),
                     _head(2, "Số hồ sơ nhận giải quyết", colspan=4),
                     _head(6, "Kết quả giải quyết", colspan=6))),
        Row("head", (*_cont(0, 1), _head(2, "Tổng số", rowspan=2),
                     _head(3, "Trong đó", colspan=3),
                     _head(6, "Số hồ sơ đã giải quyết", colspan=3),
                     _head(9, "Số hồ sơ đang giải quyết", colspan=3))),
        Row("head", (*_cont(0, 1, 2), *(_head(3 + i, t) for i, t in enumerate(_FIELD_HEAD_3)))),
    )
    body = [Row("task", (Cell(0, "stt", (str(i),)), Cell(1, "text", (r.field,)),
                         *(_num(2 + j, getattr(r, k)) for j, k in enumerate(FIELD_NUMBERS))))
            for i, r in enumerate(rows, start=1)]
    totals = {k: sum(getattr(r, k) for r in rows) for k in FIELD_NUMBERS}
    total_row = Row("total", (Cell(0, "stt"), Cell(1, "section", ("Tổng cộng",)),
                              *(_num(2 + j, totals[k], "section_no")
                                for j, k in enumerate(FIELD_NUMBERS))))
    return Table("sections", columns, (*head, *body, total_row), len(rows), 0)


def procedures_table(sheet: StatisticsSheet) -> Table:
    head = Row("head", tuple(_head(i, c.header) for i, c in enumerate(_PROCEDURE_COLUMNS)))
    body = [Row("task", (Cell(0, "stt", (str(i),)), Cell(1, "text", (p.name,)),
                         Cell(2, "stt", (p.code,)), Cell(3, "text", (p.field,)),
                         _num(4, p.level), _num(5, p.integrated), _num(6, p.online),
                         _num(7, p.total)))
            for i, p in enumerate(sheet.procedures, start=1)]
    return Table("sections", _PROCEDURE_COLUMNS, (head, *body), len(body), 0)


def indicators_table(sheet: StatisticsSheet) -> Table:
    """Phụ lục 6: STT | Chỉ tiêu thống kê | Kết quả thống kê (Đơn vị tính, Số liệu) | Ghi chú."""
    columns = tuple(Column("", w) for w in _INDICATOR_WIDTHS)
    head = (
        Row("head", (_head(0, "STT", rowspan=2), _head(1, "Chỉ tiêu thống kê", rowspan=2),
                     _head(2, "Kết quả thống kê", colspan=2), _head(4, "Ghi chú", rowspan=2))),
        Row("head", (*_cont(0, 1), _head(2, "Đơn vị tính"), _head(3, "Số liệu"), *_cont(4))),
    )
    body: list[Row] = []
    for r in sheet.indicators:
        bold = r.kind in ("group", "heading")
        value = float(r.value) if r.value is not None else None
        if value is not None and value.is_integer():
            value = int(value)
        body.append(Row("section" if bold else "task", (
            Cell(0, "section_no" if bold else "stt", (r.stt,) if r.stt else ()),
            Cell(1, "section" if bold else "text", (r.label,)),
            Cell(2, "stt", (r.unit,) if r.unit else ()),
            Cell(3, "stt", (r.text,) if r.text else (), number=value),
            Cell(4, "text", (r.note,) if r.note else ()))))
    return Table("sections", columns, (*head, *body), len(body), 0)


def carrier(sheet: StatisticsSheet) -> Snapshot:
    """What the shared writers print around a table (unit, period, time), from the sheet."""
    return Snapshot(unit=sheet.unit, period=sheet.period, period_label=sheet.period_label,
                    start=sheet.start, end=sheet.end, taken_at=sheet.taken_at,
                    frozen=sheet.frozen, appendices=[])


def pages(sheet: StatisticsSheet) -> list[tuple[AppendixSnapshot, Table]]:
    """(heading, table) of Phụ lục 4, 5 and 6."""
    def heading(number: int, title: str) -> AppendixSnapshot:
        return AppendixSnapshot(plan_id="thong-ke", number=number, title=title,
                                layout="sections", groups=[])

    return [
        (heading(FIELDS_APPENDIX, TITLES[FIELDS_APPENDIX]), fields_table(sheet.fields)),
        (heading(PROCEDURES_APPENDIX, TITLES[PROCEDURES_APPENDIX]), procedures_table(sheet)),
        (heading(INDICATORS_APPENDIX, sheet.indicator_set.title), indicators_table(sheet)),
    ]


def export_sheet_json(sheet: StatisticsSheet) -> bytes:
    data = sheet.model_dump(mode="json")
    data["field_totals"] = sheet.field_totals()
    return canonical_json_bytes(data)


def export_page(sheet: StatisticsSheet, number: int, fmt: str) -> bytes:
    """Phụ lục `number` (4, 5 or 6) as 'docx' or 'xlsx' bytes."""
    head, table = next((h, t) for h, t in pages(sheet) if h.number == number)
    writer = export_docx if fmt == "docx" else export_xlsx
    return writer(carrier(sheet), head, table)


def has_statistics(sheet: StatisticsSheet) -> bool:
    return bool(sheet.fields or sheet.procedures or any(
        r.kind == "input" and r.value is not None for r in sheet.indicators))


def write_statistics(sheet: StatisticsSheet, out_dir: Path) -> list[Path]:
    """phu-luc-4..6.docx, then .xlsx, then thong-ke.json into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    snap = carrier(sheet)
    both = pages(sheet)
    written = [write_atomic(out_dir / appendix_file_name(h.number, "docx"),
                            export_docx(snap, h, t)) for h, t in both]
    written += [write_atomic(out_dir / appendix_file_name(h.number, "xlsx"),
                             export_xlsx(snap, h, t)) for h, t in both]
    written.append(write_atomic(out_dir / JSON_NAME, export_sheet_json(sheet)))
    return written
