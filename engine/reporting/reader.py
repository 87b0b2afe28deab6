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
    out = ReadAppendix(number)
    if not rows:
        return out
    dims = any(len(r) >= 7 for r in rows)
    text_i, done_i, nd_i, res_i = (3, 4, 5, 6) if dims else (1, 2, 3, 4)
    section, subdim, n_in_sub = "", "", 0
    for i, raw in enumerate(rows):
        line = origins[i] if origins is not None else None
        cells = [clean(c) for c in raw] + [""] * 8
        first = cells[0]
        if first.upper() == "STT":
            continue
        if _TOTAL_WORD.match(cells[text_i]) or _TOTAL_WORD.match(cells[1]) or \
                _TOTAL_WORD.match(first):
            label = next(c for c in cells if _TOTAL_WORD.match(c))
            m = _TOTAL_N.search(label)
            out.totals = ReadTotals(label, int(m.group(1)) if m else None,
                                    _int(cells[done_i]), _int(cells[nd_i]),
                                    cells[done_i], cells[nd_i])
            continue
        done = cells[done_i].lower() == "x"
        nd = cells[nd_i].lower() == "x"
        if dims and (m := _SUBDIM.match(cells[2])) and m.group(1) != subdim:
            subdim, n_in_sub = m.group(1), 0
            out.sections.append(cells[2])
        elif dims and cells[2] and not _SUBDIM.match(cells[2]) and out.sections \
                and not out.sections[-1].endswith(cells[2]):
            out.sections[-1] = f"{out.sections[-1]} {cells[2]}"  # a label split by a page break
        if _ROMAN.match(first) and not done and not nd:
            section = first
            out.sections.append(f"{first} {cells[1]}".strip())
            continue
        continuation = not dims and not first and out.rows
        if continuation or (not done and not nd):
            if out.rows and (cells[text_i] or cells[res_i]):  # a cell split by a page break
                prev = out.rows[-1]
                prev.text = f"{prev.text} {cells[text_i]}".strip()
                prev.result = f"{prev.result} {cells[res_i]}".strip()
                prev.done, prev.not_done = prev.done or done, prev.not_done or nd
                if line is not None:
                    prev.lines.append(line)
            continue
        if dims:
            n_in_sub += 1
            code = f"{subdim}.{n_in_sub}"
        else:
            m2 = _STT.match(first)
            code = m2.group(1) if m2 else first
        out.rows.append(ReadRow(code, cells[text_i], done, nd, cells[res_i],
                                subdim if dims else section,
                                [line] if line is not None else []))
    return out


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
