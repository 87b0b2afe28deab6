"""Reading "Kế hoạch số 223/KH-UBND": the type word, the number and the symbol.

Why here and not in one big regex: the shape of the number decides which rule book applies
(slash: NĐ 30/2020; slash-year-slash: legal documents; hyphen: HD 36-HD/VPTW), and each wrong
combination (a Kế hoạch without KH, a Công văn with KH, "CV", a party code after a slash…) needs
its own precise reason; a single pattern could only say "no match".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from engine.domain.documents.cleaning import MAX_LENGTH, prepare
from engine.domain.documents.rejection import reject
from engine.domain.documents.types import (
    CONG_VAN,
    LEGACY_CODES,
    DocType,
    Family,
    families_coded,
    families_named,
    fold_cached,
    near_code,
    type_by_code,
    type_by_name,
    type_name_for_word,
)

#: Numbers have at most this many digits (ministries reach five; six leaves room).
MAX_NUMBER_DIGITS = 6

_LOCATE = re.compile(
    r"(?<![\w/.\-])(?:(?P<num>[0-9]+) ?(?P<sep>/|-(?=[^\W\d_]))|(?P<bare>/)(?=\S)"
    r"|(?P<bare_party>-)(?=[^\W\d_]+/))"
)
_BODY = re.compile(r"[^\s,;]*")
_PREFIX = re.compile(r"(?P<word>.*?)[\s,]*(?:(?<![^\s,])s[ốo])?\s*:?\s*", re.I | re.S)
_LEGAL_BODY = re.compile(r"([0-9]+)/(.*)", re.S)
_DATE_LIKE = re.compile(r"[0-9]{1,2}/+[0-9]+")
_PART = re.compile(r"[^\W\d_][^\W_]*")

_CV_VI = (
    "'CV' không phải chữ viết tắt tên loại văn bản: theo Nghị định 30/2020/NĐ-CP, công văn "
    "không có chữ viết tắt tên loại; ký hiệu công văn gồm chữ viết tắt tên cơ quan và đơn vị "
    "soạn thảo (ví dụ: Công văn số 910/UBND-VP)"
)
_CV_EN = (
    "'CV' is not a document-type abbreviation: under Decree 30/2020/ND-CP an official letter "
    "(công văn) has none; its symbol is the issuing body and the drafting unit (e.g. 910/UBND-VP)"
)


@dataclass(frozen=True, slots=True)
class NumberSymbol:
    """A checked number and symbol without a date ("Công văn số 910/UBND-VP")."""

    doc_type: DocType
    number: int
    number_text: str  # as typed
    symbol: str  # "KH-UBND", "UBND-VP", "KL/TU"
    legal_year: int | None = None

    @property
    def number_symbol(self) -> str:
        if self.doc_type.family is Family.PARTY:
            return f"{self.number:02d}-{self.symbol}"
        if self.legal_year is not None:
            return f"{self.number:02d}/{self.legal_year}/{self.symbol}"
        return f"{self.number:02d}/{self.symbol}"

    def __str__(self) -> str:
        return f"{self.doc_type.name} số {self.number_symbol}"


def parse_number_symbol(text: str) -> NumberSymbol:
    """Type, number and symbol of a reference written without a date ("910/UBND-VP" is a
    Công văn). For evidence, use `parse_reference`, which requires the date."""
    clean = prepare(text)
    if not clean:
        _reject_empty(text)
    if len(clean) > MAX_LENGTH:
        reject(
            f"Số, ký hiệu văn bản quá dài ({len(clean)} ký tự)",
            f"The number and symbol is too long ({len(clean)} characters)",
            text,
        )
    head, end = read_head(clean, value=text)
    if clean[end:].strip(" ,"):
        junk = clean[end:].strip(" ,")
        reject(
            f"Không hiểu phần '{junk}' sau '{clean[:end]}': chỉ ghi loại, số và ký hiệu văn bản",
            f"Unexpected text '{junk}' after '{clean[:end]}': give only type, number and symbol",
            text,
        )
    return head


def _reject_empty(value: str) -> NoReturn:
    reject(
        "Chưa ghi văn bản minh chứng (ví dụ: Kế hoạch số 223/KH-UBND ngày 06/3/2023)",
        "No evidence document given (e.g. Kế hoạch số 223/KH-UBND ngày 06/3/2023)",
        value,
    )


def read_head(clean: str, *, value: str) -> tuple[NumberSymbol, int]:
    """The number and symbol at the start of the prepared text `clean`, and where they end.

    `value` is the officer's original text, quoted back in refusals.
    """
    m = _LOCATE.search(clean)
    if m is None:
        reject(
            f"Không tìm thấy số, ký hiệu văn bản trong '{clean}' "
            "(ví dụ: Kế hoạch số 223/KH-UBND ngày 06/3/2023)",
            f"No document number and symbol found in '{clean}' "
            "(e.g. Kế hoạch số 223/KH-UBND ngày 06/3/2023)",
            value,
        )
    prefix = _PREFIX.fullmatch(clean, 0, m.start())
    word = prefix.group("word").strip(" ,;:") if prefix else clean[: m.start()].strip()
    num_text = m.group("num") or ""
    sep = m.group("sep") or m.group("bare") or "-"
    body_match = _BODY.match(clean, m.end())
    body = body_match.group() if body_match else ""
    end = body_match.end() if body_match else m.end()
    shown = clean[m.start() : end]

    if (word and fold_cached(word).rsplit(" ", 1)[-1] == "ngay") or (
        sep == "/" and 0 < len(num_text) <= 2 and _DATE_LIKE.fullmatch(body)
    ):
        reject(
            f"Thiếu số, ký hiệu văn bản: '{shown}' là ngày tháng "
            "(ví dụ: Kế hoạch số 223/KH-UBND ngày 06/3/2023)",
            f"The document number and symbol are missing: '{shown}' is a date "
            "(e.g. Kế hoạch số 223/KH-UBND ngày 06/3/2023)",
            value,
        )

    family, year_text, sym = _split_form(sep, body, shown, value)
    number = _number(num_text, shown, value)
    word_type = _word_type(word, family, value)
    if family is Family.PARTY:
        doc_type, symbol = _party(word_type, sym, shown, value)
    elif family is Family.LEGAL:
        doc_type, symbol = _legal(word_type, sym, shown, value)
    else:
        doc_type, symbol = _admin(word_type, sym, num_text, shown, value)
    legal_year = int(year_text) if year_text is not None else None
    return NumberSymbol(doc_type, number, num_text, symbol, legal_year), end


def _split_form(sep: str, body: str, shown: str, value: str) -> tuple[Family, str | None, str]:
    """Which rule book the number's shape belongs to; the year (legal) and the symbol."""
    if sep == "-":
        if "/" not in body:
            reject(
                f"Số, ký hiệu '{shown}' không đúng: văn bản của Đảng ghi 'số-LOẠI/CƠ QUAN' "
                "(ví dụ: 91-KL/TU), văn bản của Nhà nước ghi 'số/LOẠI-CƠ QUAN' "
                "(ví dụ: 223/KH-UBND)",
                f"Malformed number and symbol '{shown}': party documents are written "
                "'number-TYPE/ORGAN' (91-KL/TU), state documents 'number/TYPE-ORGAN' (223/KH-UBND)",
                value,
            )
        return Family.PARTY, None, body
    if not body:
        reject(
            f"Thiếu ký hiệu văn bản sau '{shown}' (ví dụ: 223/KH-UBND)",
            f"The document symbol is missing after '{shown}' (e.g. 223/KH-UBND)",
            value,
        )
    if body.startswith("/"):
        _double_slash(shown, value)
    legal = _LEGAL_BODY.fullmatch(body)
    if legal is None:
        return Family.ADMIN, None, body
    year_text, sym = legal.groups()
    if len(year_text) != 4:
        reject(
            f"Năm '{year_text}' trong số hiệu '{shown}' phải có đúng 4 chữ số",
            f"The year '{year_text}' in the number '{shown}' must have exactly 4 digits",
            value,
        )
    if not sym:
        reject(
            f"Thiếu ký hiệu văn bản sau '{shown}' (ví dụ: 18/2017/NQ-HĐND)",
            f"The document symbol is missing after '{shown}' (e.g. 18/2017/NQ-HĐND)",
            value,
        )
    if sym.startswith("/"):
        _double_slash(shown, value)
    if "/" in sym:
        reject(
            f"Số, ký hiệu '{shown}' có quá nhiều dấu '/' (ví dụ đúng: 18/2017/NQ-HĐND)",
            f"The number and symbol '{shown}' has too many slashes (e.g. 18/2017/NQ-HĐND)",
            value,
        )
    return Family.LEGAL, year_text, sym


