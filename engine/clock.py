"""Time in one place: Asia/Ho_Chi_Minh, injectable so tests and replays control 'now'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(VN_TZ)


def fixed_clock(at: datetime) -> Clock:
    if at.tzinfo is None:
        at = at.replace(tzinfo=VN_TZ)
    return lambda: at


def local_date(at: datetime) -> date:
    """The calendar date in Vietnam of an aware timestamp."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=VN_TZ)
    return at.astimezone(VN_TZ).date()
