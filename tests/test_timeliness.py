"""Done on time / late, open on time / overdue — with due dates rolled past days off."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.domain.calendar import WorkCalendar
from engine.domain.timeliness import (
    TIMELINESS_LABELS_VI,
    Timeliness,
    effective_due,
    overdue_working_days,
    timeliness,
)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def test_values_and_labels() -> None:
    assert [t.value for t in Timeliness] == [
        "done_on_time", "done_late", "open_on_time", "open_overdue", "ongoing"]
    assert Timeliness.ONGOING.label_vi == "Thường xuyên"
    assert not Timeliness.ONGOING.is_done and not Timeliness.ONGOING.is_late
    assert Timeliness.DONE_ON_TIME.label_vi == "Hoàn thành đúng hạn"
    assert Timeliness.DONE_LATE.label_vi == "Hoàn thành quá hạn"
    assert Timeliness.OPEN_ON_TIME.label_vi == "Đang thực hiện trong hạn"
    assert Timeliness.OPEN_OVERDUE.label_vi == "Quá hạn chưa hoàn thành"
    assert set(TIMELINESS_LABELS_VI) == set(Timeliness)
    assert str(Timeliness.DONE_LATE) == "done_late"


def test_done_on_or_before_due(cal: WorkCalendar) -> None:
    due = date(2023, 9, 13)
    assert timeliness(due, date(2023, 9, 13), date(2023, 9, 13), cal) is Timeliness.DONE_ON_TIME
    assert timeliness(due, date(2023, 9, 1), date(2023, 9, 30), cal) is Timeliness.DONE_ON_TIME
    assert timeliness(due, date(2023, 9, 14), date(2023, 9, 30), cal) is Timeliness.DONE_LATE
    assert overdue_working_days(due, date(2023, 9, 14), date(2023, 9, 30), cal) == 1


def test_due_on_saturday_moves_to_monday(cal: WorkCalendar) -> None:
    due = date(2023, 9, 16)  # Saturday
    assert effective_due(due, cal) == date(2023, 9, 18)
    assert timeliness(due, date(2023, 9, 18), date(2023, 9, 30), cal) is Timeliness.DONE_ON_TIME
    assert timeliness(due, date(2023, 9, 19), date(2023, 9, 30), cal) is Timeliness.DONE_LATE


def test_due_during_tet_2024_moves_past_it(cal: WorkCalendar) -> None:
    due = date(2024, 2, 10)  # mùng 1 Tết Giáp Thìn
    assert effective_due(due, cal) == date(2024, 2, 15)
    assert timeliness(due, None, date(2024, 2, 15), cal) is Timeliness.OPEN_ON_TIME
    assert timeliness(due, None, date(2024, 2, 16), cal) is Timeliness.OPEN_OVERDUE
    assert overdue_working_days(due, None, date(2024, 2, 16), cal) == 1


def test_due_on_the_2024_swapped_monday(cal: WorkCalendar) -> None:
    due = date(2024, 4, 29)
    assert effective_due(due, cal) == date(2024, 5, 2)
    assert timeliness(due, date(2024, 5, 2), date(2024, 5, 31), cal) is Timeliness.DONE_ON_TIME


def test_due_on_national_day_2023(cal: WorkCalendar) -> None:
    assert effective_due(date(2023, 9, 2), cal) == date(2023, 9, 5)


def test_no_due_date_is_never_late(cal: WorkCalendar) -> None:
    assert timeliness(None, None, date(2030, 1, 1), cal) is Timeliness.OPEN_ON_TIME
    assert timeliness(None, date(2023, 5, 5), date(2030, 1, 1), cal) is Timeliness.DONE_ON_TIME
    assert overdue_working_days(None, None, date(2030, 1, 1), cal) == 0


def test_done_after_as_of_counts_as_open(cal: WorkCalendar) -> None:
    due = date(2023, 9, 13)
    as_of = date(2023, 9, 13)  # Khánh Hòa's Q3-2023 cut-off
    assert timeliness(due, date(2023, 9, 20), as_of, cal) is Timeliness.OPEN_ON_TIME
    late_as_of = date(2023, 9, 15)
    assert timeliness(due, date(2023, 9, 20), late_as_of, cal) is Timeliness.OPEN_OVERDUE
    assert overdue_working_days(due, date(2023, 9, 20), late_as_of, cal) == 2


def test_overdue_over_a_weekend(cal: WorkCalendar) -> None:
    due = date(2023, 9, 15)  # Friday
    assert timeliness(due, None, date(2023, 9, 16), cal) is Timeliness.OPEN_OVERDUE
    assert overdue_working_days(due, None, date(2023, 9, 16), cal) == 0
    assert overdue_working_days(due, None, date(2023, 9, 18), cal) == 1
    assert overdue_working_days(due, None, date(2023, 9, 14), cal) == 0


_CAL = WorkCalendar()
DATES = st.dates(min_value=date(2022, 1, 1), max_value=date(2026, 12, 31))


@given(st.none() | DATES, st.none() | DATES, DATES)
def test_status_is_consistent(due: date | None, done_on: date | None, as_of: date) -> None:
    status = timeliness(due, done_on, as_of, _CAL)
    assert status.is_done == (done_on is not None and done_on <= as_of)
    if due is None:
        assert not status.is_late
    late_days = overdue_working_days(due, done_on, as_of, _CAL)
    assert late_days >= 0
    if not status.is_late:
        assert late_days == 0
    if late_days > 0:
        assert status.is_late


@given(DATES, st.integers(min_value=0, max_value=30))
def test_done_on_the_effective_due_is_on_time(due: date, extra: int) -> None:
    eff = effective_due(due, _CAL)
    assert eff is not None
    as_of = eff + timedelta(days=extra)
    assert timeliness(due, eff, as_of, _CAL) is Timeliness.DONE_ON_TIME
