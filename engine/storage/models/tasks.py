"""A unit's tasks: their state, evidence documents (and their PDFs) and append-only
history.
"""

# No `from __future__ import annotations`: see engine/storage/models/base.py.

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.storage.models.base import Base
from engine.storage.models.plans import Plan, Unit


class Task(Base):
    """One unit's instance of a plan task: the state machine's row.

    `occurrence` is empty for one-off and ongoing work; recurring work ("Hằng quý", "Hằng
    tháng", "6 tháng", "Hằng năm") has one row per period, `occurrence` being the period's code
    ("2026-Q1", "2026-M03", "2026-H1", "2026-Y"), each with its own due date, state, evidence
    and history (migration 0010)."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("unit_id", "plan_id", "code", "occurrence"),
        Index("ix_tasks_plan_state", "plan_id", "state"),
        # The reminder sweep looks up open tasks by due date window (migration 0002).
        Index("ix_tasks_due_on_state", "due_on", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey(Unit.id))
    plan_id: Mapped[str] = mapped_column(ForeignKey(Plan.id))
    code: Mapped[str] = mapped_column(String(20))
    occurrence: Mapped[str] = mapped_column(String(16), default="", server_default="")
    state: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    done_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Document(Base):
    """An official document in a unit's register; the key makes a number mean one document."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("unit_id", "issuer_key", "period_key", "number", "symbol"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey(Unit.id))
    issuer_key: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str | None] = mapped_column(String(200))
    period_key: Mapped[str] = mapped_column(String(20))
    type_code: Mapped[str] = mapped_column(String(10))
    number: Mapped[int] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[date] = mapped_column(Date)
    canonical: Mapped[str] = mapped_column(Text)
    rendered: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskEvidence(Base):
    __tablename__ = "task_evidence"
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True,
                                             index=True)
    history_id: Mapped[int] = mapped_column(Integer)


class TaskHistory(Base):
    """Append-only: who did what to a task, when, from which state to which, with what proof."""

    __tablename__ = "task_history"
    __table_args__ = (UniqueConstraint("task_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    effective_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer)
    #: A leader's correction of a frozen period: that period's code and the reason given.
    corrects_period: Mapped[str | None] = mapped_column(String(16), default=None)
    correction_reason: Mapped[str | None] = mapped_column(Text, default=None)


class Attachment(Base):
    """A PDF of an evidence document, uploaded with a task change; content kept in the DB."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey(Task.id), index=True)
    history_id: Mapped[int | None] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = [
    "Attachment",
    "Document",
    "Task",
    "TaskEvidence",
    "TaskHistory",
]
