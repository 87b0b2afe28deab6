"""Logging for the long-running commands (`cchc scheduler run`, `cchc reminders run-once`).

Why one place: a process that runs for months is read through its log; every line must carry
the time (Vietnam time, with the offset), the level and the logger, and INFO must not be
dropped (the default root level is WARNING). One line per delivery comes from the dispatcher
(`engine.reminders.dispatch`, logger "cchc.delivery"). Level from `CCHC_LOG_LEVEL` (INFO).
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from typing import Final, TextIO

from engine.clock import VN_TZ

FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_HANDLER_NAME: Final = "cchc"


class _VnFormatter(logging.Formatter):
    """Timestamps in Vietnam time with milliseconds and offset: 2023-11-14T08:30:05.123+07:00."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, VN_TZ).isoformat(timespec="milliseconds")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of the record (test runners swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(level: str | None = None, stream: TextIO | None = None) -> logging.Handler:
    """Install (once) a stream handler on the root logger; returns it. Idempotent."""
    root = logging.getLogger()
    name = (level or os.environ.get("CCHC_LOG_LEVEL") or "INFO").upper()
    root.setLevel(getattr(logging, name, logging.INFO))
    for existing in root.handlers:
        if existing.get_name() == _HANDLER_NAME:
            return existing
    handler: logging.Handler = (logging.StreamHandler(stream) if stream is not None
                                else _StderrHandler())
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(_VnFormatter(FORMAT))
    root.addHandler(handler)
    # Third-party chatter (connection pools, scheduler ticks) stays at WARNING.
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosmtplib", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


__all__ = ["FORMAT", "configure_logging"]
