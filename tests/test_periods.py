"""Reporting periods: Nghị định 09/2019/NĐ-CP Điều 12 cut-offs, and Khánh Hòa's day-earlier one."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.domain.periods import (
    NATIONAL_CUTOFF_DAY,
    ReportingPeriod,
    parse_period,
    period_containing,
    quarters_of,
)
from engine.errors import ValidationFailed
from vntext.dates import nd30_date


def test_national_cutoff_is_14() -> None:
    assert NATIONAL_CUTOFF_DAY == 14


def test_q3_2023_nationally() -> None:
    p = parse_period("2023-Q3")
    assert (p.start, p.end) == (date(2023, 6, 15), date(2023, 9, 14))
    assert (p.kind, p.year, p.number, p.code) == ("quarter", 2023, 3, "2023-Q3")


def test_q3_2023_as_the_seed_report_khanh_hoa_cutoff_13() -> None:
    p = parse_period("2023-Q3", cutoff_day=13)
    assert (p.start, p.end) == (date(2023, 6, 14), date(2023, 9, 13))
    assert p.label_vi == "Quý III năm 2023"
    assert p.range_vi == "Từ ngày 14/6/2023 đến 13/9/2023"


def test_q1_crosses_the_year() -> None:
    p = parse_period("2024-Q1")
    assert (p.start, p.end) == (date(2023, 12, 15), date(2024, 3, 14))
    assert p.label_vi == "Quý I năm 2024"
    assert p.range_vi == "Từ ngày 15/12/2023 đến 14/3/2024"


@pytest.mark.parametrize(
    ("code", "start", "end", "label"),
    [
        ("2023-Q2", date(2023, 3, 15), date(2023, 6, 14), "Quý II năm 2023"),
        ("2023-Q4", date(2023, 9, 15), date(2023, 12, 14), "Quý IV năm 2023"),
        ("2023-H1", date(2022, 12, 15), date(2023, 6, 14), "6 tháng đầu năm 2023"),
        ("2023-Y", date(2022, 12, 15), date(2023, 12, 14), "năm 2023"),
    ],
)
def test_other_periods(code: str, start: date, end: date, label: str) -> None:
    p = parse_period(code)
    assert (p.start, p.end, p.label_vi) == (start, end, label)


def test_codes_are_normalised() -> None:
    assert parse_period(" 2023-q3 ").code == "2023-Q3"
    assert parse_period("2023-y").code == "2023-Y"


def test_round_trip_and_frozen() -> None:
    p = parse_period("2024-Q2", 13)
    assert parse_period(p.code, p.cutoff_day) == p
    with pytest.raises(AttributeError):
        p.code = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "vi_part"),
    [
        ("2023-Q5", "quý 5 không tồn tại"),
        ("2023-Q0", "quý 0 không tồn tại"),
        ("2023-H3", "chỉ có H1 (6 tháng đầu năm) và H2"),
        ("2023-M13", "tháng 13 không tồn tại"),
        ("2023-M00", "tháng 00 không tồn tại"),
        ("2023Q3", "không hợp lệ"),
        ("Q3-2023", "không hợp lệ"),
        ("", "không hợp lệ"),
        ("1999-Q1", "nằm ngoài khoảng"),
    ],
)
def test_bad_codes(code: str, vi_part: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_period(code)
    err = info.value
    assert err.field == "period"
    assert err.problems[0].value == code
    assert vi_part in err.message_vi
    assert err.message_en


@pytest.mark.parametrize("cutoff", [0, 32, -1])
def test_bad_cutoff(cutoff: int) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_period("2023-Q3", cutoff)
    assert info.value.field == "cutoff_day"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (date(2023, 6, 14), "14/6/2023"),
        (date(2023, 3, 5), "05/3/2023"),
        (date(2024, 1, 15), "15/01/2024"),
        (date(2024, 2, 9), "09/02/2024"),
        (date(2023, 12, 3), "03/12/2023"),
        (date(2023, 10, 31), "31/10/2023"),
    ],
)
def test_nd30_date_format(value: date, shown: str) -> None:
    assert nd30_date(value) == shown


@pytest.mark.parametrize(
    ("d", "cutoff", "code"),
    [
        (date(2023, 9, 14), 14, "2023-Q3"),
        (date(2023, 9, 15), 14, "2023-Q4"),
        (date(2023, 9, 13), 13, "2023-Q3"),
        (date(2023, 9, 14), 13, "2023-Q4"),
        (date(2023, 6, 14), 13, "2023-Q3"),
        (date(2023, 12, 14), 14, "2023-Q4"),
        (date(2023, 12, 20), 14, "2024-Q1"),
        (date(2024, 1, 1), 14, "2024-Q1"),
        (date(2024, 5, 31), 14, "2024-Q2"),
    ],
)
def test_quarter_containing(d: date, cutoff: int, code: str) -> None:
    assert period_containing(d, "quarter", cutoff).code == code


def test_year_and_half_containing() -> None:
    assert period_containing(date(2023, 12, 15), "year").code == "2024-Y"
    assert period_containing(date(2023, 12, 14), "year").code == "2023-Y"
    assert period_containing(date(2023, 6, 1), "half_year").code == "2023-H1"
    assert period_containing(date(2023, 12, 20), "half_year").code == "2024-H1"
    with pytest.raises(ValidationFailed):
        period_containing(date(2023, 7, 20), "half_year")


def test_contains() -> None:
    p = parse_period("2023-Q3", 13)
    assert date(2023, 6, 14) in p
    assert date(2023, 9, 14) not in p
    assert isinstance(p, ReportingPeriod)


@given(st.integers(min_value=2001, max_value=2099), st.integers(min_value=1, max_value=31))
def test_quarters_tile_the_calendar(year: int, cutoff: int) -> None:
    periods = quarters_of(year, cutoff) + quarters_of(year + 1, cutoff)
    for earlier, later in itertools.pairwise(periods):
        assert later.start == earlier.end + timedelta(days=1)
    day = date(year, 1, 1)
    while day.year == year:
        holders = [p for p in periods if p.contains(day)]
        assert len(holders) == 1
        assert period_containing(day, "quarter", cutoff) == holders[0]
        day += timedelta(days=1)


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)),
       st.integers(min_value=1, max_value=31))
def test_year_period_contains_its_day(d: date, cutoff: int) -> None:
    y = period_containing(d, "year", cutoff)
    assert y.contains(d)
    assert parse_period(y.code, cutoff) == y


@pytest.mark.parametrize(("code", "cutoff", "start", "end", "label"), [
    ("2023-H2", 14, date(2023, 6, 15), date(2023, 12, 14), "6 tháng cuối năm 2023"),
    ("2023-9M", 13, date(2022, 12, 14), date(2023, 9, 13), "9 tháng năm 2023"),
    ("2023-M07", 14, date(2023, 6, 15), date(2023, 7, 14), "tháng 7 năm 2023"),
    ("2024-M3", 31, date(2024, 3, 1), date(2024, 3, 31), "tháng 3 năm 2024"),
    ("2024-M02", 30, date(2024, 1, 31), date(2024, 2, 29), "tháng 2 năm 2024"),
    ("2023-Q2", 31, date(2023, 4, 1), date(2023, 6, 30), "Quý II năm 2023"),
    ("2023-Y", 31, date(2023, 1, 1), date(2023, 12, 31), "năm 2023"),
])
def test_more_period_kinds_and_month_end_cutoffs(code: str, cutoff: int, start: date, end: date,
                                                 label: str) -> None:
    p = parse_period(code, cutoff)
    assert (p.start, p.end, p.label_vi) == (start, end, label)
    assert parse_period(p.code, cutoff) == p


@given(st.integers(min_value=2001, max_value=2099), st.integers(min_value=1, max_value=31))
def test_months_tile_the_year_and_contain_their_days(year: int, cutoff: int) -> None:
    months = [parse_period(f"{year}-M{m:02d}", cutoff) for m in range(1, 13)]
    for earlier, later in itertools.pairwise(months):
        assert later.start == earlier.end + timedelta(days=1)
    for p in months:
        assert period_containing(p.start, "month", cutoff) == p
        assert period_containing(p.end, "month", cutoff) == p
    h1, h2 = parse_period(f"{year}-H1", cutoff), parse_period(f"{year}-H2", cutoff)
    assert h2.start == h1.end + timedelta(days=1) and h2.end == months[-1].end
    assert parse_period(f"{year}-9M", cutoff).end == months[8].end
