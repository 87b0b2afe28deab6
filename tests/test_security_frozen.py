"""A frozen period is closed (issue 9).

Findings: `GET /api/units/…/snapshots/2023-q3` (lower case) returned live figures labelled
2023-Q3 with `frozen: false`; an officer could record a completion dated inside the frozen
quarter, after which the live figures differed from what was submitted, and a download under
the same file name changed bytes. Runs on the Vĩnh Thạnh demo (2023-Q3 frozen, now 20/9/2023).
"""

from __future__ import annotations

import warnings
from datetime import date

import pytest
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    cheap_hashes_fixture,
    demo_db_fixture,
    demo_rt_fixture,
    login_clients,
)

from engine import api
from engine.directory import accounts
from engine.domain.frozen_periods import PeriodFrozen
from engine.domain.periods import normalise_period
from engine.errors import Forbidden, ValidationFailed
from engine.reporting.export import export_xlsx
from engine.reporting.snapshot.build import build_snapshot
from engine.reporting.snapshot.store import frozen_snapshot
from engine.runtime import Runtime
from web import create_app
from web.settings import WebSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

UNIT = "vinh-thanh"
IN_Q3 = date(2023, 9, 5)
DOC = "Kế hoạch số 999/KH-UBND ngày 05/9/2023"


def open_task(rt: Runtime) -> api.TaskView:
    return next(t for t in api.list_tasks(rt, UNIT) if t.plan == "cchc-2023"
                and t.state in ("not_started", "in_progress"))


def key_of(t: api.TaskView) -> api.TaskKey:
    return api.TaskKey(t.unit, t.plan, t.code)


def test_period_codes_are_normalised_in_one_place() -> None:
    assert normalise_period(" 2023-q3 ") == "2023-Q3"
    assert normalise_period("2024-h1") == "2024-H1"
    with pytest.raises(ValidationFailed) as info:
        normalise_period("2023-q9")
    assert "quý 9 không tồn tại" in info.value.message_vi


def test_lower_case_period_gives_the_frozen_snapshot_on_every_route(rt: Runtime) -> None:
    frozen = frozen_snapshot(rt, UNIT, "2023-Q3")
    assert frozen is not None and frozen_snapshot(rt, UNIT, "2023-q3") == frozen
    assert api.take_snapshot(rt, UNIT, "2023-q3") == frozen
    raw, _ = accounts.create_api_token(rt, "thamdinh.nhatrang", "Kiểm thử")
    headers = {"Authorization": f"Bearer {raw}"}
    with TestClient(create_app(rt, WebSettings())) as client:
        got = client.get(f"/api/units/{UNIT}/snapshots/2023-q3", headers=headers)
        assert got.status_code == 200
        body = got.json()
        assert (body["period"], body["frozen"], body["content_hash"]) == (
            "2023-Q3", True, frozen.content_hash)
        upper = client.get(f"/api/units/{UNIT}/snapshots/2023-Q3/files/phu-luc-1.xlsx",
                           headers=headers)
        lower = client.get(f"/api/units/{UNIT}/snapshots/2023-q3/files/phu-luc-1.xlsx",
                           headers=headers)
        assert upper.content == lower.content == export_xlsx(frozen, frozen.appendices[0])
        bad = client.get(f"/api/units/{UNIT}/snapshots/2023-q9", headers=headers)
        assert bad.status_code == 400 and "quý 9" in bad.json()["message_vi"]
        check = client.get(f"/api/units/{UNIT}/snapshots/2023-q3/check", headers=headers)
        assert check.status_code == 200 and check.json()["frozen"] is True


