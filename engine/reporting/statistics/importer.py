"""Read Phụ lục 4 / Phụ lục 5 from the one-stop-shop system's spreadsheet export (.xlsx or .csv).

THE LAYOUT (docs/statistics.md has it with an example): one sheet (the first, or the one named
'Phụ lục 4' / 'Phụ lục 5'); a header row whose cells are exactly the column titles of
`tables.FIELD_COLUMNS` (Phụ lục 4) or `tables.PROCEDURE_COLUMNS` (Phụ lục 5), an optional 'STT'
first; one row per field / procedure; blank rows are skipped; an optional last row whose
'Lĩnh vực' (Phụ lục 4) or 'Thủ tục' (Phụ lục 5) starts with 'Tổng' is a totals row, checked
against the rows and not stored. Rows above the header (titles, the unit's name) are ignored.
Numbers may be written 1.134 or 1134. A .csv is UTF-8 (a BOM is fine), separated by commas,
semicolons or tabs.

Every problem names the file, the row as the spreadsheet shows it, the column letter and title.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from engine.reporting.statistics.numbers import parse_number
from engine.reporting.statistics.tables import (
    FIELD_COLUMNS,
    FIELD_NUMBERS,
    PROCEDURE_COLUMNS,
    FieldRow,
    Problem,
    ProcedureRow,
    field_totals,
    procedure_row_problems,
)
from engine.reporting.statistics.validate import field_problems
from vntext.text import fold, squash

_LAYOUTS = {4: FIELD_COLUMNS, 5: PROCEDURE_COLUMNS}
_NAME_COLUMN = {4: "field", 5: "name"}
_TEXT_COLUMNS = {"field", "name", "code"}
_STT = "stt"


@dataclass
class ImportedTable:
    table: int  # 4 or 5
    source: str
    fields: list[FieldRow] = field(default_factory=list)
    procedures: list[ProcedureRow] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _cells_csv(path: Path, raw: bytes) -> list[list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Refused(Problem(0, None, "", f"tệp phải lưu bằng mã UTF-8 (byte {exc.start})",
                               "file must be UTF-8", source=path.name)) from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    return [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _cells_xlsx(path: Path, raw: bytes) -> list[list[str]]:
    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # openpyxl raises several types for a file that is not a workbook
        raise _Refused(Problem(0, None, "", "không đọc được tệp .xlsx (tệp hỏng hoặc không "
                               "phải bảng tính Excel)", "not a readable .xlsx",
                               source=path.name)) from None
    names = {fold(n): n for n in wb.sheetnames}
    sheet = next((wb[names[k]] for k in ("phu luc 4", "phu luc 5") if k in names), wb.worksheets[0])
    rows: list[list[str]] = []
    for row in sheet.iter_rows(values_only=True):
        rows.append([_cell_text(v) for v in row])
    wb.close()
    return rows


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _header(rows: list[list[str]]) -> tuple[int, int, list[str | None]] | None:
    """(row index, table number, column key per cell) of the first row that is a header: the
    row naming the most columns of one layout (at least three)."""
    for i, row in enumerate(rows):
        folded = [fold(c) for c in row]
        best: tuple[int, int, list[str | None]] | None = None
        for table, layout in _LAYOUTS.items():
            titles = {fold(t): k for k, t in layout}
            keys = [_STT if c == _STT else titles.get(c) for c in folded]
            hits = len({k for k in keys if k not in (None, _STT)})
            if hits >= 3 and (best is None or hits > best[0]):
                best = (hits, table, keys)
        if best is not None:
            return i, best[1], best[2]
    return None


def read_table(path: Path) -> ImportedTable:
    """Parse `path`; the result's `problems` list says why rows were refused (empty: all read)."""
    raw = path.read_bytes()
    src = path.name
    try:
        rows = _cells_xlsx(path, raw) if path.suffix.lower() == ".xlsx" else _cells_csv(path, raw)
    except _Refused as refused:
        return ImportedTable(0, src, problems=[refused.problem])
    found = _header(rows)
    if found is None:
        expected = "; ".join(t for _, t in FIELD_COLUMNS)
        return ImportedTable(0, src, problems=[Problem(
            0, None, "", f"không tìm thấy dòng tiêu đề cột (Phụ lục 4 cần: STT; {expected})",
            "no header row found", source=src)])
    head, table, keys = found
    out = ImportedTable(table, src)
    layout = _LAYOUTS[table]
    for col, (key, cell) in enumerate(zip(keys, rows[head], strict=False), start=1):
        if key is None and cell.strip():
            out.problems.append(Problem(table, head + 1, "", f"cột '{squash(cell)}' không có "
                                        "trong mẫu nhập", "unknown column",
                                        f"{get_column_letter(col)} ({squash(cell)})", src))
    where = {k: i for i, k in enumerate(keys) if k is not None}
    for key, title in layout:
        if key not in where:
            out.problems.append(Problem(table, head + 1, key, "thiếu cột này trong dòng tiêu đề",
                                        "missing column", title, src))
    if out.problems:
        return out
    totals: tuple[int, dict[str, int]] | None = None
    for i in range(head + 1, len(rows)):
        line = i + 1
        cells = rows[i]
        if not any(c.strip() for c in cells):
            continue
        values, problems = _values(table, cells, where, line, src)
        name = squash(str(values.get(_NAME_COLUMN[table], "")))
        if fold(name).startswith("tong"):
            out.problems.extend(problems)
            totals = (line, {k: v for k, v in values.items() if isinstance(v, int)})
            continue
        if totals is not None:
            out.problems.append(Problem(table, line, "", "có dòng số liệu sau dòng tổng",
                                        "a row after the totals row", source=src))
        if problems:
            out.problems.extend(problems)
            continue
        try:
            if table == 4:
                out.fields.append(FieldRow.model_validate(values))
            else:
                out.procedures.append(ProcedureRow.model_validate(values))
        except ValidationError:
            out.problems.append(Problem(table, line, _NAME_COLUMN[table], "ô bắt buộc bị để "
                                        "trống", "required cell empty",
                                        dict(layout)[_NAME_COLUMN[table]], src))
            continue
        out.lines.append(line)
    if table == 5:
        for row, line in zip(out.procedures, out.lines, strict=True):
            out.problems.extend(_sourced(p, src, where) for p in procedure_row_problems(row, line))
    if table == 4:
        located = field_problems(out.fields, out.lines)
        out.problems.extend(_sourced(p, src, where) for p in located)
        if totals is not None:
            out.problems.extend(_totals_problems(out, totals, where))
    return out


