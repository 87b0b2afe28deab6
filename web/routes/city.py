"""The reviewing body's overview (reviewers, admins): every commune it reviews with its
completion per plan and per year (plans of different years are never added up), its overdue
tasks and reports, and whether the chosen period is frozen — communes without plans are shown
as such, never dropped. Sortable, exportable to Excel, with links to each commune's read-only
pages and appendices."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import directory, reporting
from engine.directory import list_units
from engine.domain import parse_period
from engine.reporting import UnitOverview
from web import lists
from web.deps import CurrentUser, Rt
from web.templating import render

router = APIRouter()

SORTS = {
    "ten": "Tên đơn vị",
    "tien-do": "Tỷ lệ hoàn thành (thấp trước)",
    "qua-han": "Nhiệm vụ quá hạn (nhiều trước)",
    "chua-chot": "Chưa chốt số liệu trước",
}


def _sort(rows: list[UnitOverview], sort: str, years: list[int]) -> list[UnitOverview]:
    def pct(o: UnitOverview) -> int:
        p = o.year(years[-1]) if years else None
        return p.percent if p is not None else -1

    if sort == "tien-do":
        return sorted(rows, key=lambda o: (pct(o), o.unit.name))
    if sort == "qua-han":
        return sorted(rows, key=lambda o: (-o.overdue_tasks, -o.overdue_obligations, o.unit.name))
    if sort == "chua-chot":
        return sorted(rows, key=lambda o: (o.frozen, not o.has_data, o.unit.name))
    return sorted(rows, key=lambda o: (not o.has_data, o.unit.name))


@router.get("/city", include_in_schema=False)
def city(request: Request, rt: Rt, user: CurrentUser, period: str | None = None,
         sort: str | None = None, trang: str | None = None) -> Response:
    directory.require(rt, user, "city.read")
    period = (period or "").strip().upper() or None
    if period:
        parse_period(period, rt.settings.report_cutoff_day)  # a wrong code: 400 with the reason
    readable = directory.readable_units(rt, user)
    overview = reporting.city_overview(rt, readable, period=period, include_empty=True)
    sort = sort if sort in SORTS else "ten"
    years = sorted({p.year for o in overview for p in o.plans})
    rows = _sort(overview, sort, years)
    plans = sorted({(p.year, p.appendix, p.plan, p.title) for o in overview for p in o.plans})
    body = user.unit_display if user.role == "reviewer" and user.unit_display \
        else "Toàn hệ thống"
    if lists.wants_xlsx(request):
        columns = ["Đơn vị", *[f"Phụ lục {a} ({y}): đã thực hiện/tổng số"
                               for y, a, _p, _t in plans],
                   *[f"Năm {y}: tỷ lệ hoàn thành (%)" for y in years],
                   "Nhiệm vụ quá hạn", "Báo cáo quá hạn", "Kỳ", "Đã chốt số liệu"]
        out: list[list[object]] = []
        for o in rows:
            by_plan = {p.plan: p for p in o.plans}
            out.append([
                o.unit.display,
                *[(f"{by_plan[pid].done}/{by_plan[pid].total}" if pid in by_plan else "")
                  for _y, _a, pid, _t in plans],
                *[(yp.percent if (yp := o.year(y)) is not None else "") for y in years],
                o.overdue_tasks if o.has_data else "", o.overdue_obligations if o.has_data
                else "", o.period_label, ("Đã chốt" if o.frozen else "Chưa chốt")
                if o.has_data else "Chưa có kế hoạch"])
        return lists.xlsx_response("Tổng hợp", columns, out, "tong-hop-xa-phuong")
    names = {u.slug: u.display for u in list_units(rt)}
    choices = _period_choices(rt, years)
    shown = period or (overview[0].period if overview else None)
    return render(request, "city.html", {
        "title": f"Tổng hợp các xã, phường · {body}", "body": body,
        "page": lists.paginate(rows, trang, size=50), "count": len(overview),
        "with_data": sum(1 for o in overview if o.has_data),
        "plans": plans, "years": years, "today": rt.today(), "names": names,
        "frozen": sum(1 for o in overview if o.frozen), "sorts": SORTS, "sort": sort,
        "choices": choices, "period": shown,
    })


def _period_choices(rt: Rt, years: list[int]) -> list[tuple[str, str]]:
    """Each year's quarters, six months and year (the codes the communes freeze)."""
    day = rt.settings.report_cutoff_day
    codes = [f"{y}-{part}" for y in years for part in ("Q1", "Q2", "Q3", "Q4", "H1", "Y")]
    return [(c, parse_period(c, day).label_vi) for c in codes]
