"""The reminder planner on the Vĩnh Thạnh demo data: who is reminded of what, when."""

from __future__ import annotations

import gc
import time
from datetime import date, datetime, timedelta
from operator import attrgetter
from pathlib import Path

import pytest
from conftest import Clock
from sqlalchemy import insert, select, text

from engine import api
from engine.clock import VN_TZ, local_date
from engine.directory.people import add_person, first_channel, load_people_file, owner_indexes
from engine.directory.units import upsert_units
from engine.domain.obligations import (
    PENDING,
    assign_obligation,
    due_link,
    load_obligations,
    period_label,
    submit_obligation,
)
from engine.domain.tasks import Actor, TaskKey
from engine.errors import NotFound
from engine.reminders import planner
from engine.reminders.occurrence import Occurrence, new_occurrence
from engine.reminders.planner import (
    due_occurrences,
    due_rows,
    end_of_day,
    obligation_window_query,
    plan_reminders,
    preview,
    preview_plan,
    task_window_query,
)
from engine.reminders.recipients import unit_recipients
from engine.reminders.rules import (
    ReminderRules,
    escalation_step,
    load_reminder_rules,
    owner_steps,
    past_reminding,
    select_fired,
)
from engine.runtime import Runtime
from engine.storage.models import Obligation, ObligationDue, Person, PlanTask, Task, Unit
from engine.storage.rows import plain_rows
from plans import DEMO_BUNDLE, UnitSpec, load_model
from plans.people_schema import PeopleFile
from workflows.reminder_schema import EscalationRule, OverdueRule

PLAN_FILES = ["cchc-2023.yaml", "papi-2023.yaml", "kl91-2023.yaml"]
LEADER = Actor("Nguyễn Quốc Bảo", "leader")
OFFICER = Actor("Trần Thị Mỹ Hạnh", "officer")
TU_PHAP = {"Nguyễn Thị Bích Nhi", "Nguyễn Văn Sỹ"}
TASK12 = TaskKey("vinh-thanh", "cchc-2023", "12")  # Quý IV/2023, Công chức Văn phòng - Thống kê


def load_demo(rt: Runtime) -> None:
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    api.load_plans(rt, ["vinh-thanh"], [DEMO_BUNDLE / f for f in PLAN_FILES])
    load_people_file(rt, DEMO_BUNDLE / "people.yaml")
    load_obligations(rt, "vinh-thanh", DEMO_BUNDLE / "obligations-2023.yaml")


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=VN_TZ)


def of(occs: list[Occurrence], code: str) -> set[tuple[str, str, str]]:
    """(step, person, channel) of one item's occurrences."""
    return {(o.step, o.payload["person_name"], o.channel) for o in occs
            if o.payload["code"] == code}


def task12(occs: list[Occurrence]) -> list[Occurrence]:
    return [o for o in occs if o.item_kind == "task" and o.payload["plan"] == "cchc-2023"
            and o.payload["code"] == "12"]


# ---------------------------------------------------------------- the seed's obligations


def test_14_november_reminds_tu_phap_of_report_147(rt: Runtime) -> None:
    load_demo(rt)
    everything = preview(rt, date(2023, 11, 14), "vinh-thanh")
    occs = [o for o in everything if o.payload["code"] == "bc-kh-147-2023"]
    assert [(o.step, o.payload["person_name"], o.channel) for o in occs] == [
        ("before:7", "Nguyễn Thị Bích Nhi", "zalo"),
        ("before:7", "Nguyễn Văn Sỹ", "email"),  # prefers email
    ]
    # The unsent 15/06 report is 106 working days late: past the 60 of reminders.yaml, the
    # owner is no longer reminded (the chairman was told on day 3; it stays on the reports).
    assert of(everything, "bc-kh-140-2023") == set()
    # and October's occurrence of the monthly task 6 ("Định kỳ hàng tháng"), 10 working days
    # late: each occurrence has its own series
    [monthly] = [o for o in everything if o.item_kind == "task"]
    assert (monthly.payload["code"], monthly.payload["period"], monthly.due_on,
            monthly.step) == ("6", "2023-M10", date(2023, 10, 31), "overdue:10")
    assert monthly.payload["link"] == "/units/vinh-thanh/tasks/cchc-2023/6~2023-M10"
    assert len(everything) == 3
    o = occs[0]
    assert (o.item_kind, o.due_on, o.send_on) == ("obligation", date(2023, 11, 21),
                                                   date(2023, 11, 14))
    assert o.not_before == at("2023-11-14T08:00")
    p = o.payload
    assert p["title"].startswith("Báo cáo tình hình thi hành pháp luật")
    assert p["document"] == p["title"]
    assert p["plan"] == "Kế hoạch số 147/KH-UBND ngày 16/02/2023"
    assert p["recipient_body"] == "Phòng Tư pháp thành phố Nha Trang"
    assert p["unit_name"] == "xã Vĩnh Thạnh"
    assert p["link"] == f"/units/vinh-thanh/obligations/{o.item_id}"
    assert (p["days"], p["escalation"]) == (7, False)
    assert p["item_owner"] == "Công chức Tư pháp - Hộ tịch"
    assert o.idempotency_key == (
        f"p{o.person_id}:obligation{o.item_id}:2023-11-21:before:7:zalo")


