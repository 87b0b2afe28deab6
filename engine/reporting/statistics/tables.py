"""Phụ lục 4 (dossiers per field) and Phụ lục 5 (online dossiers per procedure) as typed rows,
and the rules their numbers obey.

Why typed rows with their own checks: these figures come from the province's one-stop-shop
export or are typed from it, and the seed shows what hand work does to them. A row is accepted
only if its parts add up — received = online + carried over + direct, resolved = on time +
late, received = resolved + in progress, in progress = not yet due + overdue — and each refusal
names the row, the column and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from vntext.text import squash


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRow(_Row):
    """One lĩnh vực of Phụ lục 4."""

    field: str = Field(min_length=1)
    received: int
    online: int
    carried_over: int
    direct: int
    resolved: int
    on_time: int
    late: int
    pending: int
    not_yet_due: int
    overdue: int


class ProcedureRow(_Row):
    """One thủ tục of Phụ lục 5."""

    name: str = Field(min_length=1)
    code: str
    field: str
    level: int
    integrated: int
    online: int
    total: int


# Column keys in print order with their Vietnamese titles (the import layout's header row).
FIELD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("field", "Lĩnh vực"),
    ("received", "Tiếp nhận - Tổng số"),
    ("online", "Tiếp nhận - Trực tuyến"),
    ("carried_over", "Tiếp nhận - Kỳ trước chuyển qua"),
    ("direct", "Tiếp nhận - Trực tiếp/bưu chính"),
    ("resolved", "Đã giải quyết - Tổng số"),
    ("on_time", "Đã giải quyết - Đúng hạn"),
    ("late", "Đã giải quyết - Quá hạn"),
    ("pending", "Đang giải quyết - Tổng số"),
    ("not_yet_due", "Đang giải quyết - Chưa đến hạn"),
    ("overdue", "Đang giải quyết - Quá hạn"),
)
PROCEDURE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Thủ tục"),
    ("code", "Mã thủ tục"),
    ("field", "Lĩnh vực"),
    ("level", "Mức độ"),
    ("integrated", "Tích hợp DVC QG"),
    ("online", "Số hồ sơ trực tuyến"),
    ("total", "Tổng số hồ sơ"),
)
FIELD_NUMBERS = tuple(k for k, _ in FIELD_COLUMNS[1:])
COLUMN_TITLE = {4: dict(FIELD_COLUMNS), 5: dict(PROCEDURE_COLUMNS)}

# "016.07.044.3": ministry.field.procedure[.variant], as the national database numbers them.
PROCEDURE_CODE = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{3}(\.[0-9]+)?$")
LEVELS = (1, 2, 3, 4)

# The sums a Phụ lục 4 row must satisfy: total column = the part columns.
FIELD_SUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("received", ("online", "carried_over", "direct")),
    ("resolved", ("on_time", "late")),
    ("received", ("resolved", "pending")),
    ("pending", ("not_yet_due", "overdue")),
)


@dataclass(frozen=True)
class Problem:
    """A refused value: which appendix, which row (as the officer sees it), which column."""

    table: int  # 4, 5 or 6
    row: int | None  # the row in the file/sheet (1-based), or None for the whole table
    column: str  # a column key ("online") or an indicator code for Phụ lục 6
    message_vi: str
    message_en: str
    column_title: str = ""
    source: str = ""  # file name, when the problem comes from an imported file

    @property
    def label_vi(self) -> str:
        where = f"Phụ lục {self.table}"
        if self.source:
            where = f"{self.source}: {where}"
        if self.row is not None:
            where += f", dòng {self.row}"
        if self.column_title or self.column:
            where += f", cột '{self.column_title or self.column}'" if self.table != 6 else \
                f", chỉ tiêu {self.column}"
        return f"{where}: {self.message_vi}"

    def as_dict(self) -> dict[str, object]:
        return {"table": self.table, "row": self.row, "column": self.column,
                "column_title": self.column_title, "source": self.source,
                "message_vi": self.message_vi, "message_en": self.message_en}


def _title(table: int, column: str) -> str:
    return COLUMN_TITLE[table].get(column, column)


def field_row_problems(row: FieldRow, line: int | None) -> list[Problem]:
    out: list[Problem] = []
    for key in FIELD_NUMBERS:
        if getattr(row, key) < 0:
            out.append(Problem(4, line, key, f"số âm ({getattr(row, key)}) không hợp lệ",
                               "negative count", _title(4, key)))
    if out:
        return out
    for total, parts in FIELD_SUMS:
        got = sum(getattr(row, p) for p in parts)
        want = getattr(row, total)
        if got != want:
            terms = " + ".join(f"{_title(4, p)} ({getattr(row, p)})" for p in parts)
            out.append(Problem(
                4, line, total,
                f"{_title(4, total)} ghi {want} nhưng {terms} = {got}",
                f"{total} is {want} but {' + '.join(parts)} = {got}", _title(4, total)))
    return out


def procedure_row_problems(row: ProcedureRow, line: int | None) -> list[Problem]:
    out: list[Problem] = []

    def bad(key: str, vi: str, en: str) -> None:
        out.append(Problem(5, line, key, vi, en, _title(5, key)))

    if not PROCEDURE_CODE.match(row.code):
        bad("code", f"mã thủ tục '{row.code}' sai dạng (ví dụ đúng: 016.07.044.3)",
            "procedure code must look like 016.07.044.3")
    if row.level not in LEVELS:
        bad("level", f"mức độ {row.level} không có (chỉ 1, 2, 3 hoặc 4)", "level must be 1–4")
    if row.integrated not in (0, 1):
        bad("integrated", f"ghi {row.integrated}; chỉ được 0 (chưa) hoặc 1 (đã tích hợp)",
            "integrated must be 0 or 1")
    for key in ("online", "total"):
        if getattr(row, key) < 0:
            bad(key, f"số âm ({getattr(row, key)}) không hợp lệ", "negative count")
    if 0 <= row.total < row.online:
        bad("online", f"số hồ sơ trực tuyến ({row.online}) lớn hơn tổng số hồ sơ ({row.total})",
            "online exceeds total")
    return out


def field_totals(rows: list[FieldRow]) -> dict[str, int]:
    return {k: sum(getattr(r, k) for r in rows) for k in FIELD_NUMBERS}


def same_field(a: str, b: str) -> bool:
    return squash(a).casefold() == squash(b).casefold()
