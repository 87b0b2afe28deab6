"""Read appendix tables back from a report: the seed's text, a .docx or a .xlsx.

Why: a reviewer checks a report typed by hand (its totals line against its rows), and our own
tests read our exports back the same way a Phòng Nội vụ would, instead of trusting our writer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

_ROMAN = re.compile(r"^[IVXLC]+$")
_STT = re.compile(r"^(\d+)\.?$")
_SUBDIM = re.compile(r"^(\d+\.\d+)\.?(?:\s|$)")
_TAGS = re.compile(r"<[^>]+>")
_TOTAL_WORD = re.compile(r"^\s*Tổng(?: cộng)?\s*:", re.IGNORECASE)
_TOTAL_N = re.compile(r"(\d+)\s*nhiệm vụ")
_APPENDIX = re.compile(r"^\s*Phụ lục\s+(\d+)\s*$")


def clean(cell: object) -> str:
    text = "" if cell is None else str(cell)
    text = unicodedata.normalize("NFC", _TAGS.sub(" ", text))
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class ReadRow:
    code: str
    text: str
    done: bool
    not_done: bool
    result: str
    section: str = ""  # the section (I, II…) or the PAPI sub-dimension (1.1, 5.7) it sits in
    lines: list[int] = field(default_factory=list)  # 1-based source lines (text reports only)


@dataclass
class ReadTotals:
    label: str
    stated_total: int | None
    stated_done: int | None
    stated_not_done: int | None
    done_text: str = ""  # the cells as printed ("08"), for readers checking the layout
    not_done_text: str = ""


@dataclass
class ReadAppendix:
    number: int
    rows: list[ReadRow] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    totals: ReadTotals | None = None

    @property
    def done(self) -> int:
        return sum(1 for r in self.rows if r.done)

    @property
    def not_done(self) -> int:
        return sum(1 for r in self.rows if r.not_done)


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def parse_table(number: int, rows: list[list[str]],
                origins: list[int] | None = None) -> ReadAppendix:
    """Turn table rows (cells already split) into tasks, sections and the printed totals.

    `origins` gives each row's 1-based line in the source text, kept on the tasks so that a
    finding can say where in the report it stands.
    """
    if not rows:
        return ReadAppendix(number)
    reader = _TableReader(number, _columns(rows))
    for i, raw in enumerate(rows):
        reader.row([clean(c) for c in raw] + [""] * 8, origins[i] if origins is not None else None)
    return reader.out


@dataclass(frozen=True)
class _Columns:
    """Where the cells are: PAPI tables (`dims`) have dimension and sub-dimension columns."""

    dims: bool
    text: int
    done: int
    not_done: int
    result: int


def _columns(rows: list[list[str]]) -> _Columns:
    dims = any(len(r) >= 7 for r in rows)
    return _Columns(dims, *((3, 4, 5, 6) if dims else (1, 2, 3, 4)))


def _is_totals(cells: list[str], col: _Columns) -> bool:
    return any(_TOTAL_WORD.match(cells[i]) for i in (col.text, 1, 0))


def _totals(cells: list[str], col: _Columns) -> ReadTotals:
    label = next(c for c in cells if _TOTAL_WORD.match(c))
    m = _TOTAL_N.search(label)
    return ReadTotals(label, int(m.group(1)) if m else None, _int(cells[col.done]),
                      _int(cells[col.not_done]), cells[col.done], cells[col.not_done])


class _TableReader:
    """One appendix table read row by row: headers, totals, sections, tasks, split cells."""

    def __init__(self, number: int, col: _Columns) -> None:
        self.out = ReadAppendix(number)
        self.col = col
        self.section = ""
        self.subdim = ""
        self.n_in_sub = 0

    def row(self, cells: list[str], line: int | None) -> None:
        col, first = self.col, cells[0]
        if first.upper() == "STT":
            return
        if _is_totals(cells, col):
            self.out.totals = _totals(cells, col)
            return
        done = cells[col.done].lower() == "x"
        nd = cells[col.not_done].lower() == "x"
        if col.dims:
            self._subdimension(cells[2])
        if _ROMAN.match(first) and not done and not nd:
            self.section = first
            self.out.sections.append(f"{first} {cells[1]}".strip())
            return
        continuation = not col.dims and not first and self.out.rows
        if continuation or (not done and not nd):
            self._extend_previous(cells, done, nd, line)
            return
        self.out.rows.append(ReadRow(self._code(first), cells[col.text], done, nd,
                                     cells[col.result], self.subdim if col.dims else self.section,
                                     [line] if line is not None else []))

    def _subdimension(self, label: str) -> None:
        """A new PAPI sub-dimension starts its numbering; a label split by a page break joins."""
        m = _SUBDIM.match(label)
        if m and m.group(1) != self.subdim:
            self.subdim, self.n_in_sub = m.group(1), 0
            self.out.sections.append(label)
        elif label and not m and self.out.sections and not self.out.sections[-1].endswith(label):
            self.out.sections[-1] = f"{self.out.sections[-1]} {label}"

    def _extend_previous(self, cells: list[str], done: bool, nd: bool, line: int | None) -> None:
        """A cell split by a page break continues the previous task."""
        col = self.col
        if not self.out.rows or not (cells[col.text] or cells[col.result]):
            return
        prev = self.out.rows[-1]
        prev.text = f"{prev.text} {cells[col.text]}".strip()
        prev.result = f"{prev.result} {cells[col.result]}".strip()
        prev.done, prev.not_done = prev.done or done, prev.not_done or nd
        if line is not None:
            prev.lines.append(line)

    def _code(self, first: str) -> str:
        if self.col.dims:
            self.n_in_sub += 1
            return f"{self.subdim}.{self.n_in_sub}"
        m = _STT.match(first)
        return m.group(1) if m else first


@dataclass(frozen=True)
class TextRegion:
    """The lines of a text report from one 'Phụ lục N' heading to the next (1-based)."""

    number: int
    first: int
    last: int


def appendix_regions(text: str) -> list[TextRegion]:
    """Where each 'Phụ lục N' of a text report starts and ends; what precedes is the body."""
    heads = [(i, int(m.group(1))) for i, line in enumerate(text.splitlines(), start=1)
             if (m := _APPENDIX.match(line))]
    total = len(text.splitlines())
    return [TextRegion(n, line, heads[k + 1][0] - 1 if k + 1 < len(heads) else total)
            for k, (line, n) in enumerate(heads)]


def read_text_report(text: str) -> list[ReadAppendix]:
    """The seed's format: 'Phụ lục N' lines, then tab-separated table rows."""
    out: list[ReadAppendix] = []
    number: int | None = None
    rows: list[list[str]] = []
    origins: list[int] = []
    for i, line in enumerate(text.splitlines(), start=1):
        m = _APPENDIX.match(line)
        if m:
            if number is not None:
                out.append(parse_table(number, rows, origins))
            number, rows, origins = int(m.group(1)), [], []
            continue
        if number is not None and "\t" in line:
            rows.append(line.split("\t"))
            origins.append(i)
    if number is not None:
        out.append(parse_table(number, rows, origins))
    return [a for a in out if a.rows]


