"""On time or late, done or open: the four statuses Vietnamese task tracking reports.

Why a module of its own: the report, the task list and the reminders must agree on the rule.
The rule: a due date that falls on a day off (weekend, holiday, announced day off) moves to the
end of the next working day — Bộ luật Dân sự 2015 Điều 148 khoản 5; work with no due date is
never late; work finished after the reporting date (`as_of`) was still open on that date.
"""

from __future__ import annotations

import functools
from datetime import date
from enum import StrEnum

from engine.domain.calendar import WorkCalendar
from plans.deadlines import DeadlineError, parse_deadline


class Timeliness(StrEnum):
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    OPEN_ON_TIME = "open_on_time"
    OPEN_OVERDUE = "open_overdue"
    #: Ongoing work ("Thường xuyên"): no due date, never late, reported as such.
    ONGOING = "ongoing"

    @property
    def label_vi(self) -> str:
        return TIMELINESS_LABELS_VI[self]

    @property
    def is_done(self) -> bool:
        return self in (Timeliness.DONE_ON_TIME, Timeliness.DONE_LATE)

    @property
    def is_late(self) -> bool:
        return self in (Timeliness.DONE_LATE, Timeliness.OPEN_OVERDUE)


TIMELINESS_LABELS_VI: dict[Timeliness, str] = {
    Timeliness.DONE_ON_TIME: "Hoàn thành đúng hạn",
    Timeliness.DONE_LATE: "Hoàn thành quá hạn",
    Timeliness.OPEN_ON_TIME: "Đang thực hiện trong hạn",
    Timeliness.OPEN_OVERDUE: "Quá hạn chưa hoàn thành",
    Timeliness.ONGOING: "Thường xuyên",
}


def effective_due(due: date | None, calendar: WorkCalendar) -> date | None:
    """The last day work may be done: `due`, or the next working day if `due` is a day off."""
    return None if due is None else calendar.next_working_day(due)


def timeliness(
    due: date | None, done_on: date | None, as_of: date, calendar: WorkCalendar
) -> Timeliness:
    """Status of a task as of `as_of` (the report's cut-off date or today)."""
    deadline = effective_due(due, calendar)
    if done_on is not None and done_on <= as_of:
        if deadline is None or done_on <= deadline:
            return Timeliness.DONE_ON_TIME
        return Timeliness.DONE_LATE
    if deadline is None or as_of <= deadline:
        return Timeliness.OPEN_ON_TIME
    return Timeliness.OPEN_OVERDUE


def task_timeliness(deadline: str | None, due: date | None, done_on: date | None,
                    as_of: date, calendar: WorkCalendar) -> Timeliness:
    """`timeliness`, except that ongoing work ("Thường xuyên", `plans.deadlines`) is its own
    kind, whether or not it has been reported done."""
    if due is None and is_ongoing(deadline):
        return Timeliness.ONGOING
    return timeliness(due, done_on, as_of, calendar)


@functools.lru_cache(maxsize=4096)  # a pure function of a text plans repeat: lists ask per row
def is_ongoing(deadline: str | None) -> bool:
    """Whether a deadline text names ongoing work ("Thường xuyên", "Liên tục" …)."""
    if not deadline:
        return False
    try:
        return parse_deadline(deadline, 2000).kind == "ongoing"
    except DeadlineError:
        return False


def overdue_working_days(
    due: date | None, done_on: date | None, as_of: date, calendar: WorkCalendar
) -> int:
    """Working days past the (effective) due date: until `done_on` if done by `as_of`, else
    until `as_of`; 0 when not late.

    It counts working days in (due, end]: a task due Friday is late on Saturday yet 0 working
    days late over the weekend, and 1 on Monday — officers count delay in working days.
    """
    deadline = effective_due(due, calendar)
    if deadline is None:
        return 0
    end = done_on if done_on is not None and done_on <= as_of else as_of
    if end <= deadline:
        return 0
    return calendar.working_days_between(deadline, end)


def days_to_deadline(due: date, today: date, calendar: WorkCalendar) -> int:
    """The one lateness figure messages, the outbox, the web and reports share.

    > 0: calendar days left until the effective due date (`effective_due`); 0: today is the
    last day; < 0: minus the working days overdue (`overdue_working_days`; at least 1 once the
    last day is over, so a weekend right after it still reads "late"). A due date on a day off
    therefore never makes an item late before the next working day is over (Tết).
    """
    deadline = calendar.next_working_day(due)
    if today <= deadline:
        return (deadline - today).days
    return -max(1, calendar.working_days_between(deadline, today))


__all__ = [
    "TIMELINESS_LABELS_VI",
    "Timeliness",
    "days_to_deadline",
    "effective_due",
    "is_ongoing",
    "overdue_working_days",
    "task_timeliness",
    "timeliness",
]
