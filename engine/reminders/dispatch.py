"""The dispatcher: claim due outbox rows, re-check them, send one digest per person, record it.

Why this order (claim → commit → send → mark in a new transaction): a message must never be
sent while a database transaction is open (a slow mail server would hold row locks for
minutes), and the row must say "sending, leased by me until T" before the send so no other
worker sends it too. The price is the one window every outbox has: a worker that dies after
the server accepted a message but before it marked the rows `sent` leaves them `sending`; when
the lease expires another worker sends that digest again — with the same `message_key`, hence
the same Message-ID (e-mail) / tracking id (Zalo), so the receiving side can drop the copy.
Nothing else is ever sent twice and nothing is lost (docs/reminders.md).

Rows of one person, channel and send day go out as ONE digest (escalations to a leader in their
own digest, so the wording "các việc sau đã quá hạn" only covers others' work). Before sending,
each row's item is looked up again: done, submitted, retired, re-dated or re-assigned items are
`cancelled` with the reason and left out — reminders follow the data, not the past.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import threading
import time as _time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from engine.clock import VN_TZ, local_date
from engine.directory.people import owner_key, reachable
from engine.domain.calendar import WorkCalendar
from engine.domain.obligations import period_label
from engine.domain.timeliness import days_to_deadline
from engine.reminders import outbox as ob
from engine.reminders.alerts import queue_channel_alert
from engine.reminders.installation import installation_id
from engine.reminders.outbox import OutboxRow
from engine.reminders.rules import load_reminder_rules
from engine.runtime import Runtime
from engine.storage.models import (
    Obligation,
    ObligationDue,
    Person,
    Plan,
    PlanTask,
    Task,
    Unit,
)
from notifications.base import (
    Attachment,
    Channel,
    ChannelBroken,
    Delivery,
    DeliveryError,
    Digest,
    DueItem,
    FallbackError,
    Message,
    PermanentError,
    Recipient,
    TransientError,
    UnknownOutcome,
)
from notifications.reasons import vietnamese_reason
from vntext.dates import format_date_vi

Renderer = Callable[[Digest], Message]

delivery_log = logging.getLogger("cchc.delivery")

# Only an obligation occurrence still `pending` is reminded of (workflows/obligation.yaml).
OBLIGATION_OPEN: Final = "pending"
ESCALATION_STEPS: Final = ("escalate",)
#: After this many consecutive sends on a channel got no answer in time, the run stops
#: sending on it (its remaining digests back off as transient failures); others go on.
STALL_LIMIT: Final = 3


def default_instance() -> str:
    """host:pid — unique per process, readable in `cchc outbox show`."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def is_escalation(step: str) -> bool:
    return step.startswith(ESCALATION_STEPS)


# ---------------------------------------------------------------- policies


@dataclass(frozen=True)
class QuietHours:
    """Messages go out only between `start` and `end` (local time, both included), on working
    days — the `send_window` of workflows/reminders.yaml. Outside it, due rows are deferred to
    the next window start (07:30 of the next working day by default); nothing is sent.
    """

    start: time = time(7, 30)
    end: time = time(17, 30)
    working_days_only: bool = True

    def allows(self, now: datetime, calendar: WorkCalendar | None = None) -> bool:
        local = ob.db_time(now)
        t = local.time().replace(tzinfo=None)
        if not self.start <= t <= self.end:
            return False
        return not (self.working_days_only and calendar is not None
                    and not calendar.is_working_day(local.date()))

    def next_start(self, now: datetime, calendar: WorkCalendar | None = None) -> datetime:
        """The first moment at or after `now` inside the window."""
        if self.allows(now, calendar):
            return ob.db_time(now)
        local = ob.db_time(now)
        day = local.date()
        start_today = datetime.combine(day, self.start, tzinfo=VN_TZ)
        if local >= start_today:
            day += timedelta(days=1)
        if self.working_days_only and calendar is not None:
            day = calendar.next_working_day(day)
        return datetime.combine(day, self.start, tzinfo=VN_TZ)


