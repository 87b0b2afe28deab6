"""Commands on one unit's tasks: transitions, assignment, deadlines — each in one transaction.

Why this shape: every change (a) validates everything first (document references, dates, the
workflow), (b) updates the task row only if its version is the one the caller read, and
(c) appends the history row in the same transaction. A refused command writes nothing; two
officers saving the same task at once get a clear conflict, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.directory.units import get_unit
from engine.domain.documents import DocumentRef, parse_reference
from engine.domain.evidence import register_documents
from engine.domain.free_text import check_dates, check_length
from engine.domain.frozen_periods import guard_change
from engine.domain.plan_loading import resolve_plan_id
from engine.domain.workflow.machine import Command
from engine.errors import Conflict, NotFound, Problem, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import Plan, PlanTask, Task, TaskEvidence, TaskHistory, Unit
from engine.storage.versioning import compare_and_set
from plans.deadlines import DeadlineError, parse_deadline
from vntext.dates import format_date_vi
from vntext.text import nfc

if TYPE_CHECKING:
    from engine.domain.attachments import NewAttachment


@dataclass(frozen=True)
class TaskKey:
    unit: str
    plan: str
    code: str

    def __str__(self) -> str:
        return f"{self.unit}/{self.plan}/{self.code}"


@dataclass(frozen=True)
class Actor:
    name: str
    role: str = "officer"


@dataclass(frozen=True)
class ChangeResult:
    key: TaskKey
    event: str
    from_state: str
    to_state: str
    version: int
    effective_on: date
    evidence: list[str] = field(default_factory=list)


def find_task(session: Session, key: TaskKey, *, for_change: bool = False
              ) -> tuple[Unit, Task]:
    """The task row; `for_change` also refuses a task removed from the plan (read-only now)."""
    unit = get_unit(session, key.unit)
    plan_id = resolve_plan_id(session, unit, key.plan)
    task = session.scalar(
        select(Task).where(Task.unit_id == unit.id, Task.plan_id == plan_id,
                           Task.code == key.code)
    )
    if task is None:
        if session.get(Plan, key.plan) is None:
            raise NotFound(
                f"Không có kế hoạch '{key.plan}' (xem: cchc plan list)",
                f"plan '{key.plan}' not found", field="plan", value=key.plan,
            )
        raise NotFound(
            f"Kế hoạch '{key.plan}' của đơn vị '{key.unit}' không có nhiệm vụ số '{key.code}'",
            f"task {key} not found", field="code", value=key.code,
        )
    if for_change:
        definition = session.get(PlanTask, (task.plan_id, key.code))
        if definition is not None and definition.retired:
            raise ValidationFailed(
                f"Nhiệm vụ {key.code} đã được bỏ khỏi kế hoạch '{key.plan}'; chỉ xem được, "
                "không cập nhật được",
                f"task {key} was removed from the plan; it is read-only", field="code",
                value=key.code,
            )
    return unit, task


def parse_evidence(texts: Sequence[str], today: date) -> list[DocumentRef]:
    """Parse every reference; any bad one refuses the whole command, and the refusal names
    every bad one (`doc[2]`, `doc[3]`), not only the first."""
    refs: list[DocumentRef] = []
    problems: list[Problem] = []
    for i, text in enumerate(texts):
        try:
            refs.append(parse_reference(nfc(text), today=today))
        except ValidationFailed as exc:
            label = f"doc[{i + 1}]" if len(texts) > 1 else "doc"
            problems.append(Problem(label, f"Văn bản '{text}': {exc.message_vi}",
                                    f"document '{text}': {exc.message_en}", text))
    if problems:
        raise ValidationFailed(problems[0].message_vi, problems[0].message_en,
                               problems=problems)
    seen: dict[tuple[object, ...], DocumentRef] = {}
    for ref in refs:
        if ref.key in seen and seen[ref.key].issued_on != ref.issued_on:
            other = seen[ref.key]
            raise ValidationFailed(
                f"Văn bản số {ref.render_number()} được ghi với hai ngày khác nhau "
                f"({format_date_vi(other.issued_on)} và {format_date_vi(ref.issued_on)})",
                "the same document number is given with two different dates",
                field="doc",
            )
        seen[ref.key] = ref
    return list({r.key: r for r in refs}.values())


def check_command(rt: Runtime, trigger: str, actor: Actor, evidence: Sequence[str],
                  result: str, note: str, on: date | None) -> list[DocumentRef]:
    """Everything about a transition's input that can be checked without the task: dates in
    the texts, each document reference, a date in the future, and the workflow's guards
    (evidence, result, reason required). Refuses with ALL the problems at once, so a form
    marks every wrong field in one go; returns the parsed references."""
    today = rt.today()
    problems: list[Problem] = []
    refs: list[DocumentRef] = []
    for text, name in ((result, "result"), (note, "note")):
        try:
            check_length(text, name)
            check_dates(text, name)
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    try:
        refs = parse_evidence(evidence, today)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    if on is not None and on > today:
        problems.append(Problem(
            "on", f"Ngày thực hiện {format_date_vi(on)} ở tương lai (hôm nay "
                  f"{format_date_vi(today)})", "the stated date is in the future"))
    command = Command(trigger=trigger, actor=actor.name, role=actor.role,
                      evidence=list(evidence), result=result, note=note)
    guard = rt.machine.guard_problems(command)
    known = {p.field.split("[", 1)[0] for p in problems}
    problems += [p for p in guard if p.field not in known]
    if problems:
        raise ValidationFailed(problems[0].message_vi, problems[0].message_en,
                               problems=problems)
    return refs


def _check_version(task: Task, expected: int | None, key: TaskKey) -> None:
    if expected is not None and expected != task.version:
        raise Conflict(
            f"Nhiệm vụ {key.code} đã được người khác cập nhật (phiên bản hiện tại "
            f"{task.version}, bạn đang sửa phiên bản {expected}); hãy tải lại rồi thử lại",
            f"task {key} changed since you read it (now v{task.version}, you had "
            f"v{expected}); reload and retry",
            field="version",
        )


def _bump(session: Session, task: Task, expected_version: int, values: dict[str, object],
          key: TaskKey) -> int:
    """Compare-and-set on the version column: the only way a task row changes."""
    current = compare_and_set(session, Task, task.id, expected_version, values)
    if current is not None:
        raise Conflict(
            f"Nhiệm vụ {key.code} vừa được người khác cập nhật (phiên bản {current}); "
            "hãy tải lại rồi thử lại",
            f"task {key} was updated concurrently (now v{current}); reload and retry",
            field="version",
        )
    return expected_version + 1


def _history(session: Session, task: Task, version: int, event: str, from_state: str,
             to_state: str, actor: Actor, at: datetime, effective_on: date,
             **extra: object) -> TaskHistory:
    row = TaskHistory(
        task_id=task.id, seq=version, event=event, from_state=from_state, to_state=to_state,
        actor=actor.name, role=actor.role, at=at, effective_on=effective_on,
        version=version, evidence=extra.pop("evidence", []), **extra,
    )
    session.add(row)
    session.flush()
    return row


def transition(
    rt: Runtime,
    key: TaskKey,
    trigger: str,
    actor: Actor,
    *,
    evidence: Sequence[str] = (),
    result: str = "",
    note: str = "",
    on: date | None = None,
    expected_version: int | None = None,
    attachments: Sequence[NewAttachment] = (),
    correction: str = "",
) -> ChangeResult:
    """Fire a workflow trigger on one task, with its evidence, result and note; `attachments`
    (PDFs checked by `engine.domain.attachments.check_pdf`) are stored in the same transaction,
    linked to the new history row. A step dated inside a frozen period needs `correction`
    (the reason; leaders only, see `engine.domain.frozen_periods`)."""
    today = rt.today()
    result, note = nfc(result), nfc(note)
    refs = check_command(rt, trigger, actor, evidence, result, note, on)
    with rt.db.transaction() as session:
        unit, task = find_task(session, key, for_change=True)
        _check_version(task, expected_version, key)
        command = Command(trigger=trigger, actor=actor.name, role=actor.role,
                          evidence=refs, result=result, note=note)
        new_state = rt.machine.fire(task.state, command)
        effective = _effective_date(rt, refs, on, today, new_state)
        corrects = guard_change(session, unit.id, effective, actor.role, correction)
        values: dict[str, object] = {"state": new_state, "updated_at": rt.now()}
        if rt.machine.is_done(new_state):
            values.update(result=result or None, done_on=effective, note=note or None)
        else:
            values.update(done_on=None, note=note or result or task.note)
            if result:
                values["result"] = result
        docs = register_documents(session, unit, refs, rt.now())
        version = _bump(session, task, task.version, values, key)
        hist = _history(
            session, task, version, trigger, task.state, new_state, actor, rt.now(), effective,
            note=note or None, result=result or None,
            evidence=[{"ref": r.render(), "no": r.render_number(),
                       "on": r.issued_on.isoformat()} for r in refs],
            **_correction_fields(corrects),
        )
        existing = set(session.scalars(
            select(TaskEvidence.document_id).where(TaskEvidence.task_id == task.id)))
        for d in docs:
            if d.id not in existing:
                session.add(TaskEvidence(task_id=task.id, document_id=d.id, history_id=hist.id))
        if attachments:
            from engine.domain.attachments import store

            store(session, task, hist, attachments, actor.name, rt.now())
        return ChangeResult(key, trigger, task.state, new_state, version, effective,
                            [d.rendered for d in docs])


def _correction_fields(corrects: tuple[str, str] | None) -> dict[str, object]:
    if corrects is None:
        return {}
    return {"corrects_period": corrects[0], "correction_reason": corrects[1]}


def _effective_date(rt: Runtime, refs: Sequence[DocumentRef], on: date | None, today: date,
                    new_state: str) -> date:
    """A done task counts from its evidence's date; an officer may say later, never earlier."""
    if not rt.machine.is_done(new_state):
        return on or today
    latest = max((r.issued_on for r in refs), default=None)
    if latest is None:
        if on is None:
            raise ValidationFailed(
                "Không có văn bản minh chứng thì phải ghi ngày hoàn thành",
                "without evidence a completion date is required", field="on",
            )
        return on
    if on is not None and on < latest:
        raise ValidationFailed(
            f"Ngày hoàn thành {format_date_vi(on)} sớm hơn ngày của văn bản minh chứng "
            f"({format_date_vi(latest)})",
            "the completion date cannot be earlier than the evidence document", field="on",
        )
    return on or latest


