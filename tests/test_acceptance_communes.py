"""Acceptance scenario of issue 8: many communes, many years.

A province directly over three communes (two-level government since 1/7/2025); one shared
framework (PAPI) and each commune's own CCHC plan, for 2026 and for 2027 side by side; a task
done in Q1 and reopened in Q3; a frozen quarter. The exports of every quarter of both years hold
that year's plans with the right states; a commune loading its own plan changes nothing in the
others; run-all over the province with one commune's data broken exports all the others and
names the broken one. A recurring task ("Định kỳ hàng quý", task 7) done in Q1 is done in the
Q1 report only: every quarter's report shows that quarter's occurrence, due at its end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from province_seed import COMMUNES, province_units
from test_plan_identity import dump_units

from engine import api
from engine.domain.tasks import Actor, TaskKey, transition
from engine.runtime import Runtime
from plans import DEMO_BUNDLE

CCHC = DEMO_BUNDLE / "cchc-2023.yaml"
PAPI = DEMO_BUNDLE / "papi-2023.yaml"
OFFICER = Actor("Trần Văn A", "officer")
LEADER = Actor("Nguyễn Văn B", "leader")
YEARS = (2026, 2027)


def plan_file(tmp_path: Path, source: Path, year: int, owner: str | None = None,
              change: Any = None) -> Path:
    data = yaml.safe_load(source.read_text(encoding="utf-8").replace("2023", str(year)))
    if owner:
        data["owner"] = owner
        data["title"] = f"Kế hoạch cải cách hành chính xã {owner[-1].upper()} năm {year}"
    if change:
        change(data)
    path = tmp_path / f"{data['id']}-{owner or 'khung'}-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def rows(snapshot: dict[str, Any], number: int) -> dict[str, dict[str, Any]]:
    appendix = next(a for a in snapshot["appendices"] if a["number"] == number)
    out: dict[str, dict[str, Any]] = {}

    def walk(group: dict[str, Any]) -> None:
        for t in group["tasks"]:
            out[t["code"]] = t
        for g in group["groups"]:
            walk(g)

    for g in appendix["groups"]:
        walk(g)
    return out


def test_province_two_years_reopened_task_frozen_quarter_and_a_broken_unit(
        rt: Runtime, tmp_path: Path) -> None:
    clock: Any = rt.clock
    plans = tmp_path / "plans"
    plans.mkdir()
    clock.set("2026-02-15T09:00")
    province_units(rt)
    api.load_plans(rt, COMMUNES, [plan_file(plans, PAPI, 2026)])
    for slug in COMMUNES:
        api.load_plans(rt, [], [plan_file(plans, CCHC, 2026, owner=slug)])

    # xa-a: task 3 done in Q1 (cut-off 13/3), Q1 frozen, the task reopened in Q3
    clock.set("2026-03-05T09:00")
    done = TaskKey("xa-a", "cchc-2026", "3")
    transition(rt, done, "complete", OFFICER, result="Đã phân cấp giải quyết TTHC",
               evidence=["Quyết định số 12/QĐ-UBND ngày 02/3/2026"])
    transition(rt, TaskKey("xa-b", "papi-2026", "1.2.3"), "start", OFFICER)
    recurring = transition(rt, TaskKey("xa-c", "cchc-2026", "7"), "complete", OFFICER,
                           result="Đã đánh giá quý I",
                           evidence=["Báo cáo số 20/BC-UBND ngày 03/3/2026"])
    assert recurring.key.occurrence == "2026-Q1"
    clock.set("2026-03-20T09:00")
    frozen = api.take_snapshot(rt, "xa-a", "2026-Q1", freeze=True, taken_by="Chủ tịch")
    clock.set("2026-07-02T09:00")
    transition(rt, done, "reopen", LEADER, note="Bổ sung quy trình phân cấp")

    # 2027 plans next to 2026's
    clock.set("2027-02-15T09:00")
    api.load_plans(rt, COMMUNES, [plan_file(plans, PAPI, 2027)])
    for slug in COMMUNES:
        api.load_plans(rt, [], [plan_file(plans, CCHC, 2027, owner=slug)])

    # every quarter of both years, every commune: that year's plans, the right states
    clock.set("2027-03-20T09:00")
    out = tmp_path / "out"
    for year in YEARS:
        for q in range(1, 5):
            period = f"{year}-Q{q}"
            for slug in COMMUNES:
                res = api.snapshot_and_export(rt, slug, period, out / period / slug)
                assert sorted(p.name for p in res.files) == [
                    "phu-luc-1.docx", "phu-luc-1.xlsx", "phu-luc-2.docx", "phu-luc-2.xlsx",
                    "snapshot.json"]
                snap = json.loads((out / period / slug / "snapshot.json").read_text("utf-8"))
                assert [(a["number"], a["plan_id"]) for a in snap["appendices"]] == [
                    (1, f"cchc-{year}@{slug}"), (2, f"papi-{year}")], period
                cchc = rows(snap, 1)
                assert len(cchc) == 23 and len(rows(snap, 2)) == 54
                expect_done = slug == "xa-a" and period in ("2026-Q1", "2026-Q2")
                assert cchc["3"]["done"] is expect_done, (slug, period)
                quarter_end = {1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31"}[q]
                assert cchc["7"]["due"] == f"{year}-{quarter_end}", (slug, period)
                assert cchc["7"]["done"] is (slug == "xa-c" and period == "2026-Q1")
                started = slug == "xa-b" and year == 2026
                assert (rows(snap, 2)["1.2.3"]["state"] == "in_progress") is started
    reopened = rows(json.loads((out / "2026-Q3" / "xa-a" / "snapshot.json").read_text("utf-8")),
                    1)["3"]
    assert (reopened["state"], reopened["result"]) == ("in_progress",
                                                       "Bổ sung quy trình phân cấp")
    # the frozen quarter is the one exported, byte for byte, after the reopen
    again = api.take_snapshot(rt, "xa-a", "2026-Q1")
    assert again.frozen and again.content_hash == frozen.content_hash
    assert rows(again.model_dump(mode="json"), 1)["3"]["done"] is True

    # a commune loading its own (corrected) plan changes nothing in any other commune
    before = dump_units(rt, ["xa-b", "xa-c"])

    def corrected(d: dict[str, Any]) -> None:
        d["sections"][0]["tasks"][1]["text"] = "Rà soát văn bản (đính chính)"

    [loaded] = api.load_plans(rt, [], [plan_file(plans, CCHC, 2027, owner="xa-a",
                                                 change=corrected)])
    assert [(u.unit, u.changed) for u in loaded.per_unit] == [("xa-a", 1)]
    assert dump_units(rt, ["xa-b", "xa-c"]) == before

    # xa-b's data broken (a second CCHC plan in force in 2027): run-all exports the others
    def overlapping(d: dict[str, Any]) -> None:
        d["id"] = "cchc-2027-bs"

    api.load_plans(rt, [], [plan_file(plans, CCHC, 2027, owner="xa-b", change=overlapping)])
    results = api.run_all(rt, "2027-Q1", tmp_path / "run-all", parent="khanh-hoa")
    assert [(r.unit, r.error is None, r.files) for r in results] == [
        ("xa-a", True, 5), ("xa-b", False, 0), ("xa-c", True, 5)]
    failed = next(r for r in results if r.error)
    assert "trùng số phụ lục" in (failed.error or "") and "cchc-2027-bs" in (failed.error or "")