def quiet_hours_from_rules() -> QuietHours:
    """The `send_window` of workflows/reminders.yaml (07:30–17:30 on working days)."""
    window = load_reminder_rules().send_window
    return QuietHours(window.start, window.end)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: base·2^(n−1), capped, drawn from [½·d, d]."""

    base: timedelta = timedelta(seconds=60)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        seconds = min(self.cap.total_seconds(),
                      self.base.total_seconds() * 2 ** max(attempt - 1, 0))
        return timedelta(seconds=rng.uniform(seconds / 2, seconds))


# ---------------------------------------------------------------- report


@dataclass
class DispatchReport:
    """What one `dispatch` call did (row counts unless stated)."""

    instance: str = ""
    claimed: int = 0
    messages: int = 0  # digests accepted by a channel
    sent: int = 0
    cancelled: int = 0
    deferred: int = 0  # pushed to the next window (quiet hours)
    retried: int = 0  # transient failure, back to pending with backoff
    failed: int = 0
    fallback: int = 0
    fallback_rows: int = 0  # rows inserted for the next channel
    unknown: int = 0  # sent, no answer, not repeated (channel without idempotency key)
    alerts: int = 0  # alert rows queued for a unit's admin (a channel broken)
    released: int = 0  # claimed but given back unsent (run out of lease time)
    lost: int = 0  # lease taken over by another worker before we could mark
    message_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- looking items up again


@dataclass(frozen=True)
class _TaskInfo:
    state: str
    owner: str | None
    due_on: date | None
    code: str
    plan: str  # the plan's title and the document that issued it
    unit_id: int
    text: str
    product: str | None
    retired: bool


@dataclass(frozen=True)
class _DueInfo:
    state: str
    owner: str | None
    due_on: date
    submitted_on: date | None
    title: str
    code: str
    recipient: str
    source_plan: str
    retired: bool
    unit_id: int
    document: str
    period: str  # "6 tháng đầu năm 2023"; "" for a one-off report


@dataclass
class _Context:
    people: dict[int, Person]
    tasks: dict[int, _TaskInfo]
    dues: dict[int, _DueInfo]
    units: dict[int, str]


def _chunks(ids: Sequence[int], size: int = 900) -> list[list[int]]:
    s = sorted(set(ids))
    return [s[i:i + size] for i in range(0, len(s), size)]


def _load_context(session: Session, rows: Sequence[OutboxRow]) -> _Context:
    ctx = _Context({}, {}, {}, {})
    for ids in _chunks([r.person_id for r in rows]):
        for p in session.scalars(select(Person).where(Person.id.in_(ids))):
            ctx.people[p.id] = p
    task_ids = [r.item_id for r in rows if r.item_kind == "task"]
    for ids in _chunks(task_ids):
        q = (select(Task.id, Task.state, Task.owner, Task.due_on, Task.code, Task.unit_id,
                    Plan.title, Plan.issued_by, PlanTask.text, PlanTask.product,
                    PlanTask.retired)
             .join(PlanTask, (PlanTask.plan_id == Task.plan_id) & (PlanTask.code == Task.code))
             .join(Plan, Plan.id == Task.plan_id)
             .where(Task.id.in_(ids)))
        for t in session.execute(q):
            ctx.tasks[t.id] = _TaskInfo(t.state, t.owner, t.due_on, t.code,
                                        plan_label(t.title, t.issued_by), t.unit_id, t.text,
                                        t.product, bool(t.retired))
    due_ids = [r.item_id for r in rows if r.item_kind == "obligation"]
    for ids in _chunks(due_ids):
        q2 = (select(ObligationDue.id, ObligationDue.state, ObligationDue.owner,
                     ObligationDue.due_on, ObligationDue.submitted_on, Obligation.title,
                     Obligation.code, Obligation.recipient, Obligation.source_plan,
                     Obligation.retired, Obligation.unit_id, Obligation.spec,
                     Obligation.owner.label("default_owner"), ObligationDue.period_key,
                     Obligation.schedule)
              .join(Obligation, Obligation.id == ObligationDue.obligation_id)
              .where(ObligationDue.id.in_(ids)))
        for d in session.execute(q2):
            spec = d.spec if isinstance(d.spec, dict) else {}
            ctx.dues[d.id] = _DueInfo(
                d.state, d.owner or d.default_owner, d.due_on, d.submitted_on, d.title, d.code,
                d.recipient, d.source_plan, bool(d.retired), d.unit_id,
                str(spec.get("document") or spec.get("product") or ""),
                "" if d.schedule == "once" else period_label(d.period_key))
    unit_ids = {r.unit_id for r in rows} | {t.unit_id for t in ctx.tasks.values()}
    for ids in _chunks(list(unit_ids)):
        for u in session.execute(select(Unit.id, Unit.kind, Unit.name).where(Unit.id.in_(ids))):
            ctx.units[u.id] = f"{u.kind} {u.name}"
    return ctx


def _owner_changed(row: OutboxRow, current: str | None) -> bool:
    """The item's owner when the reminder was planned (payload) differs from today's."""
    if is_escalation(row.step) or "item_owner" not in row.payload:
        return False
    planned = row.payload.get("item_owner")
    return owner_key(planned if isinstance(planned, str) else "") != owner_key(current or "")


def stale_reason(rt: Runtime, row: OutboxRow, ctx: _Context) -> str | None:
    """Why this reminder must not go out any more (Vietnamese), or None if it still holds."""
    person = ctx.people.get(row.person_id)
    if person is None or not person.active:
        return "người nhận không còn hoạt động"
    if row.item_kind == "task":
        t = ctx.tasks.get(row.item_id)
        if t is None or t.retired:
            return "nhiệm vụ không còn trong kế hoạch"
        if rt.machine.is_done(t.state):
            return "nhiệm vụ đã hoàn thành"
        if t.due_on != row.due_on:
            return ("nhiệm vụ không còn thời hạn" if t.due_on is None
                    else f"hạn đã đổi sang {format_date_vi(t.due_on)}")
        if _owner_changed(row, t.owner):
            return f"người phụ trách đã đổi thành '{t.owner or '—'}'"
        return None
    if row.item_kind == "obligation":
        d = ctx.dues.get(row.item_id)
        if d is None or d.retired:
            return "báo cáo không còn phải gửi"
        if d.state == "cancelled":
            return "kỳ báo cáo không còn phải gửi"
        if d.submitted_on is not None or d.state != OBLIGATION_OPEN:
            return "báo cáo đã được gửi"
        if d.due_on != row.due_on:
            return f"hạn đã đổi sang {format_date_vi(d.due_on)}"
        if _owner_changed(row, d.owner):
            return f"người phụ trách đã đổi thành '{d.owner or '—'}'"
        return None
    return None  # other kinds (e.g. a snapshot notice) do not go stale


def _payload_str(row: OutboxRow, key: str) -> str:
    value = row.payload.get(key)
    return value if isinstance(value, str) else ""


def plan_label(title: str, issued_by: str | None) -> str:
    """ "Kế hoạch CCHC xã Vĩnh Thạnh năm 2023 (Quyết định số 19/QĐ-UBND ngày 31/01/2023)"."""
    issued = (issued_by or "").strip()
    return f"{title} ({issued})" if issued and issued not in title else title


def due_item(row: OutboxRow, ctx: _Context, today: date, calendar: WorkCalendar) -> DueItem:
    """What the message says of one row's item: lateness by `days_to_deadline` (working days
    overdue, the real deadline when the due date is a day off), plan, period and owner."""
    unit_name = ctx.units.get(row.unit_id, "")
    link = _payload_str(row, "link")
    deadline = calendar.next_working_day(row.due_on)
    if row.item_kind == "task" and row.item_id in ctx.tasks:
        t = ctx.tasks[row.item_id]
        first_line = next((ln.strip() for ln in t.text.splitlines() if ln.strip()), t.text)
        return DueItem(kind="task", title=first_line, due_on=row.due_on, step=row.step,
                       days=days_to_deadline(row.due_on, today, calendar),
                       unit_name=ctx.units.get(t.unit_id, unit_name), plan=t.plan,
                       code=t.code, document=t.product or "", link=link, deadline=deadline,
                       owner=t.owner or "")
    if row.item_kind == "obligation" and row.item_id in ctx.dues:
        d = ctx.dues[row.item_id]
        return DueItem(kind="obligation", title=d.title, due_on=row.due_on, step=row.step,
                       days=days_to_deadline(row.due_on, today, calendar),
                       unit_name=ctx.units.get(d.unit_id, unit_name),
                       plan=d.source_plan, code=d.code, recipient_body=d.recipient,
                       document=d.document or _payload_str(row, "document"), link=link,
                       deadline=deadline, owner=d.owner or "", period=d.period)
    # Other kinds (the quarter-end notice) are news, not deadlines: never "quá hạn".
    days = (row.due_on - today).days
    return DueItem(kind=row.item_kind, title=_payload_str(row, "title") or row.item_kind,
                   due_on=row.due_on, step=row.step, days=max(days, 0), unit_name=unit_name,
                   plan=_payload_str(row, "plan"), code=_payload_str(row, "code"),
                   recipient_body=_payload_str(row, "recipient_body"),
                   document=_payload_str(row, "document"), link=link)


def recipient_of(person: Person) -> Recipient:
    return Recipient(name=person.name, email=person.email, zalo_user_id=person.zalo_user_id,
                     phone=person.phone)


# ---------------------------------------------------------------- digests


@dataclass
class _Job:
    key: str
    channel: str
    rows: list[OutboxRow]
    digest: Digest
    person: Person


def step_rank(step: str) -> tuple[int, int]:
    """Order of steps on an item's ladder: before:7 < before:3 < due < overdue:2 < overdue:4."""
    name, _, n = step.partition(":")
    number = int(n) if n.isdigit() else 0
    return {"before": (0, -number), "due": (1, 0), "overdue": (2, number)}.get(name, (3, 0))


