"""Plan identity: a framework shared by many units vs each commune's own plan.

A commune loading its own plan file must leave every other commune's rows byte-identical; a
framework change reaching units outside the load, or dropping a task with state, is refused
with the list of what it would change unless the explicit flag is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from province_seed import COMMUNES, province_units
from sqlalchemy import select

from engine import api
from engine.domain.plan_guard import UnitLoad
from engine.domain.tasks import Actor, TaskKey, assign, transition
from engine.errors import Conflict, NotFound, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import (
    Plan,
    PlanRevision,
    PlanSection,
    PlanTask,
    Task,
    TaskHistory,
    Unit,
    UnitPlan,
)
from plans import DEMO_BUNDLE

CCHC = DEMO_BUNDLE / "cchc-2023.yaml"
PAPI = DEMO_BUNDLE / "papi-2023.yaml"
OFFICER = Actor("Trần Văn A", "officer")
LEADER = Actor("Nguyễn Văn B", "leader")
DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"


def own_plan(tmp_path: Path, owner: str, *, change: Any = None, name: str = "") -> Path:
    """The demo CCHC plan as `owner`'s own plan (same id for every commune)."""
    data = yaml.safe_load(CCHC.read_text(encoding="utf-8"))
    data["owner"] = owner
    data["title"] = f"Kế hoạch cải cách hành chính {owner} năm 2023"
    if change:
        change(data)
    path = tmp_path / (name or f"cchc-{owner}.yaml")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def dump_units(rt: Runtime, slugs: list[str]) -> str:
    """Every row that belongs to these units — their task rows and history, their plan links,
    and the definitions of the plans they use — as one canonical text."""
    with rt.db.read() as s:
        ids = list(s.scalars(select(Unit.id).where(Unit.slug.in_(slugs))))
        plan_ids = sorted(set(s.scalars(select(UnitPlan.plan_id)
                                        .where(UnitPlan.unit_id.in_(ids)))))

        def rows(model: Any, where: Any) -> list[list[str]]:
            cols = [c.name for c in model.__table__.columns]
            return sorted([[repr(getattr(r, c)) for c in cols]
                           for r in s.scalars(select(model).where(where))])

        return json.dumps({
            "units": rows(Unit, Unit.id.in_(ids)),
            "unit_plans": rows(UnitPlan, UnitPlan.unit_id.in_(ids)),
            "plans": rows(Plan, Plan.id.in_(plan_ids)),
            "sections": rows(PlanSection, PlanSection.plan_id.in_(plan_ids)),
            "plan_tasks": rows(PlanTask, PlanTask.plan_id.in_(plan_ids)),
            "tasks": rows(Task, Task.unit_id.in_(ids)),
            "history": rows(TaskHistory, TaskHistory.task_id.in_(
                select(Task.id).where(Task.unit_id.in_(ids)))),
        }, ensure_ascii=False, sort_keys=True)


@pytest.fixture
def province(rt: Runtime, tmp_path: Path) -> Runtime:
    """Three communes sharing the PAPI framework, each with its own plan `cchc-2023`."""
    province_units(rt)
    api.load_plans(rt, COMMUNES, [PAPI])
    for slug in COMMUNES:
        [res] = api.load_plans(rt, [], [own_plan(tmp_path, slug)])
        assert (res.plan_id, res.scope) == (f"cchc-2023@{slug}", "unit")
        assert res.per_unit == (UnitLoad(slug, 23, 0, 0, 0),)
    transition(rt, TaskKey("xa-b", "cchc-2023", "5"), "complete", OFFICER, evidence=[DOC],
               result="Đã số hóa")
    transition(rt, TaskKey("xa-c", "papi-2023", "1.2.3"), "start", OFFICER)
    assign(rt, TaskKey("xa-c", "cchc-2023", "23"), "Công chức Tư pháp - Hộ tịch", LEADER)
    return rt


def test_each_commune_has_its_own_plan_under_the_same_id(province: Runtime) -> None:
    rt = province
    plans = {p["id"]: p for p in api.list_plans(rt)}
    assert sorted(plans) == ["cchc-2023@xa-a", "cchc-2023@xa-b", "cchc-2023@xa-c", "papi-2023"]
    assert {p["code"] for p in plans.values()} == {"cchc-2023", "papi-2023"}
    assert plans["papi-2023"]["scope"] == "framework" and plans["papi-2023"]["units"] == 3
    # An officer names the plan as the commune writes it; the commune's own one is found.
    done = api.get_task(rt, TaskKey("xa-b", "cchc-2023", "5"))
    assert (done.plan, done.state) == ("cchc-2023@xa-b", "done")
    assert api.get_task(rt, TaskKey("xa-a", "cchc-2023", "5")).state == "not_started"
    listed = api.list_tasks(rt, "xa-a", plan="cchc-2023")
    assert {v.plan for v in listed} == {"cchc-2023@xa-a"}
    assert len({v.code for v in listed}) == 23


def test_a_commune_loading_its_own_plan_leaves_the_others_byte_identical(
        province: Runtime, tmp_path: Path) -> None:
    rt = province
    others = dump_units(rt, ["xa-b", "xa-c"])

    def change(d: dict[str, Any]) -> None:
        d["sections"][0]["tasks"][0]["text"] = "Nội dung đã sửa của xã A"
        d["sections"][6]["tasks"].pop()  # task 23, never touched in xa-a

    [res] = api.load_plans(rt, [], [own_plan(tmp_path, "xa-a", change=change, name="v2.yaml")])
    assert res.changed and res.per_unit == (UnitLoad("xa-a", 0, 1, 21, 1),)
    assert api.get_task(rt, TaskKey("xa-a", "cchc-2023", "1")).text == "Nội dung đã sửa của xã A"
    assert api.get_task(rt, TaskKey("xa-b", "cchc-2023", "1")).text != "Nội dung đã sửa của xã A"
    assert dump_units(rt, ["xa-b", "xa-c"]) == others
    with rt.db.read() as s:  # both definitions are kept
        revs = s.scalars(select(PlanRevision.content_hash)
                         .where(PlanRevision.plan_id == "cchc-2023@xa-a")).all()
    assert len(set(revs)) == 2


