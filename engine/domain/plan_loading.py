"""Loading plan files into the database and giving units their own instance of each plan.

Why idempotent: officers reload a corrected plan file mid-year. Loading the same file twice
changes nothing; loading a changed version updates texts, adds new tasks and retires removed
ones, while every existing task keeps its state, owner, deadline and history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.directory.units import get_unit
from engine.domain.deadline_due import due_date
from engine.domain.documents import parse_reference
from engine.errors import ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import Plan, PlanSection, PlanTask, Task, Unit, UnitPlan
from plans import PlanSpec, SectionSpec, content_hash, parse_model, read_text
from plans.errors import DataFileError, FileProblem


@dataclass(frozen=True)
class LoadedPlan:
    plan_id: str
    source: str
    changed: bool
    tasks: int
    new_tasks_per_unit: int
    units: int


def read_plan_file(path: Path, today: date) -> tuple[PlanSpec, str]:
    """Parse and validate a plan file, including its issuing document reference."""
    text = read_text(path)
    spec = parse_model(PlanSpec, text, str(path))
    try:
        parse_reference(spec.issued_by, today=today)
    except ValidationFailed as exc:
        raise DataFileError(
            [FileProblem(str(path), "issued_by", None, exc.message_vi, exc.message_en)]
        ) from None
    return spec, content_hash(text)


def _upsert_definition(session: Session, spec: PlanSpec, digest: str, rt: Runtime) -> bool:
    issued = parse_reference(spec.issued_by, today=rt.today())
    plan = session.get(Plan, spec.id)
    if plan is not None and plan.content_hash == digest:
        return False
    if plan is None:
        plan = Plan(id=spec.id)
        session.add(plan)
    plan.kind = spec.kind
    plan.year = spec.year
    plan.title = spec.title
    plan.issued_by = spec.issued_by
    plan.issued_on = issued.issued_on
    plan.appendix_number = spec.appendix.number
    plan.appendix_title = spec.appendix.title
    plan.layout = spec.appendix.layout
    plan.content_hash = digest
    plan.loaded_at = rt.now()
    session.flush()

    sections = {s.code: s for s in session.scalars(
        select(PlanSection).where(PlanSection.plan_id == spec.id))}
    tasks = {t.code: t for t in session.scalars(
        select(PlanTask).where(PlanTask.plan_id == spec.id))}
    seen_sections: set[str] = set()
    position = 0

    def walk(section: SectionSpec, parent: str | None) -> None:
        nonlocal position
        position += 1
        row = sections.get(section.code)
        if row is None:
            row = PlanSection(plan_id=spec.id, code=section.code)
            session.add(row)
        row.parent_code = parent
        row.title = section.title
        row.position = position
        row.retired = False
        seen_sections.add(section.code)
        for child in section.sections:
            walk(child, section.code)

    for s in spec.sections:
        walk(s, None)
    for code, row in sections.items():
        if code not in seen_sections:
            row.retired = True

    seen_tasks: set[str] = set()
    for pos, (path, t) in enumerate(spec.iter_tasks(), start=1):
        trow = tasks.get(t.code)
        if trow is None:
            trow = PlanTask(plan_id=spec.id, code=t.code)
            session.add(trow)
        trow.section_code = path[-1].code
        trow.position = pos
        trow.text = t.text
        trow.default_owner = t.owner
        trow.deadline = t.deadline
        trow.product = t.product
        trow.retired = False
        seen_tasks.add(t.code)
    for code, trow in tasks.items():
        if code not in seen_tasks:
            trow.retired = True
    session.flush()
    return True


def instantiate(session: Session, rt: Runtime, unit_ids: Sequence[int], plan_id: str) -> int:
    """Give each unit the plan's tasks it does not have yet; returns rows inserted."""
    plan = session.get(Plan, plan_id)
    assert plan is not None
    defs = session.scalars(
        select(PlanTask).where(PlanTask.plan_id == plan_id, PlanTask.retired.is_(False))
        .order_by(PlanTask.position)
    ).all()
    now = rt.now()
    inserted = 0
    have_plan = set(session.scalars(
        select(UnitPlan.unit_id).where(UnitPlan.plan_id == plan_id)))
    rows: list[dict[str, object]] = []
    for unit_id in unit_ids:
        existing: set[str] = set()
        if unit_id in have_plan:
            existing = set(session.scalars(
                select(Task.code).where(Task.unit_id == unit_id, Task.plan_id == plan_id)))
        else:
            session.add(UnitPlan(unit_id=unit_id, plan_id=plan_id, loaded_at=now))
        for d in defs:
            if d.code in existing:
                continue
            rows.append({
                "unit_id": unit_id, "plan_id": plan_id, "code": d.code,
                "state": rt.machine.initial, "owner": d.default_owner,
                "deadline": d.deadline, "due_on": due_date(d.deadline, plan.year),
                "version": 1, "updated_at": now,
            })
        if len(rows) >= 20_000:
            session.execute(insert(Task), rows)
            inserted += len(rows)
            rows = []
    if rows:
        session.execute(insert(Task), rows)
        inserted += len(rows)
    session.flush()
    return inserted


def load_plans(
    rt: Runtime, unit_slugs: Iterable[str], files: Sequence[Path]
) -> list[LoadedPlan]:
    """Validate every file first, then load them all in one transaction (or none)."""
    specs = [read_plan_file(f, rt.today()) for f in files]
    ids = [s.id for s, _ in specs]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("Hai tệp cùng mã kế hoạch", "two files share a plan id",
                               field="plan")
    out = []
    with rt.db.transaction() as session:
        units = [get_unit(session, slug) for slug in unit_slugs]
        unit_ids = [u.id for u in units]
        for (spec, digest), path in zip(specs, files, strict=True):
            changed = _upsert_definition(session, spec, digest, rt)
            new = instantiate(session, rt, unit_ids, spec.id)
            out.append(LoadedPlan(spec.id, str(path), changed, len(spec.iter_tasks()),
                                  new // max(len(unit_ids), 1), len(unit_ids)))
    return out


def plans_of_unit(session: Session, unit: Unit) -> list[Plan]:
    return list(session.scalars(
        select(Plan).join(UnitPlan, UnitPlan.plan_id == Plan.id)
        .where(UnitPlan.unit_id == unit.id).order_by(Plan.appendix_number)
    ))
