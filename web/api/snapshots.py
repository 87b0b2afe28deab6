"""A unit's quarterly figures: live or frozen totals, freezing, the appendix files, the check.

A period's snapshot is the frozen one once a leader froze it, else built live from the history
(what the appendices would print if the period were closed now). Files are generated in memory
from that snapshot by the same exporters as `cchc report export`, so a frozen period always
downloads the same bytes.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from engine import api, directory
from engine.errors import NotFound
from engine.reporting import (
    SNAPSHOT_JSON_NAME,
    Snapshot,
    appendix_file_name,
    build_snapshot,
    check_report,
    download_name,
    export_docx,
    export_json,
    export_xlsx,
    freeze_snapshot,
)
from web.api.common import READ, WRITE, Caller, vn_time
from web.api.schemas import AppendixTotalsOut, CheckOut, FindingOut, SnapshotOut
from web.deps import Rt

router = APIRouter(tags=["snapshots"])

SNAP = "/units/{unit}/snapshots/{period}"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FILE = re.compile(r"^phu-luc-(?P<n>[0-9]{1,3})\.(?P<ext>docx|xlsx)$")
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "phu-luc-N.docx, phu-luc-N.xlsx or snapshot.json",
          "content": {DOCX: {}, XLSX: {}, "application/json": {}}},
    **READ,
}


def file_names(snap: Snapshot) -> list[str]:
    numbers = sorted(a.number for a in snap.appendices)
    return ([appendix_file_name(n, "docx") for n in numbers]
            + [appendix_file_name(n, "xlsx") for n in numbers] + [SNAPSHOT_JSON_NAME])


def snapshot_out(snap: Snapshot) -> SnapshotOut:
    return SnapshotOut(
        unit=snap.unit.slug, unit_display=snap.unit.display, period=snap.period,
        period_label=snap.period_label, start=snap.start, end=snap.end,
        taken_at=vn_time(snap.taken_at), frozen=snap.frozen, content_hash=snap.content_hash,
        appendices=[AppendixTotalsOut(number=a.number, plan=a.plan_id, title=a.title,
                                      total=a.total, done=a.done, not_done=a.not_done)
                    for a in sorted(snap.appendices, key=lambda a: a.number)],
        files=file_names(snap))


@router.get(SNAP, response_model=SnapshotOut, responses=READ,
            summary="Totals per appendix: the frozen figures, or live ones if not frozen")
def get_snapshot(unit: str, period: str, rt: Rt, user: Caller) -> SnapshotOut:
    directory.require(rt, user, "report.export", unit)
    return snapshot_out(api.take_snapshot(rt, unit, period))


@router.post(SNAP + "/freeze", response_model=SnapshotOut, responses=WRITE,
             summary="Freeze the period's figures for good (leader; from the cut-off day on)")
def freeze(unit: str, period: str, rt: Rt, user: Caller) -> SnapshotOut:
    directory.require(rt, user, "report.freeze", unit)
    snap = freeze_snapshot(rt, build_snapshot(rt, unit, period), taken_by=user.full_name)
    return snapshot_out(snap)


@router.get(SNAP + "/files/{name}", response_class=Response, responses=FILE_RESPONSES,
            summary="Download Phụ lục N (.docx, .xlsx) or snapshot.json")
def get_file(unit: str, period: str, name: str, rt: Rt, user: Caller) -> Response:
    directory.require(rt, user, "report.export", unit)
    m = _FILE.match(name)
    if m is None and name != SNAPSHOT_JSON_NAME:
        raise NotFound(f"Không có tệp '{name}' (có: phu-luc-N.docx, phu-luc-N.xlsx, "
                       f"{SNAPSHOT_JSON_NAME})", f"no file '{name}'", field="name", value=name)
    snap = api.take_snapshot(rt, unit, period)
    if m is None:
        data, media = export_json(snap), "application/json"
    else:
        appendix = next((a for a in snap.appendices if a.number == int(m["n"])), None)
        if appendix is None:
            raise NotFound(f"Kỳ {snap.period} của {snap.unit.display} không có Phụ lục "
                           f"{int(m['n'])}", f"no appendix {int(m['n'])}", field="name",
                           value=name)
        if m["ext"] == "docx":
            data, media = export_docx(snap, appendix), DOCX
        else:
            data, media = export_xlsx(snap, appendix), XLSX
    download = download_name(f"{snap.unit.slug}-{snap.period}-{name}", snap)
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{download}"'})


@router.get(SNAP + "/check", response_model=CheckOut, responses=READ,
            summary="What a city reviewer would send back about the period's report")
def check(unit: str, period: str, rt: Rt, user: Caller) -> CheckOut:
    directory.require(rt, user, "report.export", unit)
    snap = api.take_snapshot(rt, unit, period)
    findings = check_report(rt, snap)
    return CheckOut(
        unit=unit, period=snap.period, frozen=snap.frozen,
        errors=sum(f.severity == "error" for f in findings),
        warnings=sum(f.severity == "warning" for f in findings),
        findings=[FindingOut(code=f.code, severity=f.severity, message_vi=f.message_vi,
                             message_en=f.message_en, plan=f.plan, task=f.task,
                             appendix=f.appendix, line=f.line) for f in findings])


__all__ = ["router"]