def test_29_november_reminds_of_the_06_12_reports(rt: Runtime) -> None:
    load_demo(rt)
    occs = preview(rt, date(2023, 11, 29))
    for code in ("bc-kh-138-2023", "bc-kh-139-2023"):
        assert {(s, n) for s, n, _c in of(occs, code)} == {("before:7", n) for n in TU_PHAP}
        assert all(o.due_on == date(2023, 12, 6) for o in occs if o.payload["code"] == code)
    # 147 (due 21/11) is 6 working days late that day: its third overdue repeat.
    assert {s for s, _n, _c in of(occs, "bc-kh-147-2023")} == {"overdue:6"}
    assert {o.payload["code"] for o in occs if o.item_kind == "obligation"} == {
        "bc-kh-138-2023", "bc-kh-139-2023", "bc-kh-147-2023"}  # 140-H1 (106 + 11): no step


def test_15_june_report_repeats_and_escalates_to_the_chairman(rt: Runtime) -> None:
    load_demo(rt)
    code = "bc-kh-140-2023"
    # Due Thursday 15/06/2023; working days after it: 16, 19, 20, 21, 22, 23/06 …
    assert of(preview(rt, date(2023, 6, 16)), code) == set()
    assert {s for s, _n, _c in of(preview(rt, date(2023, 6, 19)), code)} == {"overdue:2"}
    escalation = [o for o in preview(rt, date(2023, 6, 20)) if o.payload["code"] == code]
    assert [(o.step, o.payload["person_name"], o.channel) for o in escalation] == [
        ("escalate", "Nguyễn Quốc Bảo", "zalo")]
    assert escalation[0].payload["escalation"] is True
    assert escalation[0].payload["days"] == -3
    assert {s for s, _n, _c in of(preview(rt, date(2023, 6, 21)), code)} == {"overdue:4"}
    assert of(preview(rt, date(2023, 6, 22)), code) == set()
    # Repeats thin out: every 2 working days up to 10, then every 5 (weekly), stop after 60.
    steps: list[str] = []
    day = date(2023, 6, 16)
    while day <= date(2023, 10, 31):
        steps += sorted({s for s, _n, _c in of(preview(rt, day), code)})
        day += timedelta(days=1)
    assert steps == ["overdue:2", "escalate", "overdue:4", "overdue:6", "overdue:8",
                     "overdue:10", *(f"overdue:{n}" for n in range(15, 61, 5))]
    # The seed's Q3 report (September) finds it unsent, 66 working days late: no more
    # reminders (it stays on the reports as "quá hạn").
    assert of(preview(rt, date(2023, 9, 19)), code) == set()
    assert of(due_occurrences(rt, at("2023-09-20T09:00"), unit="vinh-thanh"), code) == set()


def test_submitted_report_and_done_task_produce_nothing(rt: Runtime, clock: Clock) -> None:
    load_demo(rt)
    clock.set("2023-11-10T09:00")
    submit_obligation(rt, "vinh-thanh", "bc-kh-147-2023", "2023",
                      "Báo cáo số 1040/BC-UBND ngày 10/11/2023", Actor("Nguyễn Văn Sỹ"))
    assert of(preview(rt, date(2023, 11, 14)), "bc-kh-147-2023") == set()
    assert of(preview(rt, date(2023, 11, 29)), "bc-kh-147-2023") == set()
    assert of(due_occurrences(rt, at("2023-12-01T09:00")), "bc-kh-147-2023") == set()
    # Task 12 (Quý IV: due Sunday 31/12) is reminded on Friday 29/12 — until it is done.
    assert [o.step for o in task12(preview(rt, date(2023, 12, 29)))] == ["due"]
    clock.set("2023-12-21T09:00")
    api.transition(rt, TASK12, "complete", OFFICER, result="Đã tổ chức kiểm tra, sát hạch",
                   evidence=["Báo cáo số 1120/BC-UBND ngày 20/12/2023"])
    assert task12(preview(rt, date(2023, 12, 29))) == []
    assert task12(due_occurrences(rt, at("2024-01-10T09:00"))) == []


