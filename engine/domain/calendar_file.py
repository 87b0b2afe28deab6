"""The announced swaps file (`workflows/calendar.yaml`): its schema and its loader.

Why a module of its own: the working-day calendar (`engine.domain.calendar`) reads the file
the first time it computes a working day; a command that computes none (`cchc task done`)
builds neither the schema nor reads the file (start time, issue 13).
"""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

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


__all__ = [
    "DEFAULT_CALENDAR_FILE",
    "CalendarDay",
    "CalendarFile",
    "CalendarYear",
    "DayOff",
    "MakeUpDay",
    "load_calendar_file",
]
