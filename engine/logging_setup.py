"""Logging for every long-running command, configured in one place.

Why one function: `cchc reminders run` (the scheduler), `cchc serve`, `cchc report run-all` and
the benchmarks run for minutes or days and their log lines are what an operator reads after a
night's failure. Each line carries a timestamp, the level and the logger's name; with
`CCHC_LOG_JSON=1` each line is one JSON object instead (for a log collector). The level is
`CCHC_LOG_LEVEL` (INFO by default). Short commands print to the officer and do not log.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from engine.clock import VN_TZ
from engine.settings import Settings, get_settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The handler's name, so a test (or a second call) finds the one this module installed.
HANDLER_NAME = "cchc"
#: Third-party chatter (connection pools, scheduler ticks) stays at WARNING.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "aiosmtplib", "mail.log")


class _VietnamTimeFormatter(logging.Formatter):
    """Text lines carry Vietnam time with milliseconds and offset (2023-11-14T08:30:05.123+07:00),
    whatever the server's zone."""

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


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings | None = None) -> None:
    """Send every logger's records to stderr in the chosen format; replaces earlier handlers."""
    settings = settings or get_settings()
    handler = _StderrHandler()
    handler.set_name(HANDLER_NAME)
    formatter = JsonLinesFormatter() if settings.log_json else _VietnamTimeFormatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
