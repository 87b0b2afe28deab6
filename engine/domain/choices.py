"""Read a value picked from a fixed list (a state, a role) as an officer types it.

Why: officers know a state by its Vietnamese label ("Chờ văn bản triển khai của cấp trên"),
scripts by its code (`waiting_upper`); both must work, with or without diacritics, and a word
picked from the label ("chờ cấp trên") is enough when it names one choice only. Anything else
is refused with the valid labels listed — a filter never silently matches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from engine.errors import ValidationFailed
from vntext.text import fold


def _words_in_order(typed: list[str], label: list[str]) -> bool:
    it = iter(label)
    return all(word in it for word in typed)


def resolve_choice(value: str, choices: Mapping[str, str], *, field: str, what_vi: str,
                   what_en: str) -> str:
    """The code of the choice `value` names: its code, its label, or words of one label in
    order (accents and case ignored). `choices` maps code → Vietnamese label."""
    typed = fold(value)
    for code, label in choices.items():
        if typed in (fold(code), fold(label)):
            return code
    words = re.findall(r"\w+", typed)
    found = [code for code, label in choices.items()
             if words and _words_in_order(words, re.findall(r"\w+", fold(label)))]
    if len(found) == 1:
        return found[0]
    listed = "; ".join(f"'{choices[c]}'" for c in (found if len(found) > 1 else choices))
    if found:
        vi = f"{what_vi} '{value}' khớp với nhiều lựa chọn: {listed}; hãy ghi rõ hơn"
    else:
        vi = f"Không có {what_vi.lower()} '{value}'; chọn một trong: {listed}"
    raise ValidationFailed(vi, f"unknown {what_en} '{value}'; one of: {', '.join(choices)}",
                           field=field, value=value)


__all__ = ["resolve_choice"]
