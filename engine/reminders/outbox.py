"""The outbox: one row per reminder per person per channel, inserted once, sent once, kept forever.

Why a table and not scheduler jobs: the database is the only source of truth. The sweep inserts
rows with INSERT … ON CONFLICT (idempotency_key) DO NOTHING, so however often (or however late,
after an outage) it runs, a reminder exists once. Dispatchers *claim* due rows under a lease —
PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, SQLite `BEGIN IMMEDIATE` — so several processes on
one database never send the same row twice; a crashed worker's rows come back when its lease
expires. Rows change state but are never deleted (the migration refuses DELETE).

States (see docs/reminders.md for the diagram):
  pending   waiting for `next_attempt_at` (new, deferred by quiet hours, or backing off)
  sending   claimed by `lease_owner` until `lease_until`
  sent      delivered (`provider_message_id`, `sent_at`); partial refusals in `detail`
  failed    permanent error or too many attempts (`last_error`); `cchc outbox retry` revives it
  cancelled the item was done / its due date or owner changed before sending (`last_error`)
  fallback  this channel cannot reach the person; a row for the next channel was inserted
  unknown   the request went out and no answer came (timeout) on a channel without an
            idempotency key (Zalo): not repeated automatically; `cchc outbox retry` after
            checking with the recipient

Datetimes are written in Asia/Ho_Chi_Minh: SQLite stores them as local wall-clock text (without
offset), so every value must use the same zone for comparisons in SQL to hold; PostgreSQL stores
`timestamptz` and compares instants either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import Connection, Table, and_, bindparam, or_, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.clock import VN_TZ
from engine.domain.choices import resolve_choice
from engine.errors import NotFound, ValidationFailed
from engine.reminders.occurrence import Occurrence
from engine.runtime import Runtime
from engine.storage.models import OutboxMessage, Person, Unit

OUTBOX: Final[Table] = OutboxMessage.__table__  # type: ignore[assignment]

PENDING: Final = "pending"
SENDING: Final = "sending"
SENT: Final = "sent"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"
FALLBACK: Final = "fallback"
UNKNOWN: Final = "unknown"
STATES: Final = (PENDING, SENDING, SENT, FAILED, CANCELLED, FALLBACK, UNKNOWN)
FINAL_STATES: Final = frozenset({SENT, FAILED, CANCELLED, FALLBACK, UNKNOWN})
RETRYABLE: Final = frozenset({FAILED, UNKNOWN})

STATE_LABELS: Final[Mapping[str, str]] = {
    PENDING: "Chờ gửi",
    SENDING: "Đang gửi",
    SENT: "Đã gửi",
    FAILED: "Gửi không được",
    CANCELLED: "Đã hủy",
    FALLBACK: "Chuyển kênh khác",
    UNKNOWN: "Không rõ đã đến chưa",
}

INSERT_BATCH: Final = 500  # rows per INSERT statement (23 columns: well under both limits)
MAX_ERRORS_KEPT: Final = 20  # detail["errors"] keeps the most recent ones


def db_time(at: datetime) -> datetime:
    """An aware datetime in Vietnam time, the one zone the outbox is written in."""
    if at.tzinfo is None:
        return at.replace(tzinfo=VN_TZ)
    return at.astimezone(VN_TZ)


def from_db(at: datetime | None) -> datetime | None:
    """Back from the database: SQLite gives naive local time, PostgreSQL an aware instant."""
    if at is None:
        return None
    return db_time(at)


class _Keyed(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def created_at(self) -> datetime | None: ...


def message_key_of(rows: Iterable[_Keyed], installation: str) -> str:
    """The digest's stable id (the e-mail Message-ID, the Zalo tracking id): a hash of the
    installation id and its rows' ids and creation times.

    Unique per installation (`engine.reminders.installation`), and unique even after a restore
    from a backup makes row ids repeat (the re-created rows have other creation times); the
    same rows always give the same key, so a retry keeps it.
    """
    parts = sorted({(r.id, _micros(r.created_at)) for r in rows})
    joined = ",".join(f"{i}.{t}" for i, t in parts)
    return hashlib.sha256(f"outbox:{installation}:{joined}".encode()).hexdigest()[:32]


def _micros(at: datetime | None) -> int:
    return 0 if at is None else int(db_time(at).timestamp() * 1_000_000)


def key_for_channel(idempotency_key: str, old_channel: str, new_channel: str) -> str:
    """The same reminder's key on another channel (keys end with ":<channel>")."""
    suffix = f":{old_channel}"
    base = idempotency_key[: -len(suffix)] if idempotency_key.endswith(suffix) else idempotency_key
    return f"{base}:{new_channel}"


