"""`parse_reference`: from what an officer typed to a checked `DocumentRef`, or a precise refusal.

Why strict and ordered: a task is marked done on the strength of this reference, so a date that
does not exist, a document from the future or a type that contradicts its symbol must stop the
officer with the exact reason instead of being "fixed" behind their back. Only the canonical
order is read (type, số, number/symbol, ngày, của issuer, then an optional "về …" subject), which
is the order NĐ 30/2020 uses for citing a document.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import NoReturn

from engine.domain.documents.cleaning import MAX_LENGTH, prepare
from engine.domain.documents.dates import (
    DateText,
    find_date,
    find_partial_date,
    to_date,
)
from engine.domain.documents.issuers import normalize_issuer
from engine.domain.documents.ref import DocumentRef
from engine.domain.documents.rejection import reject
from engine.domain.documents.symbols import NumberSymbol, read_head
from engine.domain.documents.types import Family
from vntext.dates import nd30_date

_CUA = re.compile(r"(?<!\w)c[ủu]a(?!\w)", re.I)
_SUBJECT = re.compile(r"(?<!\S)(?:về|v/v)(?!\S)", re.I)
_BEFORE_DATE = re.compile(r"[\s,]*(?:ban\s+h[àa]nh)?[\s,]*", re.I)
_DIGIT = re.compile(r"[0-9]")
_ISSUED_TAIL = re.compile(r"[\s,]*(?:ban\s+h[àa]nh)?[\s,]*$", re.I)


def parse_reference(text: str, *, today: date, default_issuer: str | None = None) -> DocumentRef:
    """Read one evidence reference ("Kế hoạch số 223/KH-UBND ngày 06/3/2023 của …").

    The issuer is the text after "của", else `default_issuer`. The date is required and must
    not be after `today`. Raises `ValidationFailed` (field "doc") with the reason otherwise.
    """
    return _parse(text, today, default_issuer)


@lru_cache(maxsize=1 << 15)
def _parse(text: str, today: date, default_issuer: str | None) -> DocumentRef:
    """The work of `parse_reference`, memoised: the same few hundred documents are cited by
    thousands of tasks, and a `DocumentRef` is immutable. Refusals are not cached."""
    clean = prepare(text)
    if not clean:
        reject(
            "Chưa ghi văn bản minh chứng (ví dụ: Kế hoạch số 223/KH-UBND ngày 06/3/2023)",
            "No evidence document given (e.g. Kế hoạch số 223/KH-UBND ngày 06/3/2023)",
            text,
        )
    if len(clean) > MAX_LENGTH:
        reject(
            f"Văn bản minh chứng quá dài ({len(clean)} ký tự, nhiều nhất {MAX_LENGTH}): chỉ ghi "
            "loại, số, ký hiệu, ngày và cơ quan ban hành",
            f"The evidence reference is too long ({len(clean)} characters, at most "
            f"{MAX_LENGTH}): give only type, number, symbol, date and issuer",
            text,
        )
    head, end = read_head(clean, value=text)
    found, issuer_text, subject = _tail(clean[end:], head, text)
    issued_on = to_date(found, value=text)
    if issued_on > today:
        reject(
            f"Ngày ban hành {nd30_date(issued_on)} sau ngày hôm nay ({nd30_date(today)}): "
            "không thể dùng văn bản chưa ban hành làm minh chứng",
            f"The issue date {nd30_date(issued_on)} is after today ({nd30_date(today)}): "
            "a document not yet issued cannot be evidence",
            text,
        )
    if head.legal_year is not None and head.legal_year != issued_on.year:
        reject(
            f"Năm trong số hiệu '{head.number_symbol}' ({head.legal_year}) khác năm ban hành "
            f"({issued_on.year}): số của văn bản quy phạm pháp luật mang năm ban hành",
            f"The year in the number '{head.number_symbol}' ({head.legal_year}) differs from "
            f"the year of issue ({issued_on.year})",
            text,
        )
    if issuer_text is not None:
        issuer = normalize_issuer(issuer_text)
        if issuer is None:
            _no_issuer(text)
    else:
        issuer = normalize_issuer(default_issuer)
    doc_type = head.doc_type
    return DocumentRef(
        type_code=doc_type.code,
        type_name=doc_type.name,
        family=doc_type.family,
        number=head.number,
        symbol=head.symbol,
        issued_on=issued_on,
        issuer=issuer,
        legal_year=head.legal_year if doc_type.family is Family.LEGAL else None,
        number_text=head.number_text,
        subject=subject,
    )


def _tail(rest: str, head: NumberSymbol, value: str) -> tuple[DateText, str | None, str | None]:
    """Date, issuer text (after "của") and subject ("về …") from what follows the symbol."""
    found = find_date(rest)
    cua = _CUA.search(rest)
    if found is not None and (cua is None or found.start < cua.start()):
        gap = _BEFORE_DATE.match(rest, 0, found.start)
        if gap is None or gap.end() != found.start:
            _junk(rest[: found.start], value)
        issuer, subject = _after_date(rest[found.end :], value)
        return found, issuer, subject
    if cua is not None:
        if rest[: cua.start()].strip(" ,"):
            _junk(rest[: cua.start()], value)
        region = rest[cua.end() :]
        found = find_date(region)
        if found is None:
            _no_date(rest, head, value)
        issuer = _ISSUED_TAIL.sub("", region[: found.start])
        marker = _SUBJECT.search(issuer)
        if marker is not None:
            _junk(issuer[marker.start() :], value)
        if not issuer.strip(" ,"):
            _no_issuer(value)
        return found, issuer, _subject(region[found.end :], value)
    _no_date(rest, head, value)


def _after_date(after: str, value: str) -> tuple[str | None, str | None]:
    after = after.lstrip(" ,")
    if not after:
        return None, None
    cua = _CUA.match(after)
    if cua is None:
        return None, _subject(after, value)
    region = after[cua.end() :]
    marker = _SUBJECT.search(region)
    if marker is None:
        issuer = region
        subject = None
    else:
        issuer, subject = region[: marker.start()], region[marker.start() :].strip()
    if not issuer.strip(" ,"):
        _no_issuer(value)
    _no_second_date(issuer, value)
    return issuer, subject


def _no_second_date(issuer: str, value: str) -> None:
    second = find_date(issuer) if _DIGIT.search(issuer) else None
    if second is not None:
        reject(
            f"Có hai ngày ban hành ('{second.raw}' nằm trong tên cơ quan ban hành "
            f"'{issuer.strip()}'): mỗi văn bản chỉ ghi một ngày",
            f"Two dates of issue ('{second.raw}' inside the issuer '{issuer.strip()}'): "
            "a document has one date",
            value,
        )


def _subject(text: str, value: str) -> str | None:
    text = text.strip(" ,")
    if not text:
        return None
    if _SUBJECT.match(text) is None:
        _junk(text, value)
    return text


def _junk(part: str, value: str) -> NoReturn:
    part = part.strip(" ,")
    reject(
        f"Không hiểu phần '{part}': ghi theo thứ tự loại văn bản, số và ký hiệu, ngày ban hành, "
        "'của' cơ quan ban hành, rồi trích yếu 'về…' (ví dụ: Kế hoạch số 223/KH-UBND ngày "
        "06/3/2023 của UBND xã Vĩnh Thạnh)",
        f"Unexpected text '{part}': write type, number and symbol, date of issue, 'của' "
        "issuer, then an optional 'về…' subject",
        value,
    )


def _no_date(rest: str, head: NumberSymbol, value: str) -> NoReturn:
    partial = find_partial_date(rest)
    if partial is not None:
        reject(
            f"Ngày ban hành '{partial}' chưa đủ ngày, tháng, năm (ví dụ: ngày 06/3/2023)",
            f"The date of issue '{partial}' lacks day, month or year (e.g. ngày 06/3/2023)",
            value,
        )
    reject(
        f"Thiếu ngày ban hành của {head}: văn bản dùng làm minh chứng phải ghi ngày ban hành "
        f"(ví dụ: {head} ngày 06/3/2023)",
        f"The date of issue of {head} is missing: evidence must give it "
        f"(e.g. {head} ngày 06/3/2023)",
        value,
    )


def _no_issuer(value: str) -> NoReturn:
    reject(
        "Thiếu tên cơ quan ban hành sau 'của' (ví dụ: của UBND thành phố Nha Trang)",
        "The issuing body is missing after 'của' (e.g. của UBND thành phố Nha Trang)",
        value,
    )
