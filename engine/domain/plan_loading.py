"""Loading plan files into the database and giving units their own instance of each plan.

Why idempotent: officers reload a corrected plan file mid-year. Loading the same file twice
changes nothing; loading a changed version updates texts, adds new tasks and retires removed
ones, while every existing task keeps its state, owner, deadline and history.

Why the guard (`engine.domain.plan_guard`): a file can only change the plans it owns. A unit's own
plan
(`owner:` in the file) is stored under `<id>@<owner>` and loads for its owner only; a framework
(no owner) changed by a file loaded for some units while others use it, or a file dropping a task
that has state anywhere, is refused with the list of what it would change unless the operator
passes the explicit flag. Every definition a plan has had is kept in `plan_revisions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.directory.units import get_unit
from engine.domain.documents import parse_reference
from engine.domain.occurrences import SINGLE, pick, planned
from engine.domain.plan_guard import (
    UnitLoad,
    definition_diff,
    per_unit,
    refuse_overreach,
    validity_warnings,
)
from engine.domain.report_definition import default_number
from engine.errors import NotFound, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import (
    Plan,
    PlanRevision,
    PlanSection,
    PlanTask,
    Task,
    Unit,
    UnitPlan,
)
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
    scope: str = "framework"
    per_unit: tuple[UnitLoad, ...] = ()
    warnings: tuple[str, ...] = ()


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


def _upsert_definition(session: Session, spec: PlanSpec, digest: str, rt: Runtime,
                       owner: Unit | None = None, source: str = "",
                       forced: Sequence[str] = ()) -> bool:
    issued = parse_reference(spec.issued_by, today=rt.today())
    plan_id = spec.stored_id
    plan = session.get(Plan, plan_id)
    if plan is not None and plan.content_hash == digest:
        return False
    if plan is None:
        plan = Plan(id=plan_id)
        session.add(plan)
    plan.code = spec.id
    plan.scope = spec.scope
    plan.owner_unit_id = owner.id if owner is not None else None
    plan.issuer = spec.issuer
    plan.valid_from, plan.valid_to = spec.validity
    plan.kind = spec.kind
    plan.year = spec.year
    plan.title = spec.title
    plan.issued_by = spec.issued_by
    plan.issued_on = issued.issued_on
    plan.appendix_number = default_number(spec.id, spec.kind, spec.appendix.number)
    plan.appendix_title = spec.appendix.title
    plan.layout = spec.appendix.layout
    plan.columns = list(spec.appendix.columns) or None
    plan.content_hash = digest
    plan.loaded_at = rt.now()
    session.flush()
    session.add(PlanRevision(plan_id=plan_id, content_hash=digest, source=source,
                             loaded_at=plan.loaded_at, forced=list(forced),
                             definition=spec.model_dump(mode="json")))

    sections = {s.code: s for s in session.scalars(
        select(PlanSection).where(PlanSection.plan_id == plan_id))}
    tasks = {t.code: t for t in session.scalars(
        select(PlanTask).where(PlanTask.plan_id == plan_id))}
    seen_sections: set[str] = set()
    position = 0

    def walk(section: SectionSpec, parent: str | None) -> None:
        nonlocal position
        position += 1
        row = sections.get(section.code)
        if row is None:
            row = PlanSection(plan_id=plan_id, code=section.code)
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
            trow = PlanTask(plan_id=plan_id, code=t.code)
            session.add(trow)
        trow.section_code = path[-1].code
        trow.position = pos
        trow.text = t.text
        trow.default_owner = t.owner
        trow.deadline = t.deadline
        trow.product = t.product
        trow.extra = t.stored_extra() or None
        trow.retired = False
        seen_tasks.add(t.code)
    for code, trow in tasks.items():
        if code not in seen_tasks:
            trow.retired = True
    session.flush()
    return True


def active_definitions(session: Session, plan_id: str) -> tuple[Plan, Sequence[PlanTask]]:
    """The plan and its task definitions still in force, in the plan's order."""
    plan = session.get(Plan, plan_id)
    assert plan is not None
    defs = session.scalars(
        select(PlanTask).where(PlanTask.plan_id == plan_id, PlanTask.retired.is_(False))
        .order_by(PlanTask.position)
    ).all()
    return plan, defs


TemplateRow = tuple[str, str, str | None, str | None, date | None]


def task_template(plan: Plan, defs: Sequence[PlanTask]) -> list[TemplateRow]:
    """The task rows every unit gets of `plan`: (code, occurrence, owner, deadline, due date),
    one per occurrence of recurring work (`engine.domain.occurrences.planned`)."""
    return [(d.code, occurrence, d.default_owner, d.deadline, due)
            for d in defs
            for occurrence, due in planned(d.deadline, plan.year, plan.valid_from, plan.valid_to)]


def adopt_single_rows(session: Session, plan: Plan, template: Sequence[TemplateRow],
                      unit_ids: Sequence[int]) -> None:
    """A task row of recurring work without an occurrence (stored before occurrences existed, or
    its deadline became recurring on a reload) becomes the occurrence its last change falls
    in, keeping its state and history; the other occurrences are then inserted beside it."""
    codes: dict[str, list[str]] = {}
    for code, occurrence, *_rest in template:
        if occurrence != SINGLE:
            codes.setdefault(code, []).append(occurrence)
    if not codes:
        return
    dues = {(code, occ): due for code, occ, _o, _d, due in template}
    for chunk in (unit_ids[i:i + 500] for i in range(0, len(unit_ids), 500)):
        rows = session.scalars(select(Task).where(
            Task.plan_id == plan.id, Task.unit_id.in_(chunk), Task.occurrence == SINGLE,
            Task.code.in_(list(codes)))).all()
        for task in rows:
            day = task.done_on or task.updated_at.date()
            task.occurrence = pick(codes[task.code], day)
            task.due_on = dues[(task.code, task.occurrence)]
    session.flush()


