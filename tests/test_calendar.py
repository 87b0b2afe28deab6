"""The Vietnamese office calendar: holidays, nghỉ bù and the announced swaps of 2023 and 2024."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.domain.calendar import WorkCalendar
from engine.domain.calendar_file import DEFAULT_CALENDAR_FILE, CalendarFile, load_calendar_file
from engine.domain.holiday_table import (
    LAST_YEAR,
    TABLE_FILE,
    days_off,
    from_package,
    table_rows,
)
from plans.errors import DataFileError
from plans.loader import parse_model


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- 2023 -------------------------------------------------------------------------------------


def test_tet_2023_is_20_to_26_january(cal: WorkCalendar) -> None:
    # Văn bản 8056/VPCP-KGVX ngày 01/12/2022: nghỉ từ thứ Sáu 20/01 đến hết thứ Năm 26/01/2023.
    assert all(not cal.is_working_day(d) for d in _span(date(2023, 1, 20), date(2023, 1, 26)))
    assert cal.is_working_day(date(2023, 1, 19))
    assert cal.is_working_day(date(2023, 1, 27))
    assert cal.holiday_name(date(2023, 1, 22)) == "Tết Nguyên Đán"


def test_new_year_2023_observed_on_monday(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(date(2023, 1, 2))
    assert "Tết Dương lịch" in (cal.holiday_name(date(2023, 1, 2)) or "")


def test_30_april_2023_is_five_days_without_make_up(cal: WorkCalendar) -> None:
    # Giỗ Tổ on Saturday 29/4 and 30/4 on Sunday: nghỉ bù Tuesday 2/5 and Wednesday 3/5.
    assert all(not cal.is_working_day(d) for d in _span(date(2023, 4, 29), date(2023, 5, 3)))
    assert cal.is_working_day(date(2023, 5, 4))
    assert cal.holiday_name(date(2023, 4, 29)) == "Ngày Giỗ Tổ Hùng Vương"
    # No swap was announced for 2023: Saturday 6/5/2023 is an ordinary day off.
    assert not cal.is_working_day(date(2023, 5, 6))


def test_national_day_2023_is_1_to_4_september(cal: WorkCalendar) -> None:
    assert all(not cal.is_working_day(d) for d in _span(date(2023, 9, 1), date(2023, 9, 4)))
    assert cal.is_working_day(date(2023, 8, 31))
    assert cal.is_working_day(date(2023, 9, 5))
    assert cal.holiday_name(date(2023, 9, 2)) == "Quốc khánh"


def test_2023_has_249_working_days(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2022, 12, 31), date(2023, 12, 31)) == 249


# --- 2024 -------------------------------------------------------------------------------------


def test_tet_2024_is_8_to_14_february(cal: WorkCalendar) -> None:
    # Văn bản 8662/VPCP-KGVX ngày 03/11/2023; Thông báo 5015/TB-LĐTBXH ngày 22/11/2023.
    assert all(not cal.is_working_day(d) for d in _span(date(2024, 2, 8), date(2024, 2, 14)))
    assert cal.is_working_day(date(2024, 2, 7))
    assert cal.is_working_day(date(2024, 2, 15))


def test_30_april_2024_swap_and_make_up_saturday(cal: WorkCalendar) -> None:
    # Văn bản 2450/VPCP-KGVX ngày 12/4/2024: Monday 29/4 off, worked back on Saturday 4/5.
    assert all(not cal.is_working_day(d) for d in _span(date(2024, 4, 27), date(2024, 5, 1)))
    assert cal.is_working_day(date(2024, 5, 2))
    assert cal.is_working_day(date(2024, 5, 4))
    assert cal.holiday_name(date(2024, 5, 4)) is None
    assert "hoán đổi" in (cal.holiday_name(date(2024, 4, 29)) or "")
    assert not cal.is_working_day(date(2024, 5, 5))
    assert not cal.is_working_day(date(2024, 4, 18))  # Giỗ Tổ Hùng Vương, Thursday


def test_national_day_2024_with_its_extra_day(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(date(2024, 9, 2))
    assert not cal.is_working_day(date(2024, 9, 3))
    assert cal.is_working_day(date(2024, 8, 30))
    assert cal.is_working_day(date(2024, 9, 4))


def test_2024_has_251_working_days(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2023, 12, 31), date(2024, 12, 31)) == 251


def test_without_the_swaps_file_the_package_still_knows_the_2024_swap() -> None:
    bare = WorkCalendar(data=CalendarFile())
    assert bare.is_working_day(date(2024, 5, 4)) and not bare.is_working_day(date(2024, 4, 29))


# --- arithmetic ---------------------------------------------------------------------------------


def test_next_and_previous_working_day_around_tet(cal: WorkCalendar) -> None:
    assert cal.next_working_day(date(2024, 2, 8)) == date(2024, 2, 15)
    assert cal.next_working_day(date(2024, 2, 15)) == date(2024, 2, 15)
    assert cal.previous_working_day(date(2024, 2, 14)) == date(2024, 2, 7)
    assert cal.previous_working_day(date(2024, 2, 7)) == date(2024, 2, 7)


def test_add_working_days(cal: WorkCalendar) -> None:
    assert cal.add_working_days(date(2024, 2, 7), 1) == date(2024, 2, 15)
    assert cal.add_working_days(date(2024, 4, 26), 1) == date(2024, 5, 2)
    assert cal.add_working_days(date(2024, 4, 26), 3) == date(2024, 5, 4)  # make-up Saturday
    assert cal.add_working_days(date(2023, 12, 29), 1) == date(2024, 1, 2)
    assert cal.add_working_days(date(2024, 1, 2), -1) == date(2023, 12, 29)
    assert cal.add_working_days(date(2024, 2, 15), -1) == date(2024, 2, 7)
    assert cal.add_working_days(date(2024, 2, 10), 0) == date(2024, 2, 10)


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2023, 9, 13), date(2023, 9, 13)) == 0
    assert cal.working_days_between(date(2023, 9, 13), date(2023, 9, 14)) == 1
    assert cal.working_days_between(date(2023, 8, 31), date(2023, 9, 5)) == 1
    assert cal.working_days_between(date(2023, 9, 5), date(2023, 8, 31)) == -1
    assert cal.working_days_between(date(2024, 2, 7), date(2024, 2, 15)) == 1


def test_holidays_in_lists_named_days_in_order(cal: WorkCalendar) -> None:
    days = cal.holidays_in(2024)
    assert days == sorted(days)
    assert (date(2024, 9, 2), "Quốc khánh") in days


# --- the data file ------------------------------------------------------------------------------


def test_shipped_file_is_valid_and_cached() -> None:
    data = load_calendar_file()
    assert {y.year for y in data.years} >= {2023, 2024}
    assert load_calendar_file() is data
    assert all(d.source for y in data.years for d in y.extra_days_off + y.make_up_working_days)
    assert DEFAULT_CALENDAR_FILE.name == "calendar.yaml"


def _problems(text: str) -> str:
    with pytest.raises(DataFileError) as info:
        parse_model(CalendarFile, text, "calendar.yaml")
    return info.value.render()


_ENTRY = "        note: x\n        source: y\n"


def test_make_up_day_must_be_a_weekend_day() -> None:
    text = ("years:\n  - year: 2024\n    make_up_working_days:\n      - date: 06/05/2024\n"
            + _ENTRY)
    out = _problems(text)
    assert "phải là thứ Bảy hoặc Chủ nhật" in out
    assert "calendar.yaml:4" in out


def test_extra_day_off_on_a_weekend_is_refused() -> None:
    text = "years:\n  - year: 2024\n    extra_days_off:\n      - date: 04/05/2024\n" + _ENTRY
    out = _problems(text)
    assert "ngày nghỉ hằng tuần" in out
    assert "calendar.yaml:4" in out


def test_date_must_be_in_its_year_and_well_formed() -> None:
    text = "years:\n  - year: 2023\n    extra_days_off:\n      - date: 29/04/2024\n" + _ENTRY
    assert "không thuộc năm 2023" in _problems(text)
    bad = "years:\n  - year: 2024\n    extra_days_off:\n      - date: 31/02/2024\n" + _ENTRY
    out = _problems(bad)
    assert "calendar.yaml:4" in out
    assert "không tồn tại" in out


def test_note_and_source_are_required_and_keys_checked() -> None:
    text = "years:\n  - year: 2024\n    extra_days_off:\n      - date: 29/04/2024\n        nte: x\n"
    out = _problems(text)
    assert "thiếu trường bắt buộc" in out
    assert "không được phép" in out


def test_duplicate_years_and_dates_are_refused() -> None:
    assert "2024 được khai báo hai lần" in _problems("years:\n  - year: 2024\n  - year: 2024\n")
    text = ("years:\n  - year: 2024\n    extra_days_off:\n      - date: 29/04/2024\n" + _ENTRY
            + "      - date: 29/04/2024\n" + _ENTRY)
    assert "ghi hai lần" in _problems(text)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    cal = WorkCalendar(tmp_path / "nope.yaml")  # the file is read on first use (start time)
    with pytest.raises(DataFileError, match="không tìm thấy tệp"):
        cal.load()
    with pytest.raises(DataFileError, match="không tìm thấy tệp"):
        cal.is_working_day(date(2024, 1, 2))


def test_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "years:\n  - year: 2025\n    make_up_working_days:\n      - date: 26/04/2025\n"
        + _ENTRY.replace("note: x", "note: Làm bù"),
        encoding="utf-8",
    )
    assert WorkCalendar(path).is_working_day(date(2025, 4, 26))


# --- properties ---------------------------------------------------------------------------------

DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
_CAL = WorkCalendar()


def _naive_between(a: date, b: date) -> int:
    return sum(_CAL.is_working_day(d) for d in _span(a + timedelta(days=1), b)) if b > a else 0


@given(DATES)
def test_next_working_day_is_working_and_not_before(d: date) -> None:
    n = _CAL.next_working_day(d)
    assert _CAL.is_working_day(n)
    assert n >= d
    assert all(not _CAL.is_working_day(x) for x in _span(d, n - timedelta(days=1)))
    p = _CAL.previous_working_day(d)
    assert _CAL.is_working_day(p)
    assert p <= d


@given(DATES, st.integers(min_value=0, max_value=400))
def test_add_working_days_leaves_exactly_n_between(d: date, n: int) -> None:
    result = _CAL.add_working_days(d, n)
    assert _CAL.working_days_between(d, result) == n
    if n > 0:
        assert _CAL.is_working_day(result)
        assert _CAL.working_days_between(d, result - timedelta(days=1)) == n - 1


@given(DATES, st.integers(min_value=1, max_value=400))
def test_add_negative_working_days_mirrors(d: date, n: int) -> None:
    result = _CAL.add_working_days(d, -n)
    assert _CAL.is_working_day(result)
    assert result < d
    # exactly n working days in [result, d)
    assert _CAL.working_days_between(result - timedelta(days=1), d - timedelta(days=1)) == n


@settings(max_examples=60)
@given(DATES, st.integers(min_value=0, max_value=800))
def test_between_matches_day_by_day_count(a: date, span: int) -> None:
    b = a + timedelta(days=span)
    assert _CAL.working_days_between(a, b) == _naive_between(a, b)
    assert _CAL.working_days_between(b, a) == -_naive_between(a, b)


# --- years after 2024: the `holidays` data the pinned range ships, swaps included -----------


def test_2025_swap_30_april_and_national_day(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(date(2025, 5, 2))  # Friday off, swapped …
    assert cal.is_working_day(date(2025, 4, 26))  # … with Saturday 26/4 worked
    assert [cal.is_working_day(date(2025, 9, d)) for d in (1, 2, 3)] == [False, False, True]
    assert not cal.is_working_day(date(2025, 1, 27))  # Tết Ất Tỵ


def test_2026_swap_end_of_august_and_culture_day(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(date(2026, 8, 31))  # Monday off, swapped …
    assert cal.is_working_day(date(2026, 8, 22))  # … with Saturday 22/8 worked
    assert not cal.is_working_day(date(2026, 4, 27))  # Giỗ Tổ on Sunday: nghỉ bù Monday
    assert not cal.is_working_day(date(2026, 11, 24))  # Ngày Văn hóa Việt Nam
    assert [cal.is_working_day(date(2026, 2, d)) for d in (13, 16, 20, 23)] == [
        True, False, False, True]


def test_the_package_make_up_days_apply_without_the_file() -> None:
    bare = WorkCalendar(data=CalendarFile())
    assert bare.is_working_day(date(2025, 4, 26)) and not bare.is_working_day(date(2025, 5, 2))


def test_years_missing_from_the_calendar_file_are_named(cal: WorkCalendar) -> None:
    assert cal.declared_years() == [2023, 2024, 2025, 2026]
    assert cal.missing_years(date(2026, 12, 15), date(2027, 3, 14)) == [2027]
    assert cal.missing_years(date(2023, 6, 14), date(2023, 9, 13)) == []


# --- the written table of the package's days off (start time) ---------------------------------


def test_the_holiday_table_is_the_packages_answer_year_by_year() -> None:
    """After an upgrade of `holidays` that moves a day: `python -m engine.domain.holiday_table`."""
    written = json.loads(TABLE_FILE.read_text(encoding="utf-8"))["years"]
    assert written == table_rows()["years"]
    assert days_off(2024) == from_package(2024)
    assert list(days_off(2024)[0]) == list(from_package(2024)[0])  # the package's order


def test_a_year_outside_the_table_is_asked_of_the_package() -> None:
    assert str(LAST_YEAR + 1) not in json.loads(TABLE_FILE.read_text(encoding="utf-8"))["years"]
    assert days_off(LAST_YEAR + 1) == from_package(LAST_YEAR + 1)
    assert days_off(LAST_YEAR + 1)[0]  # Tết and the others are there


def test_working_days_of_a_year_in_the_table_do_not_load_the_package() -> None:
    code = ("import sys; from datetime import date; from engine.domain.calendar import "
            "WorkCalendar; cal = WorkCalendar(); "
            "print(cal.next_working_day(date(2024, 2, 9)), 'holidays' in sys.modules)")
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["2024-02-15", "False"]