def _double_slash(shown: str, value: str) -> NoReturn:
    reject(
        f"Số, ký hiệu '{shown}' có hai dấu '/' liền nhau",
        f"The number and symbol '{shown}' has a double slash",
        value,
    )


def _number(num_text: str, shown: str, value: str) -> int:
    if not num_text:
        reject(
            f"Thiếu số văn bản: '{shown}' không có số thứ tự trước ký hiệu "
            "(ví dụ: Kế hoạch số 223/KH-UBND)",
            f"The document number is missing: '{shown}' has no number before the symbol "
            "(e.g. Kế hoạch số 223/KH-UBND)",
            value,
        )
    if len(num_text) > MAX_NUMBER_DIGITS:
        reject(
            f"Số văn bản '{num_text}' quá dài (nhiều nhất {MAX_NUMBER_DIGITS} chữ số)",
            f"The document number '{num_text}' is too long (at most {MAX_NUMBER_DIGITS} digits)",
            value,
        )
    number = int(num_text)
    if number == 0:
        reject(
            f"Số văn bản phải lớn hơn 0 (đang ghi '{num_text}' trong '{shown}')",
            f"The document number must be greater than 0 ('{num_text}' in '{shown}')",
            value,
        )
    if num_text.startswith("0") and len(num_text) != 2:
        reject(
            f"Số văn bản '{num_text}' có chữ số 0 thừa ở đầu (chỉ số nhỏ hơn 10 mới ghi thêm "
            f"một số 0 phía trước, ví dụ: 05)",
            f"The document number '{num_text}' has extra leading zeros (only numbers under 10 "
            "get one leading zero, e.g. 05)",
            value,
        )
    return number


