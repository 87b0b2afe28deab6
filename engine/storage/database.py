"""Connecting, migrating and transacting: one `Database` per URL.

Why: SQLite is the embedded default (one file, WAL so readers never block the writer, a busy
timeout so two processes queue instead of failing), PostgreSQL by URL for many instances. The
schema is only ever created by Alembic migrations, so a database made today upgrades tomorrow.
Alembic itself (and its DDL machinery for every dialect) is imported only when a migration has
to run or a `db` command asks for it: every other command finds the schema at the head
revision with one query (`upgrade`'s fast path) and starts without it.
"""

from __future__ import annotations

import functools
import re
import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]+)?=\s*(.+)$", re.M)


@functools.cache
def head_revision() -> str | None:
    """The newest migration's revision id, read from the migration files' `revision` and
    `down_revision` lines (None if they cannot be read that simply: ask Alembic then)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v.strip()) for k, v in _REVISION.findall(path.read_text("utf-8")))
        rev, down = found.get("revision", ""), found.get("down_revision", "")
        if not re.fullmatch(r"[\"'][\w-]+[\"']", rev) or not re.fullmatch(
                r"None|[\"'][\w-]+[\"']", down):
            return None  # a merge point or an unusual file: not for this fast path
        revisions.add(rev[1:-1])
        if down != "None":
            parents.add(down[1:-1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout (PostgreSQL): a pooled connection the server has closed while it sat idle
    (a restart, `pg_terminate_backend`, an idle timeout) is replaced before it is used.

    Why not `pool_pre_ping`: that sends `SELECT 1` and waits for the answer at every checkout,
    i.e. every web request — a round trip costing more CPU than some pages' own statements.
    A server that ends a connection says so on its socket (a termination message, then the
    end of the stream), so an idle connection whose socket has anything to read is finished:
    `DisconnectionError` makes the pool discard it and check out another. A server that
    vanished without a word (a host lost, no FIN) is found at the first statement instead;
    SQLAlchemy then invalidates the pool, so the rest of the requests get new connections."""
    if getattr(dbapi_connection, "closed", False):
        raise DisconnectionError("the connection was closed")
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError("the connection's socket is gone") from exc
    if readable:
        raise DisconnectionError("the server ended the connection while it was idle")


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and pick the psycopg 3 driver we ship with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            db_path = make_url(self.url).database
            if db_path and db_path != ":memory:":
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 10}
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            event.listen(self.engine, "checkout", _replace_if_closed)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def alembic_config(self) -> Config:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (creates it on an empty database).
        Nothing to do — the usual case — costs one query and no Alembic import."""
        head = head_revision()
        if head is not None and self._stored_revision() == head:
            return
        from alembic import command

        cfg = self.alembic_config()
        with self.engine.connect() as conn:
            if self.is_sqlite:
                # SQLite alters a table by copying it and dropping the old one; with foreign
                # keys enforced, dropping a table other rows point at fails on a database that
                # has data. The pragma only takes effect outside a transaction.
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                    if self.is_sqlite:
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise RuntimeError(f"migration left dangling references: {broken}")
            finally:
                if self.is_sqlite:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()

    def _stored_revision(self) -> str | None:
        """The revision in `alembic_version`, read with plain SQL (None: no such table yet)."""
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except DBAPIError:
            return None
        return rows[0][0] if len(rows) == 1 else None

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: everything inside commits together or not at all."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def serialized(self, lock_id: int | None = None) -> Iterator[Session]:
        """A write transaction that holds a write lock from its first statement.

        SQLite has no row locks: `BEGIN IMMEDIATE` takes the database's write lock up front, so
        two such transactions run one after the other (the busy timeout queues the second), and
        one that reads before it writes cannot fail with SQLITE_BUSY when another process wrote
        in between. PostgreSQL: with `lock_id`, a transaction-scoped advisory lock serialises
        the transactions that name the same id (without it, nothing special).
        """
        with self.transaction() as session:
            if self.is_sqlite:
                session.execute(text("BEGIN IMMEDIATE"))
            elif lock_id is not None:
                session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading, its transaction ended with COMMIT (see `ScopedDatabase.close`
        for why not the ROLLBACK closing sends); rolled back if the block raised."""
        with self._sessions() as session:
            yield session
            if session.in_transaction():
                session.commit()

    def dispose(self) -> None:
        self.engine.dispose()

    def idle(self) -> bool:
        """Whether `dispose()` sends nothing to the database (see `ScopedDatabase.idle`)."""
        return False

    def scoped(self) -> ScopedDatabase:
        """This database seen through one connection and one session until `close()`: what
        a web request uses, so its engine calls share them (see `ScopedDatabase`)."""
        return ScopedDatabase(self)


