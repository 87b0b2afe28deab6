"""Snapshots: the state of every task at a period's cut-off, rebuilt from history, and frozen.

Runs on SQLite and PostgreSQL (`rt`). The unit is xã Vĩnh Thạnh of the demo bundle, whose
province (Khánh Hòa) cuts its data on the 13th, so its Q3-2023 runs 14/6/2023 – 13/9/2023.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import Clock
from sqlalchemy import func, select

from engine import api
from engine.clock import VN_TZ
from engine.directory.units import get_unit
from engine.domain.periods import NATIONAL_CUTOFF_DAY, parse_period
from engine.errors import Conflict, ValidationFailed
from engine.reporting.export import build_table, export_json, read_json
from engine.reporting.snapshot.build import build_snapshot, period_of
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot, SnapshotTask
from engine.reporting.snapshot.store import content_hash, freeze, frozen_snapshot
from engine.runtime import Runtime
from engine.storage.models import Snapshot as SnapshotRow
from plans import DEMO_BUNDLE

UNIT = "vinh-thanh"
PLAN = "cchc-2023"
OFFICER = api.Actor("Công chức Văn phòng - Thống kê", "officer")
LEADER = api.Actor("Nguyễn Quốc Bảo", "leader")


def key(code: str, unit: str = UNIT) -> api.TaskKey:
    return api.TaskKey(unit, PLAN, code)


def complete(rt: Runtime, code: str, doc: str, result: str = "Đã thực hiện",
             unit: str = UNIT) -> api.ChangeResult:
    return api.transition(rt, key(code, unit), "complete", OFFICER, evidence=[doc],
                          result=result)


def task_of(snap: Snapshot, code: str, plan: str = PLAN) -> SnapshotTask:
    appendix = next(a for a in snap.appendices if a.plan_id == plan)
    return next(t for t in appendix.all_tasks() if t.code == code)


def done_codes(snap: Snapshot, plan: str = PLAN) -> set[str]:
    appendix = next(a for a in snap.appendices if a.plan_id == plan)
    return {t.code for t in appendix.all_tasks() if t.done}


@pytest.fixture
def vt(rt: Runtime) -> Runtime:
    """Khánh Hòa > Nha Trang > Vĩnh Thạnh, with the 23-task CCHC plan of 2023."""
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    api.load_plans(rt, [UNIT], [DEMO_BUNDLE / "cchc-2023.yaml"])
    return rt


# ---------------------------------------------------------------- periods


def test_national_periods() -> None:
    q3 = parse_period("2023-Q3")
    assert (q3.start, q3.end) == (date(2023, 6, 15), date(2023, 9, 14))
    h1 = parse_period("2023-H1")
    assert (h1.start, h1.end) == (date(2022, 12, 15), date(2023, 6, 14))
    year = parse_period("2023-Y")
    assert (year.start, year.end) == (date(2022, 12, 15), date(2023, 12, 14))
    assert NATIONAL_CUTOFF_DAY == 14


def test_province_cutoff_reaches_the_commune_and_the_default_is_national(vt: Runtime) -> None:
    api.add_unit(vt, slug="xa-doc-lap", name="Độc Lập", kind="xã")  # no province: national
    api.add_unit(vt, slug="xa-rieng", name="Riêng", kind="xã", parent="nha-trang",
                 report_cutoff_day=12)  # its own setting beats the province's
    cutoffs = {u.slug: u.cutoff_day for u in api.list_units(vt)}
    assert cutoffs == {"khanh-hoa": 13, "nha-trang": 13, "vinh-thanh": 13, "xa-doc-lap": 14,
                       "xa-rieng": 12}
    with vt.db.read() as session:
        periods = {slug: period_of(vt, session, get_unit(session, slug), "2023-Q3")
                   for slug in cutoffs}
    assert (periods["vinh-thanh"].start, periods["vinh-thanh"].end) == (
        date(2023, 6, 14), date(2023, 9, 13))
    assert periods["vinh-thanh"].range_vi == "Từ ngày 14/6/2023 đến 13/9/2023"
    assert (periods["xa-doc-lap"].start, periods["xa-doc-lap"].end) == (
        date(2023, 6, 15), date(2023, 9, 14))
    assert (periods["xa-rieng"].start, periods["xa-rieng"].end) == (
        date(2023, 6, 13), date(2023, 9, 12))
    snap = build_snapshot(vt, UNIT, "2023-Q3")
    assert (snap.start, snap.end, snap.period_label) == (
        date(2023, 6, 14), date(2023, 9, 13), "Quý III năm 2023")


def test_same_document_date_counts_under_the_national_rule_only(vt: Runtime) -> None:
    """A document of 14/9 is inside the national Q3 and after Khánh Hòa's Q3 cut-off."""
    api.add_unit(vt, slug="xa-doc-lap", name="Độc Lập", kind="xã")
    api.load_plans(vt, [UNIT, "xa-doc-lap"], [DEMO_BUNDLE / "cchc-2023.yaml"])
    doc = "Công văn số 1002/UBND ngày 14/9/2023"
    complete(vt, "4", doc)
    complete(vt, "4", doc, unit="xa-doc-lap")
    assert "4" not in done_codes(build_snapshot(vt, UNIT, "2023-Q3"))
    assert "4" in done_codes(build_snapshot(vt, "xa-doc-lap", "2023-Q3"))