def latest_per_item(rows: Sequence[OutboxRow]) -> list[OutboxRow]:
    """One row per item: the latest step (by send day, then ladder). A digest that merges rows
    of missed days names each item once, as its newest step says it ("còn 3 ngày", not also
    "còn 7 ngày"); the superseded rows travel in the digest and are marked with it."""
    best: dict[tuple[str, int], OutboxRow] = {}
    for r in rows:
        key = (r.item_kind, r.item_id)
        seen = best.get(key)
        if seen is None or (r.send_on, step_rank(r.step)) > (seen.send_on, step_rank(seen.step)):
            best[key] = r
    return sorted(best.values(), key=lambda r: r.id)


def _group(rows: Sequence[OutboxRow], installation: str
           ) -> list[tuple[str, list[OutboxRow], bool]]:
    """(message_key, rows, is_new_key): one digest per person and channel (escalations to a
    leader apart). Rows that already carry a key (a retry, or a digest whose sender died) keep
    it, so the same digest is re-sent under the same Message-ID."""
    keyed: dict[str, list[OutboxRow]] = {}
    fresh: dict[tuple[int, str, bool], list[OutboxRow]] = {}
    for r in rows:
        if r.message_key:
            keyed.setdefault(r.message_key, []).append(r)
        else:
            fresh.setdefault((*r.group, is_escalation(r.step)), []).append(r)
    out = [(k, v, False) for k, v in keyed.items()]
    out += [(ob.message_key_of(v, installation), v, True) for v in fresh.values()]
    return out