def _word_type(word: str, family: Family, value: str) -> DocType | None:
    """The type named by the officer's type word, in the family the number's shape implies."""
    if not word:
        return None
    name = type_name_for_word(word)
    if name is None:
        code = word.upper()
        if code == "CV" and family is not Family.PARTY:
            reject(_CV_VI, _CV_EN, value)
        direct = type_by_code(family, code)
        if direct is not None:
            return direct
        elsewhere = families_coded(code)
        if not elsewhere:
            reject(
                f"Không nhận ra loại văn bản '{word}' (ví dụ: Kế hoạch, Quyết định, Công văn, "
                "Thông báo, Kết luận)",
                f"Unknown document type '{word}' (e.g. Kế hoạch, Quyết định, Công văn, "
                "Thông báo, Kết luận)",
                value,
            )
        found = type_by_code(elsewhere[0], code)
        assert found is not None
        name = found.name
    doc_type = type_by_name(family, name)
    if doc_type is None:
        _family_mismatch(name, family, value)
    return doc_type


def _sample(name: str, family: Family) -> str:
    found = type_by_name(family, name)
    return found.sample if found is not None else ""


def _family_mismatch(name: str, family: Family, value: str) -> NoReturn:
    fams = families_named(name)
    if Family.PARTY in fams and Family.ADMIN not in fams:
        reject(
            f"{name} là văn bản của Đảng: số và ký hiệu nối bằng dấu gạch nối "
            f"(ví dụ: {_sample(name, Family.PARTY)})",
            f"{name} is a party document: number and symbol are joined by a hyphen "
            f"(e.g. {_sample(name, Family.PARTY)})",
            value,
        )
    if family is Family.LEGAL:
        sample = _sample(name, fams[0])
        reject(
            f"{name} không phải văn bản quy phạm pháp luật nên số không kèm năm ban hành "
            f"(ví dụ: {sample})",
            f"{name} is not a legal normative document, so its number carries no year "
            f"(e.g. {sample})",
            value,
        )
    if family is Family.ADMIN:
        sample = _sample(name, Family.LEGAL)
        reject(
            f"{name} là văn bản quy phạm pháp luật: số phải kèm năm ban hành (ví dụ: {sample})",
            f"{name} is a legal normative document: its number must carry the year (e.g. {sample})",
            value,
        )
    sample = _sample(name, fams[0])
    reject(
        f"{name} không phải loại văn bản của Đảng theo Hướng dẫn 36-HD/VPTW; văn bản của Nhà "
        f"nước ghi số và ký hiệu cách nhau bằng dấu '/' (ví dụ: {sample})",
        f"{name} is not a party document type under Guideline 36-HD/VPTW; state documents "
        f"separate number and symbol with '/' (e.g. {sample})",
        value,
    )


