"""Reports the unit owes upper bodies (báo cáo định kỳ): list, and record one as sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from engine import directory
from engine.domain import (
    ObligationChange,
    list_obligation_dues,
    obligation_machine,
    reopen_obligation,
    submit_obligation,
)
from engine.errors import Forbidden, ValidationFailed
from web.api.common import READ, WRITE, Caller, renamed_fields
from web.api.schemas import (
    ObligationChangeOut,
    ObligationListOut,
    ObligationOut,
    ReopenIn,
    SubmitIn,
)
from web.deps import Rt

router = APIRouter(tags=["obligations"])

BODY_FIELDS = {"doc": "document", "version": "expected_version"}
DUE = "/units/{unit}/obligations/{code}/{period}"


def _change(c: ObligationChange) -> ObligationChangeOut:
    return ObligationChangeOut(unit=c.unit, code=c.code, period=c.period_key, event=c.event,
                               from_state=c.from_state, to_state=c.to_state, version=c.version,
                               effective_on=c.effective_on, late=c.late, document=c.document)


@router.get("/units/{unit}/obligations", response_model=ObligationListOut, responses=READ,
            summary="The unit's reports due, in due-date order")
def list_obligations(
    unit: str, rt: Rt, user: Caller,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    state: Annotated[str | None, Query(description="pending, submitted, late, cancelled")]
    = None,
) -> ObligationListOut:
    directory.require_read(rt, user, unit)
    names = obligation_machine().definition.state_names
    if state and state not in names:
        raise ValidationFailed(
            f"Trạng thái '{state}' không có (chọn một trong: {', '.join(names)})",
            f"unknown state '{state}'", field="state", value=state)
    dues = list_obligation_dues(rt, unit, year=year, state=state)
    return ObligationListOut(unit=unit, count=len(dues), obligations=[
        ObligationOut(id=d.id, unit=d.unit, code=d.code, title=d.title,
                      source_plan=d.source_plan, recipient=d.recipient, schedule=d.schedule,
                      period=d.period_key, period_label=d.period_label, due_on=d.due_on,
                      owner=d.owner, state=d.state, state_label=d.state_label,
                      report_doc=d.report_doc, submitted_on=d.submitted_on, overdue=d.overdue,
                      version=d.version)
        for d in dues])


@router.post(DUE + "/submit", response_model=ObligationChangeOut, responses=WRITE,
             summary="Record the report sent for one period (its document's number and date)")
def submit(unit: str, code: str, period: str, body: SubmitIn, rt: Rt,
           user: Caller) -> ObligationChangeOut:
    directory.require(rt, user, "obligation.update", unit)
    with renamed_fields(BODY_FIELDS):
        change = submit_obligation(rt, unit, code, period, body.document,
                                   directory.actor_for(user), body.expected_version,
                                   note=body.note)
    return _change(change)


@router.post(DUE + "/reopen", response_model=ObligationChangeOut, responses=WRITE,
             summary="Take back a report recorded as sent (leader; with the reason)")
def reopen(unit: str, code: str, period: str, body: ReopenIn, rt: Rt,
           user: Caller) -> ObligationChangeOut:
    directory.require(rt, user, "obligation.update", unit)
    t = obligation_machine().definition.transition("reopen")
    if t is not None and user.role not in t.roles:
        raise Forbidden(f"Vai trò {directory.role_label(user.role)} không được '{t.label}'",
                        f"role '{user.role}' may not reopen a report", field="role")
    with renamed_fields(BODY_FIELDS):
        change = reopen_obligation(rt, unit, code, period, body.note, directory.actor_for(user),
                                   body.expected_version)
    return _change(change)


__all__ = ["router"]
