"""Reporting periods (kỳ báo cáo) of the periodic CCHC report.

Why not calendar quarters: Nghị định 09/2019/NĐ-CP Điều 12 fixes the data cut-off of periodic
reports ("thời gian chốt số liệu") — a quarter runs from the 15th of the month before the quarter
to the 14th of its last month (Q1 = 15/12 of the previous year – 14/3, Q2 = 15/3 – 14/6,
Q3 = 15/6 – 14/9, Q4 = 15/9 – 14/12); the six-month report 15/12 – 14/6; the year 15/12 – 14/12.
Some provinces cut one day earlier — Khánh Hòa's Q3-2023 report covers 14/6/2023 – 13/9/2023 —
so the cut-off day is a parameter (`cutoff_day`, 14 nationally) and a period starts the day after
the previous period's cut-off. A cut-off day past the end of a month means that month's last day:
31 gives calendar quarters (1/1–31/3, 1/4–30/6 …) and calendar months.

Codes: 2023-Q3 (quarter), 2023-H1 / 2023-H2 (first / last six months), 2023-9M (nine months),
2023-M07 (month), 2023-Y (year).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from engine.errors import ValidationFailed
from vntext.dates import nd30_date

NATIONAL_CUTOFF_DAY = 14
MIN_CUTOFF_DAY = 1
MAX_CUTOFF_DAY = 31  # past a month's end: its last day (31 = calendar quarters and months)
MIN_YEAR = 2000
MAX_YEAR = 2100

PeriodKind = Literal["quarter", "half_year", "second_half", "nine_months", "month", "year"]

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_CODE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<part>Q(?P<q>[0-9]+)|H(?P<h>[0-9]+)|M(?P<m>[0-9]+)|(?P<nine>9M)|Y)")


@dataclass(frozen=True)
class ReportingPeriod:
    """One reporting period: code ("2023-Q3", "2023-H1", "2023-Y"), its first and last day."""

    code: str
    kind: PeriodKind
    year: int
    start: date
    end: date
    number: int = 1  # the quarter (1–4), the month (1–12); the half (1–2); 1 otherwise
    cutoff_day: int = NATIONAL_CUTOFF_DAY

    @property
    def label_vi(self) -> str:
        """"Quý III năm 2023", "6 tháng đầu năm 2023" or "năm 2023"."""
        if self.kind == "quarter":
            return f"Quý {_ROMAN[self.number]} năm {self.year}"
        if self.kind == "half_year":
            return f"6 tháng đầu năm {self.year}"
        if self.kind == "second_half":
            return f"6 tháng cuối năm {self.year}"
        if self.kind == "nine_months":
            return f"9 tháng năm {self.year}"
        if self.kind == "month":
            return f"tháng {self.number} năm {self.year}"
        return f"năm {self.year}"

    @property
    def range_vi(self) -> str:
        """"Từ ngày 14/6/2023 đến 13/9/2023", as the report's heading writes it."""
        return f"Từ ngày {nd30_date(self.start)} đến {nd30_date(self.end)}"

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end

    def __contains__(self, d: object) -> bool:
        return isinstance(d, date) and self.contains(d)


def _bad(code: str, vi: str, en: str) -> ValidationFailed:
    return ValidationFailed(vi, en, field="period", value=code)


def _check_cutoff(cutoff_day: int) -> None:
    if not isinstance(cutoff_day, int) or not MIN_CUTOFF_DAY <= cutoff_day <= MAX_CUTOFF_DAY:
        raise ValidationFailed(
            f"ngày chốt số liệu phải từ {MIN_CUTOFF_DAY} đến {MAX_CUTOFF_DAY}",
            f"the cut-off day must be between {MIN_CUTOFF_DAY} and {MAX_CUTOFF_DAY}",
            field="cutoff_day",
            value=str(cutoff_day),
        )


def _end_of(year: int, month: int, cutoff_day: int) -> date:
    """The cut-off day of `month` (month 0 is December of the year before), or the month's last
    day when the cut-off lies beyond it."""
    if month == 0:
        year, month = year - 1, 12
    return date(year, month, min(cutoff_day, calendar.monthrange(year, month)[1]))


def _build(year: int, kind: PeriodKind, number: int, cutoff_day: int) -> ReportingPeriod:
    first, last, code = {
        "quarter": (3 * (number - 1), 3 * number, f"{year}-Q{number}"),
        "half_year": (0, 6, f"{year}-H1"),
        "second_half": (6, 12, f"{year}-H2"),
        "nine_months": (0, 9, f"{year}-9M"),
        "month": (number - 1, number, f"{year}-M{number:02d}"),
        "year": (0, 12, f"{year}-Y"),
    }[kind]
    start = _end_of(year, first, cutoff_day) + timedelta(days=1)
    return ReportingPeriod(code, kind, year, start, _end_of(year, last, cutoff_day), number,
                           cutoff_day)


