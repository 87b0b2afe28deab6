"""Reminder days against the office calendar: weekends, Tết, 30/4–1/5 and make-up Saturdays.

2023: Tết 20–26/01; 29/4–03/5 off (nghỉ bù 02–03/5), no make-up day. 2024: Tết 08–14/02;
27/4–01/5 off with the swap of Monday 29/4 paid back on Saturday 04/5/2024
(workflows/calendar.yaml). Rules: a pre-due reminder falling on a day off goes out on the
previous working day; overdue repeats and the escalation count working days only.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from conftest import Clock

from engine import api
from engine.clock import VN_TZ
from engine.directory.people import load_people_file
from engine.domain.calendar import WorkCalendar
from engine.domain.obligations import load_obligations, submit_obligation
from engine.domain.tasks import Actor
from engine.reminders.planner import preview
from engine.reminders.rules import (
    DEFAULT_RULES_FILE,
    escalation_step,
    in_send_window,
    load_reminder_rules,
    next_send_time,
    owner_steps,
    select_fired,
)
from engine.runtime import Runtime
from plans import DEMO_BUNDLE
from plans.errors import DataFileError
from plans.loader import parse_model
from workflows.reminder_schema import ReminderRules


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture(scope="module")
def rules() -> ReminderRules:
    return load_reminder_rules()


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=VN_TZ)


def days(due: date, rules: ReminderRules, cal: WorkCalendar) -> dict[str, date]:
    """Every step's day for `due`, the escalation included."""
    out = {s.name: s.send_on for s in owner_steps(due, rules, cal)}
    esc = escalation_step(due, rules, cal)
    assert esc is not None
    out[esc.name] = esc.send_on
    return out


def test_the_rules_file_is_the_documented_defaults(rules: ReminderRules) -> None:
    assert rules == ReminderRules()
    assert rules.lead_days == [7, 3, 1, 0]
    assert rules.send_at == time(8, 0)
    assert (rules.send_window.start, rules.send_window.end) == (time(7, 30), time(17, 30))
    assert (rules.overdue.every_working_days, rules.overdue.catch_up) == (2, "latest")
    assert rules.escalation is not None and rules.escalation.after_working_days == 3
    assert DEFAULT_RULES_FILE.name == "reminders.yaml"


# ---------------------------------------------------------------- 2023


def test_ordinary_week(rules: ReminderRules, cal: WorkCalendar) -> None:
    d = days(date(2023, 11, 21), rules, cal)  # Tuesday
    assert d["before:7"] == date(2023, 11, 14)
    assert d["before:3"] == date(2023, 11, 17)  # Saturday 18/11 → Friday 17/11
    assert d["before:1"] == date(2023, 11, 20)
    assert d["due"] == date(2023, 11, 21)
    assert (d["overdue:2"], d["escalate"], d["overdue:4"]) == (
        date(2023, 11, 23), date(2023, 11, 24), date(2023, 11, 27))  # weekend skipped


def test_due_on_a_saturday(rules: ReminderRules, cal: WorkCalendar) -> None:
    d = days(date(2023, 11, 18), rules, cal)
    assert d["due"] == d["before:1"] == date(2023, 11, 17)
    # Late only after Monday 20/11, the effective due date.
    assert (d["overdue:2"], d["escalate"]) == (date(2023, 11, 22), date(2023, 11, 23))


def test_tet_2023_moves_reminders_before_the_holiday(rules: ReminderRules,
                                                      cal: WorkCalendar) -> None:
    d = days(date(2023, 1, 27), rules, cal)  # the first working day after Tết
    assert d["before:7"] == d["before:3"] == d["before:1"] == date(2023, 1, 19)
    assert d["due"] == date(2023, 1, 27)
    # Three steps on one day: the morning of 19/01 sends one message, the latest.
    fired = select_fired(owner_steps(date(2023, 1, 27), rules, cal), at("2023-01-19T08:00"),
                         rules)
    assert [s.name for s in fired] == ["before:1"]
    assert fired[0].days == 8
    # Seen ahead from 18/01 (a 10-day preview): the one message of 19/01, then the due day.
    coming = select_fired(owner_steps(date(2023, 1, 27), rules, cal), at("2023-01-28T09:00"),
                          rules, now=at("2023-01-18T09:00"))
    assert [(s.name, s.send_on) for s in coming] == [("before:1", date(2023, 1, 19)),
                                                     ("due", date(2023, 1, 27))]


