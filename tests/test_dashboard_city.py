"""The city overview, counted for all the communes at once, equals `unit_overview` per commune."""

from __future__ import annotations

from datetime import date

from conftest import Clock

from engine import api
from engine.directory.units import list_units
from engine.domain.obligations import load_obligations
from engine.domain.tasks import Actor, TaskKey, transition
from engine.reporting.dashboard import (
    UnitOverview,
    city_overview,
    quarter_reported_on,
    reporting_quarter,
    unit_overview,
)
from engine.runtime import Runtime
from plans import DEMO_BUNDLE

PLAN_FILES = [DEMO_BUNDLE / f for f in ("cchc-2023.yaml", "papi-2023.yaml", "kl91-2023.yaml")]
OFFICER = Actor("Trần Văn A", "officer")
KH_223 = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"
COMMUNES = ("vinh-luong", "vinh-phuong", "phuoc-dong")


def build(rt: Runtime) -> None:
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    api.add_unit(rt, slug="vinh-luong", name="Vĩnh Lương", kind="xã", parent="nha-trang")
    api.add_unit(rt, slug="vinh-phuong", name="Vĩnh Phương", kind="xã", parent="nha-trang",
                 report_cutoff_day=25)
    api.add_unit(rt, slug="phuoc-dong", name="Phước Đồng", kind="xã", parent="nha-trang")
    api.add_unit(rt, slug="khong-ke-hoach", name="Không Kế Hoạch", kind="xã",
                 parent="nha-trang")
    api.load_plans(rt, ["vinh-thanh", *COMMUNES[:2]], PLAN_FILES)
    api.load_plans(rt, ["phuoc-dong"], PLAN_FILES[:1])
    for code in ("1", "2", "3"):
        transition(rt, TaskKey("vinh-luong", "cchc-2023", code), "complete", OFFICER,
                   evidence=[KH_223], result="Đã thực hiện", on=date(2023, 9, 1))
    transition(rt, TaskKey("vinh-luong", "cchc-2023", "4"), "wait", OFFICER, note="Chờ")
    transition(rt, TaskKey("vinh-phuong", "cchc-2023", "5"), "complete", OFFICER,
               evidence=[KH_223], result="Đã thực hiện")
    api.take_snapshot(rt, "vinh-luong", "2023-Q3", freeze=True, taken_by="Chủ tịch")
    load_obligations(rt, "vinh-thanh", DEMO_BUNDLE / "obligations-2023.yaml")


def per_unit(rt: Runtime, today: date | None = None) -> list[UnitOverview]:
    units = [u for u in list_units(rt) if u.slug in ("vinh-thanh", *COMMUNES)]
    rows = [unit_overview(rt, u.slug, today=today) for u in units]
    return sorted(rows, key=lambda o: (o.unit.parent_slug or "", o.unit.name, o.unit.slug))


def test_city_overview_equals_unit_overview_of_each(rt: Runtime, clock: Clock) -> None:
    build(rt)
    units = list(reversed(list_units(rt)))
    got = city_overview(rt, units)
    assert [o.unit.slug for o in got] == ["phuoc-dong", "vinh-luong", "vinh-phuong",
                                          "vinh-thanh"]
    assert got == per_unit(rt)
    by_slug = {o.unit.slug: o for o in got}
    assert by_slug["vinh-luong"].frozen and by_slug["vinh-luong"].done == 3
    assert by_slug["vinh-phuong"].period != by_slug["vinh-luong"].period
    assert by_slug["vinh-thanh"].overdue_tasks > 0
    # a reporting date other than today, and later days (more overdue, other quarters)
    assert city_overview(rt, units, today=date(2023, 12, 20)) == \
        per_unit(rt, today=date(2023, 12, 20))
    for at in ("2023-12-20T09:00:00", "2024-01-02T09:00:00"):
        clock.set(at)
        assert city_overview(rt, units) == per_unit(rt)
    assert any(o.overdue_obligations for o in city_overview(rt, units))
    # only some of the units; none at all
    some = [u for u in units if u.slug in ("vinh-thanh", "khong-ke-hoach")]
    assert [o.unit.slug for o in city_overview(rt, some)] == ["vinh-thanh"]
    assert city_overview(rt, []) == []


def test_quarter_reported_on_matches_reporting_quarter(rt: Runtime) -> None:
    build(rt)
    for day in (date(2023, 9, 12), date(2023, 9, 13), date(2023, 9, 20), date(2024, 1, 1)):
        assert reporting_quarter(rt, "vinh-thanh", today=day) == quarter_reported_on(day, 13)
        assert reporting_quarter(rt, "vinh-phuong", today=day) == quarter_reported_on(day, 25)
