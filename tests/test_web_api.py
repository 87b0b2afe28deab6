"""The JSON API (`/api/…`): every action, every refusal, nothing written on a refusal.

Most tests share one demo database (xã Vĩnh Thạnh, built once for the module by `run_demo`,
plus xã Vĩnh Lương of the same city and a ward of another city so that "another commune" and
"another city" are real units with data). Tests that change data each take a task of their
own (`Demo.take`), so they do not depend on their order. A fixed clock (20/12/2023) keeps
"today" inside the demo year. The last tests build a small dataset on SQLite *and* PostgreSQL
(`db_url`) and prove the access rules and the conflict handling on both.
"""

from __future__ import annotations

import io
import json
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from argon2 import PasswordHasher
from docx import Document as DocxDocument
from sqlalchemy import func, select

from engine import api
from engine.clock import VN_TZ, fixed_clock
from engine.demo import PLAN_FILES, run_demo
from engine.directory import accounts
from engine.runtime import Runtime, open_runtime
from engine.storage.models import Document, ObligationHistory, TaskHistory
from plans import DEMO_BUNDLE
from web import create_app
from web.settings import WebSettings

with warnings.catch_warnings():  # starlette's TestClient warns about httpx at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
NOW = datetime(2023, 12, 20, 9, 0, tzinfo=VN_TZ)
UNIT = "vinh-thanh"
OTHER = "vinh-luong"
DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"
BAD_DOC = "Kế hoạch số 22/KH-UBND ngày 36/3/2023"
RESULT = "Đã triển khai thực hiện theo kế hoạch."
PLAN_PATHS = [DEMO_BUNDLE / f for f in PLAN_FILES]

#: username → (role, unit, full name); the demo's four plus one per extra unit.
EXTRA_USERS: dict[str, tuple[str, str, str]] = {
    "canbo.vinhluong": ("officer", OTHER, "Lê Văn Bình"),
    "lanhdao.vinhluong": ("leader", OTHER, "Phạm Văn Cường"),
    "thamdinh.camranh": ("reviewer", "cam-ranh", "Võ Thị Lan"),
}
OFFICER, LEADER, ADMIN, REVIEWER = ("canbo.vinhthanh", "lanhdao.vinhthanh",
                                    "quantri.vinhthanh", "thamdinh.nhatrang")
OFFICER_B, LEADER_B, REVIEWER_CR = "canbo.vinhluong", "lanhdao.vinhluong", "thamdinh.camranh"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_units(rt: Runtime) -> None:
    api.add_unit(rt, slug=OTHER, name="Vĩnh Lương", kind="xã", parent="nha-trang")
    api.add_unit(rt, slug="cam-ranh", name="Cam Ranh", kind="thành phố", parent="khanh-hoa")
    api.add_unit(rt, slug="cam-phuc-bac", name="Cam Phúc Bắc", kind="phường",
                 parent="cam-ranh")


@dataclass
class Demo:
    rt: Runtime
    client: TestClient
    tokens: dict[str, str]
    free: list[tuple[str, str]] = field(default_factory=list)  # not done at the start
    done: list[tuple[str, str]] = field(default_factory=list)  # done, with evidence

    def h(self, username: str) -> dict[str, str]:
        return bearer(self.tokens[username])

    def take(self) -> tuple[str, str]:
        """A task (plan, code) not done and not touched by any other test."""
        return self.free.pop(0)

    def take_done(self) -> tuple[str, str]:
        return self.done.pop(0)

    def url(self, plan: str, code: str, unit: str = UNIT, tail: str = "") -> str:
        return f"/api/units/{unit}/tasks/{plan}/{code}{tail}"

    def get(self, path: str, user: str = OFFICER, **kw: Any) -> Any:
        res = self.client.get(path, headers=self.h(user), **kw)
        assert res.status_code == 200, res.text
        return res.json()

    def state(self, plan: str, code: str, unit: str = UNIT) -> tuple[int, int, str, int]:
        """What a refusal must leave as it was: version, history rows, state, documents."""
        key = api.TaskKey(unit, plan, code)
        view = api.get_task(self.rt, key)
        with self.rt.db.read() as session:
            docs = int(session.scalar(select(func.count()).select_from(Document)) or 0)
        return view.version, len(api.history(self.rt, key)), view.state, docs


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(accounts, "hasher", CHEAP)
        accounts._dummy_hash.cache_clear()
        result = run_demo(tmp_path_factory.mktemp("demo"))
        rt = open_runtime(f"sqlite:///{result.database}", clock=fixed_clock(NOW))
        add_units(rt)
        api.load_plans(rt, [OTHER], PLAN_PATHS)
        for name, (role, unit, full) in EXTRA_USERS.items():
            accounts.create_user(rt, name, password="mat-khau-1", role=role, unit=unit,
                                 full_name=full)
        names = [a.username for a in result.accounts] + list(EXTRA_USERS)
        tokens = {n: accounts.create_api_token(rt, n, "kiểm thử")[0] for n in names}
        tasks = api.list_tasks(rt, UNIT)
        free = [(t.plan, t.code) for t in tasks if t.state != "done"]
        done = [(t.plan, t.code) for t in tasks if t.state == "done"
                and any(e.evidence for e in api.history(rt, api.TaskKey(UNIT, t.plan, t.code)))]
        d = Demo(rt, TestClient(create_app(rt, WebSettings())), tokens, free, done)
        yield d
        rt.db.dispose()
        accounts._dummy_hash.cache_clear()


def assert_error(res: Any, status: int, code: str, field: str | None = None,
                 vi: str | None = None) -> dict[str, Any]:
    assert res.status_code == status, res.text
    body: dict[str, Any] = res.json()
    assert set(body) == {"error", "message", "message_vi", "message_en", "field", "problems"}
    assert body["error"] == code, body
    assert body["message"] == body["message_vi"] and body["message_vi"]
    if field is not None:
        assert body["field"] == field, body
    if vi is not None:
        assert vi in body["message_vi"], body["message_vi"]
    return body


# ---------------------------------------------------------------- authentication


