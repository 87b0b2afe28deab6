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

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

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


class FrozenPeriod(NamedTuple):
    """A frozen snapshot's period: its code and first and last day."""

    period: str
    start: date
    end: date


def frozen_periods(session: Session, unit_ids: Iterable[int]) -> dict[int, list[FrozenPeriod]]:
    """The frozen periods of each of `unit_ids` (a unit with none is absent): one query per
    500 units, so a province-wide import checks its changes without a query per unit."""
    ids = sorted(set(unit_ids))
    out: dict[int, list[FrozenPeriod]] = {}
    for i in range(0, len(ids), 500):
        for unit_id, period, start, end in session.execute(
                select(SnapshotRow.unit_id, SnapshotRow.period, SnapshotRow.start,
                       SnapshotRow.end).where(SnapshotRow.unit_id.in_(ids[i:i + 500]))
                .order_by(SnapshotRow.id)):
            out.setdefault(unit_id, []).append(FrozenPeriod(period, start, end))
    return out


def frozen_period_at(periods: Iterable[FrozenPeriod], day: date) -> FrozenPeriod | None:
    """The frozen period (of one unit's `periods`) that contains `day`, if any."""
    return next((p for p in periods if p.start <= day <= p.end), None)


def guard_change(session: Session, unit_id: int, day: date, role: str,
                 correction: str) -> tuple[str, str] | None:
    """`judge_change` against the unit's frozen periods as stored now."""
    return judge_change(frozen_periods(session, [unit_id]).get(unit_id, ()), day, role,
                        correction)


def judge_change(periods: Iterable[FrozenPeriod], day: date, role: str,
                 correction: str) -> tuple[str, str] | None:
    """None when `day` is in none of the unit's frozen `periods` (and no correction was
    given); else (period, reason) to record with the change, or `PeriodFrozen` / `Forbidden`
    in Vietnamese. The one rule of the per-task commands and of the bulk import."""
    reason = nfc(correction)
    row = frozen_period_at(periods, day)
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


__all__ = ["CORRECTING_ROLES", "FrozenPeriod", "PeriodFrozen", "frozen_period_at",
           "frozen_periods", "guard_change", "judge_change"]
