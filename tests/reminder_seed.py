"""Small, explicit reminder fixtures shared by the outbox/dispatch/crash/PG tests.

Rows are inserted directly (units, one plan, tasks, people, obligations) so each test states
exactly the due dates, owners and channels it is about. Also: a recording test channel and an
in-process SMTP server (aiosmtpd) that counts messages by Message-ID.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, ClassVar

from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.clock import VN_TZ
from engine.reminders.occurrence import Occurrence
from engine.runtime import Runtime
from engine.storage.models import (
    Obligation,
    ObligationDue,
    OutboxMessage,
    Person,
    Plan,
    PlanTask,
    Task,
    Unit,
    UnitPlan,
)
from notifications.base import Channel, Delivery, Message, Recipient

PLAN = "cchc-2023"
T0 = datetime(2023, 11, 1, tzinfo=VN_TZ)


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=VN_TZ)


def add_unit(rt: Runtime, slug: str = "vinh-thanh", name: str = "Vĩnh Thạnh",
             leader: str | None = None) -> int:
    with rt.db.transaction() as s:
        unit = Unit(slug=slug, name=name, kind="xã", report_cutoff_day=None, leader=leader,
                    created_at=T0)
        s.add(unit)
        s.flush()
        if s.get(Plan, PLAN) is None:
            s.add(Plan(id=PLAN, kind="cchc", year=2023,
                       title="Kế hoạch cải cách hành chính năm 2023", issued_by="UBND xã",
                       issued_on=date(2023, 1, 5), appendix_number=1,
                       appendix_title="Phụ lục 1", layout="sections", content_hash="x",
                       loaded_at=T0))
            s.flush()
        s.add(UnitPlan(unit_id=unit.id, plan_id=PLAN, loaded_at=T0))
        return unit.id


def add_task(rt: Runtime, unit_id: int, code: str, due_on: date | None, owner: str | None,
             *, text: str | None = None, state: str = "not_started") -> int:
    with rt.db.transaction() as s:
        if s.get(PlanTask, (PLAN, code)) is None:
            s.add(PlanTask(plan_id=PLAN, code=code, section_code="I", position=int(
                "".join(ch for ch in code if ch.isdigit()) or 0),
                text=text or f"Nhiệm vụ {code}: rà soát thủ tục hành chính\nchi tiết",
                default_owner=owner, deadline=None, product="Báo cáo kết quả",
                retired=False))
            s.flush()
        task = Task(unit_id=unit_id, plan_id=PLAN, code=code, state=state, owner=owner,
                    deadline=due_on.strftime("%d/%m/%Y") if due_on else None, due_on=due_on,
                    version=1, updated_at=T0)
        s.add(task)
        s.flush()
        return task.id


def add_person(rt: Runtime, unit_id: int, name: str, *, title: str | None = None,
               email_: str | None = None, role: str = "officer",
               channels: list[str] | None = None, zalo: str | None = None,
               phone: str | None = None, active: bool = True) -> int:
    with rt.db.transaction() as s:
        p = Person(unit_id=unit_id, name=name, role=role, title=title, email=email_,
                   zalo_user_id=zalo, phone=phone, channels=channels or ["email"],
                   active=active, created_at=T0)
        s.add(p)
        s.flush()
        return p.id


def add_obligation_due(rt: Runtime, unit_id: int, code: str, due_on: date, owner: str,
                       *, title: str = "Báo cáo công tác CCHC", state: str = "pending") -> int:
    with rt.db.transaction() as s:
        ob = Obligation(unit_id=unit_id, code=code, year=due_on.year, title=title,
                        source_plan="Kế hoạch số 140/KH-UBND", recipient="Phòng Nội vụ",
                        owner=owner, schedule="once", spec={}, retired=False, created_at=T0)
        s.add(ob)
        s.flush()
        due = ObligationDue(obligation_id=ob.id, period_key=str(due_on.year), due_on=due_on,
                            state=state, owner=None, version=1, updated_at=T0)
        s.add(due)
        s.flush()
        return due.id


def set_task(rt: Runtime, task_id: int, **values: Any) -> None:
    with rt.db.transaction() as s:
        task = s.get(Task, task_id)
        assert task is not None
        for k, v in values.items():
            setattr(task, k, v)


def occ(unit_id: int, person_id: int, item_id: int, *, due_on: date, step: str = "before:7",
        send_on: date | None = None, not_before: datetime | None = None,
        channel: str = "email", kind: str = "task", owner: str | None = None) -> Occurrence:
    send = send_on or date(2023, 11, 14)
    payload: dict[str, Any] = {} if owner is None else {"item_owner": owner}
    return Occurrence(unit_id, person_id, channel, kind, item_id, due_on, step, send,
                      not_before or datetime.combine(send, time(8, 0), tzinfo=VN_TZ), payload)


def rows(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.read() as s:
        out = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        s.expunge_all()
        return out


# ---------------------------------------------------------------- channels


@dataclass
class RecordingChannel(Channel):
    """Records messages; `script` is a queue of exceptions (or None = deliver) per send."""

    name: ClassVar[str] = "email"
    channel_name: str = "email"
    script: list[BaseException | None] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    def can_reach(self, recipient: Recipient) -> bool:
        if self.channel_name == "zalo":
            return bool(recipient.zalo_user_id or recipient.phone)
        return bool(recipient.email)

    async def send(self, message: Message) -> Delivery:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.sent.append(message)
        return Delivery(provider_message_id=f"<{self.channel_name}.{message.tracking_id}>",
                        accepted=(message.recipient.email or "",), refused=dict(self.refused))


# ---------------------------------------------------------------- SMTP server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpSink:
    """aiosmtpd handler: every accepted message, counted by Message-ID."""

    raw: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.raw.append(bytes(envelope.original_content or envelope.content))
        return "250 2.0.0 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        with self.lock:
            raws = list(self.raw)
        out = []
        for r in raws:
            msg = email.message_from_bytes(r, policy=email.policy.default)
            assert isinstance(msg, email.message.EmailMessage)
            out.append(msg)
        return out

    def message_ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages())


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