def test_redating_a_task_moves_its_reminders(rt: Runtime) -> None:
    load_demo(rt)
    assert task12(preview(rt, date(2023, 11, 13))) == []
    api.set_deadline(rt, TASK12, "Trước ngày 20/11/2023", LEADER)
    [o] = task12(preview(rt, date(2023, 11, 13)))
    assert (o.step, o.due_on, o.payload["person_name"]) == (
        "before:7", date(2023, 11, 20), "Trần Thị Mỹ Hạnh")
    assert o.payload["link"] == "/units/vinh-thanh/tasks/cchc-2023/12"
    assert o.payload["title"].startswith("Thực hiện kiểm tra, sát hạch")
    api.set_deadline(rt, TASK12, "Trước ngày 27/11/2023", LEADER)
    assert task12(preview(rt, date(2023, 11, 13))) == []
    [o] = task12(preview(rt, date(2023, 11, 20)))
    assert (o.step, o.due_on) == ("before:7", date(2023, 11, 27))


def test_reassigning_changes_the_recipient(rt: Runtime) -> None:
    load_demo(rt)
    day = date(2023, 12, 29)
    assert {o.payload["person_name"] for o in task12(preview(rt, day))} == {"Trần Thị Mỹ Hạnh"}
    api.assign(rt, TASK12, "Công chức Văn hóa - Xã hội", LEADER)
    assert {o.payload["person_name"] for o in task12(preview(rt, day))} == {
        "Phạm Thị Phương Linh", "Nguyễn Thị Hiền"}
    api.assign(rt, TASK12, "nguyễn thị thúy vân", LEADER)
    [o] = task12(preview(rt, day))
    assert (o.payload["person_name"], o.payload["item_owner"]) == (
        "Nguyễn Thị Thúy Vân", "nguyễn thị thúy vân")
    assign_obligation(rt, "vinh-thanh", "bc-kh-147-2023", "2023", "Nguyễn Văn Sỹ", LEADER)
    assert of(preview(rt, date(2023, 11, 14)), "bc-kh-147-2023") == {
        ("before:7", "Nguyễn Văn Sỹ", "email")}


def test_inactive_person_and_unknown_owner(rt: Runtime) -> None:
    load_demo(rt)
    add_person(rt, unit="vinh-thanh", name="Nguyễn Thị Bích Nhi", active=False,
               title="Công chức Tư pháp - Hộ tịch", email="nhintb@vinhthanh.example.vn")
    assert of(preview(rt, date(2023, 11, 14)), "bc-kh-147-2023") == {
        ("before:7", "Nguyễn Văn Sỹ", "email")}
    api.assign(rt, TASK12, "Công chức Quân sự", LEADER)
    plan = preview_plan(rt, date(2023, 12, 29), "vinh-thanh")
    assert task12(plan.occurrences) == []
    [u] = [u for u in plan.unresolved if u.item_kind == "task" and u.code == "12"]
    assert (u.owner, u.step, u.send_on) == ("Công chức Quân sự", "due", date(2023, 12, 29))
    assert "Công chức Quân sự" in u.reason_vi


def test_no_escalation_to_a_leader_in_charge(rt: Runtime) -> None:
    load_demo(rt)
    api.assign(rt, TASK12, "Chủ tịch UBND xã", LEADER)
    api.set_deadline(rt, TASK12, "Trước ngày 20/11/2023", LEADER)
    # Due Monday 20/11: 2 working days late on 22/11, 3 (the escalation step) on 23/11.
    assert [(o.step, o.payload["person_name"]) for o in task12(preview(rt, date(2023, 11, 22)))
            ] == [("overdue:2", "Nguyễn Quốc Bảo")]
    assert task12(preview(rt, date(2023, 11, 23))) == []


# ---------------------------------------------------------------- catch-up, horizon, keys


def test_catch_up_emits_the_latest_step_only(rt: Runtime) -> None:
    load_demo(rt)
    code = "bc-kh-147-2023"  # due Tuesday 21/11/2023
    # Down since before 14/11: 'còn 7 ngày' and 'còn 3 ngày' are stale, only 'còn 1 ngày' goes.
    occs = due_occurrences(rt, at("2023-11-20T09:00"), unit="vinh-thanh")
    assert {(s, n) for s, n, _c in of(occs, code)} == {("before:1", n) for n in TU_PHAP}
    assert {o.send_on for o in occs if o.payload["code"] == code} == {date(2023, 11, 20)}
    # Down until 01/12 (8 working days late): the latest repeat, and the escalation.
    late = of(due_occurrences(rt, at("2023-12-01T09:00"), unit="vinh-thanh"), code)
    assert {s for s, _n, _c in late} == {"overdue:8", "escalate"}
    # `catch_up: all` sends every missed repeat — never the stale pre-due steps.
    rules = load_reminder_rules().model_copy(update={"overdue": OverdueRule(catch_up="all")})
    every = of(due_occurrences(rt, at("2023-12-01T09:00"), unit="vinh-thanh", rules=rules),
               code)
    assert {s for s, _n, _c in every} == {"overdue:2", "overdue:4", "overdue:6", "overdue:8",
                                          "escalate"}


