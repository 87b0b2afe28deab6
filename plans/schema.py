"""The shape of plan, obligation and replay files, validated by pydantic.

Why strict models: these files are edited by hand at the Phòng Nội vụ; a typo must be caught
with its place in the file, never loaded half-way. Unknown keys are refused for that reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from plans.deadlines import DeadlineError, parse_deadline
from plans.errors import Loc, SpecProblems
from plans.fields import OptText, Slug, Text
from vntext.dates import parse_dmy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _code_text(value: object) -> object:
    """`code: 1` written without quotes is the code '1' (YAML reads it as a number)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class TaskSpec(_Strict):
    """One plan task: a row of the appendix."""

    # As the source plan writes it: 1, 1.2.3, I.1, II.3.a (a letter only after a number).
    code: Annotated[str, BeforeValidator(_code_text),
                    Field(pattern=r"^(?:[IVXLC]+|\d+)(?:\.\d+)*(?:\.[a-zđ])?$", max_length=20)]
    text: Text
    owner: OptText | None = None
    deadline: OptText | None = None
    product: OptText | None = None
    # Optional columns real plans carry; shown when the appendix declares them in `columns`.
    lead_unit: OptText | None = None
    partners: OptText | None = None
    completion_time: OptText | None = None
    budget: OptText | None = None
    note: OptText | None = None

    def extra(self) -> dict[str, str]:
        """The optional column values this task gives (owner/deadline/product included)."""
        return {k: v for k in COLUMN_KEYS if (v := getattr(self, k)) is not None and v != ""}

    def stored_extra(self) -> dict[str, str]:
        """The values kept in `plan_tasks.extra` (owner, deadline, product have columns)."""
        return {k: v for k, v in self.extra().items()
                if k not in ("owner", "deadline", "product")}


#: Optional appendix columns, as a plan declares them, with their printed headers.
COLUMN_HEADERS: dict[str, str] = {
    "product": "Sản phẩm",
    "lead_unit": "Đơn vị chủ trì",
    "partners": "Đơn vị phối hợp",
    "completion_time": "Thời gian hoàn thành",
    "owner": "Người phụ trách",
    "deadline": "Thời hạn",
    "budget": "Kinh phí",
    "note": "Ghi chú",
}
COLUMN_KEYS = tuple(COLUMN_HEADERS)
ColumnKey = Literal["product", "lead_unit", "partners", "completion_time", "owner", "deadline",
                    "budget", "note"]


class SectionSpec(_Strict):
    """A section (I–VII), a PAPI dimension (1–8) or sub-dimension (1.1–8.3)."""

    code: Annotated[str, BeforeValidator(_code_text),
                    Field(pattern=r"^(?:[IVXLC]+|\d+(?:\.\d+)*)$")]
    title: OptText | None = None
    sections: list[SectionSpec] = []
    tasks: list[TaskSpec] = []

    @model_validator(mode="after")
    def _one_kind_of_children(self) -> SectionSpec:
        if self.sections and self.tasks:
            raise ValueError(
                "một mục không thể vừa có mục con vừa có nhiệm vụ / "
                "a section holds either sub-sections or tasks, not both"
            )
        if not self.sections and not self.tasks:
            raise ValueError("mục không có nhiệm vụ nào / section has no tasks")
        return self


