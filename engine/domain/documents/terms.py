"""Which party term (nhiệm kỳ) a party document belongs to.

Why: HD 36-HD/VPTW numbers party documents from 01 for each type in each term of the committee,
not per calendar year, so "12-CTr/TU" of 2021 and of 2024 are the same document while "01-NQ/TU"
of 2016 and of 2021 are not. A term runs from the day after one congress closes to the close of
the next; the exact day differs by committee, so we approximate by level (see `TERM_STARTS`):
central organs (symbols ending in "TW") after the national congress early in years 2016, 2021,
2026…; provincial committees (ending in "TU") in the autumn of 2015, 2020, 2025…; district and
commune committees in mid-2015, 2020, 2025….
"""

from __future__ import annotations

from datetime import date

#: level -> (first year of some term, month, day the term starts in each fifth year after it)
TERM_STARTS: dict[str, tuple[int, int, int]] = {
    "central": (2021, 2, 1),
    "provincial": (2020, 10, 1),
    "local": (2020, 7, 1),
}


def party_level(organ: str) -> str:
    """The committee's level ("central", "provincial", "local") from a party symbol's organ."""
    top = organ.upper().split("-")[0]
    if top.endswith("TW"):
        return "central"
    if top.endswith("TU"):
        return "provincial"
    return "local"


def party_term(issued_on: date, organ: str) -> str:
    """The term as "2020-2025" for a party document of `organ` issued on `issued_on`."""
    anchor, month, day = TERM_STARTS[party_level(organ)]
    start = issued_on.year - (issued_on.year - anchor) % 5
    if issued_on < date(start, month, day):
        start -= 5
    return f"{start}-{start + 5}"