def instantiate(session: Session, rt: Runtime, unit_ids: Sequence[int], plan_id: str) -> int:
    """Give each unit the plan's task rows (one per occurrence of recurring work) it does not
    have yet; returns rows inserted."""
    plan, defs = active_definitions(session, plan_id)
    template = task_template(plan, defs)
    adopt_single_rows(session, plan, template, unit_ids)
    now = rt.now()
    inserted = 0
    have_plan = set(session.scalars(
        select(UnitPlan.unit_id).where(UnitPlan.plan_id == plan_id)))
    rows: list[dict[str, object]] = []
    for unit_id in unit_ids:
        existing: set[tuple[str, str]] = set()
        if unit_id in have_plan:
            existing = {(code, occ) for code, occ in session.execute(
                select(Task.code, Task.occurrence)
                .where(Task.unit_id == unit_id, Task.plan_id == plan_id))}
        else:
            session.add(UnitPlan(unit_id=unit_id, plan_id=plan_id, loaded_at=now))
        for code, occurrence, owner, deadline, due in template:
            if (code, occurrence) in existing:
                continue
            rows.append({
                "unit_id": unit_id, "plan_id": plan_id, "code": code,
                "occurrence": occurrence, "state": rt.machine.initial, "owner": owner,
                "deadline": deadline, "due_on": due, "version": 1, "updated_at": now,
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


def load_targets(session: Session, spec: PlanSpec, units: Sequence[Unit]
                 ) -> tuple[Unit | None, list[Unit]]:
    """The owner (for a unit's own plan) and the units the file is loaded for.

    A unit's own plan loads for its owner only (the owner when no unit is named); a framework
    loads for the units named.
    """
    if spec.owner is None:
        if not units:
            raise ValidationFailed(
                f"Kế hoạch '{spec.id}' là khung chung: phải nêu đơn vị được giao",
                f"plan '{spec.id}' is a framework: name the units it is loaded for",
                field="unit")
        return None, list(units)
    owner = session.scalar(select(Unit).where(Unit.slug == spec.owner))
    if owner is None:
        raise NotFound(
            f"Kế hoạch '{spec.id}' ghi đơn vị chủ quản '{spec.owner}', nhưng chưa có đơn vị "
            "này (xem: cchc unit list)",
            f"plan '{spec.id}' names owner '{spec.owner}', which is not a known unit",
            field="owner", value=spec.owner)
    strangers = [u.slug for u in units if u.id != owner.id]
    if strangers:
        raise ValidationFailed(
            f"Kế hoạch '{spec.id}' là kế hoạch riêng của '{spec.owner}', không nạp cho đơn vị "
            f"khác: {', '.join(strangers)}",
            f"plan '{spec.id}' is the own plan of '{spec.owner}'; it cannot be loaded for "
            f"{', '.join(strangers)}", field="unit", value=",".join(strangers))
    return owner, [owner]


@dataclass(frozen=True)
class PreparedLoad:
    """A validated file whose definition is written and whose instances are still to insert."""

    plan_id: str
    units: list[Unit]
    result: LoadedPlan


def prepare_load(session: Session, rt: Runtime, spec: PlanSpec, digest: str, path: Path,
                 units: Sequence[Unit], *, allow_other_units: bool = False,
                 allow_drop_state: bool = False) -> PreparedLoad:
    """Check the file's reach, count per unit what it changes, and write the definition.

    Shared by `load_plans` and `engine.domain.bulk.load_plans_bulk`, which differ only in how they
    insert the new task rows afterwards.
    """
    owner, targets = load_targets(session, spec, units)
    diff = definition_diff(session, spec)
    forced = refuse_overreach(rt, session, spec, diff, targets,
                              allow_other_units=allow_other_units,
                              allow_drop_state=allow_drop_state)
    active = [t.code for _p, t in spec.iter_tasks()]
    counts = per_unit(session, spec.stored_id, targets, diff, active)
    changed = _upsert_definition(session, spec, digest, rt, owner, str(path), forced)
    created = sum(c.created for c in counts)
    result = LoadedPlan(spec.stored_id, str(path), changed, len(active),
                        created // max(len(targets), 1), len(targets), spec.scope, counts,
                        tuple(validity_warnings(spec)))
    return PreparedLoad(spec.stored_id, targets, result)


def read_plan_files(files: Sequence[Path], today: date) -> list[tuple[PlanSpec, str]]:
    """Every file validated before anything is written; two files may not share a plan."""
    specs = [read_plan_file(f, today) for f in files]
    ids = [s.stored_id for s, _ in specs]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("Hai tệp cùng mã kế hoạch", "two files share a plan id",
                               field="plan")
    return specs


def load_plans(
    rt: Runtime, unit_slugs: Iterable[str], files: Sequence[Path], *,
    allow_other_units: bool = False, allow_drop_state: bool = False,
) -> list[LoadedPlan]:
    """Validate every file first, then load them all in one transaction (or none)."""
    specs = read_plan_files(files, rt.today())
    out = []
    with rt.db.transaction() as session:
        units = [get_unit(session, slug) for slug in dict.fromkeys(unit_slugs)]
        for (spec, digest), path in zip(specs, files, strict=True):
            prepared = prepare_load(session, rt, spec, digest, path, units,
                                    allow_other_units=allow_other_units,
                                    allow_drop_state=allow_drop_state)
            instantiate(session, rt, [u.id for u in prepared.units], prepared.plan_id)
            out.append(prepared.result)
    return out
