"""Recurring work ("Hằng quý", "Định kỳ hàng tháng"): one task row per period, each with its own
due date, state, evidence, history, report row and reminders (issue 8 item 3).

The unit is xã Vĩnh Thạnh of the demo bundle (cut-off on the 13th: its Q1-2023 report runs
14/12/2022 – 13/3/2023, Q2 14/3 – 13/6). Task 7 of its CCHC plan is "Định kỳ hàng quý", task 6
"Định kỳ hàng tháng", task 4 "Thường xuyên", task 12 "Quý IV/2023". Storage tests run on SQLite
and PostgreSQL (`rt`).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from conftest import Clock
from sqlalchemy import select, update
from typer.testing import CliRunner

from cli.main import app
from engine import api
from engine.domain.occurrences import occurrence_end, pick, planned
from engine.domain.rollover import roll_over
from engine.errors import ValidationFailed
from engine.reminders.planner import preview
from engine.reporting.snapshot.build import build_snapshot
from engine.reporting.snapshot.store import canonical_json, freeze, frozen_snapshot
from engine.runtime import Runtime
from engine.storage.models import Task, TaskHistory
from plans import DEMO_BUNDLE

UNIT = "vinh-thanh"
PLAN = "cchc-2023"
OFFICER = api.Actor("Công chức Văn phòng - Thống kê", "officer")
LEADER = api.Actor("Nguyễn Quốc Bảo", "leader")
QUARTERLY, MONTHLY, ONGOING, ONE_OFF = "7", "6", "4", "12"


def key(code: str, occurrence: str | None = None) -> api.TaskKey:
    return api.TaskKey(UNIT, PLAN, code, occurrence)


def rows(rt: Runtime, code: str) -> list[tuple[str, str, date | None]]:
    with rt.db.read() as s:
        return [tuple(r) for r in s.execute(  # type: ignore[misc]
            select(Task.occurrence, Task.state, Task.due_on)
            .where(Task.plan_id == PLAN, Task.code == code).order_by(Task.occurrence))]


def row_of(snap_rt: Runtime, period: str, code: str) -> tuple[bool, str, date | None]:
    snap = build_snapshot(snap_rt, UNIT, period)
    appendix = next(a for a in snap.appendices if a.plan_id == PLAN)
    t = next(t for t in appendix.all_tasks() if t.code == code)
    return t.done, t.result.split("\n- ")[0], t.due  # the result, without evidence lines


@pytest.fixture
def vt(rt: Runtime, clock: Clock) -> Runtime:
    clock.set("2023-03-01T09:00")
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    api.load_plans(rt, [UNIT], [DEMO_BUNDLE / "cchc-2023.yaml"])
    return rt


def test_a_recurring_task_has_one_row_per_period_of_the_plan_year(vt: Runtime) -> None:
    assert rows(vt, QUARTERLY) == [
        ("2023-Q1", "not_started", date(2023, 3, 31)),
        ("2023-Q2", "not_started", date(2023, 6, 30)),
        ("2023-Q3", "not_started", date(2023, 9, 30)),
        ("2023-Q4", "not_started", date(2023, 12, 31)),
    ]
    monthly = rows(vt, MONTHLY)
    assert [o for o, _s, _d in monthly] == [f"2023-M{m:02d}" for m in range(1, 13)]
    assert monthly[1][2] == date(2023, 2, 28)
    assert rows(vt, ONGOING) == [("", "not_started", None)]
    assert rows(vt, ONE_OFF) == [("", "not_started", date(2023, 12, 31))]
    # reloading the same file adds nothing
    api.load_plans(vt, [UNIT], [DEMO_BUNDLE / "cchc-2023.yaml"])
    assert len(rows(vt, QUARTERLY)) == 4


def test_done_in_q1_is_not_done_in_q2_and_the_frozen_q1_report_stays(
        vt: Runtime, clock: Clock) -> None:
    clock.set("2023-03-10T09:00")
    change = api.transition(vt, key(QUARTERLY), "complete", OFFICER,
                            evidence=["Kế hoạch số 223/KH-UBND ngày 06/3/2023"],
                            result="Đã đánh giá quý I")
    assert change.key.occurrence == "2023-Q1"  # the quarter of the day it was recorded
    assert [s for _o, s, _d in rows(vt, QUARTERLY)] == ["done", "not_started", "not_started",
                                                        "not_started"]
    clock.set("2023-03-20T09:00")
    q1 = freeze(vt, build_snapshot(vt, UNIT, "2023-Q1"), "Nguyễn Quốc Bảo")
    assert row_of(vt, "2023-Q1", QUARTERLY)[:2] == (True, "Đã đánh giá quý I")

    clock.set("2023-05-10T09:00")
    assert api.get_task(vt, key(QUARTERLY)).occurrence == "2023-Q2"
    assert api.get_task(vt, key(QUARTERLY)).state == "not_started"
    assert row_of(vt, "2023-Q2", QUARTERLY) == (False, "", date(2023, 6, 30))

    clock.set("2023-07-05T09:00")  # Q2's occurrence is late; Q3's is open
    api.transition(vt, key(QUARTERLY, "2023-Q3"), "complete", OFFICER,
                   evidence=["Báo cáo số 81/BC-UBND ngày 03/7/2023"], result="Quý III")
    listed = [(v.occurrence, v.timeliness) for v in api.list_tasks(vt, UNIT, plan=PLAN)
              if v.code == QUARTERLY]
    assert listed == [("2023-Q3", "done_on_time")]  # the occurrence in force
    assert [v.occurrence for v in api.list_tasks(vt, UNIT, plan=PLAN, overdue=True)
            if v.code == QUARTERLY] == ["2023-Q2"]  # the late one, in the overdue list
    from engine.reporting import dashboard

    [cchc] = dashboard.plan_progress(vt, UNIT)
    assert (cchc.total, cchc.done) == (23, 1)  # counted once, as its occurrence in force
    assert cchc.overdue == len(api.list_tasks(vt, UNIT, plan=PLAN, overdue=True))

    stored = frozen_snapshot(vt, UNIT, "2023-Q1")
    assert stored is not None and canonical_json(stored) == canonical_json(q1)
    assert api.take_snapshot(vt, UNIT, "2023-Q1") == q1


def test_the_overdue_q2_occurrence_gets_reminders_and_the_done_q1_none(
        vt: Runtime, clock: Clock) -> None:
    from engine.directory.people import load_people_file

    load_people_file(vt, DEMO_BUNDLE / "people.yaml")
    clock.set("2023-03-10T09:00")
    api.transition(vt, key(QUARTERLY), "complete", OFFICER,
                   evidence=["Kế hoạch số 223/KH-UBND ngày 06/3/2023"], result="Quý I")
    ids = {o: tid for o, tid in _ids(vt, QUARTERLY)}

    def reminded(on: date) -> set[tuple[int, date, str]]:
        return {(o.item_id, o.due_on, o.payload["link"]) for o in preview(vt, on, UNIT)
                if o.item_kind == "task" and o.payload["code"] == QUARTERLY}

    assert reminded(date(2023, 3, 24)) == set()  # Q1 is done: no "before" step
    q2 = (ids["2023-Q2"], date(2023, 6, 30), f"/units/{UNIT}/tasks/{PLAN}/7~2023-Q2")
    assert reminded(date(2023, 6, 23)) == {q2}  # a week before the end of Q2
    late = [o for o in preview(vt, date(2023, 7, 4), UNIT)
            if o.item_kind == "task" and o.payload["code"] == QUARTERLY]
    assert {(o.item_id, o.step.split(":")[0]) for o in late} == {(ids["2023-Q2"], "overdue")}
    assert all(o.payload["period"] == "2023-Q2" for o in late)


def _ids(rt: Runtime, code: str) -> list[tuple[str, int]]:
    with rt.db.read() as s:
        return [(o, i) for o, i in s.execute(
            select(Task.occurrence, Task.id).where(Task.plan_id == PLAN, Task.code == code))]


def test_monthly_occurrences_are_named_and_reported_by_month(vt: Runtime,
                                                              clock: Clock) -> None:
    clock.set("2023-04-05T09:00")
    # February's meeting recorded in April, named explicitly; March's by its date
    api.transition(vt, key(MONTHLY, "2023-m2"), "complete", OFFICER,
                   evidence=["Thông báo số 12/TB-UBND ngày 10/02/2023"], result="Tháng 2")
    change = api.transition(vt, key(MONTHLY), "import_done",
                            api.Actor("Nhập liệu", "system"), result="Tháng 3",
                            on=date(2023, 3, 30))
    assert change.key.occurrence == "2023-M03"
    states = {o: s for o, s, _d in rows(vt, MONTHLY)}
    assert (states["2023-M02"], states["2023-M03"], states["2023-M04"]) == (
        "done", "done", "not_started")
    # the month in force at the cut-off: M02 for its own report (14/1 – 13/2), M03 for Q1
    # (ends 13/3: done on 30/3, after it), M06 for Q2 (ends 13/6)
    assert row_of(vt, "2023-M02", MONTHLY)[:2] == (True, "Tháng 2")
    assert row_of(vt, "2023-Q1", MONTHLY) == (False, "", date(2023, 3, 31))
    assert row_of(vt, "2023-Q2", MONTHLY) == (False, "", date(2023, 6, 30))
    with pytest.raises(ValidationFailed) as refused:
        api.transition(vt, key(MONTHLY, "2023-Q2"), "start", OFFICER)
    assert refused.value.field == "occurrence"
    assert "các kỳ: 2023-M01" in refused.value.message_vi
    with pytest.raises(ValidationFailed) as refused:
        api.get_task(vt, key(ONE_OFF, "2023-Q1"))
    assert "không lặp lại" in refused.value.message_vi


def test_the_cumulative_view_counts_every_occurrence_so_far(
        vt: Runtime, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock.set("2023-03-10T09:00")
    api.transition(vt, key(QUARTERLY), "complete", OFFICER,
                   evidence=["Kế hoạch số 223/KH-UBND ngày 06/3/2023"], result="Quý I")
    clock.set("2023-09-20T09:00")
    api.transition(vt, key(QUARTERLY, "2023-Q3"), "complete", OFFICER,
                   evidence=["Báo cáo số 81/BC-UBND ngày 03/7/2023"], result="Quý III")
    definition = tmp_path / "bao-cao.yaml"
    definition.write_text(
        "schema_version: 1\nid: luy-ke\ntitle: Báo cáo lũy kế\nappendices:\n"
        "  - number: 1\n    plan_kinds: [cchc]\n    cumulative: true\n", encoding="utf-8")
    assert row_of(vt, "2023-Q3", QUARTERLY)[0] is True  # the Q3 occurrence alone
    monkeypatch.setenv("CCHC_REPORT_DEFINITION", str(definition))
    snap = build_snapshot(vt, UNIT, "2023-Q3")
    row = next(t for t in snap.appendices[0].all_tasks() if t.code == QUARTERLY)
    # Q1 and Q2 are due by 13/9, Q2 is not done: the year so far is not done
    assert (row.done, row.due, row.timeliness) == (False, date(2023, 6, 30), "open_overdue")
    assert row.result.splitlines() == [
        "Lũy kế: đã thực hiện 1/2 kỳ",
        "Quý I năm 2023: Quý I", "- Kế hoạch số 223/KH-UBND ngày 06/3/2023",
        "Quý III năm 2023: Quý III", "- Báo cáo số 81/BC-UBND ngày 03/7/2023"]
    assert row.evidence == ["Kế hoạch số 223/KH-UBND ngày 06/3/2023",
                            "Báo cáo số 81/BC-UBND ngày 03/7/2023"]
    assert snap.appendices[0].total == 23  # one row per task, not per occurrence


def test_ongoing_work_is_its_own_kind(vt: Runtime) -> None:
    view = api.get_task(vt, key(ONGOING))
    assert (view.deadline, view.due_on, view.timeliness) == ("Thường xuyên", None, "ongoing")
    from engine.domain.timeliness import TIMELINESS_LABELS_VI, Timeliness

    assert TIMELINESS_LABELS_VI[Timeliness(view.timeliness or "")] == "Thường xuyên"
    assert all(v.timeliness != "open_overdue" for v in api.list_tasks(vt, UNIT)
               if v.deadline == "Thường xuyên")


def test_rollover_regenerates_the_occurrences_of_the_new_year(
        vt: Runtime, clock: Clock, tmp_path: Path) -> None:
    clock.set("2024-01-10T09:00")
    rolled = roll_over(vt, UNIT, PLAN, year=2024,
                       issued_by="Kế hoạch số 5/KH-UBND ngày 08/01/2024", out_dir=tmp_path,
                       new_id="cchc-2024", carry=[QUARTERLY])
    assert rolled.carried == (f"{UNIT}:{QUARTERLY}",)
    # the last quarter of 2023 continues in the first of 2024, each side saying so
    new_plan = rolled.loaded.plan_id
    assert [h.note for h in api.history(vt, api.TaskKey(UNIT, new_plan, QUARTERLY, "2024-Q1"))
            ] == [f"Chuyển tiếp từ nhiệm vụ 7 của kế hoạch {PLAN} (Chưa triển khai)"]
    assert [h.note for h in api.history(vt, key(QUARTERLY, "2023-Q4"))] == [
        f"Chuyển tiếp sang nhiệm vụ 7 của kế hoạch {new_plan}"]
    with vt.db.read() as s:
        new = list(s.execute(select(Task.occurrence, Task.due_on).where(
            Task.plan_id == "cchc-2024@vinh-thanh", Task.code == QUARTERLY)
            .order_by(Task.occurrence)))
    if not new:  # a framework id (no owner in the demo file)
        with vt.db.read() as s:
            new = list(s.execute(select(Task.occurrence, Task.due_on).where(
                Task.plan_id == "cchc-2024", Task.code == QUARTERLY)
                .order_by(Task.occurrence)))
    assert [tuple(r) for r in new] == [("2024-Q1", date(2024, 3, 31)),
                                       ("2024-Q2", date(2024, 6, 30)),
                                       ("2024-Q3", date(2024, 9, 30)),
                                       ("2024-Q4", date(2024, 12, 31))]


def test_a_row_stored_before_occurrences_becomes_its_period_with_its_history(
        vt: Runtime, clock: Clock) -> None:
    clock.set("2023-05-10T09:00")
    api.transition(vt, key(QUARTERLY, "2023-Q2"), "start", OFFICER, note="Đang đánh giá")
    with vt.db.transaction() as s:  # the shape a database had before migration 0010
        s.execute(update(Task).where(Task.plan_id == PLAN, Task.code == QUARTERLY,
                                     Task.occurrence == "2023-Q2").values(occurrence=""))
        ids = [tid for tid, in s.execute(select(Task.id).where(
            Task.plan_id == PLAN, Task.code == QUARTERLY, Task.occurrence != ""))]
        s.query(Task).filter(Task.id.in_(ids)).delete()
    api.load_plans(vt, [UNIT], [DEMO_BUNDLE / "cchc-2023.yaml"])  # the next load adopts it
    assert [(o, s) for o, s, _d in rows(vt, QUARTERLY)] == [
        ("2023-Q1", "not_started"), ("2023-Q2", "in_progress"), ("2023-Q3", "not_started"),
        ("2023-Q4", "not_started")]
    with vt.db.read() as s:
        kept = s.scalars(select(TaskHistory.note).join(Task, Task.id == TaskHistory.task_id)
                         .where(Task.code == QUARTERLY, Task.occurrence == "2023-Q2")).all()
    assert kept == ["Đang đánh giá"]


def test_occurrence_helpers() -> None:
    assert planned("Hằng quý", 2026, date(2026, 7, 1), date(2026, 12, 31)) == [
        ("2026-Q3", date(2026, 9, 30)), ("2026-Q4", date(2026, 12, 31))]
    assert planned("6 tháng một lần", 2026) == [("2026-H1", date(2026, 6, 30)),
                                               ("2026-H2", date(2026, 12, 31))]
    assert planned("Hằng năm", 2026) == [("2026-Y", date(2026, 12, 31))]
    assert planned("Quý III/2026", 2026) == [("", date(2026, 9, 30))]
    codes = ["2026-Q3", "2026-Q4"]
    assert (pick(codes, date(2026, 2, 1)), pick(codes, date(2026, 11, 1)),
            pick(codes, date(2027, 2, 1))) == ("2026-Q3", "2026-Q4", "2026-Q4")
    assert occurrence_end("2026-m3") == date(2026, 3, 31)
    with pytest.raises(ValidationFailed):
        occurrence_end("2026-M13")
    with pytest.raises(ValidationFailed):
        occurrence_end("quý 1")


def test_cli_names_an_occurrence_with_ky(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cchc.sqlite3'}"
    runner = CliRunner()
    env = {"CCHC_DATABASE_URL": db, "COLUMNS": "200"}

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result.stdout + result.stderr

    run("db", "init")
    run("unit", "load", str(DEMO_BUNDLE / "units.yaml"))
    run("plan", "load", UNIT, "-f", str(DEMO_BUNDLE / "cchc-2023.yaml"),
        "--at", "2023-03-01T09:00")
    out = run("task", "done", UNIT, PLAN, QUARTERLY, "--ky", "2023-Q2",
              "--doc", "Kế hoạch số 223/KH-UBND ngày 06/3/2023", "--result", "Quý II",
              "--at", "2023-07-01T09:00")
    assert "kỳ 2023-Q2" in out
    listed = json.loads(run("task", "list", UNIT, "--plan", PLAN, "--ky", "2023-Q2", "--json",
                            "--at", "2023-07-01T09:00"))
    assert [(t["occurrence"], t["state"]) for t in listed if t["code"] == QUARTERLY] == [
        ("2023-Q2", "done")]
    shown = run("task", "list", UNIT, "--plan", PLAN, "--at", "2023-07-01T09:00")
    assert "7 (2023-Q3)" in shown
    bad = run("task", "show", UNIT, PLAN, QUARTERLY, "--ky", "2023-Q5", code=2)
    assert "Kỳ của nhiệm vụ" in bad and "2023-Q5" in bad
