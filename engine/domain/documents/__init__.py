"""Official document references used as evidence ("Kế hoạch số 223/KH-UBND ngày 06/3/2023").

Why a package of its own: a task counts as done only on the strength of the document that proves
it, so references are checked against the rule books (NĐ 30/2020/NĐ-CP for administrative
documents, the legal-document numbering, HD 36-HD/VPTW for party documents) when they are typed,
and written back one way in the register and the reports.
"""

from engine.domain.documents.dates import MIN_YEAR
from engine.domain.documents.issuers import issuer_key, normalize_issuer
from engine.domain.documents.mentions import Mention, find_mentions
from engine.domain.documents.parser import parse_reference
from engine.domain.documents.ref import DocumentKey, DocumentRef
from engine.domain.documents.symbols import NumberSymbol, parse_number_symbol
from engine.domain.documents.terms import party_term
from engine.domain.documents.types import (
    ADMIN_TYPES,
    CONG_VAN,
    DOCUMENT_TYPES,
    LEGACY_CODES,
    LEGAL_TYPES,
    PARTY_TYPES,
    DocType,
    Family,
    get_type,
    type_by_code,
    type_by_name,
)

__all__ = [
    "ADMIN_TYPES",
    "CONG_VAN",
    "DOCUMENT_TYPES",
    "LEGACY_CODES",
    "LEGAL_TYPES",
    "MIN_YEAR",
    "PARTY_TYPES",
    "DocType",
    "DocumentKey",
    "DocumentRef",
    "Family",
    "Mention",
    "NumberSymbol",
    "find_mentions",
    "get_type",
    "issuer_key",
    "normalize_issuer",
    "parse_number_symbol",
    "parse_reference",
    "party_term",
    "type_by_code",
    "type_by_name",
]
