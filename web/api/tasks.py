"""Tasks of one unit: list, detail, history, workflow steps, owner, deadline, notes.

Every route asks `engine.directory.access` first (read scope for reads; the action's role and the
write
scope for changes), then calls the engine's command, which validates everything, compares the
caller's `expected_version` and appends the history row with the caller as actor
(`directory.actor_for`) in one transaction — a refusal of either writes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from engine import api, directory
from engine.directory import UserView
from engine.domain import ChangeResult, TaskView
from engine.errors import NotFound, ValidationFailed
from engine.runtime import Runtime
from web.api.common import READ, WRITE, Caller, evidence_list, renamed_fields, vn_time
from web.api.schemas import (
    ChangeOut,
    DeadlineIn,
    HistoryOut,
    NoteIn,
    OwnerIn,
    TaskDetailOut,
    TaskListOut,
    TaskOut,
    TransitionIn,
    TriggerOut,
)
from web.deps import Rt

router = APIRouter(tags=["tasks"])

TASK = "/units/{unit}/tasks/{plan}/{code}"
#: The engine names fields as the CLI does; the API names them as its request bodies do.
BODY_FIELDS = {"doc": "evidence", "version": "expected_version"}
GUARD_FIELDS = {"has_evidence": "evidence", "has_result": "result", "has_note": "note"}


def _change(rt: Runtime, change: ChangeResult) -> ChangeOut:
    return ChangeOut(
        unit=change.key.unit, plan=change.key.plan, code=change.key.code, event=change.event,
        from_state=change.from_state, to_state=change.to_state,
        to_state_label=rt.machine.definition.label(change.to_state), version=change.version,
        effective_on=change.effective_on, evidence=list(change.evidence))


def _triggers(rt: Runtime, user: UserView, unit: str, state: str) -> list[TriggerOut]:
    out = []
    for trigger in directory.allowed_triggers(rt, user, unit, state):
        t = rt.machine.definition.transition(trigger)
        assert t is not None
        requires = [GUARD_FIELDS[g] for g in t.guards if g in GUARD_FIELDS]
        out.append(TriggerOut.model_validate({"trigger": t.trigger, "label": t.label,
                                              "to_state": t.dest, "requires": requires}))
    return out


def _check_filters(rt: Runtime, plan: str | None, state: str | None) -> None:
    if state and state not in rt.machine.definition.state_names:
        names = ", ".join(rt.machine.definition.state_names)
        raise ValidationFailed(f"Trạng thái '{state}' không có (chọn một trong: {names})",
                               f"unknown state '{state}' (one of: {names})", field="state",
                               value=state)
    if plan and plan not in {p["id"] for p in api.list_plans(rt)}:
        raise NotFound(f"Không có kế hoạch '{plan}'", f"plan '{plan}' not found", field="plan",
                       value=plan)


@router.get("/units/{unit}/tasks", response_model=TaskListOut, responses=READ,
            summary="The unit's tasks, in appendix order, filtered")
def list_tasks(
    unit: str, rt: Rt, user: Caller,
    plan: Annotated[str | None, Query(description="Plan id, e.g. cchc-2023")] = None,
    section: Annotated[str | None, Query(description="Section code and its subsections")] = None,
    state: Annotated[str | None, Query(description="Workflow state, e.g. done")] = None,
    owner: Annotated[str | None, Query(description="Part of the owner's name (no accents "
                                                   "needed)")] = None,
    overdue: Annotated[bool, Query(description="Only open tasks past their due date")] = False,
    q: Annotated[str | None, Query(description="Words in the task or its result")] = None,
) -> TaskListOut:
    directory.require_read(rt, user, unit)
    _check_filters(rt, plan, state)
    tasks = api.list_tasks(rt, unit, plan=plan, section=section, owner=owner, state=state,
                           overdue=overdue, search=q)
    return TaskListOut(unit=unit, count=len(tasks),
                       tasks=[TaskOut.model_validate(t) for t in tasks])


def _detail(rt: Runtime, user: UserView, view: TaskView) -> TaskDetailOut:
    unit = view.unit
    entries = api.history(rt, api.TaskKey(unit, view.plan, view.code))
    evidence = []
    if rt.machine.is_done(view.state):
        last = next((e for e in reversed(entries)
                     if rt.machine.is_done(e.to_state) and e.from_state != e.to_state), None)
        evidence = evidence_list(last.evidence) if last else []
    writable = directory.can_write_unit(rt, user, unit)
    return TaskDetailOut.model_validate({
        **TaskOut.model_validate(view).model_dump(),
        "evidence": evidence,
        "allowed_triggers": _triggers(rt, user, unit, view.state) if writable else [],
        "can_note": writable and directory.can(rt, user, "task.note", unit),
        "can_assign": writable and directory.can(rt, user, "task.assign", unit),
        "can_set_deadline": writable and directory.can(rt, user, "task.deadline", unit),
        "history_count": len(entries),
    })


@router.get(TASK, response_model=TaskDetailOut, responses=READ,
            summary="One task with its evidence, version and the steps the caller may take")
def get_task(unit: str, plan: str, code: str, rt: Rt, user: Caller) -> TaskDetailOut:
    directory.require_read(rt, user, unit)
    return _detail(rt, user, api.get_task(rt, api.TaskKey(unit, plan, code)))


@router.get(TASK + "/history", response_model=list[HistoryOut], responses=READ,
            summary="Every change of the task, oldest first, with who made it")
def task_history(unit: str, plan: str, code: str, rt: Rt, user: Caller) -> list[HistoryOut]:
    directory.require_read(rt, user, unit)
    return [HistoryOut(seq=e.seq, event=e.event, from_state=e.from_state, to_state=e.to_state,
                       actor=e.actor, role=e.role, at=vn_time(e.at), effective_on=e.effective_on,
                       note=e.note, result=e.result, owner=e.owner, deadline=e.deadline,
                       evidence=evidence_list(e.evidence))
            for e in api.history(rt, api.TaskKey(unit, plan, code))]


@router.post(TASK + "/transitions", response_model=ChangeOut, responses=WRITE,
             summary="Take a workflow step (complete with evidence and result, start, …)")
def transition(unit: str, plan: str, code: str, body: TransitionIn, rt: Rt,
               user: Caller) -> ChangeOut:
    definition = rt.machine.definition
    if definition.transition(body.trigger) is None:
        names = ", ".join(t.trigger for t in definition.transitions if "system" not in t.roles)
        raise ValidationFailed(f"Không có thao tác '{body.trigger}' (có: {names})",
                               f"unknown trigger '{body.trigger}' (one of: {names})",
                               field="trigger", value=body.trigger)
    directory.require_transition(rt, user, unit, body.trigger)
    with renamed_fields(BODY_FIELDS, numbered="evidence"):
        change = api.transition(rt, api.TaskKey(unit, plan, code), body.trigger,
                                directory.actor_for(user), evidence=body.evidence,
                                result=body.result, note=body.note, on=body.on,
                                expected_version=body.expected_version,
                                correction=body.correction)
    return _change(rt, change)


@router.put(TASK + "/owner", response_model=ChangeOut, responses=WRITE,
            summary="Assign the task to a person or office (leader)")
def set_owner(unit: str, plan: str, code: str, body: OwnerIn, rt: Rt,
              user: Caller) -> ChangeOut:
    directory.require(rt, user, "task.assign", unit)
    with renamed_fields(BODY_FIELDS):
        change = api.assign(rt, api.TaskKey(unit, plan, code), body.owner,
                            directory.actor_for(user), expected_version=body.expected_version)
    return _change(rt, change)


@router.put(TASK + "/deadline", response_model=ChangeOut, responses=WRITE,
            summary="Set the task's deadline as the plan writes it (leader)")
def set_deadline(unit: str, plan: str, code: str, body: DeadlineIn, rt: Rt,
                 user: Caller) -> ChangeOut:
    directory.require(rt, user, "task.deadline", unit)
    with renamed_fields(BODY_FIELDS):
        change = api.set_deadline(rt, api.TaskKey(unit, plan, code), body.deadline,
                                  directory.actor_for(user), expected_version=body.expected_version)
    return _change(rt, change)


@router.post(TASK + "/notes", response_model=ChangeOut, responses=WRITE,
             summary="Record progress on the task without changing its state")
def add_note(unit: str, plan: str, code: str, body: NoteIn, rt: Rt, user: Caller) -> ChangeOut:
    directory.require(rt, user, "task.note", unit)
    with renamed_fields(BODY_FIELDS):
        change = api.add_note(rt, api.TaskKey(unit, plan, code), body.note,
                              directory.actor_for(user), on=body.on,
                              expected_version=body.expected_version,
                              correction=body.correction)
    return _change(rt, change)


__all__ = ["router"]
