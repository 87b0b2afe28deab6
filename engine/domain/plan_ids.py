"""Which stored plan a unit means by a plan code (`cchc-2023` → its own `cchc-2023@xa-a`, or
the framework), and the plans a unit has.

Why a module of its own: every task command resolves its plan code, and `plan_loading` (the
plan files, the guards, the report definition) is far heavier than these few statements — a
`cchc task list` or `task done` should not load it (start time, issue 13).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from engine.storage.database import scope_memo
from engine.storage.models import Plan, Unit, UnitPlan
from engine.storage.rows import plain_rows


@dataclass(frozen=True, slots=True)
class PlanHead:
    """What pages show of a unit's plan (the picker, the crumbs, the progress per plan)."""

    id: str
    code: str
    kind: str
    year: int
    title: str
    appendix_number: int


def plan_heads(session: Session, unit: Unit) -> list[PlanHead]:
    """The unit's plans in appendix order, as `PlanHead`s: six plain columns (read once per
    web request), not the plan rows with their JSON columns built as ORM objects."""
    def load() -> list[PlanHead]:
        return [PlanHead(*row) for row in
                plain_rows(session.connection(), _PLAN_HEADS, {"unit": unit.id})]

    return list(scope_memo(session, ("plan heads", unit.id), load))


def resolve_plan_id(session: Session, unit: Unit, code: str) -> str:
    """The stored id of the plan a unit calls `code`: its own plan `code@unit` first, then the
    framework `code`; the stored id itself is accepted too. In a web request, picked from the
    unit's plans (`plan_heads`, read once per request: the pages that name a plan show the
    unit's plans too); otherwise one small statement."""
    if session.info.get("cache") is not None:
        return pick_plan_id(unit.slug, code, {p.id for p in plan_heads(session, unit)})
    found = session.connection().execute(
        _PLAN_IDS, {"unit": unit.id, "own": f"{code}@{unit.slug}", "code": code}).scalars()
    return pick_plan_id(unit.slug, code, set(found))


#: `resolve_plan_id`'s and `plans_of_unit`'s statements, built once.
_PLAN_IDS = select(UnitPlan.plan_id).where(
    UnitPlan.unit_id == bindparam("unit"),
    or_(UnitPlan.plan_id == bindparam("own"), UnitPlan.plan_id == bindparam("code")))
_PLANS_OF_UNIT = (select(Plan).join(UnitPlan, UnitPlan.plan_id == Plan.id)
                  .where(UnitPlan.unit_id == bindparam("unit")).order_by(Plan.appendix_number))
_PLAN_HEADS = (select(Plan.id, Plan.code, Plan.kind, Plan.year, Plan.title,
                      Plan.appendix_number)
               .join(UnitPlan, UnitPlan.plan_id == Plan.id)
               .where(UnitPlan.unit_id == bindparam("unit")).order_by(Plan.appendix_number))


def pick_plan_id(unit_slug: str, code: str, unit_plans: Collection[str]) -> str:
    """Of the plan ids a unit has, the one it means by `code` (see `resolve_plan_id`)."""
    own = f"{code}@{unit_slug}"
    return own if own in unit_plans else code


def plans_of_unit(session: Session, unit: Unit) -> list[Plan]:
    """The unit's plan rows in appendix order (what a report is built from; pages read
    `plan_heads`)."""
    return list(session.scalars(_PLANS_OF_UNIT, {"unit": unit.id}))


__all__ = ["PlanHead", "pick_plan_id", "plan_heads", "plans_of_unit", "resolve_plan_id"]
