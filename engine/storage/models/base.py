"""The declarative base every table derives from, and its constraint naming convention.

Why the tables are split into modules by role (plans, tasks, reports, reminders, web): a
command maps only the tables it uses. Mapping a table costs about 1.5 ms of every start; the
everyday commands (`cchc task list`, `task done`) need 10 to 13 of the 29 (issue 13: CLI
start). No table has an ORM `relationship()`, so a mapper never needs another module's class.
A foreign key to another module's table names that module's column (`ForeignKey(Unit.id)`),
so the module it imports is loaded first and the referred table is always in the metadata
(a CREATE or a join finds it). `engine.storage.models.load_all()` loads every module, for
whatever needs the whole schema (Alembic's `target_metadata`).
"""

# No `from __future__ import annotations` in any module of this package: SQLAlchemy would
# read every `Mapped[...]` annotation back from its text (an eval each, ~260 of them: ~10 ms
# of every command's start, issue 13); evaluated by Python they cost nothing. No annotation
# names a later class.

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


__all__ = ["NAMING", "Base"]
