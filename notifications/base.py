"""What every delivery channel promises: send one rendered message, or say why not.

Why an ABC and three error kinds: the dispatcher treats every channel alike. A
`TransientError` is retried with backoff, a `PermanentError` marks the row failed with the
provider's reason, and a `FallbackError` says "this channel cannot reach this person" so the
dispatcher tries the person's next channel (Zalo → email). Channels never touch the database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

Clock = Callable[[], datetime]
"""Gives 'now' as an aware datetime; the engine passes its own (Vietnam time), default UTC."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str | None = None
    zalo_user_id: str | None = None
    phone: str | None = None
    cc: tuple[str, ...] = ()


@dataclass(frozen=True)
class DueItem:
    """One thing a digest reminds of: a plan task or a sub-report obligation."""

    kind: str  # "task" | "obligation"
    title: str
    due_on: date
    step: str  # "before:7", "before:3", "before:1", "due", "overdue:N", "escalate"
    #: `engine.domain.timeliness.days_to_deadline`: calendar days left to the real deadline
    #: (> 0), 0 on it, minus the working days overdue (< 0)
    days: int
    unit_name: str = ""
    plan: str = ""  # "Kế hoạch số 147/KH-UBND ngày 16/02/2023" / the plan's title and number
    code: str = ""
    recipient_body: str = ""  # who the report goes to (Phòng Tư pháp …)
    document: str = ""  # the document to send / the expected product
    link: str = ""
    deadline: date | None = None  # the last working day when `due_on` is a day off
    owner: str = ""  # who is in charge (named in escalations)
    period: str = ""  # "6 tháng đầu năm 2023" for a periodic report


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail (the quarter-end notice's exported report)."""

    path: Path
    name: str = ""

    @property
    def filename(self) -> str:
        return self.name or self.path.name


@dataclass(frozen=True)
class Digest:
    """Everything due for one person on one day, sent as one message."""

    key: str  # stable id of this digest (the outbox rows' message_key)
    recipient: Recipient
    send_on: date
    items: tuple[DueItem, ...]
    escalation: bool = False
    app_url: str = ""
    attachments: tuple[Attachment, ...] = ()  # files for an e-mail (quarter-end notice)


@dataclass(frozen=True)
class Message:
    """A digest rendered for a channel; `tracking_id` is the outbox id it came from."""

    tracking_id: str
    recipient: Recipient
    subject: str
    text: str
    html: str | None = None
    template_data: dict[str, str] = field(default_factory=dict)
    link: str = ""  # absolute link to the (first) item: the Zalo button, the ZNS `link`
    #: the Zalo OA transaction template (`message.attachment.payload`), built by the renderer
    oa_payload: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Delivery:
    provider_message_id: str
    accepted: tuple[str, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)


class DeliveryError(Exception):
    """Base of channel failures; `reason` is shown to the admin (never a credential)."""

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TransientError(DeliveryError):
    """Try again later (connection, timeout, 4xx SMTP reply, Zalo -100/-32 …)."""


class PermanentError(DeliveryError):
    """Will never work as it is (5xx, bad address, invalid template …): mark failed."""


class FallbackError(PermanentError):
    """This channel cannot reach this person (not an OA follower, no Zalo account)."""


class ChannelBroken(FallbackError):
    """The channel cannot send to anyone until an admin acts (Zalo refresh token invalid,
    -14014): fall back for this person, and alert the unit's admin."""


class UnknownOutcome(DeliveryError):
    """The request went out and no answer came (a timeout after sending): it may have been
    delivered. Not repeated automatically on a channel without an idempotency key."""


class Channel(ABC):
    """One way to reach people. Implementations: `notifications.channels.*`.

    `idempotent`: whether a repeated send with the same `tracking_id` is recognisably the same
    message (e-mail: the fixed Message-ID), so a send whose outcome is unknown may be repeated.
    `concurrency`: how many sends the dispatcher runs at once on this channel.
    """

    name: ClassVar[str]
    idempotent: ClassVar[bool] = False
    concurrency: int = 1

    @abstractmethod
    def can_reach(self, recipient: Recipient) -> bool:
        """Whether the recipient has the address this channel needs."""

    @abstractmethod
    async def send(self, message: Message) -> Delivery:
        """Deliver one message or raise a `DeliveryError` subclass."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections kept open between sends."""
