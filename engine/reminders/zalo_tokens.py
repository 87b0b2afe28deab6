"""The OA token pair in the `zalo_tokens` table, shared by every dispatcher on the database.

Why a row lock: the refresh token is single-use, so a refresh is one transaction that holds
the OA's row exclusively (`SELECT … FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite,
which takes the database's write lock) from reading the pair until the new pair is written.
A dispatcher that waited on the lock then sees the new access token and uses it instead of
refreshing again (`TokenStore._refresh_locked`).

Database errors become `TransientError`s naming only the exception type: SQLAlchemy's own
messages include the statement's parameters, i.e. the tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from engine.storage.database import Database
from engine.storage.models import ZaloToken
from notifications.base import Clock, TransientError, utc_now
from notifications.settings import ZaloSettings
from notifications.zalo.tokens import LockedTokens, TokenPair, TokenStore

log = logging.getLogger(__name__)


def _aware(at: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


@contextmanager
def _db_errors(what: str) -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as exc:
        raise TransientError(
            f"Zalo token store: {what} failed ({type(exc).__name__})", code="token_store"
        ) from None


class _SqlLocked(LockedTokens):
    def __init__(self, conn: Connection, store: SqlTokenStore, *, for_update: bool) -> None:
        self._conn = conn
        self._store = store
        self._for_update = for_update

    def read(self) -> TokenPair | None:
        stmt = select(
            ZaloToken.access_token,
            ZaloToken.refresh_token,
            ZaloToken.expires_at,
            ZaloToken.version,
        ).where(ZaloToken.oa_id == self._store.oa_id)
        if self._for_update:
            stmt = stmt.with_for_update()
        row = self._conn.execute(stmt).one_or_none()
        if row is None:
            return None
        return TokenPair(row.access_token, row.refresh_token, _aware(row.expires_at), row.version)

    def write(self, pair: TokenPair) -> None:
        self._conn.execute(
            update(ZaloToken)
            .where(ZaloToken.oa_id == self._store.oa_id)
            .values(
                access_token=pair.access_token,
                refresh_token=pair.refresh_token,
                expires_at=pair.expires_at.astimezone(UTC),
                version=pair.version,
                updated_at=self._store.now().astimezone(UTC),
            )
        )


class SqlTokenStore(TokenStore):
    """Token pair in `zalo_tokens` (one row per OA), on PostgreSQL or SQLite."""

    def __init__(
        self,
        db: Database | Engine,
        settings: ZaloSettings,
        *,
        clock: Clock = utc_now,
        margin: timedelta = timedelta(seconds=60),
    ) -> None:
        super().__init__(settings, clock=clock, margin=margin)
        self._engine = db.engine if isinstance(db, Database) else db

    def now(self) -> datetime:
        return self._clock()

    def _load(self) -> TokenPair | None:
        with _db_errors("reading the token"), self._engine.connect() as conn:
            return _SqlLocked(conn, self, for_update=False).read()

    def _insert_if_absent(self, pair: TokenPair) -> None:
        now = self.now().astimezone(UTC)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(ZaloToken).values(
                        oa_id=self.oa_id,
                        access_token=pair.access_token,
                        refresh_token=pair.refresh_token,
                        expires_at=pair.expires_at.astimezone(UTC),
                        version=pair.version,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            pass  # another dispatcher seeded it first
        except SQLAlchemyError as exc:
            raise TransientError(
                f"Zalo token store: seeding the token failed ({type(exc).__name__})",
                code="token_store",
            ) from None

    @contextmanager
    def _exclusive(self) -> Iterator[LockedTokens]:
        if self._engine.dialect.name == "sqlite":
            with self._sqlite_immediate() as conn:
                yield _SqlLocked(conn, self, for_update=False)
            return
        with _db_errors("locking the token row"), self._engine.begin() as conn:
            yield _SqlLocked(conn, self, for_update=True)

    @contextmanager
    def _sqlite_immediate(self) -> Iterator[Connection]:
        """A transaction begun with BEGIN IMMEDIATE: SQLite's write lock, taken up front.

        The driver's implicit BEGIN is deferred (the lock would only come with the write), so
        the connection is switched to autocommit and the transaction is driven by hand.
        """
        with _db_errors("locking the token"), self._engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                with suppress(SQLAlchemyError):
                    conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