def test_fire_time_and_horizon(rt: Runtime) -> None:
    load_demo(rt)
    code = "bc-kh-147-2023"
    assert of(due_occurrences(rt, at("2023-11-14T07:59")), code) == set()
    assert of(due_occurrences(rt, at("2023-11-14T08:00")), code) != set()
    assert of(due_occurrences(rt, at("2023-11-13T09:00")), code) == set()
    ahead = due_occurrences(rt, at("2023-11-13T09:00"), horizon_days=1)
    assert {s for s, _n, _c in of(ahead, code)} == {"before:7"}
    # A week ahead: every coming step, each on its day.
    week = [o for o in due_occurrences(rt, at("2023-11-13T09:00"), horizon_days=8)
            if o.payload["code"] == code and o.payload["person_name"] == "Nguyễn Văn Sỹ"]
    assert [(o.step, o.send_on.day) for o in week] == [
        ("before:7", 14), ("before:3", 17), ("before:1", 20), ("due", 21)]


def test_output_is_deterministic_and_keys_unique(rt: Runtime) -> None:
    load_demo(rt)
    now = at("2023-12-20T09:00")
    first = due_occurrences(rt, now)
    assert first == due_occurrences(rt, now)
    keys = [o.idempotency_key for o in first]
    assert len(keys) == len(set(keys)) > 10
    assert all(o.not_before <= now for o in first)
    assert due_occurrences(rt, now, unit="nha-trang") == []
    with pytest.raises(NotFound):
        due_occurrences(rt, now, unit="khong-co")


# ---------------------------------------------------------------- the fast path, checked


Expected = tuple[set[tuple[object, ...]], set[tuple[object, ...]]]


def reference_plan(rt: Runtime, now: datetime, rules: ReminderRules) -> Expected:
    """What `plan_reminders(rt, now, rules=rules)` must say, computed item by item from the
    rules functions and the ORM people index: nothing shared between items, dates, units or
    calls, no date window. The planner's per-date steps, per-owner recipients, bulk rows and
    payloads (every key) are checked against it."""
    cal, today = rt.calendar, local_date(now)
    occurrences: set[tuple[object, ...]] = set()
    unresolved: set[tuple[object, ...]] = set()
    with rt.db.read() as s:
        units = {u.id: u for u in s.scalars(select(Unit))}
        items: list[tuple[str, int, int, date, str | None, str, dict[str, object]]] = []
        if "task" in rules.items:
            for t, pt in s.execute(select(Task, PlanTask).join(
                    PlanTask, (PlanTask.plan_id == Task.plan_id) & (PlanTask.code == Task.code))
                    .where(Task.due_on.is_not(None))):
                if not pt.retired and not rt.machine.is_done(t.state):
                    assert t.due_on is not None
                    u = units[t.unit_id]
                    payload: dict[str, object] = {
                        "kind": "task", "title": pt.text.strip().splitlines()[0].strip(),
                        "unit": u.slug, "unit_name": f"{u.kind} {u.name}", "plan": t.plan_id,
                        "code": t.code, "recipient_body": "", "document": pt.product or "",
                        "link": f"/units/{u.slug}/tasks/{t.plan_id}/{t.code}"
                                + (f"~{t.occurrence}" if t.occurrence else ""),
                        "item_owner": t.owner}
                    if t.occurrence:
                        payload["period"] = t.occurrence
                    items.append(("task", t.id, t.unit_id, t.due_on, t.owner, t.code, payload))
        if "obligation" in rules.items:
            for d, o in s.execute(select(ObligationDue, Obligation).join(
                    Obligation, Obligation.id == ObligationDue.obligation_id)
                    .where(ObligationDue.state == PENDING)):
                if not o.retired:
                    u = units[o.unit_id]
                    payload = {
                        "kind": "obligation",
                        "title": o.title if o.schedule == "once"
                        else f"{o.title} ({period_label(d.period_key)})",
                        "unit": u.slug, "unit_name": f"{u.kind} {u.name}",
                        "plan": o.source_plan, "code": o.code, "period": d.period_key,
                        "recipient_body": o.recipient, "document": o.title,
                        "link": due_link(u.slug, d.id), "item_owner": d.owner or o.owner}
                    items.append(("obligation", d.id, o.unit_id, d.due_on, d.owner or o.owner,
                                  o.code, payload))
        for kind, item_id, unit_id, due_on, owner, code, payload in items:
            if past_reminding(due_on, today, rules, cal):
                continue
            index = owner_indexes(s, [unit_id])[unit_id]
            owners = index.resolve(owner)
            reach = [(p, first_channel(p)) for p in owners if first_channel(p) is not None]
            slug = units[unit_id].slug
            for step in select_fired(owner_steps(due_on, rules, cal), now, rules, now):
                if not reach:
                    unresolved.add((slug, kind, item_id, code, owner, step.name, due_on,
                                    step.send_on))
                for p, channel in reach:
                    full = {**payload, "days": step.days, "person_name": p.name,
                            "escalation": False}
                    occurrences.add((kind, item_id, due_on, step.name, step.send_on,
                                     step.fire_at, p.id, channel, unit_id, tuple(full.items())))
            esc = escalation_step(due_on, rules, cal)
            if esc is None or esc.fire_at > now:
                continue
            leader = index.leader
            if leader is None or first_channel(leader) is None:
                unresolved.add((slug, kind, item_id, code, owner, esc.name, due_on,
                                esc.send_on))
            elif leader not in owners:
                full = {**payload, "days": esc.days, "person_name": leader.name,
                        "escalation": True}
                occurrences.add((kind, item_id, due_on, esc.name, esc.send_on, esc.fire_at,
                                 leader.id, first_channel(leader), unit_id,
                                 tuple(full.items())))
    return occurrences, unresolved


