"""Chốt số liệu: a period's totals per appendix, freezing them (leaders), the report check and
the downloads (Phụ lục N as .docx/.xlsx, snapshot.json) built by `engine.reporting.export`.

A frozen period always shows and downloads the frozen snapshot (the same bytes every time); a
period not yet frozen shows the live figures as of now and its files say so in their hash-less
JSON. Every download is a GET of a readable unit (reviewers included); freezing is a POST.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from engine import api, directory, domain, reporting
from engine.directory import UserView
from engine.domain import parse_period
from engine.errors import Conflict, NotFound, ValidationFailed
from engine.reporting import (
    DRAFT_NAME,
    FIELDS_APPENDIX,
    INDICATORS_APPENDIX,
    PROCEDURES_APPENDIX,
    STATISTICS_JSON_NAME,
    Finding,
    Snapshot,
    download_name,
    draft_report,
    export_docx,
    export_json,
    export_sheet_json,
    export_statistics_page,
    export_xlsx,
    frozen_snapshot,
    take_sheet,
)
from engine.runtime import Runtime
from web.deps import CurrentUser, Rt
from web.downloads import content_disposition
from web.routes.common import status_of
from web.templating import render

router = APIRouter()

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"
_FILE = re.compile(r"^phu-luc-(?P<n>[0-9]{1,2})\.(?P<fmt>docx|xlsx)$")
STATISTICS_APPENDICES = (FIELDS_APPENDIX, PROCEDURES_APPENDIX, INDICATORS_APPENDIX)
STATISTICS_TITLES = {FIELDS_APPENDIX: "Hồ sơ thủ tục hành chính theo lĩnh vực",
                     PROCEDURES_APPENDIX: "Hồ sơ trực tuyến theo thủ tục",
                     INDICATORS_APPENDIX: "Thống kê số liệu cải cách hành chính định kỳ"}
OK_MESSAGES = {"freeze": "Đã chốt số liệu; các phụ lục tải về từ nay là số liệu đã chốt",
               "comment": "Đã gửi ý kiến thẩm định; xã, phường sẽ thấy ý kiến này"}


def _period(rt: Runtime, unit: str, period: str | None) -> str:
    if period:
        return period.strip().upper()
    return reporting.reporting_quarter(rt, unit).code


#: The check's findings as the freeze page groups them (by `Finding.code`).
FINDING_GROUPS = {
    "bad_reference": "Văn bản minh chứng ghi sai số, ký hiệu hoặc ngày",
    "done_without_result": "Đã thực hiện nhưng chưa ghi kết quả",
    "done_without_evidence": "Đã thực hiện nhưng chưa có văn bản minh chứng",
    "evidence_after_cutoff": "Văn bản minh chứng sau ngày chốt số liệu của kỳ",
    "evidence_before_plan": "Văn bản minh chứng trước ngày ban hành kế hoạch",
    "number_reused": "Một số hiệu dùng cho hai văn bản khác nhau",
    "rows_inconsistent": "Số liệu trong phụ lục không khớp nhau",
    "totals_mismatch": "Tổng số không khớp",
    "state_differs": "Trạng thái khác với báo cáo đối chiếu",
}


@dataclass(frozen=True)
class FindingGroup:
    code: str
    label: str
    severity: str
    findings: list[tuple[str, Finding]]  # (confirmation key, finding)


def finding_key(f: Finding) -> str:
    """What a leader ticks to confirm one error before freezing (stable across requests)."""
    return ":".join(str(x) for x in (f.code, f.appendix or "", f.plan or "", f.task or "",
                                     f.line or ""))


def group_findings(findings: list[Finding]) -> list[FindingGroup]:
    """Errors first, then notes; each kind once with its findings."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.code, []).append(f)
    out = [FindingGroup(code, FINDING_GROUPS.get(code, items[0].message_vi), items[0].severity,
                        [(finding_key(f), f) for f in items])
           for code, items in groups.items()]
    return sorted(out, key=lambda g: (g.severity != "error", -len(g.findings)))


def _label(code: str, choices: list[Any]) -> str:
    return next((p.label_vi for p in choices if p.code == code), code)


