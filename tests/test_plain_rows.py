"""`engine.storage.rows`: a statement's rows as the driver gives them and, on PostgreSQL once
its first run showed nothing needs converting, run straight on the driver's cursor — with the
same values, inside the same transaction, the same errors, and never while anything listens
to the statements (issue 13: a page's statements cost more in SQLAlchemy than in the database).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    literal_column,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import JSON

from engine.clock import VN_TZ
from engine.storage import rows as rows_module
from engine.storage.database import normalise_url
from engine.storage.rows import plain_row, plain_rows

META = MetaData()
THINGS = Table(
    "things", META,
    Column("id", Integer, primary_key=True),
    Column("name", String(40)),
    Column("due_on", Date),
    Column("at", DateTime(timezone=True)),
    Column("done", Boolean),
    Column("extra", JSON),
)
#: bound values: a named one, a default-valued one (`!= ''`), an expanding IN list
BY_STATE = (select(THINGS.c.id, THINGS.c.name, THINGS.c.due_on, THINGS.c.at, THINGS.c.done,
                   THINGS.c.extra)
            .where(THINGS.c.id >= bindparam("lo"), THINGS.c.name != "",
                   THINGS.c.name.not_in(bindparam("skip", expanding=True)))
            .order_by(THINGS.c.id))
ONE = select(THINGS.c.name).where(THINGS.c.id == bindparam("id"))
ROWS = [
    {"id": 1, "name": "Kế hoạch số 223/KH-UBND", "due_on": date(2023, 3, 6),
     "at": datetime(2023, 3, 6, 8, 30, tzinfo=VN_TZ), "done": True, "extra": {"a": [1, "b"]}},
    {"id": 2, "name": "Báo cáo quý III", "due_on": None, "at": None, "done": False,
     "extra": None},
    {"id": 3, "name": "bỏ qua", "due_on": date(2023, 12, 6), "at": None, "done": None,
     "extra": [1]},
    {"id": 4, "name": "", "due_on": None, "at": None, "done": None, "extra": None},
]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = create_engine(normalise_url(db_url))
    META.create_all(eng)
    with eng.begin() as conn:
        conn.execute(THINGS.insert(), ROWS)
    yield eng
    eng.dispose()


def expected(engine: Engine, stmt: object, params: dict[str, object]) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt, params).all()]  # type: ignore[call-overload]


def test_the_rows_are_sqlalchemys_values_on_every_run(engine: Engine) -> None:
    params: dict[str, object] = {"lo": 1, "skip": ["bỏ qua", "không có"]}
    want = expected(engine, BY_STATE, params)
    assert [r[0] for r in want] == [1, 2]
    with engine.connect() as conn:
        for _ in range(3):  # the first run by SQLAlchemy, the next ones direct on PostgreSQL
            got = plain_rows(conn, BY_STATE, params)
            assert [tuple(r) for r in got] == want
            assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in want]
        assert plain_rows(conn, BY_STATE, {"lo": 2, "skip": ["x"]})[-1][1] == "bỏ qua"
        row = plain_row(conn, ONE, {"id": 2})
        assert row is not None and tuple(row) == ("Báo cáo quý III",)
        assert plain_row(conn, ONE, {"id": 99}) is None
    direct = rows_module._DIRECT[BY_STATE][engine.dialect.name]
    # PostgreSQL: nothing to convert, named parameters: direct; SQLite: dates are text
    assert (direct is not None) == (engine.dialect.name == "postgresql")


def test_a_direct_read_is_in_the_connections_transaction(engine: Engine) -> None:
    with engine.connect() as conn:
        plain_rows(conn, ONE, {"id": 1})
        conn.commit()
        assert not conn.in_transaction()
        assert plain_rows(conn, ONE, {"id": 1})[0][0] == "Kế hoạch số 223/KH-UBND"
        assert conn.in_transaction()  # begun as SQLAlchemy's own execution would
        conn.execute(THINGS.update().where(THINGS.c.id == 1).values(name="đổi"))
        assert plain_rows(conn, ONE, {"id": 1})[0][0] == "đổi"  # sees its own write
        conn.rollback()
        assert plain_rows(conn, ONE, {"id": 1})[0][0] == "Kế hoạch số 223/KH-UBND"


def test_a_failed_direct_read_raises_sqlalchemys_error(engine: Engine) -> None:
    with engine.connect() as conn:
        assert plain_rows(conn, ONE, {"id": 1})
        conn.commit()
        assert plain_rows(conn, ONE, {"id": 1})
        conn.commit()
        conn.execute(text("DROP TABLE things"))
        with pytest.raises(DBAPIError, match="things"):
            plain_rows(conn, ONE, {"id": 1})
        conn.rollback()
        if engine.dialect.name == "postgresql":  # transactional DDL: the table is back
            assert plain_rows(conn, ONE, {"id": 1})  # and the connection works


def test_statements_are_seen_whenever_something_listens(engine: Engine) -> None:
    with engine.connect() as conn:
        plain_rows(conn, ONE, {"id": 1})  # known now (direct on PostgreSQL)
        seen: list[str] = []

        def on_statement(_c: object, _cur: object, statement: str, *_: object) -> None:
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", on_statement)
        try:
            assert plain_rows(conn, ONE, {"id": 3})[0][0] == "bỏ qua"
        finally:
            event.remove(engine, "before_cursor_execute", on_statement)
        assert len(seen) == 1 and "things" in seen[0]


def test_a_percent_sign_and_a_name_used_twice_run_direct_as_written(engine: Engine) -> None:
    """On PostgreSQL the direct run hands psycopg the text in `$n` form (`_numbered`): a
    literal percent sign (`%%` in SQLAlchemy's text) stays one, a name used twice is one
    parameter."""
    stmt = (select(THINGS.c.id, literal_column("'50%'"), THINGS.c.name.like(bindparam("pat")))
            .where(THINGS.c.id >= bindparam("lo"), THINGS.c.id <= bindparam("lo") + 1)
            .order_by(THINGS.c.id))
    params: dict[str, object] = {"lo": 2, "pat": "%quý%"}
    want = expected(engine, stmt, params)
    assert want == [(2, "50%", True), (3, "50%", False)]
    with engine.connect() as conn:
        for _ in range(3):
            assert [tuple(r) for r in plain_rows(conn, stmt, params)] == want


def test_the_numbered_form_of_a_text() -> None:
    assert rows_module._numbered("a = %(x)s AND b LIKE '5%%' AND c = %(y)s OR d = %(x)s") == (
        "a = $1 AND b LIKE '5%' AND c = $2 OR d = $1", ("x", "y"))
