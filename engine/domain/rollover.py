"""Year rollover: next year's plan from this year's, and the explicit carry-over of tasks.

Why from the stored definition: every loaded definition is kept in `plan_revisions`, so the
new plan is built from exactly what the units worked on, not from a file that may have moved.
The year is moved in every text that names it (id, title, appendix title, task texts,
deadlines), the issuing document is the new one, the validity is the new year; the result is
validated like a file (an impossible date such as 29/02 is refused with its place) and loaded
through the same guarded path as `plan load`, which gives recurring work the occurrences of the
new year. Nothing carries over silently: the operator names
the unfinished tasks that continue, and each gets a history note on both sides naming the
other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from engine.directory.units import get_unit
from engine.domain.plan_ids import resolve_plan_id
from engine.domain.plan_loading import LoadedPlan, load_plans
from engine.domain.tasks import Actor, TaskKey, add_note
from engine.errors import NotFound, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import Plan, PlanRevision, Task, Unit, UnitPlan
from plans import PlanSpec, parse_model

ROLLOVER_ACTOR = Actor("Hệ thống (chuyển năm)", "system")


@dataclass(frozen=True)
class Rollover:
    source_plan: str
    loaded: LoadedPlan
    file: str
    carried: tuple[str, ...]


# Fields that name a unit, not a year: a commune whose slug happens to hold the year
# ("xa-2023") keeps its slug, so next year's plan still belongs to it.
_UNIT_FIELDS = frozenset({"owner", "issuer"})


def _move_year(value: Any, old: int, new: int) -> Any:
    pattern = re.compile(rf"(?<![0-9]){old}(?![0-9])")
    if isinstance(value, str):
        return pattern.sub(str(new), value)
    if isinstance(value, list):
        return [_move_year(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: v if k in _UNIT_FIELDS else _move_year(v, old, new)
                for k, v in value.items()}
    return value


def next_year_spec(definition: dict[str, Any], year: int, issued_by: str,
                   new_id: str | None = None) -> dict[str, Any]:
    """The data of next year's plan file, from this year's stored definition."""
    old = int(definition["year"])
    data: dict[str, Any] = _move_year(
        {k: v for k, v in definition.items()
         if v is not None and k not in ("valid_from", "valid_to")}, old, year)
    data["year"] = year
    data["issued_by"] = issued_by
    if new_id:
        data["id"] = new_id
    data["appendix"] = {k: v for k, v in data["appendix"].items() if v is not None}
    data["sections"] = [_clean(s) for s in data["sections"]]
    return data


def _clean(section: dict[str, Any]) -> dict[str, Any]:
    """A definition dump with its empty defaults dropped, as a clerk would write the file."""
    out = {k: v for k, v in section.items() if v not in (None, [])}
    if "sections" in out:
        out["sections"] = [_clean(s) for s in out["sections"]]
    if "tasks" in out:
        out["tasks"] = [{k: v for k, v in t.items() if v is not None} for t in out["tasks"]]
    return out


def _latest_definition(rt: Runtime, plan_id: str) -> dict[str, Any]:
    with rt.db.read() as session:
        found = session.scalar(select(PlanRevision.definition)
                               .where(PlanRevision.plan_id == plan_id)
                               .order_by(PlanRevision.id.desc()).limit(1))
    if found is None:
        raise NotFound(f"Không có kế hoạch '{plan_id}' (hoặc kế hoạch được nạp trước khi có "
                       "lịch sử định nghĩa; hãy nạp lại tệp của nó)",
                       f"no stored definition of plan '{plan_id}'", field="plan", value=plan_id)
    return dict(found)


def roll_over(rt: Runtime, unit: str | None, plan: str, *, year: int, issued_by: str,
              out_dir: Path, new_id: str | None = None, carry: Sequence[str] = (),
              units: Sequence[str] = ()) -> Rollover:
    """Create next year's plan from `plan` (a unit's own, given `unit`; else a framework, loaded
    for `units` or every unit that has the old one) and carry the named tasks over."""
    with rt.db.read() as session:
        plan_id = resolve_plan_id(session, get_unit(session, unit), plan) if unit else plan
        row = session.get(Plan, plan_id)
        if row is None:
            raise NotFound(f"Không có kế hoạch '{plan}'", f"plan '{plan}' not found",
                           field="plan", value=plan)
        targets = list(units) or list(session.scalars(
            select(Unit.slug).join(UnitPlan, UnitPlan.unit_id == Unit.id)
            .where(UnitPlan.plan_id == plan_id).order_by(Unit.slug)))
    if year <= row.year:
        raise ValidationFailed(f"Năm mới ({year}) phải sau năm của kế hoạch ({row.year})",
                               f"the new year {year} must follow {row.year}", field="year")
    data = next_year_spec(_latest_definition(rt, plan_id), year, issued_by, new_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{data['id']}{'-' + row.id.split('@')[1] if '@' in row.id else ''}.yaml"
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    parse_model(PlanSpec, text, str(path))  # refuse before writing anything
    path.write_text(text, encoding="utf-8")
    [loaded] = load_plans(rt, [] if row.scope == "unit" else targets, [path])
    carried = carry_over(rt, plan_id, loaded.plan_id, carry, targets)
    return Rollover(plan_id, loaded, str(path), carried)


def carry_over(rt: Runtime, old_plan: str, new_plan: str, codes: Sequence[str],
               units: Sequence[str]) -> tuple[str, ...]:
    """Link each named unfinished task of `old_plan` to the same code in `new_plan`, in every
    unit: a history note on both sides. A finished or unknown task is refused, nothing written."""
    if not codes:
        return ()
    with rt.db.read() as session:
        rows = session.execute(
            select(Unit.slug, Task.plan_id, Task.code, Task.state, Task.occurrence)
            .join(Unit, Unit.id == Task.unit_id)
            .where(Unit.slug.in_(units), Task.plan_id.in_([old_plan, new_plan]),
                   Task.code.in_(codes))
            .order_by(Task.occurrence.desc())).all()
    # Recurring work: the old plan's last occurrence continues in the new plan's first.
    have: dict[tuple[str, str, str], str] = {}
    occurrence: dict[tuple[str, str, str], str | None] = {}
    for slug, plan, code, state, occ in rows:
        if plan == old_plan and (slug, plan, code) in have:
            continue
        have[(slug, plan, code)] = state
        occurrence[(slug, plan, code)] = occ or None
    problems = []
    for slug in units:
        for code in codes:
            old = have.get((slug, old_plan, code))
            if old is None or (slug, new_plan, code) not in have:
                problems.append(f"{slug}: nhiệm vụ {code} không có ở cả hai kế hoạch")
            elif rt.machine.is_done(old):
                problems.append(f"{slug}: nhiệm vụ {code} đã hoàn thành, không chuyển tiếp")
    if problems:
        raise ValidationFailed("Không chuyển tiếp được: " + "; ".join(problems),
                               "cannot carry over: " + "; ".join(problems), field="carry")
    label = rt.machine.definition.label
    done = []
    for slug in units:
        for code in codes:
            state = label(have[(slug, old_plan, code)])
            add_note(rt, TaskKey(slug, new_plan, code, occurrence[(slug, new_plan, code)]),
                     f"Chuyển tiếp từ nhiệm vụ {code} của kế hoạch {old_plan} ({state})",
                     ROLLOVER_ACTOR)
            add_note(rt, TaskKey(slug, old_plan, code, occurrence[(slug, old_plan, code)]),
                     f"Chuyển tiếp sang nhiệm vụ {code} của kế hoạch {new_plan}", ROLLOVER_ACTOR)
            done.append(f"{slug}:{code}")
    return tuple(done)
