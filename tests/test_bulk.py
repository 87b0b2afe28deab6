"""engine.domain.bulk: the bulk paths leave exactly the rows the one-by-one commands leave.

`load_plans_bulk` against `load_plans`, and `transition_many` against a sequence of
`engine.domain.tasks.transition` calls: same task rows, same append-only history, same document
register
and evidence links — and a refused bulk command writes nothing at all. `run_all_parallel` writes
the bytes `api.run_all` writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import Clock
from sqlalchemy import Table, event, func, select, update

import engine.domain.bulk as bulk
from engine import api
from engine.directory.units import upsert_units
from engine.domain.bulk import BulkChange, load_plans_bulk, transition_many
from engine.domain.tasks import Actor, TaskKey, transition
from engine.domain.workflow.machine import WorkflowMachine
from engine.errors import CchcError, Conflict, Forbidden, NotFound, TransitionNotAllowed
from engine.errors import ValidationFailed as Invalid
from engine.reporting.quarter_end import run_all_parallel
from engine.runtime import Runtime, open_runtime
from engine.storage.models import (
    Document,
    Plan,
    PlanSection,
    PlanTask,
    Task,
    TaskEvidence,
    TaskHistory,
    Unit,
    UnitPlan,
)
from plans import DEMO_BUNDLE, UnitSpec
from workflows import WORKFLOW_DIR, load_workflow

PLAN_FILES = [DEMO_BUNDLE / f for f in ("cchc-2023.yaml", "papi-2023.yaml", "kl91-2023.yaml")]
COMMUNES = ["xa-a", "xa-b", "xa-c"]
OFFICER = Actor("Nguyễn Văn A", "officer")
LEADER = Actor("Chủ tịch", "leader")
DOC_A = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"
DOC_B = "Quyết định số 19/QĐ-UBND ngày 31/01/2023"
DOC_C = "Công văn số 1125/UBND-VP ngày 01/3/2022 của UBND thành phố Nha Trang"


def _units(rt: Runtime, communes: list[str]) -> None:
    upsert_units(rt, [UnitSpec(slug="tinh-x", name="X", kind="tỉnh", report_cutoff_day=13)]
                     + [UnitSpec(slug=s, name=s.upper(), kind="xã", parent="tinh-x")
                        for s in communes])


def _runtime(path: Path, clock: Clock) -> Runtime:
    rt = open_runtime(f"sqlite:///{path}", clock=clock)
    _units(rt, COMMUNES)
    return rt


@pytest.fixture
def pair(tmp_path: Path, clock: Clock) -> Iterator[tuple[Runtime, Runtime]]:
    """Two identical SQLite databases: one for the one-by-one commands, one for the bulk ones."""
    one, many = _runtime(tmp_path / "one.sqlite3", clock), _runtime(tmp_path / "many.sqlite3",
                                                                    clock)
    yield one, many
    one.db.dispose()
    many.db.dispose()


def _dump(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the commands touch, ids included, in id order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with rt.db.read() as session:
        for model in (Plan, PlanSection, PlanTask, UnitPlan, Task, TaskHistory, Document,
                      TaskEvidence):
            table = cast(Table, model.__table__)
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


def _changes(codes: list[tuple[str, str, str]], **kw: Any) -> list[BulkChange]:
    return [BulkChange(TaskKey(u, p, c), **kw) for u, p, c in codes]


def _one_by_one(rt: Runtime, trigger: str, actor: Actor, changes: list[BulkChange]) -> None:
    for c in changes:
        transition(rt, c.key, trigger, actor, evidence=c.evidence, result=c.result, note=c.note,
                   on=c.on, expected_version=c.expected_version)


# ----------------------------------------------------------------------------- plan instances


def test_load_plans_bulk_leaves_the_rows_load_plans_leaves(pair: tuple[Runtime, Runtime]) -> None:
    one, many = pair
    a = api.load_plans(one, COMMUNES[:2], PLAN_FILES)
    b = load_plans_bulk(many, COMMUNES[:2], PLAN_FILES)
    assert a == b
    assert [p.new_tasks_per_unit for p in b] == [23, 54, 47]
    assert _dump(one) == _dump(many)
    # A third unit later, and the first two again: only the new unit gets rows, both ways.
    a = api.load_plans(one, COMMUNES, PLAN_FILES)
    b = load_plans_bulk(many, [*COMMUNES, "xa-a"], PLAN_FILES)
    assert [p.changed for p in b] == [False] * 3
    assert [(p.tasks, p.units) for p in a] == [(p.tasks, p.units) for p in b]
    assert _dump(one) == _dump(many)
    with many.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 3 * 124


def test_load_plans_bulk_refuses_an_unknown_unit_and_writes_nothing(
        pair: tuple[Runtime, Runtime]) -> None:
    _one, many = pair
    before = _dump(many)
    with pytest.raises(NotFound, match="xa-khong-co"):
        load_plans_bulk(many, ["xa-a", "xa-khong-co"], PLAN_FILES)
    assert _dump(many) == before


# ----------------------------------------------------------------------------- transitions


def _history_state(rt: Runtime) -> None:
    """Some history before the bulk command: a registered document, a done-then-reopened task."""
    transition(rt, TaskKey("xa-a", "cchc-2023", "1"), "complete", OFFICER, evidence=[DOC_A],
               result="Đã ban hành kế hoạch.")
    transition(rt, TaskKey("xa-a", "cchc-2023", "1"), "reopen", LEADER, note="Bổ sung minh chứng")
    transition(rt, TaskKey("xa-b", "papi-2023", "1.1.1"), "start", OFFICER, note="Đang làm")


def test_transition_many_leaves_the_rows_of_one_by_one_transitions(
        pair: tuple[Runtime, Runtime]) -> None:
    one, many = pair
    for rt in pair:
        api.load_plans(rt, COMMUNES, PLAN_FILES)
        _history_state(rt)
    complete = (
        # already linked to DOC_A (the link is not repeated), and a new document for it
        _changes([("xa-a", "cchc-2023", "1")], evidence=[DOC_A, DOC_B], result="Đã thực hiện.")
        + _changes([("xa-a", "cchc-2023", str(n)) for n in range(2, 9)], evidence=[DOC_A],
                   result="Đã triển khai theo Kế hoạch số 223/KH-UBND.")
        + _changes([("xa-b", "papi-2023", "1.1.1"), ("xa-b", "kl91-2023", "3")],
                   evidence=[DOC_C], result="Đã thực hiện.", note="Ghi chú",
                   on=date(2023, 9, 1))
        + _changes([("xa-c", "kl91-2023", str(n)) for n in range(1, 6)],
                   evidence=[DOC_B, DOC_A], result="Đã thực hiện.", expected_version=1)
    )
    wait = [BulkChange(TaskKey("xa-c", "kl91-2023", "10"), note="Chưa có văn bản của cấp trên"),
            BulkChange(TaskKey("xa-c", "papi-2023", "1.2.1"), note="Chờ", result="Một phần")]
    _one_by_one(one, "complete", OFFICER, complete)
    _one_by_one(one, "wait", OFFICER, wait)
    r = transition_many(many, "complete", OFFICER, complete, batch_size=4)
    assert (r.changed, r.batches, r.documents_registered) == (len(complete), 4, 4)
    assert r.evidence_links == 1 + 7 + 2 + 10
    transition_many(many, "wait", OFFICER, wait)
    assert _dump(one) == _dump(many)


@pytest.mark.parametrize(
    ("bad", "error", "words"),
    [
        (BulkChange(TaskKey("xa-c", "cchc-2023", "9"), evidence=["Kế hoạch số abc"],
                    result="x"), Invalid, "Kế hoạch số abc"),
        (BulkChange(TaskKey("xa-c", "cchc-2023", "9"), evidence=[DOC_A]), Invalid, "kết quả"),
        (BulkChange(TaskKey("xa-c", "cchc-2023", "99"), evidence=[DOC_A], result="x"),
         NotFound, "99"),
        (BulkChange(TaskKey("xa-z", "cchc-2023", "9"), evidence=[DOC_A], result="x"),
         NotFound, "xa-z"),
        (BulkChange(TaskKey("xa-c", "cchc-2023", "9"), evidence=[DOC_A], result="x",
                    on=date(2023, 12, 1)), Invalid, "tương lai"),
        (BulkChange(TaskKey("xa-c", "cchc-2023", "9"), evidence=[DOC_A],
                    result="Ngày 31/02/2023"), Invalid, "31/02/2023"),
        (BulkChange(TaskKey("xa-c", "cchc-2023", "9"), evidence=[DOC_A], result="x",
                    expected_version=7), Conflict, "phiên bản"),
        # done already (one-by-one it would be refused by the state)
        (BulkChange(TaskKey("xa-b", "cchc-2023", "1"), evidence=[DOC_A], result="x"),
         TransitionNotAllowed, "Đã thực hiện"),
        # the same number with another date: in the register already, and inside the command
        (BulkChange(TaskKey("xa-b", "cchc-2023", "9"),
                    evidence=["Kế hoạch số 223/KH-UBND ngày 07/3/2023"], result="x"),
         Conflict, "223/KH-UBND"),
        (BulkChange(TaskKey("xa-c", "cchc-2023", "9"),
                    evidence=["Kế hoạch số 223/KH-UBND ngày 07/3/2023"], result="x"),
         Conflict, "223/KH-UBND"),
        (BulkChange(TaskKey("xa-c", "cchc-2023", "2"), evidence=[DOC_A], result="x"),
         Invalid, "hai lần"),
    ],
)
def test_a_refused_bulk_command_writes_nothing(
        sqlite_rt: Runtime, bad: BulkChange, error: type[CchcError], words: str) -> None:
    rt = sqlite_rt
    _units(rt, COMMUNES)
    api.load_plans(rt, COMMUNES, PLAN_FILES)
    transition(rt, TaskKey("xa-b", "cchc-2023", "1"), "complete", OFFICER, evidence=[DOC_A],
               result="Đã xong.")
    good = _changes([("xa-c", "cchc-2023", str(n)) for n in range(1, 9)], evidence=[DOC_A],
                    result="Đã thực hiện.")
    before = _dump(rt)
    with pytest.raises(error, match=words) as info:
        transition_many(rt, "complete", OFFICER, [*good, bad], batch_size=2)
    assert f"{len(good) + 1}" in info.value.message_vi  # says which change of the command
    assert _dump(rt) == before


def test_a_role_the_workflow_refuses_writes_nothing(sqlite_rt: Runtime) -> None:
    _units(sqlite_rt, COMMUNES)
    api.load_plans(sqlite_rt, COMMUNES, PLAN_FILES)
    before = _dump(sqlite_rt)
    with pytest.raises(Forbidden):
        transition_many(sqlite_rt, "import_done", OFFICER,
                        _changes([("xa-a", "cchc-2023", "1")], result="x"))
    assert _dump(sqlite_rt) == before


def test_a_concurrent_change_stops_at_its_batch(sqlite_rt: Runtime,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Validated, then someone saves task 7 before its batch is written: the batches before it
    stand, its own batch rolls back, and the error says so."""
    rt = sqlite_rt
    _units(rt, COMMUNES)
    api.load_plans(rt, COMMUNES, PLAN_FILES)
    validate: Callable[..., Any] = bulk._validate

    def validate_then_race(*args: Any) -> Any:
        out = validate(*args)
        api.add_note(rt, TaskKey("xa-a", "cchc-2023", "7"), "Người khác vừa lưu", OFFICER)
        return out

    monkeypatch.setattr(bulk, "_validate", validate_then_race)
    changes = _changes([("xa-a", "cchc-2023", str(n)) for n in range(1, 10)], evidence=[DOC_A],
                       result="Đã thực hiện.")
    with pytest.raises(Conflict, match="6 thay đổi") as info:
        transition_many(rt, "complete", OFFICER, changes, batch_size=3)
    assert "6 changes committed" in info.value.message_en
    with rt.db.read() as session:
        states = dict(session.execute(
            select(Task.code, Task.state).join(Unit, Unit.id == Task.unit_id)
            .where(Unit.slug == "xa-a", Task.plan_id == "cchc-2023")).all())
        assert [states[str(n)] for n in range(1, 10)] == ["done"] * 6 + ["not_started"] * 3
        assert session.scalar(select(func.count()).select_from(TaskHistory)) == 6 + 1


