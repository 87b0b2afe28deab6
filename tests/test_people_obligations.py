"""People (validation, phones, owner matching) and report obligations (load, submit, reopen)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from conftest import Clock
from sqlalchemy import func, select

from engine import api
from engine.directory.people import (
    add_person,
    list_people,
    load_people_file,
    owner_key,
    resolve_owner,
    unit_leader,
)
from engine.domain.obligations import (
    ObligationDueView,
    assign_obligation,
    expand,
    list_obligation_dues,
    load_obligations,
    obligation_history,
    reopen_obligation,
    replay_state,
    submit_obligation,
)
from engine.domain.tasks import Actor
from engine.errors import Conflict, Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import Document, ObligationDue, ObligationHistory, Person, Unit
from plans import DEMO_BUNDLE, ObligationSpec, PlanSpec, load_model
from plans.errors import DataFileError
from plans.loader import parse_model
from plans.people_schema import PeopleFile, PersonSpec, normalize_phone

PLAN_FILES = ["cchc-2023.yaml", "papi-2023.yaml", "kl91-2023.yaml"]
OFFICER = Actor("Nguyễn Thị Bích Nhi", "officer")
LEADER = Actor("Nguyễn Quốc Bảo", "leader")


def load_demo(rt: Runtime, *, plans: bool = False, people: bool = True,
              obligations: bool = True) -> None:
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    if plans:
        api.load_plans(rt, ["vinh-thanh"], [DEMO_BUNDLE / f for f in PLAN_FILES])
    if people:
        load_people_file(rt, DEMO_BUNDLE / "people.yaml")
    if obligations:
        load_obligations(rt, "vinh-thanh", DEMO_BUNDLE / "obligations-2023.yaml")


def _dues(rt: Runtime) -> dict[tuple[str, str], ObligationDueView]:
    return {(d.code, d.period_key): d for d in list_obligation_dues(rt, "vinh-thanh")}


# ---------------------------------------------------------------- phones, people validation


@pytest.mark.parametrize(("typed", "stored"), [
    ("0912 345 678", "84912345678"),
    ("0912.345.678", "84912345678"),
    ("0912-345-678", "84912345678"),
    ("+84 912 345 678", "84912345678"),
    ("(+84) 912.345.678", "84912345678"),
    ("84912345678", "84912345678"),
    ("0335123456", "84335123456"),
    ("0587 123 456", "84587123456"),
    ("0703 123 456", "84703123456"),
    ("0868 123 456", "84868123456"),
])
def test_phone_normalised_to_84(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored
    assert PersonSpec(name="A", unit="vinh-thanh", phone=typed).phone == stored


@pytest.mark.parametrize(("typed", "reason"), [
    ("0212 345 678", "không phải số di động"),  # a landline (02x)
    ("0168 812 3456", "10 chữ số"),  # pre-2018 11-digit mobile
    ("091 234 567", "10 chữ số"),
    ("+1 415 555 0100", "+84"),
    ("0912 34a 678", "không phải chữ số"),
    ("0612 345 678", "không phải số di động"),
])
def test_bad_phones_refused_in_both_languages(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)) as exc:
        normalize_phone(typed)
    vi, en = str(exc.value).split(" / ")
    assert typed in vi and "số điện thoại" in vi
    assert en.startswith("phone")


def test_add_person_refuses_bad_phone_naming_the_field(sqlite_rt: Runtime) -> None:
    load_demo(sqlite_rt, people=False, obligations=False)
    with pytest.raises(ValidationFailed) as exc:
        add_person(sqlite_rt, unit="vinh-thanh", name="Nguyễn Văn A", phone="0212 345 678")
    assert exc.value.field == "phone"
    assert "Số điện thoại '0212 345 678'" in exc.value.message_vi
    assert "not a Vietnamese mobile number" in exc.value.message_en
    assert list_people(sqlite_rt) == []


def test_add_person_lists_every_bad_field(sqlite_rt: Runtime) -> None:
    load_demo(sqlite_rt, people=False, obligations=False)
    with pytest.raises(ValidationFailed) as exc:
        add_person(sqlite_rt, unit="vinh-thanh", name="Nguyễn Văn A", role="boss",
                   email="not-an-email", phone="0912 345 678")
    fields = {p.field for p in exc.value.problems}
    assert fields == {"role", "email"}
    assert list_people(sqlite_rt) == []


def test_channels_default_and_validation() -> None:
    both = PersonSpec(name="A", phone="0912345678", email="a@x.example.vn")
    assert both.preferred_channels == ["zalo", "email"]
    assert PersonSpec(name="A", zalo_user_id="123456789").preferred_channels == ["zalo"]
    assert PersonSpec(name="A", email="a@x.example.vn").preferred_channels == ["email"]
    assert PersonSpec(name="A", phone="0912345678", email="a@x.example.vn",
                      channels=["email", "zalo"]).preferred_channels == ["email", "zalo"]
    with pytest.raises(ValueError, match="không có địa chỉ email"):
        PersonSpec(name="A", phone="0912345678", channels=["email"])
    with pytest.raises(ValueError, match="ít nhất một địa chỉ"):
        PersonSpec(name="A")
    with pytest.raises(ValueError, match="hai lần"):
        PersonSpec(name="A", phone="0912345678", channels=["zalo", "zalo"])


def test_people_file_errors_carry_line() -> None:
    text = (
        "schema_version: 1\n"
        "unit: vinh-thanh\n"
        "people:\n"
        "  - name: Nguyễn Văn A\n"
        "    phone: 84912345678\n"  # unquoted: YAML reads a number
        "  - name: Nguyễn Văn B\n"
        "    phone: '0212 345 678'\n"
        "    channels: [sms]\n"
    )
    with pytest.raises(DataFileError) as exc:
        parse_model(PeopleFile, text, "people.yaml")
    problems = {(p.location, p.line): p for p in exc.value.file_problems}
    assert set(problems) == {("people[0].phone", 5), ("people[1].phone", 7),
                             ("people[1].channels[0]", 8)}
    assert "dấu nháy" in problems[("people[0].phone", 5)].message_vi
    assert "không phải số di động" in problems[("people[1].phone", 7)].message_vi


def test_people_file_cross_checks_carry_line() -> None:
    text = (
        "schema_version: 1\n"
        "people:\n"
        "  - name: Nguyễn Văn B\n"
        "    unit: vinh-thanh\n"
        "    email: b@vinhthanh.example.vn\n"
        "  - name: nguyễn văn b\n"
        "    unit: vinh-thanh\n"
        "    email: b2@vinhthanh.example.vn\n"
        "  - name: Trần Văn C\n"
        "    phone: '0912 345 678'\n"
    )
    with pytest.raises(DataFileError) as exc:
        parse_model(PeopleFile, text, "people.yaml")
    problems = {(p.location, p.line): p.message_vi for p in exc.value.file_problems}
    assert "hai lần" in problems[("people[1].name", 6)]
    assert "thiếu mã đơn vị" in problems[("people[2].unit", 9)]
    text = "people:\n  - name: Trần Văn C\n    phone: '0912345678'\n    channels: [email]\n"
    with pytest.raises(DataFileError) as exc:
        parse_model(PeopleFile, text, "people.yaml")
    [problem] = exc.value.file_problems
    assert (problem.location, problem.line) == ("people[0].channels[0]", 4)
    assert "không có địa chỉ email" in problem.message_vi


def _owners() -> set[str]:
    owners: set[str] = set()
    for f in PLAN_FILES:
        owners |= {t.owner for _p, t in load_model(PlanSpec, DEMO_BUNDLE / f).iter_tasks()
                   if t.owner}
    from plans import ObligationsFile

    obligations = load_model(ObligationsFile, DEMO_BUNDLE / "obligations-2023.yaml")
    owners |= {o.owner for o in obligations.obligations if o.owner}
    return owners


def test_demo_people_cover_every_owner(rt: Runtime) -> None:
    load_demo(rt, obligations=False)
    owners = _owners()
    assert len(owners) == 7
    with rt.db.read() as session:
        unit = session.scalar(select(Unit).where(Unit.slug == "vinh-thanh"))
        assert unit is not None
        for owner in sorted(owners):
            people = resolve_owner(session, unit.id, owner)
            assert people, owner
            assert all(p.email and p.phone and p.phone.startswith("84") for p in people)
        leader = unit_leader(session, unit.id)
        assert leader is not None and leader.name == "Nguyễn Quốc Bảo"
        tu_phap = resolve_owner(session, unit.id, "Công chức Tư pháp - Hộ tịch")
        assert [p.name for p in tu_phap] == ["Nguyễn Thị Bích Nhi", "Nguyễn Văn Sỹ"]
    reviewers = [p for p in list_people(rt) if p.role == "reviewer"]
    assert [(p.unit, p.name) for p in reviewers] == [("nha-trang", "Lê Minh Khoa")]
    assert all(unicodedata.is_normalized("NFC", p.name) for p in list_people(rt))


def test_people_load_is_idempotent(rt: Runtime) -> None:
    load_demo(rt, obligations=False)
    again = load_people_file(rt, DEMO_BUNDLE / "people.yaml")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 11)
    with rt.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 11
    changed = add_person(rt, unit="vinh-thanh", name="Nguyễn Văn Sỹ", phone="0935 110 999",
                         title="Công chức Tư pháp - Hộ tịch")
    assert changed.phone == "84935110999" and changed.channels == ["zalo"]
    assert len(list_people(rt, "vinh-thanh")) == 10


def test_resolve_owner_nfc_case_dashes_and_names(sqlite_rt: Runtime) -> None:
    load_demo(sqlite_rt, obligations=False)
    nfd = unicodedata.normalize("NFD", "CÔNG CHỨC TƯ PHÁP – HỘ TỊCH")
    assert owner_key(nfd) == owner_key("Công chức Tư pháp - Hộ tịch")
    with sqlite_rt.db.read() as session:
        uid = session.scalar(select(Unit.id).where(Unit.slug == "vinh-thanh"))
        assert uid is not None
        assert len(resolve_owner(session, uid, nfd)) == 2
        assert [p.name for p in resolve_owner(session, uid, "nguyễn thị thúy vân")] == [
            "Nguyễn Thị Thúy Vân"]
        assert resolve_owner(session, uid, "Nguyen Thi Thuy Van") == []  # diacritics count
        assert resolve_owner(session, uid, "Công chức Quân sự") == []
        assert len(resolve_owner(session, uid, "Phó Chủ tịch UBND xã")) == 2
    add_person(sqlite_rt, unit="vinh-thanh", name="Nguyễn Văn Sỹ", email="synv@x.example.vn",
               title="Công chức Tư pháp - Hộ tịch", active=False)
    with sqlite_rt.db.read() as session:
        assert [p.name for p in resolve_owner(session, uid, "Công chức Tư pháp - Hộ tịch")] == [
            "Nguyễn Thị Bích Nhi"]


def test_add_person_to_unknown_unit(sqlite_rt: Runtime) -> None:
    with pytest.raises(NotFound):
        add_person(sqlite_rt, unit="khong-co", name="A", email="a@x.example.vn")


# ---------------------------------------------------------------- obligations: expansion, load


def test_expand_recurring_schedules() -> None:
    monthly = ObligationSpec(id="m", title="T", source_plan="KH", recipient="P",
                             schedule="monthly", due_day=31)
    periods = expand(monthly, 2023)
    assert [p.key for p in periods][:3] == ["2023-01", "2023-02", "2023-03"]
    assert periods[1].due_on == date(2023, 2, 28)  # 31 → the month's last day
    assert periods[5].due_on == date(2023, 6, 30)
    quarterly = ObligationSpec(id="q", title="T", source_plan="KH", recipient="P",
                               schedule="quarterly", due_day=10, due_months=[3, 6, 9, 12])
    assert [(p.key, p.due_on) for p in expand(quarterly, 2023)][2] == (
        "2023-Q3", date(2023, 9, 10))
    yearly = ObligationSpec(id="y", title="T", source_plan="KH", recipient="P",
                            schedule="yearly", due_day=5, due_months=[12])
    assert [(p.key, p.due_on) for p in expand(yearly, 2024)] == [("2024", date(2024, 12, 5))]


def test_load_seed_obligations(rt: Runtime) -> None:
    load_demo(rt, people=False)
    dues = _dues(rt)
    assert {k: d.due_on for k, d in dues.items()} == {
        ("bc-kh-138-2023", "2023"): date(2023, 12, 6),
        ("bc-kh-139-2023", "2023"): date(2023, 12, 6),
        ("bc-kh-140-2023", "2023-H1"): date(2023, 6, 15),
        ("bc-kh-140-2023", "2023-H2"): date(2023, 12, 15),
        ("bc-kh-147-2023", "2023"): date(2023, 11, 21),
    }
    assert all(d.state == "pending" and d.version == 1 for d in dues.values())
    h1 = dues[("bc-kh-140-2023", "2023-H1")]
    assert h1.overdue  # the clock is 20/9/2023, the seed's Q3 report time
    assert h1.period_label == "6 tháng đầu năm 2023"
    assert h1.owner == "Công chức Tư pháp - Hộ tịch"
    assert h1.link == f"/units/vinh-thanh/obligations/{h1.id}"
    assert not dues[("bc-kh-147-2023", "2023")].overdue


def test_reload_keeps_states(rt: Runtime, clock: Clock) -> None:
    load_demo(rt, people=False)
    clock.set("2023-12-10T09:00")
    submit_obligation(rt, "vinh-thanh", "bc-kh-138-2023", "2023",
                      "Báo cáo số 1050/BC-UBND ngày 05/12/2023", OFFICER)
    res = load_obligations(rt, "vinh-thanh", DEMO_BUNDLE / "obligations-2023.yaml")
    assert (res.created, res.rescheduled, res.cancelled, res.unchanged) == (0, 0, 0, 5)
    d = _dues(rt)[("bc-kh-138-2023", "2023")]
    assert (d.state, d.version, d.submitted_on) == ("submitted", 2, date(2023, 12, 5))
    with rt.db.read() as session:
        assert session.scalar(select(func.count()).select_from(ObligationDue)) == 5


def _write(tmp_path: Path, body: str, name: str = "ob.yaml") -> Path:
    path = tmp_path / name
    path.write_text("schema_version: 1\nyear: 2023\nobligations:\n" + body, encoding="utf-8")
    return path


SIX_MONTHLY = """\
  - id: bc-6t
    title: Báo cáo 6 tháng
    source_plan: Kế hoạch số 140/KH-UBND ngày 15/02/2023
    recipient: Phòng Tư pháp thành phố Nha Trang
    owner: Công chức Tư pháp - Hộ tịch
    schedule: six_monthly
    due_day: {day}
    due_months: {months}
