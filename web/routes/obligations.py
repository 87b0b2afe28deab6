"""A commune's sub-reports (báo cáo định kỳ, chuyên đề): the calendar by month and one report
due (the page reminders link to), with the form recording the report sent.

Like tasks: the occurrence's `version` travels with the form, a refused number is shown next
to its field with what was typed, and a saved one redirects with a message.
"""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from engine import directory, reporting
from engine.directory import UserView
from engine.domain import (
    ObligationDueView,
    list_obligation_dues,
    obligation_history,
    obligation_machine,
    reopen_obligation,
    submit_obligation,
)
from engine.errors import Conflict, NotFound, TransitionNotAllowed, ValidationFailed
from engine.runtime import Runtime
from web import lists
from web.deps import CurrentUser, Rt
from web.routes.common import FormErrors, status_of
from web.templating import render

router = APIRouter()

OK_MESSAGES = {
    "submit": "Đã ghi nhận báo cáo đã gửi",
    "reopen": "Đã mở lại kỳ báo cáo",
}
Refusal = (ValidationFailed, Conflict, TransitionNotAllowed)


def _due(rt: Runtime, unit: str, due_id: int) -> ObligationDueView:
    for d in list_obligation_dues(rt, unit, include_retired=True):
        if d.id == due_id:
            return d
    raise NotFound(f"Không có kỳ báo cáo số {due_id} của đơn vị này",
                   f"obligation occurrence {due_id} not found in unit '{unit}'", field="id",
                   value=str(due_id))


def _month(d: ObligationDueView) -> str:
    return f"Tháng {d.due_on.month}/{d.due_on.year}"


EXPORT_COLUMNS = ["Hạn gửi", "Tên báo cáo", "Kỳ báo cáo", "Nơi nhận", "Người phụ trách",
                  "Trạng thái", "Văn bản báo cáo", "Ngày gửi"]


def calendar_page(request: Request, rt: Runtime, user: UserView, unit: str, *,
                  status_code: int = 200, form: dict[str, Any] | None = None,
                  errors: FormErrors | None = None, ok: str | None = None,
                  trang: str | None = None) -> Response:
    """The unit's report calendar by month, paged (each report numbered STT across pages);
    `?xuat=xlsx` exports every report period."""
    directory.require_read(rt, user, unit)
    dues = list_obligation_dues(rt, unit)
    if lists.wants_xlsx(request):
        return lists.xlsx_response("Báo cáo định kỳ", EXPORT_COLUMNS, [
            [d.due_on, d.title, d.period_label, d.recipient, d.owner,
             "Quá hạn" if d.overdue else d.state_label, d.report_doc, d.submitted_on]
            for d in dues], f"bao-cao-dinh-ky_{unit}")
    if trang is None and form and form.get("id") is not None:  # a refused form: its page
        at = next((i for i, d in enumerate(dues) if d.id == form["id"]), 0)
        trang = str(at // lists.PAGE_SIZE + 1)
    page = lists.paginate(dues, trang)
    numbered = [(page.stt(i), d) for i, d in enumerate(page.items)]
    months = [(label, list(items))
              for label, items in groupby(numbered, key=lambda nd: _month(nd[1]))]
    message = OK_MESSAGES.get(ok or "")
    return render(request, "obligations.html", {
        "title": "Báo cáo định kỳ", "nav_path": "/obligations",
        "unit": reporting.unit_view(rt, unit), "months": months, "page": page,
        "overdue": sum(1 for d in dues if d.overdue), "today": rt.today(),
        "can_submit": directory.can(rt, user, "obligation.update", unit),
        "form": form or {}, "errors": errors or FormErrors(),
        "messages": [("ok", message)] if message and not errors else [],
    }, status_code=status_code)


def due_page(request: Request, rt: Runtime, user: UserView, unit: str, due_id: int, *,
             status_code: int = 200, form: dict[str, Any] | None = None,
             errors: FormErrors | None = None, ok: str | None = None) -> Response:
    directory.require_read(rt, user, unit)
    due = _due(rt, unit, due_id)
    machine = obligation_machine()
    message = OK_MESSAGES.get(ok or "")
    return render(request, "obligation.html", {
        "title": due.title, "nav_path": "/obligations", "unit": reporting.unit_view(rt, unit),
        "due": due, "history": list(reversed(obligation_history(rt, unit, due.code,
                                                                 due.period_key))),
        "label_of": machine.definition.label,
        "event_of": lambda e: (t.label if (t := machine.definition.transition(e)) else e),
        "can_submit": directory.can(rt, user, "obligation.update", unit) and due.state == "pending",
        "can_reopen": (directory.can_write_unit(rt, user, unit)
                       and "reopen" in machine.allowed(due.state, user.role)),
        "form": form or {}, "errors": errors or FormErrors(),
        "messages": [("ok", message)] if message and not errors else [],
    }, status_code=status_code)


@router.get("/units/{unit}/obligations", include_in_schema=False)
def obligations(request: Request, unit: str, rt: Rt, user: CurrentUser,
                ok: str | None = None, trang: str | None = None) -> Response:
    return calendar_page(request, rt, user, unit, ok=ok, trang=trang)


@router.get("/units/{unit}/obligations/{due_id}", include_in_schema=False)
def obligation(request: Request, unit: str, due_id: int, rt: Rt, user: CurrentUser,
               ok: str | None = None) -> Response:
    return due_page(request, rt, user, unit, due_id, ok=ok)


@router.post("/units/{unit}/obligations/{due_id}/submit", include_in_schema=False)
def submit(request: Request, unit: str, due_id: int, rt: Rt, user: CurrentUser,
           version: Annotated[int, Form()], doc: Annotated[str, Form()] = "",
           note: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "list"
           ) -> Response:
    """Record the report sent (its document number and date)."""
    directory.require(rt, user, "obligation.update", unit)
    due = _due(rt, unit, due_id)
    try:
        submit_obligation(rt, unit, due.code, due.period_key, doc, directory.actor_for(user),
                          expected_version=version, note=note)
    except Refusal as exc:
        form = {"name": "submit", "id": due_id, "doc": doc, "note": note}
        errors = FormErrors.of(exc, {}, {"doc", "note"})
        if back == "detail":
            return due_page(request, rt, user, unit, due_id, status_code=status_of(exc),
                            form=form, errors=errors)
        return calendar_page(request, rt, user, unit, status_code=status_of(exc), form=form,
                             errors=errors)
    target = (f"/units/{unit}/obligations/{due_id}" if back == "detail"
              else f"/units/{unit}/obligations")
    return RedirectResponse(f"{target}?ok=submit", status_code=303)


@router.post("/units/{unit}/obligations/{due_id}/reopen", include_in_schema=False)
def reopen(request: Request, unit: str, due_id: int, rt: Rt, user: CurrentUser,
           version: Annotated[int, Form()], note: Annotated[str, Form()] = "") -> Response:
    """A leader takes back a submission (wrong document, report refused)."""
    directory.require_write(rt, user, unit)
    due = _due(rt, unit, due_id)
    try:
        reopen_obligation(rt, unit, due.code, due.period_key, note, directory.actor_for(user),
                          expected_version=version)
    except Refusal as exc:
        return due_page(request, rt, user, unit, due_id, status_code=status_of(exc),
                        form={"name": "reopen", "note": note},
                        errors=FormErrors.of(exc, {}, {"note"}))
    return RedirectResponse(f"/units/{unit}/obligations/{due_id}?ok=reopen", status_code=303)