def _by_key(rt: Runtime, slug: str) -> dict[str, Any]:
    """One unit's rows without ids: what must be equal between two units treated alike."""
    with rt.db.read() as session:
        uid = session.scalar(select(Unit.id).where(Unit.slug == slug))
        tasks = {t.id: t for t in session.scalars(select(Task).where(Task.unit_id == uid))}
        hist = session.scalars(select(TaskHistory).where(TaskHistory.task_id.in_(tasks))
                               .order_by(TaskHistory.id)).all()
        docs = {d.id: d for d in session.scalars(select(Document).where(Document.unit_id == uid))}
        seq = {h.id: h.seq for h in hist}
        links = session.scalars(select(TaskEvidence).where(TaskEvidence.task_id.in_(tasks))).all()
        return {
            "tasks": sorted((t.plan_id, t.code, t.state, t.result, t.note, t.done_on, t.version,
                             t.updated_at) for t in tasks.values()),
            "history": [(tasks[h.task_id].plan_id, tasks[h.task_id].code, h.seq, h.event,
                         h.from_state, h.to_state, h.actor, h.role, h.at, h.effective_on, h.note,
                         h.result, h.evidence, h.version) for h in hist],
            "documents": [(d.canonical, d.rendered, d.issued_on, d.type_code, d.created_at)
                          for d in docs.values()],
            "links": sorted((tasks[x.task_id].code, docs[x.document_id].canonical,
                             seq[x.history_id]) for x in links),
        }


