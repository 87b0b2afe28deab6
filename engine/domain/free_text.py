"""Checks on free text officers type (result, note): dates in it must be real dates.

Why: the seed report carries '24/02/20232' and '31/01//2023' in its Kết quả column. A result
text is printed verbatim into the appendix, so a malformed date in it is refused like a
malformed document reference, with the exact token and the reason.
"""

from __future__ import annotations

import re
from datetime import date

from engine.errors import ValidationFailed
from engine.settings import get_settings

# A date-like token: digits and slashes/dots/hyphens around something that looks like a date.
_TOKEN = re.compile(
    r"(?<![\w/])(\d{1,2})\s*([/.\-]{1,3})\s*(\d{1,2})\s*([/.\-]{1,3})\s*(\d+)(?![\w/])"
)

#: What every date-like token contains (the day's last digit, separators, a digit): where the
#: first one starts, less one digit, is the earliest a token can start.
_MAYBE = re.compile(r"\d\s*[/.\-]{1,3}\s*\d")


def max_text_chars() -> int:
    """The one limit on free text (`CCHC_MAX_TEXT_CHARS`), for forms, the API and the CLI."""
    return get_settings().max_text_chars


def check_length(text: str, field: str) -> None:
    """Refuse a free text longer than `max_text_chars()` (field `field`)."""
    limit = max_text_chars()
    if len(text) > limit:
        raise ValidationFailed(
            f"Nội dung quá dài ({len(text):,} ký tự; tối đa {limit:,})".replace(",", "."),
            f"the text is too long ({len(text)} characters, at most {limit})",
            field=field)


def check_dates(text: str, field: str) -> None:
    first = _MAYBE.search(text)
    if first is None:
        return
    for m in _TOKEN.finditer(text, max(first.start() - 1, 0)):
        d, sep1, mo, sep2, y = m.groups()
        token = m.group(0)
        if sep1 != "/" and sep1 == sep2 and sep1 in ".-" and len(y) not in (4,):
            continue  # e.g. version numbers "1.2.3" or codes "016.07.044" — not dates
        if len(sep1) > 1 or len(sep2) > 1:
            raise ValidationFailed(
                f"Ngày '{token}' bị gõ thừa dấu phân cách",
                f"date '{token}' has a doubled separator",
                field=field, value=token,
            )
        if sep1 != "/" or sep2 != "/":
            continue
        if len(y) != 4:
            raise ValidationFailed(
                f"Ngày '{token}': năm '{y}' phải có 4 chữ số",
                f"date '{token}': the year '{y}' must have 4 digits",
                field=field, value=token,
            )
        try:
            date(int(y), int(mo), int(d))
        except ValueError:
            raise ValidationFailed(
                f"Ngày '{token}' không tồn tại",
                f"date '{token}' does not exist",
                field=field, value=token,
            ) from None
