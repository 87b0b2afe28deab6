"""Shared fixtures: a fresh database per test, on SQLite and on the real PostgreSQL.

The parsed data files the commands keep (`plans.data_cache`) go to a folder of this run, not
the user's cache (set before any setting is read; commands run as subprocesses inherit it).

PostgreSQL tests create a throw-away database on the server at CCHC_TEST_PG_URL (default:
127.0.0.1:5432, trust auth, database `test`). Where no server answers they skip with the
reason — unless CCHC_REQUIRE_POSTGRES=1 (CI), where that is a failure. The seed-comparison
tests likewise skip without the seed report unless CCHC_REQUIRE_SEED=1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.clock import VN_TZ, fixed_clock
from engine.runtime import Runtime, open_runtime

DATA_CACHE_DIR = Path(tempfile.mkdtemp(prefix="cchc-test-data-cache-"))
os.environ["CCHC_DATA_CACHE_DIR"] = str(DATA_CACHE_DIR)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(DATA_CACHE_DIR, ignore_errors=True)


PG_ADMIN_URL = os.environ.get(
    "CCHC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: The paper report the demo rebuilds; it lives outside the repository, next to it by default.
SEED = Path(os.environ.get("CCHC_SEED") or (
    Path(__file__).resolve().parents[2] / "shared" / "seed" /
    "bao-cao-cchc-quy-III-2023-xa-vinh-thanh.txt"))


def require_seed() -> Path:
    """The seed report, or skip — unless CCHC_REQUIRE_SEED=1 (CI), where its absence fails."""
    if not SEED.is_file():
        reason = (f"the seed report is not at {SEED} (set CCHC_SEED): nothing to "
                  "compare the demo with")
        if os.environ.get("CCHC_REQUIRE_SEED") == "1":
            pytest.fail(f"CCHC_REQUIRE_SEED=1 but {reason}")
        pytest.skip(reason)
    return SEED


def _pg_reason() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    reason = _pg_reason()
    if reason:
        if os.environ.get("CCHC_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"CCHC_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    return PG_ADMIN_URL


@contextmanager
def scratch_pg_database(admin_url: str, prefix: str = "cchc_t") -> Iterator[str]:
    """A fresh, empty PostgreSQL database (its URL), dropped when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with scratch_pg_database(pg_admin_url) as url:
        yield url


class Clock:
    """A settable clock for tests (Vietnam time)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, iso: str) -> None:
        self.at = datetime.fromisoformat(iso).replace(tzinfo=VN_TZ)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2023, 9, 20, 9, 0, tzinfo=VN_TZ))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cchc.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def rt(db_url: str, clock: Clock) -> Iterator[Runtime]:
    runtime = open_runtime(db_url, clock=clock)
    yield runtime
    runtime.db.dispose()


@pytest.fixture
def sqlite_rt(tmp_path: Path, clock: Clock) -> Iterator[Runtime]:
    runtime = open_runtime(f"sqlite:///{tmp_path / 'cchc.sqlite3'}", clock=clock)
    yield runtime
    runtime.db.dispose()


__all__ = ["SEED", "Clock", "fixed_clock", "require_seed"]


@pytest.fixture(autouse=True)
def _no_leftover_log_handler() -> Iterator[None]:
    """A command that configured logging (`engine.logging_setup`) must not leak it into later tests
    (their CLI output would carry log lines)."""
    import logging

    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if handler.get_name() == "cchc":
            root.removeHandler(handler)
    root.setLevel(level)