def test_bulk_and_one_by_one_agree_on_both_databases(rt: Runtime) -> None:
    """Same database (SQLite and PostgreSQL): xa-a one by one, xa-b in bulk, compared by key."""
    _units(rt, ["xa-a", "xa-b"])
    load_plans_bulk(rt, ["xa-a", "xa-b"], PLAN_FILES)
    for slug in ("xa-a", "xa-b"):
        transition(rt, TaskKey(slug, "kl91-2023", "2"), "start", OFFICER, note="Đang làm")
    for slug, run in (("xa-a", _one_by_one), ("xa-b", transition_many)):
        done = _changes([(slug, "kl91-2023", str(n)) for n in range(1, 30, 2)],
                        evidence=[DOC_A, DOC_C], result="Đã thực hiện.")
        nothing = _changes([(slug, "papi-2023", "1.4.1"), (slug, "kl91-2023", "2")],
                           note="Trong kỳ chưa phát sinh")
        run(rt, "complete", OFFICER, done)
        run(rt, "nothing_arose", OFFICER, nothing)
    a, b = _by_key(rt, "xa-a"), _by_key(rt, "xa-b")
    assert len(a["history"]) == 1 + 15 + 2 and len(a["links"]) == 30
    assert a == b


# ----------------------------------------------------------------------------- quarter-end run


