"""Commands on one unit's tasks: transitions, assignment, deadlines — each in one transaction.

Why this shape: every change (a) validates everything first (document references, dates, the
workflow), (b) updates the task row only if its version is the one the caller read, and
(c) appends the history row in the same transaction. A refused command writes nothing; two
officers saving the same task at once get a clear conflict, never a silent overwrite.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, TypeVar, cast, overload

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from engine.clock import local_date, system_clock
from engine.directory.actor import Actor as Actor  # explicit re-export: callers import it here
from engine.directory.units import get_unit
from engine.domain.choices import resolve_choice
from engine.domain.occurrences import (
    PATH_SEP,
    current_of,
    listed,
    normalise_occurrence,
    path_code,
    pick,
    unknown_occurrence,
)
from engine.domain.plan_ids import resolve_plan_id
from engine.domain.workflow.machine import Command
from engine.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from engine.runtime import Runtime
from engine.storage.database import scope_memo
from engine.storage.models import Plan, PlanSection, PlanTask, Task, TaskHistory, Unit
from engine.storage.rows import plain_rows
from engine.storage.together import Read, scoped_rows
from engine.storage.versioning import check_version
from plans.deadlines import DeadlineError, parse_deadline
from vntext.dates import format_date_vi
from vntext.text import nfc

if TYPE_CHECKING:
    from engine.domain.attachment_files import NewAttachment
    from engine.domain.documents import DocumentRef

# The write path's modules (document parsing, the evidence register, the frozen-period guard,
# the writer, attachments) are imported where a change is made: `cchc task list` and the
# other reads do not load them (start time, issue 13).


@dataclass(frozen=True)
class TaskKey:
    """A unit's task by plan and code; `occurrence` names one period's instance of recurring
    work ("2026-Q1"); None means the one in force on the command's date (see `find_task`)."""

    unit: str
    plan: str
    code: str
    occurrence: str | None = None

    def __str__(self) -> str:
        tail = f" ({self.occurrence})" if self.occurrence else ""
        return f"{self.unit}/{self.plan}/{self.code}{tail}"

    def of(self, task: TaskFields) -> TaskKey:
        """This key naming the occurrence `task` is (unchanged for work that does not recur)."""
        return replace(self, occurrence=task.occurrence) if task.occurrence else self

    @property
    def path_code(self) -> str:
        """The code as a URL segment names it: "7", or "7~2026-Q1" for one occurrence."""
        return path_code(self.code, self.occurrence or "")

    @classmethod
    def from_path(cls, unit: str, plan: str, segment: str) -> TaskKey:
        """The key a URL segment ("7" or "7~2026-Q1", see `path_code`) names."""
        code, sep, occurrence = segment.partition(PATH_SEP)
        return cls(unit, plan, code, occurrence if sep else None)


@dataclass(frozen=True)
class ChangeResult:
    key: TaskKey
    event: str
    from_state: str
    to_state: str
    version: int
    effective_on: date
    evidence: list[str] = field(default_factory=list)


class _Numbered(Protocol):
    """A task's number and period, as every kind of task row has them."""

    @property
    def code(self) -> str: ...
    @property
    def occurrence(self) -> str: ...


class _Held(Protocol):
    """Where a task stands and who holds it."""

    @property
    def state(self) -> str: ...
    @property
    def owner(self) -> str | None: ...


