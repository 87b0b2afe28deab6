"""Numbers of the statistics sheets: the one rounding rule, and how officers write numbers.

THE ROUNDING RULE (stated here once, applied only by `percent`): a ratio is
numerator / denominator × 100, computed exactly (Decimal) and rounded HALF UP to 2 decimal
places; trailing zeros are not printed. So 1.117 / 1.117 → 100 (not "98,5" as the seed typed),
233 / 1.134 = 20,5467… → 20,55 (the seed's "20,54" truncated), 15 / 23 → 65,22. A ratio whose
denominator is 0 is not a number: it prints "-" (nothing happened to measure); a ratio with a
missing operand stays blank.

Officers read numbers the Vietnamese way: "." groups thousands, "," is the decimal mark
(1.134; 4.136.000; 20,55). `parse_number` reads that back, and plain 1134 / 20.55 as well.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PLACES = Decimal("0.01")
HUNDRED = Decimal(100)
NOT_APPLICABLE = "-"  # what a ratio over a zero denominator prints

_GROUPED = re.compile(r"^-?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$")
_PLAIN = re.compile(r"^-?[0-9]+([.,][0-9]+)?$")


def percent(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """numerator / denominator × 100 by THE ROUNDING RULE; None when the denominator is 0."""
    den = Decimal(denominator)
    if den == 0:
        return None
    return (Decimal(numerator) * HUNDRED / den).quantize(PLACES, rounding=ROUND_HALF_UP)


def format_number_vi(value: Decimal | int) -> str:
    """1134 → '1.134', Decimal('20.55') → '20,55', Decimal('100.00') → '100'."""
    d = Decimal(value)
    sign = "-" if d < 0 else ""
    d = abs(d)
    whole = int(d)
    frac = d - whole
    text = f"{whole:,}".replace(",", ".")
    if frac:
        digits = format(frac.normalize(), "f").split(".")[1]
        text += "," + digits
    return sign + text


def parse_number(text: str) -> Decimal:
    """'1.134' → 1134, '20,55' → 20.55, '4.136.000' → 4136000, '1134' → 1134.

    A single '.' followed by exactly three digits is read as a thousands mark (Vietnamese),
    never as a decimal point: '1.134' is one thousand one hundred thirty-four.
    Raises ValueError with a Vietnamese reason.
    """
    raw = text.strip().replace("\u00a0", "").replace(" ", "")
    if _GROUPED.match(raw):
        raw = raw.replace(".", "").replace(",", ".")
    elif _PLAIN.match(raw):
        raw = raw.replace(",", ".")
    else:
        raise ValueError(f"'{text.strip()}' không phải là số")
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the patterns above admit only numbers
        raise ValueError(f"'{text.strip()}' không phải là số") from None