@pytest.mark.slow
def test_run_all_parallel_writes_the_files_run_all_writes(sqlite_rt: Runtime, clock: Clock,
                                                           tmp_path: Path) -> None:
    rt = sqlite_rt
    _units(rt, COMMUNES)
    load_plans_bulk(rt, COMMUNES, PLAN_FILES)
    transition_many(rt, "complete", OFFICER, _changes(
        [(u, "cchc-2023", str(n)) for u in COMMUNES for n in range(1, 6)], evidence=[DOC_A],
        result="Đã thực hiện."))
    one = api.run_all(rt, "2023-Q3", tmp_path / "one")
    seen: list[int] = []
    many = run_all_parallel(rt, "2023-Q3", tmp_path / "many", workers=2, at=clock.at,
                            chunk_size=1, progress=lambda done, total: seen.append(done))
    assert [r.unit for r in many] == [r.unit for r in one] == COMMUNES
    assert [r.content_hash for r in many] == [None] * 3 and seen[-1] == 3
    for unit in COMMUNES:
        a = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one" / unit).iterdir())
        b = sorted(p.relative_to(tmp_path / "many") for p in (tmp_path / "many" / unit).iterdir())
        assert a == b and len(a) == 7
        for name in a:
            assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "many" / name).read_bytes()
    # Frozen by the parallel run: stored once, and the summaries carry the hashes.
    frozen = run_all_parallel(rt, "2023-Q3", tmp_path / "frozen", workers=1, freeze=True,
                              taken_by="Bench", at=clock.at)
    assert all(r.frozen and r.content_hash for r in frozen)
    again = api.take_snapshot(rt, "xa-b", "2023-Q3")
    assert again.frozen and again.content_hash == frozen[1].content_hash