def reports_page(request: Request, rt: Runtime, user: UserView, unit: str,
                 period: str | None, *, status_code: int = 200,
                 messages: list[tuple[str, str]] | None = None,
                 findings: list[Any] | None = None,
                 confirmed: set[str] | None = None) -> Response:
    directory.require(rt, user, "report.export", unit)
    code = _period(rt, unit, period)
    snap = api.take_snapshot(rt, unit, code)  # frozen if frozen, else live
    frozen = {f.period: f for f in reporting.frozen_periods(rt, unit)}
    today = rt.today()
    choices = reporting.period_choices(rt, unit)
    if snap.period not in {p.code for p in choices}:  # the dropdown always shows the page's
        choices.insert(0, parse_period(snap.period, reporting.cutoff_day(rt, unit)))
    can_freeze = directory.can(rt, user, "report.freeze", unit)
    empty = sum(a.total for a in snap.appendices) == 0
    before_freeze = (can_freeze and snap.period not in frozen and today >= snap.end
                     and not empty)
    if findings is None and before_freeze:
        findings = api.check(rt, unit, snap.period)  # what the leader confirms before freezing
    groups = group_findings(findings or [])
    return render(request, "reports.html", {
        "title": "Chốt số liệu", "nav_path": "/reports", "unit": reporting.unit_view(rt, unit),
        "snap": snap, "period": snap.period, "choices": choices,
        "frozen": frozen.get(snap.period), "frozen_list": list(frozen.values()),
        "can_freeze": can_freeze, "empty": empty, "before_freeze": before_freeze,
        "too_early": today < snap.end, "today": today,
        "base": f"/units/{unit}/reports/{snap.period}", "findings": findings,
        "groups": groups, "confirmed": confirmed or set(),
        "period_label": lambda c: _label(c, choices),
        "comments": domain.list_comments(rt, unit, period=snap.period),
        "can_comment": directory.can(rt, user, "review.comment", unit),
        "errors_count": sum(1 for f in findings or [] if f.severity == "error"),
        "notes_count": sum(1 for f in findings or [] if f.severity != "error"),
        "messages": messages or [],
        "statistics_pages": [(n, STATISTICS_TITLES[n]) for n in STATISTICS_APPENDICES],
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
    directory.require(rt, user, "report.export", unit)
    findings = api.check(rt, unit, period.strip().upper())
    return reports_page(request, rt, user, unit, period, findings=findings)


@router.post("/units/{unit}/reports/{period}/freeze", include_in_schema=False)
def freeze(request: Request, unit: str, period: str, rt: Rt, user: CurrentUser,
           xac_nhan: Annotated[list[str] | None, Form()] = None) -> Response:
    """Freeze the period's figures for good (leaders; from the cut-off day on). Refused for a
    commune with no task in the period, and while the check finds errors the leader has not
    confirmed one by one (`xac_nhan` = each error's key)."""
    confirmed = set(xac_nhan or [])
    directory.require(rt, user, "report.freeze", unit)
    code = period.strip().upper()
    existing = frozen_snapshot(rt, unit, code)
    if existing is not None:
        return reports_page(request, rt, user, unit, code, status_code=409, messages=[(
            "warn", f"Kỳ {existing.period_label} đã được chốt trước đó; số liệu đã chốt "
                    "không thay đổi")])
    live = api.take_snapshot(rt, unit, code)
    if sum(a.total for a in live.appendices) == 0:
        return reports_page(request, rt, user, unit, code, status_code=400, messages=[(
            "error", f"{live.unit.display} chưa có nhiệm vụ nào trong {live.period_label}; "
                     "không có số liệu để chốt")])
    findings = api.check(rt, unit, code) if rt.today() >= live.end else []  # else: too early
    missing = [f for f in findings
               if f.severity == "error" and finding_key(f) not in confirmed]
    if missing:
        return reports_page(request, rt, user, unit, code, status_code=400,
                            findings=findings, confirmed=confirmed, messages=[(
                                "error", f"Chưa chốt: còn {len(missing)} lỗi chưa được xác "
                                         "nhận. Hãy sửa, hoặc đánh dấu từng lỗi đã xem xét "
                                         "rồi chốt lại.")])
    try:
        api.take_snapshot(rt, unit, code, freeze=True, taken_by=user.full_name)
    except (ValidationFailed, Conflict) as exc:
        return reports_page(request, rt, user, unit, code, status_code=status_of(exc),
                            messages=[("error", exc.message_vi)])
    return RedirectResponse(f"/units/{unit}/reports?period={code}&ok=freeze", status_code=303)


@router.post("/units/{unit}/reports/{period}/comment", include_in_schema=False)
def report_comment(request: Request, unit: str, period: str, rt: Rt, user: CurrentUser,
                   body: Annotated[str, Form()] = "") -> Response:
    """The reviewing body's comment on a period's report (the commune sees it here)."""
    directory.require(rt, user, "review.comment", unit)
    code = period.strip().upper()
    try:
        domain.add_comment(rt, unit, body, kind="review", author=user.full_name,
                             role=user.role, author_unit=user.unit_display or "", period=code)
    except ValidationFailed as exc:
        return reports_page(request, rt, user, unit, code, status_code=400,
                            messages=[("error", exc.message_vi)])
    return RedirectResponse(f"/units/{unit}/reports?period={code}&ok=comment#comments",
                            status_code=303)


def _download_name(snap: Snapshot, name: str) -> str:
    """`phu-luc-1_vinh-thanh_2023-Q3.xlsx`; a period not frozen yet adds `_tam-tinh-<hash>`
    (`download_name`): the same name always means the same bytes."""
    stem, _, ext = name.rpartition(".")
    return download_name(f"{stem}_{snap.unit.slug}_{snap.period}.{ext}", snap)


@router.get("/units/{unit}/reports/{period}/{name}", include_in_schema=False)
def download(unit: str, period: str, name: str, rt: Rt, user: CurrentUser) -> Response:
    """`phu-luc-N.docx`, `phu-luc-N.xlsx` or `snapshot.json` of the period."""
    directory.require(rt, user, "report.export", unit)
    if name == DRAFT_NAME:  # the report body drafted from the period's facts
        snap = api.take_snapshot(rt, unit, period.strip().upper())
        return Response(draft_report(rt, snap), media_type=DOCX, headers={
            "Content-Disposition": content_disposition(_download_name(snap, name))})
    m = _FILE.match(name)
    if m is None and name not in ("snapshot.json", STATISTICS_JSON_NAME):
        raise NotFound(f"Không có tệp '{name}' (có: phu-luc-N.docx, phu-luc-N.xlsx, "
                       f"snapshot.json, {STATISTICS_JSON_NAME})", f"no file '{name}'", field="name",
                       value=name)
    snap = api.take_snapshot(rt, unit, period.strip().upper())
    headers = {"Content-Disposition": content_disposition(_download_name(snap, name))}
    number = int(m.group("n")) if m else 0
    # Phụ lục 4–6: their own hash
    if name == STATISTICS_JSON_NAME or number in STATISTICS_APPENDICES:
        sheet = take_sheet(rt, snap)
        if sheet.content_hash:
            headers["X-Content-Hash"] = sheet.content_hash
        if m is None:
            return Response(export_sheet_json(sheet), media_type=JSON, headers=headers)
        fmt = m.group("fmt")
        return Response(export_statistics_page(sheet, number, fmt),
                        media_type=DOCX if fmt == "docx" else XLSX, headers=headers)
    if snap.content_hash:
        headers["X-Content-Hash"] = snap.content_hash
    if m is None:
        return Response(export_json(snap), media_type=JSON, headers=headers)
    appendix = next((a for a in snap.appendices if a.number == number), None)
    if appendix is None:
        have = ", ".join(str(a.number) for a in snap.appendices)
        raise NotFound(f"Đơn vị không có Phụ lục {number} (có: {have})",
                       f"no appendix {number}", field="name", value=name)
    if m.group("fmt") == "docx":
        return Response(export_docx(snap, appendix), media_type=DOCX, headers=headers)
    return Response(export_xlsx(snap, appendix), media_type=XLSX, headers=headers)


__all__ = ["DOCX", "JSON", "XLSX", "router"]
