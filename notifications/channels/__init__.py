"""Delivery channels, one module per implementation of `notifications.base.Channel`."""

from __future__ import annotations

from notifications.channels.email import EmailChannel
from notifications.channels.zalo import ZaloChannel

__all__ = ["EmailChannel", "ZaloChannel"]