def planned(rt: Runtime, now: datetime, rules: ReminderRules) -> Expected:
    plan = plan_reminders(rt, now, rules=rules)
    # The sweep's plain rows: the same occurrences, fields and payloads, in the same order.
    rows = due_rows(rt, now, rules=rules)
    assert all(type(r) is tuple for r in rows)
    assert [(*o[:9], *o[10:], o.payload) for o in map(new_occurrence, rows)] == [
        (*o[:9], *o[10:], o.payload) for o in plan.occurrences]
    payloads = [o.payload for o in plan.occurrences]  # each its own dict, none shared
    assert len({id(p) for p in payloads}) == len(payloads)
    assert plan.occurrences == sorted(plan.occurrences, key=attrgetter(
        "send_on", "unit_id", "person_id", "channel", "item_kind", "due_on", "item_id", "step"))
    got: set[tuple[object, ...]] = {
        (o.item_kind, o.item_id, o.due_on, o.step, o.send_on, o.not_before, o.person_id,
         o.channel, o.unit_id, tuple(o.payload.items()))  # every key, in order
        for o in plan.occurrences}
    assert len(got) == len(plan.occurrences)
    # Unresolved items unit by unit (tasks, then reports), each item's steps in order.
    with rt.db.read() as s:
        unit_ids = dict(s.execute(select(Unit.slug, Unit.id)).all())
    assert [unit_ids[u.unit] for u in plan.unresolved] == sorted(
        unit_ids[u.unit] for u in plan.unresolved)
    for slug in {u.unit for u in plan.unresolved}:
        kinds = [u.item_kind for u in plan.unresolved if u.unit == slug]
        assert kinds == sorted(kinds, key=lambda k: k != "task")
    return got, {(u.unit, u.item_kind, u.item_id, u.code, u.owner, u.step, u.due_on, u.send_on)
                 for u in plan.unresolved}