def test_no_bad_or_revoked_token_is_401_and_nothing_runs(demo: Demo) -> None:
    c = demo.client
    assert_error(c.get("/api/me"), 401, "unauthorized", "authorization")
    assert c.get("/api/me").headers["www-authenticate"] == "Bearer"
    assert_error(c.get("/api/me", headers={"Authorization": "Basic YWxhZGRpbjpvcGVu"}), 401,
                 "unauthorized")
    assert_error(c.get("/api/me", headers=bearer("cchc_khong-phai-ma-that")), 401,
                 "unauthorized", vi="đã bị thu hồi")
    raw, view = accounts.create_api_token(demo.rt, OFFICER, "sẽ thu hồi")
    assert c.get("/api/me", headers=bearer(raw)).status_code == 200
    accounts.revoke_api_token(demo.rt, view.id)
    plan, code = demo.take()
    before = demo.state(plan, code)
    res = c.post(demo.url(plan, code, tail="/transitions"), headers=bearer(raw),
                 json={"trigger": "complete", "evidence": [DOC], "result": RESULT,
                       "expected_version": before[0]})
    assert_error(res, 401, "unauthorized", vi="thu hồi")
    assert demo.state(plan, code) == before


def test_the_api_never_reads_the_session_cookie(demo: Demo) -> None:
    user = accounts.get_user(demo.rt, OFFICER)
    raw, _ = accounts.create_session(demo.rt, user.id, lifetime=WebSettings().session_lifetime)
    with_cookie = TestClient(demo.client.app, cookies={"cchc_session": raw})
    assert_error(with_cookie.get("/api/me"), 401, "unauthorized")
    plan, code = demo.take()
    before = demo.state(plan, code)
    res = with_cookie.post(demo.url(plan, code, tail="/notes"),
                           json={"note": "ghi chú", "expected_version": before[0]})
    assert res.status_code == 401
    assert demo.state(plan, code) == before


# ---------------------------------------------------------------- reading


def test_me_for_each_role(demo: Demo) -> None:
    me = demo.get("/api/me")
    assert me == {"username": OFFICER, "full_name": "Trần Thị Mỹ Hạnh", "role": "officer",
                  "role_label": "Cán bộ, công chức", "unit": UNIT,
                  "unit_display": "xã Vĩnh Thạnh",
                  "actions": ["obligation.update", "report.export", "task.attach",
                              "task.note", "unit.read"]}
    assert "report.freeze" in demo.get("/api/me", LEADER)["actions"]
    reviewer = demo.get("/api/me", REVIEWER)
    assert reviewer["role"] == "reviewer" and reviewer["unit"] == "nha-trang"
    assert reviewer["actions"] == ["city.read", "report.export", "review.comment", "unit.read"]
    admin = demo.get("/api/me", ADMIN)
    assert admin["role"] == "admin" and "users.manage" in admin["actions"]


def test_units_are_the_readable_ones(demo: Demo) -> None:
    def slugs(user: str) -> list[str]:
        return [u["slug"] for u in demo.get("/api/units", user)]

    assert slugs(OFFICER) == [UNIT]
    assert slugs(OFFICER_B) == [OTHER]
    assert slugs(REVIEWER) == [OTHER, UNIT]
    assert slugs(REVIEWER_CR) == ["cam-phuc-bac"]
    assert set(slugs(ADMIN)) == {"khanh-hoa", "nha-trang", UNIT, OTHER, "cam-ranh",
                                 "cam-phuc-bac"}
    (mine,) = demo.get("/api/units")
    assert mine == {"slug": UNIT, "name": "Vĩnh Thạnh", "kind": "xã",
                    "display": "xã Vĩnh Thạnh", "parent": "nha-trang", "cutoff_day": 13,
                    "leader": mine["leader"], "writable": True}
    assert all(not u["writable"] for u in demo.get("/api/units", REVIEWER))


def test_plans_with_progress(demo: Demo) -> None:
    plans = demo.get(f"/api/units/{UNIT}/plans", REVIEWER)
    assert [p["id"] for p in plans] == ["cchc-2023", "papi-2023", "kl91-2023"]
    assert [p["appendix"] for p in plans] == [1, 2, 3]
    assert [p["tasks"] for p in plans] == [23, 54, 47]
    for p in plans:
        assert p["done"] + p["not_done"] == p["tasks"]
        assert p["completion"] == 100 * p["done"] // p["tasks"]  # as the pages show it
    other = demo.get(f"/api/units/{OTHER}/plans", OFFICER_B)
    assert [p["done"] for p in other] == [0, 0, 0]


def test_task_list_and_its_filters(demo: Demo) -> None:
    base = f"/api/units/{UNIT}/tasks"
    everything = demo.get(base)
    assert everything["unit"] == UNIT and everything["count"] == 124
    first = everything["tasks"][0]
    assert set(first) == {"unit", "plan", "code", "section", "text", "state", "state_label",
                          "owner", "deadline", "due_on", "done_on", "result", "note",
                          "version", "timeliness", "occurrence"}
    assert demo.get(base, params={"plan": "papi-2023"})["count"] == 54
    done = demo.get(base, params={"state": "done"})
    assert done["count"] > 0 and all(t["state"] == "done" for t in done["tasks"])
    assert all(t["done_on"] is None or len(t["done_on"]) == 10 for t in done["tasks"])
    overdue = demo.get(base, params={"overdue": "true"})
    assert overdue["count"] > 0
    assert all(t["timeliness"] == "open_overdue" for t in overdue["tasks"])
    section = demo.get(base, params={"plan": "papi-2023", "section": "1"})["tasks"]
    assert section and all(t["section"] == "1" or t["section"].startswith("1.")
                           for t in section)
    owner = demo.get(base, params={"owner": "tu phap"})["tasks"]  # no accents needed
    assert owner and all("Tư pháp" in t["owner"] for t in owner)
    found = demo.get(base, params={"q": "PAPI"})["count"]
    assert 0 < found < 124
    assert_error(demo.client.get(base, params={"state": "xong"}, headers=demo.h(OFFICER)),
                 400, "invalid", "state", vi="Trạng thái 'xong' không có")
    assert_error(demo.client.get(base, params={"plan": "khong-co"}, headers=demo.h(OFFICER)),
                 404, "not_found", "plan")
    assert_error(demo.client.get(base, params={"overdue": "hmm"}, headers=demo.h(OFFICER)),
                 400, "invalid", "overdue")


