"""Task commands against real storage (SQLite and PostgreSQL): optimistic versions, history in
the same transaction, append-only history, refusals that write nothing, evidence documents,
effective dates and on-time/late status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import MetaData, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

import engine.domain.tasks as tasks_module
from engine import api
from engine.domain.task_writes import TaskWriter
from engine.domain.tasks import (
    Actor,
    TaskKey,
    add_note,
    assign,
    find_task,
    history,
    replay_state,
    set_deadline,
    transition,
)
from engine.domain.timeliness import Timeliness, effective_due, timeliness
from engine.errors import CchcError, Conflict, Forbidden, NotFound, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import Document, TaskEvidence, TaskHistory
from plans import DEMO_BUNDLE

OFFICER = Actor("Trần Văn A", "officer")
OFFICER_B = Actor("Lê Thị B", "officer")
LEADER = Actor("Nguyễn Quốc Bảo", "leader")
REVIEWER = Actor("Phòng Nội vụ", "reviewer")
KH_223 = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"
QD_19 = "Quyết định số 19/QĐ-UBND ngày 31/01/2023"
CV_1125 = "Công văn số 1125/UBND-VP ngày 01/3/2022"


def key(code: str, plan: str = "cchc-2023", unit: str = "vinh-thanh") -> TaskKey:
    return TaskKey(unit, plan, code)


@pytest.fixture
def loaded(rt: Runtime) -> Runtime:
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    api.load_plans(rt, ["vinh-thanh"], [DEMO_BUNDLE / "cchc-2023.yaml"])
    return rt


_TABLES: dict[str, MetaData] = {}


def dump_db(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the migrations created, in a comparable form."""
    meta = _TABLES.get(rt.db.url)
    if meta is None:
        meta = _TABLES[rt.db.url] = MetaData()
        meta.reflect(bind=rt.db.engine)
    assert len(meta.tables) >= 9
    with rt.db.engine.connect() as conn:
        return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
                for t in meta.sorted_tables}


def evidence_of(rt: Runtime, k: TaskKey) -> list[str]:
    with rt.db.read() as s:
        _unit, task = find_task(s, k)
        return sorted(s.scalars(
            select(Document.rendered).join(TaskEvidence, TaskEvidence.document_id == Document.id)
            .where(TaskEvidence.task_id == task.id)))


# --- optimistic versions ------------------------------------------------------------------------


