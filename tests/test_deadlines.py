"""Vietnamese deadline expressions: what is understood, what is refused and why."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.deadlines import Deadline, DeadlineError, next_due, parse_deadline

Y = 2023


@pytest.mark.parametrize(
    ("text", "kind", "due", "start"),
    [
        ("15/12/2023", "date", date(2023, 12, 15), None),
        ("trước ngày 15/12/2023", "date", date(2023, 12, 15), None),
        ("Trước ngày 15/12/2023", "date", date(2023, 12, 15), None),
        ("chậm nhất ngày 15/12/2023", "date", date(2023, 12, 15), None),
        ("Chậm nhất là ngày 15/12/2023", "date", date(2023, 12, 15), None),
        ("ngày 15 tháng 12 năm 2023", "date", date(2023, 12, 15), None),
        ("Ngày 05 tháng 01 năm 2024", "date", date(2024, 1, 5), None),
        ("15-12-2023", "date", date(2023, 12, 15), None),
        ("15.12.2023", "date", date(2023, 12, 15), None),
        ("trước ngày 15/12", "date", date(2023, 12, 15), None),
        ("29/02/2024", "date", date(2024, 2, 29), None),
        ("Tháng 6/2023", "month", date(2023, 6, 30), date(2023, 6, 1)),
        ("tháng 6 năm 2023", "month", date(2023, 6, 30), date(2023, 6, 1)),
        ("Tháng 02/2024", "month", date(2024, 2, 29), date(2024, 2, 1)),
        ("Trong tháng 12", "month", date(2023, 12, 31), date(2023, 12, 1)),
        ("Quý III/2023", "quarter", date(2023, 9, 30), date(2023, 7, 1)),
        ("Quý 3/2023", "quarter", date(2023, 9, 30), date(2023, 7, 1)),
        ("quý III năm 2023", "quarter", date(2023, 9, 30), date(2023, 7, 1)),
        ("Quý I/2024", "quarter", date(2024, 3, 31), date(2024, 1, 1)),
        ("Quý II", "quarter", date(2023, 6, 30), date(2023, 4, 1)),
        ("Trong quý IV/2023", "quarter", date(2023, 12, 31), date(2023, 10, 1)),
        ("6 tháng đầu năm", "half_year", date(2023, 6, 30), date(2023, 1, 1)),
        ("06 tháng đầu năm 2024", "half_year", date(2024, 6, 30), date(2024, 1, 1)),
        ("6 tháng cuối năm", "half_year", date(2023, 12, 31), date(2023, 7, 1)),
        ("Năm 2023", "year", date(2023, 12, 31), date(2023, 1, 1)),
        ("Trong năm 2023", "year", date(2023, 12, 31), date(2023, 1, 1)),
        ("Trong năm", "year", date(2023, 12, 31), date(2023, 1, 1)),
    ],
)
def test_dated_forms(text: str, kind: str, due: date, start: date | None) -> None:
    d = parse_deadline(text, Y)
    assert (d.kind, d.due, d.start, d.recurrence) == (kind, due, start, None)


@pytest.mark.parametrize(
    ("text", "recurrence"),
    [
        ("Định kỳ hàng tháng", "monthly"),
        ("Hàng tháng", "monthly"),
        ("Hằng tháng", "monthly"),
        ("Định kỳ hàng quý", "quarterly"),
        ("Hằng quý", "quarterly"),
        ("Định kỳ 6 tháng", "six_monthly"),
        ("định kỳ 06 tháng một lần", "six_monthly"),
        ("6 tháng/lần", "six_monthly"),
        ("Hằng năm", "yearly"),
        ("Định kỳ hàng năm", "yearly"),
    ],
)
def test_recurring_forms(text: str, recurrence: str) -> None:
    d = parse_deadline(text, Y)
    assert d == Deadline("recurring", text, None, recurrence)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["Thường xuyên", "thường xuyên, liên tục", "Thường xuyên trong năm", "Hằng ngày"]
)
def test_ongoing(text: str) -> None:
    d = parse_deadline(text, Y)
    assert (d.kind, d.due, d.recurrence) == ("ongoing", None, None)


@pytest.mark.parametrize(
    "text",
    ["QUÝ III/2023", "quy iii/2023", "Quy III / 2023", "  Quý   III/2023.  ", "quý iii năm 2023",
     unicodedata.normalize("NFD", "Quý III/2023")],
)
def test_case_diacritics_and_space_tolerant(text: str) -> None:
    assert parse_deadline(text, Y).due == date(2023, 9, 30)


def test_text_kept_nfc_and_squashed() -> None:
    assert parse_deadline("  Quý   III/2023 ", Y).text == "Quý III/2023"


def test_a_date_in_another_year_is_allowed() -> None:
    assert parse_deadline("trước ngày 15/01/2024", 2023).due == date(2024, 1, 15)
    assert parse_deadline("Quý IV/2022", 2023).due == date(2022, 12, 31)


def test_plan_year_used_when_text_names_none() -> None:
    assert parse_deadline("6 tháng đầu năm", 2024).due == date(2024, 6, 30)
    assert parse_deadline("Quý I", 2024).due == date(2024, 3, 31)


@pytest.mark.parametrize(
    ("text", "vi_part", "en_part"),
    [
        ("Quý V/2023", "quý V không tồn tại", "quarter V does not exist"),
        ("Quý 5/2023", "quý 5 không tồn tại", "quarter 5 does not exist"),
        ("Quý 0", "quý 0 không tồn tại", "quarter 0 does not exist"),
        ("Quý IIII/2023", "không phải số quý hợp lệ", "not a valid quarter number"),
        ("Tháng 13/2023", "tháng 13 không tồn tại", "month 13 does not exist"),
        ("tháng 0 năm 2023", "tháng 0 không tồn tại", "month 0 does not exist"),
        ("31/02/2023", "ngày 31/02/2023 không tồn tại", "not a real date"),
        ("29/02/2023", "chỉ có 28 ngày", "has only 28 days"),
        ("31/4/2023", "chỉ có 30 ngày", "has only 30 days"),
        ("0/5/2023", "không tồn tại", "not a real date"),
        ("15/13/2023", "tháng 13 không tồn tại", "month 13 does not exist"),
        ("ngày 32 tháng 1 năm 2023", "chỉ có 31 ngày", "has only 31 days"),
        ("15/12/23", "4 chữ số", "4 digits"),
        ("15/12/2203", "năm 2203 nằm ngoài", "outside the allowed range"),
        ("", "chưa ghi thời hạn", "empty"),
        ("   ", "chưa ghi thời hạn", "empty"),
        ("Định kỳ", "chưa rõ định kỳ", "period is unclear"),
        ("6 tháng", "chưa rõ định kỳ", "period is unclear"),
        ("Sớm nhất có thể", "không hiểu được thời hạn", "not understood"),
        ("Quý III và quý IV", "không hiểu được thời hạn", "not understood"),
    ],
)
def test_refusals_are_precise(text: str, vi_part: str, en_part: str) -> None:
    with pytest.raises(DeadlineError) as info:
        parse_deadline(text, Y)
    assert vi_part in info.value.message_vi
    assert en_part in info.value.message_en
    assert info.value.text == text


def test_error_is_a_value_error_with_both_languages() -> None:
    with pytest.raises(ValueError, match="Quý V"):
        parse_deadline("Quý V", Y)


@pytest.mark.parametrize(
    ("recurrence", "after", "expected"),
    [
        ("Hằng tháng", date(2023, 2, 10), date(2023, 2, 28)),
        ("Hằng tháng", date(2024, 2, 29), date(2024, 2, 29)),
        ("Hằng quý", date(2023, 7, 1), date(2023, 9, 30)),
        ("Hằng quý", date(2023, 9, 30), date(2023, 9, 30)),
        ("Hằng quý", date(2023, 10, 1), date(2023, 12, 31)),
        ("Định kỳ 6 tháng", date(2023, 6, 30), date(2023, 6, 30)),
        ("Định kỳ 6 tháng", date(2023, 7, 1), date(2023, 12, 31)),
        ("Hằng năm", date(2023, 1, 1), date(2023, 12, 31)),
    ],
)
def test_next_due_recurring(recurrence: str, after: date, expected: date) -> None:
    assert next_due(parse_deadline(recurrence, Y), after) == expected


def test_next_due_other_kinds() -> None:
    assert next_due(parse_deadline("Thường xuyên", Y), date(2023, 5, 1)) is None
    q3 = parse_deadline("Quý III/2023", Y)
    assert next_due(q3, date(2023, 9, 30)) == date(2023, 9, 30)
    assert next_due(q3, date(2023, 10, 1)) is None


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_any_written_date_round_trips(d: date) -> None:
    assert parse_deadline(f"trước ngày {d.day}/{d.month:02d}/{d.year}", 2023).due == d
    assert parse_deadline(f"ngày {d.day} tháng {d.month} năm {d.year}", 2023).due == d


@given(st.text())
def test_arbitrary_text_only_ever_raises_deadline_error(text: str) -> None:
    try:
        result = parse_deadline(text, Y)
    except DeadlineError:
        return
    assert isinstance(result, Deadline)


_PIECES = ["quý", "Quý", "tháng", "năm", "ngày", "trước", "chậm nhất", "hằng", "định kỳ", "6",
           "đầu", "cuối", "III", "V", "IIII", "/", "-", ".", " ", "2023", "0", "13", "31", "02",
           "99999999999999999999", "thường xuyên", "trong", "lần", "một", "x"]


@given(st.lists(st.sampled_from(_PIECES), max_size=8).map(" ".join))
def test_near_miss_text_only_ever_raises_deadline_error(text: str) -> None:
    try:
        result = parse_deadline(text, Y)
    except DeadlineError as exc:
        assert exc.message_vi and exc.message_en
        return
    assert result.kind in {"date", "month", "quarter", "half_year", "year", "ongoing",
                           "recurring"}
    assert (result.due is None) == (result.kind in {"ongoing", "recurring"})
