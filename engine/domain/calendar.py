"""Working days of a Vietnamese commune office: weekends, public holidays and announced swaps.

Why this exists: whether a task is late, and by how many working days, depends on which days
the office is open. Officers (cán bộ, công chức) rest on Saturday and Sunday; public holidays
come from the `holidays` package (Bộ luật Lao động 2019 Điều 112, with the nghỉ bù days of
Điều 111 khoản 3 when a holiday falls on a weekend); on top of that the Government announces,
year by year, swaps ("hoán đổi ngày làm việc"): a weekday off paid back by a Saturday at work.
Those swaps live in `workflows/calendar.yaml`, a file the Phòng Nội vụ can edit and that is
validated (file, line, reason) before use.

Construction is cheap: the data file (`engine.domain.calendar_file`) is read on first use,
parsed once per path and modification time, and each year's working days are computed on
first use and cached.
"""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.domain.holiday_table import days_off

if TYPE_CHECKING:
    from engine.domain.calendar_file import CalendarFile, CalendarYear


@functools.lru_cache(maxsize=256)
def _statutory(year: int) -> dict[dt.date, str]:
    """Public holidays and nghỉ bù days of `year`, with their Vietnamese names (the swapped
    weekdays the `holidays` package knows of included; `holiday_table`)."""
    return days_off(year)[0]


@functools.lru_cache(maxsize=256)
def _package_make_up_days(year: int) -> frozenset[dt.date]:
    """The weekend days worked to pay a swap back, as far as the `holidays` package knows them
    (it records the day off of a swap as a holiday and its make-up day here)."""
    return days_off(year)[1]


@dataclass(frozen=True)
class _Year:
    working: tuple[int, ...]  # ordinals of working days, sorted
    working_set: frozenset[int]
    names: dict[dt.date, str]


class WorkCalendar:
    """Which days a Vietnamese commune office works, and arithmetic over working days."""

    def __init__(
        self, path: Path | None = None, *, data: CalendarFile | None = None
    ) -> None:
        self._path, self._data = path, data
        self._years: dict[int, _Year] = {}

    @functools.cached_property
    def _swaps(self) -> dict[int, CalendarYear]:
        """The announced swaps by year, read on first use (`load` reads them at once)."""
        from engine.domain.calendar_file import load_calendar_file  # lazy: start time

        source = self._data if self._data is not None else load_calendar_file(self._path)
        return {y.year: y for y in source.years}

    def load(self) -> WorkCalendar:
        """Read and check the swaps file now (a mistake in it is refused here, with its line)."""
        _ = self._swaps
        return self

    # --- per-year cache ---------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        names = dict(_statutory(year))
        swaps = self._swaps.get(year)
        extra_off = {d.date: d.note for d in swaps.extra_days_off} if swaps else {}
        make_up = {d.date for d in swaps.make_up_working_days} if swaps else set()
        make_up |= _package_make_up_days(year)
        names.update(extra_off)
        for d in make_up:
            names.pop(d, None)
        first = dt.date(year, 1, 1).toordinal()
        last = dt.date(year, 12, 31).toordinal()
        working: list[int] = []
        for ordinal in range(first, last + 1):
            day = dt.date.fromordinal(ordinal)
            if day in make_up or (day.weekday() < 5 and day not in names):
                working.append(ordinal)
        info = _Year(tuple(working), frozenset(working), names)
        self._years[year] = info
        return info

    # --- queries ------------------------------------------------------------------------------

    def declared_years(self) -> list[int]:
        """Years `workflows/calendar.yaml` declares (someone checked that year's announcements)."""
        return sorted(self._swaps)

    def missing_years(self, first: dt.date, last: dt.date) -> list[int]:
        """Years between the two dates the calendar file does not declare: their working days
        are the statutory ones only, and an announced swap may be missing."""
        return [y for y in range(first.year, last.year + 1) if y not in self._swaps]

    def is_working_day(self, d: dt.date) -> bool:
        """True on a day the office is open: a weekday that is no holiday, or a make-up day."""
        return d.toordinal() in self._year(d.year).working_set

    def holiday_name(self, d: dt.date) -> str | None:
        """Vietnamese name of the holiday, nghỉ bù or announced day off on `d`, else None."""
        return self._year(d.year).names.get(d)

    def holidays_in(self, year: int) -> list[tuple[dt.date, str]]:
        """Every named day off of `year` (holidays, nghỉ bù, announced swaps), in date order."""
        return sorted(self._year(year).names.items())

    def next_working_day(self, d: dt.date) -> dt.date:
        """`d` itself if the office works that day, else the first working day after it."""
        year, ordinal = d.year, d.toordinal()
        while True:
            working = self._year(year).working
            i = bisect_left(working, ordinal)
            if i < len(working):
                return dt.date.fromordinal(working[i])
            year += 1

    def previous_working_day(self, d: dt.date) -> dt.date:
        """`d` itself if the office works that day, else the last working day before it."""
        year, ordinal = d.year, d.toordinal()
        while True:
            working = self._year(year).working
            i = bisect_right(working, ordinal)
            if i > 0:
                return dt.date.fromordinal(working[i - 1])
            year -= 1

    def add_working_days(self, d: dt.date, n: int) -> dt.date:
        """The n-th working day after `d` (n > 0), before it (n < 0), or `d` itself (n == 0).

        For n > 0 exactly n working days lie in (d, result]; for n < 0 exactly -n lie in
        [result, d). Used for "trong 05 ngày làm việc kể từ ngày nhận" style deadlines.
        """
        ordinal = d.toordinal()
        year = d.year
        remaining = abs(n)
        if n > 0:
            while True:
                working = self._year(year).working
                i = bisect_right(working, ordinal)
                available = len(working) - i
                if remaining <= available:
                    return dt.date.fromordinal(working[i + remaining - 1])
                remaining -= available
                year += 1
        if n < 0:
            while True:
                working = self._year(year).working
                i = bisect_left(working, ordinal)
                if remaining <= i:
                    return dt.date.fromordinal(working[i - remaining])
                remaining -= i
                year -= 1
        return d

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days in (a, b] — so a task due `a` and done `b` is that many days late.

        Negative when b < a (minus the working days in (b, a]).
        """
        if a > b:
            return -self.working_days_between(b, a)
        lo, hi = a.toordinal(), b.toordinal()
        total = 0
        for year in range(a.year, b.year + 1):
            working = self._year(year).working
            total += bisect_right(working, hi) - bisect_right(working, lo)
        return total


__all__ = ["WorkCalendar"]
