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


def parse_table(number: int, rows: list[list[str]]) -> ReadAppendix:
    """Turn table rows (cells already split) into tasks, sections and the printed totals."""
    out = ReadAppendix(number)
    if not rows:
        return out
    dims = any(len(r) >= 7 for r in rows)
    text_i, done_i, nd_i, res_i = (3, 4, 5, 6) if dims else (1, 2, 3, 4)
    subdim, n_in_sub = "", 0
    for raw in rows:
        cells = [clean(c) for c in raw] + [""] * 8
        first = cells[0]
        if first.upper() == "STT":
            continue
        if _TOTAL_WORD.match(cells[text_i]) or _TOTAL_WORD.match(cells[1]) or \
                _TOTAL_WORD.match(first):
            label = next(c for c in cells if _TOTAL_WORD.match(c))
            m = _TOTAL_N.search(label)
            out.totals = ReadTotals(label, int(m.group(1)) if m else None,
                                    _int(cells[done_i]), _int(cells[nd_i]))
            continue
        done = cells[done_i].lower() == "x"
        nd = cells[nd_i].lower() == "x"
        if dims and (m := _SUBDIM.match(cells[2])) and m.group(1) != subdim:
            subdim, n_in_sub = m.group(1), 0
        if _ROMAN.match(first) and not done and not nd:
            out.sections.append(f"{first} {cells[1]}".strip())
            continue
        continuation = not dims and not first and out.rows
        if continuation or (not done and not nd):
            if out.rows and (cells[text_i] or cells[res_i]):  # a cell split by a page break
                prev = out.rows[-1]
                prev.text = f"{prev.text} {cells[text_i]}".strip()
                prev.result = f"{prev.result} {cells[res_i]}".strip()
                prev.done, prev.not_done = prev.done or done, prev.not_done or nd
            continue
        if dims:
            n_in_sub += 1
            code = f"{subdim}.{n_in_sub}"
        else:
            m2 = _STT.match(first)
            code = m2.group(1) if m2 else first
        out.rows.append(ReadRow(code, cells[text_i], done, nd, cells[res_i]))
    return out


def read_text_report(text: str) -> list[ReadAppendix]:
    """The seed's format: 'Phụ lục N' lines, then tab-separated table rows."""
    out: list[ReadAppendix] = []
    number: int | None = None
    rows: list[list[str]] = []
    for line in text.splitlines():
        m = _APPENDIX.match(line)
        if m:
            if number is not None:
                out.append(parse_table(number, rows))
            number, rows = int(m.group(1)), []
            continue
        if number is not None and "\t" in line:
            rows.append(line.split("\t"))
    if number is not None:
        out.append(parse_table(number, rows))
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


def read_xlsx(path: Path) -> list[ReadAppendix]:
    from openpyxl import load_workbook

    wb = load_workbook(str(path), read_only=False)
    out: list[ReadAppendix] = []
    for ws in wb.worksheets:
        m = re.search(r"(\d+)", ws.title)
        rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
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
