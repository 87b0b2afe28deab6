"""Units and plans: the communes and wards, the plan definitions (sections, tasks,
revisions) and which plans a unit runs.
"""

# No `from __future__ import annotations`: see engine/storage/models/base.py.

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.storage.models.base import Base


class Unit(Base):
    """A commune/ward (or its parent city/province): who owns plan instances."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    report_cutoff_day: Mapped[int | None] = mapped_column(Integer)
    leader: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Plan(Base):
    """A plan definition (the year's CCHC plan, PAPI framework, KL91 plan).

    `scope` "framework": issued by an upper body, shared by every unit that instantiates it
    (`id` is the file's id). `scope` "unit": one unit's own plan (`owner_unit_id`), stored as
    `<file id>@<owner slug>` so no other unit's file can ever address it (migration 0005).
    """

    __tablename__ = "plans"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), default="")
    scope: Mapped[str] = mapped_column(String(16), default="framework")
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    issuer: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    columns: Mapped[list[str] | None] = mapped_column(JSON)  # optional columns (0007)
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    appendix_number: Mapped[int] = mapped_column(Integer)
    appendix_title: Mapped[str] = mapped_column(Text)
    layout: Mapped[str] = mapped_column(String(20))
    content_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlanRevision(Base):
    """Every definition a plan has had, in load order: a reload never loses the previous one."""

    __tablename__ = "plan_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    forced: Mapped[list[str]] = mapped_column(JSON, default=list)
    definition: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class PlanSection(Base):
    __tablename__ = "plan_sections"
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class PlanTask(Base):
    """A task's definition: its text and place in the plan; shared by every unit."""

    __tablename__ = "plan_tasks"
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    section_code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    default_owner: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[str | None] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, str] | None] = mapped_column(JSON)  # optional column values (0007)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class UnitPlan(Base):
    __tablename__ = "unit_plans"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = [
    "Plan",
    "PlanRevision",
    "PlanSection",
    "PlanTask",
    "Unit",
    "UnitPlan",
]