class TaskFields(_Numbered, _Held, Protocol):
    """What reading a task needs of its row: a `Task` (ORM, for a change) or a `TaskRecord`."""

    @property
    def id(self) -> int: ...
    @property
    def plan_id(self) -> str: ...
    @property
    def deadline(self) -> str | None: ...
    @property
    def due_on(self) -> date | None: ...
    @property
    def done_on(self) -> date | None: ...
    @property
    def result(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def version(self) -> int: ...


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task row as a page reads it (`find_task` in a web request, not for a change)."""

    id: int
    plan_id: str
    code: str
    occurrence: str
    state: str
    owner: str | None
    deadline: str | None
    due_on: date | None
    done_on: date | None
    result: str | None
    note: str | None
    version: int


@dataclass(frozen=True, slots=True)
class Definition:
    """A task's place in its plan, read with the task: its section (with the section's title
    and parent when the section is in the plan) and text."""

    section_code: str
    text: str
    section_title: str | None
    section_parent: str | None
    section_listed: bool


def _one_task(q: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """`q` over a unit's task (its rows: one per occurrence of recurring work) with its plan
    definition and section joined."""
    return (q.outerjoin(PlanTask, (PlanTask.plan_id == Task.plan_id)
                        & (PlanTask.code == Task.code))
            .outerjoin(PlanSection, (PlanSection.plan_id == PlanTask.plan_id)
                       & (PlanSection.code == PlanTask.section_code))
            .where(Task.unit_id == bindparam("unit"), Task.plan_id == bindparam("plan"),
                   Task.code == bindparam("code")))


#: A task's rows as ORM objects (what a change starts from); `session.get(PlanTask, …)`
#: afterwards reads no more.
_TASK_AND_DEFINITION = _one_task(select(Task, PlanTask, PlanSection))
#: The same as plain columns, for reading: an ORM statement costs ~3 times a plain one.
_TASK_RECORDS = _one_task(select(
    Task.id, Task.plan_id, Task.code, Task.occurrence, Task.state, Task.owner, Task.deadline,
    Task.due_on, Task.done_on, Task.result, Task.note, Task.version,
    PlanTask.section_code, PlanTask.text, PlanSection.title, PlanSection.parent_code,
    PlanSection.retired))


@overload
def find_task(session: Session, key: TaskKey, *, for_change: Literal[True],
              on: date | None = None) -> tuple[Unit, Task]: ...
@overload
def find_task(session: Session, key: TaskKey, *, for_change: Literal[False] = False,
              on: date | None = None) -> tuple[Unit, TaskFields]: ...
def find_task(session: Session, key: TaskKey, *, for_change: bool = False,
              on: date | None = None) -> tuple[Unit, TaskFields]:
    """The task row; `for_change` also refuses a task removed from the plan (read-only now).
    For recurring work without `key.occurrence`, the occurrence `on` (default: today) falls in
    (`engine.domain.occurrences.pick`). Looked up once per scope when the session has a scope
    cache (see `get_unit`); there, a read gets a `TaskRecord` (plain columns), a change the
    ORM row (`for_change`)."""
    unit = get_unit(session, key.unit)
    cache: dict[object, object] | None = session.info.get("cache")
    plain = cache is not None and not for_change and not session.info.get("writing")
    memo = ("task", key, on, plain)
    found = cache.get(memo) if cache is not None else None
    task = cast(TaskFields, found) if found is not None else _lookup(session, unit, key, on,
                                                                     plain)
    if cache is not None and task is not None:
        cache[memo] = task
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
            raise retired(key)
    return unit, task


def _task_rows(session: Session, unit_id: int, plan_id: str, code: str,
               plain: bool) -> Sequence[TaskFields]:
    """Every row (occurrence) of a unit's task, read once per scope (`scope_memo`): ORM rows,
    or (`plain`) `TaskRecord`s with their `Definition` kept for `definition_of`."""
    params = {"unit": unit_id, "plan": plan_id, "code": code}
    if not plain:
        return scope_memo(session, ("task rows", unit_id, plan_id, code), lambda: list(
            session.scalars(_TASK_AND_DEFINITION, params).all()))

    def load() -> list[TaskRecord]:
        out = []
        cache = session.info["cache"]
        for row in plain_rows(session.connection(), _TASK_RECORDS, params):
            out.append(TaskRecord(*row[:12]))
            section, text, title, parent, section_gone = row[12:]
            if section is not None:
                cache[("definition", plan_id, code)] = Definition(
                    section, text, title, parent,
                    section_gone is not None and not section_gone)  # NULL: no such section
        return out

    return scope_memo(session, ("task records", unit_id, plan_id, code), load)


def definition_of(session: Session, task: TaskFields) -> Definition | None:
    """The plan definition of `task`: read with it in a web request (`_task_rows`), else from
    the session (the ORM query loaded it) or the database."""
    cache: dict[object, object] | None = session.info.get("cache")
    found = cache.get(("definition", task.plan_id, task.code)) if cache is not None else None
    if isinstance(found, Definition):
        return found
    d = session.get(PlanTask, (task.plan_id, task.code))
    if d is None:
        return None
    section = session.get(PlanSection, (task.plan_id, d.section_code))
    return Definition(d.section_code, d.text,
                      section.title if section is not None else None,
                      section.parent_code if section is not None else None,
                      section is not None and not section.retired)


def _lookup(session: Session, unit: Unit, key: TaskKey, on: date | None,
            plain: bool) -> TaskFields | None:
    rows = _task_rows(session, unit.id, resolve_plan_id(session, unit, key.plan), key.code,
                      plain)
    if not rows:
        return None
    by_occurrence: dict[str, TaskFields] = {t.occurrence: t for t in rows}
    if key.occurrence is not None:
        wanted = normalise_occurrence(key.occurrence)
        if wanted not in by_occurrence:
            raise unknown_occurrence(key.code, key.occurrence, list(by_occurrence))
        return by_occurrence[wanted]
    return by_occurrence[pick(list(by_occurrence), on or local_date(system_clock()))]


def retired(key: TaskKey) -> ValidationFailed:
    """The refusal of any change to a task removed from its plan (read-only now)."""
    return ValidationFailed(
        f"Nhiệm vụ {key.code} đã được bỏ khỏi kế hoạch '{key.plan}'; chỉ xem được, "
        "không cập nhật được",
        f"task {key} was removed from the plan; it is read-only", field="code", value=key.code,
    )


def evidence_entries(refs: Sequence[DocumentRef]) -> list[dict[str, str]]:
    """The evidence list a history row keeps: each reference as rendered, its number, date."""
    return [{"ref": r.render(), "no": r.render_number(), "on": r.issued_on.isoformat()}
            for r in refs]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a transition does to a task row, decided by the rules before anything is written."""

    to_state: str
    values: tuple[tuple[str, Any], ...]  # task columns set besides the version, sorted by name
    effective: date


