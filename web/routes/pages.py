"""The dashboard (`/dashboard`) and the menu's shortcuts (`/tasks`, `/obligations`,
`/reports`) to the pages of the user's commune."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine import directory, domain, reporting
from web.deps import CurrentUser, Rt
from web.routes.common import home_unit
from web.routes.summary import summary_page
from web.templating import render

router = APIRouter()


@router.get("/dashboard", include_in_schema=False)
def dashboard_page(request: Request, rt: Rt, user: CurrentUser,
                   unit: str | None = None) -> Response:
    """Progress per plan, due this week, overdue, "my tasks" and sub-reports coming due for
    one commune (`?unit=` for an admin); a reviewer sees their city's communes."""
    if unit is None and user.role == "reviewer":  # home: the per-commune summary
        return summary_page(request, rt, user, nav_path="/dashboard")
    slug = unit or home_unit(rt, user)
    # the communes to pick from; an officer or leader reads their own only: none to pick
    communes = [] if slug is not None and user.role in directory.COMMUNE_ROLES else \
        reporting.units_with_plans(rt, directory.readable_units(rt, user))
    if slug is None:
        return render(request, "dashboard.html", {"title": "Tổng quan", "board": None,
                                                  "communes": communes})
    directory.require_read(rt, user, slug)
    board = reporting.unit_dashboard(rt, slug, user=user)
    return render(request, "dashboard.html", {
        "title": "Tổng quan", "board": board, "unit": slug, "communes": communes,
        "appendix": {p.plan: p.appendix for p in board.plans},
        "news": domain.flagged_tasks(rt, user.id, user.full_name, slug) if board.person else {},
        "can_write": directory.can_write_unit(rt, user, slug),
    })


def _shortcut(rt: Rt, user: CurrentUser, page: str) -> Response:
    slug = home_unit(rt, user)
    if slug is None:
        return RedirectResponse("/city" if user.role == "reviewer" else "/dashboard",
                                status_code=303)
    return RedirectResponse(f"/units/{slug}/{page}", status_code=303)


@router.get("/my-tasks", include_in_schema=False)
def my_tasks_shortcut(rt: Rt, user: CurrentUser) -> Response:
    """"Việc của tôi": the user's open tasks, overdue first then by due date."""
    return _shortcut(rt, user, "tasks?mine=1")


@router.get("/behind", include_in_schema=False)
def behind_shortcut(rt: Rt, user: CurrentUser) -> Response:
    return _shortcut(rt, user, "behind")


@router.get("/tasks", include_in_schema=False)
def tasks_shortcut(rt: Rt, user: CurrentUser) -> Response:
    return _shortcut(rt, user, "tasks")


@router.get("/obligations", include_in_schema=False)
def obligations_shortcut(rt: Rt, user: CurrentUser) -> Response:
    return _shortcut(rt, user, "obligations")


@router.get("/reports", include_in_schema=False)
def reports_shortcut(rt: Rt, user: CurrentUser) -> Response:
    return _shortcut(rt, user, "reports")
