"""The reviewing body's summary of a period as JSON (the same figures as the /summary page)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from engine.reporting import body_statistics, province_summary
from web.api.common import READ, Caller
from web.deps import Rt
from web.routes.summary import body_of

router = APIRouter(tags=["summary"])


@router.get("/summary/{body}/{period}", responses=READ,
            summary="One row per commune under a province or district for a period: tasks "
                    "done / not done per plan, overdue tasks and sub-reports, on-time and "
                    "online dossier ratios; frozen figures where frozen ('chưa chốt' else)")
def summary(body: str, period: str, rt: Rt, user: Caller) -> dict[str, Any]:
    return province_summary(rt, body_of(rt, user, body), period.strip().upper()).as_dict()


@router.get("/summary/{body}/{period}/statistics", responses=READ,
            summary="Phụ lục 6 of the reviewing body for a period: the frozen statistics of "
                    "the units under it summed, every ratio recomputed from the summed rows; "
                    "units not frozen listed as 'chưa chốt' and not summed")
def summary_statistics(body: str, period: str, rt: Rt, user: Caller) -> dict[str, Any]:
    return body_statistics(rt, body_of(rt, user, body), period.strip().upper()).as_dict()
