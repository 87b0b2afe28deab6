"""A web request's database scope (`ScopedDatabase`): its reads share one read transaction —
no commit per engine call — and still hold nothing between them: another process's write in
between is neither blocked nor hidden from the scope's next read, and the scope's own write
afterwards (`BEGIN IMMEDIATE` on SQLite) starts cleanly and is read back."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from engine import api
from engine.runtime import Runtime
from engine.storage.models import Unit


def count_units(db: object) -> int:
    from engine.storage.database import Database

    assert isinstance(db, Database)
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Unit)) or 0)


def in_driver_transaction(rt: Runtime, scope: object) -> bool:
    conn = getattr(scope, "_conn")  # noqa: B009 - the scope's one connection
    return bool(conn.connection.dbapi_connection.in_transaction) if rt.db.is_sqlite \
        else conn.in_transaction()


def test_a_scope_reads_in_one_transaction_and_holds_nothing_between_reads(rt: Runtime) -> None:
    api.add_unit(rt, slug="nha-trang", name="Nha Trang", kind="thành phố")
    scope = rt.db.scoped()
    try:
        assert count_units(scope) == 1
        commits: list[object] = []

        def on_commit(conn: object) -> None:
            commits.append(conn)

        event.listen(scope.engine, "commit", on_commit)
        try:
            assert count_units(scope) == 1
            assert api.list_units(Runtime(scope, rt.machine, rt.calendar, rt.settings, rt.clock))
            assert commits == []  # no commit per read any more
        finally:
            event.remove(scope.engine, "commit", on_commit)
        # SQLite: a SELECT opens no transaction (nor keeps a read snapshot) in the driver
        if rt.db.is_sqlite:
            assert not in_driver_transaction(rt, scope)
        # another process writes in between (BEGIN IMMEDIATE on SQLite: not blocked) ...
        api.add_unit(rt, slug="vinh-thanh", name="Vĩnh Thạnh", kind="xã", parent="nha-trang")
        # ... and the scope's next read sees it (no old snapshot kept)
        assert count_units(scope) == 2
        # the scope's own write after its reads starts cleanly and is read back
        with scope.serialized() as session:
            session.add(Unit(slug="vinh-luong", name="Vĩnh Lương", kind="xã", created_at=rt.now()))
        assert count_units(scope) == 3
        assert count_units(rt.db) == 3
        if rt.db.is_sqlite:
            assert not in_driver_transaction(rt, scope)
    finally:
        scope.close()
    assert count_units(rt.db) == 3


def test_a_scope_reads_a_unit_with_the_units_above_it_in_one_statement(rt: Runtime) -> None:
    from engine.directory.units import ancestors, get_unit

    api.add_unit(rt, slug="khanh-hoa", name="Khánh Hòa", kind="tỉnh")
    api.add_unit(rt, slug="nha-trang", name="Nha Trang", kind="thành phố", parent="khanh-hoa")
    api.add_unit(rt, slug="vinh-thanh", name="Vĩnh Thạnh", kind="xã", parent="nha-trang")
    with rt.db.read() as session:  # outside a scope: the unit, then the units above it
        expected = [u.slug for u in ancestors(session, get_unit(session, "vinh-thanh"))]
    assert expected == ["nha-trang", "khanh-hoa"]
    scope = rt.db.scoped()
    statements: list[str] = []

    def on_statement(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(scope.engine, "before_cursor_execute", on_statement)
    try:
        with scope.read() as session:
            unit = get_unit(session, "vinh-thanh")
            assert [u.slug for u in ancestors(session, unit)] == expected
            assert get_unit(session, "nha-trang").slug == "nha-trang"  # loaded already
            assert ancestors(session, get_unit(session, "khanh-hoa")) == []
        assert len(statements) == 1
    finally:
        event.remove(scope.engine, "before_cursor_execute", on_statement)
        scope.close()


def test_a_scope_ends_its_reads_with_commit_so_prepared_statements_last(rt: Runtime) -> None:
    """Closing a scope that only read ends its transaction with COMMIT, not ROLLBACK: psycopg
    forgets every prepared statement on a ROLLBACK, so a web request ending with one made
    PostgreSQL parse and plan each statement of every page again (issue 13)."""
    api.add_unit(rt, slug="vinh-thanh", name="Vĩnh Thạnh", kind="xã")
    ended: list[str] = []

    def on_commit(_conn: object) -> None:
        ended.append("commit")

    def on_rollback(_conn: object) -> None:
        ended.append("rollback")

    event.listen(rt.db.engine, "commit", on_commit)
    event.listen(rt.db.engine, "rollback", on_rollback)
    try:
        for _ in range(7):  # psycopg prepares a statement on its 6th run on a connection
            scope = rt.db.scoped()
            assert count_units(scope) == 1
            scope.close()
    finally:
        event.remove(rt.db.engine, "commit", on_commit)
        event.remove(rt.db.engine, "rollback", on_rollback)
    assert ended == ["commit"] * 7
    if not rt.db.is_sqlite:
        scope = rt.db.scoped()
        try:
            with scope.read() as session:
                prepared = session.scalar(text(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement ILIKE "
                    "'%count(*)%units%'"))
            assert prepared == 1
        finally:
            scope.close()


def test_a_scope_whose_read_failed_rolls_back(rt: Runtime) -> None:
    scope = rt.db.scoped()
    try:
        with pytest.raises(DBAPIError), scope.read() as session:
            session.execute(text("SELECT * FROM no_such_table"))
        assert count_units(scope) == 0  # the failed transaction did not poison the scope
    finally:
        scope.close()


def test_a_scope_reads_outside_a_transaction_and_writes_inside_one(rt: Runtime) -> None:
    """PostgreSQL: the scope's reads run in autocommit mode (no BEGIN/COMMIT round trips, no
    table locks kept to the end of the request), its writes in a transaction that a failure
    rolls back whole; the connection goes back to the pool as it came."""
    def autocommit(scope: object) -> bool:
        driver = getattr(scope, "_conn").connection.dbapi_connection  # noqa: B009
        return bool(getattr(driver, "autocommit", False))  # sqlite3 (3.11) has no such mode

    scope = rt.db.scoped()
    try:
        assert count_units(scope) == 0
        assert autocommit(scope) == (not rt.db.is_sqlite)
        assert scope.idle()  # closing it now sends nothing (the web closes it in the loop)
        with pytest.raises(RuntimeError), scope.transaction() as session:
            session.add(Unit(slug="vinh-thanh", name="Vĩnh Thạnh", kind="xã",
                             created_at=rt.now()))
            session.flush()
            assert not autocommit(scope)
            assert not scope.idle()
            raise RuntimeError("the write fails after its first statement")
        assert count_units(scope) == 0  # nothing of it was kept
        with scope.transaction() as session:
            session.add(Unit(slug="vinh-thanh", name="Vĩnh Thạnh", kind="xã",
                             created_at=rt.now()))
        assert autocommit(scope) == (not rt.db.is_sqlite)
        assert count_units(scope) == 1
        assert scope.idle()
    finally:
        scope.close()
    with rt.db.engine.connect() as conn:
        assert not getattr(conn.connection.dbapi_connection, "autocommit", False)
    assert count_units(rt.db) == 1


def test_a_connection_the_server_ended_is_replaced_at_checkout(pg_url: str) -> None:
    """PostgreSQL: a pooled connection ended by the server while idle (a restart,
    `pg_terminate_backend`) is replaced when next checked out — the next request works —
    without a `SELECT 1` round trip at every checkout (`database._replace_if_closed`)."""
    import time

    from engine.storage.database import Database

    db = Database(pg_url)
    other = Database(pg_url)
    try:
        with db.engine.connect() as conn:
            first = conn.scalar(text("SELECT pg_backend_pid()"))
        with other.engine.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the backend is gone once it left the list
            with other.engine.connect() as conn:
                if not conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                                   {"p": first}):
                    break
            time.sleep(0.05)
        with db.engine.connect() as conn:  # the pool's one connection is the ended one
            assert conn.scalar(text("SELECT pg_backend_pid()")) != first
    finally:
        db.dispose()
        other.dispose()
