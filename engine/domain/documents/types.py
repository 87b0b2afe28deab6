"""Which documents can be cited as evidence, and which abbreviation each one's symbol carries.

Why a table per family: the same letters mean different things in different rule books (TT is
Thông tư in a legal number, Thông tri in a party one; CV is forbidden in a state symbol but is
the party's Công văn), so a symbol can only be checked once we know, from the shape of its number,
whether it follows NĐ 30/2020/NĐ-CP (administrative), the law on legal documents (number/year)
or Hướng dẫn 36-HD/VPTW (party).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from vntext.text import fold


class Family(StrEnum):
    ADMIN = "admin"  # NĐ 30/2020/NĐ-CP: "223/KH-UBND", numbered per calendar year
    LEGAL = "legal"  # văn bản quy phạm pháp luật: "18/2017/NQ-HĐND", the year is in the number
    PARTY = "party"  # HD 36-HD/VPTW: "91-KL/TU", numbered per party term


@dataclass(frozen=True, slots=True)
class DocType:
    family: Family
    code: str  # the abbreviation as the rule book spells it ("QyĐ", "CTr"); "CV" for Công văn
    name: str  # "Kế hoạch"
    abbreviated: bool = True  # False only for the administrative Công văn (and never rendered)
    example: str = ""  # a well-formed number and symbol, used in error messages

    @property
    def sample(self) -> str:
        """`<name> số <example>`, for telling an officer what a correct reference looks like."""
        return f"{self.name} số {self.example}"


def _admin(code: str, name: str) -> DocType:
    return DocType(Family.ADMIN, code, name, True, f"12/{code}-UBND")


def _party(code: str, name: str, example: str = "") -> DocType:
    return DocType(Family.PARTY, code, name, True, example or f"12-{code}/TU")


def _legal(code: str, name: str, example: str) -> DocType:
    return DocType(Family.LEGAL, code, name, True, example)


#: NĐ 30/2020/NĐ-CP, Điều 7 and Phụ lục III, in the decree's order. Công văn has no
#: abbreviation: its symbol is the issuing body and the drafting unit ("910/UBND-VP").
CONG_VAN = DocType(Family.ADMIN, "CV", "Công văn", False, "910/UBND-VP")
ADMIN_TYPES: tuple[DocType, ...] = (
    _admin("NQ", "Nghị quyết"),
    _admin("QĐ", "Quyết định"),
    _admin("CT", "Chỉ thị"),
    _admin("QC", "Quy chế"),
    _admin("QyĐ", "Quy định"),
    _admin("TC", "Thông cáo"),
    _admin("TB", "Thông báo"),
    _admin("HD", "Hướng dẫn"),
    _admin("CTr", "Chương trình"),
    _admin("KH", "Kế hoạch"),
    _admin("PA", "Phương án"),
    _admin("ĐA", "Đề án"),
    _admin("DA", "Dự án"),
    _admin("BC", "Báo cáo"),
    _admin("BB", "Biên bản"),
    _admin("TTr", "Tờ trình"),
    _admin("HĐ", "Hợp đồng"),
    CONG_VAN,
    _admin("CĐ", "Công điện"),
    _admin("BGN", "Bản ghi nhớ"),
    _admin("BTT", "Bản thỏa thuận"),
    _admin("GUQ", "Giấy ủy quyền"),
    _admin("GM", "Giấy mời"),
    _admin("GGT", "Giấy giới thiệu"),
    _admin("GNP", "Giấy nghỉ phép"),
    _admin("PG", "Phiếu gửi"),
    _admin("PC", "Phiếu chuyển"),
    _admin("PB", "Phiếu báo"),
)

#: Legal normative documents an officer cites: number/year/abbreviation-issuer. Chỉ thị was a
#: legal form until the 2015 law took effect, and old ones are still cited.
LEGAL_TYPES: tuple[DocType, ...] = (
    _legal("NQ", "Nghị quyết", "18/2017/NQ-HĐND"),
    _legal("NQLT", "Nghị quyết liên tịch", "01/2016/NQLT-CP-UBTƯMTTQVN"),
    _legal("NĐ", "Nghị định", "29/2023/NĐ-CP"),
    _legal("QĐ", "Quyết định", "12/2023/QĐ-UBND"),
    _legal("CT", "Chỉ thị", "05/2015/CT-UBND"),
    _legal("TT", "Thông tư", "01/2018/TT-VPCP"),
    _legal("TTLT", "Thông tư liên tịch", "01/2015/TTLT-BNV-BTC"),
)

#: HD 36-HD/VPTW: number and symbol joined by a hyphen, numbered per type per party term.
PARTY_TYPES: tuple[DocType, ...] = (
    _party("NQ", "Nghị quyết", "16-NQ/TU"),
    _party("QĐ", "Quyết định"),
    _party("CT", "Chỉ thị"),
    _party("KL", "Kết luận", "91-KL/TU"),
    _party("QC", "Quy chế"),
    _party("QĐi", "Quy định"),
    _party("TT", "Thông tri"),
    _party("HD", "Hướng dẫn", "36-HD/VPTW"),
    _party("TB", "Thông báo"),
    _party("TC", "Thông cáo"),
    _party("BC", "Báo cáo"),
    _party("KH", "Kế hoạch"),
    _party("QH", "Quy hoạch"),
    _party("CTr", "Chương trình", "12-CTr/TU"),
    _party("ĐA", "Đề án"),
    _party("TTr", "Tờ trình"),
    _party("CV", "Công văn", "59-CV/TU"),
    _party("BB", "Biên bản"),
    _party("GGT", "Giấy giới thiệu"),
    _party("GCN", "Giấy chứng nhận"),
    _party("GNP", "Giấy nghỉ phép"),
    _party("PG", "Phiếu gửi"),
    _party("PC", "Phiếu chuyển"),
    _party("PB", "Phiếu báo"),
)

DOCUMENT_TYPES: tuple[DocType, ...] = ADMIN_TYPES + LEGAL_TYPES + PARTY_TYPES

#: Abbreviations of Thông tư 01/2011/TT-BNV that NĐ 30/2020 replaced: code -> new code.
LEGACY_CODES: dict[str, str] = {"GN": "BGN", "TTH": "BTT", "UQ": "GUQ", "NP": "GNP"}

_BY_CODE: dict[tuple[Family, str], DocType] = {
    (t.family, t.code.upper()): t for t in DOCUMENT_TYPES
}
_BY_NAME: dict[tuple[Family, str], DocType] = {(t.family, fold(t.name)): t for t in DOCUMENT_TYPES}
#: folded type word -> the canonical name, across all families ("ke hoach" -> "Kế hoạch").
_NAMES: dict[str, str] = {fold(t.name): t.name for t in DOCUMENT_TYPES}
_NEAR: dict[tuple[Family, str], list[DocType]] = {}
for _t in DOCUMENT_TYPES:
    if _t.abbreviated:
        _NEAR.setdefault((_t.family, fold(_t.code)), []).append(_t)


@lru_cache(maxsize=8192)
def fold_cached(text: str) -> str:
    """`vntext.text.fold`, memoised: type words and issuers repeat across thousands of refs."""
    return fold(text)


def get_type(family: Family, code: str) -> DocType:
    """The type with exactly this code in this family (includes the administrative Công văn)."""
    return _BY_CODE[(family, code.upper())]


def type_by_code(family: Family, code: str) -> DocType | None:
    """The type whose abbreviation is `code` (case-insensitive; Đ and D stay distinct).

    The administrative Công văn is never found: it has no abbreviation.
    """
    found = _BY_CODE.get((family, code.upper()))
    return found if found is not None and found.abbreviated else None


def type_by_name(family: Family, name: str) -> DocType | None:
    """The type called `name` in `family` (case- and diacritic-insensitive)."""
    return _BY_NAME.get((family, fold_cached(name)))


def type_name_for_word(word: str) -> str | None:
    """Canonical name of a written type word ("ke hoach", "KẾ HOẠCH" -> "Kế hoạch"), else None."""
    return _NAMES.get(fold_cached(word))


def families_named(name: str) -> tuple[Family, ...]:
    """The families that have a type with this canonical name."""
    key = fold_cached(name)
    return tuple(f for f in Family if (f, key) in _BY_NAME)


def families_coded(code: str) -> tuple[Family, ...]:
    """The families in which `code` is an abbreviation."""
    return tuple(f for f in Family if type_by_code(f, code) is not None)


def near_code(family: Family, code: str) -> DocType | None:
    """The abbreviation `code` was probably meant to be ("QD" -> QĐ), if exactly one fits."""
    if type_by_code(family, code) is not None:
        return None
    hits = _NEAR.get((family, fold_cached(code)), [])
    return hits[0] if len(hits) == 1 else None
