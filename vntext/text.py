"""Vietnamese text helpers: NFC everywhere, and a diacritic-free fold for search and matching."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """NFC-normalise and trim; officers paste text from Word, PDF and Zalo in mixed forms."""
    return unicodedata.normalize("NFC", text).strip()


def squash(text: str) -> str:
    """NFC, trimmed, inner whitespace collapsed to single spaces."""
    return _SPACES.sub(" ", nfc(text))


def fold(text: str) -> str:
    """Lower-case ASCII fold ("Công khai" -> "cong khai"); đ/Đ become d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return _SPACES.sub(" ", stripped.lower()).strip()


def format_date_vi(value: object) -> str:
    """dd/mm/yyyy, the only date format officers see."""
    from datetime import date

    if not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return value.strftime("%d/%m/%Y")