def read_docx(path: Path) -> list[ReadAppendix]:
    from docx import Document

    doc = Document(str(path))
    number = None
    for p in doc.paragraphs:
        m = _APPENDIX.match(p.text)
        if m:
            number = int(m.group(1))
            break
    out: list[ReadAppendix] = []
    for table in doc.tables:
        rows = [[c.text for c in row.cells] for row in table.rows]
        if rows and any(clean(c).upper() == "STT" for c in rows[0]):
            out.append(parse_table(number or len(out) + 1, rows))
    return out


_QUOTED = re.compile(r'"([^"]*)"|(0+)|(#+)|\\(.)|(.)')


def shown(value: object, number_format: str | None) -> str:
    """A cell as a spreadsheet shows it: 23 with format '"Tổng: "0" nhiệm vụ"' is
    'Tổng: 23 nhiệm vụ', 8 with '00' is '08'. Only the literal-and-zeros formats the
    exporter uses are rendered; anything else is the plain value."""
    if value is None:
        return ""
    if not isinstance(value, int) or isinstance(value, bool) or not number_format \
            or number_format == "General" or ";" in number_format:
        return str(value)
    parts: list[str] = []
    placed = False
    for m in _QUOTED.finditer(number_format):
        literal, zeros, hashes, escaped, other = m.groups()
        if literal is not None:
            parts.append(literal)
        elif zeros or hashes:
            parts.append("" if placed else f"{value:0{len(zeros or '')}d}" if zeros
                         else str(value))
            placed = True
        elif escaped is not None:
            parts.append(escaped)
        elif other is not None:
            if other in ".,%E":
                return str(value)  # a decimal, grouped or scientific format: not ours
            parts.append(other)
    return "".join(parts) if placed else str(value)


def read_xlsx(path: Path) -> list[ReadAppendix]:
    from openpyxl import load_workbook

    wb = load_workbook(str(path), read_only=False)
    out: list[ReadAppendix] = []
    for ws in wb.worksheets:
        m = re.search(r"(\d+)", ws.title)
        rows = [[shown(c.value, c.number_format) for c in r] for r in ws.iter_rows()]
        start = next((i for i, r in enumerate(rows) if r and clean(r[0]).upper() == "STT"),
                     None)
        if start is None:
            continue
        out.append(parse_table(int(m.group(1)) if m else len(out) + 1, rows[start:]))
    return out


def read_report(path: Path) -> list[ReadAppendix]:
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return read_docx(path)
    if suffix == ".xlsx":
        return read_xlsx(path)
    return read_text_report(path.read_text(encoding="utf-8"))
