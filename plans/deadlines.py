"""Vietnamese deadline expressions ("Quý III/2023", "Trước ngày 15/12/2023", "Hằng quý"…).

Why a parser of our own: plan appendices state deadlines in a handful of bureaucratic phrasings,
typed by hand with or without diacritics. A deadline we do not understand must be refused with a
precise reason (in Vietnamese first) when the plan is loaded, never guessed at — a wrong due date
would make a task look late, or on time, in a report signed by the commune's chairman.

Matching is done on the diacritic-free fold of the text (`vntext.text.fold`), so "Quý III",
"quy III" and "QUÝ  III" are the same; "hàng"/"hằng" fold to the same word as well.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from vntext.text import fold, squash

DeadlineKind = Literal["date", "month", "quarter", "half_year", "year", "ongoing", "recurring"]
Recurrence = Literal["monthly", "quarterly", "six_monthly", "yearly"]

#: Years a deadline may name; outside this a four-digit year is almost surely a typo.
MIN_YEAR = 2000
MAX_YEAR = 2100


_FORMS_VI = (
    "15/12/2023, trước ngày 15/12/2023, ngày 15 tháng 12 năm 2023, tháng 6/2023, quý III/2023, "
    "6 tháng đầu năm, 6 tháng cuối năm, năm 2023, thường xuyên, hằng tháng, hằng quý, "
    "định kỳ 6 tháng, hằng năm"
)
_FORMS_EN = (
    "15/12/2023, 'trước ngày 15/12/2023', 'ngày 15 tháng 12 năm 2023', 'tháng 6/2023', "
    "'quý III/2023', '6 tháng đầu năm', '6 tháng cuối năm', 'năm 2023', 'thường xuyên', "
    "'hằng tháng', 'hằng quý', 'định kỳ 6 tháng', 'hằng năm'"
)


class DeadlineError(ValueError):
    """A deadline text we refuse, with the reason in Vietnamese and English."""

    def __init__(self, text: str, message_vi: str, message_en: str) -> None:
        self.text = text
        self.message_vi = message_vi
        self.message_en = message_en
        super().__init__(f"{message_vi} ({message_en}): {text!r}")


@dataclass(frozen=True)
class Deadline:
    """A parsed deadline.

    `due` is the last day the work may be done (None for ongoing and recurring work); `start` is
    the first day of the span the text names (the month, quarter, half or year), None for a
    single date and for ongoing/recurring work.
    """

    kind: DeadlineKind
    text: str
    due: date | None
    recurrence: Recurrence | None = None
    start: date | None = None


# --- patterns on the folded text --------------------------------------------------------------

_NUM = r"[0-9]+"
_SEP = r"[/.\-]"
# "trước ngày", "chậm nhất là ngày", "hạn chót", "đến ngày", "ngày" … then the date itself.
_DATE_LEAD = (
    r"(?:(?:hoan thanh |thuc hien )?"
    r"(?:truoc|cham nhat|han chot|han|den|trong|vao|khong qua)"
    r"(?: la| vao)? )?(?:ngay )?"
)
_DATE_NUMERIC = re.compile(
    _DATE_LEAD + rf"(?P<d>{_NUM}){_SEP}(?P<m>{_NUM})(?:{_SEP}(?P<y>{_NUM}))?"
)
_DATE_WORDS = re.compile(
    _DATE_LEAD + rf"(?P<d>{_NUM}) thang (?P<m>{_NUM})(?: nam (?P<y>{_NUM}))?"
)
_MONTH = re.compile(
    rf"(?:trong |cuoi |trong thang |den het )?thang (?P<m>{_NUM})"
    rf"(?:(?:{_SEP}| nam )(?P<y>{_NUM}))?"
)
# "6/2023", "06/2023": a month and a four-digit year, no day.
_MONTH_YEAR = re.compile(rf"(?:trong |den het )?(?P<m>[0-9]{{1,2}}){_SEP}(?P<y>[0-9]{{4}})")
_QUARTER = re.compile(
    rf"(?:trong |cuoi |den het )?quy (?P<q>{_NUM}|[a-z]+)(?:(?:{_SEP}| nam )(?P<y>{_NUM}))?"
)
_HALF = re.compile(
    rf"(?:trong |den het )?(?:6|06|sau) thang (?P<h>dau|cuoi) nam(?:(?: |{_SEP})(?P<y>{_NUM}))?"
)
_YEAR = re.compile(rf"(?:trong |ca |cuoi |den het |trong ca )?nam(?: (?P<y>{_NUM}))?")
_ONGOING = re.compile(
    r"(?:thuong xuyen|lien tuc|hang ngay|thuong xuyen lien tuc|thuong xuyen va lien tuc)"
    rf"(?: trong nam(?: {_NUM})?)?"
)
_SIX = r"(?:6|06|sau)"
_ONCE = r"(?: (?:mot|1|01) lan|/(?:1 |01 )?lan)?"
_RECURRING: tuple[tuple[re.Pattern[str], Recurrence], ...] = (
    (re.compile(r"(?:dinh ky )?(?:hang|theo) thang|dinh ky thang|moi thang"), "monthly"),
    (re.compile(r"(?:dinh ky )?(?:hang|theo) quy|dinh ky quy|moi quy"), "quarterly"),
    (
        re.compile(
            rf"(?:dinh ky (?:hang )?|hang ){_SIX} thang{_ONCE}"
            rf"|{_SIX} thang (?:mot|1|01) lan|{_SIX} thang/(?:1 |01 )?lan|moi {_SIX} thang"
        ),
        "six_monthly",
    ),
    (re.compile(r"(?:dinh ky )?(?:hang|theo) nam|dinh ky nam|moi nam"), "yearly"),
)
_BARE_SIX = re.compile(rf"{_SIX} thang")
_DINH_KY = re.compile(r"dinh ky")


def _normalise(text: str) -> str:
    """Fold, drop closing punctuation and commas, and close up spaces around date separators."""
    f = fold(text)
    f = f.replace(",", " ").replace(";", " ")
    f = re.sub(r"\s*([/\-])\s*", r"\1", f)
    f = re.sub(r"\s+", " ", f).strip()
    return f.rstrip(".:").strip()


def _int(digits: str) -> int:
    """int() of an ASCII digit run, capped: a run longer than 9 digits is simply "too big"."""
    return int(digits) if len(digits) <= 9 else 10**9


def _err(text: str, vi: str, en: str) -> DeadlineError:
    return DeadlineError(text, vi, en)


def _year_of(text: str, digits: str | None, default: int) -> int:
    """The year written in the text, else the plan's year; refuse 2-digit or far-off years."""
    if digits is None:
        year = default
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise _err(
                text,
                f"năm của kế hoạch ({year}) nằm ngoài khoảng {MIN_YEAR}–{MAX_YEAR}",
                f"the plan's year ({year}) is outside {MIN_YEAR}–{MAX_YEAR}",
            )
        return year
    if len(digits) != 4:
        raise _err(
            text,
            f"năm '{digits}' phải ghi đủ 4 chữ số (ví dụ 2023)",
            f"year '{digits}' must be written with 4 digits (e.g. 2023)",
        )
    year = int(digits)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _err(
            text,
            f"năm {year} nằm ngoài khoảng cho phép {MIN_YEAR}–{MAX_YEAR} (gõ nhầm?)",
            f"year {year} is outside the allowed range {MIN_YEAR}–{MAX_YEAR} (a typo?)",
        )
    return year