def assign(rt: Runtime, key: TaskKey, owner: str, actor: Actor,
           expected_version: int | None = None) -> ChangeResult:
    owner = nfc(owner)
    if not owner:
        raise ValidationFailed("Phải ghi người/bộ phận phụ trách", "owner is required",
                               field="owner")
    if actor.role not in ("leader", "admin", "system"):
        from engine.errors import Forbidden

        raise Forbidden("Chỉ lãnh đạo UBND được phân công nhiệm vụ",
                        "only a leader may assign tasks", field="role")
    with rt.db.transaction() as session:
        _unit, task = find_task(session, key, for_change=True)
        _check_version(task, expected_version, key)
        version = _bump(session, task, task.version, {"owner": owner, "updated_at": rt.now()},
                        key)
        _history(session, task, version, "assign", task.state, task.state, actor, rt.now(),
                 rt.today(), owner=owner, note=f"Phân công: {owner}")
        return ChangeResult(key, "assign", task.state, task.state, version, rt.today())


def set_deadline(rt: Runtime, key: TaskKey, deadline: str, actor: Actor,
                 expected_version: int | None = None) -> ChangeResult:
    deadline = nfc(deadline)
    if actor.role not in ("leader", "admin", "system"):
        from engine.errors import Forbidden

        raise Forbidden("Chỉ lãnh đạo UBND được đặt thời hạn",
                        "only a leader may set deadlines", field="role")
    with rt.db.transaction() as session:
        _unit, task = find_task(session, key, for_change=True)
        plan = session.get(Plan, task.plan_id)
        assert plan is not None
        try:
            due = parse_deadline(deadline, plan.year).due
        except DeadlineError as exc:
            raise ValidationFailed(
                f"Thời hạn '{deadline}' không hợp lệ: {exc.message_vi}",
                f"deadline '{deadline}' not understood: {exc.message_en}",
                field="deadline", value=deadline,
            ) from None
        _check_version(task, expected_version, key)
        version = _bump(session, task, task.version,
                        {"deadline": deadline, "due_on": due, "updated_at": rt.now()}, key)
        _history(session, task, version, "set_deadline", task.state, task.state, actor,
                 rt.now(), rt.today(), deadline=deadline, note=f"Thời hạn: {deadline}")
        return ChangeResult(key, "set_deadline", task.state, task.state, version, rt.today())


