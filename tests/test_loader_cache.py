"""plans.loader.load_model_cached: one cached loader for the files every command reads."""

from __future__ import annotations

import os
from pathlib import Path

from engine.domain.calendar_file import CalendarFile, load_calendar_file
from engine.reminders.rules import ReminderRules, load_reminder_rules
from plans.loader import load_model_cached
from vntext.text import fold, strip_marks

ROOT = Path(__file__).resolve().parents[1]


def test_same_file_same_mtime_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text((ROOT / "workflows" / "calendar.yaml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    first = load_model_cached(CalendarFile, path)
    assert load_model_cached(CalendarFile, path) is first
    assert load_calendar_file(path) is first  # the calendar goes through the same cache


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "reminders.yaml"
    text = (ROOT / "workflows" / "reminders.yaml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    first = load_reminder_rules(path)
    path.write_text(text + "\n# sửa\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = load_model_cached(ReminderRules, path)
    assert second is not first and second == first


def test_one_fold() -> None:
    assert strip_marks("Báo cáo Quý III - Đợt 1") == "Bao cao Quy III - Dot 1"
    assert fold("  Công   khai  Đ ") == "cong khai d"