def test_planner_matches_the_item_by_item_reference(rt: Runtime) -> None:
    """Every optimisation of the planner (steps per due date, recipients per unit and owner,
    plain rows, the collector paused) gives what the rules say item by item — with two rules
    files used in turn, so nothing of one call leaks into the next."""
    load_demo(rt)
    # A second commune, with the same plans and reports but other people: a leader who is not
    # the demo's, one Tư pháp officer, nobody for the other titles.
    upsert_units(rt, [UnitSpec.model_validate({
        "slug": "vinh-luong", "name": "Vĩnh Lương", "kind": "xã", "parent": "nha-trang",
        "leader": "Lê Văn Tám"})])
    api.load_plans(rt, ["vinh-luong"], [DEMO_BUNDLE / f for f in PLAN_FILES])
    load_obligations(rt, "vinh-luong", DEMO_BUNDLE / "obligations-2023.yaml")
    add_person(rt, unit="vinh-luong", name="Lê Văn Tám", role="leader",
               title="Chủ tịch UBND xã", email="tamlv@vinhluong.example.vn")
    add_person(rt, unit="vinh-luong", name="Đỗ Thị Hoa", title="Công chức Tư pháp - Hộ tịch",
               phone="0905123456", email="hoadt@vinhluong.example.vn")
    # Some items nobody can receive, one in the leader's own charge, one person gone.
    api.assign(rt, TASK12, "Công chức Quân sự", LEADER)
    api.assign(rt, TaskKey("vinh-thanh", "cchc-2023", "13"), "Chủ tịch UBND xã", LEADER)
    add_person(rt, unit="vinh-thanh", name="Nguyễn Thị Bích Nhi", active=False,
               title="Công chức Tư pháp - Hộ tịch", email="nhintb@vinhthanh.example.vn")
    default = load_reminder_rules()
    other = default.model_copy(update={
        "before_due_days": [5, 0], "items": ["obligation", "task"],
        "overdue": OverdueRule(every_working_days=3, stop_after_working_days=30,
                               catch_up="all"),
        "escalation": EscalationRule(after_working_days=5)})
    days = ["2023-06-20T08:30", "2023-09-29T08:00", "2023-11-14T09:00", "2023-11-29T08:30",
            "2023-12-22T08:30", "2024-01-05T16:00"]
    seen = 0
    for iso in days:
        for rules in (default, other, default):
            expected = reference_plan(rt, at(iso), rules)
            assert planned(rt, at(iso), rules) == expected, (iso, rules.overdue)
            seen += len(expected[0])
    assert seen > 100
    assert any(planned(rt, at(iso), default)[1] for iso in days)  # unresolved ones checked too


def test_recipients_follow_every_change_between_plans(rt: Runtime) -> None:
    """Who is reminded is kept per unit between plans (`engine.reminders.recipients`), but
    only while the unit's people rows and leader are unchanged: each change shows at once."""
    load_demo(rt)
    code, day = "bc-kh-147-2023", date(2023, 11, 14)
    assert of(preview(rt, day), code) == {("before:7", "Nguyễn Thị Bích Nhi", "zalo"),
                                          ("before:7", "Nguyễn Văn Sỹ", "email")}
    def sy(title: str, channels: list[str]) -> None:
        add_person(rt, unit="vinh-thanh", name="Nguyễn Văn Sỹ", title=title,
                   email="synv@vinhthanh.example.vn", phone="0935 110 105", channels=channels)

    sy("Công chức Tư pháp - Hộ tịch", ["zalo", "email"])  # now prefers Zalo
    assert of(preview(rt, day), code) == {("before:7", "Nguyễn Thị Bích Nhi", "zalo"),
                                          ("before:7", "Nguyễn Văn Sỹ", "zalo")}
    sy("Công chức Văn hóa - Xã hội", ["email", "zalo"])  # moved
    assert of(preview(rt, day), code) == {("before:7", "Nguyễn Thị Bích Nhi", "zalo")}
    add_person(rt, unit="vinh-thanh", name="Nguyễn Thị Bích Nhi", active=False,
               title="Công chức Tư pháp - Hộ tịch", email="nhintb@vinhthanh.example.vn")
    plan = preview_plan(rt, day)
    assert of(plan.occurrences, code) == set()
    assert [(u.code, u.step) for u in plan.unresolved] == [(code, "before:7")]
    # The escalation of the June report follows the unit's named leader.
    june = date(2023, 6, 20)
    assert {(s, n) for s, n, _c in of(preview(rt, june), "bc-kh-140-2023")} == {
        ("escalate", "Nguyễn Quốc Bảo")}
    upsert_units(rt, [UnitSpec.model_validate({
        "slug": "vinh-thanh", "name": "Vĩnh Thạnh", "kind": "xã", "parent": "nha-trang",
        "leader": "Nguyễn Ngọc Thủy"})])
    assert {(s, n) for s, n, _c in of(preview(rt, june), "bc-kh-140-2023")} == {
        ("escalate", "Nguyễn Ngọc Thủy")}


def test_recipients_are_kept_while_the_rows_are_the_same() -> None:
    row = (7, 3, "Lê Văn A", "officer", "Công chức Tư pháp - Hộ tịch", "a@x.example.vn", None,
           None, '["email"]', True)
    first = unit_recipients("sqlite:///kept-test", {3: None}, [row])[3]
    assert first.reach("công chức tư pháp – hộ tịch") == ([(7, "Lê Văn A", "email")],
                                                         frozenset({7}))
    again = unit_recipients("sqlite:///kept-test", {3: None}, [tuple(row)])[3]
    assert again is first
    other_unit = (8, 4, *row[2:])  # a change in another unit: unit 3's answers stand
    assert unit_recipients("sqlite:///kept-test", {3: None}, [row, other_unit])[3] is first
    no_address = (*row[:5], None, *row[6:])
    changed = unit_recipients("sqlite:///kept-test", {3: None}, [no_address])[3]
    assert changed is not first
    assert changed.reach("Công chức Tư pháp - Hộ tịch") == ([], frozenset({7}))
    assert unit_recipients("sqlite:///kept-test", {3: "Lê Văn A"}, [row])[3] is not first
    assert unit_recipients("sqlite:///other", {3: None}, [row])[3] is not first


