"""The web app: logins, sessions, API tokens, login attempts, comments,
the task version a login last saw and staged uploads.
"""

# No `from __future__ import annotations`: see engine/storage/models/base.py.

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.storage.models.base import Base
from engine.storage.models.plans import Unit
from engine.storage.models.reminders import Person
from engine.storage.models.tasks import Task


class User(Base):
    """A login. `unit_id` scopes it: a commune for officers/leaders, a city for reviewers."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey(Unit.id), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey(Person.id))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A server-side session; the cookie holds only a random id whose hash is stored here."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A per-user API token for province systems; only its hash is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Failed logins per username and address: what the login rate limit counts."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Comment(Base):
    """A remark the commune sees on a task (`task_id`) or on a period's report (`period`):
    a leader's instruction ("ý kiến chỉ đạo") or the reviewing body's comment. Never printed
    in the report; never changed once written."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_unit_task", "unit_id", "task_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey(Unit.id))
    task_id: Mapped[int | None] = mapped_column(ForeignKey(Task.id))
    period: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20))  # instruction | review
    author: Mapped[str] = mapped_column(String(200))
    author_unit: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskSeen(Base):
    """The task version a login last opened: a task reassigned or reopened since is flagged
    in that officer's "Việc của tôi" until they open it."""

    __tablename__ = "task_seen"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey(Task.id), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class StagedUpload(Base):
    """A PDF chosen in a form that was refused for another field, kept so the officer need
    not pick it again (used by the next submit of the same user, purged after a day)."""

    __tablename__ = "staged_uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = [
    "ApiToken",
    "Comment",
    "LoginAttempt",
    "StagedUpload",
    "TaskSeen",
    "User",
    "WebSession",
]