def parse_period(code: str, cutoff_day: int = NATIONAL_CUTOFF_DAY) -> ReportingPeriod:
    """"2023-Q3" → the period; refuses a malformed code with a precise reason (field "period")."""
    _check_cutoff(cutoff_day)
    text = code.strip().upper() if isinstance(code, str) else ""
    m = _CODE.fullmatch(text)
    if m is None:
        raise _bad(
            str(code),
            f"mã kỳ báo cáo '{code}' không hợp lệ: ghi theo dạng 2023-Q3 (quý), "
            "2023-H1 / 2023-H2 (6 tháng đầu / cuối năm), 2023-9M (9 tháng), 2023-M07 (tháng) "
            "hoặc 2023-Y (năm)",
            f"reporting period code '{code}' is invalid: write 2023-Q3 (quarter), "
            "2023-H1 / 2023-H2 (six months), 2023-9M (nine months), 2023-M07 (month) or "
            "2023-Y (year)",
        )
    year = int(m.group("year"))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _bad(
            code,
            f"năm {year} của kỳ báo cáo nằm ngoài khoảng {MIN_YEAR}–{MAX_YEAR}",
            f"the period's year {year} is outside {MIN_YEAR}–{MAX_YEAR}",
        )
    if m.group("q") is not None:
        q = int(m.group("q")[:3])
        if not 1 <= q <= 4:
            raise _bad(
                code,
                f"quý {m.group('q')} không tồn tại: chỉ có Q1, Q2, Q3, Q4",
                f"quarter {m.group('q')} does not exist: use Q1, Q2, Q3 or Q4",
            )
        return _build(year, "quarter", q, cutoff_day)
    if m.group("h") is not None:
        if m.group("h") not in ("1", "2"):
            raise _bad(
                code,
                f"kỳ 'H{m.group('h')}' không có: chỉ có H1 (6 tháng đầu năm) và H2 (6 tháng "
                "cuối năm)",
                f"there is no period 'H{m.group('h')}': only H1 and H2",
            )
        if m.group("h") == "2":
            return _build(year, "second_half", 2, cutoff_day)
        return _build(year, "half_year", 1, cutoff_day)
    if m.group("m") is not None:
        month = int(m.group("m")[:3])
        if not 1 <= month <= 12:
            raise _bad(code, f"tháng {m.group('m')} không tồn tại: từ M01 đến M12",
                       f"month {m.group('m')} does not exist: use M01 to M12")
        return _build(year, "month", month, cutoff_day)
    if m.group("nine") is not None:
        return _build(year, "nine_months", 1, cutoff_day)
    return _build(year, "year", 1, cutoff_day)


def normalise_period(code: str) -> str:
    """The one spelling of a period code ('2023-q3 ' → '2023-Q3'), or `ValidationFailed` with
    the Vietnamese reason. Every lookup by period goes through this, so a frozen period is
    found whatever case or spaces a URL or a command used."""
    return parse_period(code).code


def period_containing(
    d: date, kind: PeriodKind = "quarter", cutoff_day: int = NATIONAL_CUTOFF_DAY
) -> ReportingPeriod:
    """The period of `kind` whose data `d` belongs to (e.g. 20/12/2023 → 2024-Q1).

    A day after 14/6 (the cut-off) lies in no six-month period: asking for one raises
    `ValidationFailed`, since the H1 report does not cover it.
    """
    _check_cutoff(cutoff_day)
    year, month = d.year, d.month
    if d.day > cutoff_day:  # past the cut-off: the data belongs to the next month's period
        month += 1
        if month == 13:
            year, month = year + 1, 1
    if kind == "quarter":
        return _build(year, "quarter", (month - 1) // 3 + 1, cutoff_day)
    if kind == "year":
        return _build(year, "year", 1, cutoff_day)
    if kind == "month":
        return _build(year, "month", month, cutoff_day)
    if kind == "second_half" and month > 6:
        return _build(year, "second_half", 2, cutoff_day)
    if kind == "half_year":
        if month > 6:
            raise ValidationFailed(
                f"ngày {nd30_date(d)} không thuộc kỳ báo cáo 6 tháng đầu năm nào",
                f"{d.isoformat()} is in no first-six-months reporting period",
                field="period",
                value=d.isoformat(),
            )
        return _build(year, "half_year", 1, cutoff_day)
    raise ValidationFailed(
        f"loại kỳ báo cáo '{kind}' không hợp lệ",
        f"unknown reporting period kind '{kind}'",
        field="kind",
        value=str(kind),
    )


def quarters_of(year: int, cutoff_day: int = NATIONAL_CUTOFF_DAY) -> list[ReportingPeriod]:
    """The four quarter periods of `year`, in order."""
    _check_cutoff(cutoff_day)
    return [_build(year, "quarter", q, cutoff_day) for q in range(1, 5)]


__all__ = [
    "NATIONAL_CUTOFF_DAY",
    "PeriodKind",
    "ReportingPeriod",
    "normalise_period",
    "parse_period",
    "period_containing",
    "quarters_of",
]
