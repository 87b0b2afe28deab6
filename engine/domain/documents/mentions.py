"""Document references cited inside free text: a task's result, a hand-made report.

Why: the report's "Kết quả" column cites its documents in sentences ("Đã ban hành Kế hoạch số
223/KH-UBND ngày 06/3/2023 của UBND xã …"), and a reviewer checks every citation there, not
only the evidence field. Each citation is cut out and read by `parse_reference`, so it is held to
exactly the same rules; NĐ 30/2020 lets a later citation of the same document give only its
type, number and symbol, so such a repeat borrows the date of the first one; and officers often
put the date first ("Ngày 30/01/2023, UBND xã đã ban hành Quyết định số 18/QĐ-UBND"), so a
citation without a date of its own takes the one that opens its clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from engine.domain.documents.cleaning import unify
from engine.domain.documents.parser import parse_reference
from engine.domain.documents.ref import DocumentRef
from engine.domain.documents.symbols import parse_number_symbol
from engine.domain.documents.types import DOCUMENT_TYPES, fold_cached
from engine.errors import ValidationFailed
from vntext.text import fold

_NAMES = sorted(
    {t.name for t in DOCUMENT_TYPES} | {fold_cached(t.name) for t in DOCUMENT_TYPES},
    key=len,
    reverse=True,
)
_NAME_ALT = "|".join(re.escape(n) for n in _NAMES)

#: A number and symbol: legal (18/2017/NQ-…), administrative (223/KH-…, also with the typo
#: "223//KH"), party (91-KL/TU), or "số /KH-UBND" with the number forgotten. Brackets, quotes
#: and the asterisks of pasted emphasis end it.
_CANDIDATE = re.compile(
    r"(?:(?<![\w/.\-])(?:[0-9]+ ?/[0-9]{4}/(?=[^\W\d_])|[0-9]+ ?/+(?=[^\W\d_])"
    r"|[0-9]+-(?=[^\W\d_][^\s/]*/))|(?<!\w)s[ốo]\s*:?\s*/(?=[^\W\d_]))"
    r"[^\s,;()\[\]*\"'“”«»]*",
    re.I,
)
_BEFORE = re.compile(rf"(?:(?<!\w)(?:{_NAME_ALT})\s+)?(?:(?<!\w)s[ốo]\s*:?\s*)?$", re.I)
_DATE_AFTER = re.compile(
    r"[\s,]*(?:ban\s+h[àa]nh\s+)?(?:ng[àa]y\s*:?\s*(?:[0-9]+\s+th[áa]ng\s+[0-9]+\s*,?\s+"
    r"n[ăa]m\s+[0-9]+|[0-9]+(?:\s*[/.\-]+\s*[0-9]+){0,2})"
    r"|[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-][0-9]{4,})",
    re.I,
)
_OF = re.compile(r"[\s,]*c[ủu]a\s+", re.I)
#: Where an issuer named in running text most likely ends: punctuation, a number, or a
#: function word that does not occur in the names of bodies ("… Khánh Hòa đến 100% đảng viên").
_ISSUER_STOP = re.compile(
    r"[,;:()\n.]|\s(?=[0-9])|\s(?:về|v/v|và|theo|đã|đang|sẽ|để|nhằm|trong|tại|với|do|được|gồm"
    r"|kèm|ngày|đến|cho|thì|là|có|khi|sau|trước|từ|qua|nhưng|mà)(?=\s|$)",
    re.I,
)
_WORD = re.compile(r"\S+")
#: A clause ends at a line break, a semicolon or a full stop followed by a space.
_CLAUSE_END = re.compile(r"[\n;]|\.\s")
#: "Ngày 30/01/2023, UBND xã đã ban hành Quyết định số 18/QĐ-UBND …": the date comes first.
_LEADING_DATE = re.compile(
    r"(?<!\w)ng[àa]y\s*:?\s*(?P<date>[0-9]+\s+th[áa]ng\s+[0-9]+\s*,?\s+n[ăa]m\s+[0-9]+"
    r"|[0-9]+(?:\s*[/.\-]+\s*[0-9]+){2})",
    re.I,
)
#: Folded words that, just before a citation, make it the basis of an action, not its product.
_AS_BASIS = re.compile(r"\b(?:theo|can cu|thuc hien|trien khai|quan triet|tai)\W*$")
_LOOKBACK = 60
_MAX_ISSUER_WORDS = 12


@dataclass(frozen=True, slots=True)
class Mention:
    """One citation found in a text: either a checked `ref` or the `error` refusing it."""

    text: str  # the citation as written ("Kế hoạch số 223/KH-UBND ngày 06/3/2023")
    start: int  # offsets in the NFC form of the searched text
    end: int
    ref: DocumentRef | None
    error: ValidationFailed | None


def find_mentions(text: str, today: date, default_issuer: str | None = None) -> list[Mention]:
    """Every document citation in `text`, in order, each read with `parse_reference`."""
    text = unify(text)
    found: list[Mention] = []
    first_cited: dict[tuple[object, ...], DocumentRef] = {}
    stop = 0
    candidates = list(_CANDIDATE.finditer(text))
    for i, m in enumerate(candidates):
        if m.start() < stop:
            continue
        window_start = max(stop, m.start() - _LOOKBACK)
        before = _BEFORE.search(text, window_start, m.start())
        start = before.start() if before else m.start()
        limit = candidates[i + 1].start() if i + 1 < len(candidates) else len(text)
        token_end = m.start() + len(m.group().rstrip(".:!?"))  # a sentence's full stop
        end, dated = _extent(text, token_end, limit)
        fragment = text[start:end].strip()
        reading = fragment
        if not dated:
            leading = _leading_date(text, stop, start)
            if leading is not None:  # read as if written "<type> số <n/s> ngày <date> …"
                head = text[start:token_end].strip()
                reading = f"{head} ngày {leading}{text[token_end:end].rstrip()}"
                dated = True
        mention = _read(fragment, reading, start, end, dated, today, default_issuer, first_cited)
        found.append(mention)
        stop = end
    return found


def _extent(text: str, pos: int, limit: int) -> tuple[int, bool]:
    """Where a citation whose number and symbol end at `pos` ends; whether it has a date."""
    end, dated = pos, False
    date_m = _DATE_AFTER.match(text, end, limit)
    if date_m is not None:
        end, dated = date_m.end(), True
    of = _OF.match(text, end, limit)
    if of is not None:
        stop_m = _ISSUER_STOP.search(text, of.end(), limit)
        issuer_end = stop_m.start() if stop_m else limit
        words = list(_WORD.finditer(text, of.end(), issuer_end))[:_MAX_ISSUER_WORDS]
        if words:
            end = words[-1].end()
            if not dated:
                date_m = _DATE_AFTER.match(text, end, limit)
                if date_m is not None:
                    end, dated = date_m.end(), True
    return end, dated


def _leading_date(text: str, floor: int, start: int) -> str | None:
    """The date of "Ngày <date>, UBND xã đã ban hành <citation>": the last date earlier in
    the citation's own clause, unless the word just before cites the document as a basis (in
    "Ngày 05/4, xã họp theo Kế hoạch số 1/KH-UBND" the date is the meeting's, not the plan's)."""
    clause = floor
    for boundary in _CLAUSE_END.finditer(text, floor, start):
        clause = boundary.end()
    dates = list(_LEADING_DATE.finditer(text, clause, start))
    if not dates or _AS_BASIS.search(fold(text[max(dates[-1].end(), start - 20) : start])):
        return None
    return dates[-1].group("date")


def _identity(ref_type: str, number: int, symbol: str, year: int | None) -> tuple[object, ...]:
    return (ref_type, number, symbol.upper(), year)


def _read(
    fragment: str,
    reading: str,
    start: int,
    end: int,
    dated: bool,
    today: date,
    default_issuer: str | None,
    first_cited: dict[tuple[object, ...], DocumentRef],
) -> Mention:
    """Check one citation; `reading` is `fragment` with a date borrowed from its clause."""
    try:
        ref = parse_reference(reading, today=today, default_issuer=default_issuer)
    except ValidationFailed as error:
        if not dated:
            repeat = _repeat_of(fragment, first_cited)
            if repeat is not None:
                return Mention(fragment, start, end, repeat, None)
        return Mention(fragment, start, end, None, error)
    first_cited.setdefault(_identity(ref.type_code, ref.number, ref.symbol, ref.legal_year), ref)
    return Mention(fragment, start, end, ref, None)


def _repeat_of(
    fragment: str, first_cited: dict[tuple[object, ...], DocumentRef]
) -> DocumentRef | None:
    """The earlier, dated citation this date-less one repeats (NĐ 30: type, number, symbol)."""
    head = _OF.split(fragment, maxsplit=1)[0]
    try:
        ns = parse_number_symbol(head)
    except ValidationFailed:
        return None
    return first_cited.get(_identity(ns.doc_type.code, ns.number, ns.symbol, ns.legal_year))
