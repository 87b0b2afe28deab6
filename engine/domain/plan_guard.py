"""What loading a plan file would change, per unit, and the refusal of a load that reaches too far.

Why: a plan definition is shared by every unit that instantiates it. A file loaded for one
commune must not silently rewrite or drop another commune's tasks, nor drop a task someone has
already worked on anywhere. The diff is computed before anything is written; a load that would
do either is refused with the list of what it would change unless the operator passes the
explicit flag (`allow_other_units`, `allow_drop_state`) — and even then nothing is deleted:
retired tasks keep their rows and history, and the previous definition stays in
`plan_revisions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import case, distinct, exists, func, select
from sqlalchemy.orm import Session

from engine.errors import Conflict, Problem
from engine.runtime import Runtime
from engine.storage.models import Plan, PlanTask, Task, TaskHistory, Unit, UnitPlan
from plans import PlanSpec, parse_deadline
from vntext.dates import format_date_vi

_CHUNK = 5000
_SHOWN = 20


@dataclass(frozen=True)
class UnitLoad:
    """What one load did to one unit's instance of a plan (counts of task rows)."""

    unit: str
    created: int
    changed: int
    unchanged: int
    retired: int


@dataclass
class DefinitionDiff:
    """How the file differs from the stored definition (task codes, header field names)."""

    new_plan: bool
    header: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.header or self.added or self.changed or self.retired)

    def describe_vi(self) -> str:
        parts = []
        if self.header:
            parts.append("sửa thông tin kế hoạch (" + ", ".join(self.header) + ")")
        for label, codes in (("thêm", self.added), ("sửa", self.changed),
                             ("bỏ", self.retired)):
            if codes:
                parts.append(f"{label} {len(codes)} nhiệm vụ ({_codes(codes)})")
        return "; ".join(parts)


def _codes(codes: Sequence[str]) -> str:
    shown = ", ".join(codes[:_SHOWN])
    return shown + (f" … và {len(codes) - _SHOWN} nhiệm vụ khác" if len(codes) > _SHOWN else "")


def _header_of(spec: PlanSpec) -> dict[str, object]:
    return {"kind": spec.kind, "year": spec.year, "title": spec.title,
            "issued_by": spec.issued_by, "appendix_title": spec.appendix.title,
            "layout": spec.appendix.layout, "columns": list(spec.appendix.columns) or None,
            "valid_from": spec.validity[0],
            "valid_to": spec.validity[1], "issuer": spec.issuer}


_HEADER_VI = {"kind": "loại", "year": "năm", "title": "tên", "issued_by": "văn bản ban hành",
              "appendix_title": "tên phụ lục", "layout": "bố cục", "columns": "các cột",
              "valid_from": "hiệu lực từ",
              "valid_to": "hiệu lực đến", "issuer": "cơ quan ban hành"}


def definition_diff(session: Session, spec: PlanSpec) -> DefinitionDiff:
    plan = session.get(Plan, spec.stored_id)
    new_tasks = {t.code: (path[-1].code, t) for path, t in spec.iter_tasks()}
    if plan is None:
        return DefinitionDiff(True, added=list(new_tasks))
    diff = DefinitionDiff(False)
    stored = {"kind": plan.kind, "year": plan.year, "title": plan.title,
              "issued_by": plan.issued_by, "appendix_title": plan.appendix_title,
              "layout": plan.layout, "columns": plan.columns, "valid_from": plan.valid_from,
              "valid_to": plan.valid_to,
              "issuer": plan.issuer}
    diff.header = [_HEADER_VI[k] for k, v in _header_of(spec).items()
                   if stored[k] is not None and stored[k] != v]
    rows = {r.code: r for r in session.scalars(
        select(PlanTask).where(PlanTask.plan_id == plan.id))}
    for code, (section, t) in new_tasks.items():
        r = rows.get(code)
        if r is None or r.retired:
            diff.added.append(code)
        elif (r.section_code, r.text, r.default_owner, r.deadline, r.product,
              r.extra or {}) != (section, t.text, t.owner, t.deadline, t.product,
                                 t.stored_extra()):  # a shifted row is no change
            diff.changed.append(code)
    diff.retired = [c for c, r in rows.items() if not r.retired and c not in new_tasks]
    return diff