def _month_of(text: str, digits: str) -> int:
    month = _int(digits)
    if not 1 <= month <= 12:
        raise _err(
            text,
            f"tháng {digits} không tồn tại: tháng phải từ 1 đến 12",
            f"month {digits} does not exist: months run from 1 to 12",
        )
    return month


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _roman_value(token: str) -> int | None:
    """Value of a canonical Roman numeral (lower case), or None if it is not one."""
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    if not token or any(c not in values for c in token) or len(token) > 15:
        return None
    total = 0
    for i, c in enumerate(token):
        v = values[c]
        if i + 1 < len(token) and values[token[i + 1]] > v:
            total -= v
        else:
            total += v
    return total if total > 0 and _to_roman(total) == token.upper() else None


def _to_roman(n: int) -> str:
    parts = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
             (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, sym in parts:
        while n >= value:
            out += sym
            n -= value
    return out


def _quarter_of(text: str, token: str) -> int:
    if token.isdigit():
        number = _int(token)
        shown = token
    else:
        value = _roman_value(token)
        if value is None:
            raise _err(
                text,
                f"'{token.upper()}' không phải số quý hợp lệ: quý ghi là I, II, III, IV "
                "hoặc 1, 2, 3, 4",
                f"'{token.upper()}' is not a valid quarter number: write I, II, III, IV or "
                "1, 2, 3, 4",
            )
        number = value
        shown = token.upper()
    if not 1 <= number <= 4:
        raise _err(
            text,
            f"quý {shown} không tồn tại: một năm chỉ có quý I, II, III và IV",
            f"quarter {shown} does not exist: a year has only quarters I, II, III and IV",
        )
    return number


def _exact_date(text: str, d: str, m: str, y: str | None, default_year: int) -> Deadline:
    month = _month_of(text, m)
    year = _year_of(text, y, default_year)
    day = _int(d)
    days_in_month = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days_in_month:
        shown = f"{d}/{m}/{year}"
        raise _err(
            text,
            f"ngày {shown} không tồn tại: tháng {month}/{year} chỉ có {days_in_month} ngày",
            f"{shown} is not a real date: {calendar.month_name[month]} {year} has only "
            f"{days_in_month} days",
        )
    squashed = squash(text)
    return Deadline("date", squashed, date(year, month, day))


def parse_deadline(text: str, year: int) -> Deadline:
    """Parse a plan's deadline text; `year` is the plan's year, used when the text names none.

    Raises `DeadlineError` — and nothing else — for any text it cannot turn into a deadline.
    """
    if not isinstance(text, str):
        raise DeadlineError(str(text), "hạn phải là văn bản", "the deadline must be text")
    f = _normalise(text)
    shown = squash(text)
    if not f:
        raise _err(text, "chưa ghi thời hạn", "the deadline is empty")

    if _ONGOING.fullmatch(f):
        return Deadline("ongoing", shown, None)

    for pattern, recurrence in _RECURRING:
        if pattern.fullmatch(f):
            return Deadline("recurring", shown, None, recurrence)

    if m := _HALF.fullmatch(f):
        y = _year_of(text, m.group("y"), year)
        if m.group("h") == "dau":
            return Deadline("half_year", shown, date(y, 6, 30), start=date(y, 1, 1))
        return Deadline("half_year", shown, date(y, 12, 31), start=date(y, 7, 1))

    if m := _QUARTER.fullmatch(f):
        q = _quarter_of(text, m.group("q"))
        y = _year_of(text, m.group("y"), year)
        return Deadline(
            "quarter", shown, _last_day(y, 3 * q), start=date(y, 3 * q - 2, 1)
        )

    if m := _MONTH.fullmatch(f):
        month = _month_of(text, m.group("m"))
        y = _year_of(text, m.group("y"), year)
        return Deadline("month", shown, _last_day(y, month), start=date(y, month, 1))

    if m := _YEAR.fullmatch(f):
        y = _year_of(text, m.group("y"), year)
        return Deadline("year", shown, date(y, 12, 31), start=date(y, 1, 1))

    if m := _MONTH_YEAR.fullmatch(f):
        month = _month_of(text, m.group("m"))
        y = _year_of(text, m.group("y"), year)
        return Deadline("month", shown, _last_day(y, month), start=date(y, month, 1))

    for pattern in (_DATE_WORDS, _DATE_NUMERIC):
        if m := pattern.fullmatch(f):
            return _exact_date(text, m.group("d"), m.group("m"), m.group("y"), year)

    if _DINH_KY.fullmatch(f) or (_BARE_SIX.fullmatch(f)):
        raise _err(
            text,
            "chưa rõ định kỳ bao lâu: ghi 'hằng tháng', 'hằng quý', 'định kỳ 6 tháng', "
            "'hằng năm' hoặc '6 tháng đầu năm'",
            "the period is unclear: write 'hằng tháng', 'hằng quý', 'định kỳ 6 tháng', "
            "'hằng năm' or '6 tháng đầu năm'",
        )
    raise _err(
        text,
        f"không hiểu được thời hạn này; hãy ghi theo một trong các dạng: {_FORMS_VI}",
        f"deadline not understood; use one of the forms: {_FORMS_EN}",
    )


def next_due(deadline: Deadline, after: date) -> date | None:
    """The next due date on or after `after`.

    Recurring work is due at the end of the month / quarter / half-year / year that contains
    `after`. Ongoing work has none. A one-off deadline is its own due date while it has not yet
    passed, and None once it has: there is no further occurrence.
    """
    if deadline.kind == "ongoing":
        return None
    if deadline.kind != "recurring":
        if deadline.due is None or deadline.due < after:
            return None
        return deadline.due
    y = after.year
    match deadline.recurrence:
        case "monthly":
            return _last_day(y, after.month)
        case "quarterly":
            return _last_day(y, 3 * ((after.month - 1) // 3 + 1))
        case "six_monthly":
            return date(y, 6, 30) if after.month <= 6 else date(y, 12, 31)
        case "yearly":
            return date(y, 12, 31)
        case _:
            return None


# --- occurrences of recurring work ------------------------------------------------------------

#: Months per occurrence of each recurrence.
_SPAN: dict[Recurrence, int] = {"monthly": 1, "quarterly": 3, "six_monthly": 6, "yearly": 12}


@dataclass(frozen=True)
class Occurrence:
    """One period's instance of recurring work: its code ("2026-Q1", "2026-M03", "2026-H1",
    "2026-Y" — the reporting-period codes), the first day and the due date (the period's last
    calendar day; a due date on a day off moves to the next working day where timeliness is
    judged)."""

    code: str
    start: date
    due: date


def _occurrence_of(recurrence: Recurrence, year: int, index: int) -> Occurrence:
    """The `index`-th (0-based) occurrence of `recurrence` in `year`."""
    span = _SPAN[recurrence]
    first = index * span + 1
    last = first + span - 1
    code = {
        "monthly": f"{year}-M{first:02d}",
        "quarterly": f"{year}-Q{index + 1}",
        "six_monthly": f"{year}-H{index + 1}",
        "yearly": f"{year}-Y",
    }[recurrence]
    return Occurrence(code, date(year, first, 1), _last_day(year, last))


def occurrences(recurrence: Recurrence, year: int) -> list[Occurrence]:
    """Every occurrence of `recurrence` in `year`, in order (12 months, 4 quarters, 2 halves,
    1 year)."""
    return [_occurrence_of(recurrence, year, i) for i in range(12 // _SPAN[recurrence])]


def occurrence_at(recurrence: Recurrence, day: date) -> Occurrence:
    """The occurrence of `recurrence` whose period contains `day`."""
    return _occurrence_of(recurrence, day.year, (day.month - 1) // _SPAN[recurrence])


def recurrence_of(text: str | None, year: int) -> Recurrence | None:
    """The recurrence a deadline text names ("Hằng quý" → quarterly), None for any other
    deadline, an empty one or one that cannot be read."""
    if not text:
        return None
    try:
        return parse_deadline(text, year).recurrence
    except DeadlineError:
        return None