def decide(rt: Runtime, state: str, command: Command, refs: Sequence[DocumentRef],
           on: date | None, today: date, now: datetime, old_note: str | None) -> Decision:
    """The workflow's answer (the shared machine), the effective date and the new column values
    of a task in `state` receiving `command`: the one rule source of `transition` and of
    `engine.bulk.transition_many`. Raises the refusal with its reason."""
    new_state = rt.machine.fire(state, command)
    effective = _effective_date(rt, refs, on, today, new_state)
    result, note = command.result, command.note
    values: dict[str, Any] = {"state": new_state, "updated_at": now}
    if rt.machine.is_done(new_state):
        values.update(result=result or None, done_on=effective, note=note or None)
    else:
        values.update(done_on=None, note=note or result or old_note)
        if result:
            values["result"] = result
    return Decision(new_state, tuple(sorted(values.items())), effective)


def stale(key: TaskKey, current: int | None) -> Conflict:
    """The refusal when the task's version moved between reading it and writing it."""
    return Conflict(
        f"Nhiệm vụ {key.code} vừa được người khác cập nhật (phiên bản {current}); "
        "hãy tải lại rồi thử lại",
        f"task {key} was updated concurrently (now v{current}); reload and retry",
        field="version",
    )


def parse_evidence(texts: Sequence[str], today: date) -> list[DocumentRef]:
    """Parse every reference; any bad one refuses the whole command, and the refusal names
    every bad one (`doc[2]`, `doc[3]`), not only the first."""
    from engine.domain.documents import parse_reference  # lazy: write path (start time)

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
                  result: str, note: str, on: date | None, *,
                  parse: Callable[[Sequence[str], date], list[DocumentRef]] | None = None,
                  today: date | None = None) -> list[DocumentRef]:
    """Everything about a transition's input that can be checked without the task: dates in
    the texts, each document reference, a date in the future, and the workflow's guards
    (evidence, result, reason required). Refuses with ALL the problems at once, so a form
    marks every wrong field in one go; returns the parsed references. `today`: the runtime's,
    read once by a caller checking many commands."""
    from engine.domain.free_text import check_dates, check_length  # lazy: write path

    today = today or rt.today()
    problems: list[Problem] = []
    refs: list[DocumentRef] = []
    for text, name in ((result, "result"), (note, "note")):
        try:
            check_length(text, name)
            check_dates(text, name)
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    try:
        refs = (parse or parse_evidence)(evidence, today)
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
    check_version(task.version, expected, f"Nhiệm vụ {key.code}", f"task {key}")