def test_task_detail_evidence_version_and_allowed_triggers(demo: Demo) -> None:
    plan, code = demo.done[0]  # read only: not taken
    detail = demo.get(demo.url(plan, code))
    assert detail["state"] == "done" and detail["version"] >= 2
    assert detail["evidence"] and all(set(e) == {"ref", "number", "issued_on"}
                                      for e in detail["evidence"])
    assert detail["allowed_triggers"] == []  # an officer cannot reopen
    assert detail["can_note"] and not detail["can_assign"] and not detail["can_set_deadline"]
    assert detail["history_count"] == len(api.history(demo.rt, api.TaskKey(UNIT, plan, code)))
    leader = demo.get(demo.url(plan, code), LEADER)
    assert [t["trigger"] for t in leader["allowed_triggers"]] == ["reopen"]
    assert leader["allowed_triggers"][0]["requires"] == ["note"]
    assert leader["can_assign"] and leader["can_set_deadline"]
    reviewer = demo.get(demo.url(plan, code), REVIEWER)
    assert reviewer["allowed_triggers"] == [] and not reviewer["can_note"]
    open_plan, open_code = demo.free[-1]
    triggers = demo.get(demo.url(open_plan, open_code))["allowed_triggers"]
    complete = next(t for t in triggers if t["trigger"] == "complete")
    assert complete == {"trigger": "complete", "label": "Hoàn thành (kèm văn bản)",
                        "to_state": "done", "requires": ["evidence", "result"]}


def test_task_history_is_oldest_first_with_iso_dates(demo: Demo) -> None:
    plan, code = demo.done[0]
    history = demo.get(demo.url(plan, code, tail="/history"), REVIEWER)
    assert [h["seq"] for h in history] == sorted(h["seq"] for h in history)
    last = history[-1]
    assert last["to_state"] == "done"
    assert datetime.fromisoformat(last["at"]).utcoffset() is not None
    assert last["evidence"][0]["issued_on"][4] == "-"


def test_reads_outside_the_scope_are_403_and_unknowns_404(demo: Demo) -> None:
    c = demo.client
    plan, code = demo.done[0]
    for user, unit in [(OFFICER, OTHER), (OFFICER_B, UNIT), (LEADER_B, UNIT),
                       (REVIEWER_CR, UNIT), (REVIEWER, "cam-phuc-bac")]:
        for path in (f"/api/units/{unit}/tasks", f"/api/units/{unit}/plans",
                     f"/api/units/{unit}/tasks/{plan}/{code}",
                     f"/api/units/{unit}/tasks/{plan}/{code}/history",
                     f"/api/units/{unit}/obligations", f"/api/units/{unit}/snapshots/2023-Q3",
                     f"/api/units/{unit}/snapshots/2023-Q3/files/phu-luc-1.docx",
                     f"/api/units/{unit}/snapshots/2023-Q3/check"):
            assert_error(c.get(path, headers=demo.h(user)), 403, "forbidden", "unit")
    body = assert_error(c.get(f"/api/units/{OTHER}/tasks", headers=demo.h(OFFICER)), 403,
                        "forbidden", "unit")
    assert body["message_vi"] == "Bạn không có quyền xem số liệu của xã Vĩnh Lương"
    assert_error(c.get("/api/units/khong-co/tasks", headers=demo.h(ADMIN)), 404, "not_found",
                 "unit")
    assert_error(c.get(demo.url(plan, "999"), headers=demo.h(OFFICER)), 404, "not_found",
                 "code")
    assert_error(c.get(demo.url("khong-co", "1"), headers=demo.h(OFFICER)), 404, "not_found",
                 "plan")
    assert_error(c.get("/api/khong-co", headers=demo.h(OFFICER)), 404, "http_404")


# ---------------------------------------------------------------- workflow steps


def test_complete_with_evidence_lands_in_the_history_with_the_user(demo: Demo) -> None:
    plan, code = demo.take()
    version = demo.get(demo.url(plan, code))["version"]
    res = demo.client.post(
        demo.url(plan, code, tail="/transitions"), headers=demo.h(OFFICER),
        json={"trigger": "complete", "evidence": [DOC], "result": RESULT,
              "note": "Đúng tiến độ", "on": "2023-09-15", "expected_version": version})
    assert res.status_code == 200, res.text
    change = res.json()
    assert change == {"unit": UNIT, "plan": plan, "code": code, "event": "complete",
                      "from_state": change["from_state"], "to_state": "done",
                      "to_state_label": "Đã thực hiện", "version": version + 1,
                      "effective_on": "2023-09-15", "evidence": [DOC]}
    detail = demo.get(demo.url(plan, code))
    assert detail["state"] == "done" and detail["version"] == version + 1
    assert detail["result"] == RESULT and detail["done_on"] == "2023-09-15"
    assert [e["ref"] for e in detail["evidence"]] == [DOC]
    assert detail["evidence"][0] == {"ref": DOC, "number": "223/KH-UBND",
                                     "issued_on": "2023-03-06"}
    last = demo.get(demo.url(plan, code, tail="/history"))[-1]
    assert (last["event"], last["actor"], last["role"]) == ("complete", "Trần Thị Mỹ Hạnh",
                                                             "officer")
    assert last["at"].startswith("2023-12-20T09:00:00")


def test_a_stale_version_is_409_and_writes_nothing(demo: Demo) -> None:
    plan, code = demo.take()
    version = demo.get(demo.url(plan, code))["version"]
    ok = demo.client.post(demo.url(plan, code, tail="/notes"), headers=demo.h(OFFICER),
                          json={"note": "Đang rà soát", "expected_version": version})
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    before = demo.state(plan, code)
    stale = demo.client.post(
        demo.url(plan, code, tail="/transitions"), headers=demo.h(OFFICER),
        json={"trigger": "complete", "evidence": [DOC], "result": RESULT,
              "expected_version": version})
    body = assert_error(stale, 409, "conflict", "expected_version")
    assert body["message_vi"] == (
        f"Nhiệm vụ {code} đã được người khác cập nhật (phiên bản hiện tại {version + 1}, "
        f"bạn đang sửa phiên bản {version}); hãy tải lại rồi thử lại")
    for tail, payload, user in [
        ("/owner", {"owner": "Văn phòng", "expected_version": version}, LEADER),
        ("/deadline", {"deadline": "Quý IV/2023", "expected_version": version}, LEADER),
        ("/notes", {"note": "ghi chú", "expected_version": version}, OFFICER),
    ]:
        method = demo.client.put if tail != "/notes" else demo.client.post
        assert_error(method(demo.url(plan, code, tail=tail), headers=demo.h(user),
                            json=payload), 409, "conflict", "expected_version")
    assert demo.state(plan, code) == before