class AppendixSpec(_Strict):
    """How the plan's table looks. `number` is only a default: the report definition
    (`plans/reports/*.yaml`) numbers the appendices of a report."""

    number: Annotated[int | None, Field(ge=1, le=20)] = None
    title: Text
    layout: Literal["sections", "dimensions"]
    # continuous: rows 1, 2, 3… through the appendix; per_section: I.1, I.2, II.1… restarting
    # in each section; as_written: any codes the source uses (II.3.a), only unique.
    numbering: Literal["continuous", "per_section", "as_written"] = "continuous"
    # Optional columns shown after "Nhiệm vụ", in this order (the page turns landscape if wide).
    columns: list[ColumnKey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _columns_once(self) -> AppendixSpec:
        twice = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if twice:
            raise ValueError(f"cột khai báo hai lần: {', '.join(twice)} / column listed twice")
        return self


class PlanSpec(_Strict):
    """A year's plan (Kế hoạch/Quyết định), with its appendix layout.

    Identity: a plan with `owner` is that unit's own plan (each commune's CCHC plan); its
    stored id is `<id>@<owner>`, so two communes may both call theirs `cchc-2026` and never
    touch each other's. A plan without `owner` is a framework issued by an upper body
    (`issuer`, e.g. the province's PAPI framework) and instantiated in many units.
    """

    schema_version: Literal[1] = 1
    id: Slug
    kind: Literal["cchc", "papi", "kl91", "other"]
    year: Annotated[int, Field(ge=2000, le=2100)]
    title: Text
    issued_by: Text
    owner: Slug | None = None
    issuer: Slug | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    appendix: AppendixSpec
    sections: list[SectionSpec]

    @model_validator(mode="before")
    @classmethod
    def _dates(cls, data: object) -> object:
        if isinstance(data, dict):
            data = {**data, **{k: parse_dmy(data[k]) for k in ("valid_from", "valid_to")
                               if isinstance(data.get(k), str)}}
        return data

    @property
    def scope(self) -> Literal["framework", "unit"]:
        return "unit" if self.owner else "framework"

    @property
    def stored_id(self) -> str:
        """The database key: a unit's own plan is namespaced by its owner."""
        return f"{self.id}@{self.owner}" if self.owner else self.id

    @property
    def validity(self) -> tuple[date, date]:
        """When the plan is in force: `valid_from`–`valid_to`, by default its calendar year."""
        return (self.valid_from or date(self.year, 1, 1), self.valid_to or date(self.year, 12, 31))

    def iter_tasks(self) -> list[tuple[list[SectionSpec], TaskSpec]]:
        """Tasks in appendix order with their section path."""
        return [(path, task) for path, task, _loc in self.iter_tasks_at()]

    def iter_tasks_at(self) -> list[tuple[list[SectionSpec], TaskSpec, Loc]]:
        """Tasks in appendix order with their section path and their place in the file."""
        out: list[tuple[list[SectionSpec], TaskSpec, Loc]] = []

        def walk(path: list[SectionSpec], section: SectionSpec, loc: Loc) -> None:
            here = [*path, section]
            for i, child in enumerate(section.sections):
                walk(here, child, (*loc, "sections", i))
            for i, task in enumerate(section.tasks):
                out.append((here, task, (*loc, "tasks", i)))

        for i, s in enumerate(self.sections):
            walk([], s, ("sections", i))
        return out

    @model_validator(mode="after")
    def _codes_and_deadlines(self) -> PlanSpec:
        problems: list[tuple[Loc, str, str]] = []
        start, end = self.validity
        if start > end:
            problems.append((
                ("valid_to",),
                "ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực",
                "valid_to must come after valid_from",
            ))
        if len(self.stored_id) > 64:
            problems.append((
                ("id",),
                f"mã kế hoạch cùng mã đơn vị '{self.stored_id}' dài quá 64 ký tự",
                f"the plan id with its owner '{self.stored_id}' is longer than 64 characters",
            ))
        first_at: dict[str, str] = {}
        tasks = self.iter_tasks_at()
        for path, task, loc in tasks:
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)[1:]
            if task.code in first_at:
                problems.append((
                    (*loc, "code"),
                    f"mã nhiệm vụ {task.code!r} bị trùng (đã dùng ở {first_at[task.code]})",
                    f"duplicate task code {task.code!r} (already used at {first_at[task.code]})",
                ))
            else:
                first_at[task.code] = where
            if self.appendix.layout == "dimensions":
                parent = path[-1].code
                if not task.code.startswith(parent + ".") or task.code.count(".") != 2:
                    problems.append((
                        (*loc, "code"),
                        f"mã nhiệm vụ {task.code!r} phải có dạng {parent}.<n>",
                        f"task code {task.code!r} must be {parent}.<n>",
                    ))
            if task.deadline:
                try:
                    parse_deadline(task.deadline, self.year)
                except DeadlineError as exc:
                    problems.append((
                        (*loc, "deadline"),
                        f"nhiệm vụ {task.code}: hạn '{task.deadline}' không hiểu được: "
                        f"{exc.message_vi}",
                        f"task {task.code}: deadline not understood: {exc.message_en}",
                    ))
        if self.appendix.layout == "sections" and self.appendix.numbering == "per_section":
            index: dict[str, int] = {}
            for path, task, loc in tasks:
                sec = path[-1].code
                index[sec] = n = index.get(sec, 0) + 1
                if task.code != f"{sec}.{n}":
                    problems.append((
                        (*loc, "code"),
                        f"đánh số theo từng mục: ở đây phải là '{sec}.{n}', không phải "
                        f"{task.code!r}",
                        f"numbering per section: expected '{sec}.{n}' here, found "
                        f"{task.code!r}",
                    ))
                    break
        elif self.appendix.layout == "sections" and self.appendix.numbering == "continuous":
            for n, (_path, task, loc) in enumerate(tasks, start=1):
                if task.code != str(n):
                    problems.append((
                        (*loc, "code"),
                        f"mã nhiệm vụ phải là số thứ tự 1, 2, 3… liên tục trong phụ lục: ở đây "
                        f"phải là '{n}', không phải {task.code!r}",
                        f"task codes must be the appendix row numbers 1, 2, 3… in order: "
                        f"expected '{n}' here, found {task.code!r}",
                    ))
                    break
        if problems:
            raise SpecProblems(problems)
        return self