# ---------------------------------------------------------------- as of the cut-off


def test_evidence_after_the_cutoff_is_not_counted(vt: Runtime, clock: Clock) -> None:
    """Taken on 20/9 for the period ending 13/9: a document of 15/9 does not count, one of
    13/9 entered late (on 20/9) does."""
    assert vt.today() == date(2023, 9, 20)
    complete(vt, "4", "Công văn số 1001/UBND ngày 15/9/2023", "Đã báo cáo đơn giản hóa TTHC")
    complete(vt, "10", "Kế hoạch số 1000/KH-UBND ngày 13/9/2023", "Đã ban hành kế hoạch")
    assert api.get_task(vt, key("4")).state == "done"  # done today, just not in Q3

    snap = build_snapshot(vt, UNIT, "2023-Q3")
    assert done_codes(snap) == {"10"}
    four, ten = task_of(snap, "4"), task_of(snap, "10")
    assert (four.state, four.done, four.evidence, four.result) == ("not_started", False, [], "")
    assert ten.effective_on == date(2023, 9, 13)
    assert ten.evidence == ["Kế hoạch số 1000/KH-UBND ngày 13/9/2023"]
    appendix = snap.appendices[0]
    assert (appendix.total, appendix.done, appendix.not_done) == (23, 1, 22)

    q4 = build_snapshot(vt, UNIT, "2023-Q4")
    assert done_codes(q4) == {"4", "10"}


def test_what_was_entered_after_the_snapshot_time_is_not_in_it(vt: Runtime) -> None:
    complete(vt, "10", "Kế hoạch số 1000/KH-UBND ngày 13/9/2023", "Đã ban hành kế hoạch")
    before = build_snapshot(vt, UNIT, "2023-Q3",
                            taken_at=datetime(2023, 9, 14, 8, 0, tzinfo=VN_TZ))
    assert done_codes(before) == set()
    assert done_codes(build_snapshot(vt, UNIT, "2023-Q3")) == {"10"}


def test_counts_are_cumulative_from_the_start_of_the_plan_year(vt: Runtime,
                                                               clock: Clock) -> None:
    clock.set("2023-03-10T09:00")
    complete(vt, "18", "Kế hoạch số 223/KH-UBND ngày 06/3/2023",
             "Đã ban hành kế hoạch tuyên truyền CCHC năm 2023")
    clock.set("2023-09-20T09:00")
    complete(vt, "10", "Kế hoạch số 1000/KH-UBND ngày 01/8/2023", "Đã ban hành kế hoạch")
    by_period = {p: done_codes(build_snapshot(vt, UNIT, p))
                 for p in ("2023-Q1", "2023-Q2", "2023-H1", "2023-Q3", "2023-Y")}
    assert by_period == {
        "2023-Q1": {"18"},  # 14/12/2022 – 13/3/2023
        "2023-Q2": {"18"},  # done in Q1, still done
        "2023-H1": {"18"},
        "2023-Q3": {"18", "10"},
        "2023-Y": {"18", "10"},
    }
    q1 = build_snapshot(vt, UNIT, "2023-Q1")
    assert (q1.start, q1.end) == (date(2022, 12, 14), date(2023, 3, 13))