def _write(session: Session, key: TaskKey, task: Task, event: str, actor: Actor, at: datetime,
           values: Sequence[tuple[str, Any]], effective: date, *, to_state: str | None = None,
           note: str | None = None, result: str | None = None,
           refs: Sequence[DocumentRef] = (), documents: Sequence[int] = (),
           owner: str | None = None, deadline: str | None = None,
           corrects: tuple[str, str] | None = None) -> int:
    """Every change of one task, through the writer `transition_many` uses too: the
    compare-and-set version bump with `values`, the history row, the evidence links. Returns
    the new history row's id; a version moved since `task` was read refuses the command."""
    from engine.domain.task_writes import (  # lazy: write path (start time)
        Event,
        StaleVersion,
        TaskWrite,
        writer_for,
    )

    conn = session.connection()
    writer = writer_for(conn.dialect)
    write = TaskWrite(task.id, task.version, task.state, to_state or task.state,
                      tuple(sorted(values)), effective, note, result,
                      writer.serialize(evidence_entries(refs)), tuple(dict.fromkeys(documents)),
                      owner, deadline, *(corrects or (None, None)))
    try:
        history_ids, _links = writer.write(conn, Event(event, actor.name, actor.role, at),
                                           [write])
    except StaleVersion:
        current = session.scalar(select(Task.version).where(Task.id == task.id))
        raise stale(key, current) from None
    return history_ids[task.id]


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
    (the reason; leaders only, see `engine.domain.frozen_periods`). The rules
    (`check_command`, `decide`, `guard_change`) and the writer (`engine.domain.task_writes`)
    are the ones `engine.domain.bulk.transition_many` uses."""
    from engine.domain.attachment_files import store  # lazy: write path (start time)
    from engine.domain.evidence import register_documents  # lazy: write path (start time)
    from engine.domain.frozen_periods import guard_change  # lazy: write path (start time)

    today, now = rt.today(), rt.now()
    result, note = nfc(result), nfc(note)
    refs = check_command(rt, trigger, actor, evidence, result, note, on)
    with rt.db.transaction() as session:
        unit, task = find_task(session, key, for_change=True, on=on or today)
        key = key.of(task)
        _check_version(task, expected_version, key)
        command = Command(trigger=trigger, actor=actor.name, role=actor.role,
                          evidence=refs, result=result, note=note)
        decision = decide(rt, task.state, command, refs, on, today, now, task.note)
        corrects = guard_change(session, unit.id, decision.effective, actor.role, correction)
        docs = register_documents(session, unit, refs, now)
        history_id = _write(session, key, task, trigger, actor, now, decision.values,
                            decision.effective, to_state=decision.to_state, note=note or None,
                            result=result or None, refs=refs, documents=[d.id for d in docs],
                            corrects=corrects)
        if attachments:
            store(session, task, history_id, attachments, actor.name, now)
        return ChangeResult(key, trigger, task.state, decision.to_state, task.version + 1,
                            decision.effective, [d.rendered for d in docs])


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
        raise Forbidden("Chỉ lãnh đạo UBND được phân công nhiệm vụ",
                        "only a leader may assign tasks", field="role")
    with rt.db.transaction() as session:
        _unit, task = find_task(session, key, for_change=True, on=rt.today())
        key = key.of(task)
        _check_version(task, expected_version, key)
        _write(session, key, task, "assign", actor, rt.now(),
               [("owner", owner), ("updated_at", rt.now())], rt.today(), owner=owner,
               note=f"Phân công: {owner}")
        return ChangeResult(key, "assign", task.state, task.state, task.version + 1,
                            rt.today())


def set_deadline(rt: Runtime, key: TaskKey, deadline: str, actor: Actor,
                 expected_version: int | None = None) -> ChangeResult:
    deadline = nfc(deadline)
    if actor.role not in ("leader", "admin", "system"):
        raise Forbidden("Chỉ lãnh đạo UBND được đặt thời hạn",
                        "only a leader may set deadlines", field="role")
    with rt.db.transaction() as session:
        _unit, task = find_task(session, key, for_change=True, on=rt.today())
        key = key.of(task)
        plan = session.get(Plan, task.plan_id)
        assert plan is not None
        try:
            parsed = parse_deadline(deadline, plan.year)
            # One period's occurrence keeps its period's due date under a recurring text.
            due = task.due_on if parsed.kind == "recurring" and task.occurrence else parsed.due
        except DeadlineError as exc:
            raise ValidationFailed(
                f"Thời hạn '{deadline}' không hợp lệ: {exc.message_vi}",
                f"deadline '{deadline}' not understood: {exc.message_en}",
                field="deadline", value=deadline,
            ) from None
        _check_version(task, expected_version, key)
        _write(session, key, task, "set_deadline", actor, rt.now(),
               [("deadline", deadline), ("due_on", due), ("updated_at", rt.now())], rt.today(),
               deadline=deadline, note=f"Thời hạn: {deadline}")
        return ChangeResult(key, "set_deadline", task.state, task.state, task.version + 1,
                            rt.today())


def add_note(rt: Runtime, key: TaskKey, note: str, actor: Actor, *, on: date | None = None,
             expected_version: int | None = None, correction: str = "") -> ChangeResult:
    """A remark on the task's progress (printed in Kết quả) without changing its state."""
    from engine.domain.free_text import check_dates, check_length  # lazy: write path
    from engine.domain.frozen_periods import guard_change  # lazy: write path (start time)

    note = nfc(note)
    if actor.role not in ("officer", "leader", "admin", "system"):
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
        unit, task = find_task(session, key, for_change=True, on=on or today)
        key = key.of(task)
        _check_version(task, expected_version, key)
        corrects = guard_change(session, unit.id, on or today, actor.role, correction)
        _write(session, key, task, "note", actor, rt.now(),
               [("note", note), ("updated_at", rt.now())], on or today, note=note,
               corrects=corrects)
        return ChangeResult(key, "note", task.state, task.state, task.version + 1, on or today)


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