def test_plain_rows_are_the_rows_values(rt: Runtime) -> None:
    """The planner's rows straight from the driver (PostgreSQL) or converted (SQLite's dates
    are text): the same values and types as SQLAlchemy's rows."""
    load_demo(rt)
    queries = [task_window_query(rt, date(2023, 1, 1), date(2023, 12, 31), None),
               obligation_window_query(date(2023, 1, 1), date(2023, 12, 31), None)]
    with rt.db.read() as s:
        for q in queries:
            rows = plain_rows(s.connection(), q)
            expected = s.connection().execute(q).all()
            assert len(rows) == len(expected) > 0
            assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
            assert [[type(v) for v in r] for r in rows] == [[type(v) for v in r]
                                                            for r in expected]
            assert all(isinstance(r[3 if q is queries[1] else 5], date) for r in rows)


def test_the_collector_is_switched_back_on(rt: Runtime) -> None:
    load_demo(rt)
    assert gc.isenabled()
    assert plan_reminders(rt, at("2023-11-14T09:00")).occurrences
    assert gc.isenabled()
    with pytest.raises(NotFound):
        plan_reminders(rt, at("2023-11-14T09:00"), unit="khong-co")
    assert gc.isenabled()
    gc.disable()  # a caller that runs without it keeps it off
    try:
        plan_reminders(rt, at("2023-11-14T09:00"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_large_plan_goes_to_the_oldest_generation(rt: Runtime,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `PROMOTE_AFTER` young objects the plan is moved to the oldest generation (no young
    collection walks it); below, the collector is left as it was; a freeze is kept."""
    load_demo(rt)
    now = at("2023-11-14T09:00")

    def oldest(obj: object) -> bool:
        return any(o is obj for o in gc.get_objects(generation=2))

    gc.collect()
    small = plan_reminders(rt, now)
    assert small.occurrences and not oldest(small.occurrences[0])  # the demo's plan: young
    monkeypatch.setattr(planner, "PROMOTE_AFTER", 0)
    gc.collect()
    large = plan_reminders(rt, now)
    assert large.occurrences == small.occurrences
    assert oldest(large.occurrences[0]) and oldest(large.occurrences[-1][9])
    assert gc.isenabled()
    gc.freeze()  # as `cchc` does on exit, or a server before forking
    try:
        frozen = gc.get_freeze_count()
        assert plan_reminders(rt, now).occurrences == small.occurrences
        assert gc.get_freeze_count() > frozen // 2  # not unfrozen (a few may have been freed)
    finally:
        gc.unfreeze()


# ---------------------------------------------------------------- speed


def test_queries_use_the_due_date_indexes(rt: Runtime) -> None:
    lo, hi = date(2023, 9, 1), date(2023, 12, 31)
    eng = rt.db.engine
    queries = [(task_window_query(rt, lo, hi, None), "ix_tasks_due_on_state"),
               (obligation_window_query(lo, hi, None), "ix_obligation_dues_state_due_on")]
    with eng.connect() as conn:
        if rt.db.is_sqlite:
            explain = "EXPLAIN QUERY PLAN "
        else:  # an empty table is cheaper to scan: ask whether the index CAN serve the query
            conn.execute(text("SET enable_seqscan = off"))
            explain = "EXPLAIN "
        for q, index in queries:
            sql = str(q.compile(eng, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in conn.execute(text(explain + sql)))
            assert index in plan, plan


@pytest.mark.slow
def test_many_units_one_query_per_batch(sqlite_rt: Runtime) -> None:
    """300 units × 124 tasks (every task dated) and 10 people each: a sweep stays fast."""
    rt = sqlite_rt
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    n = 300
    with rt.db.transaction() as s:
        parent = s.scalar(select(Unit.id).where(Unit.slug == "nha-trang"))
        s.execute(insert(Unit), [
            {"slug": f"xa-{i:04d}", "name": f"Số {i}", "kind": "xã", "parent_id": parent,
             "leader": "Nguyễn Quốc Bảo", "created_at": rt.now()} for i in range(1, n)])
    slugs = ["vinh-thanh"] + [f"xa-{i:04d}" for i in range(1, n)]
    api.load_plans(rt, slugs, [DEMO_BUNDLE / f for f in PLAN_FILES])
    people = load_model(PeopleFile, DEMO_BUNDLE / "people.yaml").people
    with rt.db.transaction() as s:
        ids = [uid for (uid,) in s.execute(select(Unit.id).where(Unit.slug.in_(slugs)))]
        s.execute(insert(Person), [
            {"unit_id": uid, "name": p.name, "role": p.role, "title": p.title,
             "email": p.email, "phone": p.phone, "zalo_user_id": p.zalo_user_id,
             "channels": p.preferred_channels, "active": True, "created_at": rt.now()}
            for uid in ids for p in people if p.unit is None])
        s.execute(text("UPDATE tasks SET due_on = date('2023-01-01', '+' || (id % 365) "
                       "|| ' days')"))
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    from sqlalchemy import event

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        start = time.perf_counter()
        plan = plan_reminders(rt, at("2023-11-14T09:00"))
        elapsed = time.perf_counter() - start
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)
    print(f"\n{n} units, {n * 124} tasks: {len(plan.occurrences)} reminders from "
          f"{plan.items} items in the window, {len(statements)} queries, {elapsed:.2f}s")
    assert plan.items > n * 124 // 4
    assert len(plan.occurrences) > n * 20
    assert len(statements) < 12  # windows, plan texts, units, people+leaders per batch
    assert elapsed < 10


def test_end_of_day_is_vietnam_time() -> None:
    assert end_of_day(date(2023, 11, 14)) == at("2023-11-14T23:59:59")
    assert end_of_day(date(2023, 11, 14)).utcoffset() == timedelta(hours=7)


# ---------------------------------------------------------------- the commands


def test_cli_reminders_people_obligations(tmp_path: Path) -> None:
    import json
    import re

    import typer
    from typer.testing import CliRunner

    from cli.reminders import obligation_app, people_app, reminders_app

    app = typer.Typer()
    app.add_typer(reminders_app, name="reminders")
    app.add_typer(people_app, name="people")
    app.add_typer(obligation_app, name="obligation")
    runner = CliRunner()
    env = {"CCHC_DATABASE_URL": f"sqlite:///{tmp_path / 'cchc.sqlite3'}", "COLUMNS": "200",
           "CCHC_ACTOR": None, "CCHC_ROLE": None}

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return re.sub(r"\s+", " ", result.stdout + result.stderr)

    rt_out = run("people", "load", str(DEMO_BUNDLE / "people.yaml"), code=2)
    assert "Không tìm thấy đơn vị" in rt_out  # units first
    from engine.runtime import open_runtime

    rt = open_runtime(env["CCHC_DATABASE_URL"], clock=lambda: at("2023-09-20T09:00"))
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    rt.db.dispose()
    assert "thêm 11" in run("people", "load", str(DEMO_BUNDLE / "people.yaml"))
    out = run("people", "add", "vinh-thanh", "Nguyễn Văn A", "--phone", "0212 345 678", code=2)
    assert "không phải số di động" in out and "Không có thay đổi nào được ghi" in out
    assert "84905110104" in run("people", "list", "--unit", "vinh-thanh")
    assert "thêm 5 kỳ báo cáo" in run("obligation", "load", "vinh-thanh",
                                     str(DEMO_BUNDLE / "obligations-2023.yaml"))
    out = run("reminders", "preview", "--date", "2023-11-14", "--unit", "vinh-thanh")
    assert "Ngày gửi" in out and "Trước hạn 7 ngày" in out and "Nguyễn Văn Sỹ" in out
    assert "14/11/2023" in out and "21/11/2023" in out
    data = json.loads(run("reminders", "preview", "--date", "14/11/2023", "--json"))
    assert {r["step"] for r in data["reminders"]} == {"before:7"}  # 140-H1: past 60 days
    run("reminders", "preview", "--date", "2023-02-30", code=2)
    out = run("obligation", "submit", "vinh-thanh", "bc-kh-138-2023", "2023", "--doc",
              "Báo cáo số 1050/BC-UBND ngày 35/12/2023", "--at", "2023-12-10T09:00", code=2)
    assert "không tồn tại" in out
    out = run("obligation", "submit", "vinh-thanh", "bc-kh-138-2023", "2023", "--doc",
              "Báo cáo số 1050/BC-UBND ngày 05/12/2023", "--at", "2023-12-10T09:00")
    assert "Đã gửi đúng hạn" in out
    rows = json.loads(run("obligation", "list", "vinh-thanh", "--json"))
    assert [r["state"] for r in rows if r["code"] == "bc-kh-138-2023"] == ["submitted"]
    assert "Đã gửi đúng hạn" in run("obligation", "history", "vinh-thanh", "bc-kh-138-2023",
                                   "2023")
    assert "hợp lệ" in run("reminders", "rules")