def _parts(sym: str, shown: str, value: str) -> list[str]:
    parts = sym.split("-")
    for part in parts:
        if not part:
            reject(
                f"Ký hiệu '{shown}' có nhóm chữ rỗng (dấu '-' thừa)",
                f"The symbol '{shown}' has an empty group (a stray '-')",
                value,
            )
        if not _PART.fullmatch(part):
            reject(
                f"Ký hiệu '{shown}' có nhóm '{part}' không hợp lệ: mỗi nhóm chữ viết tắt bắt "
                "đầu bằng chữ cái và chỉ gồm chữ, số",
                f"The symbol '{shown}' has an invalid group '{part}': each group starts with a "
                "letter and holds only letters and digits",
                value,
            )
    return parts


def _mismatch(word_type: DocType, code_type: DocType, sym: str, value: str) -> NoReturn:
    reject(
        f"Loại văn bản '{word_type.name}' không khớp với ký hiệu '{sym}': {code_type.code} là "
        f"chữ viết tắt của {code_type.name}, còn {word_type.name} viết tắt là {word_type.code}",
        f"The document type '{word_type.name}' does not match the symbol '{sym}': "
        f"{code_type.code} stands for {code_type.name}, {word_type.name} is {word_type.code}",
        value,
    )


def _missing_organ(shown: str, doc_type: DocType, value: str) -> NoReturn:
    reject(
        f"Ký hiệu '{shown}' thiếu chữ viết tắt tên cơ quan ban hành (ví dụ: {doc_type.example})",
        f"The symbol '{shown}' lacks the issuing body's abbreviation (e.g. {doc_type.example})",
        value,
    )


def _not_an_abbreviation(first: str, family: Family) -> tuple[str, str] | None:
    """Why `first` looks like a type abbreviation but is not a valid one here, if it does."""
    up = first.upper()
    if family is Family.ADMIN and up in LEGACY_CODES:
        new = type_by_code(Family.ADMIN, LEGACY_CODES[up])
        assert new is not None
        return (
            f"'{first}' là chữ viết tắt cũ theo Thông tư 01/2011/TT-BNV; Nghị định "
            f"30/2020/NĐ-CP dùng '{new.code}' ({new.name})",
            f"'{first}' is an old abbreviation (Circular 01/2011/TT-BNV); Decree 30/2020/ND-CP "
            f"uses '{new.code}' ({new.name})",
        )
    near = near_code(family, first)
    if near is not None:
        book = "Hướng dẫn 36-HD/VPTW" if family is Family.PARTY else "Nghị định 30/2020/NĐ-CP"
        return (
            f"'{first}' không phải chữ viết tắt tên loại văn bản theo {book}; có phải "
            f"'{near.code}' ({near.name})?",
            f"'{first}' is not a document-type abbreviation; did you mean '{near.code}' "
            f"({near.name})?",
        )
    return None


