"""Working days of a Vietnamese commune office: weekends, public holidays and announced swaps.

Why this exists: whether a task is late, and by how many working days, depends on which days
the office is open. Officers (cán bộ, công chức) rest on Saturday and Sunday; public holidays
come from the `holidays` package (Bộ luật Lao động 2019 Điều 112, with the nghỉ bù days of
Điều 111 khoản 3 when a holiday falls on a weekend); on top of that the Government announces,
year by year, swaps ("hoán đổi ngày làm việc"): a weekday off paid back by a Saturday at work.
Those swaps live in `workflows/calendar.yaml`, a file the Phòng Nội vụ can edit and that is
validated (file, line, reason) before use.

Construction is cheap: the data file is parsed once per path and modification time, and each
year's working days are computed on first use and cached.
"""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from engine.domain.holiday_table import days_off
from plans.fields import Text
from plans.loader import load_model_cached
from vntext.dates import format_date_vi, parse_dmy

DEFAULT_CALENDAR_FILE = Path(str(files("workflows").joinpath("calendar.yaml")))
_WEEKDAY_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def _dmy_or_date(value: object) -> object:
    """Dates are written dd/mm/yyyy in the file; an ISO date YAML already parsed is fine too."""
    if isinstance(value, str):
        return parse_dmy(value)
    if isinstance(value, dt.datetime):
        raise ValueError("chỉ ghi ngày, không ghi giờ / write a date, not a date and time")
    return value


DayDate = Annotated[dt.date, BeforeValidator(_dmy_or_date)]


def _show(day: dt.date) -> str:
    return format_date_vi(day)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CalendarDay(_Strict):
    """One announced day: its date, a short Vietnamese note shown to users, and the document."""

    date: DayDate
    note: Text
    source: Text


class DayOff(CalendarDay):
    """A weekday the office closes by an announced swap."""

    @model_validator(mode="after")
    def _weekday(self) -> DayOff:
        d = self.date
        if d.weekday() >= 5:
            raise ValueError(
                f"ngày nghỉ hoán đổi {_show(d)} là {_WEEKDAY_VI[d.weekday()]}, vốn đã là ngày nghỉ "
                f"hằng tuần / extra day off {_show(d)} is a weekend day, already a day off"
            )
        return self


class MakeUpDay(CalendarDay):
    """A Saturday (or Sunday) the office works to pay back a swapped day off."""

    @model_validator(mode="after")
    def _weekend(self) -> MakeUpDay:
        d = self.date
        if d.weekday() < 5:
            raise ValueError(
                f"ngày làm bù {_show(d)} là {_WEEKDAY_VI[d.weekday()]}: ngày làm bù phải là thứ "
                f"Bảy hoặc Chủ nhật / make-up working day {_show(d)} is a weekday: a make-up day "
                "must be a Saturday or Sunday"
            )
        return self


class CalendarYear(_Strict):
    """The swaps announced for one year."""

    year: Annotated[int, Field(ge=2000, le=2100)]
    extra_days_off: list[DayOff] = []
    make_up_working_days: list[MakeUpDay] = []

    @model_validator(mode="after")
    def _coherent(self) -> CalendarYear:
        problems: list[tuple[str, str]] = []
        seen: set[dt.date] = set()
        days: list[CalendarDay] = [*self.extra_days_off, *self.make_up_working_days]
        for day in days:
            d = day.date
            if d.year != self.year:
                problems.append((
                    f"ngày {_show(d)} không thuộc năm {self.year}",
                    f"date {_show(d)} is not in year {self.year}",
                ))
            if d in seen:
                problems.append((
                    f"ngày {_show(d)} được ghi hai lần",
                    f"date {_show(d)} is listed twice",
                ))
            seen.add(d)
        if problems:
            raise ValueError(
                "; ".join(vi for vi, _ in problems) + " / " + "; ".join(en for _, en in problems)
            )
        return self


class CalendarFile(_Strict):
    """`workflows/calendar.yaml`: the announced swaps, year by year."""

    schema_version: Literal[1] = 1
    years: list[CalendarYear] = []

    @model_validator(mode="after")
    def _unique_years(self) -> CalendarFile:
        years = [y.year for y in self.years]
        dupes = sorted({y for y in years if years.count(y) > 1})
        if dupes:
            shown = ", ".join(str(y) for y in dupes)
            raise ValueError(f"năm {shown} được khai báo hai lần / year {shown} is listed twice")
        return self


def load_calendar_file(path: Path | None = None) -> CalendarFile:
    """Read and validate the swaps file; raises `DataFileError` with the line of any mistake."""
    return load_model_cached(CalendarFile, path or DEFAULT_CALENDAR_FILE)


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
        source = data if data is not None else load_calendar_file(path)
        self._swaps: dict[int, CalendarYear] = {y.year: y for y in source.years}
        self._years: dict[int, _Year] = {}

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


__all__ = [
    "DEFAULT_CALENDAR_FILE",
    "CalendarDay",
    "CalendarFile",
    "CalendarYear",
    "DayOff",
    "MakeUpDay",
    "WorkCalendar",
    "load_calendar_file",
]
