"""A checked reference to one official document, and the three ways we write it back.

Why three: `render()` is what the quarterly report prints (NĐ 30/2020 style, issuer omitted when
it is the unit itself); `canonical` is a stable full form that parses back to an equal value; `key`
is what makes two references the same document in the register (the number restarts every year,
or every party term, for each issuer and symbol).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from engine.domain.documents.issuers import issuer_key, normalize_issuer
from engine.domain.documents.terms import party_term
from engine.domain.documents.types import DocType, Family, get_type
from vntext.dates import format_date_vi, nd30_date


class DocumentKey(NamedTuple):
    """Uniqueness of a document in a unit's register (matches the `documents` table)."""

    issuer: str  # folded issuer, "" when unknown
    period: str  # "2023", or the party term "2020-2025"
    number: int
    symbol: str  # upper-cased symbol ("KH-UBND", "KL/TU"; legal: "2017/NQ-HĐND")


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """One document: type, number, symbol, date and issuer. Build it with `parse_reference`."""

    type_code: str  # "KH", "QĐ", "KL"; "CV" for an administrative Công văn (never rendered)
    type_name: str  # "Kế hoạch"
    family: Family
    number: int
    symbol: str  # "KH-UBND", "UBND-VP", "NQ-HĐND", "KL/TU" (without number and year)
    issued_on: date
    issuer: str | None = None  # normalised ("UBND thành phố Nha Trang")
    legal_year: int | None = None  # the year inside a legal number ("18/2017/NQ-HĐND")
    number_text: str = field(default="", compare=False)  # as typed ("5", "05")
    subject: str | None = field(default=None, compare=False)  # "về việc …", when typed

    @classmethod
    def build(
        cls,
        doc_type: DocType,
        number: int,
        organ: str,
        issued_on: date,
        issuer: str | None = None,
    ) -> DocumentRef:
        """A reference from its parts: `organ` is the symbol without the type ("UBND-VP", "TU")."""
        if doc_type.family is Family.PARTY:
            symbol = f"{doc_type.code}/{organ}"
        elif doc_type.abbreviated:
            symbol = f"{doc_type.code}-{organ}"
        else:
            symbol = organ
        return cls(
            type_code=doc_type.code,
            type_name=doc_type.name,
            family=doc_type.family,
            number=number,
            symbol=symbol,
            issued_on=issued_on,
            issuer=normalize_issuer(issuer),
            legal_year=issued_on.year if doc_type.family is Family.LEGAL else None,
            number_text=f"{number:02d}",
        )

    @property
    def doc_type(self) -> DocType:
        return get_type(self.family, self.type_code)

    @property
    def is_party(self) -> bool:
        return self.family is Family.PARTY

    @property
    def is_legal(self) -> bool:
        return self.family is Family.LEGAL

    @property
    def number_symbol(self) -> str:
        """Number and symbol ("223/KH-UBND", "18/2017/NQ-HĐND", "91-KL/TU"), padded per NĐ 30."""
        if self.family is Family.PARTY:
            return f"{self.number:02d}-{self.symbol}"
        if self.legal_year is not None:
            return f"{self.number:02d}/{self.legal_year}/{self.symbol}"
        return f"{self.number:02d}/{self.symbol}"

    def render_number(self) -> str:
        """The number and symbol alone, as a second citation writes it ("223/KH-UBND")."""
        return self.number_symbol

    @property
    def period_key(self) -> str:
        """The numbering period: the year, or the party term for party documents."""
        if self.family is Family.PARTY:
            return party_term(self.issued_on, self.symbol.split("/", 1)[1])
        return str(self.legal_year if self.legal_year is not None else self.issued_on.year)

    @property
    def issuer_key(self) -> str:
        return issuer_key(self.issuer)

    @property
    def key(self) -> DocumentKey:
        """Same key, same document. A legal number keeps its year in the symbol part, because
        legal documents are numbered apart from administrative ones ("12/2023/QĐ-UBND" is not
        "12/QĐ-UBND")."""
        symbol = self.symbol if self.legal_year is None else f"{self.legal_year}/{self.symbol}"
        return DocumentKey(self.issuer_key, self.period_key, self.number, symbol.upper())

    @property
    def canonical(self) -> str:
        """Full, stable form (issuer always, date fully padded); parses back to an equal ref."""
        text = f"{self.type_name} số {self.number_symbol} ngày {format_date_vi(self.issued_on)}"
        return f"{text} của {self.issuer}" if self.issuer else text

    def render(self, default_issuer: str | None = None) -> str:
        """As the report writes it: `Kế hoạch số 223/KH-UBND ngày 06/3/2023`, plus
        ` của <issuer>` unless the issuer is `default_issuer` (the reporting unit)."""
        text = f"{self.type_name} số {self.number_symbol} ngày {nd30_date(self.issued_on)}"
        if self.issuer and self.issuer_key != issuer_key(default_issuer):
            return f"{text} của {self.issuer}"
        return text

    def __str__(self) -> str:
        return self.render()
