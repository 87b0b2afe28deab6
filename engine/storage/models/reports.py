"""Quarter-end snapshots and the Phụ lục 4–6 statistics (entered and frozen)."""

# No `from __future__ import annotations`: see engine/storage/models/base.py.

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.storage.models.base import Base
from engine.storage.models.plans import Unit


class Snapshot(Base):
    """A frozen quarter-end picture; its payload and hash never change once written."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("unit_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey(Unit.id))
    period: Mapped[str] = mapped_column(String(16))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_by: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)


class PeriodStatistics(Base):
    """A unit's typed statistics of one period (Phụ lục 4–6 inputs) until the period is frozen.

    `payload` is the canonical JSON of `engine.reporting.statistics.StatisticsInput`; every save is
    validated whole, so a stored payload always passes the rules.
    """

    __tablename__ = "period_statistics"
    __table_args__ = (UniqueConstraint("unit_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey(Unit.id))
    period: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))


class StatisticsSnapshot(Base):
    """Phụ lục 4–6 of a period as frozen with the task snapshot; never changed once written."""

    __tablename__ = "statistics_snapshots"
    __table_args__ = (UniqueConstraint("unit_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey(Unit.id))
    period: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_by: Mapped[str] = mapped_column(String(200))
    indicator_set: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)


__all__ = [
    "PeriodStatistics",
    "Snapshot",
    "StatisticsSnapshot",
]
