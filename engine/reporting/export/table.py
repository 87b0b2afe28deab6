"""The appendix table as plain data: columns, rows, cells and their merges, before any file format.

Why a neutral grid: Phụ lục 1/3 (sections) and Phụ lục 2 (PAPI dimensions) differ only in how
rows and merges are laid out. Deciding that once here lets the .docx and .xlsx writers stay dumb
loops and guarantees both files show the same cells, the same merges and the same totals, which
are counted from the rows actually emitted (never typed in, never read from elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from engine.reporting.export import texts
from engine.reporting.export.page import TEXT_WIDTH_MM, Orientation, text_width_mm
from engine.reporting.snapshot.model import AppendixSnapshot, SnapshotGroup, SnapshotTask
from plans.schema import COLUMN_HEADERS

CellKind = Literal[
    "head", "stt", "text", "mark", "section_no", "section", "total_label", "total_num"
]
RowKind = Literal["head", "section", "task", "total"]

MARK = "x"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    width_mm: float  # the widths of a table add up to its page's text width (165 / 252 mm)


@dataclass(frozen=True, slots=True)
class Cell:
    """One grid position that is not hidden by a horizontal span.

    `rowspan > 1` starts a vertical merge; `continued` marks a position covered by a vertical
    merge from above (Word needs a <w:vMerge/> cell there, Excel a bordered empty cell).
    """

    col: int
    kind: CellKind
    lines: tuple[str, ...] = ()
    colspan: int = 1
    rowspan: int = 1
    continued: bool = False
    number: int | float | None = None  # the value an .xlsx stores (counts, ratios)


@dataclass(frozen=True, slots=True)
class Row:
    kind: RowKind
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Table:
    layout: Literal["sections", "dimensions"]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]  # rows[0] is the header row
    total: int
    done: int
    orientation: Orientation = "portrait"  # landscape when declared columns make it wide

    @property
    def not_done(self) -> int:
        return self.total - self.done


SECTION_COLUMNS = (
    Column("Stt", 12),
    Column("Nhiệm vụ", 62),
    Column("Đã thực hiện", 15),
    Column("Chưa thực hiện", 15),
    Column("Kết quả", 61),
)

DIMENSION_COLUMNS = (
    Column("STT", 11),
    Column("Nội dung", 20),
    Column("Nội dung thành phần", 22),
    Column("Nhiệm vụ", 42),
    Column("Đã thực hiện", 13),
    Column("Chưa thực hiện", 13),
    Column("Kết quả", 44),
)


def _head(columns: tuple[Column, ...]) -> Row:
    return Row("head", tuple(Cell(i, "head", (c.header,)) for i, c in enumerate(columns)))


def _marks(task: SnapshotTask, first: int) -> tuple[Cell, Cell]:
    done, todo = ((MARK,), ()) if task.done else ((), (MARK,))
    return Cell(first, "mark", done), Cell(first + 1, "mark", todo)


def _extra(task: SnapshotTask | None, first: int, keys: tuple[str, ...]) -> tuple[Cell, ...]:
    """The declared optional columns of a row, from column `first` on."""
    return tuple(Cell(first + i, "text", texts.lines(task.columns.get(k, "")) if task else ())
                 for i, k in enumerate(keys))


def _section_rows(group: SnapshotGroup, keys: tuple[str, ...] = ()) -> Iterator[Row]:
    k = len(keys)
    yield Row(
        "section",
        (
            Cell(0, "section_no", texts.lines(group.code)),
            Cell(1, "section", texts.lines(group.title or ""), colspan=4 + k),
        ),
    )
    for task in group.tasks:
        yield Row(
            "task",
            (
                Cell(0, "stt", (texts.task_number(task.code),)),
                Cell(1, "text", texts.lines(task.text)),
                *_extra(task, 2, keys),
                *_marks(task, 2 + k),
                Cell(4 + k, "text", texts.lines(task.result)),
            ),
        )
    for sub in group.groups:
        yield from _section_rows(sub, keys)


def _dimension_runs(dim: SnapshotGroup) -> list[tuple[SnapshotGroup | None, list[SnapshotTask]]]:
    """The dimension's tasks in print order, grouped by the sub-dimension cell they sit under."""
    runs: list[tuple[SnapshotGroup | None, list[SnapshotTask]]] = []
    if dim.tasks:
        runs.append((None, list(dim.tasks)))
    for sub in dim.groups:
        runs.append((sub, sub.all_tasks()))
    return runs


