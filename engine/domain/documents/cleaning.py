"""What we do to an officer's text before reading it.

Why: references are pasted from Word, PDF and Zalo, which bring decomposed diacritics,
non-breaking and zero-width spaces, en dashes and the look-alike Icelandic "Ð" (U+00D0) that old
font converters put in place of "Đ". These are encodings of the same visible text, not typos, so
they are unified here; nothing else is changed.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_TABLE = str.maketrans(
    {
        "\u00d0": "Đ",
        "\u00f0": "đ",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        **dict.fromkeys(_INVISIBLE),
    }
)
_ODD = re.compile("[\u00d0\u00f0\u2010-\u2015\u2212" + _INVISIBLE + "]")
_SPACES = re.compile(r"\s+")

#: Longer than this is a pasted paragraph, not a reference.
MAX_LENGTH = 1000


def unify(text: str) -> str:
    """NFC with look-alike letters, dashes and invisible characters unified; same length
    or shorter, line breaks kept."""
    text = unicodedata.normalize("NFC", text)
    return text.translate(_TABLE) if _ODD.search(text) else text


def prepare(text: str) -> str:
    """`unify`, whitespace collapsed, trailing full stop or comma dropped."""
    return _SPACES.sub(" ", unify(text)).strip().rstrip(".,; ").strip()
