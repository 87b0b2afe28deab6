"""Dates as officers read and type them: one formatter and one parser per format.

Two printed forms, both dd/mm/yyyy in Vietnam's order:
- `format_date_vi`: fully padded, "14/06/2023" — screens, messages, e-mails, the CLI, and the
  stable machine form of a document reference;
- `nd30_date`: as Nghị định 30/2020/NĐ-CP (Phụ lục I) prints dates in administrative documents:
  the day padded below 10, the month only for 01 and 02 ("06/3/2023", "16/02/2023",
  "14/6/2023") — the appendices, the period line and a reference as the seed writes it.

Two parsers: `parse_dmy` for dd/mm/yyyy (data files), `parse_date_input` for what a form or a
command line gets (dd/mm/yyyy, or yyyy-mm-dd from a date picker or a script). Both raise
`ValueError` ("Vietnamese / English"); `NoSuchDate` when the shape is right but the day does not
exist (30/02/2023).
"""

from __future__ import annotations

import re
from datetime import date

_DMY = re.compile(r"^(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class NoSuchDate(ValueError):
    """The text has a date's shape but names no real day."""


def format_date_vi(value: date) -> str:
    """dd/mm/yyyy, fully padded ("14/06/2023")."""
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def nd30_date(value: date) -> str:
    """d/m/yyyy as NĐ 30/2020 writes it: day padded below 10, month only for 01, 02."""
    return nd30_dmy(value.day, value.month, value.year)


def nd30_dmy(day: int, month: int, year: int) -> str:
    """The NĐ 30 form from numbers, also for a day that does not exist (to quote it)."""
    shown_month = f"{month:02d}" if month <= 2 else str(month)
    return f"{day:02d}/{shown_month}/{year}"


def _real(value: str, y: int, m: int, d: int) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise NoSuchDate(f"ngày không tồn tại / no such date: {value!r}") from None


def parse_dmy(value: str) -> date:
    """dd/mm/yyyy as officers write it; anything else is an error with the reason."""
    m = _DMY.match(value.strip())
    if not m:
        raise ValueError(f"ngày phải có dạng dd/mm/yyyy / date must be dd/mm/yyyy: {value!r}")
    d, mo, y = (int(g) for g in m.groups())
    return _real(value, y, mo, d)


def parse_date_input(value: str) -> date:
    """dd/mm/yyyy as typed, or yyyy-mm-dd as a date picker or a script sends it."""
    iso = _ISO.match(value.strip())
    if iso:
        y, mo, d = (int(g) for g in iso.groups())
        return _real(value, y, mo, d)
    return parse_dmy(value)
