"""Connecting, migrating and transacting: one `Database` per URL.

Why: SQLite is the embedded default (one file, WAL so readers never block the writer, a busy
timeout so two processes queue instead of failing), PostgreSQL by URL for many instances. The
schema is only ever created by Alembic migrations, so a database made today upgrades tomorrow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


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
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (creates it on an empty database)."""
        cfg = self.alembic_config()
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def current_revision(self) -> str | None:
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
        with self._sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
