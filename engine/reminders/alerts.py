"""Alerts to a unit's admin when a channel is broken for everyone (Zalo unusable).

Why an outbox row: the alert goes out like any reminder (leased, retried, recorded), by e-mail
to the unit's admins (people with role `admin`; the leader when the unit has none), at most
once a day per unit and channel (its idempotency key has the day). Reminders meanwhile go by
each person's next channel.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import local_date
from engine.reminders import outbox as ob
from engine.storage.models import Person

ALERT_KIND = "alert"
CHANNEL_VI = {"zalo": "Zalo", "email": "Email"}


def alert_recipients(session: Session, unit_id: int) -> list[Person]:
    """Active admins of the unit with an e-mail address; else its leaders with one."""
    people = list(session.scalars(select(Person).where(
        Person.unit_id == unit_id, Person.active.is_(True), Person.email.is_not(None))))
    admins = [p for p in people if p.role == "admin" and p.email]
    return admins or [p for p in people if p.role == "leader" and p.email]


def queue_channel_alert(session: Session, *, unit_id: int, channel: str, reason: str,
                        now: datetime) -> int:
    """Queue today's alert that `channel` is unusable for the unit; rows inserted (0 when
    already queued today)."""
    today = local_date(now)
    values = []
    for person in alert_recipients(session, unit_id):
        values.append(ob.new_row_values(
            key=f"p{person.id}:{ALERT_KIND}{unit_id}:{today.isoformat()}:{channel}:email",
            unit_id=unit_id, person_id=person.id, channel="email", item_kind=ALERT_KIND,
            item_id=unit_id, due_on=today, step=f"{ALERT_KIND}:{channel}", send_on=today,
            not_before=now, now=now,
            payload={
                "title": (f"{CHANNEL_VI.get(channel, channel)} của hệ thống CCHC không gửi "
                          "được tin, cần cấp lại quyền (cchc zalo authorize)"),
                "document": (f"{reason}. Trong lúc chờ, lời nhắc được gửi qua kênh khác "
                             "(email)."),
            }))
    return ob.insert_rows(session, values) if values else 0


__all__ = ["ALERT_KIND", "alert_recipients", "queue_channel_alert"]
