"""The Phụ lục 6 indicator set as data: schema, loader and the order rows print in.

Why a data file: the Sở Nội vụ changes the statistics form every year or two (a row added, a
ratio redefined); a clerk edits `plans/data/statistics/*.yaml` and the loader refuses a broken
file with the line and the reason (unknown code in a formula, a ratio over a heading, a loop).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.domain.documents import DOCUMENT_TYPES
from plans import DATA_DIR, content_hash, parse_model, read_text
from plans.errors import Loc, SpecProblems

Level = Literal["province", "district", "commune"]
Kind = Literal["heading", "input", "engine", "formula"]
ValueKind = Literal["count", "money", "percent", "choice"]
Source = Literal[
    "cchc_plan_tasks", "cchc_plan_tasks_done",
    "p4_received", "p4_online", "p4_carried_over", "p4_direct", "p4_resolved", "p4_on_time",
    "p4_late", "p4_pending", "p4_not_yet_due", "p4_overdue",
    "documents_issued",
    "upper_tasks", "upper_tasks_done_on_time", "upper_tasks_done_late", "upper_tasks_overdue",
]
#: Engine sources that are neither the CCHC plan's appendix nor Phụ lục 4 (which have checks of
#: their own): the register's documents and the tasks assigned by upper levels.
REGISTER_AND_UPPER: frozenset[str] = frozenset({
    "documents_issued", "upper_tasks", "upper_tasks_done_on_time", "upper_tasks_done_late",
    "upper_tasks_overdue"})
ALL_LEVELS: tuple[Level, ...] = ("province", "district", "commune")
LEVEL_VI = {"province": "cấp tỉnh", "district": "cấp huyện", "commune": "cấp xã"}
DEFAULT_SET = DATA_DIR / "statistics" / "chi-tieu-cchc-2022.yaml"

# Unit kinds (units.kind) by level.
_LEVEL_OF_KIND: dict[str, Level] = {
    "tỉnh": "province", "thành phố trực thuộc trung ương": "province",
    "huyện": "district", "thành phố": "district", "thị xã": "district", "quận": "district",
    "xã": "commune", "phường": "commune", "thị trấn": "commune", "đặc khu": "commune",
}


_DOCUMENT_CODES = frozenset(t.code for t in DOCUMENT_TYPES)


def level_of(unit_kind: str) -> Level:
    return _LEVEL_OF_KIND.get(unit_kind.strip().lower(), "commune")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Indicator(_Strict):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[0-9]+(\.[0-9a-z]+)*$")
    stt: str = ""
    label: str = Field(min_length=1)
    unit: str = ""
    kind: Kind
    value: ValueKind | None = None
    choices: list[int] | None = None
    source: Source | None = None
    field: str | None = None  # engine facts per Phụ lục 4 field (lĩnh vực)
    # documents_issued only: the document types counted (codes: CV, KH, QĐ …; default all) and
    # the span: the reporting period, or the year up to the cut-off ("lũy kế").
    document_types: list[str] | None = None
    span: Literal["period", "year"] | None = None
    ratio: tuple[str, str] | None = None
    sum: list[str] | None = None
    levels: list[Level] = list(ALL_LEVELS)
    at_most: str | None = None

    @property
    def value_kind(self) -> ValueKind:
        if self.value is not None:
            return self.value
        return "percent" if self.ratio is not None else "count"

    def applies_to(self, level: Level) -> bool:
        return level in self.levels

    @model_validator(mode="after")
    def _kind_fields(self) -> Indicator:
        problems: list[tuple[Loc, str, str]] = []

        def need(ok: bool, loc: str, vi: str, en: str) -> None:
            if not ok:
                problems.append(((loc,), vi, en))

        need(self.kind != "engine" or self.source is not None, "source",
             "chỉ tiêu tính từ hệ thống (kind: engine) phải có 'source'",
             "an engine indicator needs a source")
        need(self.kind == "engine" or self.source is None, "source",
             "chỉ chỉ tiêu kind: engine mới có 'source'", "only engine indicators have a source")
        need(self.kind != "formula" or (self.ratio is None) != (self.sum is None), "kind",
             "chỉ tiêu công thức (kind: formula) phải có đúng một trong 'ratio' hoặc 'sum'",
             "a formula needs exactly one of ratio or sum")
        need(self.kind == "formula" or (self.ratio is None and self.sum is None), "kind",
             "chỉ chỉ tiêu kind: formula mới có 'ratio' hoặc 'sum'",
             "only formula indicators have ratio or sum")
        documents = self.source == "documents_issued"
        need(documents or self.document_types is None, "document_types",
             "'document_types' chỉ dùng cho chỉ tiêu source: documents_issued",
             "document_types is for documents_issued")
        unknown = sorted(set(self.document_types or []) - _DOCUMENT_CODES)
        need(not unknown, "document_types",
             f"loại văn bản không có: {', '.join(unknown)} (dùng ký hiệu CV, KH, QĐ, KL, CT …)",
             f"unknown document types {unknown}")
        need(documents or self.span is None, "span",
             "'span' chỉ dùng cho chỉ tiêu source: documents_issued",
             "span is for documents_issued")
        need(self.value != "choice" or bool(self.choices), "choices",
             "chỉ tiêu lựa chọn (value: choice) phải liệt kê 'choices'",
             "a choice indicator needs choices")
        need(self.kind == "input" or self.at_most is None, "at_most",
             "'at_most' chỉ dùng cho chỉ tiêu nhập (kind: input)", "at_most is for inputs")
        need(bool(self.levels), "levels", "'levels' không được để trống", "levels is empty")
        if problems:
            raise SpecProblems(problems)
        return self


class IndicatorGroup(_Strict):
    code: str = Field(pattern=r"^[0-9]+$")
    stt: str
    label: str
    indicators: list[Indicator]


class IndicatorSet(_Strict):
    schema_version: Literal[1]
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    version: str
    title: str
    source: str = ""
    groups: list[IndicatorGroup]
    content_hash: str = ""  # set by the loader from the file text

    def all(self) -> list[Indicator]:
        return [i for g in self.groups for i in g.indicators]

    def by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.all()}

    def group_of(self, code: str) -> IndicatorGroup:
        return next(g for g in self.groups if any(i.code == code for i in g.indicators))

    @model_validator(mode="after")
    def _references(self) -> IndicatorSet:
        problems: list[tuple[Loc, str, str]] = []
        places: dict[str, Loc] = {}
        for gi, g in enumerate(self.groups):
            for ii, ind in enumerate(g.indicators):
                loc: Loc = ("groups", gi, "indicators", ii)
                if ind.code in places:
                    problems.append(((*loc, "code"), f"mã chỉ tiêu '{ind.code}' bị trùng",
                                     f"duplicate indicator code {ind.code}"))
                places[ind.code] = loc
                if not ind.code.startswith(g.code + ".") and ind.code != g.code:
                    problems.append(((*loc, "code"),
                                     f"mã '{ind.code}' không thuộc nhóm {g.code}",
                                     f"code {ind.code} is outside group {g.code}"))
        kinds = {i.code: i.kind for i in self.all()}
        for ind in self.all():
            loc = places[ind.code]
            refs = [("ratio", r) for r in (ind.ratio or ())] + [("sum", r) for r in ind.sum or []]
            if ind.at_most:
                refs.append(("at_most", ind.at_most))
            for key, ref in refs:
                if ref not in kinds:
                    problems.append(((*loc, key), f"chỉ tiêu '{ref}' không có trong bộ chỉ tiêu",
                                     f"unknown indicator {ref}"))
                elif kinds[ref] == "heading":
                    problems.append(((*loc, key),
                                     f"'{ref}' là dòng tiêu đề, không có số liệu để tính",
                                     f"{ref} is a heading"))
        if not problems:
            problems.extend(_cycles(self, places))
        if problems:
            raise SpecProblems(problems)
        return self


def _cycles(iset: IndicatorSet, places: dict[str, Loc]) -> list[tuple[Loc, str, str]]:
    deps = {i.code: [*(i.ratio or ()), *(i.sum or [])] for i in iset.all()}
    state: dict[str, int] = {}
    out: list[tuple[Loc, str, str]] = []

    def visit(code: str, path: list[str]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            loop = " → ".join([*path[path.index(code):], code])
            out.append(((*places[code], "kind"), f"công thức lặp vòng: {loop}",
                        f"formula loop: {loop}"))
            return
        state[code] = 1
        for d in deps[code]:
            visit(d, [*path, code])
        state[code] = 2

    for code in deps:
        if not out:
            visit(code, [])
    return out


def evaluation_order(iset: IndicatorSet) -> list[Indicator]:
    """Indicators with every formula after the rows it reads (the file is loop-free)."""
    by = iset.by_code()
    done: set[str] = set()
    out: list[Indicator] = []

    def add(ind: Indicator) -> None:
        if ind.code in done:
            return
        done.add(ind.code)
        for ref in [*(ind.ratio or ()), *(ind.sum or [])]:
            add(by[ref])
        out.append(ind)

    for ind in iset.all():
        add(ind)
    return out


def load_indicator_set(path: Path = DEFAULT_SET) -> IndicatorSet:
    """Read and validate an indicator set file; DataFileError names file, line and reason."""
    text = read_text(path)
    iset = parse_model(IndicatorSet, text, str(path))
    return iset.model_copy(update={"content_hash": content_hash(text)})


@cache
def default_indicator_set() -> IndicatorSet:
    return load_indicator_set(DEFAULT_SET)
