"""Time in one place: Asia/Ho_Chi_Minh, injectable so tests and replays control 'now'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(VN_TZ)


def fixed_clock(at: datetime) -> Clock:
    if at.tzinfo is None:
        at = at.replace(tzinfo=VN_TZ)
    return lambda: at


def running_clock(start: datetime) -> Clock:
    """A clock that reads `start` now and runs on in real time from there (a demo of an old
    year: `cchc serve --at 20/09/2023`; history rows still get increasing times)."""
    import time

    if start.tzinfo is None:
        start = start.replace(tzinfo=VN_TZ)
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def local_date(at: datetime) -> date:
    """The calendar date in Vietnam of an aware timestamp."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=VN_TZ)
    return at.astimezone(VN_TZ).date()
