"""Reminders: the people they reach, sub-report obligations, the outbox, the Zalo
OA's tokens, the sweep runs and the installation's own values.
"""

# No `from __future__ import annotations`: see engine/storage/models/base.py.

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.storage.models.base import Base
from engine.storage.models.plans import Unit


class Person(Base):
    """Someone reminders reach: an officer, a leader, a reviewer; matched to owners by title."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("unit_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey(Unit.id), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    zalo_user_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Obligation(Base):
    """A sub-report a unit owes an upper body (báo cáo chuyên đề/định kỳ), one-off or recurring."""

    __tablename__ = "obligations"
    __table_args__ = (UniqueConstraint("unit_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey(Unit.id))
    code: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    source_plan: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    schedule: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ObligationDue(Base):
    """One occurrence of an obligation (one report due on one date): the workflow's row."""

    __tablename__ = "obligation_dues"
    __table_args__ = (
        UniqueConstraint("obligation_id", "period_key"),
        Index("ix_obligation_dues_state_due_on", "state", "due_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"))
    period_key: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str | None] = mapped_column(String(200))
    report_doc: Mapped[str | None] = mapped_column(Text)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ObligationHistory(Base):
    """Append-only, like task_history: every change of an obligation occurrence."""

    __tablename__ = "obligation_history"
    __table_args__ = (UniqueConstraint("due_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    due_id: Mapped[int] = mapped_column(ForeignKey("obligation_dues.id"))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    effective_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class OutboxMessage(Base):
    """One reminder occurrence for one person on one channel; never deleted.

    `idempotency_key` = recipient, item, due date, rule step, channel: the sweep inserts with
    on-conflict-do-nothing, so however often it runs a reminder exists once. Rows of one person,
    channel and `send_on` day are sent together as one digest (they then share `message_key`).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_person_id_send_on", "person_id", "send_on"),
        Index("ix_outbox_person_id_state", "person_id", "state"),  # claims by person
        Index("ix_outbox_item", "item_kind", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey(Unit.id))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    channel: Mapped[str] = mapped_column(String(16))
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(32))
    send_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_key: Mapped[str | None] = mapped_column(String(64))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ZaloToken(Base):
    """The OA's token pair. The refresh token is single-use: refresh under a row lock only."""

    __tablename__ = "zalo_tokens"
    oa_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstallationValue(Base):
    """Values generated once per installation (database), e.g. its id (`installation_id`)."""

    __tablename__ = "installation"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SweepRun(Base):
    """When each sweep ran and how far it looked: what an admin checks after an outage."""

    __tablename__ = "sweep_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance: Mapped[str] = mapped_column(String(64))
    now_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    inserted: Mapped[int] = mapped_column(Integer, default=0)


__all__ = [
    "InstallationValue",
    "Obligation",
    "ObligationDue",
    "ObligationHistory",
    "OutboxMessage",
    "Person",
    "SweepRun",
    "ZaloToken",
]
