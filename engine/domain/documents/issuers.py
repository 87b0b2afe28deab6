"""Issuing bodies ("của UBND thành phố Nha Trang"): one spelling for display, one key for matching.

Why: the same body is typed "Ủy ban nhân dân", "Uỷ ban nhân dân", "UBND" or with pasted
non-breaking spaces; a document's identity must not depend on which, and the report prints the
short form the officers use.
"""

from __future__ import annotations

from functools import lru_cache

from engine.domain.documents.types import fold_cached
from vntext.text import squash

_LONG_FORMS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("uy", "ban", "nhan", "dan"), "UBND"),
    (("hoi", "dong", "nhan", "dan"), "HĐND"),
)
_SHORT_FORMS: dict[str, str] = {"ubnd": "UBND", "hdnd": "HĐND"}
_TRIM = " ,.;:"


@lru_cache(maxsize=8192)
def normalize_issuer(text: str | None) -> str | None:
    """NFC, single spaces, no trailing punctuation, "Ủy ban nhân dân" -> "UBND",
    "Hội đồng nhân dân" -> "HĐND"; None when nothing is left."""
    if text is None:
        return None
    words = squash(text).strip(_TRIM).split(" ")
    out: list[str] = []
    i = 0
    while i < len(words):
        for long_form, short in _LONG_FORMS:
            n = len(long_form)
            if tuple(fold_cached(w) for w in words[i : i + n]) == long_form:
                out.append(short)
                i += n
                break
        else:
            word = words[i]
            out.append(_SHORT_FORMS.get(fold_cached(word), word))
            i += 1
    result = " ".join(out).strip(_TRIM)
    return result or None


def issuer_key(text: str | None) -> str:
    """Case- and diacritic-free key of the normalised issuer; "" when there is none."""
    normal = normalize_issuer(text)
    return fold_cached(normal) if normal else ""
