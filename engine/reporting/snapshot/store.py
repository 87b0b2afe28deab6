"""Freezing a snapshot: stored once, never changed, identified by the hash of its content.

Why a hash: the city reviewer can tell that the appendices they received are exactly the
frozen ones (the JSON carries the hash; re-exporting gives the same bytes).
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.clock import local_date
from engine.directory.units import get_unit
from engine.domain.periods import normalise_period
from engine.errors import Conflict, ValidationFailed
from engine.reporting.snapshot.model import Snapshot
from engine.runtime import Runtime
from engine.storage.models import Snapshot as SnapshotRow
from vntext.dates import format_date_vi


def canonical_json(snapshot: Snapshot) -> str:
    data = snapshot.model_copy(update={"content_hash": None, "frozen": True}).model_dump(
        mode="json")
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(snapshot: Snapshot) -> str:
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


def frozen_snapshot(rt: Runtime, unit_slug: str, period: str) -> Snapshot | None:
    """The period's frozen snapshot (`period` in any case: '2023-q3' is '2023-Q3'), or None."""
    period = normalise_period(period)
    with rt.db.read() as session:
        unit = get_unit(session, unit_slug)
        row = session.scalar(select(SnapshotRow).where(SnapshotRow.unit_id == unit.id,
                                                       SnapshotRow.period == period))
        if row is None:
            return None
        snap = Snapshot.model_validate_json(row.payload)
        if content_hash(snap) != row.content_hash:  # pragma: no cover - tamper guard
            raise Conflict("Dữ liệu chốt kỳ bị thay đổi", "frozen snapshot payload altered")
        return snap.model_copy(update={"frozen": True, "content_hash": row.content_hash})


def freeze(rt: Runtime, snapshot: Snapshot, taken_by: str) -> Snapshot:
    """Store `snapshot` as the period's data for good; refused before the cut-off day, when
    work of the period could still be done and would then never be reported."""
    taken_on = local_date(snapshot.taken_at)
    if taken_on < snapshot.end:
        raise ValidationFailed(
            f"Chưa đến ngày chốt số liệu của kỳ {snapshot.period} ({format_date_vi(snapshot.end)}"
            f"); lúc này là ngày {format_date_vi(taken_on)}, chỉ chốt được từ ngày chốt trở đi",
            f"period {snapshot.period} cuts off on {snapshot.end.isoformat()}; it cannot be "
            f"frozen on {taken_on.isoformat()}, before its cut-off",
            field="period", value=snapshot.period,
        )
    digest = content_hash(snapshot)
    frozen = snapshot.model_copy(update={"frozen": True, "content_hash": digest})
    try:
        with rt.db.transaction() as session:
            unit = get_unit(session, snapshot.unit.slug)
            existing = session.scalar(select(SnapshotRow).where(
                SnapshotRow.unit_id == unit.id, SnapshotRow.period == snapshot.period))
            if existing is not None:
                raise Conflict(
                    f"Kỳ {snapshot.period} của {snapshot.unit.display} đã được chốt lúc "
                    f"{existing.taken_at.strftime('%H:%M')} ngày "
                    f"{format_date_vi(existing.taken_at.date())} (mã {existing.content_hash[:12]});"
                    " số liệu đã chốt không thể thay đổi",
                    f"period {snapshot.period} is already frozen "
                    f"({existing.content_hash[:12]}); frozen data never changes",
                    field="period",
                )
            session.add(SnapshotRow(
                unit_id=unit.id, period=snapshot.period, start=snapshot.start,
                end=snapshot.end, taken_at=snapshot.taken_at, taken_by=taken_by,
                content_hash=digest, payload=canonical_json(snapshot),
            ))
            # Phụ lục 4–6 are frozen in the same transaction, as their own hashed part.
            # lazy: the statistics load openpyxl; not with every command (start time)
            from engine.reporting.statistics.store import freeze_in

            freeze_in(session, snapshot, taken_by)
    except IntegrityError:
        raise Conflict(f"Kỳ {snapshot.period} vừa được chốt bởi người khác",
                       "period frozen concurrently", field="period") from None
    return frozen