def test_overdue_through_tet_2023_counts_working_days(rules: ReminderRules,
                                                       cal: WorkCalendar) -> None:
    d = days(date(2023, 1, 18), rules, cal)  # Wednesday before Tết
    assert d["overdue:2"] == date(2023, 1, 27)  # 19/01 is the 1st, Tết off, 27/01 the 2nd
    assert d["escalate"] == date(2023, 1, 30)
    assert d["overdue:4"] == date(2023, 1, 31)
    assert all(cal.is_working_day(v) for v in d.values())


def test_30_april_2023(rules: ReminderRules, cal: WorkCalendar) -> None:
    d = days(date(2023, 5, 4), rules, cal)  # first working day after 29/4–3/5
    assert d["before:1"] == d["before:3"] == date(2023, 4, 28)
    assert d["before:7"] == date(2023, 4, 27)
    # Due on the holiday itself: reminded before it, late only after Thursday 04/5.
    d = days(date(2023, 5, 1), rules, cal)
    assert d["due"] == date(2023, 4, 28)
    assert (d["overdue:2"], d["escalate"]) == (date(2023, 5, 8), date(2023, 5, 9))
    # No swap in 2023: Saturday 06/5/2023 stays a day off.
    assert days(date(2023, 5, 8), rules, cal)["before:1"] == date(2023, 5, 5)


# ---------------------------------------------------------------- 2024


def test_tet_2024(rules: ReminderRules, cal: WorkCalendar) -> None:
    d = days(date(2024, 2, 16), rules, cal)
    assert d["before:7"] == d["before:3"] == date(2024, 2, 7)
    assert d["before:1"] == date(2024, 2, 15)
    d = days(date(2024, 2, 7), rules, cal)  # due the last day before Tết
    assert (d["overdue:2"], d["escalate"], d["overdue:4"]) == (
        date(2024, 2, 16), date(2024, 2, 19), date(2024, 2, 20))


def test_30_april_2024_with_the_make_up_saturday(rules: ReminderRules,
                                                  cal: WorkCalendar) -> None:
    d = days(date(2024, 5, 6), rules, cal)  # Monday after the make-up Saturday
    assert d["before:1"] == date(2024, 5, 4)  # Sunday 05/5 → the make-up Saturday 04/5
    assert d["before:3"] == date(2024, 5, 3)
    assert d["before:7"] == date(2024, 4, 26)  # Monday 29/4 is the swapped day off
    d = days(date(2024, 4, 26), rules, cal)  # Friday before the 5-day break
    assert d["overdue:2"] == date(2024, 5, 3)  # 02/5 is the 1st working day late
    assert d["escalate"] == date(2024, 5, 4)  # the make-up Saturday counts
    assert d["overdue:4"] == date(2024, 5, 6)
    assert days(date(2024, 5, 11), rules, cal)["due"] == date(2024, 5, 10)  # ordinary Sat


def test_sending_window_and_quiet_hours(rules: ReminderRules, cal: WorkCalendar) -> None:
    assert next_send_time(at("2023-11-20T06:00"), rules, cal) == at("2023-11-20T07:30")
    assert next_send_time(at("2023-11-20T10:00"), rules, cal) == at("2023-11-20T10:00")
    assert next_send_time(at("2023-11-17T19:00"), rules, cal) == at("2023-11-20T07:30")
    assert next_send_time(at("2024-05-03T18:00"), rules, cal) == at("2024-05-04T07:30")
    assert next_send_time(at("2024-02-07T18:00"), rules, cal) == at("2024-02-15T07:30")
    assert next_send_time(at("2023-01-20T09:00"), rules, cal) == at("2023-01-27T07:30")
    assert in_send_window(at("2024-05-04T09:00"), rules, cal)
    assert not in_send_window(at("2024-05-11T09:00"), rules, cal)
    assert not in_send_window(at("2023-11-20T17:31"), rules, cal)


# ---------------------------------------------------------------- the rules file


def test_rules_file_field_errors_carry_line() -> None:
    text = (
        "schema_version: 1\n"
        "send_at: 18:00\n"  # unquoted: YAML 1.1 reads the number 1080
        "send_window:\n"
        "  start: \"07:30\"\n"
        "  end: \"07:00\"\n"
        "overdue:\n"
        "  every_working_days: 0\n"
        "  colour: red\n"
        "day_off: next_working_day\n"
    )
    with pytest.raises(DataFileError) as exc:
        parse_model(ReminderRules, text, "reminders.yaml")
    found = {(p.location, p.line): p.message_vi for p in exc.value.file_problems}
    assert "dấu nháy" in found[("send_at", 2)]
    assert "phải sau giờ bắt đầu" in found[("send_window.end", 5)]
    assert ("overdue.every_working_days", 7) in found
    assert ("overdue.colour", 8) in found
    assert ("day_off", 9) in found


