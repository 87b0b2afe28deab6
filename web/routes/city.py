"""The city's overview (reviewers, admins): every commune with its completion per plan, its
overdue tasks and reports, and whether the quarter being reported on is frozen — with links to
each commune's read-only pages and appendices."""

from __future__ import annotations

from itertools import groupby

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.directory import access
from engine.directory.units import list_units
from engine.reporting import dashboard
from web.deps import CurrentUser, Rt
from web.templating import render

router = APIRouter()


@router.get("/city", include_in_schema=False)
def city(request: Request, rt: Rt, user: CurrentUser) -> Response:
    access.require(rt, user, "city.read")
    overview = dashboard.city_overview(rt, access.readable_units(rt, user))
    names = {u.slug: u.display for u in list_units(rt)}
    groups = [(names.get(parent or "", parent or "—"), list(rows))
              for parent, rows in groupby(overview, key=lambda o: o.unit.parent_slug)]
    plans = sorted({(p.appendix, p.plan, p.title) for o in overview for p in o.plans})
    return render(request, "city.html", {
        "title": "Tổng hợp thành phố", "groups": groups, "count": len(overview),
        "plans": plans, "today": rt.today(),
        "frozen": sum(1 for o in overview if o.frozen),
    })
