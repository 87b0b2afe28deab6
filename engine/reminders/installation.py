"""The installation id: generated once per database, part of every Message-ID and tracking id.

Why: a digest's key is a hash of its outbox row ids, and row ids restart at 1 in every
database. Two installations (or one restored from a backup next to the old one) would give
two different reminders the same Message-ID, and mail clients that drop repeated Message-IDs
would lose one. Mixing in a random id stored once in the database makes keys unique per
installation while a retry of the same rows keeps its key.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from engine.runtime import Runtime
from engine.storage.models import InstallationValue

INSTALLATION_KEY: Final = "installation_id"

_cache: dict[str, str] = {}
_lock = threading.Lock()


def installation_id(rt: Runtime) -> str:
    """This database's installation id (16 hex characters), created on first use.

    Two processes creating it at once agree: the insert does nothing on conflict and both
    read the row back.
    """
    url = str(rt.db.engine.url)
    with _lock:
        hit = _cache.get(url)
    if hit is not None:
        return hit
    table = InstallationValue.__table__
    values = {"key": INSTALLATION_KEY, "value": secrets.token_hex(8),
              "created_at": datetime.now(UTC)}
    with rt.db.transaction() as session:
        found = session.scalar(select(InstallationValue.value).where(
            InstallationValue.key == INSTALLATION_KEY))
        if found is None:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            session.execute(dialect.insert(table).values(**values)
                            .on_conflict_do_nothing(index_elements=["key"]))
            found = session.scalar(select(InstallationValue.value).where(
                InstallationValue.key == INSTALLATION_KEY))
    value = str(found)
    with _lock:
        _cache[url] = value
    return value


__all__ = ["INSTALLATION_KEY", "installation_id"]
