"""vntext.dates: one formatter and one parser per date format."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vntext.dates import (
    NoSuchDate,
    format_date_vi,
    nd30_date,
    nd30_dmy,
    parse_date_input,
    parse_dmy,
)


@pytest.mark.parametrize(("day", "padded", "nd30"), [
    (date(2023, 6, 14), "14/06/2023", "14/6/2023"),
    (date(2023, 3, 6), "06/03/2023", "06/3/2023"),
    (date(2023, 1, 31), "31/01/2023", "31/01/2023"),
    (date(2023, 2, 5), "05/02/2023", "05/02/2023"),
    (date(2023, 12, 10), "10/12/2023", "10/12/2023"),
])
def test_the_two_printed_forms(day: date, padded: str, nd30: str) -> None:
    assert format_date_vi(day) == padded
    assert nd30_date(day) == nd30


def test_nd30_form_of_a_day_that_does_not_exist() -> None:
    assert nd30_dmy(30, 2, 2023) == "30/02/2023"
    assert nd30_dmy(31, 4, 2023) == "31/4/2023"


@given(st.dates(min_value=date(1945, 1, 1), max_value=date(2100, 12, 31)))
def test_both_forms_read_back(day: date) -> None:
    assert parse_dmy(format_date_vi(day)) == day
    assert parse_dmy(nd30_date(day)) == day
    assert parse_date_input(day.isoformat()) == day


@pytest.mark.parametrize("text", ["20/9/2023", " 20 / 09 / 2023 ", "20/09/2023"])
def test_typed_forms(text: str) -> None:
    assert parse_dmy(text) == date(2023, 9, 20) == parse_date_input(text)


@pytest.mark.parametrize("text", ["2023-09-20", "20-09-2023", "20/09/23", "24/02/20232", "",
                                  "31/01//2023"])
def test_data_files_take_dd_mm_yyyy_only(text: str) -> None:
    with pytest.raises(ValueError, match="dd/mm/yyyy"):
        parse_dmy(text)


@pytest.mark.parametrize("text", ["30/02/2023", "2023-02-30", "31/4/2023"])
def test_no_such_date(text: str) -> None:
    with pytest.raises(NoSuchDate, match="không tồn tại"):
        parse_date_input(text)