def test_the_first_write_wins_the_second_gets_a_conflict(loaded: Runtime) -> None:
    rt = loaded
    k = key("3")
    seen_by_a = api.get_task(rt, k).version
    seen_by_b = api.get_task(rt, k).version
    assert seen_by_a == seen_by_b == 1
    res = transition(rt, k, "complete", OFFICER, evidence=[KH_223], result="Đã thực hiện",
                     expected_version=seen_by_a)
    assert res.version == 2
    after_a = dump_db(rt)
    attempts: list[Callable[[], object]] = [
        lambda: transition(rt, k, "wait", OFFICER_B, note="Chờ văn bản",
                           expected_version=seen_by_b),
        lambda: add_note(rt, k, "Ghi chú của B", OFFICER_B, expected_version=seen_by_b),
        lambda: assign(rt, k, "Công chức Tư pháp - Hộ tịch", LEADER, expected_version=seen_by_b),
        lambda: set_deadline(rt, k, "Quý IV/2023", LEADER, expected_version=seen_by_b),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as info:
            attempt()
        err = info.value
        assert "đã được người khác cập nhật" in err.message_vi
        assert "phiên bản hiện tại 2" in err.message_vi and "phiên bản 1" in err.message_vi
        assert "tải lại" in err.message_vi and "reload" in err.message_en
        assert err.field == "version"
        assert dump_db(rt) == after_a
    view = api.get_task(rt, k)
    assert (view.state, view.result, view.version) == ("done", "Đã thực hiện", 2)
    # B reloads and retries on the current version
    assert add_note(rt, k, "Ghi chú của B", OFFICER_B, expected_version=2).version == 3


def test_a_write_landing_between_read_and_update_is_a_conflict(
    loaded: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No expected version given: the compare-and-set on the version column still refuses a
    write based on a row another officer changed after it was read."""
    rt = loaded
    k = key("4")
    real_find = tasks_module.find_task
    raced: list[int] = []

    def find_then_race(session: Any, wanted: TaskKey, **kwargs: Any) -> Any:
        found = real_find(session, wanted, **kwargs)
        if not raced:  # officer A's whole command commits after B has read the row
            raced.append(1)
            transition(rt, k, "complete", OFFICER, evidence=[KH_223], result="Kết quả của A")
        return found

    monkeypatch.setattr(tasks_module, "find_task", find_then_race)
    with pytest.raises(Conflict) as info:
        transition(rt, k, "wait", OFFICER_B, note="Ghi chú của B")
    assert "vừa được người khác cập nhật" in info.value.message_vi
    assert "phiên bản 2" in info.value.message_vi
    monkeypatch.undo()
    view = api.get_task(rt, k)
    assert (view.state, view.result, view.version) == ("done", "Kết quả của A", 2)
    assert [(h.event, h.actor) for h in history(rt, k)] == [("complete", OFFICER.name)]


# --- history: same transaction, append-only -----------------------------------------------------


def test_a_failure_after_the_state_update_leaves_neither_state_nor_history(
    loaded: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = loaded
    k = key("5")
    transition(rt, k, "start", OFFICER)
    before = dump_db(rt)
    real_link = TaskWriter._link

    def history_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_link(*args, **kwargs)  # the state row is updated, history and links written
        raise RuntimeError("mất kết nối giữa chừng")

    monkeypatch.setattr(TaskWriter, "_link", history_then_fail)
    with pytest.raises(RuntimeError):
        transition(rt, k, "complete", OFFICER, evidence=[KH_223], result="Đã thực hiện")
    with pytest.raises(RuntimeError):
        assign(rt, k, "Công chức Văn phòng - Thống kê", LEADER)
    monkeypatch.undo()
    assert dump_db(rt) == before


def test_a_history_insert_refused_by_the_database_rolls_back_the_state(loaded: Runtime) -> None:
    rt = loaded
    k = key("6")  # monthly: the occurrence of the runtime's today, as `transition` takes it
    with rt.db.read() as s:
        _unit, task = find_task(s, k, on=rt.today())
        task_id = task.id
    # a row already holding the next seq: the command's history insert hits the unique key
    with rt.db.transaction() as s:
        s.add(TaskHistory(task_id=task_id, seq=2, event="note", from_state="not_started",
                          to_state="not_started", actor="x", role="officer", at=rt.now(),
                          effective_on=rt.today(), evidence=[], version=2))
    before = dump_db(rt)
    with pytest.raises(IntegrityError):
        transition(rt, k, "complete", OFFICER, evidence=[KH_223], result="Đã thực hiện")
    assert dump_db(rt) == before
    view = api.get_task(rt, k)
    assert (view.state, view.version, view.done_on) == ("not_started", 1, None)


def test_history_is_append_only_in_the_database(loaded: Runtime) -> None:
    rt = loaded
    k = key("7")
    transition(rt, k, "complete", OFFICER, evidence=[CV_1125], result="Đã thực hiện")
    transition(rt, k, "reopen", LEADER, note="Thiếu văn bản")
    with rt.db.engine.connect() as conn:
        if rt.db.dialect == "sqlite":
            triggers = set(conn.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'task_history'")))
        else:
            triggers = set(conn.scalars(text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'task_history'::regclass "
                "AND NOT tgisinternal")))
    assert triggers == {"task_history_no_update", "task_history_no_delete"}
    before = dump_db(rt)
    for sql in ("UPDATE task_history SET note = 'sửa lén'",
                "UPDATE task_history SET to_state = 'done' WHERE seq = 3",
                "DELETE FROM task_history",
                "DELETE FROM task_history WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"), rt.db.engine.begin() as conn:
            conn.execute(text(sql))
    assert dump_db(rt) == before
    entries = history(rt, k)
    assert [h.event for h in entries] == ["complete", "reopen"]
    assert replay_state(rt, entries) == api.get_task(rt, k).state == "in_progress"


# --- refusals write nothing ---------------------------------------------------------------------

# (what, command, expected error, expected field or None)
Case = tuple[str, Callable[[Runtime], object], type[CchcError], str | None]


def _complete(code: str, evidence: list[str], result: str = "Đã thực hiện",
              on: date | None = None, actor: Actor = OFFICER) -> Callable[[Runtime], object]:
    return lambda rt: transition(rt, key(code), "complete", actor, evidence=evidence,
                                 result=result, on=on)


BAD_REFERENCES = [
    "24/02/20232",
    "31/01//2023",
    "30/02/2023",
    "Kế hoạch số 84/KH-UBND ngày 24/02/20232",
    "Kế hoạch số 84/KH-UBND ngày 31/01//2023",
    "Kế hoạch số 84/KH-UBND ngày 30/02/2023",
    "Kế hoạch số 84/KH-UBND ngày 21/9/2023",  # tomorrow
    "Kế hoạch số 84/QĐ-UBND ngày 01/02/2023",
    "Kế hoạch số /KH-UBND ngày 06/3/2023",
    "Kế hoạch số 84/KH-UBND",
    "CV số 12/UBND ngày 06/3/2023",
    "",
]

REFUSALS: list[Case] = [
    *[(f"reference {ref!r}", _complete("10", [ref]), ValidationFailed, "doc")
      for ref in BAD_REFERENCES],
    *[(f"good then bad reference {ref!r}", _complete("10", [QD_19, ref]), ValidationFailed,
       "doc[2]") for ref in BAD_REFERENCES[:3]],
    ("one number with two dates in one command",
     _complete("10", [CV_1125, "Công văn số 1125/UBND-VP ngày 28/02/2022"]), ValidationFailed,
     "doc"),
    ("number reused with another date",
     _complete("10", ["Công văn số 1125/UBND-VP ngày 28/02/2022"]), Conflict, "doc"),
    ("new document, then a number reused with another date",
     _complete("10", [QD_19, "Công văn số 1125/UBND-VP ngày 28/02/2022"]), Conflict, "doc"),
    ("number reused with another date, on a not-done transition",
     lambda rt: transition(rt, key("10"), "start", OFFICER,
                           evidence=["Công văn số 1125/UBND-VP ngày 28/02/2022"]),
     Conflict, "doc"),
    ("done without result", _complete("10", [KH_223], result=""), ValidationFailed, "result"),
    ("done without evidence", _complete("10", []), ValidationFailed, "doc"),
    ("completion date earlier than the evidence",
     _complete("10", [KH_223], on=date(2023, 3, 5)), ValidationFailed, "on"),
    ("completion date in the future",
     _complete("10", [KH_223], on=date(2023, 9, 21)), ValidationFailed, "on"),
    ("malformed date in the result",
     _complete("10", [KH_223], result="Họp ngày 31/01//2023"), ValidationFailed, "result"),
    ("unknown task", _complete("99", [KH_223]), NotFound, "code"),
    ("unknown plan", lambda rt: transition(rt, key("1", plan="cchc-2024"), "start", OFFICER),
     NotFound, "plan"),
    ("unknown unit", lambda rt: transition(rt, key("1", unit="vinh-luong"), "start", OFFICER),
     NotFound, "unit"),
    ("reviewer completes", _complete("10", [KH_223], actor=REVIEWER), Forbidden, "role"),
    ("officer reopens", lambda rt: transition(rt, key("1"), "reopen", OFFICER, note="Lý do"),
     Forbidden, "role"),
    ("leader reopens without a reason",
     lambda rt: transition(rt, key("1"), "reopen", LEADER), ValidationFailed, "note"),
    ("complete a done task", _complete("1", [KH_223]), CchcError, "state"),
    ("wait without a reason", lambda rt: transition(rt, key("10"), "wait", OFFICER),
     ValidationFailed, "note"),
    ("officer assigns",
     lambda rt: assign(rt, key("10"), "Công chức Văn phòng - Thống kê", OFFICER), Forbidden,
     "role"),
    ("empty owner", lambda rt: assign(rt, key("10"), "  ", LEADER), ValidationFailed, "owner"),
    ("officer sets a deadline",
     lambda rt: set_deadline(rt, key("10"), "Quý IV/2023", OFFICER), Forbidden, "role"),
    ("bad deadline", lambda rt: set_deadline(rt, key("10"), "Quý V/2023", LEADER),
     ValidationFailed, "deadline"),
    ("empty note", lambda rt: add_note(rt, key("10"), " ", OFFICER), ValidationFailed, "note"),
    ("note dated in the future",
     lambda rt: add_note(rt, key("10"), "Đang làm", OFFICER, on=date(2023, 12, 1)),
     ValidationFailed, "on"),
]


def test_every_rejected_input_leaves_the_database_unchanged(loaded: Runtime) -> None:
    rt = loaded
    transition(rt, key("1"), "complete", OFFICER, evidence=[CV_1125], result="Đã thực hiện")
    before = dump_db(rt)
    assert len(before["documents"]) == 1
    for what, command, error, field in REFUSALS:
        with pytest.raises(error) as info:
            command(rt)
        err = info.value
        assert err.message_vi and err.message_en, what
        if field is not None:
            assert err.field == field, (what, err.field, err.render())
        assert dump_db(rt) == before, f"refused command changed the database: {what}"
    # and the valid command on the same task goes through afterwards
    transition(rt, key("10"), "complete", OFFICER, evidence=[QD_19, CV_1125], result="Xong")
    assert api.get_task(rt, key("10")).state == "done"


def test_refusal_messages_name_the_mistake(loaded: Runtime) -> None:
    rt = loaded
    cases = {
        "Kế hoạch số 84/KH-UBND ngày 24/02/20232": "5 chữ số",
        "Kế hoạch số 84/KH-UBND ngày 31/01//2023": "hai dấu '/' liền nhau",
        "Kế hoạch số 84/KH-UBND ngày 30/02/2023": "không tồn tại",
        "Kế hoạch số 84/KH-UBND ngày 21/9/2023": "sau ngày hôm nay",
        "Kế hoạch số 84/QĐ-UBND ngày 01/02/2023": "không khớp với ký hiệu",
        "Kế hoạch số /KH-UBND ngày 06/3/2023": "Thiếu số văn bản",
        "CV số 12/UBND ngày 06/3/2023": "'CV' không phải chữ viết tắt",
    }
    for ref, fragment in cases.items():
        with pytest.raises(ValidationFailed) as info:
            transition(rt, key("2"), "complete", OFFICER, evidence=[ref], result="x")
        assert ref in info.value.message_vi and fragment in info.value.message_vi, ref
    transition(rt, key("2"), "complete", OFFICER, evidence=[CV_1125], result="x")
    with pytest.raises(Conflict) as conflict:
        transition(rt, key("3"), "complete", OFFICER,
                   evidence=["Công văn số 1125/UBND-VP ngày 28/02/2022"], result="x")
    assert "đã được ghi nhận là 'Công văn số 1125/UBND-VP ngày 01/3/2022'" in (
        conflict.value.message_vi)
    assert "28/02/2022" in conflict.value.message_vi


# --- evidence documents -------------------------------------------------------------------------


def test_one_document_proves_several_tasks_and_a_task_has_several_documents(
    loaded: Runtime,
) -> None:
    rt = loaded
    transition(rt, key("1"), "complete", OFFICER, evidence=[KH_223], result="Đã công khai")
    # the same document written another way is the same register entry
    transition(rt, key("2"), "complete", OFFICER,
               evidence=["kế hoạch số 223/KH-UBND ngày 6/3/2023"], result="Đã rà soát")
    transition(rt, key("3"), "complete", OFFICER, evidence=[KH_223, QD_19, CV_1125],
               result="Đã phân cấp")
    with rt.db.read() as s:
        docs = s.scalars(select(Document.rendered).order_by(Document.issued_on)).all()
        links = s.scalar(select(func.count()).select_from(TaskEvidence))
    assert docs == [CV_1125, QD_19, KH_223]
    assert links == 5
    assert evidence_of(rt, key("1")) == evidence_of(rt, key("2")) == [KH_223]
    assert evidence_of(rt, key("3")) == sorted([KH_223, QD_19, CV_1125])
    [h] = history(rt, key("3"))
    assert [e["ref"] for e in h.evidence] == [KH_223, QD_19, CV_1125]
    # reopened and completed again with one more document: links accumulate, none duplicated
    transition(rt, key("1"), "reopen", LEADER, note="Bổ sung văn bản")
    transition(rt, key("1"), "complete", OFFICER, evidence=[KH_223, QD_19], result="Đã bổ sung")
    assert evidence_of(rt, key("1")) == sorted([KH_223, QD_19])


def test_the_done_date_is_the_evidence_date_or_a_later_stated_one(loaded: Runtime) -> None:
    rt = loaded
    res = transition(rt, key("1"), "complete", OFFICER, evidence=[KH_223], result="x")
    assert res.effective_on == date(2023, 3, 6)
    # several documents: the latest one proves completion
    res = transition(rt, key("2"), "complete", OFFICER, evidence=[CV_1125, KH_223, QD_19],
                     result="x")
    assert res.effective_on == date(2023, 3, 6)
    # the officer may state a later date ...
    res = transition(rt, key("3"), "complete", OFFICER, evidence=[KH_223], result="x",
                     on=date(2023, 3, 10))
    assert res.effective_on == date(2023, 3, 10)
    # ... or the same date, never an earlier one
    assert transition(rt, key("4"), "complete", OFFICER, evidence=[KH_223], result="x",
                      on=date(2023, 3, 6)).effective_on == date(2023, 3, 6)
    with pytest.raises(ValidationFailed) as info:
        transition(rt, key("5"), "complete", OFFICER, evidence=[KH_223], result="x",
                   on=date(2023, 3, 5))
    assert "sớm hơn ngày của văn bản minh chứng" in info.value.message_vi
    assert "06/03/2023" in info.value.message_vi
    for code, done_on in (("1", date(2023, 3, 6)), ("2", date(2023, 3, 6)),
                          ("3", date(2023, 3, 10))):
        view = api.get_task(rt, key(code))
        assert view.done_on == done_on
        assert history(rt, key(code))[-1].effective_on == done_on
    assert api.get_task(rt, key("5")).state == "not_started"


# --- on time or late ----------------------------------------------------------------------------


def _done_with(rt: Runtime, code: str, doc: str) -> None:
    transition(rt, key(code), "complete", OFFICER, evidence=[doc], result="Đã thực hiện")


def test_status_as_of_a_date_in_the_four_ways(loaded: Runtime) -> None:
    rt = loaded
    for code in ("11", "12", "13"):
        set_deadline(rt, key(code), "Trước ngày 15/6/2023", LEADER)  # a Thursday
    _done_with(rt, "11", "Kế hoạch số 301/KH-UBND ngày 14/6/2023")
    _done_with(rt, "12", "Kế hoạch số 302/KH-UBND ngày 20/6/2023")
    set_deadline(rt, key("14"), "Quý IV/2023", LEADER)
    v11, v12, v13, v14 = (api.get_task(rt, key(c)) for c in ("11", "12", "13", "14"))
    assert v11.due_on == v12.due_on == v13.due_on == date(2023, 6, 15)
    assert v14.due_on == date(2023, 12, 31)
    cal = rt.calendar

    def status(v: api.TaskView, as_of: date) -> Timeliness:
        return timeliness(v.due_on, v.done_on, as_of, cal)

    as_of = date(2023, 9, 13)  # the Q3 cut-off
    assert status(v11, as_of) is Timeliness.DONE_ON_TIME
    assert status(v12, as_of) is Timeliness.DONE_LATE
    assert status(v13, as_of) is Timeliness.OPEN_OVERDUE
    assert status(v14, as_of) is Timeliness.OPEN_ON_TIME
    # as of a date before the work was done, it was still open
    assert status(v12, date(2023, 6, 15)) is Timeliness.OPEN_ON_TIME
    assert status(v12, date(2023, 6, 19)) is Timeliness.OPEN_OVERDUE
    assert status(v13, date(2023, 6, 15)) is Timeliness.OPEN_ON_TIME
    # the task view reports the status as of today (20/9/2023)
    assert [v.timeliness for v in (v11, v12, v13, v14)] == [
        "done_on_time", "done_late", "open_overdue", "open_on_time"]
    overdue = {v.code for v in api.list_tasks(rt, "vinh-thanh", overdue=True)}
    assert "13" in overdue and not overdue & {"11", "12", "14"}


def test_a_due_date_on_a_holiday_moves_to_the_next_working_day(loaded: Runtime) -> None:
    rt = loaded
    cal = rt.calendar
    due = date(2023, 9, 2)  # Saturday, Quốc khánh; 01/9–04/9/2023 are days off
    assert "Quốc khánh" in (cal.holiday_name(due) or "")
    assert not any(cal.is_working_day(date(2023, 9, d)) for d in (1, 2, 3, 4))
    assert effective_due(due, cal) == date(2023, 9, 5)
    for code in ("15", "16", "17"):
        set_deadline(rt, key(code), "02/9/2023", LEADER)
    _done_with(rt, "15", "Kế hoạch số 305/KH-UBND ngày 05/9/2023")
    _done_with(rt, "16", "Kế hoạch số 306/KH-UBND ngày 06/9/2023")
    v15, v16, v17 = (api.get_task(rt, key(c)) for c in ("15", "16", "17"))
    assert v15.due_on == date(2023, 9, 2)  # stored as written; the shift is applied on reading
    as_of = date(2023, 9, 13)
    assert timeliness(v15.due_on, v15.done_on, as_of, cal) is Timeliness.DONE_ON_TIME
    assert timeliness(v16.due_on, v16.done_on, as_of, cal) is Timeliness.DONE_LATE
    assert timeliness(v17.due_on, None, date(2023, 9, 5), cal) is Timeliness.OPEN_ON_TIME
    assert timeliness(v17.due_on, None, date(2023, 9, 6), cal) is Timeliness.OPEN_OVERDUE
    # a Sunday due date: the following Monday
    set_deadline(rt, key("18"), "Trước ngày 18/6/2023", LEADER)
    v18 = api.get_task(rt, key("18"))
    assert effective_due(v18.due_on, cal) == date(2023, 6, 19)
    assert timeliness(v18.due_on, None, date(2023, 6, 19), cal) is Timeliness.OPEN_ON_TIME
    assert timeliness(v18.due_on, None, date(2023, 6, 20), cal) is Timeliness.OPEN_OVERDUE


def test_a_task_removed_from_the_plan_is_read_only(loaded: Runtime, tmp_path: Any) -> None:
    import yaml

    spec = yaml.safe_load((DEMO_BUNDLE / "cchc-2023.yaml").read_text(encoding="utf-8"))
    last = spec["sections"][-1]
    last["tasks"] = [t for t in last["tasks"] if t["code"] != "23"]
    edited = tmp_path / "cchc-2023.yaml"
    edited.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    api.load_plans(loaded, ["vinh-thanh"], [edited])
    before = dump_db(loaded)
    with pytest.raises(ValidationFailed, match="đã được bỏ khỏi kế hoạch"):
        transition(loaded, key("23"), "start", Actor("cán bộ", "officer"))
    with pytest.raises(ValidationFailed, match="đã được bỏ khỏi kế hoạch"):
        api.assign(loaded, key("23"), "Công chức Văn phòng - Thống kê", Actor("lãnh đạo", "leader"))
    assert dump_db(loaded) == before
    assert [h.event for h in api.history(loaded, key("23"))] == []  # still readable


def test_a_reviewer_cannot_write_even_a_note(loaded: Runtime) -> None:
    before = dump_db(loaded)
    with pytest.raises(Forbidden):
        api.add_note(loaded, key("1"), "Ghi chú của Phòng Nội vụ",
                     Actor("Phòng Nội vụ", "reviewer"))
    assert dump_db(loaded) == before
    api.add_note(loaded, key("1"), "Đã đăng tải", Actor("cán bộ", "officer"))
    assert api.history(loaded, key("1"))[-1].note == "Đã đăng tải"
