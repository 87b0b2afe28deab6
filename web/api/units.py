"""Who is calling, which units they may open, a unit's plans, and a city's overview.

Progress figures come from `engine.reporting.dashboard`, the module the dashboard and city pages
use, so
the API and the pages always count the same way (done = the workflow's done state, overdue =
open past the working-day due date, whole percent rounded down).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from engine import api, directory, reporting
from engine.directory import UnitView, UserView
from engine.errors import Forbidden, NotFound
from engine.reporting import PlanProgress
from engine.runtime import Runtime
from web.api.common import E401, READ, Caller
from web.api.schemas import CityOverviewOut, CommuneOverviewOut, MeOut, PlanOut, UnitOut
from web.deps import Rt

router = APIRouter(tags=["units"])


@router.get("/me", response_model=MeOut, responses=E401, summary="The token's user")
def me(user: Caller) -> MeOut:
    actions = sorted(a for a, roles in directory.ACTION_ROLES.items() if user.role in roles)
    return MeOut.model_validate({
        "username": user.username, "full_name": user.full_name, "role": user.role,
        "role_label": directory.role_label(user.role), "unit": user.unit_slug,
        "unit_display": user.unit_display or None, "actions": actions})


def _unit_out(rt: Runtime, user: UserView, u: UnitView) -> UnitOut:
    return UnitOut(slug=u.slug, name=u.name, kind=u.kind, display=u.display,
                   parent=u.parent_slug, cutoff_day=u.cutoff_day, leader=u.leader,
                   writable=directory.can_write_unit(rt, user, u.slug))


@router.get("/units", response_model=list[UnitOut], responses=E401,
            summary="The units the caller may read")
def units(rt: Rt, user: Caller) -> list[UnitOut]:
    return [_unit_out(rt, user, u) for u in directory.readable_units(rt, user)]


def _plan_out(p: PlanProgress, meta: dict[str, Any] | None) -> PlanOut:
    return PlanOut(id=p.plan, kind=meta["kind"] if meta else "", year=p.year, title=p.title,
                   issued_by=meta["issued_by"] if meta else None, appendix=p.appendix,
                   tasks=p.total, done=p.done, not_done=p.not_done, overdue=p.overdue,
                   completion=p.percent)


@router.get("/units/{unit}/plans", response_model=list[PlanOut], responses=READ,
            summary="The unit's plans with their progress")
def plans(unit: str, rt: Rt, user: Caller) -> list[PlanOut]:
    directory.require_read(rt, user, unit)
    meta = {p["id"]: p for p in api.list_plans(rt)}
    return [_plan_out(p, meta.get(p.plan)) for p in reporting.plan_progress(rt, unit)]


@router.get("/city/{city}/overview", response_model=CityOverviewOut, responses=READ,
            summary="Progress of every commune of a city or province (reviewer, admin)")
def city_overview(city: str, rt: Rt, user: Caller) -> CityOverviewOut:
    directory.require(rt, user, "city.read")
    found = next((u for u in api.list_units(rt) if u.slug == city), None)
    if found is None:
        raise NotFound(f"Không tìm thấy đơn vị '{city}'", f"unit '{city}' not found",
                       field="city", value=city)
    if user.role != "admin" and user.unit_slug != city:
        raise Forbidden(f"Bạn chỉ được xem tổng hợp của {user.unit_display}, không phải của "
                        f"{found.display}", f"you may not read the overview of '{city}'",
                        field="city", value=city)
    units = [u for u in directory.readable_units(rt, user) if u.parent_slug == city]
    meta = {p["id"]: p for p in api.list_plans(rt)}
    communes = [
        CommuneOverviewOut(
            slug=o.unit.slug, display=o.unit.display, tasks=o.total, done=o.done,
            overdue=o.overdue_tasks, completion=o.percent,
            obligations_overdue=o.overdue_obligations, period=o.period,
            period_label=o.period_label, frozen=o.frozen,
            plans=[_plan_out(p, meta.get(p.plan)) for p in o.plans])
        for o in reporting.city_overview(rt, units)]
    tasks = sum(c.tasks for c in communes)
    done = sum(c.done for c in communes)
    return CityOverviewOut(city=city, display=found.display, communes=communes, tasks=tasks,
                           done=done, overdue=sum(c.overdue for c in communes),
                           completion=(100 * done) // tasks if tasks else 0,
                           obligations_overdue=sum(c.obligations_overdue for c in communes),
                           frozen=sum(c.frozen for c in communes))


__all__ = ["router"]