_HISTORY = (
    select(TaskHistory.seq, TaskHistory.event, TaskHistory.from_state, TaskHistory.to_state,
           TaskHistory.actor, TaskHistory.role, TaskHistory.at, TaskHistory.effective_on,
           TaskHistory.note, TaskHistory.result, TaskHistory.owner, TaskHistory.deadline,
           TaskHistory.evidence)
    .where(TaskHistory.task_id == bindparam("task")).order_by(TaskHistory.seq))


def history_read(task_id: int) -> Read:
    """`history`'s statement and parameters (for a page reading it with others at once,
    `engine.storage.together`)."""
    return _HISTORY, {"task": task_id}


def history(rt: Runtime, key: TaskKey) -> list[HistoryEntry]:
    with rt.db.read() as session:
        _unit, task = find_task(session, key, on=rt.today())
        rows = scoped_rows(session, *history_read(task.id))
        return [HistoryEntry(seq, event, from_state, to_state, actor, role, at, on, note, result,
                             owner, deadline, list(evidence or []))
                for (seq, event, from_state, to_state, actor, role, at, on, note, result, owner,
                     deadline, evidence) in rows]


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
    occurrence: str = ""  # the period of recurring work ("2026-Q1"); "" for one-off work


def count_tasks(session: Session, unit_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Task.unit_id == unit_id)) or 0)


def resolve_key(rt: Runtime, key: TaskKey) -> TaskKey:
    """`key` naming the occurrence it means today (unchanged for work that does not recur)."""
    with rt.db.read() as session:
        return key.of(find_task(session, key, on=rt.today())[1])


@dataclass(frozen=True)
class OccurrenceView:
    """One period's instance of recurring work, as the task page lists them."""

    occurrence: str
    state: str
    state_label: str
    due_on: date | None


def occurrences_of(rt: Runtime, key: TaskKey) -> list[OccurrenceView]:
    """Every occurrence of `key`'s task, in period order; empty for work that does not recur."""
    with rt.db.read() as session:
        unit, task = find_task(session, key, on=rt.today())
        if not task.occurrence:
            return []
        rows = sorted((t.occurrence, t.state, t.due_on)  # the rows `find_task` read
                      for t in _task_rows(session, unit.id, task.plan_id, task.code,
                                          isinstance(task, TaskRecord)))
    label = rt.machine.definition.label
    return [OccurrenceView(o, st, label(st), due) for o, st, due in rows]


