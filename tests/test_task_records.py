"""A web request reads a task as plain columns (`TaskRecord`, with its `Definition`), a change
gets the ORM row: the two give the same values, the page the same view, and a read inside a
write sees what the write changed (issue 13: an ORM statement costs ~3 plain ones)."""

from __future__ import annotations

import dataclasses

import pytest
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    cheap_hashes_fixture,
    demo_db_fixture,
    demo_rt_fixture,
    pg_demo_rt_fixture,
)

from engine.domain.tasks import (
    TaskKey,
    TaskRecord,
    definition_of,
    find_task,
    get_view,
    occurrences_of,
)
from engine.reporting.dashboard import task_section
from engine.runtime import Runtime
from engine.storage.models import Task

UNIT = "vinh-thanh"
KEYS = [TaskKey(UNIT, "cchc-2023", "5"), TaskKey(UNIT, "cchc-2023", "7"),
        TaskKey(UNIT, "papi-2023", "1.1.1"), TaskKey(UNIT, "kl91-2023", "1")]
FIELDS = ("id", "plan_id", "code", "occurrence", "state", "owner", "deadline", "due_on",
          "done_on", "result", "note", "version")


def scoped(rt: Runtime) -> Runtime:
    return dataclasses.replace(rt, db=rt.db.scoped())


@pytest.fixture(params=["sqlite", "postgres"])
def any_rt(request: pytest.FixtureRequest) -> Runtime:
    found = request.getfixturevalue("rt" if request.param == "sqlite" else "pg_demo_rt")
    assert isinstance(found, Runtime)
    return found


def test_a_request_reads_records_equal_to_the_rows(any_rt: Runtime) -> None:
    rt = any_rt
    for key in KEYS:
        with rt.db.read() as session:  # outside a request: the ORM row
            _u, row = find_task(session, key, on=rt.today())
            assert isinstance(row, Task)
            want = {f: getattr(row, f) for f in FIELDS}
            want_def = definition_of(session, row)
        expected = (get_view(rt, key), task_section(rt, key), occurrences_of(rt, key))
        req = scoped(rt)
        try:
            with req.db.read() as session:
                _u, record = find_task(session, key, on=rt.today())
                assert isinstance(record, TaskRecord)
                assert dataclasses.asdict(record) == want
                assert definition_of(session, record) == want_def
            assert (get_view(req, key), task_section(req, key), occurrences_of(req, key)) \
                == expected
        finally:
            req.db.dispose()
    assert any(o for o in (occurrences_of(rt, k) for k in KEYS))  # recurring work among them


def test_a_change_gets_the_row_and_a_read_in_it_sees_the_change(any_rt: Runtime) -> None:
    rt, key = any_rt, KEYS[0]
    req = scoped(rt)
    try:
        before = get_view(req, key)  # a record, kept for the request
        with req.db.transaction() as session:
            _u, row = find_task(session, key, for_change=True, on=rt.today())
            assert isinstance(row, Task)
            row.note = "Đang rà soát lại"
            row.version += 1
            session.flush()
            inside = get_view(req, key)  # the ORM row the write changed, not the record
            assert (inside.note, inside.version) == ("Đang rà soát lại", before.version + 1)
        after = get_view(req, key)  # read again after the write
        assert (after.note, after.version) == ("Đang rà soát lại", before.version + 1)
    finally:
        req.db.dispose()
    assert get_view(rt, key).version == before.version + 1


def test_a_section_taken_out_of_the_plan_is_not_shown(any_rt: Runtime) -> None:
    from sqlalchemy import update

    from engine.storage.models import PlanSection

    rt, key = any_rt, KEYS[0]
    section = get_view(rt, key).section
    assert task_section(rt, key) is not None
    with rt.db.transaction() as session:
        session.execute(update(PlanSection).where(PlanSection.plan_id == key.plan,
                                                  PlanSection.code == section)
                        .values(retired=True))
    req = scoped(rt)
    try:
        assert task_section(req, key) is None
    finally:
        req.db.dispose()
    assert task_section(rt, key) is None