def test_bad_document_is_refused_with_the_precise_reason_and_field(demo: Demo) -> None:
    plan, code = demo.take()
    before = demo.state(plan, code)
    url = demo.url(plan, code, tail="/transitions")

    def post(**body: Any) -> Any:
        payload = {"trigger": "complete", "result": RESULT, "expected_version": before[0]}
        return demo.client.post(url, headers=demo.h(OFFICER), json={**payload, **body})

    body = assert_error(post(evidence=[DOC, BAD_DOC]), 400, "invalid", "evidence[1]")
    assert body["message_vi"] == (f"Văn bản '{BAD_DOC}': Ngày 36/3/2023 không tồn tại "
                                  "(tháng 3 năm 2023 chỉ có 31 ngày)")
    assert body["problems"][0]["value"] == BAD_DOC
    assert_error(post(evidence=["Kế hoạch số 5/KH-UBND"]), 400, "invalid", "evidence")
    assert_error(post(evidence=[]), 400, "invalid", "evidence",
                 vi="Phải có ít nhất một văn bản làm minh chứng")
    assert_error(post(evidence=[DOC], result=""), 400, "invalid", "result",
                 vi="Phải ghi kết quả thực hiện")
    assert_error(post(evidence=["Kế hoạch số 7/KH-UBND ngày 06/01/2024"]), 400, "invalid",
                 "evidence")  # dated after today (20/12/2023)
    assert_error(post(evidence=[DOC], on="2023-03-01"), 400, "invalid", "on",
                 vi="sớm hơn ngày của văn bản minh chứng")
    assert_error(post(evidence=[DOC], on="01/09/2023"), 400, "invalid", "on")
    # a number already in the unit's register with another date: 409, nothing written
    other_plan, other_code = demo.take()
    first = demo.client.post(
        demo.url(other_plan, other_code, tail="/transitions"), headers=demo.h(OFFICER),
        json={"trigger": "complete", "evidence": ["Kế hoạch số 301/KH-UBND ngày 10/3/2023"],
              "result": RESULT,
              "expected_version": demo.get(demo.url(other_plan, other_code))["version"]})
    assert first.status_code == 200, first.text
    before = demo.state(plan, code)
    assert_error(post(evidence=["Kế hoạch số 301/KH-UBND ngày 11/3/2023"]), 409, "conflict",
                 "evidence", vi="đã được ghi nhận là")
    assert demo.state(plan, code) == before


def test_malformed_bodies_are_400_in_vietnamese(demo: Demo) -> None:
    plan, code = demo.take()
    before = demo.state(plan, code)
    url = demo.url(plan, code, tail="/transitions")
    h = demo.h(OFFICER)
    missing = demo.client.post(url, headers=h, json={"trigger": "start"})
    assert_error(missing, 400, "invalid", "expected_version",
                 vi="Thiếu thông tin bắt buộc: 'expected_version'")
    typo = demo.client.post(url, headers=h, json={"trigger": "start", "expected_verison": 2,
                                                  "expected_version": before[0]})
    assert_error(typo, 400, "invalid", "expected_verison")
    assert_error(demo.client.post(url, headers=h, content=b"{", params={}), 400, "invalid")
    unknown = demo.client.post(url, headers=h, json={"trigger": "finish",
                                                     "expected_version": before[0]})
    assert_error(unknown, 400, "invalid", "trigger", vi="Không có thao tác 'finish'")
    assert demo.state(plan, code) == before


def test_a_step_not_allowed_in_this_state_is_409(demo: Demo) -> None:
    plan, code = demo.take_done()
    before = demo.state(plan, code)
    res = demo.client.post(demo.url(plan, code, tail="/transitions"), headers=demo.h(OFFICER),
                           json={"trigger": "start", "expected_version": before[0]})
    assert_error(res, 409, "transition_not_allowed")
    assert demo.state(plan, code) == before


def test_reopen_is_the_leaders_and_needs_a_reason(demo: Demo) -> None:
    plan, code = demo.take_done()
    before = demo.state(plan, code)
    url = demo.url(plan, code, tail="/transitions")
    body = {"trigger": "reopen", "note": "Văn bản minh chứng chưa đúng",
            "expected_version": before[0]}
    assert_error(demo.client.post(url, headers=demo.h(OFFICER), json=body), 403, "forbidden",
                 "role", vi="không được 'Mở lại nhiệm vụ đã hoàn thành'")
    assert_error(demo.client.post(url, headers=demo.h(LEADER), json={**body, "note": ""}),
                 400, "invalid", "note")
    assert_error(demo.client.post(url, headers=demo.h(OFFICER),
                                  json={**body, "trigger": "import_done"}), 403, "forbidden")
    assert demo.state(plan, code) == before
    res = demo.client.post(url, headers=demo.h(LEADER), json=body)
    assert res.status_code == 200 and res.json()["to_state"] == "in_progress"
    last = demo.get(demo.url(plan, code, tail="/history"))[-1]
    assert (last["event"], last["actor"], last["role"]) == ("reopen", "Nguyễn Quốc Bảo",
                                                             "leader")


def test_a_reviewer_never_writes(demo: Demo) -> None:
    plan, code = demo.take()
    before = demo.state(plan, code)
    h = demo.h(REVIEWER)
    attempts = [
        ("post", "/transitions", {"trigger": "complete", "evidence": [DOC], "result": RESULT,
                                  "expected_version": before[0]}),
        ("post", "/transitions", {"trigger": "start", "expected_version": before[0]}),
        ("put", "/owner", {"owner": "Văn phòng", "expected_version": before[0]}),
        ("put", "/deadline", {"deadline": "Quý IV/2023", "expected_version": before[0]}),
        ("post", "/notes", {"note": "ghi chú", "expected_version": before[0]}),
    ]
    for method, tail, payload in attempts:
        res = getattr(demo.client, method)(demo.url(plan, code, tail=tail), headers=h,
                                           json=payload)
        assert_error(res, 403, "forbidden", "role",
                     vi="Tài khoản thẩm định chỉ được xem, không được sửa số liệu")
    assert demo.state(plan, code) == before
    dues = demo.get(f"/api/units/{UNIT}/obligations", REVIEWER)["obligations"]
    due = dues[-1]
    res = demo.client.post(f"/api/units/{UNIT}/obligations/{due['code']}/{due['period']}/submit",
                           headers=h, json={"document": "Báo cáo số 1/BC-UBND ngày 14/12/2023",
                                            "expected_version": due["version"]})
    assert_error(res, 403, "forbidden", "role")
    assert_error(demo.client.post(f"/api/units/{UNIT}/snapshots/2023-Q4/freeze", headers=h),
                 403, "forbidden")
    assert demo.get(f"/api/units/{UNIT}/obligations", REVIEWER)["obligations"][-1] == due


