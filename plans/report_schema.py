"""The shape of a report definition: which appendix (Phụ lục 1..n) holds what.

Why data, not a property of the plan: the same plan kind is reported every year by a new plan
(cchc-2026, cchc-2027), and which plans are in a report depends on the period. The report
definition says "Phụ lục 1 is the CCHC plan in force"; the period picks the plan. A clerk can
renumber the appendices, add one for a plan of kind `other`, or declare a non-task appendix
(`kind: statistics`, built by its own part of the snapshot) without touching a plan file.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from plans.errors import Loc, SpecProblems
from plans.fields import OptText, Slug, Text
from plans.schema import _Strict

PlanKind = Literal["cchc", "papi", "kl91", "other"]


class ReportAppendixSpec(_Strict):
    """One appendix of the report: the plan in force of the given kinds (or codes), or a
    non-task part such as statistics."""

    number: Annotated[int, Field(ge=1, le=20)]
    kind: Literal["tasks", "statistics"] = "tasks"
    plan_kinds: list[PlanKind] = Field(default_factory=list)
    plans: list[Slug] = Field(default_factory=list)
    title: OptText | None = None
    cumulative: bool = False  # "lũy kế": recurring tasks counted over the year so far

    @model_validator(mode="after")
    def _what_it_holds(self) -> ReportAppendixSpec:
        if self.kind == "tasks" and not (self.plan_kinds or self.plans):
            raise ValueError("phụ lục nhiệm vụ phải nêu 'plan_kinds' hoặc 'plans' / "
                             "a task appendix needs 'plan_kinds' or 'plans'")
        if self.kind == "statistics" and not self.title:
            raise ValueError("phụ lục thống kê phải có 'title' / a statistics appendix needs "
                             "a 'title'")
        return self

    def claims(self, code: str, kind: str) -> bool:
        return self.kind == "tasks" and (code in self.plans or kind in self.plan_kinds)


class ReportDefinition(_Strict):
    schema_version: Literal[1] = 1
    id: Slug
    title: Text
    appendices: list[ReportAppendixSpec]

    @model_validator(mode="after")
    def _unique(self) -> ReportDefinition:
        problems: list[tuple[Loc, str, str]] = []
        numbers: dict[int, int] = {}
        claimed: dict[str, int] = {}
        for i, a in enumerate(self.appendices):
            if a.number in numbers:
                problems.append((("appendices", i, "number"),
                                 f"trùng số phụ lục {a.number} (đã dùng ở appendices"
                                 f"[{numbers[a.number]}])",
                                 f"duplicate appendix number {a.number}"))
            numbers.setdefault(a.number, i)
            for what in [*a.plan_kinds, *a.plans]:
                if what in claimed:
                    problems.append((("appendices", i),
                                     f"'{what}' đã thuộc phụ lục ở appendices[{claimed[what]}]",
                                     f"'{what}' already belongs to appendices[{claimed[what]}]"))
                claimed.setdefault(what, i)
        if problems:
            raise SpecProblems(problems)
        return self
