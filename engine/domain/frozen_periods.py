"""A frozen period is closed: no change may be dated inside it, except a leader's correction.

Why: the quarter's figures were sent to the Sở Nội vụ when the period was frozen. If an officer
could still record a completion dated inside it, the live figures of that quarter would differ
from what was submitted. So a change whose effective date falls inside a frozen period is
refused for officers; a leader (or admin) may make it only as an explicit correction that says
why. The correction is kept in the task history (`corrects_period`, `correction_reason`),
listed in the snapshot of the period in which it was made (the next report) and in
`cchc report check` of both periods. The frozen snapshot itself never changes.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.free_text import check_length
from engine.errors import Conflict, Forbidden
from engine.storage.models import Snapshot as SnapshotRow
from vntext.dates import format_date_vi
from vntext.text import nfc

CORRECTING_ROLES = frozenset({"leader", "admin", "system"})


class PeriodFrozen(Conflict):
    """A change dated inside a frozen period, without a (permitted) correction."""

    code = "period_frozen"


def frozen_period_at(session: Session, unit_id: int, day: date) -> SnapshotRow | None:
    """The frozen snapshot row whose period contains `day`, if any."""
    return session.scalar(select(SnapshotRow).where(
        SnapshotRow.unit_id == unit_id, SnapshotRow.start <= day, SnapshotRow.end >= day))


def guard_change(session: Session, unit_id: int, day: date, role: str,
                 correction: str) -> tuple[str, str] | None:
    """None when `day` is in no frozen period (and no correction was given); else (period,
    reason) to record with the change, or `PeriodFrozen` / `Forbidden` in Vietnamese."""
    reason = nfc(correction)
    row = frozen_period_at(session, unit_id, day)
    if row is None:
        if reason:
            raise PeriodFrozen(
                f"Ngày {format_date_vi(day)} không thuộc kỳ báo cáo nào đã chốt: không cần "
                "ghi đính chính", f"{day.isoformat()} is in no frozen period: no correction "
                "is needed", field="correction")
        return None
    span = f"{format_date_vi(row.start)}–{format_date_vi(row.end)}"
    if not reason:
        raise PeriodFrozen(
            f"Kỳ {row.period} ({span}) đã chốt số liệu: không ghi được thay đổi có ngày "
            f"{format_date_vi(day)}. Lãnh đạo UBND có thể ghi đính chính kèm lý do",
            f"period {row.period} is frozen: a change dated {day.isoformat()} is refused; "
            "a leader may record it as a correction with a reason", field="on",
            value=day.isoformat())
    if role not in CORRECTING_ROLES:
        raise Forbidden(
            f"Chỉ lãnh đạo UBND được ghi đính chính vào kỳ đã chốt {row.period}",
            f"only a leader may correct the frozen period {row.period}", field="correction")
    check_length(reason, "correction")
    return row.period, reason


__all__ = ["CORRECTING_ROLES", "PeriodFrozen", "frozen_period_at", "guard_change"]