"""


def test_reload_reschedules_cancels_and_restores(rt: Runtime, tmp_path: Path) -> None:
    load_demo(rt, people=False, obligations=False)
    path = _write(tmp_path, SIX_MONTHLY.format(day=15, months="[6, 12]"))
    assert load_obligations(rt, "vinh-thanh", path).created == 2
    res = load_obligations(rt, "vinh-thanh",
                           _write(tmp_path, SIX_MONTHLY.format(day=20, months="[6, 12]")))
    assert res.rescheduled == 2
    hist = obligation_history(rt, "vinh-thanh", "bc-6t", "2023-H1")
    assert [(h.seq, h.event, h.note) for h in hist] == [
        (2, "reschedule", "Hạn: 15/06/2023 → 20/06/2023")]
    monthly = SIX_MONTHLY.replace("six_monthly", "yearly").format(day=20, months="[12]")
    res = load_obligations(rt, "vinh-thanh", _write(tmp_path, monthly))
    assert (res.created, res.cancelled) == (1, 2)
    states = {d.period_key: d.state for d in list_obligation_dues(rt, "vinh-thanh")}
    assert states == {"2023-H1": "cancelled", "2023-H2": "cancelled", "2023": "pending"}
    res = load_obligations(rt, "vinh-thanh",
                           _write(tmp_path, SIX_MONTHLY.format(day=20, months="[6, 12]")))
    assert (res.restored, res.cancelled) == (2, 1)
    hist = obligation_history(rt, "vinh-thanh", "bc-6t", "2023-H1")
    assert [h.event for h in hist] == ["reschedule", "cancel", "restore"]
    assert replay_state(hist) == "pending"


def test_obligations_file_errors_carry_line(tmp_path: Path, sqlite_rt: Runtime) -> None:
    load_demo(sqlite_rt, people=False, obligations=False)
    path = _write(tmp_path, SIX_MONTHLY.format(day=15, months="[6]")
                  + SIX_MONTHLY.format(day=15, months="[6, 3]"))
    with pytest.raises(DataFileError) as exc:
        load_obligations(sqlite_rt, "vinh-thanh", path)
    found = {(p.location, p.line) for p in exc.value.file_problems}
    assert ("obligations[0].due_months", 11) in found
    assert ("obligations[1].id", 12) in found
    assert ("obligations[1].due_months[1]", 19) in found
    assert list_obligation_dues(sqlite_rt, "vinh-thanh") == []


# ---------------------------------------------------------------- submit, late, reopen


def _db_counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.db.read() as session:
        return (
            int(session.scalar(select(func.sum(ObligationDue.version))) or 0),
            int(session.scalar(select(func.count()).select_from(ObligationHistory)) or 0),
            int(session.scalar(select(func.count()).select_from(Document)) or 0),
        )


def test_submit_on_time(rt: Runtime, clock: Clock) -> None:
    load_demo(rt)
    clock.set("2023-12-10T09:00")
    res = submit_obligation(rt, "vinh-thanh", "bc-kh-139-2023", "2023",
                            "Báo cáo số 1050/BC-UBND ngày 05/12/2023", OFFICER,
                            expected_version=1)
    assert (res.from_state, res.to_state, res.version, res.late) == (
        "pending", "submitted", 2, False)
    assert res.effective_on == date(2023, 12, 5)
    d = _dues(rt)[("bc-kh-139-2023", "2023")]
    assert d.report_doc == "Báo cáo số 1050/BC-UBND ngày 05/12/2023"
    assert d.submitted_on == date(2023, 12, 5) and not d.overdue
    hist = obligation_history(rt, "vinh-thanh", "bc-kh-139-2023", "2023")
    assert [(h.seq, h.event, h.actor, h.role, h.effective_on) for h in hist] == [
        (2, "submit", "Nguyễn Thị Bích Nhi", "officer", date(2023, 12, 5))]
    assert hist[0].evidence[0]["no"] == "1050/BC-UBND"
    assert replay_state(hist) == "submitted"
    assert _db_counts(rt)[2] == 1  # the report is in the unit's document register


def test_submit_after_due_is_late(rt: Runtime, clock: Clock) -> None:
    load_demo(rt)
    clock.set("2023-09-20T09:00")
    res = submit_obligation(rt, "vinh-thanh", "bc-kh-140-2023", "2023-H1",
                            "Báo cáo số 980/BC-UBND ngày 18/9/2023", OFFICER)
    assert (res.to_state, res.late, res.event) == ("late", True, "submit_late")
    assert _dues(rt)[("bc-kh-140-2023", "2023-H1")].state_label == "Đã gửi quá hạn"


def test_due_on_a_day_off_counts_from_the_next_working_day(sqlite_rt: Runtime,
                                                            clock: Clock,
                                                            tmp_path: Path) -> None:
    # Due Saturday 16/12/2023: a report dated Monday 18/12 is on time, Tuesday 19/12 late.
    load_demo(sqlite_rt, people=False, obligations=False)
    load_obligations(sqlite_rt, "vinh-thanh", _write(
        tmp_path, SIX_MONTHLY.format(day=16, months="[6, 12]")))
    clock.set("2023-12-20T09:00")
    on_time = submit_obligation(sqlite_rt, "vinh-thanh", "bc-6t", "2023-H2",
                                "Báo cáo số 1101/BC-UBND ngày 18/12/2023", OFFICER)
    assert on_time.to_state == "submitted"
    late = submit_obligation(sqlite_rt, "vinh-thanh", "bc-6t", "2023-H1",
                             "Báo cáo số 1102/BC-UBND ngày 19/12/2023", OFFICER)
    assert late.to_state == "late"


BAD_DOCUMENTS = [
    ("", "Phải ghi số, ngày"),
    ("Báo cáo số 1050/BC-UBND ngày 35/12/2023", "không tồn tại"),
    ("Báo cáo số 1050/BC-UBND ngày 15/12/2023", "sau ngày hôm nay"),
    ("Kế hoạch số 1050/KH-UBND ngày 05/12/2023", "phải là Báo cáo hoặc Công văn"),
    ("Báo cáo số 15/BC-UBND ngày 05/01/2022", "có trước kỳ báo cáo"),
    ("Báo cáo ngày 05/12/2023", "Văn bản 'Báo cáo ngày 05/12/2023'"),
]


def test_bad_document_changes_nothing(rt: Runtime, clock: Clock) -> None:
    load_demo(rt)
    clock.set("2023-12-10T09:00")
    before = _db_counts(rt)
    for doc, reason in BAD_DOCUMENTS:
        with pytest.raises(ValidationFailed) as exc:
            submit_obligation(rt, "vinh-thanh", "bc-kh-138-2023", "2023", doc, OFFICER)
        assert exc.value.field == "doc", doc
        assert reason in exc.value.message_vi, (doc, exc.value.message_vi)
        assert exc.value.message_en
    assert _db_counts(rt) == before
    assert _dues(rt)[("bc-kh-138-2023", "2023")].state == "pending"


def test_conflicts_and_roles(rt: Runtime, clock: Clock) -> None:
    load_demo(rt)
    clock.set("2023-12-10T09:00")
    doc = "Báo cáo số 1050/BC-UBND ngày 05/12/2023"
    with pytest.raises(Conflict):
        submit_obligation(rt, "vinh-thanh", "bc-kh-138-2023", "2023", doc, OFFICER,
                          expected_version=7)
    with pytest.raises(Forbidden):
        submit_obligation(rt, "vinh-thanh", "bc-kh-138-2023", "2023", doc,
                          Actor("Lê Minh Khoa", "reviewer"))
    with pytest.raises(NotFound) as nf:
        submit_obligation(rt, "vinh-thanh", "bc-kh-138-2023", "2023-H1", doc, OFFICER)
    assert nf.value.field == "period"
    before = _db_counts(rt)
    submit_obligation(rt, "vinh-thanh", "bc-kh-138-2023", "2023", doc, OFFICER)
    with pytest.raises(Conflict, match="mở lại"):
        submit_obligation(rt, "vinh-thanh", "bc-kh-138-2023", "2023", doc, OFFICER)
    # The same number with another date is another document: the register refuses it.
    with pytest.raises(Conflict):
        submit_obligation(rt, "vinh-thanh", "bc-kh-139-2023", "2023",
                          "Báo cáo số 1050/BC-UBND ngày 06/12/2023", OFFICER)
    assert _db_counts(rt) == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_reopen_by_leader_with_reason(rt: Runtime, clock: Clock) -> None:
    load_demo(rt)
    clock.set("2023-12-10T09:00")
    submit_obligation(rt, "vinh-thanh", "bc-kh-147-2023", "2023",
                      "Báo cáo số 1040/BC-UBND ngày 01/12/2023", OFFICER)
    with pytest.raises(Forbidden):
        reopen_obligation(rt, "vinh-thanh", "bc-kh-147-2023", "2023", "Sai số liệu", OFFICER)
    with pytest.raises(ValidationFailed) as exc:
        reopen_obligation(rt, "vinh-thanh", "bc-kh-147-2023", "2023", " ", LEADER)
    assert exc.value.field == "note"
    res = reopen_obligation(rt, "vinh-thanh", "bc-kh-147-2023", "2023",
                            "Phòng Tư pháp trả lại, thiếu số liệu", LEADER)
    assert (res.from_state, res.to_state, res.version) == ("late", "pending", 3)
    d = _dues(rt)[("bc-kh-147-2023", "2023")]
    assert (d.state, d.report_doc, d.submitted_on) == ("pending", None, None)
    with pytest.raises(TransitionNotAllowed):
        reopen_obligation(rt, "vinh-thanh", "bc-kh-147-2023", "2023", "lại", LEADER)
    hist = obligation_history(rt, "vinh-thanh", "bc-kh-147-2023", "2023")
    assert [h.event for h in hist] == ["submit_late", "reopen"]
    assert replay_state(hist) == "pending"


def test_assign_obligation(rt: Runtime) -> None:
    load_demo(rt)
    with pytest.raises(Forbidden):
        assign_obligation(rt, "vinh-thanh", "bc-kh-138-2023", "2023", "Nguyễn Văn Sỹ", OFFICER)
    res = assign_obligation(rt, "vinh-thanh", "bc-kh-138-2023", "2023", "Nguyễn Văn Sỹ",
                            LEADER)
    assert res.version == 2
    assert _dues(rt)[("bc-kh-138-2023", "2023")].owner == "Nguyễn Văn Sỹ"
    assert _dues(rt)[("bc-kh-139-2023", "2023")].owner == "Công chức Tư pháp - Hộ tịch"