def per_unit(session: Session, plan_id: str, units: Sequence[Unit], diff: DefinitionDiff,
             active: Sequence[str]) -> tuple[UnitLoad, ...]:
    """Created / changed / unchanged / retired task rows for each unit the file is loaded for."""
    counts: dict[int, tuple[int, int, int]] = {}
    active_set, changed, retired = list(active), list(diff.changed), list(diff.retired)
    ids = [u.id for u in units]
    for i in range(0, len(ids), _CHUNK):
        # Tasks, not rows: recurring work has one row per occurrence (distinct codes).
        q = (select(Task.unit_id,
                    func.count(distinct(case((Task.code.in_(active_set), Task.code)))),
                    func.count(distinct(case((Task.code.in_(changed), Task.code)))) if changed
                    else func.sum(0),
                    func.count(distinct(case((Task.code.in_(retired), Task.code)))) if retired
                    else func.sum(0))
             .where(Task.plan_id == plan_id, Task.unit_id.in_(ids[i:i + _CHUNK]))
             .group_by(Task.unit_id))
        for uid, have, ch, rt in session.execute(q).all():
            counts[uid] = (int(have or 0), int(ch or 0), int(rt or 0))
    out = []
    for u in units:
        have, ch, rt = counts.get(u.id, (0, 0, 0))
        out.append(UnitLoad(u.slug, len(active_set) - have, ch, have - ch, rt))
    return tuple(out)


def refuse_overreach(rt: Runtime, session: Session, spec: PlanSpec, diff: DefinitionDiff,
                     targets: Sequence[Unit], *, allow_other_units: bool,
                     allow_drop_state: bool) -> list[str]:
    """Raise `Conflict` listing what the load would change beyond its reach; returns the flags
    that were needed (and given), for the revision record."""
    if diff.new_plan or not diff.any:
        return []
    problems: list[Problem] = []
    forced: list[str] = []
    plan_id = spec.stored_id
    target_ids = {u.id for u in targets}
    others = [slug for uid, slug in session.execute(
        select(Unit.id, Unit.slug).join(UnitPlan, UnitPlan.unit_id == Unit.id)
        .where(UnitPlan.plan_id == plan_id).order_by(Unit.slug)).all()
        if uid not in target_ids]
    if others:
        if allow_other_units:
            forced.append("allow_other_units")
        else:
            problems.append(Problem(
                "units",
                f"Kế hoạch '{plan_id}' đang dùng ở {len(others)} đơn vị không nằm trong lần nạp "
                f"này ({_codes(others)}); tệp sẽ {diff.describe_vi()} ở các đơn vị đó. Kế hoạch "
                "riêng của một đơn vị phải ghi 'owner: <mã đơn vị>'; nếu đúng là sửa khung "
                "chung cho mọi đơn vị, nạp lại với --allow-other-units",
                f"plan '{plan_id}' is used by {len(others)} units outside this load; the file "
                "would change their tasks; pass --allow-other-units if that is intended",
                value=",".join(others[:_SHOWN])))
    if diff.retired:
        worked = session.execute(
            select(Unit.slug, Task.code, Task.state)
            .join(Unit, Unit.id == Task.unit_id)
            .where(Task.plan_id == plan_id, Task.code.in_(diff.retired),
                   (Task.state != rt.machine.initial)
                   | exists().where(TaskHistory.task_id == Task.id))
            .order_by(Unit.slug, Task.code)).all()
        if worked:
            if allow_drop_state:
                forced.append("allow_drop_state")
            else:
                label = rt.machine.definition.label
                listed = [f"{slug} nhiệm vụ {code} ({label(state)})"
                          for slug, code, state in worked]
                problems.append(Problem(
                    "tasks",
                    f"Tệp bỏ {len(diff.retired)} nhiệm vụ, trong đó {len(worked)} nhiệm vụ đã có "
                    f"cập nhật: {_codes(listed)}. Nếu đúng là bỏ, nạp lại với --allow-drop "
                    "(trạng thái và lịch sử vẫn được giữ)",
                    f"the file drops {len(worked)} tasks that have state; pass --allow-drop",
                    value=",".join(f"{s}:{c}" for s, c, _ in worked[:_SHOWN])))
    if problems:
        raise Conflict(problems[0].message_vi, problems[0].message_en, problems=problems)
    return forced


def validity_warnings(spec: PlanSpec) -> list[str]:
    """Deadlines that fall outside the plan's validity: loaded, but shown to the operator."""
    start, end = spec.validity
    out = []
    for _path, t in spec.iter_tasks():
        if not t.deadline:
            continue
        d = parse_deadline(t.deadline, spec.year)
        if d.due is not None and not start <= d.due <= end:
            out.append(f"Kế hoạch {spec.id}, nhiệm vụ {t.code}: hạn '{t.deadline}' "
                       f"({format_date_vi(d.due)}) nằm ngoài thời gian hiệu lực "
                       f"{format_date_vi(start)}–{format_date_vi(end)}")
    return out
