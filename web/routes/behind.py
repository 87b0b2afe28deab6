"""The leader's "who is behind" view (Tiến độ theo người): for each person of the commune
their open, overdue and finished tasks, the open tasks nobody owns and owner texts that name
nobody — each number a link to the task list that shows those tasks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import api, directory, reporting
from web import lists
from web.deps import CurrentUser, Rt
from web.templating import render

router = APIRouter()

EXPORT_COLUMNS = ["Họ và tên", "Chức danh", "Chưa hoàn thành", "Quá hạn", "Đã hoàn thành"]


@router.get("/units/{unit}/behind", include_in_schema=False)
def behind(request: Request, unit: str, rt: Rt, user: CurrentUser,
           trang: str | None = None) -> Response:
    directory.require_read(rt, user, unit)
    tasks = api.list_tasks(rt, unit)
    load = reporting.workload(rt, unit, tasks)
    if lists.wants_xlsx(request):
        rows: list[list[object]] = [
            [r.person.name, r.person.title, r.open, r.overdue, r.done] for r in load.people]
        rows.append(["Chưa phân công", None, load.unassigned_open, load.unassigned_overdue,
                     None])
        rows += [[owner, "Không khớp người nào", n, None, None]
                 for owner, n in load.unknown_owners]
        return lists.xlsx_response("Tiến độ theo người", EXPORT_COLUMNS, rows,
                                   f"tien-do-theo-nguoi_{unit}")
    return render(request, "behind.html", {
        "title": "Tiến độ theo người", "nav_path": "/behind",
        "unit": reporting.unit_view(rt, unit), "load": load,
        "page": lists.paginate(load.people, trang),
        "can_assign": directory.can(rt, user, "task.assign", unit),
    })