# ----------------------------------------------------------------------------- one rule source


_REFUSED = [
    # the state: done already
    (("xa-b", "cchc-2023", "1"), {"evidence": [DOC_A], "result": "x"}),
    # a guard: no result
    (("xa-c", "cchc-2023", "9"), {"evidence": [DOC_A]}),
    # the register: a number known with another date
    (("xa-b", "cchc-2023", "9"), {"evidence": ["Kế hoạch số 223/KH-UBND ngày 07/3/2023"],
                                  "result": "x"}),
    # the reference parser, a date in the text, a future date, a stale version, unknown task
    (("xa-c", "cchc-2023", "9"), {"evidence": ["Kế hoạch số abc"], "result": "x"}),
    (("xa-c", "cchc-2023", "9"), {"evidence": [DOC_A], "result": "Ngày 31/02/2023"}),
    (("xa-c", "cchc-2023", "9"), {"evidence": [DOC_A], "result": "x",
                                  "on": date(2023, 12, 1)}),
    (("xa-c", "cchc-2023", "9"), {"evidence": [DOC_A], "result": "x", "expected_version": 4}),
    (("xa-c", "cchc-2023", "99"), {"evidence": [DOC_A], "result": "x"}),
    # a bad text AND an unknown task: the text is checked first, in both paths
    (("xa-c", "cchc-2023", "99"), {"evidence": [DOC_A], "result": "Ngày 31/02/2023"}),
    # a task removed from its plan is read-only
    (("xa-c", "cchc-2023", "5"), {"evidence": [DOC_A], "result": "x"}),
]


