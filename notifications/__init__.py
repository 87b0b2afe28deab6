"""Reaching people: delivery channels (e-mail, Zalo) and the message templates.

Channels know nothing of the database or the web: the engine's dispatcher hands them a
rendered `Message` and maps their three kinds of failure onto the outbox.
"""

from __future__ import annotations

from notifications.base import (
    Channel,
    Delivery,
    DeliveryError,
    Digest,
    DueItem,
    FallbackError,
    Message,
    PermanentError,
    Recipient,
    TransientError,
)
from notifications.channels import EmailChannel, ZaloChannel
from notifications.render import render_email, render_zalo
from notifications.settings import SmtpSettings, ZaloSettings

__all__ = [
    "Channel",
    "Delivery",
    "DeliveryError",
    "Digest",
    "DueItem",
    "EmailChannel",
    "FallbackError",
    "Message",
    "PermanentError",
    "Recipient",
    "SmtpSettings",
    "TransientError",
    "ZaloChannel",
    "ZaloSettings",
    "render_email",
    "render_zalo",
]