def _admin(
    word_type: DocType | None, sym: str, num_text: str, shown: str, value: str
) -> tuple[DocType, str]:
    if "/" in sym:
        state, party = f"{num_text}/{sym.replace('/', '-')}", f"{num_text}-{sym}"
        reject(
            f"Số, ký hiệu '{shown}' có quá nhiều dấu '/': văn bản của Nhà nước ghi '{state}', "
            f"văn bản của Đảng ghi '{party}'",
            f"The number and symbol '{shown}' has too many slashes: state documents are "
            f"written '{state}', party documents '{party}'",
            value,
        )
    parts = _parts(sym, shown, value)
    first = parts[0]
    if first.upper() == "CV":
        reject(_CV_VI, _CV_EN, value)
    code_type = type_by_code(Family.ADMIN, first)
    if word_type is CONG_VAN:
        if code_type is not None:
            lower = code_type.name[0].lower() + code_type.name[1:]
            reject(
                f"Công văn không có chữ viết tắt tên loại văn bản, nhưng ký hiệu '{sym}' bắt "
                f"đầu bằng '{code_type.code}' ({code_type.name}); nếu đây là {lower}, ghi "
                f"'{code_type.name} số {shown}'",
                f"An official letter (công văn) has no type abbreviation, but the symbol "
                f"'{sym}' starts with '{code_type.code}' ({code_type.name})",
                value,
            )
        return CONG_VAN, sym
    if code_type is None:
        why = _not_an_abbreviation(first, Family.ADMIN)
        if word_type is not None:
            code = word_type.code
            botched = why is not None or fold_cached(first).startswith(fold_cached(code))
            if botched:  # "5/QD-UBND", "5/KHH-UBND": the first group was meant as the type
                fixed = "-".join([code, *(parts[1:] or ["UBND"])])
                tail = f"'{first}' không phải chữ viết tắt tên loại theo Nghị định 30/2020/NĐ-CP"
            else:  # "70/UBND-ISO": no type at all, which is how a Công văn is numbered
                fixed = f"{code}-{sym}"
                tail = f"ký hiệu '{sym}' không có chữ viết tắt tên loại nên là ký hiệu của công văn"
            example = f"{num_text or '12'}/{fixed}"
            reject(
                f"{word_type.name} phải có chữ viết tắt '{code}' ở đầu ký hiệu "
                f"(ví dụ: {example}); {tail}",
                f"A {word_type.name} must carry '{code}' at the start of its symbol "
                f"(e.g. {example}); '{sym}' has none",
                value,
            )
        if why is not None:
            reject(*why, value)
        _reject_foreign_code(first, shown, value)
        return CONG_VAN, sym
    if word_type is not None and word_type is not code_type:
        _mismatch(word_type, code_type, sym, value)
    if len(parts) < 2:
        _missing_organ(shown, code_type, value)
    return code_type, "-".join([code_type.code, *parts[1:]])


def _reject_foreign_code(first: str, shown: str, value: str) -> None:
    """A bare "05/TT-BCA" or "91/KL-TU": a legal or party abbreviation in an administrative
    number. (With "Công văn số" written out, such a first group is taken as a body's name.)"""
    legal = type_by_code(Family.LEGAL, first)
    if legal is not None:
        reject(
            f"'{first}' là chữ viết tắt của {legal.name}, văn bản quy phạm pháp luật: số phải "
            f"kèm năm ban hành (ví dụ: {legal.sample}); nếu đây là công văn, ghi rõ "
            f"'Công văn số {shown}'",
            f"'{first}' stands for {legal.name}, a legal normative document: its number must "
            f"carry the year (e.g. {legal.sample}); if this is an official letter, write "
            f"'Công văn số {shown}'",
            value,
        )
    party = type_by_code(Family.PARTY, first)
    if party is not None:
        reject(
            f"'{first}' là chữ viết tắt của {party.name} (văn bản của Đảng): số và ký hiệu nối "
            f"bằng dấu gạch nối (ví dụ: {party.sample}); nếu đây là công văn, ghi rõ "
            f"'Công văn số {shown}'",
            f"'{first}' stands for {party.name} (a party document): number and symbol are "
            f"joined by a hyphen (e.g. {party.sample}); if this is an official letter, write "
            f"'Công văn số {shown}'",
            value,
        )


