"""SQLAlchemy 2 tables. The database is the single source of truth for task state.

Why these shapes: plan *definitions* (text, hierarchy) are stored once per plan, and each unit
gets narrow task rows (state, owner, deadline, version) so 3,321 units x 124 tasks stay small;
history is append-only (triggers in the migration refuse UPDATE/DELETE) and carries enough to
rebuild any task's state as of any date.
"""

# No `from __future__ import annotations` here: SQLAlchemy would read every `Mapped[...]`
# annotation back from its text (an eval each, ~260 of them: ~10 ms of every command's
# start, issue 13); evaluated by Python they cost nothing. No annotation names a later class.

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Unit(Base):
    """A commune/ward (or its parent city/province): who owns plan instances."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    report_cutoff_day: Mapped[int | None] = mapped_column(Integer)
    leader: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Plan(Base):
    """A plan definition (the year's CCHC plan, PAPI framework, KL91 plan).

    `scope` "framework": issued by an upper body, shared by every unit that instantiates it
    (`id` is the file's id). `scope` "unit": one unit's own plan (`owner_unit_id`), stored as
    `<file id>@<owner slug>` so no other unit's file can ever address it (migration 0005).
    """

    __tablename__ = "plans"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), default="")
    scope: Mapped[str] = mapped_column(String(16), default="framework")
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    issuer: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    columns: Mapped[list[str] | None] = mapped_column(JSON)  # optional columns (0007)
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    appendix_number: Mapped[int] = mapped_column(Integer)
    appendix_title: Mapped[str] = mapped_column(Text)
    layout: Mapped[str] = mapped_column(String(20))
    content_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlanRevision(Base):
    """Every definition a plan has had, in load order: a reload never loses the previous one."""

    __tablename__ = "plan_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    forced: Mapped[list[str]] = mapped_column(JSON, default=list)
    definition: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class PlanSection(Base):
    __tablename__ = "plan_sections"
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class PlanTask(Base):
    """A task's definition: its text and place in the plan; shared by every unit."""

    __tablename__ = "plan_tasks"
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    section_code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    default_owner: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[str | None] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, str] | None] = mapped_column(JSON)  # optional column values (0007)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class UnitPlan(Base):
    __tablename__ = "unit_plans"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Task(Base):
    """One unit's instance of a plan task: the state machine's row.

    `occurrence` is empty for one-off and ongoing work; recurring work ("Hằng quý", "Hằng
    tháng", "6 tháng", "Hằng năm") has one row per period, `occurrence` being the period's code
    ("2026-Q1", "2026-M03", "2026-H1", "2026-Y"), each with its own due date, state, evidence
    and history (migration 0010)."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("unit_id", "plan_id", "code", "occurrence"),
        Index("ix_tasks_plan_state", "plan_id", "state"),
        # The reminder sweep looks up open tasks by due date window (migration 0002).
        Index("ix_tasks_due_on_state", "due_on", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    code: Mapped[str] = mapped_column(String(20))
    occurrence: Mapped[str] = mapped_column(String(16), default="", server_default="")
    state: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    done_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Document(Base):
    """An official document in a unit's register; the key makes a number mean one document."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("unit_id", "issuer_key", "period_key", "number", "symbol"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    issuer_key: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str | None] = mapped_column(String(200))
    period_key: Mapped[str] = mapped_column(String(20))
    type_code: Mapped[str] = mapped_column(String(10))
    number: Mapped[int] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[date] = mapped_column(Date)
    canonical: Mapped[str] = mapped_column(Text)
    rendered: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskEvidence(Base):
    __tablename__ = "task_evidence"
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True,
                                             index=True)
    history_id: Mapped[int] = mapped_column(Integer)