def test_officer_cannot_record_a_change_dated_inside_a_frozen_period(rt: Runtime) -> None:
    task = open_task(rt)
    before = frozen_snapshot(rt, UNIT, "2023-Q3")
    assert before is not None
    officer = api.Actor("Trần Thị Mỹ Hạnh", "officer")
    with pytest.raises(PeriodFrozen) as info:
        api.transition(rt, key_of(task), "complete", officer, evidence=[DOC],
                       result="Đã tổ chức", on=IN_Q3, expected_version=task.version)
    assert "Kỳ 2023-Q3" in info.value.message_vi and "đã chốt số liệu" in info.value.message_vi
    with pytest.raises(PeriodFrozen):
        api.add_note(rt, key_of(task), "Đã họp", officer, on=IN_Q3)
    # an officer cannot slip it in as a correction either
    with pytest.raises(Forbidden):
        api.transition(rt, key_of(task), "complete", officer, evidence=[DOC],
                       result="Đã tổ chức", on=IN_Q3, correction="Sót khi báo cáo")
    after = api.get_task(rt, key_of(task))
    assert (after.state, after.version) == (task.state, task.version)
    assert build_snapshot(rt, UNIT, "2023-Q3", taken_at=before.taken_at).appendices == \
        before.appendices  # the live figures as of the freeze still equal the submitted ones
    # a change dated after the cut-off is as before
    api.transition(rt, key_of(task), "complete", officer,
                   evidence=["Kế hoạch số 1000/KH-UBND ngày 15/9/2023"], result="Đã tổ chức",
                   expected_version=task.version)


def test_leader_correction_is_recorded_reported_next_and_checked(rt: Runtime) -> None:
    task = open_task(rt)
    frozen = frozen_snapshot(rt, UNIT, "2023-Q3")
    assert frozen is not None
    files_before = [export_xlsx(frozen, a) for a in frozen.appendices]
    leader = api.Actor("Nguyễn Quốc Bảo", "leader")
    with pytest.raises(PeriodFrozen):  # no reason: refused
        api.transition(rt, key_of(task), "complete", leader, evidence=[DOC],
                       result="Đã tổ chức", on=IN_Q3)
    api.transition(rt, key_of(task), "complete", leader, evidence=[DOC], result="Đã tổ chức",
                   on=IN_Q3, correction="Văn bản ban hành trong kỳ nhưng bị sót khi tổng hợp")
    entry = api.history(rt, key_of(task))[-1]
    assert entry.event == "complete"
    # the frozen period keeps its bytes
    again = api.take_snapshot(rt, UNIT, "2023-Q3")
    assert again == frozen
    assert [export_xlsx(again, a) for a in again.appendices] == files_before
    # the next report lists the correction, and both checks say so
    q4 = api.take_snapshot(rt, UNIT, "2023-Q4")
    assert [(c.period, c.task, c.effective_on, c.reason) for c in q4.corrections] == [
        ("2023-Q3", task.code, IN_Q3, "Văn bản ban hành trong kỳ nhưng bị sót khi tổng hợp")]
    for period in ("2023-Q4", "2023-Q3"):
        found = [f for f in api.check(rt, UNIT, period) if f.code == "period_corrected"]
        assert len(found) == 1 and "Đính chính số liệu kỳ 2023-Q3" in found[0].message_vi
        assert "bị sót khi tổng hợp" in found[0].message_vi


def test_snapshot_without_corrections_keeps_its_json_and_hash(rt: Runtime) -> None:
    frozen = frozen_snapshot(rt, UNIT, "2023-Q3")
    assert frozen is not None and frozen.corrections == []
    assert "corrections" not in frozen.model_dump()


def test_same_download_name_means_same_bytes(rt: Runtime) -> None:
    with login_clients(create_app(rt, WebSettings())) as login:
        leader = login("leader")
        frozen = [leader.get(f"/units/{UNIT}/reports/2023-q3/phu-luc-1.xlsx") for _ in range(2)]
        assert frozen[0].content == frozen[1].content
        assert frozen[0].headers["content-disposition"] == frozen[1].headers[
            "content-disposition"]
        assert 'filename="phu-luc-1_vinh-thanh_2023-Q3.xlsx"' in frozen[0].headers[
            "content-disposition"]
        live = leader.get(f"/units/{UNIT}/reports/2023-Q4/phu-luc-1.xlsx")
        task = open_task(rt)
        api.transition(rt, key_of(task), "complete", api.Actor("Cán bộ", "officer"),
                       evidence=["Kế hoạch số 1000/KH-UBND ngày 15/9/2023"],
                       result="Đã tổ chức")
        changed = leader.get(f"/units/{UNIT}/reports/2023-Q4/phu-luc-1.xlsx")
        assert "tam-tinh-" in live.headers["content-disposition"]
        assert live.content != changed.content
        assert live.headers["content-disposition"] != changed.headers["content-disposition"]