def test_a_unit_plan_cannot_be_loaded_for_another_unit(
        province: Runtime, tmp_path: Path) -> None:
    rt = province
    before = dump_units(rt, COMMUNES)
    with pytest.raises(ValidationFailed, match=r"kế hoạch riêng của 'xa-a'.*xa-b"):
        api.load_plans(rt, ["xa-a", "xa-b"], [own_plan(tmp_path, "xa-a")])
    with pytest.raises(NotFound, match="xa-khong-co"):
        api.load_plans(rt, [], [own_plan(tmp_path, "xa-khong-co")])
    assert dump_units(rt, COMMUNES) == before


def test_a_framework_change_for_one_unit_is_refused_while_others_use_it(
        province: Runtime, tmp_path: Path) -> None:
    rt = province
    data = yaml.safe_load(PAPI.read_text(encoding="utf-8"))
    data["sections"][0]["sections"][0]["tasks"][0]["text"] = "Nội dung khung đã sửa"
    sub = data["sections"][0]["sections"][1]
    sub["tasks"] = [t for t in sub["tasks"] if t["code"] != "1.2.3"]  # started in xa-c
    path = tmp_path / "papi-v2.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = dump_units(rt, COMMUNES)

    with pytest.raises(Conflict) as refused:
        api.load_plans(rt, ["xa-a"], [path])
    text = refused.value.render()
    assert "2 đơn vị không nằm trong lần nạp này (xa-b, xa-c)" in text
    assert "sửa 1 nhiệm vụ (1.1.1)" in text and "bỏ 1 nhiệm vụ (1.2.3)" in text
    assert "xa-c nhiệm vụ 1.2.3 (Đang thực hiện)" in text
    assert dump_units(rt, COMMUNES) == before

    # Loaded for every unit it still needs the drop flag; with both flags it goes through,
    # and the dropped task keeps its row, state and history.
    with pytest.raises(Conflict, match="--allow-drop"):
        api.load_plans(rt, COMMUNES, [path])
    [res] = api.load_plans(rt, ["xa-a"], [path], allow_other_units=True, allow_drop_state=True)
    assert res.per_unit == (UnitLoad("xa-a", 0, 1, 52, 1),)
    with rt.db.read() as s:
        kept = s.execute(select(Task.state).join(Unit, Unit.id == Task.unit_id).where(
            Unit.slug == "xa-c", Task.plan_id == "papi-2023", Task.code == "1.2.3")).scalar()
        forced = s.scalars(select(PlanRevision.forced)
                           .where(PlanRevision.plan_id == "papi-2023")
                           .order_by(PlanRevision.id)).all()
    assert kept == "in_progress"
    assert forced == [[], ["allow_other_units", "allow_drop_state"]]


def test_plan_load_cli_reports_per_unit_and_takes_at(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    db = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(app, [*args, "--db", db])
        assert res.exit_code == code, res.output
        return " ".join(res.output.split())

    run("db", "init")
    run("unit", "add", "khanh-hoa", "--name", "Khánh Hòa", "--kind", "tỉnh")
    run("unit", "add", "xa-a", "--name", "A", "--parent", "khanh-hoa")
    path = own_plan(tmp_path, "xa-a")
    # Replaying a past load: the issuing document's date is after "today" only without --at.
    out = run("plan", "load", "-f", str(path), "--at", "2023-02-01T08:00")
    assert "Kế hoạch cchc-2023@xa-a (kế hoạch riêng): 23 nhiệm vụ (cập nhật), 1 đơn vị." in out
    assert "│ xa-a │ 23 │ 0 │ 0 │ 0 │" in out
    refused = run("plan", "load", "xa-b", "-f", str(path), code=2)
    assert "Không có thay đổi nào được ghi." in refused


def test_a_reviewer_may_sit_at_any_ancestor(sqlite_rt: Runtime) -> None:
    """Since 1/7/2025 the province reviews its communes directly; before, a city did — and a
    province above a city still sees the communes under it."""
    from engine.directory import access
    from engine.directory.accounts import create_user

    rt = sqlite_rt
    province_units(rt)
    api.add_unit(rt, slug="tp-x", name="X", kind="thành phố", parent="khanh-hoa")
    api.add_unit(rt, slug="xa-d", name="D", kind="xã", parent="tp-x")
    password = "Thẩm-định-2026-an-toàn"
    province = create_user(rt, "sonoivu.kh", password=password, role="reviewer",
                           full_name="Sở Nội vụ", unit="khanh-hoa")
    city = create_user(rt, "phongnoivu.x", password=password, role="reviewer",
                       full_name="Phòng Nội vụ", unit="tp-x")
    assert [u.slug for u in access.readable_units(rt, province)] == [
        "tp-x", "xa-a", "xa-b", "xa-c", "xa-d"]
    assert [u.slug for u in access.readable_units(rt, city)] == ["xa-d"]
    assert access.can_read_unit(rt, province, "xa-d") and access.can_read_unit(rt, city, "xa-d")
    assert not access.can_read_unit(rt, city, "xa-a")
    assert not access.can_write_unit(rt, province, "xa-a")
