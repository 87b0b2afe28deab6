"""engine.logging_setup: one configuration for the long-running commands' logs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest

from engine.logging_setup import configure_logging
from engine.settings import Settings


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_text_lines_carry_time_level_and_logger(restore_root: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_level="INFO"))
    logging.getLogger("engine.reminders.scheduler").info("đã gửi %d lời nhắc", 3)
    logging.getLogger("engine.x").debug("not shown at INFO")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00 INFO "
                        r"engine\.reminders\.scheduler: đã gửi 3 lời nhắc", err[0])


def test_json_lines_when_asked(restore_root: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_json=True, log_level="WARNING"))
    log = logging.getLogger("web.app")
    log.info("dropped")
    try:
        raise ValueError("hỏng")
    except ValueError:
        log.exception("lỗi khi xuất %s", "phụ lục")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "ERROR" and entry["logger"] == "web.app"
    assert entry["message"] == "lỗi khi xuất phụ lục"
    assert "ValueError: hỏng" in entry["exception"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


def test_configuring_twice_keeps_one_handler(restore_root: None) -> None:
    configure_logging(Settings())
    configure_logging(Settings())
    assert len(logging.getLogger().handlers) == 1
