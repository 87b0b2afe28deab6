"""Phụ lục 4–6 of a period on the web: the officer's form for the Phụ lục 6 inputs, the upload
of the one-stop-shop export (Phụ lục 4 / 5), the computed rows with where each comes from, and
the downloads. A refused save shows every problem next to its row and saves nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from engine import api, directory, reporting
from engine.errors import CchcError
from engine.reporting import StatisticsRefused
from engine.runtime import Runtime
from plans.errors import DataFileError
from web.deps import CurrentUser, Rt
from web.routes.common import status_of
from web.templating import render

router = APIRouter()
OK = {"saved": "Đã lưu số liệu Phụ lục 6", "imported": "Đã nhập tệp số liệu"}


async def form_data(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def _code(rt: Runtime, unit: str, period: str | None) -> str:
    return (period or reporting.reporting_quarter(rt, unit).code).strip().upper()


def statistics_page(request: Request, rt: Runtime, user: Any, unit: str, period: str | None,
                    *, problems: list[reporting.StatisticsProblem] | None = None,
                    typed: dict[str, str] | None = None, message: str = "",
                    status_code: int = 200) -> Response:
    directory.require(rt, user, "unit.read", unit)
    code = _code(rt, unit, period)
    snap = api.take_snapshot(rt, unit, code)
    sheet = reporting.take_sheet(rt, snap)
    inputs = reporting.load_statistics_input(rt, unit, code)
    iset = reporting.default_indicator_set()
    level = reporting.statistics_level_of(snap.unit.kind)
    editable = {i.code for i in iset.all() if i.kind == "input" and i.applies_to(level)}
    by_code: dict[str, list[str]] = {}
    general: list[str] = []
    for p in problems or []:
        if p.table == 6 and p.column:
            by_code.setdefault(p.column, []).append(p.message_vi)
        else:
            general.append(p.label_vi)
    values = {c: reporting.format_number_vi(v) for c, v in inputs.values.items()}
    return render(request, "statistics.html", {
        "title": "Số liệu thống kê", "nav_path": "/reports",
        "unit": reporting.unit_view(rt, unit), "snap": snap, "sheet": sheet,
        "period": code, "choices": reporting.period_choices(rt, unit),
        "can_edit": directory.can(rt, user, "task.note", unit) and not sheet.frozen,
        "editable": editable, "values": {**values, **(typed or {})}, "notes": inputs.notes,
        "field_errors": by_code, "general_errors": general, "message": message,
        "totals": sheet.field_totals(), "base": f"/units/{unit}/reports/{code}",
        "action": f"/units/{unit}/statistics/{code}",
    }, status_code=status_code)


@router.get("/units/{unit}/statistics", include_in_schema=False)
def statistics_view(request: Request, unit: str, rt: Rt, user: CurrentUser,
                    period: str | None = None, ok: str | None = None) -> Response:
    return statistics_page(request, rt, user, unit, period, message=OK.get(ok or "", ""))


@router.post("/units/{unit}/statistics/{period}", include_in_schema=False)
def statistics_save(request: Request, unit: str, period: str, rt: Rt, user: CurrentUser,
                    form: Form) -> Response:
    """Phụ lục 6 inputs: fields `v:<code>` (value) and `n:<code>` (note)."""
    directory.require(rt, user, "task.note", unit)
    values = {k[2:]: str(v) for k, v in form.multi_items() if k.startswith("v:")}
    notes = {k[2:]: str(v) for k, v in form.multi_items() if k.startswith("n:")}
    try:
        reporting.set_statistics_values(rt, unit, period, values, notes, user.full_name)
    except StatisticsRefused as exc:
        return statistics_page(request, rt, user, unit, period, problems=exc.located,
                               typed=values, status_code=400)
    except CchcError as exc:
        return statistics_page(request, rt, user, unit, period, status_code=status_of(exc),
                               problems=[reporting.StatisticsProblem(6, None, "", exc.message_vi,
                                                            exc.message_en)])
    return RedirectResponse(f"/units/{unit}/statistics?period={period}&ok=saved",
                            status_code=303)


@router.post("/units/{unit}/statistics/{period}/import", include_in_schema=False)
def statistics_import(request: Request, unit: str, period: str, rt: Rt, user: CurrentUser,
                      file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Phụ lục 4 or 5 as .xlsx/.csv (the layout of docs/statistics.md)."""
    directory.require(rt, user, "task.note", unit)
    name = Path((file.filename or "") if file else "").name
    if file is None or Path(name).suffix.lower() not in (".xlsx", ".csv"):
        return statistics_page(request, rt, user, unit, period, status_code=400, problems=[
            reporting.StatisticsProblem(0, None, "", "Hãy chọn tệp .xlsx hoặc .csv",
                                        "choose a file")])
    with tempfile.TemporaryDirectory(prefix="cchc-stats-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(file.file.read(5 * 1024 * 1024))
        try:
            reporting.import_statistics_file(rt, unit, period, path, user.full_name)
        except StatisticsRefused as exc:
            return statistics_page(request, rt, user, unit, period, problems=exc.located,
                                   status_code=400)
        except (CchcError, DataFileError) as exc:
            return statistics_page(request, rt, user, unit, period, status_code=400, problems=[
                reporting.StatisticsProblem(0, None, "", exc.message_vi, exc.message_en)])
    return RedirectResponse(f"/units/{unit}/statistics?period={period}&ok=imported",
                            status_code=303)