@dataclass(frozen=True)
class OutboxRow:
    """A read-only copy of one outbox row."""

    id: int
    idempotency_key: str
    unit_id: int
    person_id: int
    channel: str
    item_kind: str
    item_id: int
    due_on: date
    step: str
    send_on: date
    state: str
    attempts: int
    next_attempt_at: datetime
    lease_owner: str | None
    lease_until: datetime | None
    message_key: str | None
    provider_message_id: str | None
    last_error: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    sent_at: datetime | None = None

    @classmethod
    def from_mapping(cls, m: Mapping[Any, Any]) -> OutboxRow:
        return cls(
            id=m["id"], idempotency_key=m["idempotency_key"], unit_id=m["unit_id"],
            person_id=m["person_id"], channel=m["channel"], item_kind=m["item_kind"],
            item_id=m["item_id"], due_on=m["due_on"], step=m["step"], send_on=m["send_on"],
            state=m["state"], attempts=m["attempts"],
            next_attempt_at=db_time(m["next_attempt_at"]),
            lease_owner=m["lease_owner"], lease_until=from_db(m["lease_until"]),
            message_key=m["message_key"], provider_message_id=m["provider_message_id"],
            last_error=m["last_error"], payload=dict(m["payload"] or {}),
            detail=dict(m["detail"] or {}), created_at=from_db(m["created_at"]),
            updated_at=from_db(m["updated_at"]), sent_at=from_db(m["sent_at"]),
        )

    @property
    def group(self) -> tuple[int, str]:
        """Rows of one person and channel due at one claim travel in one digest (the send
        day's, with any rows that missed their own day)."""
        return (self.person_id, self.channel)

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.detail.get("errors") or [])


# ---------------------------------------------------------------- inserting