def test_an_officer_of_another_commune_can_never_change_this_one(demo: Demo) -> None:
    plan, code = demo.take()
    before = demo.state(plan, code)
    for user in (OFFICER_B, LEADER_B):
        for method, tail, payload in [
            ("post", "/transitions", {"trigger": "complete", "evidence": [DOC],
                                      "result": RESULT, "expected_version": before[0]}),
            ("put", "/owner", {"owner": "Văn phòng", "expected_version": before[0]}),
            ("put", "/deadline", {"deadline": "Quý IV/2023", "expected_version": before[0]}),
            ("post", "/notes", {"note": "ghi chú", "expected_version": before[0]}),
        ]:
            res = getattr(demo.client, method)(demo.url(plan, code, tail=tail),
                                               headers=demo.h(user), json=payload)
            if user == OFFICER_B and tail in ("/owner", "/deadline"):
                assert_error(res, 403, "forbidden", "role")  # not even a leader's step
            else:
                assert_error(res, 403, "forbidden", "unit",
                             vi="Bạn chỉ được cập nhật số liệu của xã Vĩnh Lương, không phải "
                                "của xã Vĩnh Thạnh")
    assert demo.state(plan, code) == before
    # …and the same officer may change their own commune
    own = demo.get(f"/api/units/{OTHER}/tasks", OFFICER_B)["tasks"][0]
    res = demo.client.post(demo.url(own["plan"], own["code"], unit=OTHER, tail="/notes"),
                           headers=demo.h(OFFICER_B),
                           json={"note": "Đã giao bộ phận", "expected_version": own["version"]})
    assert res.status_code == 200, res.text


def test_the_admin_may_change_any_commune(demo: Demo) -> None:
    own = demo.get(f"/api/units/{OTHER}/tasks", ADMIN)["tasks"][1]
    res = demo.client.put(demo.url(own["plan"], own["code"], unit=OTHER, tail="/owner"),
                          headers=demo.h(ADMIN),
                          json={"owner": "Văn phòng", "expected_version": own["version"]})
    assert res.status_code == 200, res.text


def test_assign_and_deadline_are_the_leaders(demo: Demo) -> None:
    plan, code = demo.take()
    before = demo.state(plan, code)
    owner_url, deadline_url = demo.url(plan, code, tail="/owner"), demo.url(plan, code,
                                                                             tail="/deadline")
    assert_error(demo.client.put(owner_url, headers=demo.h(OFFICER),
                                 json={"owner": "Văn phòng", "expected_version": before[0]}),
                 403, "forbidden", "role", vi="không được phân công nhiệm vụ")
    assert_error(demo.client.put(deadline_url, headers=demo.h(OFFICER),
                                 json={"deadline": "Quý IV/2023",
                                       "expected_version": before[0]}),
                 403, "forbidden", "role", vi="không được đặt thời hạn")
    assert_error(demo.client.put(owner_url, headers=demo.h(LEADER),
                                 json={"owner": " ", "expected_version": before[0]}),
                 400, "invalid", "owner", vi="Phải ghi người/bộ phận phụ trách")
    assert_error(demo.client.put(deadline_url, headers=demo.h(LEADER),
                                 json={"deadline": "hôm nào rảnh",
                                       "expected_version": before[0]}),
                 400, "invalid", "deadline", vi="Thời hạn 'hôm nào rảnh' không hợp lệ")
    assert demo.state(plan, code) == before
    res = demo.client.put(owner_url, headers=demo.h(LEADER),
                          json={"owner": "Công chức Văn phòng - Thống kê",
                                "expected_version": before[0]})
    assert res.status_code == 200 and res.json()["event"] == "assign"
    res = demo.client.put(deadline_url, headers=demo.h(LEADER),
                          json={"deadline": "Quý IV/2023", "expected_version": before[0] + 1})
    assert res.status_code == 200 and res.json()["version"] == before[0] + 2
    detail = demo.get(demo.url(plan, code))
    assert detail["owner"] == "Công chức Văn phòng - Thống kê"
    assert (detail["deadline"], detail["due_on"]) == ("Quý IV/2023", "2023-12-31")
    events = [(h["event"], h["actor"]) for h in demo.get(demo.url(plan, code, tail="/history"))]
    assert events[-2:] == [("assign", "Nguyễn Quốc Bảo"), ("set_deadline", "Nguyễn Quốc Bảo")]


def test_notes(demo: Demo) -> None:
    plan, code = demo.take()
    before = demo.state(plan, code)
    url = demo.url(plan, code, tail="/notes")
    assert_error(demo.client.post(url, headers=demo.h(OFFICER),
                                  json={"note": "  ", "expected_version": before[0]}),
                 400, "invalid", "note", vi="Phải ghi nội dung")
    assert_error(demo.client.post(url, headers=demo.h(OFFICER),
                                  json={"note": "ok", "on": "2024-01-05",
                                        "expected_version": before[0]}),
                 400, "invalid", "on", vi="ở tương lai")
    assert demo.state(plan, code) == before
    res = demo.client.post(url, headers=demo.h(OFFICER),
                           json={"note": "Đã dự thảo kế hoạch", "on": "2023-12-18",
                                 "expected_version": before[0]})
    assert res.status_code == 200
    assert res.json()["effective_on"] == "2023-12-18"
    assert demo.get(demo.url(plan, code))["note"] == "Đã dự thảo kế hoạch"


# ---------------------------------------------------------------- obligations


def obligation_rows(rt: Runtime) -> int:
    with rt.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(ObligationHistory)) or 0)


