"""The shape of the reminder rules file (`workflows/reminders.yaml`).

Why data and not code: when and how often officers are reminded is a decision of the Phòng Nội
vụ, not of programmers. The file is strict like the plan files: an unknown key, a lead time
given twice or a sending hour outside the sending window is refused with the file, the line and
the reason, before any reminder is planned from it.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from plans.errors import Loc, SpecProblems

ItemKind = Literal["task", "obligation"]


def _clock_time(value: object) -> object:
    """"HH:MM" (24 h). YAML reads an unquoted 17:30 as the number 1050, so say so."""
    if isinstance(value, bool):
        raise ValueError("phải là giờ dạng \"HH:MM\" / must be a time \"HH:MM\"")
    if isinstance(value, int):
        raise ValueError(
            f"giờ phải viết trong dấu nháy, ví dụ \"17:30\" (không có nháy, YAML đọc thành số "
            f"{value}) / write the time in quotes, e.g. \"17:30\" (unquoted, YAML reads the "
            f"number {value})"
        )
    if isinstance(value, str):
        text = value.strip()
        parts = text.split(":")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[1]) != 2:
            raise ValueError(
                f"giờ '{text}' phải có dạng HH:MM, ví dụ \"08:00\" / time '{text}' must be "
                "HH:MM, e.g. \"08:00\""
            )
        hour, minute = int(parts[0]), int(parts[1])
        if hour > 23 or minute > 59:
            raise ValueError(f"giờ '{text}' không tồn tại / no such time '{text}'")
        return time(hour, minute)
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SendWindow(_Strict):
    """Messages leave only between `start` and `end` (Vietnam time) on a working day."""

    start: ClockTime = time(7, 30)
    end: ClockTime = time(17, 30)

    @model_validator(mode="after")
    def _ordered(self) -> SendWindow:
        if self.start >= self.end:
            raise SpecProblems([(
                ("end",),
                f"giờ kết thúc {_hhmm(self.end)} phải sau giờ bắt đầu {_hhmm(self.start)}",
                f"end {_hhmm(self.end)} must be after start {_hhmm(self.start)}",
            )])
        return self

    def contains(self, t: time) -> bool:
        return self.start <= t <= self.end


class OverdueRule(_Strict):
    """Repeats after the due date, counted in working days: every `every_working_days` up to
    `then_after_working_days`, then every `then_every_working_days` (thinning out), until
    `stop_after_working_days`. Without `then_*` the first rhythm runs to the stop."""

    every_working_days: Annotated[int, Field(ge=1, le=30)] = 2
    then_after_working_days: Annotated[int, Field(ge=1, le=250)] | None = 10
    then_every_working_days: Annotated[int, Field(ge=1, le=60)] | None = 5
    stop_after_working_days: Annotated[int, Field(ge=1, le=250)] = 60
    catch_up: Literal["latest", "all"] = "latest"

    @model_validator(mode="after")
    def _thinning(self) -> OverdueRule:
        if (self.then_after_working_days is None) != (self.then_every_working_days is None):
            missing = ("then_every_working_days" if self.then_every_working_days is None
                       else "then_after_working_days")
            raise SpecProblems([(
                (missing,),
                "then_after_working_days và then_every_working_days phải ghi cùng nhau "
                f"(thiếu {missing})",
                f"then_after_working_days and then_every_working_days go together "
                f"({missing} missing)",
            )])
        return self

    def repeats(self) -> list[int]:
        """The working days overdue on which the owner is reminded again: 2, 4, …, 10, 15, …"""
        stop = self.stop_after_working_days
        dense_end = min(self.then_after_working_days or stop, stop)
        out = list(range(self.every_working_days, dense_end + 1, self.every_working_days))
        if self.then_every_working_days is not None:
            n = (out[-1] if out else 0) + self.then_every_working_days
            while n <= stop:
                out.append(n)
                n += self.then_every_working_days
        return out


class EscalationRule(_Strict):
    """One message to the unit's leader once an item is this many working days overdue."""

    after_working_days: Annotated[int, Field(ge=1, le=250)] = 3
    to: Literal["unit_leader"] = "unit_leader"


class ReminderRules(_Strict):
    """`workflows/reminders.yaml`."""

    schema_version: Literal[1] = 1
    timezone: Literal["Asia/Ho_Chi_Minh"] = "Asia/Ho_Chi_Minh"
    items: Annotated[list[ItemKind], Field(min_length=1)] = ["task", "obligation"]
    before_due_days: Annotated[list[Annotated[int, Field(ge=0, le=90)]],
                               Field(min_length=1)] = [7, 3, 1, 0]
    send_at: ClockTime = time(8, 0)
    send_window: SendWindow = SendWindow()
    day_off: Literal["previous_working_day"] = "previous_working_day"
    overdue: OverdueRule = OverdueRule()
    escalation: EscalationRule | None = EscalationRule()
    digest: Literal["per_person_per_day"] = "per_person_per_day"

    @property
    def lead_days(self) -> list[int]:
        """Lead times, longest first (7, 3, 1, 0)."""
        return sorted(self.before_due_days, reverse=True)

    @property
    def max_lead(self) -> int:
        return max(self.before_due_days)

    @model_validator(mode="after")
    def _consistent(self) -> ReminderRules:
        problems: list[tuple[Loc, str, str]] = []
        for i, d in enumerate(self.before_due_days):
            if d in self.before_due_days[:i]:
                problems.append((("before_due_days", i), f"số ngày {d} được ghi hai lần",
                                 f"lead time {d} is listed twice"))
        for i, kind in enumerate(self.items):
            if kind in self.items[:i]:
                problems.append((("items", i), f"loại '{kind}' được ghi hai lần",
                                 f"item kind '{kind}' is listed twice"))
        if not self.send_window.contains(self.send_at):
            problems.append((
                ("send_at",),
                f"giờ gửi {_hhmm(self.send_at)} nằm ngoài khung giờ được gửi "
                f"{_hhmm(self.send_window.start)}–{_hhmm(self.send_window.end)}",
                f"send_at {_hhmm(self.send_at)} is outside the sending window "
                f"{_hhmm(self.send_window.start)}-{_hhmm(self.send_window.end)}",
            ))
        esc = self.escalation
        if esc is not None and esc.after_working_days > self.overdue.stop_after_working_days:
            problems.append((
                ("escalation", "after_working_days"),
                f"báo lãnh đạo sau {esc.after_working_days} ngày làm việc quá hạn, nhưng nhắc "
                f"việc dừng sau {self.overdue.stop_after_working_days} ngày "
                "(overdue.stop_after_working_days): sẽ không bao giờ báo",
                f"escalation after {esc.after_working_days} working days can never happen: "
                f"reminders stop after {self.overdue.stop_after_working_days}",
            ))
        if problems:
            raise SpecProblems(problems)
        return self


__all__ = [
    "ClockTime",
    "EscalationRule",
    "ItemKind",
    "OverdueRule",
    "ReminderRules",
    "SendWindow",
]