def get_view(rt: Runtime, key: TaskKey) -> TaskView:
    with rt.db.read() as session:
        unit, task = find_task(session, key, on=rt.today())
        d = definition_of(session, task)
        assert d is not None
        return _view(rt, unit, task, d)


def _view(rt: Runtime, unit: Unit, task: TaskFields, d: Definition) -> TaskView:
    return _view_of(rt, unit.slug, task.plan_id, task.code, d.section_code, d.text, task.state,
                    task.owner, task.deadline, task.due_on, task.done_on, task.result,
                    task.note, task.version, task.occurrence)


def _view_of(rt: Runtime, unit: str, plan: str, code: str, section: str, text: str, state: str,
             owner: str | None, deadline: str | None, due_on: date | None,
             done_on: date | None, result: str | None, note: str | None,
             version: int, occurrence: str = "") -> TaskView:
    from engine.domain.timeliness import task_timeliness

    status = task_timeliness(deadline, due_on, done_on, rt.today(), rt.calendar)
    return TaskView(
        unit=unit, plan=plan, code=code, section=section, text=text, state=state,
        state_label=rt.machine.definition.label(state), owner=owner, deadline=deadline,
        due_on=due_on, done_on=done_on, result=result, note=note, version=version,
        timeliness=status.value, occurrence=occurrence,
    )


_VIEW_COLUMNS = (Task.plan_id, Task.code, PlanTask.section_code, PlanTask.text, Task.state,
                 Task.owner, Task.deadline, Task.due_on, Task.done_on, Task.result, Task.note,
                 Task.version, Task.occurrence)


def _list_query(plan: bool, state: bool) -> Select[*tuple[Any, ...]]:
    q = (
        select(*_VIEW_COLUMNS)
        .join(PlanTask, (PlanTask.plan_id == Task.plan_id) & (PlanTask.code == Task.code))
        .join(Plan, Plan.id == Task.plan_id)
        .where(Task.unit_id == bindparam("unit"), PlanTask.retired.is_(False))
        .order_by(Plan.appendix_number, PlanTask.position, Task.occurrence)
    )
    if plan:
        q = q.where(Task.plan_id == bindparam("plan"))
    if state:
        q = q.where(Task.state == bindparam("state"))
    return q


#: `list_tasks`'s statement per filter (plan given, state given), built once.
_LIST_QUERIES = {(p, s): _list_query(p, s) for p in (False, True) for s in (False, True)}


def _status_of(rt: Runtime) -> Callable[[str | None, date | None, date | None], str]:
    """`task_timeliness(deadline, due, done)` as of today, as a string, worked out once per
    distinct (deadline text when there is no due date, due, done) for a list's rows."""
    from engine.domain.timeliness import task_timeliness

    today, calendar = rt.today(), rt.calendar
    statuses: dict[tuple[str | None, date | None, date | None], str] = {}

    def status_of(deadline: str | None, due: date | None, done: date | None) -> str:
        written = deadline if due is None else None  # without a due date: ongoing or not
        status = statuses.get((written, due, done))
        if status is None:
            found = task_timeliness(written, due, done, today, calendar)
            status = statuses[written, due, done] = found.value
        return status

    return status_of


