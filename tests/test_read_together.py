"""Reads sent together (`engine.storage.together`) give each read exactly the rows, in the
order, its own statement gives — on SQLite and PostgreSQL, for every task of the demo
commune, with ties in the order (comments written at the same moment) and rows of every
column type (dates, times with zone, JSON, NULLs). And the task page's five reads cost one
statement, read again after a write."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sql_statements import statements
from sqlalchemy import select
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    cheap_hashes_fixture,
    demo_db_fixture,
    demo_rt_fixture,
    pg_demo_rt_fixture,
)

from engine.clock import VN_TZ
from engine.directory import accounts
from engine.directory.units import get_unit
from engine.domain.attachments import attachments_read, documents_read
from engine.domain.comments import task_comments_read
from engine.domain.seen import mark_seen, seen_read
from engine.domain.tasks import TaskKey, find_task, history_read
from engine.reporting.menu import menu_counts
from engine.reporting.task_page import read_task_page
from engine.runtime import Runtime
from engine.storage.models import Attachment, Comment, Task, Unit
from engine.storage.rows import plain_rows
from engine.storage.together import read_together, scoped_rows, together_statement

UNIT = "vinh-thanh"


def add_ties(rt: Runtime) -> None:
    """Comments at one same moment on a task (their order is decided by id) and PDFs, some
    tied to a history entry and some not."""
    at = datetime(2023, 9, 1, 8, 0, tzinfo=VN_TZ)
    with rt.db.transaction() as session:
        unit = get_unit(session, UNIT)
        tasks = session.scalars(select(Task).where(Task.unit_id == unit.id)
                                .order_by(Task.id).limit(3)).all()
        for n, task in enumerate(tasks):
            for k in range(3):
                session.add(Comment(unit_id=unit.id, task_id=task.id, kind="review",
                                    author=f"Thẩm định {k}", author_unit="Sở Nội vụ",
                                    body=f"Ý kiến {n}.{k}", at=at))
                session.add(Attachment(task_id=task.id, history_id=None if k else 1,
                                       filename=f"bao-cao-{k}.pdf",
                                       content_type="application/pdf", size=4,
                                       sha256="0" * 64, content=b"%PDF",
                                       uploaded_by="Cán bộ",
                                       uploaded_at=at + timedelta(minutes=k)))


def every_task(rt: Runtime) -> list[tuple[int, int]]:
    with rt.db.read() as session:
        unit = get_unit(session, UNIT)
        return [(unit.id, t) for t in session.scalars(
            select(Task.id).where(Task.unit_id == unit.id).order_by(Task.id))]


def check_reads(rt: Runtime) -> None:
    add_ties(rt)
    user = accounts.get_user(rt, "canbo.vinhthanh")
    compared = 0
    for unit_id, task_id in every_task(rt):
        reads = [history_read(task_id), attachments_read(task_id), documents_read(task_id),
                 task_comments_read(unit_id, task_id), seen_read(user.id, task_id)]
        with rt.db.read() as session:
            alone = [list(map(tuple, plain_rows(session.connection(), stmt, params)))
                     for stmt, params in reads]
        scope = rt.db.scoped()
        try:
            with scope.read() as session, statements(rt) as sent:
                read_together(session, reads)
                together = [list(scoped_rows(session, stmt, params)) for stmt, params in reads]
            assert len(sent) == 1, sent
        finally:
            scope.close()
        assert together == alone, task_id
        compared += sum(len(rows) for rows in alone)
    assert compared > 100  # the demo's history and documents, the ties added above


def test_reads_together_give_each_read_its_own_rows(rt: Runtime) -> None:
    check_reads(rt)


def test_reads_together_give_each_read_its_own_rows_on_postgresql(pg_demo_rt: Runtime) -> None:
    check_reads(pg_demo_rt)


def test_reads_disagreeing_on_a_parameter_are_refused(rt: Runtime) -> None:
    scope = rt.db.scoped()
    try:
        with scope.read() as session, pytest.raises(ValueError, match="'task'"):
            read_together(session, [history_read(1), attachments_read(2)])
    finally:
        scope.close()


def test_outside_a_request_each_read_runs_when_asked(rt: Runtime) -> None:
    """The CLI's database has no request scope: reading ahead sends nothing, and each read
    runs its own statement every time (nothing is kept between commands)."""
    with rt.db.read() as session, statements(rt) as sent:
        read_together(session, [history_read(1), attachments_read(1)])
        assert sent == []
        scoped_rows(session, *history_read(1))
        scoped_rows(session, *history_read(1))
    assert len(sent) == 2


def test_the_statement_is_built_once_per_set_of_reads() -> None:
    first = together_statement((history_read(1)[0], attachments_read(1)[0]))
    assert together_statement((history_read(2)[0], attachments_read(2)[0])) is first


def test_the_task_page_reads_in_one_statement_and_again_after_a_write(rt: Runtime) -> None:
    """`read_task_page` then the page's functions: one statement for the task's five reads
    and the menu's three; the menu's counts are the ones it reads alone; after `mark_seen`
    wrote (a transaction ended), the version last seen is read afresh."""
    user = accounts.get_user(rt, "canbo.vinhthanh")
    key = TaskKey(UNIT, "cchc-2023", "5")
    first = rt.db.scoped()
    try:
        alone = menu_counts(dataclasses.replace(rt, db=first), user, UNIT)
    finally:
        first.close()
    scope = rt.db.scoped()
    scoped_rt = dataclasses.replace(rt, db=scope)
    try:
        with scope.read() as session:
            find_task(session, key)  # the page has read the task already
        with statements(rt) as sent:
            read_task_page(scoped_rt, key, seen_by=user.id, menu=True)
            assert len(sent) == 1
            assert menu_counts(scoped_rt, user, UNIT) == alone
            assert len(sent) == 1
            mark_seen(scoped_rt, user.id, key)  # first visit: writes the version
            writes = len(sent)
            assert writes > 1
            with scope.read() as session:
                _unit, task = find_task(session, key)
                assert scoped_rows(session, *seen_read(user.id, task.id)) == [(task.version,)]
            assert len(sent) > writes  # read again: the write ended the memo
    finally:
        scope.close()


def test_a_write_finds_the_unit_it_has_just_added(rt: Runtime) -> None:
    """Inside a request's write, a unit added in the same transaction is found by its slug
    (the ORM flushes first), as a parent for the next one, say."""
    scope = rt.db.scoped()
    try:
        with scope.transaction() as session:
            parent = get_unit(session, "nha-trang")
            session.add(Unit(slug="xa-moi", name="Mới", kind="xã", parent_id=parent.id,
                             created_at=datetime(2026, 12, 7, tzinfo=VN_TZ)))
            assert get_unit(session, "xa-moi").parent_id == parent.id
            session.rollback()
    finally:
        scope.close()