Schedule = Literal["once", "monthly", "quarterly", "six_monthly", "yearly"]


class ObligationSpec(_Strict):
    """A sub-report the commune owes an upper body (báo cáo chuyên đề/định kỳ)."""

    id: Slug
    title: Text
    source_plan: Text
    recipient: Text
    owner: OptText | None = None
    schedule: Schedule
    due: date | None = None
    due_day: Annotated[int | None, Field(ge=1, le=31)] = None
    due_months: list[Annotated[int, Field(ge=1, le=12)]] = []

    @model_validator(mode="before")
    @classmethod
    def _dates(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("due"), str):
            data = {**data, "due": parse_dmy(data["due"])}
        return data

    @model_validator(mode="after")
    def _schedule_fields(self) -> ObligationSpec:
        if self.schedule == "once" and self.due is None:
            raise ValueError("báo cáo một lần phải có 'due' / a one-off report needs 'due'")
        if self.schedule != "once" and self.due_day is None:
            raise ValueError(
                "báo cáo định kỳ phải có 'due_day' / a recurring report needs 'due_day'"
            )
        return self


class ObligationsFile(_Strict):
    schema_version: Literal[1] = 1
    year: int
    obligations: list[ObligationSpec]


ReplayState = Literal["not_started", "in_progress", "waiting_upper", "nothing_arose", "done"]


class ReplayEntry(_Strict):
    """One task's state as a past report states it."""

    plan: Slug
    code: str
    state: ReplayState
    result: OptText = ""
    evidence: list[Text] = []
    reached_on: date | None = None
    owner: OptText | None = None
    seed_note: OptText | None = None

    @model_validator(mode="before")
    @classmethod
    def _dates(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("reached_on"), str):
            data = {**data, "reached_on": parse_dmy(data["reached_on"])}
        return data


class ReplayFile(_Strict):
    """A past quarter's state (e.g. the seed's Q3-2023 report) to replay into a fresh database."""

    schema_version: Literal[1] = 1
    unit: Slug
    period: Annotated[str, Field(pattern=r"^\d{4}-(?:Q[1-4]|H1|Y)$")]
    recorded_by: Text
    recorded_at: datetime
    entries: list[ReplayEntry]


class UnitSpec(_Strict):
    slug: Slug
    name: Text
    kind: Literal["xã", "phường", "thị trấn", "đặc khu", "huyện", "thành phố", "thị xã", "quận",
                  "tỉnh"]
    parent: Slug | None = None
    report_cutoff_day: Annotated[int | None, Field(ge=1, le=31)] = None  # 31: month ends
    leader: OptText | None = None


class UnitsFile(_Strict):
    schema_version: Literal[1] = 1
    units: list[UnitSpec]