def _views_of(rt: Runtime, unit: str, rows: Iterable[Sequence[Any]]) -> list[TaskView]:
    """`_view_of` of many rows (`_VIEW_COLUMNS`): the status of each distinct (due, done)
    pair and the label of each state worked out once, today read once."""
    label_of = rt.machine.definition.label
    status_of = _status_of(rt)
    labels: dict[str, str] = {}
    # Every field set at once (a list builds a view per row: a frozen dataclass's __init__
    # sets its 16 fields one `object.__setattr__` at a time, twice as slow). The same object
    # as `TaskView(...)` makes: equal, same hash (tests/test_task_views.py).
    new_view = object.__new__
    out = []
    for p, c, sec, text, st, own, dl, due, done, res, note, v, occ in rows:
        status = status_of(dl, due, done)
        label = labels.get(st)
        if label is None:
            label = labels[st] = label_of(st)
        view = new_view(TaskView)
        view.__dict__.update(unit=unit, plan=p, code=c, section=sec, text=text, state=st,
                             state_label=label, owner=own, deadline=dl, due_on=due,
                             done_on=done, result=res, note=note, version=v,
                             timeliness=status, occurrence=occ)
        out.append(view)
    return out


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
    at: date | None = None,
    earlier: bool = False,
) -> list[TaskView]:
    """A unit's tasks in appendix order, filtered (see `filter_tasks`). Read as plain rows,
    not ORM objects: a list page shows every task of the unit. Read once per scope (a web
    request: the page and its menu's counts) when the session has a scope cache.

    Recurring work shows the occurrence in force on `at` (default today); with `overdue` or
    `earlier`, also every earlier occurrence still open past its due date (`listed`)."""

    if state:
        state = resolve_choice(state, rt.machine.definition.state_labels, field="state",
                               what_vi="Trạng thái", what_en="task state")
    with rt.db.read() as session:
        cache: dict[object, object] | None = session.info.get("cache")
        whole = not plan and not state and at is None
        if whole and cache is not None and ("tasks", unit_slug) in cache:
            return filter_tasks(cast(list[TaskView], cache[("tasks", unit_slug)]),
                                section=section, owner=owner, overdue=overdue, search=search,
                                earlier=earlier)
        unit = get_unit(session, unit_slug)
        params: dict[str, Any] = {"unit": unit.id}
        if plan:
            params["plan"] = resolve_plan_id(session, unit, plan)
        # no state in SQL: which occurrence is in force is decided before any filter
        rows = plain_rows(session.connection(), _LIST_QUERIES[bool(plan), False], params)
        views = current_occurrences(_views_of(rt, unit_slug, rows), at or rt.today())
        if whole and cache is not None:
            cache[("tasks", unit_slug)] = views
    return filter_tasks(views, plan=plan, section=section, owner=owner, state=state,
                        overdue=overdue, search=search, earlier=earlier)


class TaskBrief(NamedTuple):
    """What counts of a unit's tasks read of each (the menu's): no text, no view built."""

    plan: str
    code: str
    occurrence: str
    state: str
    owner: str | None
    timeliness: str


#: `task_briefs`' statement: of a unit's tasks in its plans (`list_tasks`' rows), those that
#: may count — every occurrence of recurring work (which one is in force is decided from all
#: of them), work open with an owner (someone's open task), work due before today and not
#: done by then (only such work can be overdue: `timeliness`) — in eight plain columns. Built
#: once per set of done states (the workflow's), each compared on its own: a fixed statement
#: rather than an expanding IN list rendered again at every run.
@functools.cache
def _brief_query(done: tuple[str, ...]) -> Select[*tuple[Any, ...]]:
    return (
        select(Task.plan_id, Task.code, Task.occurrence, Task.state, Task.owner, Task.deadline,
               Task.due_on, Task.done_on)
        .join(PlanTask, (PlanTask.plan_id == Task.plan_id) & (PlanTask.code == Task.code))
        .where(Task.unit_id == bindparam("unit"), PlanTask.retired.is_(False),
               or_(Task.occurrence != "",
                   and_(Task.owner != "", *(Task.state != state for state in done)),
                   and_(Task.due_on < bindparam("today"),
                        or_(Task.done_on.is_(None), Task.done_on > bindparam("today")))))
    )


class _Occurring(_Numbered, Protocol):
    @property
    def plan(self) -> str: ...
    @property
    def timeliness(self) -> str | None: ...


_Row = TypeVar("_Row", bound=_Occurring)


class TaskRow(_Occurring, _Held, Protocol):
    """What a count reads of a task: a `TaskView` or a `TaskBrief`."""


def task_briefs(rt: Runtime, unit_slug: str) -> Sequence[TaskRow]:
    """For counting the unit's open and overdue tasks: of the rows `list_tasks(rt, unit_slug)`
    lists (recurring work: the occurrence in force), in no particular order, at least every
    one overdue or open with an owner. The scope's whole list when the page read it already,
    else `TaskBrief`s of only the rows that may count (`_brief_query`)."""
    with rt.db.read() as session:
        cache: dict[object, object] | None = session.info.get("cache")
        if cache is not None and ("tasks", unit_slug) in cache:
            return in_force(cast(list[TaskView], cache[("tasks", unit_slug)]))
        unit = get_unit(session, unit_slug)
        rows = plain_rows(session.connection(), brief_statement(rt),
                          {"unit": unit.id, "today": rt.today()})
    return briefs_of(rt, rows)