def _legal(word_type: DocType | None, sym: str, shown: str, value: str) -> tuple[DocType, str]:
    parts = _parts(sym, shown, value)
    first = parts[0]
    code_type = type_by_code(Family.LEGAL, first)
    if code_type is None:
        if first.upper() == "CV":
            reject(_CV_VI, _CV_EN, value)
        admin = type_by_code(Family.ADMIN, first)
        if admin is not None:
            reject(
                f"{admin.name} không phải văn bản quy phạm pháp luật nên số không kèm năm ban "
                f"hành (ví dụ: {admin.sample})",
                f"{admin.name} is not a legal normative document, so its number carries no "
                f"year (e.g. {admin.sample})",
                value,
            )
        party = type_by_code(Family.PARTY, first)
        if party is not None:
            _family_mismatch(party.name, Family.LEGAL, value)
        why = _not_an_abbreviation(first, Family.LEGAL)
        if why is not None:
            reject(*why, value)
        reject(
            f"'{first}' không phải chữ viết tắt của loại văn bản quy phạm pháp luật "
            f"(NQ, NĐ, QĐ, TT, TTLT…) trong '{shown}'",
            f"'{first}' is not a legal document-type abbreviation (NQ, NĐ, QĐ, TT, TTLT…) "
            f"in '{shown}'",
            value,
        )
    if word_type is not None and word_type is not code_type:
        _mismatch(word_type, code_type, sym, value)
    if len(parts) < 2:
        _missing_organ(shown, code_type, value)
    return code_type, "-".join([code_type.code, *parts[1:]])


def _party(word_type: DocType | None, sym: str, shown: str, value: str) -> tuple[DocType, str]:
    type_part, organ = sym.split("/", 1)
    if not type_part:
        reject(
            f"Thiếu chữ viết tắt tên loại văn bản trong '{shown}' (ví dụ: 91-KL/TU)",
            f"The document-type abbreviation is missing in '{shown}' (e.g. 91-KL/TU)",
            value,
        )
    if not organ:
        reject(
            f"Ký hiệu '{shown}' thiếu chữ viết tắt tên cơ quan ban hành (ví dụ: 91-KL/TU)",
            f"The symbol '{shown}' lacks the issuing body's abbreviation (e.g. 91-KL/TU)",
            value,
        )
    if "/" in organ:
        reject(
            f"Số, ký hiệu '{shown}' có quá nhiều dấu '/' (ví dụ đúng: 91-KL/TU)",
            f"The number and symbol '{shown}' has too many slashes (e.g. 91-KL/TU)",
            value,
        )
    _parts(type_part, shown, value)
    _parts(organ, shown, value)
    code_type = type_by_code(Family.PARTY, type_part)
    if code_type is None:
        why = _not_an_abbreviation(type_part, Family.PARTY)
        if why is not None:
            reject(*why, value)
        state = type_by_code(Family.ADMIN, type_part) or type_by_code(Family.LEGAL, type_part)
        if state is not None:
            _family_mismatch(state.name, Family.PARTY, value)
        reject(
            f"'{type_part}' không phải chữ viết tắt tên loại văn bản của Đảng theo Hướng dẫn "
            f"36-HD/VPTW (trong '{shown}')",
            f"'{type_part}' is not a party document-type abbreviation under Guideline "
            f"36-HD/VPTW (in '{shown}')",
            value,
        )
    if word_type is not None and word_type is not code_type:
        _mismatch(word_type, code_type, sym, value)
    return code_type, f"{code_type.code}/{organ}"