def _dimension_rows(dim: SnapshotGroup, keys: tuple[str, ...] = ()) -> Iterator[Row]:
    k = len(keys)
    runs = _dimension_runs(dim)
    height = sum(max(len(tasks), 1) for _, tasks in runs) or 1
    dim_cells = (
        Cell(0, "stt", texts.lines(dim.code), rowspan=height),
        Cell(1, "text", texts.lines(dim.title or ""), rowspan=height),
    )
    dim_cont = (Cell(0, "stt", continued=True), Cell(1, "text", continued=True))
    first_row = True
    if not runs:
        runs = [(None, [])]
    for sub, tasks in runs:
        label = texts.lines(texts.subgroup_label(sub.code, sub.title)) if sub else ()
        first_in_run = True
        slots: list[SnapshotTask | None] = list(tasks) if tasks else [None]
        for task in slots:
            sub_cell = (
                Cell(2, "text", label, rowspan=max(len(tasks), 1))
                if first_in_run
                else Cell(2, "text", continued=True)
            )
            body: tuple[Cell, ...]
            if task is None:  # a (sub-)dimension without tasks still shows its heading
                body = (Cell(3, "text"), *_extra(None, 4, keys), Cell(4 + k, "mark"),
                        Cell(5 + k, "mark"), Cell(6 + k, "text"))
            else:
                body = (
                    Cell(3, "text", texts.lines(task.text)),
                    *_extra(task, 4, keys),
                    *_marks(task, 4 + k),
                    Cell(6 + k, "text", texts.lines(task.result)),
                )
            yield Row("task", (*(dim_cells if first_row else dim_cont), sub_cell, *body))
            first_row = False
            first_in_run = False


def _count(rows: list[Row], done_col: int) -> tuple[int, int]:
    total = done = 0
    for row in rows:
        if row.kind != "task":
            continue
        marks = [c for c in row.cells if c.kind == "mark"]
        if not any(c.lines for c in marks):
            continue  # an empty heading row of a sub-dimension without tasks
        total += 1
        done += any(c.col == done_col and c.lines for c in marks)
    return total, done


def _totals_row(layout: str, ncols: int, label_col: int, total: int, done: int,
                done_col: int | None = None) -> Row:
    """'Tổng: 23 nhiệm vụ' | 15 | 08 under the task, done and not-done columns."""
    done_col = label_col + 1 if done_col is None else done_col
    cells = [Cell(i, "stt") for i in range(label_col)]
    cells.append(Cell(label_col, "total_label", (texts.total_label(layout, total),), number=total))
    cells.extend(Cell(i, "text") for i in range(label_col + 1, done_col))
    cells.append(Cell(done_col, "total_num", (texts.two_digits(done),), number=done))
    not_done = total - done
    cells.append(Cell(done_col + 1, "total_num", (texts.two_digits(not_done),), number=not_done))
    cells.extend(Cell(i, "text") for i in range(done_col + 2, ncols))
    return Row("total", tuple(cells))


#: The width a declared optional column gets when the page has room for it.
NATURAL_COLUMN_MM = 28.0


def _share(base: tuple[Column, ...], widen: tuple[int, ...], n: int) -> float:
    """Each declared column's width: half of the task text and result columns at most."""
    return min(NATURAL_COLUMN_MM, sum(base[i].width_mm for i in widen) * 0.5 / n)


def _with_columns(base: tuple[Column, ...], after: int, keys: tuple[str, ...],
                  widen: tuple[int, ...]) -> tuple[tuple[Column, ...], Orientation]:
    """`base` with the declared columns inserted after column `after`; their width is taken
    from the `widen` columns (task text, result) so the table keeps the page's text width.

    When the portrait page cannot give every declared column its natural width the table is
    wide: it goes on a landscape page, its base columns scaled to the wider text first."""
    if not keys:
        return base, "portrait"
    orientation: Orientation = "portrait"
    if _share(base, widen, len(keys)) < NATURAL_COLUMN_MM:
        orientation = "landscape"
        scale = text_width_mm(orientation) / TEXT_WIDTH_MM
        base = tuple(Column(c.header, c.width_mm * scale) for c in base)
    each = _share(base, widen, len(keys))
    take = each * len(keys) / len(widen)
    cols = [Column(c.header, c.width_mm - take) if i in widen else c
            for i, c in enumerate(base)]
    extra = [Column(COLUMN_HEADERS[k], each) for k in keys]
    return (*cols[:after + 1], *extra, *cols[after + 1:]), orientation


def build_table(appendix: AppendixSnapshot) -> Table:
    """Lay out an appendix as a grid with merges and a totals row computed from the rows."""
    columns: tuple[Column, ...]
    keys = tuple(appendix.columns)
    if appendix.layout == "sections":
        columns, orientation = _with_columns(SECTION_COLUMNS, 1, keys, (1, 4))
        label_col, done_col = 1, 2 + len(keys)
        body = [row for g in appendix.groups for row in _section_rows(g, keys)]
    else:
        columns, orientation = _with_columns(DIMENSION_COLUMNS, 3, keys, (3, 6))
        label_col, done_col = 3, 4 + len(keys)
        body = [row for g in appendix.groups for row in _dimension_rows(g, keys)]
    total, done = _count(body, done_col)
    totals = _totals_row(appendix.layout, len(columns), label_col, total, done, done_col)
    return Table(appendix.layout, columns, (_head(columns), *body, totals), total, done,
                 orientation)