@pytest.mark.parametrize(("task", "fields"), _REFUSED)
def test_a_refusal_is_the_same_in_both_paths(rt: Runtime, task: tuple[str, str, str],
                                              fields: dict[str, Any]) -> None:
    """Both paths ask the same functions: the same error class and message, nothing written
    (the bulk message only says which change it is about)."""
    _units(rt, COMMUNES)
    api.load_plans(rt, COMMUNES, PLAN_FILES)
    transition(rt, TaskKey("xa-b", "cchc-2023", "1"), "complete", OFFICER, evidence=[DOC_A],
               result="Đã xong.")
    with rt.db.transaction() as session:  # task 5 removed from the plan (read-only now)
        session.execute(update(PlanTask).where(PlanTask.plan_id == "cchc-2023",
                                               PlanTask.code == "5").values(retired=True))
    before = _dump(rt)
    key = TaskKey(*task)
    with pytest.raises(CchcError) as one:
        transition(rt, key, "complete", OFFICER, **fields)
    assert _dump(rt) == before
    with pytest.raises(CchcError) as many:
        transition_many(rt, "complete", OFFICER, [BulkChange(key, **fields)])
    assert _dump(rt) == before
    assert type(many.value) is type(one.value)
    assert many.value.message_vi == f"Dòng 1 (nhiệm vụ {key}): {one.value.message_vi}"
    assert many.value.problems[0].field == one.value.problems[0].field


def test_a_changed_workflow_rule_holds_in_both_paths(tmp_path: Path, clock: Clock) -> None:
    """The workflow is data run by one machine: make `complete` also require a note, and the
    per-task command and the bulk command both refuse a completion without one, and both
    accept it with one, leaving the same rows."""
    text = (WORKFLOW_DIR / "task.yaml").read_text(encoding="utf-8")
    stricter = text.replace("guards: [has_evidence, has_result]\n",
                            "guards: [has_evidence, has_result, has_note]\n", 1)
    assert stricter != text
    (tmp_path / "task.yaml").write_text(stricter, encoding="utf-8")
    machine = WorkflowMachine(load_workflow("task", tmp_path))
    pair = [_runtime(tmp_path / f"{n}.sqlite3", clock) for n in ("one", "many")]
    for rt in pair:
        rt.machine = machine
        api.load_plans(rt, COMMUNES, PLAN_FILES)
    one, many = pair
    keys = [("xa-a", "cchc-2023", str(n)) for n in (1, 2)]
    bare = _changes(keys, evidence=[DOC_A], result="Đã thực hiện.")
    with pytest.raises(Invalid, match="lý do") as refused_one:
        _one_by_one(one, "complete", OFFICER, bare)
    with pytest.raises(Invalid, match="lý do") as refused_many:
        transition_many(many, "complete", OFFICER, bare)
    assert refused_many.value.message_vi.endswith(refused_one.value.message_vi)
    with_note = _changes(keys, evidence=[DOC_A], result="Đã thực hiện.", note="Theo kế hoạch")
    _one_by_one(one, "complete", OFFICER, with_note)
    transition_many(many, "complete", OFFICER, with_note)
    assert _dump(one) == _dump(many)
    for rt in pair:
        rt.db.dispose()


def test_statements_per_batch_do_not_grow_with_distinct_texts(sqlite_rt: Runtime) -> None:
    """Set-based whatever the texts: 60 tasks with 60 different results and several
    documents per unit are written by a fixed handful of statements per batch."""
    rt = sqlite_rt
    _units(rt, COMMUNES)
    load_plans_bulk(rt, COMMUNES, PLAN_FILES)
    docs = [DOC_A, DOC_B, DOC_C]
    with rt.db.read() as session:
        codes = list(session.scalars(select(PlanTask.code).where(PlanTask.plan_id == "papi-2023")
                                     .order_by(PlanTask.position).limit(20)))
    changes = [BulkChange(TaskKey(u, "papi-2023", code), evidence=docs[i % 3:i % 3 + 1 + i % 2],
                          result=f"Kết quả riêng số {i} của {u}")
               for i, (u, code) in enumerate((u, c) for u in COMMUNES for c in codes)]
    assert len({c.result for c in changes}) == 60
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            statements.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        result = transition_many(rt, "complete", OFFICER, changes, batch_size=30)
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)
    assert result.changed == 60 and result.batches == 2
    # per batch: the documents first cited, one UPDATE … FROM, the history, the links
    writes = [s.split()[0].upper() for s in statements]
    assert writes.count("UPDATE") == 2, statements
    assert len(statements) <= 2 * 4, statements
