"""The frozen picture of one unit's plans at a period's cut-off: what the appendices print.

Why a plain pydantic model between the database and the exporters: the exporters (docx, xlsx,
JSON) never touch storage, so they are fast, testable on their own and give the same bytes for
the same snapshot. Counts are derived from the rows here, never typed in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
    model_validator,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _without_empty(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Optional parts left out of a dump when empty: a plan without declared columns dumps
    (and hashes) exactly as before they existed."""
    return {k: v for k, v in data.items() if not (k in keys and not v)}


class SnapshotTask(_Frozen):
    code: str
    text: str
    state: str
    done: bool
    result: str
    evidence: list[str] = []
    effective_on: date | None = None
    owner: str | None = None
    due: date | None = None
    timeliness: Literal["done_on_time", "done_late", "open_on_time", "open_overdue"] | None = None
    columns: dict[str, str] = {}  # values of the appendix's declared optional columns

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_empty(handler(self), "columns")


class SnapshotGroup(_Frozen):
    """A section (I–VII), a PAPI dimension (1–8) or a sub-dimension (1.1–8.3)."""

    code: str
    title: str | None
    groups: list[SnapshotGroup] = []
    tasks: list[SnapshotTask] = []

    def all_tasks(self) -> list[SnapshotTask]:
        out = list(self.tasks)
        for g in self.groups:
            out.extend(g.all_tasks())
        return out


class AppendixSnapshot(_Frozen):
    plan_id: str
    number: int
    title: str
    layout: Literal["sections", "dimensions"]
    groups: list[SnapshotGroup]
    columns: list[str] = []  # declared optional columns (keys of plans.schema.COLUMN_HEADERS)

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_empty(handler(self), "columns")

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: object) -> object:
        """Totals in a dump are derived: accept them back only if they match the rows."""
        if isinstance(data, dict) and any(k in data for k in ("total", "done", "not_done")):
            data = {k: v for k, v in data.items() if k not in ("total", "done", "not_done")}
        return data

    def all_tasks(self) -> list[SnapshotTask]:
        out: list[SnapshotTask] = []
        for g in self.groups:
            out.extend(g.all_tasks())
        return out

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return len(self.all_tasks())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def done(self) -> int:
        return sum(1 for t in self.all_tasks() if t.done)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def not_done(self) -> int:
        return self.total - self.done


class UnitHeader(_Frozen):
    """Who reports: 'ỦY BAN NHÂN DÂN / XÃ VĨNH THẠNH'."""

    slug: str
    kind: str  # "xã", "phường", ...
    name: str  # "Vĩnh Thạnh"
    parent_kind: str | None = None  # "thành phố"
    parent_name: str | None = None  # "Nha Trang"

    @property
    def display(self) -> str:
        return f"{self.kind} {self.name}"


class SnapshotCorrection(_Frozen):
    """A leader's correction of an earlier, frozen period, made during this period: reported
    here because the frozen period's files never change."""

    period: str  # the frozen period corrected, "2023-Q3"
    plan_id: str
    task: str
    event: str  # the workflow step or "note"
    effective_on: date  # the date inside the frozen period
    recorded_on: date
    actor: str
    reason: str


class Snapshot(_Frozen):
    unit: UnitHeader
    period: str  # "2023-Q3"
    period_label: str  # "Quý III năm 2023"
    start: date
    end: date
    taken_at: datetime
    frozen: bool = False
    content_hash: str | None = None  # sha256 of the canonical JSON, set when frozen
    appendices: list[AppendixSnapshot]
    #: Left out of the JSON (and the hash) when empty, so earlier snapshots keep their bytes.
    corrections: list[SnapshotCorrection] = []

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_empty(handler(self), "corrections")
