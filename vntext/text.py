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


def strip_marks(text: str) -> str:
    """Vietnamese without its marks, case kept ("Công khai Đ" -> "Cong khai D")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def fold(text: str) -> str:
    """Lower-case ASCII fold ("Công khai" -> "cong khai"); đ/Đ become d."""
    return _SPACES.sub(" ", strip_marks(text).lower()).strip()
