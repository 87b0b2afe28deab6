"""Recurring work as one task row per period: which occurrences a task has, and which one a
date, a report or a command means.

Why rows and not a computed view: each period's instance of "Hằng quý" work is done (or not)
on its own, with its own evidence, history and reminders; done in Q1 says nothing about Q2.
One-off and ongoing ("Thường xuyên") work keeps one row with an empty occurrence code.

Occurrences follow the calendar (months, quarters, halves, the year: `plans.deadlines`), each
due on its period's last day (moved to the next working day where timeliness is judged). A plan
gets the occurrences of the periods that overlap its validity. An occurrence's code is the
reporting-period code of its period ("2026-M03", "2026-Q1", "2026-H1", "2026-Y"), so the kind
of recurrence can be read from the code itself.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from datetime import date

from engine.domain.deadline_due import due_date
from engine.errors import ValidationFailed
from plans.deadlines import Recurrence, occurrence_at, occurrences, recurrence_of

#: The occurrence code of a task that does not recur.
SINGLE = ""

#: Between a task's code and its occurrence in a URL segment ("7~2026-Q1"): unreserved in URLs
#: and never part of a task code.
PATH_SEP = "~"


def path_code(code: str, occurrence: str) -> str:
    """A task's code as a URL segment names it: "7", or "7~2026-Q1" for one occurrence."""
    return f"{code}{PATH_SEP}{occurrence}" if occurrence else code

_CODE = re.compile(r"(?P<year>[0-9]{4})-(?:M(?P<m>[0-9]{2})|Q(?P<q>[1-4])|H(?P<h>[12])|Y)")


def planned(deadline: str | None, year: int, valid_from: date | None = None,
            valid_to: date | None = None) -> list[tuple[str, date | None]]:
    """The (occurrence code, due date) rows a task with `deadline` gets in a plan of `year`
    valid from `valid_from` to `valid_to`: one row per period overlapping the validity for
    recurring work, else one row with code `SINGLE`."""
    recurrence = recurrence_of(deadline, year)
    if recurrence is None:
        return [(SINGLE, due_date(deadline, year))]
    lo = valid_from or date(year, 1, 1)
    hi = valid_to or date(year, 12, 31)
    found: list[tuple[str, date | None]] = []
    for y in range(lo.year, hi.year + 1):
        found += [(o.code, o.due) for o in occurrences(recurrence, y)
                  if o.start <= hi and o.due >= lo]
    return found


def recurrence_of_code(code: str) -> Recurrence | None:
    """The recurrence an occurrence code belongs to ("2026-Q1" → quarterly); None for `SINGLE`
    or anything that is not an occurrence code."""
    m = _CODE.fullmatch(code)
    if m is None:
        return None
    if m.group("m"):
        return "monthly"
    if m.group("q"):
        return "quarterly"
    if m.group("h"):
        return "six_monthly"
    return "yearly"


def pick(codes: Sequence[str], day: date) -> str:
    """Of a task's occurrence codes, the one `day` falls in; before the first, the first; after
    the last, the last. A task with one row: that row."""
    if len(codes) <= 1:
        return codes[0] if codes else SINGLE
    ordered = sorted(codes)
    recurrence = recurrence_of_code(ordered[-1])
    if recurrence is None:
        return ordered[0]
    wanted = occurrence_at(recurrence, day).code
    if wanted in codes:
        return wanted
    return ordered[0] if wanted < ordered[0] else ordered[-1]


def listed(occurrence: str, current: str, overdue: bool) -> bool:
    """Whether a list (task lists, dashboards) shows a task row: one-off work always; of
    recurring work the occurrence in force (`current`, see `pick`) and every earlier one still
    open past its due date; never a future one."""
    return not occurrence or occurrence == current or (occurrence < current and overdue)


def current_of(rows: Iterable[tuple[Hashable, str]], day: date) -> dict[Hashable, str]:
    """For (task, occurrence) pairs, each recurring task's occurrence in force on `day`."""
    codes: dict[Hashable, list[str]] = {}
    for task, occurrence in rows:
        if occurrence:
            codes.setdefault(task, []).append(occurrence)
    return {task: pick(c, day) for task, c in codes.items()}


def normalise_occurrence(text: str) -> str:
    """The one spelling of an occurrence code ('2026-q1 ' → '2026-Q1', '2026-m3' → '2026-M03')."""
    t = text.strip().upper()
    m = re.fullmatch(r"([0-9]{4})-M([0-9])", t)
    return f"{m.group(1)}-M0{m.group(2)}" if m else t


def unknown_occurrence(code: str, occurrence: str, codes: Sequence[str]) -> ValidationFailed:
    """The refusal of an occurrence a task does not have, with the ones it has."""
    if not [c for c in codes if c]:
        return ValidationFailed(
            f"Nhiệm vụ {code} không lặp lại theo kỳ, không có kỳ '{occurrence}'",
            f"task {code} does not recur; no occurrence '{occurrence}'",
            field="occurrence", value=occurrence)
    return ValidationFailed(
        f"Nhiệm vụ {code} không có kỳ '{occurrence}'; các kỳ: {', '.join(sorted(codes))}",
        f"task {code} has no occurrence '{occurrence}'", field="occurrence", value=occurrence)


def occurrence_end(text: str) -> date:
    """The last day of the period an occurrence code names ('2026-Q1' → 31/3/2026); refuses
    anything that is not one, with the forms it takes."""
    code = normalise_occurrence(text)
    m = _CODE.fullmatch(code)
    if m is None:
        raise ValidationFailed(
            f"Kỳ '{text}' không hợp lệ: ghi theo dạng 2026-M03 (tháng), 2026-Q1 (quý), "
            "2026-H1 / 2026-H2 (6 tháng) hoặc 2026-Y (năm)",
            f"occurrence '{text}' is invalid: write 2026-M03, 2026-Q1, 2026-H1 or 2026-Y",
            field="occurrence", value=text)
    recurrence = recurrence_of_code(code)
    assert recurrence is not None
    year = int(m.group("year"))
    month = int(m.group("m") or 0)
    if recurrence == "monthly" and not 1 <= month <= 12:
        raise ValidationFailed(f"Kỳ '{text}': tháng phải từ 01 đến 12",
                               f"occurrence '{text}': months run 01 to 12",
                               field="occurrence", value=text)
    return next(o.due for o in occurrences(recurrence, year) if o.code == code)
