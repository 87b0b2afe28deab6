"""Dates of issue as officers write them, and as NĐ 30/2020 says to print them.

Why strict: a date is what makes a number mean one document, and the report's real typos
(`24/02/20232`, `31/01//2023`, 30 February) must be sent back to the officer with the exact
reason, never guessed at. Why a special printer: NĐ 30/2020 (Phụ lục I) pads days under 10 and
only months 1 and 2 ("06/3/2023", "16/02/2023"), so `strftime` cannot print it.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from engine.domain.documents.rejection import reject
from vntext.dates import nd30_dmy

#: Dates before this are not plausible evidence of a commune plan (and catch "0023"-like typos).
MIN_YEAR = 1945

_SEP = r"\s*[/.\-]+\s*"
#: "06/3/2023", "6-3-2023", "06.3.2023" or "06 tháng 3 năm 2023", optionally after "ngày".
_DATE = re.compile(
    rf"(?:(?<!\w)ng[àa]y\s*:?\s*)?(?<![0-9])(?P<d>[0-9]+)"
    rf"(?:(?P<s1>{_SEP})(?P<m>[0-9]+)(?P<s2>{_SEP})(?P<y>[0-9]+)"
    r"|\s+th[áa]ng\s*(?P<wm>[0-9]+)\s*,?\s+n[ăa]m\s*(?P<wy>[0-9]+))",
    re.IGNORECASE,
)
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_PARTIAL = re.compile(r"(?<!\w)ng[àa]y\s*:?\s*[0-9][0-9\s/.\-]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DateText:
    """A date-shaped fragment found in a reference; not yet known to be a real date."""

    start: int
    end: int
    raw: str  # as typed, without the word "ngày"
    day: str
    month: str
    year: str
    seps: tuple[str, str] | None  # the two separators for "06/3/2023"; None for words


def find_date(text: str) -> DateText | None:
    """The first date-shaped fragment of `text` ("ngày 06/3/2023", "6-3-2023", words), if any."""
    m = _DATE.search(text)
    if m is None:
        return None
    raw = text[m.start("d") : m.end()]
    if m.group("s1") is not None:
        seps = (m.group("s1").strip(), m.group("s2").strip())
        return DateText(m.start(), m.end(), raw, m.group("d"), m.group("m"), m.group("y"), seps)
    return DateText(m.start(), m.end(), raw, m.group("d"), m.group("wm"), m.group("wy"), None)


def find_partial_date(text: str) -> str | None:
    """`ngày 06/3` and the like: a date was started but not finished."""
    m = _PARTIAL.search(text)
    return m.group().strip() if m else None


def to_date(found: DateText, *, value: str) -> date:
    """The real date `found` denotes, or a refusal saying exactly what is wrong with it."""
    raw = found.raw
    if found.seps is not None:
        s1, s2 = found.seps
        for s in (s1, s2):
            if s == "//":
                reject(
                    f"Ngày '{raw}' có hai dấu '/' liền nhau",
                    f"The date '{raw}' has a double slash",
                    value,
                )
            if len(s) > 1:
                reject(
                    f"Ngày '{raw}' có dấu phân cách lặp '{s}'",
                    f"The date '{raw}' has a repeated separator '{s}'",
                    value,
                )
        if s1 != s2:
            reject(
                f"Ngày '{raw}' dùng lẫn các dấu phân cách '{s1}' và '{s2}'",
                f"The date '{raw}' mixes the separators '{s1}' and '{s2}'",
                value,
            )
    if len(found.year) != 4:
        n = len(found.year)
        vi_why = f"có {n} chữ số" if n > 4 else f"chỉ có {n} chữ số"
        en_why = f"has {n} digits" if n > 4 else f"has only {n} digit{'s' if n > 1 else ''}"
        reject(
            f"Năm '{found.year}' trong ngày '{raw}' {vi_why} (năm phải ghi đủ 4 chữ số)",
            f"The year '{found.year}' in the date '{raw}' {en_why} (a year has 4 digits)",
            value,
        )
    if len(found.day) > 2 or len(found.month) > 2:
        reject(
            f"Ngày '{raw}' viết sai: ngày và tháng có nhiều nhất 2 chữ số",
            f"The date '{raw}' is malformed: day and month have at most 2 digits",
            value,
        )
    d, m, y = int(found.day), int(found.month), int(found.year)
    if not 1 <= m <= 12:
        reject(
            f"Tháng {m} không tồn tại (ngày '{raw}')",
            f"Month {m} does not exist (date '{raw}')",
            value,
        )
    if y < MIN_YEAR:
        reject(
            f"Năm {y} trong ngày '{raw}' không hợp lệ (văn bản phải ban hành từ năm {MIN_YEAR})",
            f"The year {y} in the date '{raw}' is not plausible (must be {MIN_YEAR} or later)",
            value,
        )
    days = _DAYS[m] + (m == 2 and calendar.isleap(y))
    if not 1 <= d <= days:
        shown = nd30_dmy(d, m, y)
        if d == 0:
            reject(
                f"Ngày '{raw}' không tồn tại (không có ngày 0)",
                f"'{raw}' is not a real date (there is no day 0)",
                value,
            )
        reject(
            f"Ngày {shown} không tồn tại (tháng {m} năm {y} chỉ có {days} ngày)",
            f"{shown} is not a real date (month {m} of {y} has only {days} days)",
            value,
        )
    return date(y, m, d)