def test_reopened_after_the_cutoff_still_done_in_the_earlier_period(vt: Runtime,
                                                                   clock: Clock) -> None:
    clock.set("2023-09-05T10:00")
    complete(vt, "19", "Kế hoạch số 176/KH-UBND ngày 24/02/2023",
             "Đã ban hành kế hoạch tự kiểm tra CCHC")
    clock.set("2023-09-20T10:00")
    api.transition(vt, key("19"), "reopen", LEADER, note="Thiếu báo cáo kết quả tự kiểm tra")
    assert api.get_task(vt, key("19")).state == "in_progress"

    q3 = build_snapshot(vt, UNIT, "2023-Q3")
    t = task_of(q3, "19")
    assert (t.state, t.done, t.effective_on) == ("done", True, date(2023, 2, 24))
    assert t.evidence == ["Kế hoạch số 176/KH-UBND ngày 24/02/2023"]
    assert t.result.splitlines() == ["Đã ban hành kế hoạch tự kiểm tra CCHC",
                                     "- Kế hoạch số 176/KH-UBND ngày 24/02/2023"]

    q4 = build_snapshot(vt, UNIT, "2023-Q4")
    t4 = task_of(q4, "19")
    assert (t4.state, t4.done) == ("in_progress", False)
    assert t4.result == "Thiếu báo cáo kết quả tự kiểm tra"


# ---------------------------------------------------------------- frozen


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_frozen_snapshot_never_changes(vt: Runtime, clock: Clock, tmp_path: Path) -> None:
    complete(vt, "18", "Kế hoạch số 223/KH-UBND ngày 06/3/2023", "Đã ban hành kế hoạch")
    first = api.snapshot_and_export(vt, UNIT, "2023-Q3", tmp_path / "a", freeze=True,
                                    taken_by="Chủ tịch UBND xã Vĩnh Thạnh")
    snap = first.snapshot
    assert snap.frozen and snap.content_hash == content_hash(snap)
    assert len(snap.content_hash) == 64
    assert done_codes(snap) == {"18"}

    # The next day: a late entry for Q3, a reopen (leader corrections, with their reason:
    # an officer may not date a change inside the frozen quarter), and more work.
    clock.set("2023-09-21T15:30")
    api.transition(vt, key("10"), "complete", LEADER,
                   evidence=["Kế hoạch số 1000/KH-UBND ngày 10/9/2023"],
                   result="Đã ban hành kế hoạch", correction="Sót khi tổng hợp")
    api.transition(vt, key("18"), "reopen", LEADER, note="Bổ sung kết quả",
                   on=date(2023, 9, 12), correction="Kết quả chưa đủ")
    assert done_codes(build_snapshot(vt, UNIT, "2023-Q3")) == {"10"}  # live: changed

    again = api.take_snapshot(vt, UNIT, "2023-Q3", freeze=True)  # freezing again
    assert again.model_dump() == snap.model_dump()
    stored = frozen_snapshot(vt, UNIT, "2023-Q3")
    assert stored is not None and stored.model_dump() == snap.model_dump()
    assert content_hash(stored) == snap.content_hash

    with pytest.raises(Conflict) as info:
        freeze(vt, build_snapshot(vt, UNIT, "2023-Q3"), "ai đó")
    assert "đã được chốt" in info.value.message_vi
    assert snap.content_hash[:12] in info.value.message_vi
    with vt.db.read() as session:
        assert session.scalar(select(func.count()).select_from(SnapshotRow)) == 1

    second = api.snapshot_and_export(vt, UNIT, "2023-Q3", tmp_path / "b")
    assert second.snapshot.content_hash == snap.content_hash
    assert [p.name for p in first.files] == [p.name for p in second.files]
    files_a, files_b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert set(files_a) == {"phu-luc-1.docx", "phu-luc-1.xlsx", "snapshot.json"}
    assert files_a == files_b  # byte-identical, a day later
    data = json.loads(files_a["snapshot.json"])
    assert data["content_hash"] == snap.content_hash and data["frozen"] is True


def test_no_freezing_before_the_cutoff_day(vt: Runtime, clock: Clock) -> None:
    clock.set("2023-09-12T16:00")  # Q3 of Khánh Hòa still runs until 13/9
    with pytest.raises(ValidationFailed) as info:
        api.take_snapshot(vt, UNIT, "2023-Q3", freeze=True)
    assert info.value.field == "period"
    assert "Chưa đến ngày chốt số liệu của kỳ 2023-Q3 (13/09/2023)" in info.value.message_vi
    assert frozen_snapshot(vt, UNIT, "2023-Q3") is None
    clock.set("2023-09-13T16:30")  # on the cut-off day itself
    assert api.take_snapshot(vt, UNIT, "2023-Q3", freeze=True).frozen