def _sourced(p: Problem, src: str, where: dict[str, int]) -> Problem:
    letter = get_column_letter(where[p.column] + 1) if p.column in where else ""
    title = f"{letter} ({p.column_title})" if letter else p.column_title
    return Problem(p.table, p.row, p.column, p.message_vi, p.message_en, title, src)


def _values(table: int, cells: list[str], where: dict[str, int], line: int, src: str
            ) -> tuple[dict[str, str | int], list[Problem]]:
    values: dict[str, str | int] = {}
    problems: list[Problem] = []
    for key, title in _LAYOUTS[table]:
        i = where[key]
        cell = cells[i].strip() if i < len(cells) else ""
        label = f"{get_column_letter(i + 1)} ({title})"
        if key in _TEXT_COLUMNS:
            values[key] = squash(cell)
            continue
        if not cell:
            problems.append(Problem(table, line, key, "ô số liệu bị để trống (ghi 0 nếu không "
                                    "có)", "empty number cell", label, src))
            continue
        try:
            number = parse_number(cell)
        except ValueError as exc:
            problems.append(Problem(table, line, key, str(exc), "not a number", label, src))
            continue
        if number != number.to_integral_value():
            problems.append(Problem(table, line, key, f"'{cell}' phải là số nguyên",
                                    "not a whole number", label, src))
            continue
        values[key] = int(number)
    return values, problems


def _totals_problems(out: ImportedTable, totals: tuple[int, dict[str, int]],
                     where: dict[str, int]) -> list[Problem]:
    line, stated = totals
    rows = field_totals(out.fields)
    problems: list[Problem] = []
    for key in FIELD_NUMBERS:
        if key in stated and stated[key] != rows[key]:
            title = dict(FIELD_COLUMNS)[key]
            problems.append(Problem(4, line, key, f"dòng tổng ghi {stated[key]} nhưng cộng các "
                                    f"dòng được {rows[key]}", "totals row differs from rows",
                                    f"{get_column_letter(where[key] + 1)} ({title})",
                                    out.source))
    return problems
