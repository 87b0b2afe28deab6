"""Chốt số liệu: a period's totals per appendix, freezing them (leaders), the report check and
the downloads (Phụ lục N as .docx/.xlsx, snapshot.json) built by `engine.export`.

A frozen period always shows and downloads the frozen snapshot (the same bytes every time); a
period not yet frozen shows the live figures as of now and its files say so in their hash-less
JSON. Every download is a GET of a readable unit (reviewers included); freezing is a POST.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine import access, api, dashboard
from engine.accounts import UserView
from engine.errors import Conflict, NotFound, ValidationFailed
from engine.export import export_docx, export_json, export_xlsx
from engine.export.files import download_name
from engine.runtime import Runtime
from engine.snapshot.model import Snapshot
from engine.snapshot.store import frozen_snapshot
from web.deps import CurrentUser, Rt
from web.routes.common import content_disposition, status_of
from web.templating import render

router = APIRouter()

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"
_FILE = re.compile(r"^phu-luc-(?P<n>[0-9]{1,2})\.(?P<fmt>docx|xlsx)$")
OK_MESSAGES = {"freeze": "Đã chốt số liệu; các phụ lục tải về từ nay là số liệu đã chốt"}


def _period(rt: Runtime, unit: str, period: str | None) -> str:
    if period:
        return period.strip().upper()
    return dashboard.reporting_quarter(rt, unit).code


def reports_page(request: Request, rt: Runtime, user: UserView, unit: str,
                 period: str | None, *, status_code: int = 200,
                 messages: list[tuple[str, str]] | None = None,
                 findings: list[Any] | None = None) -> Response:
    access.require(rt, user, "report.export", unit)
    code = _period(rt, unit, period)
    snap = api.take_snapshot(rt, unit, code)  # frozen if frozen, else live
    frozen = {f.period: f for f in dashboard.frozen_periods(rt, unit)}
    today = rt.today()
    return render(request, "reports.html", {
        "title": "Chốt số liệu", "nav_path": "/reports", "unit": dashboard.unit_view(rt, unit),
        "snap": snap, "period": snap.period, "choices": dashboard.period_choices(rt, unit),
        "frozen": frozen.get(snap.period), "frozen_list": list(frozen.values()),
        "can_freeze": access.can(rt, user, "report.freeze", unit),
        "too_early": today < snap.end, "today": today,
        "base": f"/units/{unit}/reports/{snap.period}", "findings": findings,
        "messages": messages or [],
    }, status_code=status_code)


@router.get("/units/{unit}/reports", include_in_schema=False)
def reports(request: Request, unit: str, rt: Rt, user: CurrentUser,
            period: str | None = None, ok: str | None = None) -> Response:
    message = OK_MESSAGES.get(ok or "")
    return reports_page(request, rt, user, unit, period,
                        messages=[("ok", message)] if message else [])


@router.get("/units/{unit}/reports/{period}/check", include_in_schema=False)
def report_check(request: Request, unit: str, period: str, rt: Rt,
                 user: CurrentUser) -> Response:
    """The reviewer's checks (`cchc report check`) on the period's snapshot."""
    access.require(rt, user, "report.export", unit)
    findings = api.check(rt, unit, period.strip().upper())
    return reports_page(request, rt, user, unit, period, findings=findings)


@router.post("/units/{unit}/reports/{period}/freeze", include_in_schema=False)
def freeze(request: Request, unit: str, period: str, rt: Rt, user: CurrentUser) -> Response:
    """Freeze the period's figures for good (leaders; from the cut-off day on)."""
    access.require(rt, user, "report.freeze", unit)
    code = period.strip().upper()
    existing = frozen_snapshot(rt, unit, code)
    if existing is not None:
        return reports_page(request, rt, user, unit, code, status_code=409, messages=[(
            "warn", f"Kỳ {existing.period} đã được chốt trước đó (mã "
                    f"{(existing.content_hash or '')[:12]}); số liệu đã chốt không thay đổi")])
    try:
        api.take_snapshot(rt, unit, code, freeze=True, taken_by=user.full_name)
    except (ValidationFailed, Conflict) as exc:
        return reports_page(request, rt, user, unit, code, status_code=status_of(exc),
                            messages=[("error", exc.message_vi)])
    return RedirectResponse(f"/units/{unit}/reports?period={code}&ok=freeze", status_code=303)


def _download_name(snap: Snapshot, name: str) -> str:
    stem, _, ext = name.rpartition(".")
    return f"{stem}_{snap.unit.slug}_{snap.period}.{ext}"


@router.get("/units/{unit}/reports/{period}/{name}", include_in_schema=False)
def download(unit: str, period: str, name: str, rt: Rt, user: CurrentUser) -> Response:
    """`phu-luc-N.docx`, `phu-luc-N.xlsx` or `snapshot.json` of the period."""
    access.require(rt, user, "report.export", unit)
    m = _FILE.match(name)
    if m is None and name != "snapshot.json":
        raise NotFound(f"Không có tệp '{name}' (có: phu-luc-N.docx, phu-luc-N.xlsx, "
                       "snapshot.json)", f"no file '{name}'", field="name", value=name)
    snap = api.take_snapshot(rt, unit, period.strip().upper())
    headers = {"Content-Disposition": content_disposition(
        download_name(_download_name(snap, name), snap))}
    if snap.content_hash:
        headers["X-Content-Hash"] = snap.content_hash
    if m is None:
        return Response(export_json(snap), media_type=JSON, headers=headers)
    number = int(m.group("n"))
    appendix = next((a for a in snap.appendices if a.number == number), None)
    if appendix is None:
        have = ", ".join(str(a.number) for a in snap.appendices)
        raise NotFound(f"Đơn vị không có Phụ lục {number} (có: {have})",
                       f"no appendix {number}", field="name", value=name)
    if m.group("fmt") == "docx":
        return Response(export_docx(snap, appendix), media_type=DOCX, headers=headers)
    return Response(export_xlsx(snap, appendix), media_type=XLSX, headers=headers)


__all__ = ["DOCX", "JSON", "XLSX", "router"]
