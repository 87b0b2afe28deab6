"""A province directly over three communes (two-level government since 1/7/2025)."""

from __future__ import annotations

from engine import api
from engine.runtime import Runtime

COMMUNES = ["xa-a", "xa-b", "xa-c"]


def province_units(rt: Runtime) -> None:
    api.add_unit(rt, slug="khanh-hoa", name="Khánh Hòa", kind="tỉnh", report_cutoff_day=13)
    for slug in COMMUNES:
        api.add_unit(rt, slug=slug, name=slug[-1].upper(), kind="xã", parent="khanh-hoa")