def _attachments(rows: Sequence[OutboxRow]) -> tuple[Attachment, ...]:
    """The files a row carries (the quarter-end notice: the exported report), in order."""
    return tuple(Attachment(Path(f)) for r in rows
                 for f in (r.payload.get("files") or []) if isinstance(f, str))


class Dispatcher:
    """One `dispatch` run's state; use the `dispatch` function."""

    def __init__(self, rt: Runtime, now: datetime, channels: Mapping[str, Channel], *,
                 instance: str, limit: int, batch: int, lease: timedelta, quiet: QuietHours,
                 retry: RetryPolicy, renderers: Mapping[str, Renderer], rng: random.Random,
                 app_url: str, loop: SendLoop, time_budget: float | None = None) -> None:
        self.rt, self.now, self.channels = rt, ob.db_time(now), channels
        self.instance, self.limit, self.batch, self.lease = instance, limit, batch, lease
        self.quiet, self.retry, self.renderers, self.rng = quiet, retry, renderers, rng
        self.app_url, self.loop, self.time_budget = app_url, loop, time_budget
        self.report = DispatchReport(instance=instance)
        self.installation = installation_id(rt)
        self.stalls: dict[str, int] = {}  # channel -> consecutive sends without an answer
        self.mark_conn: Connection | None = None
        self._stack = contextlib.ExitStack()

    # -- claim phase (one transaction) --

    def _claim(self, size: int) -> list[_Job] | None:
        """Claim, re-check and key one batch; None when nothing is due (or it is quiet time)."""
        rt = self.rt
        with ob.claim_transaction(rt) as session:
            if not self.quiet.allows(self.now, rt.calendar):
                until = self.quiet.next_start(self.now, rt.calendar)
                self.report.deferred += ob.defer_due(session, self.now, until)
                return None
            rows = ob.claim(session, self.now, instance=self.instance, limit=size,
                            lease=self.lease)
            if not rows:
                return None
            self.report.claimed += len(rows)
            ctx = _load_context(session, rows)
            reasons = {r.id: reason for r in rows
                       if (reason := stale_reason(rt, r, ctx)) is not None}
            if reasons:
                self.report.cancelled += ob.mark_cancelled(
                    session, reasons, [r for r in rows if r.id in reasons],
                    instance=self.instance, now=self.now)
            live = [r for r in rows if r.id not in reasons]
            today = local_date(self.now)
            jobs: list[_Job] = []
            groups = _group(live, self.installation)
            ob.set_message_keys(session, {r.id: key for key, grp, new in groups if new
                                          for r in grp}, instance=self.instance)
            for key, grp, _new in groups:
                first = grp[0]
                person = ctx.people[first.person_id]
                items = tuple(due_item(r, ctx, today, rt.calendar) for r in latest_per_item(grp))
                digest = Digest(key=key, recipient=recipient_of(person), send_on=today,
                                items=items, escalation=any(is_escalation(r.step) for r in grp),
                                app_url=self.app_url, attachments=_attachments(grp))
                jobs.append(_Job(key, first.channel, grp, digest, person))
            session.expunge_all()
        return jobs

    # -- send phase (no transaction open) --

    async def _send(self, job: _Job) -> Delivery | BaseException:
        channel = self.channels.get(job.channel)
        if channel is None:
            return FallbackError(f"kênh '{job.channel}' chưa được cấu hình")
        if not channel.can_reach(job.digest.recipient):
            return FallbackError(f"người nhận chưa có địa chỉ cho kênh '{job.channel}'")
        render = self.renderers.get(job.channel)
        if render is None:
            return PermanentError(f"không có mẫu thư cho kênh '{job.channel}'")
        try:
            message = render(job.digest)
        except Exception as exc:  # a template error: fix the template, then retry the rows
            return PermanentError(f"lỗi mẫu thư: {type(exc).__name__}: {exc}")
        try:
            return await channel.send(message)
        except DeliveryError as exc:
            return exc
        except Exception as exc:  # an unexpected failure is treated as transient
            return TransientError(f"{type(exc).__name__}: {exc}")

    async def _send_all(self, jobs: list[_Job], deadline: float) -> None:
        """Send the digests, each channel with at most `Channel.concurrency` sends in flight,
        channels side by side: a hung Zalo request delays neither e-mail nor other Zalo
        sends beyond its own timeout. Each result is recorded as soon as it is known; jobs
        not started by the lease deadline are given back."""
        gates: dict[str, asyncio.Semaphore] = {}
        for job in jobs:
            if job.channel not in gates:
                channel = self.channels.get(job.channel)
                gates[job.channel] = asyncio.Semaphore(max(1, channel.concurrency
                                                           if channel is not None else 1))
        late: list[_Job] = []

        async def one(job: _Job) -> None:
            async with gates[job.channel]:
                if _time.monotonic() > deadline:
                    late.append(job)
                    return
                if self.stalls.get(job.channel, 0) >= STALL_LIMIT:
                    # the channel stopped answering: do not spend a timeout on each digest
                    outcome: Delivery | BaseException = TransientError(
                        f"kênh '{job.channel}' không trả lời ({STALL_LIMIT} lần hết thời gian "
                        "chờ liên tiếp): tạm hoãn, sẽ gửi lại sau", code="stalled")
                else:
                    outcome = await self._send(job)
                    self._note_stall(job.channel, outcome)
                if isinstance(outcome, Delivery):
                    checkpoint("after_send")
                self._record(job, outcome)

        await asyncio.gather(*(one(job) for job in jobs))
        if late:
            rest = [r for j in late for r in j.rows]
            with ob.write_transaction(self.rt) as session:
                self.report.released += ob.release(session, rest, instance=self.instance,
                                                   now=self.now)

    # -- mark phase (a new transaction per digest) --

    def _record(self, job: _Job, outcome: Delivery | BaseException) -> None:
        _log_delivery(job, outcome)
        rows, n = job.rows, len(job.rows)
        conn = self._mark_connection() if isinstance(outcome, Delivery) else None
        if isinstance(outcome, Delivery) and not outcome.refused and conn is not None:
            done = ob.mark_sent(conn, rows, instance=self.instance, now=self.now,
                                provider_message_id=outcome.provider_message_id,
                                message_key=job.key)
            self.report.sent += done
            self.report.messages += 1 if done else 0
            self.report.message_keys.append(job.key)
            self.report.lost += n - done
            return
        with ob.write_transaction(self.rt) as session:
            ob.fast_commit(session)
            if isinstance(outcome, Delivery):
                done = ob.mark_sent(session, rows, instance=self.instance, now=self.now,
                                    provider_message_id=outcome.provider_message_id,
                                    message_key=job.key, refused=outcome.refused or None)
                self.report.sent += done
                self.report.messages += 1 if done else 0
                self.report.message_keys.append(job.key)
            elif isinstance(outcome, FallbackError):
                if isinstance(outcome, ChannelBroken):
                    self.report.alerts += queue_channel_alert(
                        session, unit_id=job.rows[0].unit_id, channel=job.channel,
                        reason=vietnamese_reason(outcome), now=self.now)
                done = self._fallback(session, job, outcome)
            elif isinstance(outcome, PermanentError):
                done = ob.mark_failed(session, rows, instance=self.instance, now=self.now,
                                      reason=vietnamese_reason(outcome), code=outcome.code)
                self.report.failed += done
            elif isinstance(outcome, UnknownOutcome) and not self._idempotent(job.channel):
                done = ob.mark_failed(
                    session, rows, instance=self.instance, now=self.now,
                    reason=(f"{vietnamese_reason(outcome)}; không gửi lại tự động để tránh "
                            "gửi hai lần — hỏi người nhận, rồi gửi lại bằng cchc outbox retry"),
                    kind="unknown", code=outcome.code, state=ob.UNKNOWN)
                self.report.unknown += done
            else:
                err = (outcome if isinstance(outcome, DeliveryError)
                       else TransientError(str(outcome)))
                done = self._transient(session, job, err)
        self.report.lost += n - done

    def _note_stall(self, channel: str, outcome: Delivery | BaseException) -> None:
        """Count consecutive sends on `channel` that got no answer in time."""
        timed_out = isinstance(outcome, UnknownOutcome) or (
            isinstance(outcome, TransientError) and outcome.code == "timeout")
        self.stalls[channel] = self.stalls.get(channel, 0) + 1 if timed_out else 0

    def _idempotent(self, channel: str) -> bool:
        found = self.channels.get(channel)
        return found is not None and found.idempotent

    def _transient(self, session: Session, job: _Job, err: DeliveryError) -> int:
        attempt = max(r.attempts - int(r.detail.get("attempts_at_retry") or 0)
                      for r in job.rows)
        if attempt >= self.retry.max_attempts:
            reason = f"{vietnamese_reason(err)} (đã thử {attempt} lần)"
            if self._next_channel(job) is not None:  # e.g. connection refused all day
                return self._fallback(session, job, err, reason)
            done = ob.mark_failed(session, job.rows, instance=self.instance, now=self.now,
                                  reason=reason, kind="transient", code=err.code)
            self.report.failed += done
            return done
        at = self.now + self.retry.delay(attempt, self.rng)
        done = ob.mark_retry(session, job.rows, instance=self.instance, now=self.now,
                             next_attempt_at=at, reason=vietnamese_reason(err), code=err.code)
        self.report.retried += done
        return done

    def _next_channel(self, job: _Job) -> str | None:
        """The person's next channel after this one that is configured and can reach them."""
        order = reachable(job.person)
        if "email" not in order:  # the last resort for everyone with an address
            order.append("email")
        after = order[order.index(job.channel) + 1:] if job.channel in order else order
        recipient = job.digest.recipient
        for name in after:
            channel = self.channels.get(name)
            if name != job.channel and channel is not None and channel.can_reach(recipient):
                return name
        return None

    def _fallback(self, session: Session, job: _Job, err: DeliveryError,
                  reason: str | None = None) -> int:
        nxt = self._next_channel(job)
        if reason is None:  # the dispatcher's own reasons (no code) are Vietnamese already
            reason = err.reason if err.code is None else vietnamese_reason(err)
        if nxt is None:
            done = ob.mark_failed(session, job.rows, instance=self.instance, now=self.now,
                                  reason=f"{reason}; không còn kênh nào khác",
                                  kind="fallback", code=err.code)
            self.report.failed += done
            return done
        values = [ob.new_row_values(
            key=ob.key_for_channel(r.idempotency_key, r.channel, nxt), unit_id=r.unit_id,
            person_id=r.person_id, channel=nxt, item_kind=r.item_kind, item_id=r.item_id,
            due_on=r.due_on, step=r.step, send_on=r.send_on, not_before=self.now, now=self.now,
            payload={**r.payload, "fallback_from": r.id,
                     "fallback_from_channel": r.channel}) for r in job.rows]
        inserted = ob.insert_rows(session, values)
        done = ob.mark_failed(session, job.rows, instance=self.instance, now=self.now,
                              reason=reason, kind="fallback", code=err.code,
                              state=ob.FALLBACK, extra={"fallback_to": nxt})
        self.report.fallback += done
        self.report.fallback_rows += inserted
        return done

    # -- the loop --

    def run(self) -> DispatchReport:
        begun = _time.monotonic()
        with contextlib.ExitStack() as self._stack:
            while self.report.claimed < self.limit:
                started = _time.monotonic()
                jobs = self._claim(min(self.batch, self.limit - self.report.claimed))
                if jobs is None:
                    break
                checkpoint("after_claim")
                if jobs:
                    deadline = started + self.lease.total_seconds() * 0.8
                    self.loop.run(self._send_all(jobs, deadline))
                if self.time_budget is not None and _time.monotonic() - begun >= self.time_budget:
                    break  # no new batch: the next tick carries on
        self.mark_conn = None
        return self.report

    def _mark_connection(self) -> Connection | None:
        """The run's autocommit marking connection (PostgreSQL), opened at the first send."""
        if self.mark_conn is None and not self.rt.db.is_sqlite:
            self.mark_conn = self._stack.enter_context(ob.mark_connection(self.rt))
        return self.mark_conn