def test_obligations_list_and_submit(demo: Demo) -> None:
    listed = demo.get(f"/api/units/{UNIT}/obligations")
    assert listed["count"] == len(listed["obligations"]) >= 5
    h2 = next(o for o in listed["obligations"]
              if o["code"] == "bc-kh-140-2023" and o["period"] == "2023-H2")
    assert (h2["state"], h2["due_on"], h2["overdue"]) == ("pending", "2023-12-15", True)
    url = f"/api/units/{UNIT}/obligations/bc-kh-140-2023/2023-H2/submit"
    rows = obligation_rows(demo.rt)
    body = {"document": "Kế hoạch số 12/KH-UBND ngày 14/12/2023",
            "expected_version": h2["version"]}
    refused = assert_error(demo.client.post(url, headers=demo.h(OFFICER), json=body), 400,
                           "invalid", "document")
    assert "phải là Báo cáo hoặc Công văn" in refused["message_vi"]
    assert_error(demo.client.post(url, headers=demo.h(OFFICER),
                                  json={**body, "document": "Báo cáo số 5/BC-UBND"}),
                 400, "invalid", "document")
    assert_error(demo.client.post(url, headers=demo.h(OFFICER),
                                  json={**body, "document": "Báo cáo số 5/BC-UBND ngày "
                                                            "01/03/2023"}),
                 400, "invalid", "document", vi="có trước kỳ báo cáo")
    assert_error(demo.client.post(url, headers=demo.h(OFFICER_B), json=body), 403,
                 "forbidden", "unit")
    good = {**body, "document": "Báo cáo số 1050/BC-UBND ngày 14/12/2023"}
    assert_error(demo.client.post(url, headers=demo.h(OFFICER),
                                  json={**good, "expected_version": h2["version"] + 5}),
                 409, "conflict", "expected_version")
    assert_error(demo.client.post(f"/api/units/{UNIT}/obligations/khong-co/2023/submit",
                                  headers=demo.h(OFFICER), json=good), 404, "not_found", "code")
    assert_error(demo.client.post(f"/api/units/{UNIT}/obligations/bc-kh-140-2023/2023-Q9/submit",
                                  headers=demo.h(OFFICER), json=good), 404, "not_found",
                 "period")
    assert obligation_rows(demo.rt) == rows
    res = demo.client.post(url, headers=demo.h(OFFICER), json=good)
    assert res.status_code == 200, res.text
    assert res.json() == {"unit": UNIT, "code": "bc-kh-140-2023", "period": "2023-H2",
                          "event": "submit", "from_state": "pending", "to_state": "submitted",
                          "version": h2["version"] + 1, "effective_on": "2023-12-14",
                          "late": False, "document": "Báo cáo số 1050/BC-UBND ngày 14/12/2023"}
    assert obligation_rows(demo.rt) == rows + 1
    again = demo.client.post(url, headers=demo.h(OFFICER),
                             json={**good, "expected_version": h2["version"] + 1})
    assert_error(again, 409, "conflict", "state")
    submitted = demo.get(f"/api/units/{UNIT}/obligations", params={"state": "submitted"})
    assert [o["period"] for o in submitted["obligations"]] == ["2023-H2"]
    # taking it back is the leader's, with a reason
    reopen = url.replace("/submit", "/reopen")
    back = {"note": "Báo cáo bị trả lại", "expected_version": h2["version"] + 1}
    assert_error(demo.client.post(reopen, headers=demo.h(OFFICER), json=back), 403,
                 "forbidden", "role", vi="không được 'Mở lại kỳ báo cáo đã gửi'")
    assert_error(demo.client.post(reopen, headers=demo.h(LEADER), json={**back, "note": ""}),
                 400, "invalid", "note")
    assert_error(demo.client.post(reopen, headers=demo.h(REVIEWER), json=back), 403,
                 "forbidden", "role")
    assert obligation_rows(demo.rt) == rows + 1
    res = demo.client.post(reopen, headers=demo.h(LEADER), json=back)
    assert res.status_code == 200, res.text
    assert (res.json()["to_state"], res.json()["version"]) == ("pending", h2["version"] + 2)
    assert obligation_rows(demo.rt) == rows + 2
    assert_error(demo.client.get(f"/api/units/{UNIT}/obligations", headers=demo.h(OFFICER),
                                 params={"state": "sent"}), 400, "invalid", "state")


# ---------------------------------------------------------------- snapshots and files


def test_snapshot_frozen_and_live_totals(demo: Demo) -> None:
    frozen = demo.get(f"/api/units/{UNIT}/snapshots/2023-Q3", REVIEWER)
    assert frozen["frozen"] and len(frozen["content_hash"]) == 64
    assert (frozen["start"], frozen["end"]) == ("2023-06-14", "2023-09-13")
    assert [(a["number"], a["total"]) for a in frozen["appendices"]] == [(1, 23), (2, 54),
                                                                         (3, 47)]
    assert all(a["done"] + a["not_done"] == a["total"] for a in frozen["appendices"])
    assert frozen["files"] == ["phu-luc-1.docx", "phu-luc-2.docx", "phu-luc-3.docx",
                               "phu-luc-1.xlsx", "phu-luc-2.xlsx", "phu-luc-3.xlsx",
                               "snapshot.json"]
    live = demo.get(f"/api/units/{UNIT}/snapshots/2023-Q4")
    assert not live["frozen"] and live["content_hash"] is None
    assert_error(demo.client.get(f"/api/units/{UNIT}/snapshots/2023-Q5",
                                 headers=demo.h(OFFICER)), 400, "invalid", "period")


def test_freeze_is_the_leaders_once_and_after_the_cut_off(demo: Demo) -> None:
    url = f"/api/units/{UNIT}/snapshots/2023-Q4/freeze"
    assert_error(demo.client.post(url, headers=demo.h(OFFICER)), 403, "forbidden", "role",
                 vi="không được chốt số liệu")
    assert_error(demo.client.post(url, headers=demo.h(LEADER_B)), 403, "forbidden", "unit")
    assert_error(demo.client.post(f"/api/units/{UNIT}/snapshots/2024-Q1/freeze",
                                  headers=demo.h(LEADER)), 400, "invalid", "period",
                 vi="Chưa đến ngày chốt số liệu")
    assert not demo.get(f"/api/units/{UNIT}/snapshots/2023-Q4")["frozen"]
    res = demo.client.post(url, headers=demo.h(LEADER))
    assert res.status_code == 200, res.text
    frozen = res.json()
    assert frozen["frozen"] and frozen["content_hash"]
    assert demo.get(f"/api/units/{UNIT}/snapshots/2023-Q4") == frozen
    assert_error(demo.client.post(url, headers=demo.h(LEADER)), 409, "conflict", "period",
                 vi="đã được chốt")


