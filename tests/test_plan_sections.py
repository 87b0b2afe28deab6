"""The task list's section picker reads the sections of the commune's plans with one
statement: the same sections, in the same order, as one read per plan."""

from __future__ import annotations

from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    cheap_hashes_fixture,
    demo_db_fixture,
    demo_rt_fixture,
)

from engine.reporting.dashboard import plan_sections, unit_plans
from engine.runtime import Runtime


def test_sections_of_some_plans_equal_one_read_per_plan(rt: Runtime) -> None:
    plans = [p.id for p in unit_plans(rt, "vinh-thanh")]
    assert len(plans) == 3
    for order in (plans, list(reversed(plans)), plans[1:2]):
        each = [s for p in order for s in plan_sections(rt, p)]
        assert len({s.plan for s in each}) == len(order)
        assert plan_sections(rt, plans=order) == each
    assert plan_sections(rt, plans=[]) == []  # no plan: no section (not every plan's)
    every = plan_sections(rt)
    assert {s.plan for s in every} >= set(plans)
