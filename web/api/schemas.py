"""The JSON API's request and response models (pydantic), so `/openapi.json` is precise.

Why models of our own instead of returning the engine's dataclasses: the wire format is a
public contract (other systems of the province read it), so it must not change when an engine
dataclass gains a field, and every field needs a type and a description in the schema. Dates
are ISO `YYYY-MM-DD`, times ISO 8601 with the Vietnam offset (+07:00). Request bodies refuse
unknown keys: a misspelt `expected_version` must be an error, not silently ignored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.domain import max_text_chars

Timeliness = Literal["done_on_time", "done_late", "open_on_time", "open_overdue"]

TEXT_MAX = max_text_chars()  # the engine's one text limit (CCHC_MAX_TEXT_CHARS)
REF_MAX = 500


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- errors


class ErrorProblem(_Out):
    field: str = Field(description="The request field at fault ('' when none)")
    message_vi: str
    message_en: str
    value: str | None = None


class ErrorBody(_Out):
    """The body of every refusal (4xx) and of an internal error (500)."""

    error: str = Field(description="Machine code: invalid, forbidden, not_found, conflict, "
                                   "transition_not_allowed, unauthorized, …")
    message: str = Field(description="The message to show (Vietnamese)")
    message_vi: str
    message_en: str
    field: str = Field(description="The first field at fault ('' when none)")
    problems: list[ErrorProblem]


# ---------------------------------------------------------------- who and where


class MeOut(_Out):
    username: str
    full_name: str
    role: Literal["officer", "leader", "reviewer", "admin"]
    role_label: str = Field(description="The role in Vietnamese")
    unit: str | None = Field(description="Slug of the user's unit (none for an admin)")
    unit_display: str | None = Field(description="e.g. 'xã Vĩnh Thạnh'")
    actions: list[str] = Field(
        description="Actions of engine.directory.access.ACTION_ROLES the role may take (within its "
        "unit scope)"
    )


class UnitOut(_Out):
    slug: str
    name: str
    kind: str = Field(description="xã, phường, thị trấn, đặc khu, thành phố, tỉnh, …")
    display: str = Field(description="e.g. 'xã Vĩnh Thạnh'")
    parent: str | None = Field(description="Slug of the parent unit")
    cutoff_day: int = Field(description="Day of the month the reporting period cuts off")
    leader: str | None
    writable: bool = Field(description="Whether the caller may change this unit's data")


class PlanOut(_Out):
    id: str
    kind: str
    year: int
    title: str
    issued_by: str | None
    appendix: int = Field(description="Phụ lục number in the quarterly report")
    tasks: int
    done: int
    not_done: int
    overdue: int = Field(description="Open tasks past their (working-day) due date")
    completion: int = Field(description="Whole percent of tasks done, rounded down (100 only "
                                        "when all are done), as the pages show it")


# ---------------------------------------------------------------- tasks


class TaskOut(_Out):
    unit: str
    plan: str
    code: str = Field(description="The task's number in its plan (STT), e.g. '7' or '1.4.3'")
    section: str
    text: str
    state: str
    state_label: str
    owner: str | None
    deadline: str | None = Field(description="The deadline as written, e.g. 'Quý III/2023'")
    due_on: date | None = Field(description="The last day of that deadline")
    done_on: date | None
    result: str | None
    note: str | None
    version: int = Field(description="Send it back as expected_version to change the task")
    timeliness: Timeliness | None


class TaskListOut(_Out):
    unit: str
    count: int
    tasks: list[TaskOut]


class EvidenceOut(_Out):
    ref: str = Field(description="The reference as printed, e.g. 'Kế hoạch số 223/KH-UBND "
                                 "ngày 06/3/2023'")
    number: str = Field(description="Number and symbol, e.g. '223/KH-UBND'")
    issued_on: date


class TriggerOut(_Out):
    trigger: str
    label: str
    to_state: str
    requires: list[Literal["evidence", "result", "note"]] = Field(
        description="Body fields the step cannot do without")


class TaskDetailOut(TaskOut):
    evidence: list[EvidenceOut] = Field(
        description="The documents proving the task done (empty while it is not done)")
    allowed_triggers: list[TriggerOut] = Field(
        description="Workflow steps the caller may take now (empty: read only)")
    can_note: bool
    can_assign: bool
    can_set_deadline: bool
    history_count: int


class HistoryOut(_Out):
    seq: int
    event: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    at: datetime
    effective_on: date
    note: str | None
    result: str | None
    owner: str | None
    deadline: str | None
    evidence: list[EvidenceOut]


class TransitionIn(_In):
    trigger: str = Field(max_length=64,
                         description="complete, start, wait, nothing_arose, reopen")
    evidence: list[str] = Field(
        default=[], max_length=20,
        description="Document references, e.g. 'Kế hoạch số 223/KH-UBND ngày 06/3/2023'")
    result: str = Field(default="", max_length=TEXT_MAX, description="Kết quả thực hiện")
    note: str = Field(default="", max_length=TEXT_MAX, description="Ghi chú / lý do")
    on: date | None = Field(default=None, description="Date the step took effect (not in the "
                            "future; for 'complete' not before the evidence)")
    correction: str = Field(
        default="", max_length=TEXT_MAX,
        description="Leaders: why a step dated inside a frozen period is recorded (reported in "
                    "the next period's report and its check)")
    expected_version: int = Field(ge=1, description="The task version the change is based on")


class OwnerIn(_In):
    owner: str = Field(max_length=300)
    expected_version: int = Field(ge=1)


class DeadlineIn(_In):
    deadline: str = Field(max_length=200,
                          description="As the plan writes it: '30/9/2023', 'Quý III/2023', "
                                      "'Tháng 10/2023', 'Thường xuyên', …")
    expected_version: int = Field(ge=1)


class NoteIn(_In):
    note: str = Field(max_length=TEXT_MAX)
    on: date | None = None
    correction: str = Field(default="", max_length=TEXT_MAX)
    expected_version: int = Field(ge=1)


class ChangeOut(_Out):
    unit: str
    plan: str
    code: str
    event: str
    from_state: str
    to_state: str
    to_state_label: str
    version: int = Field(description="The task's new version")
    effective_on: date
    evidence: list[str]


# ---------------------------------------------------------------- obligations


class ObligationOut(_Out):
    id: int
    unit: str
    code: str
    title: str
    source_plan: str
    recipient: str
    schedule: str
    period: str = Field(description="Period key: 2023, 2023-H1, 2023-Q3, 2023-07")
    period_label: str
    due_on: date
    owner: str | None
    state: str
    state_label: str
    report_doc: str | None
    submitted_on: date | None
    overdue: bool
    version: int


class ObligationListOut(_Out):
    unit: str
    count: int
    obligations: list[ObligationOut]


class SubmitIn(_In):
    document: str = Field(max_length=REF_MAX,
                          description="The report sent, e.g. 'Báo cáo số 1050/BC-UBND ngày "
                                      "05/12/2023' (a Báo cáo or a Công văn)")
    note: str = Field(default="", max_length=TEXT_MAX)
    expected_version: int = Field(ge=1)


class ReopenIn(_In):
    note: str = Field(max_length=TEXT_MAX, description="Why the report is taken back")
    expected_version: int = Field(ge=1)


class ObligationChangeOut(_Out):
    unit: str
    code: str
    period: str
    event: str
    from_state: str
    to_state: str
    version: int
    effective_on: date
    late: bool
    document: str | None


# ---------------------------------------------------------------- snapshots


class AppendixTotalsOut(_Out):
    number: int
    plan: str
    title: str
    total: int
    done: int
    not_done: int


class SnapshotOut(_Out):
    unit: str
    unit_display: str
    period: str
    period_label: str
    start: date
    end: date
    taken_at: datetime
    frozen: bool = Field(description="True: the period's figures are frozen for good")
    content_hash: str | None = Field(description="SHA-256 of the frozen content")
    appendices: list[AppendixTotalsOut]
    files: list[str] = Field(description="Names for …/files/{name}")


class FindingOut(_Out):
    code: str
    severity: Literal["error", "warning"]
    message_vi: str
    message_en: str
    plan: str | None
    task: str | None
    appendix: int | None
    line: int | None


class CheckOut(_Out):
    unit: str
    period: str
    frozen: bool
    errors: int
    warnings: int
    findings: list[FindingOut]


# ---------------------------------------------------------------- city


class CommuneOverviewOut(_Out):
    slug: str
    display: str
    tasks: int
    done: int
    overdue: int
    completion: int = Field(description="Whole percent done, rounded down")
    obligations_overdue: int = Field(description="Reports due to upper bodies, not sent, late")
    period: str = Field(description="The quarter being reported on now, e.g. 2023-Q3")
    period_label: str
    frozen: bool = Field(description="Whether that quarter's figures are frozen")
    plans: list[PlanOut]


class CityOverviewOut(_Out):
    city: str
    display: str
    communes: list[CommuneOverviewOut]
    tasks: int
    done: int
    overdue: int
    completion: int
    obligations_overdue: int
    frozen: int = Field(description="Communes whose current quarter is frozen")


__all__ = [
    "AppendixTotalsOut",
    "ChangeOut",
    "CheckOut",
    "CityOverviewOut",
    "CommuneOverviewOut",
    "DeadlineIn",
    "ErrorBody",
    "ErrorProblem",
    "EvidenceOut",
    "FindingOut",
    "HistoryOut",
    "MeOut",
    "NoteIn",
    "ObligationChangeOut",
    "ObligationListOut",
    "ObligationOut",
    "OwnerIn",
    "PlanOut",
    "ReopenIn",
    "SnapshotOut",
    "SubmitIn",
    "TaskDetailOut",
    "TaskListOut",
    "TaskOut",
    "TransitionIn",
    "TriggerOut",
    "UnitOut",
]