def new_row_values(*, key: str, unit_id: int, person_id: int, channel: str, item_kind: str,
                   item_id: int, due_on: date, step: str, send_on: date, not_before: datetime,
                   now: datetime, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A fresh pending row, first attempt at `not_before`."""
    at = db_time(now)
    return {
        "idempotency_key": key,
        "unit_id": unit_id,
        "person_id": person_id,
        "channel": channel,
        "item_kind": item_kind,
        "item_id": item_id,
        "due_on": due_on,
        "step": step,
        "send_on": send_on,
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": db_time(not_before),
        "lease_owner": None,
        "lease_until": None,
        "message_key": None,
        "provider_message_id": None,
        "last_error": None,
        "payload": dict(payload or {}),
        "detail": {},
        "created_at": at,
        "updated_at": at,
        "sent_at": None,
    }


def occurrence_values(occ: Occurrence, now: datetime) -> dict[str, Any]:
    """The outbox row of one occurrence: pending, first attempt at its `not_before`."""
    return new_row_values(
        key=occ.idempotency_key, unit_id=occ.unit_id, person_id=occ.person_id,
        channel=occ.channel, item_kind=occ.item_kind, item_id=occ.item_id, due_on=occ.due_on,
        step=occ.step, send_on=occ.send_on, not_before=occ.not_before, now=now,
        payload=occ.payload)


COLUMNS: Final = ("idempotency_key", "unit_id", "person_id", "channel", "item_kind", "item_id",
                  "due_on", "step", "send_on", "state", "attempts", "next_attempt_at",
                  "lease_owner", "lease_until", "message_key", "provider_message_id",
                  "last_error", "payload", "detail", "created_at", "updated_at", "sent_at")
_PG_TYPES: Final = {
    "unit_id": "integer", "person_id": "integer", "item_id": "integer", "attempts": "integer",
    "due_on": "date", "send_on": "date", "next_attempt_at": "timestamptz",
    "lease_until": "timestamptz", "created_at": "timestamptz", "updated_at": "timestamptz",
    "sent_at": "timestamptz", "payload": "json", "detail": "json",
}
def _pg_insert_sql() -> str:
    """PostgreSQL: one statement per batch whatever its size — the batch travels as ONE JSON
    text parameter that `json_to_recordset` turns back into typed rows (no per-row
    placeholders to build, parse or plan, and no per-element array quoting)."""
    cols = ", ".join(COLUMNS)
    types = ", ".join(f"{c} {_PG_TYPES.get(c, 'text')}" for c in COLUMNS)
    return (f"INSERT INTO outbox ({cols}) SELECT {cols} "
            f"FROM json_to_recordset(CAST(:rows AS json)) AS v({types}) "
            "ON CONFLICT (idempotency_key) DO NOTHING")


_PG_INSERT: Final = text(_pg_insert_sql())


def insert_rows(session: Session, values: Sequence[Mapping[str, Any]],
                *, batch_size: int = INSERT_BATCH) -> int:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING, in batches; how many were new.

    Duplicates inside `values` are dropped first (one statement cannot insert a key twice on
    PostgreSQL), keeping the first. SQLite runs the single-row statement for each row
    (executemany); PostgreSQL sends each batch as one JSON document (see `_PG_INSERT`).
    """
    unique: dict[str, Mapping[str, Any]] = {}
    for v in values:
        unique.setdefault(str(v["idempotency_key"]), v)
    rows = list(unique.values())
    postgres = session.get_bind().dialect.name == "postgresql"
    inserted = 0
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        if not chunk:
            continue
        if postgres:
            batch = json.dumps([{c: _pg_value(r[c]) for c in COLUMNS} for r in chunk],
                               ensure_ascii=False, default=str)
            inserted += _rowcount(session.execute(_PG_INSERT, {"rows": batch}))
        else:
            stmt = sqlite.insert(OUTBOX).on_conflict_do_nothing(index_elements=["idempotency_key"])
            inserted += _rowcount(session.execute(stmt, [dict(r) for r in chunk]))
    return inserted


def _pg_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return db_time(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


_PG_NEW_KEYS: Final = text(
    "SELECT k.key FROM json_array_elements_text(CAST(:keys AS json)) AS k(key) "
    "WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.idempotency_key = k.key)")


def new_keys(session: Session, keys: Sequence[str], *, chunk: int = 50_000) -> set[str]:
    """Which of `keys` are not in the outbox yet (one indexed probe per key).

    On PostgreSQL a chunk of keys travels as ONE JSON text parameter (encoded in C; an array
    parameter is quoted element by element in Python, ~1.5 µs a key) and only the new keys
    come back: a sweep at the national peak asks about ~126,000 keys, nearly all known."""
    found: set[str] = set()
    if session.get_bind().dialect.name == "postgresql":
        for start in range(0, len(keys), chunk):
            found.update(session.execute(_PG_NEW_KEYS, {
                "keys": json.dumps(keys[start:start + chunk], ensure_ascii=False)}).scalars())
        return found
    for start in range(0, len(keys), 900):
        part = keys[start:start + 900]
        known = set(session.execute(select(OUTBOX.c.idempotency_key).where(
            OUTBOX.c.idempotency_key.in_(part))).scalars())
        found.update(k for k in part if k not in known)
    return found


def insert_occurrences(session: Session, occurrences: Iterable[Occurrence], now: datetime,
                       *, batch_size: int = INSERT_BATCH) -> int:
    return insert_rows(session, [occurrence_values(o, now) for o in occurrences],
                       batch_size=batch_size)


# ---------------------------------------------------------------- claiming


@contextmanager
def write_transaction(rt: Runtime) -> Iterator[Session]:
    """A write transaction that holds the write lock from its first statement on SQLite
    (`Database.serialized`): two dispatchers claim one after the other and never both read the
    same pending rows. PostgreSQL uses row locks (FOR UPDATE SKIP LOCKED) instead."""
    with rt.db.serialized() as session:
        yield session


claim_transaction = write_transaction


def fast_commit(session: Session) -> None:
    """PostgreSQL: this transaction's COMMIT does not wait for the WAL flush.

    Used for marking rows after a send (one small transaction per digest, the dispatcher's
    bottleneck otherwise). The only exposure is a crash of the database server itself within
    a fraction of a second after the commit: the marks are then lost, the rows come back after
    their lease and the digest is sent again under the same Message-ID — the same, droppable
    kind of duplicate as a worker dying between send and mark. A worker crash loses nothing.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))


def due_condition(now: datetime) -> ColumnElement[bool]:
    """Rows a dispatcher may take: pending and due, or sending under an expired lease."""
    at = db_time(now)
    c = OUTBOX.c
    return or_(
        and_(c.state == PENDING, c.next_attempt_at <= at),
        and_(c.state == SENDING, c.lease_until < at),
    )


#: pg_advisory_xact_lock class id of "claiming a person's outbox rows" (any fixed number).
CLAIM_LOCK_CLASS: Final = 10_710

#: Rounds of candidates a claim looks through when other dispatchers hold the first ones.
CLAIM_ROUNDS: Final = 8


def _candidates(session: Session, at: datetime, limit: int, skip: Sequence[int]) -> list[int]:
    """People with due rows, in claim order (expired leases first, then the oldest pending),
    about `limit` rows' worth, leaving out `skip`; read without locking."""
    c = OUTBOX.c
    out: list[int] = []
    for cond, order in ((and_(c.state == SENDING, c.lease_until < at), c.lease_until),
                        (and_(c.state == PENDING, c.next_attempt_at <= at), c.next_attempt_at)):
        q = select(c.person_id).where(cond).order_by(order).limit(limit)
        if skip:
            q = q.where(c.person_id.not_in(list(skip)))
        out += session.execute(q).scalars().all()
    return list(dict.fromkeys(out))


_PG_TRY_LOCK_PEOPLE: Final = text(
    "SELECT p FROM unnest(CAST(:ids AS integer[])) WITH ORDINALITY AS t(p, n) "
    "WHERE pg_try_advisory_xact_lock(:cls, p) ORDER BY n")


def claim(session: Session, now: datetime, *, instance: str, limit: int,
          lease: timedelta) -> list[OutboxRow]:
    """Lease every due row of about `limit` rows' worth of people to `instance` (attempts + 1).

    Run inside `claim_transaction`. Claims go **by person**: a person's due rows (all channels,
    all send days — rows that missed their day merge into today's digest) are taken together
    by one dispatcher, so concurrent dispatchers never split a digest. Candidates: people with
    rows under an expired lease first (a dead worker's), then those with the oldest due pending
    rows — each an ordered scan of `ix_outbox_state_next_attempt_at` stopping after `limit`
    rows, read without locking. On PostgreSQL each candidate is then taken with a
    transaction-scoped advisory lock (`pg_try_advisory_xact_lock`); people another dispatcher
    holds are skipped. Their due rows are then read again and locked, and leased. (SQLite:
    the whole claim runs under the database write lock, `BEGIN IMMEDIATE`.)
    """
    c = OUTBOX.c
    at = db_time(now)
    postgres = session.get_bind().dialect.name == "postgresql"
    due = due_condition(now)
    ids: list[int] = []
    tried: list[int] = []
    for _round in range(CLAIM_ROUNDS):
        people = _candidates(session, at, limit, tried)
        if not people:
            break
        tried += people
        if postgres:  # people another dispatcher is claiming right now are skipped
            people = list(session.execute(_PG_TRY_LOCK_PEOPLE,
                                          {"ids": people, "cls": CLAIM_LOCK_CLASS}).scalars())
        for start in range(0, len(people), 500):
            ids += session.execute(
                select(c.id).where(due, c.person_id.in_(people[start:start + 500]))
                .with_for_update()).scalars().all()
        if ids:  # (none: all taken meanwhile by others — look further)
            break
    if not ids:
        return []
    id_list = sorted(ids)
    for start in range(0, len(id_list), 1000):
        session.execute(
            update(OUTBOX).where(c.id.in_(id_list[start:start + 1000]))
            .values(state=SENDING, lease_owner=instance, lease_until=at + lease,
                    attempts=c.attempts + 1, updated_at=at))
    return fetch(session, id_list)


def defer_due(session: Session, now: datetime, until: datetime) -> int:
    """Quiet hours: push every due row to `until` (not an attempt; a dead lease is dropped)."""
    at = db_time(now)
    result = session.execute(
        update(OUTBOX).where(due_condition(now))
        .values(state=PENDING, next_attempt_at=db_time(until), lease_owner=None,
                lease_until=None, updated_at=at))
    return int(getattr(result, "rowcount", 0) or 0)


def fetch(session: Session, ids: Sequence[int]) -> list[OutboxRow]:
    out: list[OutboxRow] = []
    id_list = list(ids)
    for start in range(0, len(id_list), 1000):
        out.extend(OutboxRow.from_mapping(m) for m in session.execute(
            select(OUTBOX).where(OUTBOX.c.id.in_(id_list[start:start + 1000]))).mappings())
    return sorted(out, key=lambda r: r.id)


# ---------------------------------------------------------------- marking


def _error_entry(now: datetime, kind: str, reason: str, attempt: int,
                 code: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": db_time(now).isoformat(), "kind": kind, "attempt": attempt,
                             "reason": reason}
    if code:
        entry["code"] = code
    return entry


def with_error(detail: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(detail)
    errors = [*list(out.get("errors") or []), dict(entry)]
    out["errors"] = errors[-MAX_ERRORS_KEPT:]
    return out


def _leased(ids: Sequence[int], instance: str) -> ColumnElement[bool]:
    c = OUTBOX.c
    return and_(c.id.in_(list(ids)), c.state == SENDING, c.lease_owner == instance)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


_SET_KEY: Final = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("row_id"), OUTBOX.c.state == SENDING,
           OUTBOX.c.lease_owner == bindparam("owner"))
    .values(message_key=bindparam("key")))


def set_message_keys(session: Session, keys: Mapping[int, str], *, instance: str) -> None:
    """Give claimed rows their digest key: one executemany for a whole claim batch."""
    if keys:
        session.execute(_SET_KEY, [{"row_id": i, "key": k, "owner": instance}
                                   for i, k in keys.items()])


@contextmanager
def mark_connection(rt: Runtime) -> Iterator[Connection | None]:
    """PostgreSQL: one autocommit connection, `synchronous_commit = off`, for a run's marks.

    Marking a digest sent is ONE UPDATE — atomic on its own — so in autocommit it costs one
    round trip instead of four (BEGIN, SET, UPDATE, COMMIT) and the commit does not wait for
    the WAL flush (see `fast_commit` for why that is safe). None on SQLite (plain transactions).
    """
    if rt.db.is_sqlite:
        yield None
        return
    with rt.db.engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("SET synchronous_commit = off")
        try:
            yield conn
        finally:
            conn.exec_driver_sql("RESET synchronous_commit")


_MARK_SENT_PG: Final = text(
    "UPDATE outbox SET state = 'sent', provider_message_id = :pmid, message_key = :mkey, "
    "sent_at = :at, lease_until = NULL, updated_at = :at "
    "WHERE id = ANY(CAST(:ids AS integer[])) AND state = 'sending' AND lease_owner = :owner")
_MARK_SENT: Final = (
    update(OUTBOX)
    .where(OUTBOX.c.id.in_(bindparam("ids", expanding=True)), OUTBOX.c.state == SENDING,
           OUTBOX.c.lease_owner == bindparam("owner"))
    .values(state=SENT, provider_message_id=bindparam("pmid"), message_key=bindparam("mkey"),
            sent_at=bindparam("at"), lease_until=None, updated_at=bindparam("at")))


def mark_sent(session: Session | Connection, rows: Sequence[OutboxRow], *, instance: str,
              now: datetime, provider_message_id: str, message_key: str,
              refused: Mapping[str, str] | None = None) -> int:
    """Delivered: only rows still leased by `instance` change; the number that did.

    The common case (no refusal) is one prepared statement for the whole digest (the
    dispatcher runs it once per message, so it is built once, not per call).
    """
    at = db_time(now)
    if not refused:
        params = {"ids": [r.id for r in rows], "owner": instance,
                  "pmid": provider_message_id[:128], "mkey": message_key, "at": at}
        postgres = session.get_bind().dialect.name == "postgresql" if isinstance(
            session, Session) else session.dialect.name == "postgresql"
        return _rowcount(session.execute(_MARK_SENT_PG if postgres else _MARK_SENT, params))
    values: dict[str, Any] = {
        "state": SENT, "provider_message_id": provider_message_id[:128],
        "message_key": message_key, "sent_at": at, "lease_until": None, "updated_at": at}
    done = 0
    for row in rows:
        detail = {**row.detail, "refused": dict(refused)}
        done += _rowcount(session.execute(
            update(OUTBOX).where(_leased([row.id], instance)).values(**values, detail=detail)))
    return done


def mark_retry(session: Session, rows: Sequence[OutboxRow], *, instance: str, now: datetime,
               next_attempt_at: datetime, reason: str, code: str | None = None) -> int:
    """A transient failure: back to pending at `next_attempt_at`; the error kept in detail."""
    at = db_time(now)
    done = 0
    for row in rows:
        detail = with_error(row.detail, _error_entry(now, "transient", reason, row.attempts,
                                                     code))
        done += _rowcount(session.execute(
            update(OUTBOX).where(_leased([row.id], instance))
            .values(state=PENDING, next_attempt_at=db_time(next_attempt_at),
                    lease_owner=None, lease_until=None, last_error=reason, detail=detail,
                    updated_at=at)))
    return done


def mark_failed(session: Session, rows: Sequence[OutboxRow], *, instance: str, now: datetime,
                reason: str, kind: str = "permanent", code: str | None = None,
                state: str = FAILED, extra: Mapping[str, Any] | None = None) -> int:
    """Permanent failure (or `fallback`): final state, the provider's reason in last_error."""
    at = db_time(now)
    done = 0
    for row in rows:
        detail = with_error(row.detail, _error_entry(now, kind, reason, row.attempts, code))
        if extra:
            detail.update(extra)
        done += _rowcount(session.execute(
            update(OUTBOX).where(_leased([row.id], instance))
            .values(state=state, lease_until=None, last_error=reason, detail=detail,
                    updated_at=at)))
    return done


def mark_cancelled(session: Session, reasons: Mapping[int, str], rows: Sequence[OutboxRow],
                   *, instance: str, now: datetime) -> int:
    """The item no longer needs this reminder: cancelled with the reason, nothing sent."""
    at = db_time(now)
    done = 0
    for row in rows:
        reason = reasons[row.id]
        detail = dict(row.detail)
        detail["cancelled"] = {"at": at.isoformat(), "reason": reason}
        done += _rowcount(session.execute(
            update(OUTBOX).where(_leased([row.id], instance))
            .values(state=CANCELLED, lease_until=None, last_error=reason, detail=detail,
                    updated_at=at)))
    return done


def release(session: Session, rows: Sequence[OutboxRow], *, instance: str,
            now: datetime) -> int:
    """Give unsent rows back (out of time in this run): pending now, the attempt not counted."""
    c = OUTBOX.c
    at = db_time(now)
    return _rowcount(session.execute(
        update(OUTBOX).where(_leased([r.id for r in rows], instance))
        .values(state=PENDING, lease_owner=None, lease_until=None,
                attempts=c.attempts - 1, updated_at=at)))


# ---------------------------------------------------------------- reading and retrying


def list_outbox(rt: Runtime, *, state: str | None = None, unit: str | None = None,
                limit: int = 200) -> list[OutboxRow]:
    """Newest first; filtered by state and/or unit slug."""
    c = OUTBOX.c
    q = select(OUTBOX).order_by(c.id.desc()).limit(limit)
    if state:
        state = resolve_choice(state, STATE_LABELS, field="state", what_vi="Trạng thái",
                               what_en="outbox state")
        q = q.where(c.state == state)
    with rt.db.read() as session:
        if unit:
            unit_id = session.scalar(select(Unit.id).where(Unit.slug == unit))
            if unit_id is None:
                raise NotFound(f"Không tìm thấy đơn vị '{unit}' (xem: cchc unit list)",
                               f"unit '{unit}' not found", field="unit", value=unit)
            q = q.where(c.unit_id == unit_id)
        return [OutboxRow.from_mapping(m) for m in session.execute(q).mappings()]


def count_by_state(rt: Runtime) -> dict[str, int]:
    from sqlalchemy import func

    with rt.db.read() as session:
        return {s: int(n) for s, n in session.execute(
            select(OUTBOX.c.state, func.count()).group_by(OUTBOX.c.state)).all()}


def get_outbox(rt: Runtime, row_id: int) -> OutboxRow:
    with rt.db.read() as session:
        m = session.execute(select(OUTBOX).where(OUTBOX.c.id == row_id)).mappings().first()
    if m is None:
        raise NotFound(f"Không có thư nhắc số {row_id} trong hàng đợi",
                       f"outbox row {row_id} not found", field="id", value=str(row_id))
    return OutboxRow.from_mapping(m)


def retry_failed(rt: Runtime, now: datetime, *, ids: Sequence[int] = (),
                 all_failed: bool = False, by: str = "admin") -> list[int]:
    """failed (or unknown) → pending, due now. Attempts are kept; the error history stays in
    detail.

    Refuses a row that is not `failed`/`unknown` (a sent reminder is never re-sent from here).
    """
    c = OUTBOX.c
    at = db_time(now)
    with write_transaction(rt) as session:
        if all_failed:
            q = select(OUTBOX).where(c.state == FAILED).order_by(c.id)
        else:
            if not ids:
                raise ValidationFailed("Cần số thư nhắc hoặc --all-failed",
                                       "give row ids or --all-failed", field="id")
            q = select(OUTBOX).where(c.id.in_(list(ids))).order_by(c.id)
        rows = [OutboxRow.from_mapping(m) for m in session.execute(q).mappings()]
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise NotFound(f"Không có thư nhắc số {missing[0]} trong hàng đợi",
                           f"outbox row {missing[0]} not found", field="id",
                           value=str(missing[0]))
        for r in rows:
            if r.state not in RETRYABLE:
                raise ValidationFailed(
                    f"Thư nhắc số {r.id} đang ở trạng thái '{r.state_label}', chỉ thư "
                    "'Gửi không được' hoặc 'Không rõ đã đến chưa' mới gửi lại được",
                    f"row {r.id} is {r.state}; only failed rows can be retried",
                    field="id", value=str(r.id))
        for r in rows:
            detail = dict(r.detail)
            detail["retries"] = [*list(detail.get("retries") or []),
                                 {"at": at.isoformat(), "by": by, "last_error": r.last_error,
                                  "attempts": r.attempts}]
            # The retry budget (max attempts) starts again from here; `attempts` keeps counting.
            detail["attempts_at_retry"] = r.attempts
            session.execute(
                update(OUTBOX).where(c.id == r.id, c.state.in_(sorted(RETRYABLE)))
                .values(state=PENDING, next_attempt_at=at, lease_owner=None, lease_until=None,
                        detail=detail, updated_at=at))
        return [r.id for r in rows]


__all__ = [
    "CANCELLED",
    "FAILED",
    "FALLBACK",
    "OUTBOX",
    "PENDING",
    "RETRYABLE",
    "SENDING",
    "SENT",
    "STATES",
    "STATE_LABELS",
    "UNKNOWN",
    "OutboxRow",
    "claim",
    "claim_transaction",
    "count_by_state",
    "db_time",
    "defer_due",
    "due_condition",
    "fast_commit",
    "fetch",
    "get_outbox",
    "insert_occurrences",
    "insert_rows",
    "key_for_channel",
    "list_outbox",
    "mark_cancelled",
    "mark_connection",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "message_key_of",
    "new_keys",
    "new_row_values",
    "occurrence_values",
    "people_names",
    "release",
    "retry_failed",
    "set_message_keys",
    "write_transaction",
]


def people_names(rt: Runtime, ids: Iterable[int]) -> dict[int, str]:
    """Person id → name, for listings."""
    wanted = sorted(set(ids))
    out: dict[int, str] = {}
    with rt.db.read() as session:
        for start in range(0, len(wanted), 900):
            out.update({pid: name for pid, name in session.execute(
                select(Person.id, Person.name).where(Person.id.in_(wanted[start:start + 900])))})
    return out