def test_files_download_and_open(demo: Demo) -> None:
    base = f"/api/units/{UNIT}/snapshots/2023-Q3/files"
    docx = demo.client.get(f"{base}/phu-luc-1.docx", headers=demo.h(REVIEWER))
    assert docx.status_code == 200
    assert docx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert 'filename="vinh-thanh-2023-Q3-phu-luc-1.docx"' in docx.headers[
        "content-disposition"]
    doc = DocxDocument(io.BytesIO(docx.content))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "VĨNH THẠNH" in text.upper() and "Phụ lục".upper() in text.upper()
    xlsx = demo.client.get(f"{base}/phu-luc-2.xlsx", headers=demo.h(OFFICER))
    assert xlsx.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    values = [str(v) for row in wb.active.iter_rows(values_only=True) for v in row if v]
    assert any("PAPI" in v for v in values)
    snap = demo.client.get(f"{base}/snapshot.json", headers=demo.h(OFFICER))
    data = json.loads(snap.content)
    frozen = demo.get(f"/api/units/{UNIT}/snapshots/2023-Q3")
    assert data["content_hash"] == frozen["content_hash"]
    assert [t["total"] for t in data["totals"]] == [23, 54, 47]
    again = demo.client.get(f"{base}/phu-luc-1.docx", headers=demo.h(OFFICER))
    assert again.content == docx.content  # a frozen period always gives the same bytes
    for name in ("phu-luc-9.docx", "phu-luc-1.pdf", "snapshot.xml", "phu-luc-1.docx.exe"):
        assert_error(demo.client.get(f"{base}/{name}", headers=demo.h(OFFICER)), 404,
                     "not_found", "name")
    assert demo.client.get(f"{base}/..%2F..%2Fsecret", headers=demo.h(OFFICER)).status_code \
        == 404


def test_check_lists_the_findings(demo: Demo) -> None:
    check = demo.get(f"/api/units/{UNIT}/snapshots/2023-Q3/check", REVIEWER)
    assert check["unit"] == UNIT and check["frozen"]
    assert check["errors"] + check["warnings"] == len(check["findings"]) > 0
    warning = next(f for f in check["findings"] if f["code"] == "done_without_evidence")
    assert warning["severity"] == "warning" and warning["appendix"] in (1, 2, 3)
    assert "không có văn bản minh chứng" in warning["message_vi"]


# ---------------------------------------------------------------- city


def test_city_overview_for_its_reviewer_and_the_admin(demo: Demo) -> None:
    view = demo.get("/api/city/nha-trang/overview", REVIEWER)
    assert view["display"] == "thành phố Nha Trang"
    assert [c["slug"] for c in view["communes"]] == [OTHER, UNIT]
    mine = next(c for c in view["communes"] if c["slug"] == UNIT)
    assert mine["tasks"] == 124 and 0 < mine["done"] < 124
    assert mine["period"] == "2023-Q4"  # the quarter reported on, on 20/12/2023
    assert mine["frozen"] == demo.get(f"/api/units/{UNIT}/snapshots/2023-Q4")["frozen"]
    assert [p["id"] for p in mine["plans"]] == ["cchc-2023", "papi-2023", "kl91-2023"]
    assert mine["plans"] == demo.get(f"/api/units/{UNIT}/plans", REVIEWER)
    assert view["tasks"] == 248 and view["done"] == sum(c["done"] for c in view["communes"])
    assert demo.get("/api/city/nha-trang/overview", ADMIN) == view
    assert demo.get("/api/city/cam-ranh/overview", ADMIN)["communes"] == []  # no plans there
    assert_error(demo.client.get("/api/city/cam-ranh/overview", headers=demo.h(REVIEWER)),
                 403, "forbidden", "city")
    assert_error(demo.client.get("/api/city/nha-trang/overview", headers=demo.h(REVIEWER_CR)),
                 403, "forbidden", "city")
    for user in (OFFICER, LEADER):
        assert_error(demo.client.get("/api/city/nha-trang/overview", headers=demo.h(user)),
                     403, "forbidden", "role")
    assert_error(demo.client.get("/api/city/khong-co/overview", headers=demo.h(ADMIN)), 404,
                 "not_found", "city")


# ---------------------------------------------------------------- OpenAPI


API_PATHS = {
    "/api/me", "/api/units", "/api/units/{unit}/plans", "/api/units/{unit}/tasks",
    "/api/units/{unit}/tasks/{plan}/{code}", "/api/units/{unit}/tasks/{plan}/{code}/history",
    "/api/units/{unit}/tasks/{plan}/{code}/transitions",
    "/api/units/{unit}/tasks/{plan}/{code}/owner",
    "/api/units/{unit}/tasks/{plan}/{code}/deadline",
    "/api/units/{unit}/tasks/{plan}/{code}/notes", "/api/units/{unit}/obligations",
    "/api/units/{unit}/obligations/{code}/{period}/submit",
    "/api/units/{unit}/obligations/{code}/{period}/reopen",
    "/api/units/{unit}/snapshots/{period}", "/api/units/{unit}/snapshots/{period}/freeze",
    "/api/units/{unit}/snapshots/{period}/files/{name}",
    "/api/units/{unit}/snapshots/{period}/check", "/api/city/{city}/overview",
    "/api/summary/{body}/{period}", "/api/summary/{body}/{period}/statistics",
}


def test_openapi_describes_the_api_with_the_bearer_scheme(demo: Demo) -> None:
    res = demo.client.get("/openapi.json")
    assert res.status_code == 200
    schema = res.json()
    assert demo.client.get("/api/openapi.json").json() == schema
    assert set(schema["paths"]) == API_PATHS
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": schema["components"][
            "securitySchemes"]["bearerAuth"]["description"]}
    methods = 0
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            methods += 1
            assert op["security"] == [{"bearerAuth": []}], (path, method)
            assert "422" not in op["responses"], (path, method)
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"}
            if method in ("post", "put") and not path.endswith("/freeze"):
                assert "409" in op["responses"] and "400" in op["responses"]
    assert methods == 20  # 18 + GET /api/summary/{body}/{period} and …/statistics
    body = schema["paths"]["/api/units/{unit}/tasks/{plan}/{code}/transitions"]["post"]
    assert body["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TransitionIn"}
    transition_in = schema["components"]["schemas"]["TransitionIn"]
    assert set(transition_in["required"]) == {"trigger", "expected_version"}
    assert transition_in["additionalProperties"] is False
    task = schema["components"]["schemas"]["TaskOut"]["properties"]
    assert task["due_on"]["anyOf"][0] == {"type": "string", "format": "date"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]


# ---------------------------------------------------------------- SQLite and PostgreSQL