T = TypeVar("T")


def scope_memo(session: Session, key: object, compute: Callable[[], T]) -> T:
    """`compute()`, once per scope for `key` when `session` is a scope's (a web request, see
    `ScopedDatabase`: the memo is dropped whenever a transaction ends); otherwise
    simply `compute()`. For read-only results that several parts of one page ask for."""
    cache: dict[object, object] | None = session.info.get("cache")
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cast(T, cache[key])


class _ScopeSession(Session):
    """A scope's session keeps every object it loads until the scope ends: the identity map
    alone holds them weakly, so a unit looked up by id twice in one request (a parent, say)
    would be read twice."""


@event.listens_for(_ScopeSession, "loaded_as_persistent")
def _keep_loaded(session: Session, instance: object) -> None:
    session.info["keep"].append(instance)


class ScopedDatabase(Database):
    """One connection and one ORM session for every `read()` and `transaction()` of a scope
    (a web request) instead of a session — and a connection checkout — per engine call.

    The reads of a scope run each on its own, in no transaction kept open between them: on
    SQLite the driver begins a transaction only before a write (a SELECT runs on its own, its
    read snapshot ends with it), so `BEGIN IMMEDIATE` never meets an open read transaction or
    an old snapshot; on PostgreSQL the scope's connection is in autocommit mode between writes
    — each read statement sees what is committed when it starts, exactly as a statement of a
    READ COMMITTED transaction would, but without the BEGIN and COMMIT round trips a read
    transaction costs each request, and without holding its table locks until the request
    ends. `transaction()` commits or rolls back exactly as `Database.transaction()` does. The
    session's `info["cache"]` is a per-scope memo for lookups by key (`get_unit`, `find_task`,
    `scope_memo`): cleared whenever a transaction ends, so what the scope reads after a write
    is read again. A write may start from a memoised row: rows that writes change are
    versioned (compare-and-set), so a row changed meanwhile by someone else is refused, never
    overwritten.
    """

    def __init__(self, base: Database) -> None:
        self.url, self.is_sqlite, self.engine = base.url, base.is_sqlite, base.engine
        self._base = base
        self._conn: Connection | None = None
        self._session: Session | None = None

    def _current(self) -> Session:
        if self._session is None:
            self._conn = self.engine.connect()
            self._autocommit(True)
            self._session = _ScopeSession(bind=self._conn, expire_on_commit=False,
                                          info={"cache": {}, "keep": []})
        return self._session

    def _autocommit(self, on: bool) -> None:
        """PostgreSQL: reads in autocommit mode, writes in a transaction (see the class);
        the pool puts a returned connection back to its default."""
        if self._conn is not None and not self.is_sqlite:
            self._conn.execution_options(isolation_level="AUTOCOMMIT" if on
                                         else self._conn.default_isolation_level)

    def _settle(self, session: Session) -> None:
        """End the open (read) transaction, keeping what was loaded."""
        if session.in_transaction():
            session.commit()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._current()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        session = self._current()
        self._settle(session)
        self._autocommit(False)
        session.info["writing"] = True  # reads inside see the ORM rows the write changes
        try:
            with session.begin():
                yield session
        finally:
            session.info["writing"] = False
            session.info["cache"].clear()
            self._autocommit(True)

    def scoped(self) -> ScopedDatabase:
        return self

    def idle(self) -> bool:
        """Whether `close()` needs no round trip to the database: no transaction open in the
        driver (a scope's usual state at its end: autocommit reads on PostgreSQL, SQLite
        reads outside a transaction, writes committed)."""
        if self._conn is None:
            return True
        driver = self._conn.connection.dbapi_connection
        info = getattr(driver, "info", None)  # psycopg: the libpq connection status
        status = getattr(info, "transaction_status", None)
        if status is not None:
            return int(status) == 0  # TransactionStatus.IDLE
        return not getattr(driver, "in_transaction", True)  # sqlite3

    def close(self) -> None:
        """Give the connection back to the pool (the scope ends). A read transaction (SQLite)
        ends with COMMIT, not the ROLLBACK closing would send: the same for a transaction
        that wrote nothing, and psycopg forgets its prepared statements on every ROLLBACK."""
        if self._session is not None:
            try:
                self._settle(self._session)
            finally:
                self._session.close()  # rolls back what a failed commit left
            self._session = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def dispose(self) -> None:
        self.close()  # the engine belongs to the base database
