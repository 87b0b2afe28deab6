"""The task workflow: a model-based stateful test against one real task, the guards and roles,
and the one shared `transitions.Machine`."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import transitions
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import MetaData, create_engine, func, select

from engine import api
from engine.clock import VN_TZ, fixed_clock
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
from engine.domain.workflow.machine import WorkflowMachine
from engine.errors import CchcError, Conflict, Forbidden, TransitionNotAllowed, ValidationFailed
from engine.runtime import Runtime, open_runtime
from engine.storage.models import TaskEvidence
from plans import DEMO_BUNDLE
from plans.deadlines import DeadlineError, parse_deadline
from workflows import load_workflow

TODAY = date(2023, 9, 20)
NOW = datetime(2023, 9, 20, 9, 0, tzinfo=VN_TZ)
KEY = TaskKey("vinh-thanh", "cchc-2023", "1")
WORKFLOW = load_workflow("task")

# Evidence: good references (with their number and date) and references the engine must refuse.
GOOD_DOCS: dict[str, tuple[str, date]] = {
    "Kế hoạch số 223/KH-UBND ngày 06/3/2023": ("223/KH-UBND", date(2023, 3, 6)),
    "Quyết định số 19/QĐ-UBND ngày 31/01/2023": ("19/QĐ-UBND", date(2023, 1, 31)),
    "Công văn số 1125/UBND-VP ngày 01/3/2022": ("1125/UBND-VP", date(2022, 3, 1)),
    # the seed's slip: the same number with another date
    "Công văn số 1125/UBND-VP ngày 28/02/2022": ("1125/UBND-VP", date(2022, 2, 28)),
}
BAD_DOCS = [
    "Kế hoạch số 84/QĐ-UBND ngày 01/02/2023",  # type word contradicts the symbol
    "Kế hoạch số 84/KH-UBND ngày 24/02/20232",  # five-digit year
    "Kế hoạch số 84/KH-UBND ngày 31/01//2023",  # double slash
    "Kế hoạch số 84/KH-UBND ngày 30/02/2023",  # no such day
    "Công văn số 12/UBND ngày 06/3/2024",  # issued after today
    "CV số 12/UBND ngày 06/3/2023",  # CV is no type abbreviation
    "Kế hoạch số /KH-UBND ngày 06/3/2023",  # no number
    "24/02/20232",  # a date, no document
]
GOOD_TEXTS = ["", "Đã ban hành kế hoạch và triển khai thực hiện", "Chờ hướng dẫn ngày 06/3/2023"]
BAD_TEXTS = ["Ngày 31/01//2023 đã họp triển khai", "Đối thoại ngày 24/02/20232"]
DEADLINES = ["Quý IV/2023", "Trước ngày 15/12/2023", "Thường xuyên", "Quý V/2023",
             "30/02/2023", "sớm"]
OWNERS = ["Công chức Văn phòng - Thống kê", "", "   "]
ROLES = ["officer", "leader", "reviewer"]
TRIGGERS = ["start", "complete", "wait", "nothing_arose", "reopen"]
ONS = [None, date(2023, 2, 1), TODAY, date(2023, 9, 21)]


def text_ok(text: str) -> bool:
    return text not in BAD_TEXTS


@functools.cache
def template_database() -> Path:
    """Units and the cchc-2023 plan loaded once; each example starts from a copy of it."""
    folder = Path(tempfile.mkdtemp(prefix="cchc-wf-template-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "cchc.sqlite3"
    rt = open_runtime(f"sqlite:///{path}", clock=fixed_clock(NOW))
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    api.load_plans(rt, ["vinh-thanh"], [DEMO_BUNDLE / "cchc-2023.yaml"])
    rt.db.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path


@functools.cache
def template_tables() -> MetaData:
    """Every table of the schema, reflected once (whatever migrations created)."""
    meta = MetaData()
    engine = create_engine(f"sqlite:///{template_database()}")
    meta.reflect(bind=engine)
    engine.dispose()
    return meta


def fresh_runtime(folder: Path) -> Runtime:
    path = folder / "cchc.sqlite3"
    shutil.copyfile(template_database(), path)
    return open_runtime(f"sqlite:///{path}", clock=fixed_clock(NOW), migrate=False)


def dump(rt: Runtime, meta: MetaData) -> dict[str, list[tuple[Any, ...]]]:
    with rt.db.engine.connect() as conn:
        return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
                for t in meta.sorted_tables}


def evidence_count(rt: Runtime, key: TaskKey) -> int:
    with rt.db.read() as s:
        _unit, task = find_task(s, key)
        return int(s.scalar(select(func.count()).select_from(TaskEvidence)
                            .where(TaskEvidence.task_id == task.id)) or 0)


# --- the stateful, model-based test -------------------------------------------------------------


class TaskWorkflow(RuleBasedStateMachine):
    """Random commands on one real task; a small model predicts which ones the engine accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="cchc-wf-"))
        self.rt = fresh_runtime(self.folder)
        self.meta = template_tables()
        self.state = WORKFLOW.initial
        self.version = 1
        self.registry: dict[str, date] = {}  # document number -> its registered date
        self.commands = 0
        self.refusals = 0

    def teardown(self) -> None:
        event(f"accepted {self.commands - self.refusals} of {self.commands} commands")
        self.rt.db.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- running a command and checking the outcome against the model --

    def _run(self, expect_ok: bool, command: Any) -> Any:
        before = dump(self.rt, self.meta)
        self.commands += 1
        try:
            result = command()
        except CchcError as exc:
            assert not expect_ok, f"refused a valid command: {exc}"
            assert exc.message_vi and exc.message_en
            assert dump(self.rt, self.meta) == before, "a refused command changed the database"
            self.refusals += 1
            return None
        assert expect_ok, "accepted a command the rules refuse"
        self.version += 1
        assert result.version == self.version
        return result

    def _expected_dest(self, trigger: str, role: str, evidence: list[str], result: str,
                       note: str, on: date | None) -> str | None:
        t = WORKFLOW.transition(trigger)
        assert t is not None
        if role not in t.roles or self.state not in t.source:
            return None
        if not (text_ok(result) and text_ok(note)) or any(e in BAD_DOCS for e in evidence):
            return None
        if on is not None and on > TODAY:
            return None
        refs = [GOOD_DOCS[e] for e in evidence]
        numbers: dict[str, date] = {}
        for number, issued in refs:
            if numbers.setdefault(number, issued) != issued:
                return None  # one number with two dates in one command
            if self.registry.get(number, issued) != issued:
                return None  # contradicts the register
        if "has_evidence" in t.guards and not refs:
            return None
        if "has_result" in t.guards and not result.strip():
            return None
        if "has_note" in t.guards and not note.strip():
            return None
        if t.dest in WORKFLOW.done_states:
            latest = max(issued for _n, issued in refs)
            if on is not None and on < latest:
                return None
        return t.dest

    # -- rules --

    @rule(
        trigger=st.sampled_from(TRIGGERS),
        role=st.sampled_from(ROLES),
        evidence=st.lists(st.sampled_from([*GOOD_DOCS, *BAD_DOCS]), max_size=2),
        result=st.sampled_from(GOOD_TEXTS + BAD_TEXTS),
        note=st.sampled_from(GOOD_TEXTS + BAD_TEXTS),
        on=st.sampled_from(ONS),
    )
    def fire(self, trigger: str, role: str, evidence: list[str], result: str, note: str,
             on: date | None) -> None:
        dest = self._expected_dest(trigger, role, evidence, result, note, on)
        res = self._run(dest is not None, lambda: transition(
            self.rt, KEY, trigger, Actor("Người thử", role), evidence=evidence, result=result,
            note=note, on=on, expected_version=self.version))
        if res is None:
            return
        assert (res.from_state, res.to_state) == (self.state, dest)
        self.state = res.to_state
        for e in evidence:
            number, issued = GOOD_DOCS[e]
            self.registry[number] = issued
        if dest in WORKFLOW.done_states:
            latest = max(GOOD_DOCS[e][1] for e in evidence)
            assert res.effective_on == (on or latest)

    @rule(data=st.data(), role=st.sampled_from(["officer", "leader"]),
          evidence=st.lists(st.sampled_from(list(GOOD_DOCS)), min_size=1, max_size=2),
          text=st.sampled_from(GOOD_TEXTS[1:]), on=st.sampled_from([None, TODAY]))
    def fire_allowed(self, data: st.DataObject, role: str, evidence: list[str], text: str,
                     on: date | None) -> None:
        """A trigger the role may use from the current state, with plausible inputs — so the
        walk reaches every state (the document register may still refuse it)."""
        allowed = self.rt.machine.allowed(self.state, role)
        if allowed:
            self.fire(data.draw(st.sampled_from(allowed)), role, evidence, text, text, on)

    @rule(doc=st.sampled_from(list(GOOD_DOCS)), on=st.sampled_from([None, TODAY]))
    def complete_or_reopen(self, doc: str, on: date | None) -> None:
        """Drive the task towards done and back (the rare, interesting part of the walk)."""
        if self.rt.machine.is_done(self.state):
            self.fire("reopen", "leader", [], "", "Văn bản minh chứng chưa đúng", on)
        else:
            self.fire("complete", "officer", [doc], "Đã thực hiện xong", "", on)

    @rule(role=st.sampled_from(ROLES), owner=st.sampled_from(OWNERS))
    def assign_owner(self, role: str, owner: str) -> None:
        ok = role == "leader" and bool(owner.strip())
        if self._run(ok, lambda: assign(self.rt, KEY, owner, Actor("Người thử", role),
                                        expected_version=self.version)):
            assert api.get_task(self.rt, KEY).owner == owner.strip()

    @rule(role=st.sampled_from(ROLES), deadline=st.sampled_from(DEADLINES))
    def set_due(self, role: str, deadline: str) -> None:
        try:
            due = parse_deadline(deadline, 2023).due
            parsed = True
        except DeadlineError:
            due, parsed = None, False
        ok = role == "leader" and parsed
        if self._run(ok, lambda: set_deadline(self.rt, KEY, deadline, Actor("Người thử", role),
                                              expected_version=self.version)):
            view = api.get_task(self.rt, KEY)
            assert (view.deadline, view.due_on) == (deadline, due)

    @rule(role=st.sampled_from(ROLES), note=st.sampled_from(GOOD_TEXTS + BAD_TEXTS),
          on=st.sampled_from(ONS))
    def note(self, role: str, note: str, on: date | None) -> None:
        ok = (role != "reviewer" and bool(note.strip()) and text_ok(note)
              and (on is None or on <= TODAY))
        self._run(ok, lambda: add_note(self.rt, KEY, note, Actor("Người thử", role), on=on,
                                       expected_version=self.version))

    @rule(stale=st.integers(min_value=-3, max_value=-1))
    def stale_write(self, stale: int) -> None:
        """A write based on an old version is always refused (when such a version existed)."""
        if self.version + stale < 1:
            return
        self._run(False, lambda: add_note(self.rt, KEY, "Ghi chú", Actor("Người thử"),
                                          expected_version=self.version + stale))

    # -- invariants --

    @invariant()
    def stored_state_is_consistent(self) -> None:
        view = api.get_task(self.rt, KEY)
        entries = history(self.rt, KEY)
        assert view.state in WORKFLOW.state_names
        event(f"reached {view.state}")
        assert view.state == self.state
        assert replay_state(self.rt, entries) == view.state
        # version 1 is the task as instantiated; every history row is one version after it
        assert view.version == self.version == len(entries) + 1
        assert [h.seq for h in entries] == list(range(2, view.version + 1))
        if self.rt.machine.is_done(view.state):
            triggers = {t.trigger for t in WORKFLOW.transitions}
            last = [h for h in entries if h.event in triggers][-1]  # how it became done
            assert last.to_state == view.state
            imported = last.event.startswith("import_") and last.role == "system"
            assert (evidence_count(self.rt, KEY) >= 1 and last.evidence) or imported
            assert view.result
            assert view.done_on == last.effective_on
        else:
            assert view.done_on is None


