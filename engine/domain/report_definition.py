"""Which plans a period's report holds, and under which appendix number.

Why here and not in the plan: a plan has a validity (its year, or `valid_from`–`valid_to`);
the report for a period contains only the plans in force in it, and the report definition
(`plans/reports/*.yaml`, a data file) numbers them. Two plans in force for one appendix number
is a data error located in the definition file and naming both plans — never a traceback, and
`cchc report check` names it too.

"In force in a period": the plan's validity overlaps the period clipped to its own year (a Q1
period starts on 15/12 of the year before, which is not the new year's plan's business, nor
the old plan's report any more).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from engine.domain.periods import ReportingPeriod
from engine.storage.models import Plan
from plans import DataFileError, FileProblem
from plans.loader import line_of, parse_model, read_text
from plans.report_schema import ReportAppendixSpec, ReportDefinition
from vntext.dates import format_date_vi

DEFAULT_REPORT = Path(__file__).resolve().parents[2] / "plans" / "reports" / "bao-cao-cchc.yaml"


@dataclass(frozen=True)
class LoadedDefinition:
    spec: ReportDefinition
    source: str
    text: str

    def line(self, index: int) -> int | None:
        return line_of(self.text, ("appendices", index))


_CACHE: dict[tuple[str, int], LoadedDefinition] = {}


def report_definition(path: Path | None = None) -> LoadedDefinition:
    """The report definition (`CCHC_REPORT_DEFINITION`, else the national default), validated
    once per file version."""
    path = path or Path(os.environ.get("CCHC_REPORT_DEFINITION") or DEFAULT_REPORT)
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError:
        key = (str(path), -1)
    found = _CACHE.get(key)
    if found is None:
        text = read_text(path)
        found = LoadedDefinition(parse_model(ReportDefinition, text, str(path)), str(path), text)
        _CACHE[key] = found
    return found


def validity(plan: Plan) -> tuple[date, date]:
    return (plan.valid_from or date(plan.year, 1, 1), plan.valid_to or date(plan.year, 12, 31))


def in_force(plan: Plan, period: ReportingPeriod) -> bool:
    start, end = validity(plan)
    return start <= period.end and end >= max(period.start, date(period.year, 1, 1))


@dataclass(frozen=True)
class NumberedPlan:
    number: int
    plan: Plan
    entry: ReportAppendixSpec | None  # None: the plan's own default number (no entry claims it)


def _label(plan: Plan) -> str:
    start, end = validity(plan)
    return f"{plan.code or plan.id} (hiệu lực {format_date_vi(start)}–{format_date_vi(end)})"


def number_appendices(defn: LoadedDefinition, plans: Sequence[Plan], period: ReportingPeriod,
                      unit: str) -> list[NumberedPlan]:
    """The unit's plans in force in `period`, numbered by the definition; refuses conflicts."""
    taken: dict[int, list[tuple[Plan, int | None]]] = {}
    problems: list[FileProblem] = []
    for plan in plans:
        if not in_force(plan, period):
            continue
        index = next((i for i, a in enumerate(defn.spec.appendices)
                      if a.claims(plan.code or plan.id, plan.kind)), None)
        if index is not None:
            taken.setdefault(defn.spec.appendices[index].number, []).append((plan, index))
        elif plan.appendix_number:
            taken.setdefault(plan.appendix_number, []).append((plan, None))
        else:
            problems.append(FileProblem(
                defn.source, "appendices", None,
                f"kế hoạch {_label(plan)} loại '{plan.kind}' có hiệu lực trong kỳ {period.code} "
                f"của {unit} nhưng không phụ lục nào nhận nó: thêm một phụ lục có "
                f"plan_kinds: [{plan.kind}] hoặc plans: [{plan.code or plan.id}]",
                f"plan {plan.id} is in force in {period.code} for {unit} but no appendix "
                "takes it"))
    out: list[NumberedPlan] = []
    for number in sorted(taken):
        rows = taken[number]
        if len(rows) > 1:
            index = next((i for _p, i in rows if i is not None), None)
            problems.append(FileProblem(
                defn.source, f"appendices[{index}]" if index is not None else "appendices",
                defn.line(index) if index is not None else None,
                f"trùng số phụ lục: Phụ lục {number} của {unit} trong kỳ {period.code} nhận "
                f"{len(rows)} kế hoạch cùng có hiệu lực: "
                + "; ".join(_label(p) for p, _i in rows)
                + ". Sửa thời gian hiệu lực (valid_from/valid_to) của kế hoạch, hoặc cho mỗi "
                "kế hoạch một phụ lục",
                f"appendix {number} of {unit} in {period.code} gets {len(rows)} plans in force: "
                + ", ".join(p.id for p, _i in rows)))
            continue
        plan, index = rows[0]
        out.append(NumberedPlan(number, plan,
                                defn.spec.appendices[index] if index is not None else None))
    if problems:
        raise DataFileError(problems)
    return out


def default_number(code: str, kind: str, file_number: int | None) -> int:
    """The appendix number a plan gets in lists (web, `plan list`): the report definition's for
    its kind or id, else the number its file gives, else 0."""
    for a in report_definition().spec.appendices:
        if a.claims(code, kind):
            return a.number
    return file_number or 0