def test_rules_file_cross_checks_carry_line() -> None:
    text = (
        "before_due_days: [7, 3, 3, 0]\n"
        "send_at: \"06:00\"\n"
        "overdue:\n"
        "  stop_after_working_days: 2\n"
        "escalation:\n"
        "  after_working_days: 5\n"
    )
    with pytest.raises(DataFileError) as exc:
        parse_model(ReminderRules, text, "reminders.yaml")
    found = {(p.location, p.line): p.message_vi for p in exc.value.file_problems}
    assert set(found) == {("before_due_days[2]", 1), ("send_at", 2),
                          ("escalation.after_working_days", 6)}
    assert "hai lần" in found[("before_due_days[2]", 1)]
    assert "ngoài khung giờ" in found[("send_at", 2)]
    assert "không bao giờ" in found[("escalation.after_working_days", 6)]


def test_rules_can_be_edited(tmp_path: Path) -> None:
    path = tmp_path / "reminders.yaml"
    path.write_text("before_due_days: [5, 0]\nescalation: null\n", encoding="utf-8")
    edited = load_reminder_rules(path)
    assert edited.lead_days == [5, 0] and edited.escalation is None
    path.write_text("send_at: '25:00'\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="không tồn tại"):
        load_reminder_rules(path)


# ---------------------------------------------------------------- through the planner


OBLIGATIONS_2024 = """\
schema_version: 1
year: 2024
obligations:
  - id: bc-tet
    title: Báo cáo sau Tết
    source_plan: Kế hoạch số 15/KH-UBND ngày 10/01/2024
    recipient: Phòng Nội vụ thành phố Nha Trang
    owner: Công chức Văn phòng - Thống kê
    schedule: once
    due: 16/02/2024
  - id: bc-truoc-le
    title: Báo cáo trước lễ
    source_plan: Kế hoạch số 16/KH-UBND ngày 10/01/2024
    recipient: Phòng Nội vụ thành phố Nha Trang
    owner: Công chức Văn phòng - Thống kê
    schedule: once
    due: 26/04/2024
  - id: bc-sau-le
    title: Báo cáo sau lễ
    source_plan: Kế hoạch số 17/KH-UBND ngày 10/01/2024
    recipient: Phòng Nội vụ thành phố Nha Trang
    owner: Công chức Văn phòng - Thống kê
    schedule: once
    due: 06/05/2024
"""


def test_planner_on_2024_days_off(rt: Runtime, clock: Clock, tmp_path: Path) -> None:
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    load_people_file(rt, DEMO_BUNDLE / "people.yaml")
    path = tmp_path / "obligations-2024.yaml"
    path.write_text(OBLIGATIONS_2024, encoding="utf-8")
    load_obligations(rt, "vinh-thanh", path)

    def on(day: date) -> set[tuple[str, str, str]]:
        return {(o.payload["code"], o.step, o.payload["person_name"])
                for o in preview(rt, day, "vinh-thanh")}

    hanh = "Trần Thị Mỹ Hạnh"
    assert on(date(2024, 2, 7)) == {("bc-tet", "before:3", hanh)}  # 7 and 3 days: one message
    assert all(on(date(2024, 2, d)) == set() for d in range(8, 15))  # Tết: nothing goes out
    assert on(date(2024, 2, 15)) == {("bc-tet", "before:1", hanh)}
    assert on(date(2024, 2, 16)) == {("bc-tet", "due", hanh)}
    assert on(date(2024, 2, 20)) == {("bc-tet", "overdue:2", hanh)}
    clock.set("2024-02-21T09:00")
    submit_obligation(rt, "vinh-thanh", "bc-tet", "2024",
                      "Báo cáo số 25/BC-UBND ngày 21/02/2024", Actor(hanh))
    assert on(date(2024, 2, 22)) == set()
    assert on(date(2024, 4, 26)) == {("bc-truoc-le", "due", hanh),
                                     ("bc-sau-le", "before:7", hanh)}
    assert on(date(2024, 5, 2)) == set()  # 1st working day late: no repeat yet
    assert on(date(2024, 5, 3)) == {("bc-truoc-le", "overdue:2", hanh),
                                    ("bc-sau-le", "before:3", hanh)}
    assert on(date(2024, 5, 4)) == {("bc-truoc-le", "escalate", "Nguyễn Quốc Bảo"),
                                    ("bc-sau-le", "before:1", hanh)}  # make-up Saturday
    assert on(date(2024, 5, 5)) == set()
    assert on(date(2024, 5, 6)) == {("bc-truoc-le", "overdue:4", hanh),
                                    ("bc-sau-le", "due", hanh)}
