"""The words printed around the appendix table, spelled as Nghị định 30/2020 and the seed do.

Why one module: the .docx and .xlsx exporters must print byte-for-byte the same header lines,
period line and attachment line; keeping the wording (and the NĐ 30 date padding) here means the
two formats cannot drift apart.
"""

from __future__ import annotations

import re

from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot, UnitHeader
from vntext.dates import nd30_date

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập – Tự do – Hạnh phúc"
ORG_KIND = "ỦY BAN NHÂN DÂN"

# XML 1.0 refuses C0 controls other than tab/newline/CR; Word and Zalo pastes carry \x0b, \x0c.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEWLINES = re.compile(r"\r\n?|\u2028|\u2029")


def clean(text: str) -> str:
    """Drop characters that cannot live in OOXML; normalise line ends to \\n."""
    return _ILLEGAL.sub("", _NEWLINES.sub("\n", text))


def lines(text: str) -> tuple[str, ...]:
    """A cell's text as paragraphs: one per non-blank line ("- …", "+ …" items included)."""
    return tuple(s for s in (part.strip() for part in clean(text).split("\n")) if s)


def two_digits(n: int) -> str:
    """Counts in the totals row: '08', '15', '123'."""
    return f"{n:02d}"


def upper_vi(text: str) -> str:
    """Capitals for titles; str.upper handles đ→Đ and the composed tone marks."""
    return text.upper()


def org_lines(unit: UnitHeader) -> tuple[str, str]:
    """Left header block: 'ỦY BAN NHÂN DÂN' / 'XÃ VĨNH THẠNH'."""
    return ORG_KIND, upper_vi(clean(unit.display).strip())


def appendix_heading(appendix: AppendixSnapshot) -> str:
    return f"Phụ lục {appendix.number}"


def title_lines(appendix: AppendixSnapshot) -> tuple[str, ...]:
    """The appendix title in capitals, its line breaks kept."""
    return tuple(upper_vi(line) for line in lines(appendix.title))


def period_line(snapshot: Snapshot) -> str:
    """'(Kỳ báo cáo: Từ ngày 14/6/2023 đến 13/9/2023)'."""
    return f"(Kỳ báo cáo: Từ ngày {nd30_date(snapshot.start)} đến {nd30_date(snapshot.end)})"


def attachment_line(snapshot: Snapshot) -> str:
    """'(Đính kèm Báo cáo cải cách hành chính Quý III năm 2023 của UBND xã Vĩnh Thạnh)'."""
    label = clean(snapshot.period_label).strip()
    unit = clean(snapshot.unit.display).strip()
    return f"(Đính kèm Báo cáo cải cách hành chính {label} của UBND {unit})"


def total_label(layout: str, total: int) -> str:
    """'Tổng: 23 nhiệm vụ' (sections) or 'Tổng cộng: 54 nhiệm vụ' (PAPI), as in the seed."""
    word = "Tổng cộng" if layout == "dimensions" else "Tổng"
    return f"{word}: {total} nhiệm vụ"


# Rough Times New Roman advance widths in em: enough to size rules and heading rows.
_EM_UPPER, _EM_LOWER, _EM_SPACE, _PT_MM = 0.72, 0.5, 0.25, 25.4 / 72


def text_width_mm(text: str, size_pt: float) -> float:
    """Estimated printed width of one line of `text` (bold capitals are the widest case)."""
    ems = sum(_EM_SPACE if c.isspace() else _EM_UPPER if c.isupper() else _EM_LOWER for c in text)
    return ems * size_pt * _PT_MM


def task_number(code: str) -> str:
    """Stt of a task row: '1' → '1.'."""
    code = code.strip()
    return code if code.endswith(".") else f"{code}."


def subgroup_label(code: str, title: str | None) -> str:
    """'1.1. Tri thức công dân', or just '5.1' when the sub-dimension has no title."""
    code = code.strip()
    if not title or not title.strip():
        return code
    sep = " " if code.endswith(".") else ". "
    return f"{code}{sep}{clean(title).strip()}"
