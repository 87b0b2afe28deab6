"""Evidence document references: the officers' real spellings, the report's real typos, and
properties (round trips, date forms, impossible dates, no crash on any text)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.domain.documents import (
    ADMIN_TYPES,
    CONG_VAN,
    DOCUMENT_TYPES,
    LEGACY_CODES,
    LEGAL_TYPES,
    PARTY_TYPES,
    DocType,
    DocumentRef,
    Family,
    find_mentions,
    issuer_key,
    normalize_issuer,
    parse_number_symbol,
    parse_reference,
    party_term,
)
from engine.errors import ValidationFailed
from vntext.dates import nd30_date
from vntext.text import fold

TODAY = date(2025, 6, 1)
HOME = "UBND xã Vĩnh Thạnh"


def parse(text: str, default_issuer: str | None = HOME) -> DocumentRef:
    return parse_reference(text, today=TODAY, default_issuer=default_issuer)


def refusal(text: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        parse(text)
    err = info.value
    assert err.field == "doc"
    assert err.problems[0].value == text
    assert err.message_vi and err.message_en
    return err


# --------------------------------------------------------------------------- the type table


def test_administrative_types_are_those_of_decree_30_appendix_iii() -> None:
    expected = {
        "NQ": "Nghị quyết", "QĐ": "Quyết định", "CT": "Chỉ thị", "QC": "Quy chế",
        "QyĐ": "Quy định", "TC": "Thông cáo", "TB": "Thông báo", "HD": "Hướng dẫn",
        "CTr": "Chương trình", "KH": "Kế hoạch", "PA": "Phương án", "ĐA": "Đề án",
        "DA": "Dự án", "BC": "Báo cáo", "BB": "Biên bản", "TTr": "Tờ trình",
        "HĐ": "Hợp đồng", "CĐ": "Công điện", "BGN": "Bản ghi nhớ", "BTT": "Bản thỏa thuận",
        "GUQ": "Giấy ủy quyền", "GM": "Giấy mời", "GGT": "Giấy giới thiệu",
        "GNP": "Giấy nghỉ phép", "PG": "Phiếu gửi", "PC": "Phiếu chuyển", "PB": "Phiếu báo",
    }  # fmt: skip
    abbreviated = {t.code: t.name for t in ADMIN_TYPES if t.abbreviated}
    assert abbreviated == expected
    assert [t for t in ADMIN_TYPES if not t.abbreviated] == [CONG_VAN]
    assert CONG_VAN.name == "Công văn"


def test_codes_are_unique_within_each_family_whatever_the_case() -> None:
    for family in Family:
        codes = [t.code.upper() for t in DOCUMENT_TYPES if t.family is family]
        assert len(codes) == len(set(codes)), family
    assert {t.family for t in LEGAL_TYPES} == {Family.LEGAL}
    assert {t.family for t in PARTY_TYPES} == {Family.PARTY}


# --------------------------------------------------------------------------- accepted


ACCEPTED = [
    # text, type code, type name, number, symbol, issued on, issuer, legal year
    ("Kế hoạch số 223/KH-UBND ngày 06/3/2023", "KH", "Kế hoạch", 223, "KH-UBND",
     date(2023, 3, 6), HOME, None),
    ("Kế hoạch số: 223/KH-UBND ngày 06/03/2023", "KH", "Kế hoạch", 223, "KH-UBND",
     date(2023, 3, 6), HOME, None),
    ("Quyết định số 19/QĐ-UBND ngày 31/01/2023", "QĐ", "Quyết định", 19, "QĐ-UBND",
     date(2023, 1, 31), HOME, None),
    ("Công văn số 910/UBND ngày 28/7/2023", "CV", "Công văn", 910, "UBND",
     date(2023, 7, 28), HOME, None),
    ("công văn 1125/UBND-VP ngày 01/3/2022 của UBND thành phố Nha Trang", "CV", "Công văn",
     1125, "UBND-VP", date(2022, 3, 1), "UBND thành phố Nha Trang", None),
    ("Thông báo số 1272/TB-UBND ngày 15/8/2023", "TB", "Thông báo", 1272, "TB-UBND",
     date(2023, 8, 15), HOME, None),
    ("Kết luận số 91-KL/TU ngày 18/10/2022 của Ban Thường vụ Tỉnh ủy Khánh Hòa", "KL",
     "Kết luận", 91, "KL/TU", date(2022, 10, 18), "Ban Thường vụ Tỉnh ủy Khánh Hòa", None),
    ("Nghị quyết số 18/2017/NQ-HĐND ngày 07/12/2017 của HĐND tỉnh Khánh Hòa", "NQ",
     "Nghị quyết", 18, "NQ-HĐND", date(2017, 12, 7), "HĐND tỉnh Khánh Hòa", 2017),
    ("Kế hoạch số 56/KH-UBND-ISO ngày 13/01/2023", "KH", "Kế hoạch", 56, "KH-UBND-ISO",
     date(2023, 1, 13), HOME, None),
    ("phương án số 158/PA-UBND ngày 16/02/2023", "PA", "Phương án", 158, "PA-UBND",
     date(2023, 2, 16), HOME, None),
    ("Kế hoạch số 223/KH-UBND ngày 06 tháng 3 năm 2023", "KH", "Kế hoạch", 223, "KH-UBND",
     date(2023, 3, 6), HOME, None),
    ("Kế hoạch số 223/KH-UBND ngày 6-3-2023", "KH", "Kế hoạch", 223, "KH-UBND",
     date(2023, 3, 6), HOME, None),
    ("Kế hoạch số 223/KH-UBND 06/03/2023", "KH", "Kế hoạch", 223, "KH-UBND",
     date(2023, 3, 6), HOME, None),
    ("Nghị định số 29/2023/NĐ-CP ngày 03/6/2023", "NĐ", "Nghị định", 29, "NĐ-CP",
     date(2023, 6, 3), HOME, 2023),
    ("Thông tư số 01/2018/TT-VPCP ngày 23/11/2018", "TT", "Thông tư", 1, "TT-VPCP",
     date(2018, 11, 23), HOME, 2018),
    ("56/2021/TT-BCA ngày 11/5/2021", "TT", "Thông tư", 56, "TT-BCA", date(2021, 5, 11),
     HOME, 2021),
    ("Chương trình số 12-CTr/TU ngày 10/3/2021", "CTr", "Chương trình", 12, "CTr/TU",
     date(2021, 3, 10), HOME, None),
    ("Nghị quyết số 16-NQ/TU ngày 01/02/2022", "NQ", "Nghị quyết", 16, "NQ/TU",
     date(2022, 2, 1), HOME, None),
    ("Hướng dẫn số 36-HD/VPTW ngày 03/4/2018", "HD", "Hướng dẫn", 36, "HD/VPTW",
     date(2018, 4, 3), HOME, None),
    ("910/UBND-VP ngày 28/7/2023", "CV", "Công văn", 910, "UBND-VP", date(2023, 7, 28),
     HOME, None),
    ("58/UBND-ISO ngày 13/01/2023", "CV", "Công văn", 58, "UBND-ISO", date(2023, 1, 13),
     HOME, None),
    ("QĐ số 19/QĐ-UBND ngày 31/01/2023", "QĐ", "Quyết định", 19, "QĐ-UBND",
     date(2023, 1, 31), HOME, None),
    ("quyết định số 19/QĐ-UBND ngày 31/01/2023", "QĐ", "Quyết định", 19, "QĐ-UBND",
     date(2023, 1, 31), HOME, None),
    ("Ke hoach so 223/KH-UBND ngay 06/3/2023", "KH", "Kế hoạch", 223, "KH-UBND",
     date(2023, 3, 6), HOME, None),
    ("Quyết định số 19/Q\u00d0\u2013UBND ngày 31/01/2023", "QĐ", "Quyết định", 19, "QĐ-UBND",
     date(2023, 1, 31), HOME, None),
    ("Kế hoạch số 223/KH-UBND của Uỷ  ban nhân dân xã Vĩnh Thạnh, ngày 06/3/2023", "KH",
     "Kế hoạch", 223, "KH-UBND", date(2023, 3, 6), HOME, None),
    ("Chương trình số 02/CTR-UBND ngày 01/3/2023", "CTr", "Chương trình", 2, "CTr-UBND",
     date(2023, 3, 1), HOME, None),
    ("Công văn số 59-CV/TU ngày 28/12/2020", "CV", "Công văn", 59, "CV/TU",
     date(2020, 12, 28), HOME, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "code", "name", "number", "symbol", "issued_on", "issuer", "legal_year"), ACCEPTED
)
def test_accepts_what_officers_write(
    text: str,
    code: str,
    name: str,
    number: int,
    symbol: str,
    issued_on: date,
    issuer: str,
    legal_year: int | None,
) -> None:
    ref = parse(text)
    assert (ref.type_code, ref.type_name, ref.number, ref.symbol) == (code, name, number, symbol)
    assert ref.issued_on == issued_on
    assert ref.issuer == issuer
    assert ref.legal_year == legal_year
    assert ref.is_party is ("/" in symbol)
    assert parse(ref.render(HOME)) == ref
    assert parse(ref.canonical, default_issuer=None) == ref


def test_party_documents_are_flagged_and_keyed_by_term() -> None:
    ref = parse("Kết luận số 91-KL/TU ngày 18/10/2022 của Ban Thường vụ Tỉnh ủy Khánh Hòa")
    assert ref.is_party and ref.family is Family.PARTY
    assert ref.key == ("ban thuong vu tinh uy khanh hoa", "2020-2025", 91, "KL/TU")
    admin = parse("Kế hoạch số 223/KH-UBND ngày 06/3/2023")
    assert not admin.is_party
    assert admin.key == ("ubnd xa vinh thanh", "2023", 223, "KH-UBND")
    legal = parse("Nghị quyết số 18/2017/NQ-HĐND ngày 07/12/2017 của HĐND tỉnh Khánh Hòa")
    assert legal.key == ("hdnd tinh khanh hoa", "2017", 18, "2017/NQ-HĐND") and legal.is_legal


def test_legal_and_individual_decisions_are_numbered_apart() -> None:
    individual = parse("Quyết định số 12/QĐ-UBND ngày 06/3/2023")
    normative = parse("Quyết định số 12/2023/QĐ-UBND ngày 06/3/2023")
    assert individual.family is Family.ADMIN and normative.family is Family.LEGAL
    assert individual != normative
    assert individual.key != normative.key


def test_party_numbers_restart_per_term_not_per_year() -> None:
    a = parse("Chương trình số 12-CTr/TU ngày 10/3/2021")
    b = parse("Chương trình số 12-CTr/TU ngày 10/3/2024")
    assert a.key == b.key  # one term: the same number is the same document
    c = parse("Nghị quyết số 01-NQ/ĐU ngày 30/6/2020")
    d = parse("Nghị quyết số 01-NQ/ĐU ngày 01/7/2020")
    assert c.key != d.key
    assert party_term(date(2021, 3, 1), "VPTW") == "2021-2026"
    assert party_term(date(2021, 1, 15), "TW") == "2016-2021"


def test_issuer_spellings_share_one_key() -> None:
    spellings = [
        "của UBND thành phố Nha Trang",
        "của Ủy ban nhân dân thành phố Nha Trang",
        "của Uỷ ban nhân dân  thành phố   Nha Trang.",
        "của ủy ban nhân dân thành phố Nha Trang",
        "của Ubnd thành phố Nha Trang",
    ]
    refs = [parse(f"Công văn số 1125/UBND-VP ngày 01/3/2022 {s}") for s in spellings]
    assert {r.issuer for r in refs} == {"UBND thành phố Nha Trang"}
    assert len({r.key for r in refs}) == 1
    assert normalize_issuer("Hội đồng nhân dân tỉnh Khánh Hòa") == "HĐND tỉnh Khánh Hòa"
    assert issuer_key("HĐND tỉnh Khánh Hòa") == "hdnd tinh khanh hoa"


def test_default_issuer_applies_only_without_cua() -> None:
    assert parse("Kế hoạch số 223/KH-UBND ngày 06/3/2023", default_issuer=None).issuer is None
    assert parse("Kế hoạch số 223/KH-UBND ngày 06/3/2023").issuer == HOME
    other = parse("Kế hoạch số 223/KH-UBND ngày 06/3/2023 của UBND phường Vĩnh Hải")
    assert other.issuer == "UBND phường Vĩnh Hải"


def test_subject_after_the_issuer_is_kept_aside() -> None:
    ref = parse("Kế hoạch số 223/KH-UBND ngày 06/3/2023 của UBND xã Vĩnh Thạnh về việc CCHC")
    assert ref.issuer == HOME and ref.subject == "về việc CCHC"
    assert ref == parse("Kế hoạch số 223/KH-UBND ngày 06/3/2023")


def test_bare_number_and_symbol_is_read_without_a_date() -> None:
    cv = parse_number_symbol("910/UBND-VP")
    assert cv.doc_type is CONG_VAN and cv.number == 910 and cv.symbol == "UBND-VP"
    assert parse_number_symbol("58/UBND-ISO").doc_type is CONG_VAN
    assert str(parse_number_symbol("Kế hoạch số 5/KH-UBND")) == "Kế hoạch số 05/KH-UBND"


# --------------------------------------------------------------------------- rendering


def test_render_follows_decree_30_padding() -> None:
    assert parse("Quyết định số 5/QĐ-UBND ngày 1/2/2023").render() == (
        "Quyết định số 05/QĐ-UBND ngày 01/02/2023 của UBND xã Vĩnh Thạnh"
    )
    assert parse("Quyết định số 5/QĐ-UBND ngày 1/2/2023").render(HOME) == (
        "Quyết định số 05/QĐ-UBND ngày 01/02/2023"
    )
    assert nd30_date(date(2023, 3, 6)) == "06/3/2023"
    assert nd30_date(date(2023, 1, 31)) == "31/01/2023"
    assert nd30_date(date(2023, 2, 16)) == "16/02/2023"
    assert nd30_date(date(2023, 12, 9)) == "09/12/2023"


def test_render_appends_issuer_only_when_not_the_default() -> None:
    text = "công văn 1125/UBND-VP ngày 01/3/2022 của UBND thành phố Nha Trang"
    assert parse(text).render(HOME) == (
        "Công văn số 1125/UBND-VP ngày 01/3/2022 của UBND thành phố Nha Trang"
    )
    assert parse(text).render("Ủy ban nhân dân thành phố Nha Trang") == (
        "Công văn số 1125/UBND-VP ngày 01/3/2022"
    )
    assert parse("Kết luận số 91-KL/TU ngày 18/10/2022", default_issuer=None).render() == (
        "Kết luận số 91-KL/TU ngày 18/10/2022"
    )


def test_render_number_is_the_short_second_citation() -> None:
    assert parse("Quyết định số 5/QĐ-UBND ngày 1/2/2023").render_number() == "05/QĐ-UBND"
    assert parse("Kết luận số 91-KL/TU ngày 18/10/2022").render_number() == "91-KL/TU"
    legal = parse("Nghị quyết số 18/2017/NQ-HĐND ngày 07/12/2017")
    assert legal.render_number() == "18/2017/NQ-HĐND"


def test_canonical_is_fully_padded_and_carries_the_issuer() -> None:
    ref = parse("Kế hoạch số 9/KH-UBND ngày 6/3/2023")
    assert ref.canonical == "Kế hoạch số 09/KH-UBND ngày 06/03/2023 của UBND xã Vĩnh Thạnh"
    assert parse(ref.canonical, default_issuer="UBND phường Vĩnh Hải") == ref


# --------------------------------------------------------------------------- rejected

REJECTED = [
    # impossible dates and the report's real typos
    ("Kế hoạch số 12/KH-UBND ngày 30/02/2023",
     "Ngày 30/02/2023 không tồn tại (tháng 2 năm 2023 chỉ có 28 ngày)"),
    ("Kế hoạch số 12/KH-UBND ngày 31/4/2023", "tháng 4 năm 2023 chỉ có 30 ngày"),
    ("Kế hoạch số 12/KH-UBND ngày 29/02/2023", "chỉ có 28 ngày"),
    ("Kế hoạch số 12/KH-UBND ngày 6/13/2023", "Tháng 13 không tồn tại"),
    ("Kế hoạch số 12/KH-UBND ngày 0/3/2023", "không có ngày 0"),
    ("Thông báo số 15/TB-UBND ngày 24/02/20232", "có 5 chữ số"),
    ("Quyết định số 19/QĐ-UBND ngày 31/01//2023", "hai dấu '/' liền nhau"),
    ("Kế hoạch số 12/KH-UBND ngày 06/3/23", "phải ghi đủ 4 chữ số"),
    ("Kế hoạch số 12/KH-UBND ngày 06/3-2023", "dùng lẫn các dấu phân cách"),
    ("Kế hoạch số 12/KH-UBND ngày 06/3", "chưa đủ ngày, tháng, năm"),
    ("Kế hoạch số 12/KH-UBND ngày 06/3/1899", "Năm 1899"),
    # the type word contradicts the symbol
    ("Kế hoạch số 84/QĐ-UBND", "không khớp với ký hiệu 'QĐ-UBND'"),
    ("Kế hoạch số 70/UBND-ISO", "Kế hoạch phải có chữ viết tắt 'KH'"),
    ("Công văn số 12/KH-UBND ngày 01/3/2023", "Công văn không có chữ viết tắt tên loại"),
    ("Kế hoạch số 5/QD-UBND ngày 01/3/2023", "'QD' không phải chữ viết tắt"),
    ("Kết luận số 91/UBND ngày 01/3/2023", "Kết luận là văn bản của Đảng"),
    ("Nghị định số 29/NĐ-CP ngày 01/3/2023", "số phải kèm năm ban hành"),
    ("Kế hoạch số 12/2023/KH-UBND ngày 01/3/2023", "không kèm năm ban hành"),
    ("Phương án số 12-PA/TU ngày 01/3/2023", "không phải loại văn bản của Đảng"),
    ("Thông tư số 03-TT/TW ngày 01/3/2023", "Thông tư không phải loại văn bản của Đảng"),
    # abbreviations
    ("123/CV-UBND ngày 01/3/2023", "'CV' không phải chữ viết tắt tên loại văn bản"),
    ("Công văn số 123/CV-UBND ngày 01/3/2023", "công văn không có chữ viết tắt tên loại"),
    ("CV số 910/UBND ngày 01/3/2023", "'CV' không phải chữ viết tắt"),
    ("5/QD-UBND ngày 01/3/2023", "có phải 'QĐ' (Quyết định)?"),
    ("5/UQ-UBND ngày 01/3/2023", "chữ viết tắt cũ theo Thông tư 01/2011/TT-BNV"),
    ("05/TT-BCA ngày 01/3/2023", "số phải kèm năm ban hành"),
    ("91/KL-TU ngày 01/3/2023", "văn bản của Đảng"),
    ("12-XY/TU ngày 01/3/2023", "không phải chữ viết tắt tên loại văn bản của Đảng"),
    ("Kế hoạck số 12/KH-UBND ngày 01/3/2023", "Không nhận ra loại văn bản 'Kế hoạck'"),
    # number and symbol
    ("Kế hoạch số /KH-UBND ngày 01/3/2023", "Thiếu số văn bản"),
    ("Kế hoạch số 0/KH-UBND ngày 01/3/2023", "Số văn bản phải lớn hơn 0"),
    ("Kế hoạch số 005/KH-UBND ngày 01/3/2023", "chữ số 0 thừa ở đầu"),
    ("Kế hoạch số 1234567/KH-UBND ngày 01/3/2023", "quá dài"),
    ("Kế hoạch số 12/KH ngày 01/3/2023", "thiếu chữ viết tắt tên cơ quan ban hành"),
    ("Kế hoạch số 12/KH--UBND ngày 01/3/2023", "nhóm chữ rỗng"),
    ("Kế hoạch số 12//KH-UBND ngày 01/3/2023", "hai dấu '/' liền nhau"),
    ("91/KL/TU ngày 01/3/2023", "quá nhiều dấu '/'"),
    ("Nghị quyết số 18/17/NQ-HĐND ngày 07/12/2017", "phải có đúng 4 chữ số"),
    # date: required, not in the future, consistent with a legal number
    ("910/UBND-VP", "Thiếu ngày ban hành của Công văn số 910/UBND-VP"),
    ("58/UBND-ISO", "Thiếu ngày ban hành của Công văn số 58/UBND-ISO"),
    ("Kế hoạch số 12/KH-UBND ngày 02/6/2025", "sau ngày hôm nay"),
    ("Nghị quyết số 18/2017/NQ-HĐND ngày 07/12/2018", "khác năm ban hành"),
    # garbage and misplaced text
    ("", "Chưa ghi văn bản minh chứng"),
    ("   ", "Chưa ghi văn bản minh chứng"),
    ("đã hoàn thành", "Không tìm thấy số, ký hiệu văn bản"),
    ("Kế hoạch ngày 06/3/2023", "Thiếu số, ký hiệu văn bản"),
    ("06/3/2023", "'06/3/2023' là ngày tháng"),
    ("Kế hoạch số 12/KH-UBND ngày 06/3/2023 abc", "Không hiểu phần 'abc'"),
    ("Kế hoạch số 12/KH-UBND về CCHC ngày 06/3/2023", "Không hiểu phần 'về CCHC'"),
    ("Kế hoạch số 12/KH-UBND ngày 06/3/2023 của", "Thiếu tên cơ quan ban hành sau 'của'"),
    ("Kế hoạch số 12/KH-UBND ngày 06/3/2023 của UBND xã ngày 07/3/2023", "Có hai ngày"),
    ("Kế hoạch số 12/KH-UBND ngày 06/3/2023 về " + "x" * 1000, "quá dài"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "fragment"), REJECTED)
def test_rejects_with_a_precise_reason(text: str, fragment: str) -> None:
    assert fragment in refusal(text).message_vi


def test_never_fixes_input_silently() -> None:
    # each of these "looks close" to a valid reference; none is accepted as something else
    for text in [
        "Thông báo số 15/TB-UBND ngày 24/02/20232",
        "Quyết định số 19/QĐ-UBND ngày 31/01//2023",
        "Kế hoạch số 84/QĐ-UBND ngày 01/3/2023",
        "Kế hoạch số 70/UBND-ISO ngày 01/3/2023",
    ]:
        refusal(text)


# --------------------------------------------------------------------------- properties

_LETTERS = "ABCDEGHIKLMNOPQRSTUVXYĐ"
_RESERVED = (
    {t.code.upper() for t in DOCUMENT_TYPES}
    | set(LEGACY_CODES)
    | {fold(t.code) for t in DOCUMENT_TYPES}
)

organ_part = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(_LETTERS),
    st.text(alphabet=_LETTERS + "0123456789", max_size=5),
).filter(lambda p: p.upper() not in _RESERVED and fold(p) not in _RESERVED)
organs = st.lists(organ_part, min_size=1, max_size=3).map("-".join)

_ISSUER_WORDS = [
    "UBND", "Ủy ban nhân dân", "HĐND", "Hội đồng nhân dân", "xã", "phường", "Vĩnh Thạnh",
    "thành phố", "Nha Trang", "tỉnh", "Khánh Hòa", "Ban Thường vụ", "Tỉnh ủy", "Sở Nội vụ",
    "Văn phòng", "Chính phủ", "Bộ Công an", "Ban Chỉ đạo", "cải cách hành chính", "của",
]  # fmt: skip
_VN = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
issuer_word = st.sampled_from(_ISSUER_WORDS) | st.text(
    alphabet=_VN + _VN.upper(), min_size=1, max_size=8
)
issuers = st.none() | st.lists(issuer_word, min_size=1, max_size=6).map(" ".join).filter(
    lambda s: normalize_issuer(s) is not None and "về" not in s.lower().split()
)
issue_dates = st.dates(min_value=date(1945, 1, 1), max_value=TODAY)


@st.composite
def refs(draw: st.DrawFn) -> DocumentRef:
    doc_type: DocType = draw(st.sampled_from(DOCUMENT_TYPES))
    return DocumentRef.build(
        doc_type,
        draw(st.integers(min_value=1, max_value=999_999)),
        draw(organs),
        draw(issue_dates),
        draw(issuers),
    )


PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@PROPERTY
@given(refs())
def test_render_and_canonical_parse_back_to_an_equal_ref(ref: DocumentRef) -> None:
    assert parse_reference(ref.render(), today=TODAY) == ref
    assert parse_reference(ref.canonical, today=TODAY) == ref
    if ref.issuer is not None:
        home = ref.issuer
        assert parse_reference(ref.render(home), today=TODAY, default_issuer=home) == ref
        assert parse_reference(ref.canonical, today=TODAY, default_issuer="Sở Nội vụ") == ref
        assert " của " not in ref.render(home)
    assert parse_reference(ref.render(), today=TODAY).key == ref.key


@PROPERTY
@given(st.text(alphabet=_VN + _VN.upper() + " ", max_size=40))
def test_issuer_normalisation_is_idempotent(text: str) -> None:
    once = normalize_issuer(text)
    assert normalize_issuer(once) == once
    assert issuer_key(once) == issuer_key(text)


DATE_FORMS = [
    "ngày {d}/{m}/{y}",
    "ngày {d:02d}/{m:02d}/{y}",
    "{d:02d}/{m}/{y}",
    "ngày {d} tháng {m} năm {y}",
    "ngày {d:02d} tháng {m:02d} năm {y}",
    "ngày {d}-{m}-{y}",
    "ngày {d:02d}-{m:02d}-{y}",
    "Ngày {d}.{m}.{y}",
    "ngày: {d}/{m}/{y}",
]


@PROPERTY
@given(issue_dates, st.sampled_from(DATE_FORMS))
def test_every_written_date_form_gives_the_same_date(day: date, form: str) -> None:
    written = form.format(d=day.day, m=day.month, y=day.year)
    ref = parse_reference(f"Kế hoạch số 12/KH-UBND {written}", today=TODAY)
    assert ref.issued_on == day
    assert nd30_date(day) in ref.render()


@st.composite
def impossible_dates(draw: st.DrawFn) -> tuple[int, int, int]:
    y = draw(st.integers(min_value=1945, max_value=TODAY.year))
    if draw(st.booleans()):
        return draw(st.integers(min_value=1, max_value=31)), draw(st.integers(13, 99)), y
    m = draw(st.integers(min_value=1, max_value=12))
    last = calendar.monthrange(y, m)[1]
    d = draw(st.sampled_from([0, *range(last + 1, 100)]))
    return d, m, y


@PROPERTY
@given(impossible_dates(), st.sampled_from(DATE_FORMS))
def test_impossible_dates_are_always_rejected(dmy: tuple[int, int, int], form: str) -> None:
    d, m, y = dmy
    written = form.format(d=d, m=m, y=y)
    with pytest.raises(ValidationFailed) as info:
        parse_reference(f"Kế hoạch số 12/KH-UBND {written}", today=TODAY)
    assert "không tồn tại" in info.value.message_vi


@PROPERTY
@given(issue_dates, st.integers(min_value=1, max_value=3000))
def test_future_dates_are_always_rejected(day: date, ahead: int) -> None:
    later = TODAY + timedelta(days=ahead)
    with pytest.raises(ValidationFailed) as info:
        parse_reference(f"Kế hoạch số 12/KH-UBND ngày {nd30_date(later)}", today=TODAY)
    assert "sau ngày hôm nay" in info.value.message_vi
    assert parse_reference(f"Kế hoạch số 12/KH-UBND ngày {nd30_date(day)}", today=TODAY)


def _only_validation_failed(text: str) -> None:
    try:
        ref = parse_reference(text, today=TODAY, default_issuer=HOME)
    except ValidationFailed as err:
        assert err.field == "doc"
        assert err.message_vi
        return
    assert ref.number > 0 and ref.issued_on <= TODAY
    assert parse_reference(ref.canonical, today=TODAY) == ref


@settings(deadline=None, max_examples=300)
@given(st.text())
def test_arbitrary_text_only_ever_raises_validation_failed(text: str) -> None:
    _only_validation_failed(text)


_NEAR_MISS = [
    *"0123456789/-.:, ",
    "ngày ", "tháng ", "năm ", "số ", "của ", "về ", "Kế hoạch ", "Công văn ", "Kết luận ",
    "KH", "QĐ", "QD", "CV", "UBND", "TU", "ISO", "NQ", "HĐND", "Ð", "–", "\u00a0", "2023",
]  # fmt: skip


@settings(deadline=None, max_examples=500)
@given(st.lists(st.sampled_from(_NEAR_MISS), max_size=25).map("".join))
def test_reference_like_noise_only_ever_raises_validation_failed(text: str) -> None:
    _only_validation_failed(text)


@PROPERTY
@given(refs(), st.integers(min_value=0, max_value=200), st.sampled_from(list("/-0 .x9")))
def test_mutated_references_parse_consistently_or_are_refused(
    ref: DocumentRef, at: int, char: str
) -> None:
    text = ref.render()
    assume(at < len(text))
    _only_validation_failed(text[:at] + char + text[at + 1 :])


# --------------------------------------------------------------------------- free text


def test_mentions_in_a_result_text_are_each_checked() -> None:
    text = (
        "Đã ban hành Kế hoạch số 223/KH-UBND ngày 06/3/2023 của UBND xã Vĩnh Thạnh về triển "
        "khai CCHC; theo Kế hoạch số 223/KH-UBND, thực hiện Quyết định số 19/QĐ-UBND ngày "
        "31/01//2023 và Thông báo số 15/TB-UBND ngày 24/02/20232, đạt 12/12 chỉ tiêu (100%)."
    )
    found = find_mentions(text, TODAY)
    assert [m.text for m in found] == [
        "Kế hoạch số 223/KH-UBND ngày 06/3/2023 của UBND xã Vĩnh Thạnh",
        "Kế hoạch số 223/KH-UBND",
        "Quyết định số 19/QĐ-UBND ngày 31/01//2023",
        "Thông báo số 15/TB-UBND ngày 24/02/20232",
    ]
    first, repeat, bad_slash, bad_year = found
    assert first.ref is not None and first.ref.issuer == HOME
    assert repeat.ref == first.ref and repeat.error is None  # NĐ 30: a repeat needs no date
    assert bad_slash.ref is None and bad_slash.error is not None
    assert "hai dấu '/' liền nhau" in bad_slash.error.message_vi
    assert bad_year.error is not None and "có 5 chữ số" in bad_year.error.message_vi


def test_a_first_citation_without_date_is_an_error_in_free_text() -> None:
    (only,) = find_mentions("Thực hiện Công văn 910/UBND-VP của UBND thành phố", TODAY)
    assert only.error is not None and "Thiếu ngày ban hành" in only.error.message_vi
    party = find_mentions(
        "Quán triệt Kết luận số 91-KL/TU ngày 18/10/2022 của Ban Thường vụ "
        "Tỉnh ủy Khánh Hòa đến 100% đảng viên",
        TODAY,
    )
    assert [m.ref.render() for m in party if m.ref] == [
        "Kết luận số 91-KL/TU ngày 18/10/2022 của Ban Thường vụ Tỉnh ủy Khánh Hòa"
    ]
    assert find_mentions("Đạt 45/45 hồ sơ ngày 06/3/2023, ISO 9001:2015, và/hoặc", TODAY) == []


def test_a_citation_takes_the_date_that_opens_its_clause() -> None:
    text = (
        "- Ngày 30/01/2023, UBND xã đã ban hành Quyết định số 18/QĐ-UBND về việc công khai;\n"
        "+ Ngày 31/01//2023, UBND xã ban hành Quyết định số: 19/QĐ-UBND.\n"
        "theo Nghị định 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ (*được sửa đổi bổ sung "
        "ngày 06/12/2021 bởi Nghị định 107/2021/NĐ-CP*)"
    )
    q18, q19, nd61, nd107 = find_mentions(text, TODAY, HOME)
    assert q18.ref is not None and q18.ref.issued_on == date(2023, 1, 30)
    assert q18.text == "Quyết định số 18/QĐ-UBND"
    assert q19.error is not None and "hai dấu '/' liền nhau" in q19.error.message_vi
    assert nd61.ref is not None and nd61.ref.issuer == "Chính phủ"
    assert nd107.ref is not None and nd107.ref.issued_on == date(2021, 12, 6)
    assert nd107.text == "Nghị định 107/2021/NĐ-CP"


def test_a_clause_date_is_borrowed_only_for_an_issued_document() -> None:
    text = (
        "Kế hoạch số 223/KH-UBND ngày 06/3/2023; Ngày 05/4/2023, xã họp theo Kế hoạch số "
        "223/KH-UBND; Ngày 07/4/2023, xã họp theo Kế hoạch số 9/KH-UBND"
    )
    first, repeat, unknown = find_mentions(text, TODAY, HOME)
    assert first.ref is not None and repeat.ref == first.ref
    assert unknown.error is not None and "Thiếu ngày ban hành" in unknown.error.message_vi


def test_one_number_cited_with_two_dates_shares_one_key() -> None:
    text = (
        "theo hướng dẫn tại công văn 1125/UBND-VP ngày 01/3/2022 của UBND thành phố Nha Trang; "
        "công văn 1125/UBND-VP ngày 28/02/2022 của UBND thành phố Nha Trang"
    )
    a, b = find_mentions(text, TODAY, HOME)
    assert a.ref is not None and b.ref is not None
    assert a.ref.key == b.ref.key and a.ref.issued_on != b.ref.issued_on


@settings(deadline=None, max_examples=300)
@given(st.text() | st.lists(st.sampled_from(_NEAR_MISS), max_size=40).map("".join))
def test_finding_mentions_never_crashes(text: str) -> None:
    for m in find_mentions(text, TODAY):
        assert (m.ref is None) != (m.error is None)
        assert m.text