def _log_delivery(job: _Job, outcome: Delivery | BaseException) -> None:
    """One log line per digest: who, which channel, how many reminders, what happened."""
    who = f"digest={job.key} person={job.person.id} channel={job.channel} rows={len(job.rows)}"
    if isinstance(outcome, Delivery):
        refused = f" refused={len(outcome.refused)}" if outcome.refused else ""
        delivery_log.info("sent %s provider_id=%s%s", who, outcome.provider_message_id, refused)
        return
    kind = type(outcome).__name__
    reason = outcome.reason if isinstance(outcome, DeliveryError) else str(outcome)
    delivery_log.warning("not sent %s outcome=%s reason=%s", who, kind, reason)


def default_renderers() -> dict[str, Renderer]:
    from notifications.render import render_email, render_zalo

    return {"email": render_email, "zalo": render_zalo}


def dispatch(rt: Runtime, now: datetime, channels: Mapping[str, Channel], *,
             instance: str | None = None, limit: int = 100_000, batch: int = 200,
             lease: timedelta = timedelta(minutes=5), quiet: QuietHours | None = None,
             retry: RetryPolicy | None = None,
             renderers: Mapping[str, Renderer] | None = None,
             rng: random.Random | None = None, app_url: str = "",
             loop: SendLoop | None = None,
             time_budget: float | None = None) -> DispatchReport:
    """Send what is due at `now`: at most `limit` rows, claimed `batch` rows at a time, and
    no new batch after `time_budget` seconds (the scheduler's next tick carries on).

    `channels` maps a channel name ("email", "zalo") to a `Channel`; a row whose channel is
    missing or cannot reach the person falls back to the person's next channel. Sends run on
    `loop` (the process's shared `SendLoop` by default), so channels keep their connections
    between runs; close them with `close_channels` when done.
    """
    return Dispatcher(
        rt, now, channels, instance=instance or default_instance(), limit=limit, batch=batch,
        lease=lease, quiet=quiet or quiet_hours_from_rules(), retry=retry or RetryPolicy(),
        renderers=renderers if renderers is not None else default_renderers(),
        rng=rng or random.Random(), app_url=app_url, loop=loop or default_send_loop(),
        time_budget=time_budget,
    ).run()