def add_note(rt: Runtime, key: TaskKey, note: str, actor: Actor, *, on: date | None = None,
             expected_version: int | None = None, correction: str = "") -> ChangeResult:
    """A remark on the task's progress (printed in Kết quả) without changing its state."""
    note = nfc(note)
    if actor.role not in ("officer", "leader", "admin", "system"):
        from engine.errors import Forbidden

        raise Forbidden(f"Vai trò '{actor.role}' chỉ được xem, không được ghi chú",
                        f"role '{actor.role}' may not add notes", field="role")
    if not note:
        raise ValidationFailed("Phải ghi nội dung", "the note is empty", field="note")
    check_length(note, "note")
    check_dates(note, "note")
    today = rt.today()
    if on is not None and on > today:
        raise ValidationFailed(f"Ngày {format_date_vi(on)} ở tương lai",
                               "the stated date is in the future", field="on")
    with rt.db.transaction() as session:
        unit, task = find_task(session, key, for_change=True)
        _check_version(task, expected_version, key)
        corrects = guard_change(session, unit.id, on or today, actor.role, correction)
        version = _bump(session, task, task.version, {"note": note, "updated_at": rt.now()},
                        key)
        _history(session, task, version, "note", task.state, task.state, actor, rt.now(),
                 on or today, note=note, **_correction_fields(corrects))
        return ChangeResult(key, "note", task.state, task.state, version, on or today)


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    event: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    at: datetime
    effective_on: date
    note: str | None
    result: str | None
    owner: str | None
    deadline: str | None
    evidence: list[dict[str, str]]