def small_world(rt: Runtime) -> dict[str, str]:
    """Two communes of one city with their plans, one of another city; a token per role."""
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    add_units(rt)
    api.load_plans(rt, [UNIT, OTHER], PLAN_PATHS)
    users = {OFFICER: ("officer", UNIT), LEADER: ("leader", UNIT), OFFICER_B: ("officer", OTHER),
             REVIEWER: ("reviewer", "nha-trang"), REVIEWER_CR: ("reviewer", "cam-ranh"),
             "quantri": ("admin", None)}
    for name, (role, unit) in users.items():
        accounts.create_user(rt, name, password="mat-khau-1", role=role, unit=unit,
                             full_name=f"Người dùng {name}")
    return {name: accounts.create_api_token(rt, name, "kiểm thử")[0] for name in users}


@pytest.fixture
def small(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Runtime, TestClient,
                                                                         dict[str, str]]]:
    monkeypatch.setattr(accounts, "hasher", CHEAP)
    accounts._dummy_hash.cache_clear()
    rt = open_runtime(db_url, clock=fixed_clock(NOW))
    try:
        tokens = small_world(rt)
        yield rt, TestClient(create_app(rt, WebSettings())), tokens
    finally:
        rt.db.dispose()
        accounts._dummy_hash.cache_clear()


def history_rows(rt: Runtime) -> int:
    with rt.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(TaskHistory)) or 0)


def test_access_and_conflicts_on_both_databases(
        small: tuple[Runtime, TestClient, dict[str, str]]) -> None:
    rt, client, tokens = small
    h = {name: bearer(t) for name, t in tokens.items()}
    task = f"/api/units/{UNIT}/tasks/cchc-2023/1"
    other = f"/api/units/{OTHER}/tasks/cchc-2023/1"
    version = client.get(task, headers=h[OFFICER]).json()["version"]
    complete = {"trigger": "complete", "evidence": [DOC], "result": RESULT,
                "expected_version": version}
    rows = history_rows(rt)
    # reads: own commune yes, the other no; the city's reviewer both; another city's neither
    assert client.get(task, headers=h[OFFICER]).status_code == 200
    assert_error(client.get(other, headers=h[OFFICER]), 403, "forbidden", "unit")
    assert client.get(other, headers=h[OFFICER_B]).status_code == 200
    assert_error(client.get(task, headers=h[OFFICER_B]), 403, "forbidden", "unit")
    assert client.get(task, headers=h[REVIEWER]).status_code == 200
    assert client.get(other, headers=h[REVIEWER]).status_code == 200
    assert_error(client.get(task, headers=h[REVIEWER_CR]), 403, "forbidden", "unit")
    assert [u["slug"] for u in client.get("/api/units", headers=h[REVIEWER]).json()] == [
        OTHER, UNIT]
    # writes refused: another commune's officer, any reviewer, a bad document, no token
    assert_error(client.post(task + "/transitions", headers=h[OFFICER_B], json=complete),
                 403, "forbidden", "unit")
    assert_error(client.post(task + "/transitions", headers=h[REVIEWER], json=complete),
                 403, "forbidden", "role")
    assert_error(client.post(task + "/transitions", headers=h[OFFICER],
                             json={**complete, "evidence": [BAD_DOC]}), 400, "invalid",
                 "evidence")
    assert_error(client.post(task + "/transitions", json=complete), 401, "unauthorized")
    assert history_rows(rt) == rows
    # the first of two writers with the same version wins, the second gets 409
    ok = client.post(task + "/transitions", headers=h[OFFICER], json=complete)
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    late = client.post(task + "/notes", headers=h[LEADER],
                       json={"note": "ghi chú", "expected_version": version})
    assert_error(late, 409, "conflict", "expected_version")
    assert history_rows(rt) == rows + 1
    history = client.get(task + "/history", headers=h[REVIEWER]).json()
    assert (history[-1]["actor"], history[-1]["role"]) == (f"Người dùng {OFFICER}", "officer")
    overview = client.get("/api/city/nha-trang/overview", headers=h[REVIEWER]).json()
    assert [(c["slug"], c["done"]) for c in overview["communes"]] == [(OTHER, 0), (UNIT, 1)]
    assert client.get("/api/city/nha-trang/overview", headers=h["quantri"]).json() == overview



def test_concurrent_writers_with_one_version_one_wins(
        small: tuple[Runtime, TestClient, dict[str, str]]) -> None:
    """Eight clients send a change based on the same version at the same instant: exactly one
    is applied, the others get 409 — never a silently lost update."""
    rt, client, tokens = small
    url = f"/api/units/{UNIT}/tasks/cchc-2023/2"
    version = client.get(url, headers=bearer(tokens[OFFICER])).json()["version"]
    rows = history_rows(rt)
    barrier = threading.Barrier(8)

    def send(i: int) -> int:
        own = TestClient(client.app)
        user = OFFICER if i % 2 else LEADER
        barrier.wait()
        res = own.post(url + "/notes", headers=bearer(tokens[user]),
                       json={"note": f"Ghi nhận số {i}", "expected_version": version})
        return int(res.status_code)

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(send, range(8)))
    assert statuses == [200] + [409] * 7
    assert history_rows(rt) == rows + 1
    assert client.get(url, headers=bearer(tokens[OFFICER])).json()["version"] == version + 1


def test_snapshots_and_files_on_both_databases(
        small: tuple[Runtime, TestClient, dict[str, str]]) -> None:
    _rt, client, tokens = small
    h = {name: bearer(t) for name, t in tokens.items()}
    base = f"/api/units/{UNIT}/snapshots/2023-Q3"
    live = client.get(base, headers=h[REVIEWER]).json()
    assert not live["frozen"] and [a["total"] for a in live["appendices"]] == [23, 54, 47]
    assert_error(client.post(base + "/freeze", headers=h[OFFICER]), 403, "forbidden", "role")
    assert_error(client.post(base + "/freeze", headers=h[REVIEWER]), 403, "forbidden", "role")
    assert_error(client.get(base, headers=h[OFFICER_B]), 403, "forbidden", "unit")
    frozen = client.post(base + "/freeze", headers=h[LEADER])
    assert frozen.status_code == 200 and frozen.json()["frozen"]
    assert_error(client.post(base + "/freeze", headers=h[LEADER]), 409, "conflict", "period")
    xlsx = client.get(base + "/files/phu-luc-3.xlsx", headers=h[REVIEWER])
    assert xlsx.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.max_row > 47
    docx = client.get(base + "/files/phu-luc-3.docx", headers=h[OFFICER])
    assert len(DocxDocument(io.BytesIO(docx.content)).tables) >= 1