# ---------------------------------------------------------------- the event loop of sends

T = TypeVar("T")


class SendLoop:
    """A private asyncio loop kept for the life of the process.

    Why not `asyncio.run` per dispatch: channels keep connections (one SMTP session, an HTTP
    pool) that belong to the loop they were opened on; one long-lived loop lets every minute's
    run reuse them. Runs are serialised (a lock), from whichever thread calls.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            return self._loop.run_until_complete(coro)

    def close(self) -> None:
        with self._lock:
            if not self._loop.is_closed():
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
                self._loop.close()


_default_loop: SendLoop | None = None
_default_loop_lock = threading.Lock()


def default_send_loop() -> SendLoop:
    global _default_loop
    with _default_loop_lock:
        if _default_loop is None or _default_loop._loop.is_closed():
            _default_loop = SendLoop()
        return _default_loop


def close_channels(channels: Mapping[str, Channel], loop: SendLoop | None = None) -> None:
    """Release the channels' kept connections (SMTP QUIT, HTTP pool) on the loop they used."""

    async def _close() -> None:
        for channel in channels.values():
            with contextlib.suppress(Exception):  # closing must not mask a shutdown
                await channel.aclose()

    (loop or default_send_loop()).run(_close())


def checkpoint(point: str) -> None:
    """A named point of a dispatch run ("after_claim", "after_send"); does nothing.

    The crash tests replace it in a worker process to stop that process exactly there.
    """


__all__ = [
    "STALL_LIMIT",
    "DispatchReport",
    "Dispatcher",
    "QuietHours",
    "Renderer",
    "RetryPolicy",
    "SendLoop",
    "close_channels",
    "default_instance",
    "default_renderers",
    "default_send_loop",
    "dispatch",
    "due_item",
    "quiet_hours_from_rules",
    "stale_reason",
]
