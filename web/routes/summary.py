"""The reviewing body's summary page (Sở Nội vụ / Phòng Nội vụ): one row per commune for a
period, sortable, with its .xlsx/.docx/JSON downloads. A standalone route and template, so the
reviewer's home page can show it as it is.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import directory, reporting
from engine.directory import UserView
from engine.domain import quarters_of
from engine.errors import Forbidden, NotFound
from engine.reporting import (
    ROLLUP_FILES,
    SUMMARY_SORTS,
    body_statistics,
    body_statistics_file,
    province_summary,
    sorted_rows,
    summary_docx,
    summary_json,
    summary_xlsx,
)
from engine.runtime import Runtime
from web.deps import CurrentUser, Rt
from web.downloads import content_disposition
from web.templating import render

router = APIRouter()

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SORT_LABELS = {
    "name": "Tên xã, phường", "status": "Trạng thái", "done": "Đã thực hiện",
    "not_done": "Chưa thực hiện", "overdue_tasks": "Nhiệm vụ quá hạn",
    "overdue_reports": "Báo cáo quá hạn", "on_time": "Tỷ lệ đúng hạn",
    "online": "Tỷ lệ trực tuyến",
}


def body_of(rt: Runtime, user: UserView, body: str | None) -> str:
    """The reviewing body shown: the reviewer's own unit; an admin may pick any."""
    directory.require(rt, user, "city.read")
    own = user.unit_slug
    chosen = body or own
    if chosen is None:
        raise Forbidden("Chọn cơ quan tổng hợp (tỉnh hoặc thành phố)", "choose a body",
                        field="body")
    if user.role != "admin" and chosen != own:
        raise Forbidden(f"Chỉ xem được tổng hợp của {user.unit_display}",
                        "reviewers see their own body's summary", field="body", value=chosen)
    return chosen


def _period(rt: Runtime, body: str, period: str | None) -> str:
    if period:
        return period.strip().upper()
    return reporting.quarter_reported_on(rt.today(), reporting.cutoff_day(rt, body)).code


@router.get("/summary", include_in_schema=False)
def summary_route(request: Request, rt: Rt, user: CurrentUser, body: str | None = None,
                  period: str | None = None, sort: str = "name", desc: int = 0) -> Response:
    return summary_page(request, rt, user, body, period, sort, desc)


def summary_page(request: Request, rt: Runtime, user: UserView, body: str | None = None,
                 period: str | None = None, sort: str = "name", desc: int = 0, *,
                 nav_path: str = "/summary") -> Response:
    """Also the reviewer's home page (`/dashboard`; `nav_path` highlights "Tổng quan")."""
    slug = body_of(rt, user, body)
    code = _period(rt, slug, period)
    summary = province_summary(rt, slug, code)
    sort = sort if sort in SUMMARY_SORTS else "name"
    years = sorted({summary.period.year - 1, summary.period.year, summary.period.year + 1})
    day = reporting.cutoff_day(rt, slug)
    choices = [q for y in years for q in quarters_of(y, day)]
    return render(request, "summary.html", {
        "title": "Tổng hợp các xã, phường", "nav_path": nav_path, "summary": summary,
        "stats": body_statistics(rt, slug, summary.period.code), "rollup_files": ROLLUP_FILES,
        "rows": sorted_rows(summary, sort, bool(desc)), "sort": sort, "desc": bool(desc),
        "sort_labels": SORT_LABELS, "choices": choices, "body": slug,
        "base": f"/summary/{slug}/{summary.period.code}",
    })


@router.get("/summary/{body}/{period}/{name}", include_in_schema=False)
def summary_file(body: str, period: str, name: str, rt: Rt, user: CurrentUser,
                 sort: str = "name", desc: int = 0) -> Response:
    """tong-hop.xlsx, tong-hop.docx or tong-hop.json of the summary; the body's Phụ lục 6
    (tong-hop-phu-luc-6.docx/.xlsx, tong-hop-thong-ke.json: the frozen communes summed)."""
    slug = body_of(rt, user, body)
    if name in ROLLUP_FILES:
        stats = body_statistics(rt, slug, period.strip().upper())
        ext = name.rsplit(".", 1)[1]
        media = {"docx": DOCX, "xlsx": XLSX}.get(ext, "application/json")
        stem = f"{name.rsplit('.', 1)[0]}_{slug}_{stats.period.code}"
        return Response(body_statistics_file(stats, name), media_type=media,
                        headers={"Content-Disposition": content_disposition(f"{stem}.{ext}")})
    summary = province_summary(rt, slug, period.strip().upper())
    rows = sorted_rows(summary, sort, bool(desc))
    stem = f"tong-hop_{slug}_{summary.period.code}"
    if name == "tong-hop.xlsx":
        media, data = XLSX, summary_xlsx(summary, rows)
    elif name == "tong-hop.docx":
        media, data = DOCX, summary_docx(summary, rows)
    elif name == "tong-hop.json":
        media, data = "application/json", summary_json(summary)
    else:
        raise NotFound(f"Không có tệp '{name}' (có: tong-hop.xlsx, tong-hop.docx, "
                       f"tong-hop.json, {', '.join(ROLLUP_FILES)})", f"no file {name}",
                       field="name", value=name)
    ext = name.rsplit(".", 1)[1]
    return Response(data, media_type=media,
                    headers={"Content-Disposition": content_disposition(f"{stem}.{ext}")})
