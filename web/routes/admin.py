"""Administration pages: the reminder log (outbox) with retry of failed messages, and the
people reminders reach with the web logins (read-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from engine import accounts
from engine.accounts import UserView
from engine.errors import ValidationFailed
from engine.people import list_people
from engine.reminders import outbox
from engine.units import list_units
from web.deps import Rt, require_role
from web.routes.common import status_of
from web.templating import render

router = APIRouter(prefix="/admin")

Admin = Annotated[UserView, Depends(require_role("admin"))]
LIMIT = 300
CHANNEL_LABELS = {"zalo": "Zalo", "email": "Thư điện tử", "sms": "SMS"}
STEP_LABELS = {"before": "Nhắc trước hạn", "due": "Đến hạn", "overdue": "Quá hạn",
               "escalate": "Báo lãnh đạo"}


def step_label(step: str) -> str:
    kind, _, days = step.partition(":")
    label = STEP_LABELS.get(kind, kind)
    return f"{label} ({days} ngày)" if days else label


def outbox_page(request: Request, rt: Rt, state: str | None, *, status_code: int = 200,
                messages: list[tuple[str, str]] | None = None) -> Response:
    state = state or None
    if state is not None and state not in outbox.STATES:
        raise ValidationFailed(f"Trạng thái '{state}' không có", f"unknown state '{state}'",
                               field="state", value=state)
    rows = outbox.list_outbox(rt, state=state, limit=LIMIT)
    units = {u.id: u.display for u in list_units(rt)}
    return render(request, "outbox.html", {
        "title": "Nhắc việc", "rows": rows, "state": state or "",
        "states": [(s, outbox.STATE_LABELS[s]) for s in outbox.STATES],
        "counts": outbox.count_by_state(rt), "limit": LIMIT,
        "names": outbox.people_names(rt, {r.person_id for r in rows}), "units": units,
        "channel_label": lambda c: CHANNEL_LABELS.get(c, c), "step_label": step_label,
        "messages": messages or [],
    }, status_code=status_code)


@router.get("/outbox", include_in_schema=False)
def outbox_list(request: Request, rt: Rt, _user: Admin, state: str | None = None,
                ok: str | None = None) -> Response:
    messages = [("ok", f"Đã đưa thư nhắc số {ok} vào hàng chờ gửi lại")] if (
        ok and ok.isdigit()) else []
    return outbox_page(request, rt, state, messages=messages)


@router.post("/outbox/{row_id}/retry", include_in_schema=False)
def outbox_retry(request: Request, row_id: int, rt: Rt, user: Admin) -> Response:
    """failed → pending, due now (the dispatcher sends it at its next run)."""
    try:
        outbox.retry_failed(rt, rt.now(), ids=[row_id], by=user.username)
    except ValidationFailed as exc:
        return outbox_page(request, rt, None, status_code=status_of(exc),
                           messages=[("error", exc.message_vi)])
    return RedirectResponse(f"/admin/outbox?state=failed&ok={row_id}", status_code=303)


@router.get("/people", include_in_schema=False)
def people(request: Request, rt: Rt, _user: Admin) -> Response:
    units = {u.slug: u.display for u in list_units(rt)}
    return render(request, "people.html", {
        "title": "Cán bộ", "people": list_people(rt), "units": units,
        "users": accounts.list_users(rt),
        "channel_label": lambda c: CHANNEL_LABELS.get(c, c),
    })