def test_totals_are_counted_from_the_rows(vt: Runtime) -> None:
    complete(vt, "4", "Công văn số 910/UBND ngày 28/7/2023", "Đã báo cáo")
    complete(vt, "18", "Kế hoạch số 223/KH-UBND ngày 06/3/2023", "Đã ban hành kế hoạch")
    api.transition(vt, key("3"), "wait", OFFICER, note="Chưa có văn bản triển khai của cấp trên")
    snap = build_snapshot(vt, UNIT, "2023-Q3")
    appendix = snap.appendices[0]
    rows = appendix.all_tasks()
    assert len(rows) == 23 and [t.code for t in rows] == [str(i) for i in range(1, 24)]
    assert (appendix.total, appendix.done, appendix.not_done) == (
        len(rows), sum(t.done for t in rows), sum(not t.done for t in rows))
    assert (appendix.done, appendix.not_done) == (2, 21)
    table = build_table(appendix)
    assert (table.total, table.done, table.not_done) == (23, 2, 21)

    dumped = appendix.model_dump()
    dumped.update(total=99, done=99, not_done=0)  # typed-in totals are not taken
    assert AppendixSnapshot.model_validate(dumped).done == 2

    assert api.SnapshotResult(snap).as_dict()["appendices"] == [
        {"number": 1, "plan": PLAN, "total": 23, "done": 2, "not_done": 21}]
    exported = json.loads(export_json(snap))
    assert exported["totals"] == [{"number": 1, "plan_id": PLAN, "total": 23, "done": 2,
                                   "not_done": 21}]
    assert exported["appendices"][0]["done"] == 2
    exported["totals"][0]["done"] = 3
    exported["appendices"][0]["done"] = 3
    with pytest.raises(ValueError, match="Phụ lục 1"):
        read_json(json.dumps(exported))


# ---------------------------------------------------------------- the reviewer's check


HAND_MADE = "\n".join([
    "BÁO CÁO CẢI CÁCH HÀNH CHÍNH QUÝ III NĂM 2023",
    "- Thực hiện Công văn số 5/UBND-VP ngày 01/3/2023 của UBND thành phố Nha Trang.",
    "",
    "Phụ lục 1",
    "Stt\tNhiệm vụ\tĐã thực hiện\tChưa thực hiện\tKết quả",
    "I\tCẢI CÁCH THỂ CHẾ\t\t\t",
    "1.\tCập nhật, công khai thông tin\tx\t\tĐã ban hành Kế hoạch số 7/UBND ngày 02/3/2023",
    "2.\tRà soát văn bản\t\tx\tTheo Công văn số 5/UBND-VP ngày 02/3/2023 của UBND thành "
    "phố Nha Trang",
    "\tTổng: 2 nhiệm vụ\t2\t00\t",
    "",
])


def test_check_against_a_hand_made_report_names_every_place(vt: Runtime,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.txt"
    path.write_text(HAND_MADE, encoding="utf-8")
    findings = [f for f in api.check(vt, UNIT, "2023-Q3", against=path) if f.source == "against"]
    by_code = {f.code: f for f in findings}
    assert sorted(by_code) == ["bad_reference", "number_reused", "state_differs",
                               "totals_mismatch"]
    bad = by_code["bad_reference"]
    assert (bad.appendix, bad.plan, bad.task, bad.line) == (1, PLAN, "1", 7)
    assert bad.message_vi.startswith("Phụ lục 1, nhiệm vụ 1: 'Kế hoạch số 7/UBND ngày "
                                     "02/3/2023' — Kế hoạch phải có chữ viết tắt 'KH'")
    assert by_code["number_reused"].message_vi == (
        "Văn bản số 05/UBND-VP được ghi với 2 ngày khác nhau: ngày 01/03/2023 (phần thân báo "
        "cáo, dòng 2); ngày 02/03/2023 (Phụ lục 1, nhiệm vụ 2)")
    differs = by_code["state_differs"]
    assert (differs.appendix, differs.plan, differs.task) == (1, PLAN, "1")
    assert differs.message_vi == ("Phụ lục 1, nhiệm vụ 1: báo cáo ghi 'Đã thực hiện', hệ thống "
                                  "ghi 'Chưa thực hiện'")
    totals = by_code["totals_mismatch"]
    assert (totals.appendix, totals.plan) == (1, PLAN)
    assert "dòng tổng ghi '2 nhiệm vụ | 02 | 00' nhưng theo các dòng là '2 nhiệm vụ | 01 | " \
        "01'" in totals.message_vi