def brief_statement(rt: Runtime) -> Select[*tuple[Any, ...]]:
    """`task_briefs`' statement (parameters `unit`, the unit's id, and `today`) for another
    read to run as part of its own (`engine.reporting.menu`); its rows go to `briefs_of`."""
    return _brief_query(tuple(sorted(rt.machine.done_states)))


def briefs_of(rt: Runtime, rows: Sequence[Sequence[Any]]) -> Sequence[TaskRow]:
    """`task_briefs` of the rows of `brief_statement` (their first eight columns), as of
    today."""
    today = rt.today()
    status_of = _status_of(rt)
    # Only recurring work needs the passes choosing its occurrence: a task of one row is
    # listed and in force as it is (most of a commune's tasks).
    recurring = {(r[0], r[1]) for r in rows if r[2]}
    # a row without a period of a task that has periods (none once its plan is loaded again)
    mixed = {(r[0], r[1]) for r in rows if not r[2]} & recurring if recurring else set()
    single: list[TaskBrief] = []
    several: list[TaskBrief] = []
    new_brief = tuple.__new__  # the same TaskBrief, without the Python-level __new__ per row
    statuses: dict[tuple[str | None, date | None, date | None], str] = {}
    for p, c, occ, st, own, dl, due, done in rows:
        key = (dl if due is None else None, due, done)
        status = statuses.get(key)
        if status is None:
            status = statuses[key] = status_of(dl, due, done)
        (several if occ or (mixed and (p, c) in mixed) else single).append(
            new_brief(TaskBrief, (p, c, occ, st, own, status)))
    return single + in_force(current_occurrences(several, today)) if several else single


def current_occurrences(views: Sequence[_Row], day: date) -> list[_Row]:
    """Of each recurring task's occurrences, the one in force on `day` and the earlier ones
    still open past their due date (`engine.domain.occurrences.listed`)."""
    current = current_of((((v.plan, v.code), v.occurrence) for v in views), day)
    return [v for v in views
            if listed(v.occurrence, current.get((v.plan, v.code), ""),
                      v.timeliness == "open_overdue")]


def in_force(views: Sequence[_Row]) -> list[_Row]:
    """Of `current_occurrences`' list, one row per task: recurring work's occurrence in force
    (the latest listed; the earlier ones are there only because they are overdue)."""
    latest: dict[tuple[str, str], str] = {}
    for v in views:
        if v.occurrence > latest.get((v.plan, v.code), ""):
            latest[(v.plan, v.code)] = v.occurrence
    return [v for v in views if v.occurrence == latest.get((v.plan, v.code), "")]


def filter_tasks(
    views: Sequence[TaskView],
    *,
    plan: str | None = None,
    section: str | None = None,
    owner: str | None = None,
    state: str | None = None,
    overdue: bool = False,
    search: str | None = None,
    earlier: bool = False,
) -> list[TaskView]:
    """The task-list filters: plan, section (and its sub-sections), owner and search text
    without diacritics, state, overdue. One implementation for `list_tasks` and for a page
    that already holds the unit's whole list. Of recurring work the occurrence in force only,
    unless `overdue` or `earlier` (then also the earlier ones overdue, as `list_tasks` read
    them)."""
    from vntext.text import fold

    out = list(views) if overdue or earlier else in_force(views)
    if plan:  # the unit's own plan of that code (code@unit) first, else the framework
        own = {v.plan for v in out if v.plan == f"{plan}@{v.unit}"}
        wanted = own or {plan}
        out = [v for v in out if v.plan in wanted]
    if state:
        out = [v for v in out if v.state == state]
    if section:
        out = [v for v in out if v.section == section or v.section.startswith(section + ".")]
    if owner:
        f = fold(owner)
        out = [v for v in out if v.owner and f in fold(v.owner)]
    if overdue:
        out = [v for v in out if v.timeliness == "open_overdue"]
    if search:  # every word, in any order, with or without diacritics
        words = fold(search).split()
        out = [v for v in out if _has_words(f"{fold(v.text)}\n{fold(v.result or '')}", words)]
    return out