class TaskHistory(Base):
    """Append-only: who did what to a task, when, from which state to which, with what proof."""

    __tablename__ = "task_history"
    __table_args__ = (UniqueConstraint("task_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    effective_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer)
    #: A leader's correction of a frozen period: that period's code and the reason given.
    corrects_period: Mapped[str | None] = mapped_column(String(16), default=None)
    correction_reason: Mapped[str | None] = mapped_column(Text, default=None)


class Snapshot(Base):
    """A frozen quarter-end picture; its payload and hash never change once written."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("unit_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    period: Mapped[str] = mapped_column(String(16))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_by: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)


# ---------------------------------------------------------------- reminders (migration 0002)


class Person(Base):
    """Someone reminders reach: an officer, a leader, a reviewer; matched to owners by title."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("unit_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    zalo_user_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Obligation(Base):
    """A sub-report a unit owes an upper body (báo cáo chuyên đề/định kỳ), one-off or recurring."""

    __tablename__ = "obligations"
    __table_args__ = (UniqueConstraint("unit_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    code: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    source_plan: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    schedule: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ObligationDue(Base):
    """One occurrence of an obligation (one report due on one date): the workflow's row."""

    __tablename__ = "obligation_dues"
    __table_args__ = (
        UniqueConstraint("obligation_id", "period_key"),
        Index("ix_obligation_dues_state_due_on", "state", "due_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"))
    period_key: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str | None] = mapped_column(String(200))
    report_doc: Mapped[str | None] = mapped_column(Text)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ObligationHistory(Base):
    """Append-only, like task_history: every change of an obligation occurrence."""

    __tablename__ = "obligation_history"
    __table_args__ = (UniqueConstraint("due_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    due_id: Mapped[int] = mapped_column(ForeignKey("obligation_dues.id"))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    effective_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class OutboxMessage(Base):
    """One reminder occurrence for one person on one channel; never deleted.

    `idempotency_key` = recipient, item, due date, rule step, channel: the sweep inserts with
    on-conflict-do-nothing, so however often it runs a reminder exists once. Rows of one person,
    channel and `send_on` day are sent together as one digest (they then share `message_key`).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_person_id_send_on", "person_id", "send_on"),
        Index("ix_outbox_person_id_state", "person_id", "state"),  # claims by person
        Index("ix_outbox_item", "item_kind", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    channel: Mapped[str] = mapped_column(String(16))
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(32))
    send_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_key: Mapped[str | None] = mapped_column(String(64))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ZaloToken(Base):
    """The OA's token pair. The refresh token is single-use: refresh under a row lock only."""

    __tablename__ = "zalo_tokens"
    oa_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstallationValue(Base):
    """Values generated once per installation (database), e.g. its id (`installation_id`)."""

    __tablename__ = "installation"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SweepRun(Base):
    """When each sweep ran and how far it looked: what an admin checks after an outage."""

    __tablename__ = "sweep_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance: Mapped[str] = mapped_column(String(64))
    now_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    inserted: Mapped[int] = mapped_column(Integer, default=0)


# ---------------------------------------------------------------- web accounts (migration 0003)


class User(Base):
    """A login. `unit_id` scopes it: a commune for officers/leaders, a city for reviewers."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
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


class Attachment(Base):
    """A PDF of an evidence document, uploaded with a task change; content kept in the DB."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    history_id: Mapped[int | None] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------- statistics (migration 0005)


class PeriodStatistics(Base):
    """A unit's typed statistics of one period (Phụ lục 4–6 inputs) until the period is frozen.

    `payload` is the canonical JSON of `engine.reporting.statistics.StatisticsInput`; every save is
    validated whole, so a stored payload always passes the rules.
    """

    __tablename__ = "period_statistics"
    __table_args__ = (UniqueConstraint("unit_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    period: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))


class StatisticsSnapshot(Base):
    """Phụ lục 4–6 of a period as frozen with the task snapshot; never changed once written."""

    __tablename__ = "statistics_snapshots"
    __table_args__ = (UniqueConstraint("unit_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    period: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_by: Mapped[str] = mapped_column(String(200))
    indicator_set: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)


# ---------------------------------------------------------------- daily web use (migration 0006)


class Comment(Base):
    """A remark the commune sees on a task (`task_id`) or on a period's report (`period`):
    a leader's instruction ("ý kiến chỉ đạo") or the reviewing body's comment. Never printed
    in the report; never changed once written."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_unit_task", "unit_id", "task_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
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
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
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