# No shrink phase: a failing walk is printed step by step (at most 15 steps) within seconds,
# whereas shrinking it against a real database takes minutes.
TaskWorkflow.TestCase.settings = settings(
    max_examples=30, stateful_step_count=15, deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestTaskWorkflow = TaskWorkflow.TestCase


# --- plain tests --------------------------------------------------------------------------------


@pytest.fixture
def loaded(sqlite_rt: Runtime) -> Runtime:
    api.load_units_file(sqlite_rt, DEMO_BUNDLE / "units.yaml")
    api.load_plans(sqlite_rt, ["vinh-thanh"], [DEMO_BUNDLE / "cchc-2023.yaml"])
    return sqlite_rt


OFFICER = Actor("Trần Văn A", "officer")
LEADER = Actor("Nguyễn Quốc Bảo", "leader")
ADMIN = Actor("Quản trị", "admin")
DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"


def test_done_requires_evidence_and_result(loaded: Runtime) -> None:
    rt = loaded
    with pytest.raises(ValidationFailed) as info:
        transition(rt, KEY, "complete", OFFICER, result="Đã công khai")
    assert info.value.field == "doc" and "minh chứng" in info.value.message_vi
    with pytest.raises(ValidationFailed) as info:
        transition(rt, KEY, "complete", OFFICER, evidence=[DOC])
    assert info.value.field == "result" and "kết quả" in info.value.message_vi
    with pytest.raises(ValidationFailed):
        transition(rt, KEY, "complete", OFFICER, evidence=[DOC], result="   ")
    view = api.get_task(rt, KEY)
    assert (view.state, view.version, history(rt, KEY)) == ("not_started", 1, [])
    res = transition(rt, KEY, "complete", OFFICER, evidence=[DOC], result="Đã công khai")
    assert (res.to_state, res.effective_on, res.evidence) == (
        "done", date(2023, 3, 6), ["Kế hoạch số 223/KH-UBND ngày 06/3/2023"])
    view = api.get_task(rt, KEY)
    assert (view.state, view.result, view.done_on) == ("done", "Đã công khai", date(2023, 3, 6))


def test_reopen_only_by_leader_or_admin_and_only_with_a_reason(loaded: Runtime) -> None:
    rt = loaded
    transition(rt, KEY, "complete", OFFICER, evidence=[DOC], result="Đã công khai")
    with pytest.raises(Forbidden) as forbidden:
        transition(rt, KEY, "reopen", OFFICER, note="Sai văn bản")
    assert forbidden.value.field == "role" and "officer" in forbidden.value.message_vi
    with pytest.raises(Forbidden):
        transition(rt, KEY, "reopen", Actor("Kiểm tra", "reviewer"), note="Sai văn bản")
    with pytest.raises(ValidationFailed) as info:
        transition(rt, KEY, "reopen", LEADER)
    assert info.value.field == "note" and "lý do" in info.value.message_vi
    with pytest.raises(ValidationFailed):
        transition(rt, KEY, "reopen", LEADER, note="   ")
    assert api.get_task(rt, KEY).state == "done"
    assert len(history(rt, KEY)) == 1

    res = transition(rt, KEY, "reopen", LEADER, note="Văn bản minh chứng chưa đúng")
    assert (res.from_state, res.to_state) == ("done", "in_progress")
    view = api.get_task(rt, KEY)
    assert view.done_on is None and view.note == "Văn bản minh chứng chưa đúng"
    transition(rt, KEY, "complete", OFFICER, evidence=[DOC], result="Đã công khai lại")
    assert transition(rt, KEY, "reopen", ADMIN, note="Kiểm tra lại").to_state == "in_progress"
    assert [h.event for h in history(rt, KEY)] == ["complete", "reopen", "complete", "reopen"]
    # reopen only from done
    with pytest.raises(TransitionNotAllowed):
        transition(rt, KEY, "reopen", LEADER, note="Không thể")


def test_unknown_trigger_and_system_only_triggers_are_refused(loaded: Runtime) -> None:
    with pytest.raises(TransitionNotAllowed, match="finish"):
        transition(loaded, KEY, "finish", OFFICER, evidence=[DOC], result="x")
    with pytest.raises(Forbidden):
        transition(loaded, KEY, "import_done", LEADER, result="x", on=TODAY)
    assert api.get_task(loaded, KEY).version == 1


def test_version_conflict_is_refused_with_a_vietnamese_message(loaded: Runtime) -> None:
    transition(loaded, KEY, "start", OFFICER, expected_version=1)
    with pytest.raises(Conflict) as info:
        transition(loaded, KEY, "wait", OFFICER, note="Chờ", expected_version=1)
    assert "đã được người khác cập nhật" in info.value.message_vi
    assert api.get_task(loaded, KEY).state == "in_progress"


def test_the_machine_is_one_shared_transitions_machine(
    loaded: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = loaded
    shared = rt.machine._machine
    assert isinstance(shared, transitions.Machine)
    calls: list[type] = []
    real_init = transitions.Machine.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(type(self))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(transitions.Machine, "__init__", counting_init)
    codes = [str(i) for i in range(1, 24)]
    for code in codes:
        key = TaskKey("vinh-thanh", "cchc-2023", code)
        transition(rt, key, "start", OFFICER)
        transition(rt, key, "complete", OFFICER, evidence=[DOC], result="Đã thực hiện")
    for code in codes[:5]:
        transition(rt, TaskKey("vinh-thanh", "cchc-2023", code), "reopen", LEADER, note="Lại")
    assert calls == []
    assert rt.machine._machine is shared
    assert shared.models == []  # no task was ever registered on the machine
    assert {t.state for t in api.list_tasks(rt, "vinh-thanh")} == {"done", "in_progress"}
    # the spy does see a machine being built: a new workflow machine is one more Machine
    WorkflowMachine(WORKFLOW)
    assert len(calls) == 1


def test_allowed_triggers_follow_the_definition(loaded: Runtime) -> None:
    m = loaded.machine
    assert m.allowed("not_started", "officer") == ["start", "complete", "wait", "nothing_arose"]
    assert m.allowed("done", "officer") == []
    assert m.allowed("done", "leader") == ["reopen"]
    assert m.allowed("not_started", "reviewer") == []
    assert m.allowed("not_started", "system") == [
        "import_done", "import_in_progress", "import_waiting_upper", "import_nothing_arose"]