def history(rt: Runtime, key: TaskKey) -> list[HistoryEntry]:
    with rt.db.read() as session:
        _unit, task = find_task(session, key)
        rows = session.scalars(
            select(TaskHistory).where(TaskHistory.task_id == task.id).order_by(TaskHistory.seq)
        ).all()
        return [
            HistoryEntry(r.seq, r.event, r.from_state, r.to_state, r.actor, r.role, r.at,
                         r.effective_on, r.note, r.result, r.owner, r.deadline,
                         list(r.evidence or []))
            for r in rows
        ]


def replay_state(rt: Runtime, entries: Sequence[HistoryEntry]) -> str:
    """The state the history leads to; must equal the stored state (tests check it)."""
    state = rt.machine.initial
    for e in entries:
        if e.from_state is not None and e.from_state != state:
            raise AssertionError(f"history broken at seq {e.seq}: {e.from_state} != {state}")
        state = e.to_state
    return state


@dataclass(frozen=True)
class TaskView:
    unit: str
    plan: str
    code: str
    section: str
    text: str
    state: str
    state_label: str
    owner: str | None
    deadline: str | None
    due_on: date | None
    done_on: date | None
    result: str | None
    note: str | None
    version: int
    timeliness: str | None = None


def count_tasks(session: Session, unit_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Task.unit_id == unit_id)) or 0)


def get_view(rt: Runtime, key: TaskKey) -> TaskView:
    with rt.db.read() as session:
        unit, task = find_task(session, key)
        d = session.get(PlanTask, (task.plan_id, key.code))
        assert d is not None
        return _view(rt, unit, task, d)


def _view(rt: Runtime, unit: Unit, task: Task, d: PlanTask) -> TaskView:
    from engine.domain.timeliness import timeliness

    status = timeliness(task.due_on, task.done_on, rt.today(), rt.calendar)
    return TaskView(
        unit=unit.slug, plan=task.plan_id, code=task.code, section=d.section_code,
        text=d.text, state=task.state, state_label=rt.machine.definition.label(task.state),
        owner=task.owner, deadline=task.deadline, due_on=task.due_on, done_on=task.done_on,
        result=task.result, note=task.note, version=task.version,
        timeliness=str(status.value) if hasattr(status, "value") else str(status),
    )


def _has_words(haystack: str, words: Sequence[str]) -> bool:
    return all(w in haystack for w in words)


def list_tasks(
    rt: Runtime,
    unit_slug: str,
    *,
    plan: str | None = None,
    section: str | None = None,
    owner: str | None = None,
    state: str | None = None,
    overdue: bool = False,
    search: str | None = None,
) -> list[TaskView]:
    from engine.domain.choices import resolve_choice
    from vntext.text import fold

    if state:
        state = resolve_choice(state, rt.machine.definition.state_labels, field="state",
                               what_vi="Trạng thái", what_en="task state")
    with rt.db.read() as session:
        unit = get_unit(session, unit_slug)
        q = (
            select(Task, PlanTask)
            .join(PlanTask, (PlanTask.plan_id == Task.plan_id) & (PlanTask.code == Task.code))
            .join(Plan, Plan.id == Task.plan_id)
            .where(Task.unit_id == unit.id, PlanTask.retired.is_(False))
            .order_by(Plan.appendix_number, PlanTask.position)
        )
        if plan:
            q = q.where(Task.plan_id == resolve_plan_id(session, unit, plan))
        if state:
            q = q.where(Task.state == state)
        views = [_view(rt, unit, t, d) for t, d in session.execute(q).all()]
    if section:
        views = [v for v in views if v.section == section or v.section.startswith(section + ".")]
    if owner:
        f = fold(owner)
        views = [v for v in views if v.owner and f in fold(v.owner)]
    if overdue:
        views = [v for v in views if v.timeliness == "open_overdue"]
    if search:  # every word, in any order, with or without diacritics
        words = fold(search).split()
        views = [v for v in views
                 if _has_words(f"{fold(v.text)}\n{fold(v.result or '')}", words)]
    return views
