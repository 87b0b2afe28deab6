"""Reports a unit owes an upper body (báo cáo chuyên đề/định kỳ), one row per report due.

Why one row per occurrence: "the six-monthly report of Kế hoạch 140" is two reports, due
15/06 and 15/12, each sent (or not) on its own date with its own document number. Each row
(`obligation_dues`) runs through `workflows/obligation.yaml` on the same `WorkflowMachine` as
tasks, with the same discipline as `engine.domain.tasks`: validate everything first (the report's
document reference like any evidence), then compare-and-set the version, and append an
`obligation_history` row in the same transaction. A refused command writes nothing.

Period keys: `2023` (once, yearly), `2023-H1`/`2023-H2`, `2023-Q1`…`2023-Q4`, `2023-01`…`2023-12`.
A recurring report's `due_months` lists, period by period, the month its report is due
(defaults: June/December, the quarter's last month, every month, December); `due_day` beyond
the month's end means its last day (31 → 30/06).
"""

from __future__ import annotations

import calendar as _cal
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import model_validator
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.directory.units import get_unit
from engine.domain.choices import resolve_choice
from engine.domain.documents import DocumentRef
from engine.domain.evidence import register_documents
from engine.domain.free_text import check_length
from engine.domain.tasks import Actor, parse_evidence
from engine.domain.timeliness import effective_due
from engine.domain.workflow.machine import Command, WorkflowMachine
from engine.errors import Conflict, Forbidden, NotFound, ValidationFailed
from engine.runtime import Runtime
from engine.storage.database import scope_memo
from engine.storage.models import Obligation, ObligationDue, ObligationHistory, Unit
from engine.storage.rows import plain_rows
from engine.storage.versioning import check_version, compare_and_set
from plans import ObligationsFile, ObligationSpec, load_model
from plans.errors import Loc, SpecProblems
from vntext.dates import format_date_vi
from vntext.text import nfc
from workflows import load_workflow

WORKFLOW = "obligation"
#: The only state reminders are planned for.
PENDING = "pending"
CANCELLED = "cancelled"
SYSTEM = Actor("hệ thống", "system")
#: Document types a report may be sent as: the report itself, or a Công văn (the seed's own
#: "UBND xã báo cáo kết quả … (Công văn số 910/UBND)").
REPORT_TYPES = {"BC": "Báo cáo", "CV": "Công văn"}

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_PERIODS = {"once": 1, "yearly": 1, "six_monthly": 2, "quarterly": 4, "monthly": 12}
_DEFAULT_MONTHS = {
    "yearly": [12], "six_monthly": [6, 12], "quarterly": [3, 6, 9, 12],
    "monthly": list(range(1, 13)),
}


@functools.cache
def obligation_machine() -> WorkflowMachine:
    """The one shared machine running `workflows/obligation.yaml`."""
    machine = WorkflowMachine(load_workflow(WORKFLOW))
    names = machine.definition.state_names
    assert machine.initial == PENDING and CANCELLED in names, "obligation.yaml changed shape"
    return machine


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date
    due_on: date

    @property
    def label_vi(self) -> str:
        return period_label(self.key)


def period_label(key: str) -> str:
    """"năm 2023", "6 tháng đầu năm 2023", "Quý III năm 2023", "tháng 7 năm 2023"."""
    year, _, part = key.partition("-")
    if not part:
        return f"năm {year}"
    if part == "H1":
        return f"6 tháng đầu năm {year}"
    if part == "H2":
        return f"6 tháng cuối năm {year}"
    if part.startswith("Q"):
        return f"Quý {_ROMAN[int(part[1:])]} năm {year}"
    return f"tháng {int(part)} năm {year}"


def period_start(key: str) -> date:
    year, _, part = key.partition("-")
    y = int(year)
    if not part:
        return date(y, 1, 1)
    if part.startswith("H"):
        return date(y, 1 if part == "H1" else 7, 1)
    if part.startswith("Q"):
        return date(y, 3 * int(part[1:]) - 2, 1)
    return date(y, int(part), 1)


def _day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, _cal.monthrange(year, month)[1]))


def expand(spec: ObligationSpec, year: int) -> list[Period]:
    """Every report the obligation asks for in `year`, with its due date."""
    if spec.schedule == "once":
        assert spec.due is not None
        return [Period(str(year), date(year, 1, 1), date(year, 12, 31), spec.due)]
    months = spec.due_months or _DEFAULT_MONTHS[spec.schedule]
    assert spec.due_day is not None
    out = []
    for i, month in enumerate(months, start=1):
        if spec.schedule == "yearly":
            key, start, end = str(year), date(year, 1, 1), date(year, 12, 31)
        elif spec.schedule == "six_monthly":
            key = f"{year}-H{i}"
            start = date(year, 1 if i == 1 else 7, 1)
            end = date(year, 6, 30) if i == 1 else date(year, 12, 31)
        elif spec.schedule == "quarterly":
            key = f"{year}-Q{i}"
            start = date(year, 3 * i - 2, 1)
            end = _day(year, 3 * i, 31)
        else:
            key, start, end = f"{year}-{i:02d}", date(year, i, 1), _day(year, i, 31)
        out.append(Period(key, start, end, _day(year, month, spec.due_day)))
    return out


def _first_month(periods: int, index: int) -> int:
    """The first month of the `index`-th (0-based) period of a year cut in `periods`."""
    return 1 + index * (12 // periods)


class CheckedObligationsFile(ObligationsFile):
    """`ObligationsFile` plus the checks expansion needs, each at its place in the file."""

    @model_validator(mode="after")
    def _expandable(self) -> CheckedObligationsFile:
        problems: list[tuple[Loc, str, str]] = []
        first: dict[str, int] = {}
        for i, o in enumerate(self.obligations):
            at: Loc = ("obligations", i)
            if o.id in first:
                problems.append(((*at, "id"), f"mã báo cáo '{o.id}' bị trùng (đã dùng ở "
                                 f"obligations[{first[o.id]}])",
                                 f"duplicate obligation id '{o.id}'"))
            first.setdefault(o.id, i)
            if o.schedule == "once":
                if o.due_months or o.due_day is not None:
                    problems.append((at, "báo cáo một lần chỉ ghi 'due', không ghi 'due_day', "
                                     "'due_months'", "a one-off report takes 'due' only"))
                if o.due is not None and o.due.year not in (self.year, self.year + 1):
                    problems.append(((*at, "due"), f"hạn {format_date_vi(o.due)} không thuộc năm "
                                     f"{self.year} (hoặc đầu năm sau)",
                                     f"due date is not in {self.year} or early next year"))
                continue
            if o.due is not None:
                problems.append(((*at, "due"), "báo cáo định kỳ ghi 'due_day' (và 'due_months'), "
                                 "không ghi 'due'",
                                 "a recurring report takes due_day/due_months, not due"))
            n = _PERIODS[o.schedule]
            months = o.due_months
            if months and len(months) != n:
                problems.append(((*at, "due_months"), f"báo cáo {o.schedule} cần đúng {n} tháng "
                                 f"(mỗi kỳ một tháng), có {len(months)}",
                                 f"a {o.schedule} report needs {n} months, got {len(months)}"))
                continue
            for j, m in enumerate(months):
                if j and m <= months[j - 1]:
                    problems.append(((*at, "due_months", j), "các tháng phải tăng dần",
                                     "months must increase"))
                first_month = _first_month(n, j)
                if m < first_month:
                    problems.append(((*at, "due_months", j),
                                     f"kỳ thứ {j + 1} bắt đầu tháng {first_month}, không thể "
                                     f"có hạn báo cáo tháng {m}",
                                     f"period {j + 1} starts in month {first_month}; its report "
                                     f"cannot be due in month {m}"))
        if problems:
            raise SpecProblems(problems)
        return self


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class ObligationDueView:
    id: int
    unit: str
    code: str
    title: str
    source_plan: str
    recipient: str
    schedule: str
    period_key: str
    period_label: str
    due_on: date
    owner: str | None
    state: str
    state_label: str
    report_doc: str | None
    submitted_on: date | None
    overdue: bool
    version: int
    link: str


@dataclass(frozen=True)
class ObligationLoad:
    unit: str
    source: str
    obligations: int
    created: int  # new occurrence rows
    rescheduled: int
    cancelled: int
    restored: int
    retired: int  # obligations no longer in the file
    unchanged: int


@dataclass(frozen=True)
class ObligationChange:
    unit: str
    code: str
    period_key: str
    event: str
    from_state: str
    to_state: str
    version: int
    effective_on: date
    late: bool = False
    document: str | None = None
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ObligationHistoryEntry:
    seq: int
    event: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    effective_on: date
    note: str | None
    evidence: list[dict[str, str]]


def due_link(unit_slug: str, due_id: int) -> str:
    return f"/units/{unit_slug}/obligations/{due_id}"


# ---------------------------------------------------------------- writing


def _bump(session: Session, due: ObligationDue, expected: int, values: dict[str, object],
          label: str) -> int:
    """Compare-and-set on the version column: the only way an occurrence row changes."""
    current = compare_and_set(session, ObligationDue, due.id, expected, values)
    if current is not None:
        raise Conflict(
            f"Báo cáo {label} vừa được người khác cập nhật (phiên bản {current}); hãy tải lại "
            "rồi thử lại",
            f"obligation {label} was updated concurrently (now v{current}); reload and retry",
            field="version",
        )
    return expected + 1


def _history(session: Session, due: ObligationDue, version: int, event: str, from_state: str,
             to_state: str, actor: Actor, rt: Runtime, effective_on: date,
             note: str | None = None, evidence: list[dict[str, str]] | None = None) -> None:
    session.add(ObligationHistory(
        due_id=due.id, seq=version, event=event, from_state=from_state, to_state=to_state,
        actor=actor.name, role=actor.role, at=rt.now(), effective_on=effective_on, note=note,
        evidence=evidence or [],
    ))
    session.flush()


def _fire(rt: Runtime, session: Session, due: ObligationDue, trigger: str, actor: Actor,
          values: dict[str, object], label: str, *, note: str | None = None) -> int:
    """A system transition during a load (cancel/restore), with its history row."""
    new = obligation_machine().fire(due.state, Command(trigger, actor.name, actor.role,
                                                       note=note or ""))
    version = _bump(session, due, due.version, {"state": new, "updated_at": rt.now(), **values},
                    label)
    _history(session, due, version, trigger, due.state, new, actor, rt, rt.today(), note)
    return version


def load_obligations(rt: Runtime, unit: str, path: Path,
                     actor: Actor = SYSTEM) -> ObligationLoad:
    """Load an obligations file for one unit: one row per report due; idempotent.

    Reloading keeps every occurrence's state, document and history. A changed due date is
    rescheduled (new version + history row); an occurrence no longer in the file is cancelled
    (if still pending), one back in the file is restored; obligations missing from the file are
    retired.
    """
    data = load_model(CheckedObligationsFile, path)
    counts = dict.fromkeys(("created", "rescheduled", "cancelled", "restored", "retired",
                            "unchanged"), 0)
    with rt.db.transaction() as session:
        u = get_unit(session, unit)
        existing = {o.code: o for o in session.scalars(
            select(Obligation).where(Obligation.unit_id == u.id))}
        for spec in data.obligations:
            ob = existing.get(spec.id)
            if ob is None:
                ob = Obligation(unit_id=u.id, code=spec.id, created_at=rt.now())
                session.add(ob)
            ob.year = data.year
            ob.title = spec.title
            ob.source_plan = spec.source_plan
            ob.recipient = spec.recipient
            ob.owner = spec.owner
            ob.schedule = spec.schedule
            ob.spec = spec.model_dump(mode="json", exclude_none=True)
            ob.retired = False
            session.flush()
            _sync_dues(rt, session, ob, expand(spec, data.year), counts, actor)
        listed = {s.id for s in data.obligations}
        for code, ob in existing.items():
            if code not in listed and ob.year == data.year and not ob.retired:
                ob.retired = True
                counts["retired"] += 1
                _sync_dues(rt, session, ob, [], counts, actor)
    return ObligationLoad(unit=unit, source=str(path), obligations=len(data.obligations),
                          **counts)


def _sync_dues(rt: Runtime, session: Session, ob: Obligation, periods: list[Period],
               counts: dict[str, int], actor: Actor) -> None:
    dues = {d.period_key: d for d in session.scalars(
        select(ObligationDue).where(ObligationDue.obligation_id == ob.id))}
    machine = obligation_machine()
    for p in periods:
        label = f"{ob.code} {p.key}"
        due = dues.get(p.key)
        if due is None:
            session.add(ObligationDue(obligation_id=ob.id, period_key=p.key, due_on=p.due_on,
                                      state=machine.initial, version=1, updated_at=rt.now()))
            counts["created"] += 1
            continue
        changed = False
        if due.state == CANCELLED:
            version = _fire(rt, session, due, "restore", actor, {}, label,
                            note="Kỳ báo cáo có lại trong tệp")
            set_committed_value(due, "version", version)
            set_committed_value(due, "state", PENDING)
            counts["restored"] += 1
            changed = True
        if due.due_on != p.due_on:
            note = f"Hạn: {format_date_vi(due.due_on)} → {format_date_vi(p.due_on)}"
            version = _bump(session, due, due.version,
                            {"due_on": p.due_on, "updated_at": rt.now()}, label)
            _history(session, due, version, "reschedule", due.state, due.state, actor, rt,
                     rt.today(), note)
            set_committed_value(due, "version", version)
            set_committed_value(due, "due_on", p.due_on)
            counts["rescheduled"] += 1
            changed = True
        if not changed:
            counts["unchanged"] += 1
    keep = {p.key for p in periods}
    for key, due in dues.items():
        if key not in keep and due.state == PENDING:
            _fire(rt, session, due, "cancel", actor, {}, f"{ob.code} {key}",
                  note="Kỳ báo cáo không còn trong tệp")
            counts["cancelled"] += 1
    session.flush()


def _find(session: Session, unit: str, code: str, period_key: str
          ) -> tuple[Unit, Obligation, ObligationDue]:
    u = get_unit(session, unit)
    ob = session.scalar(select(Obligation).where(Obligation.unit_id == u.id,
                                                 Obligation.code == code))
    if ob is None:
        raise NotFound(f"Đơn vị '{unit}' không có báo cáo mã '{code}' (xem: cchc obligation "
                       f"list {unit})", f"obligation '{code}' not found", field="code",
                       value=code)
    due = session.scalar(select(ObligationDue).where(ObligationDue.obligation_id == ob.id,
                                                     ObligationDue.period_key == period_key))
    if due is None:
        keys = ", ".join(session.scalars(
            select(ObligationDue.period_key).where(ObligationDue.obligation_id == ob.id)
            .order_by(ObligationDue.due_on)))
        raise NotFound(f"Báo cáo '{code}' không có kỳ '{period_key}' (có: {keys})",
                       f"obligation '{code}' has no period '{period_key}'", field="period",
                       value=period_key)
    return u, ob, due


def _check_version(due: ObligationDue, expected: int | None, label: str) -> None:
    check_version(due.version, expected, f"Báo cáo {label}", f"obligation {label}")


def parse_report_document(doc: str, today: date) -> DocumentRef:
    """The reference of the report sent, checked like any evidence; Báo cáo or Công văn."""
    doc = nfc(doc or "")
    if not doc:
        raise ValidationFailed(
            "Phải ghi số, ngày của văn bản báo cáo đã gửi (ví dụ: Báo cáo số 1050/BC-UBND "
            "ngày 05/12/2023)",
            "the number and date of the report sent are required", field="doc")
    ref = parse_evidence([doc], today)[0]
    if ref.type_code not in REPORT_TYPES or ref.is_party or ref.is_legal:
        raise ValidationFailed(
            f"Văn bản '{doc}' là {ref.type_name}; báo cáo gửi cấp trên phải là Báo cáo hoặc "
            "Công văn (ví dụ: Báo cáo số 1050/BC-UBND ngày 05/12/2023)",
            f"document '{doc}' is a {ref.type_name}; a report is sent as a Báo cáo or a "
            "Công văn", field="doc", value=doc)
    return ref


def submit_obligation(
    rt: Runtime,
    unit: str,
    code: str,
    period_key: str,
    doc: str,
    actor: Actor,
    expected_version: int | None = None,
    *,
    note: str = "",
) -> ObligationChange:
    """Record the report sent for one occurrence: `submitted`, or `late` when the document's
    date is after the (effective) due date. The document's date is the submission date."""
    today = rt.today()
    ref = parse_report_document(doc, today)
    note = nfc(note)
    check_length(note, "note")
    machine = obligation_machine()
    label = f"{code} {period_key}"
    with rt.db.transaction() as session:
        u, _ob, due = _find(session, unit, code, period_key)
        _check_version(due, expected_version, label)
        if due.state == CANCELLED:
            raise Conflict(
                f"Kỳ báo cáo {label} đã bỏ (không còn trong tệp báo cáo của đơn vị)",
                f"obligation {label} is cancelled (no longer in the unit's file)",
                field="state")
        if due.state != PENDING:
            shown = machine.definition.label(due.state)
            sent = (f" ({due.report_doc})" if due.report_doc else "")
            raise Conflict(
                f"Báo cáo {label} đang ở trạng thái '{shown}'{sent}; lãnh đạo phải mở lại trước "
                "khi ghi lại",
                f"obligation {label} is '{due.state}'; a leader must reopen it first",
                field="state")
        start = period_start(period_key)
        if ref.issued_on < start:
            raise ValidationFailed(
                f"Văn bản ngày {format_date_vi(ref.issued_on)} có trước kỳ báo cáo "
                f"{period_label(period_key)} (từ {format_date_vi(start)})",
                f"the document is dated before the period it reports on (from {start})",
                field="doc", value=doc)
        deadline = effective_due(due.due_on, rt.calendar)
        assert deadline is not None
        late = ref.issued_on > deadline
        trigger = "submit_late" if late else "submit"
        new = machine.fire(due.state, Command(trigger, actor.name, actor.role, evidence=[ref],
                                              note=note))
        docs = register_documents(session, u, [ref], rt.now())
        rendered = ref.render()
        version = _bump(session, due, due.version,
                        {"state": new, "report_doc": rendered, "submitted_on": ref.issued_on,
                         "updated_at": rt.now()}, label)
        _history(session, due, version, trigger, due.state, new, actor, rt, ref.issued_on,
                 note or None, [{"ref": rendered, "no": ref.render_number(),
                                 "on": ref.issued_on.isoformat()}])
        return ObligationChange(unit, code, period_key, trigger, due.state, new, version,
                                ref.issued_on, late, rendered, [d.rendered for d in docs])


def reopen_obligation(rt: Runtime, unit: str, code: str, period_key: str, reason: str,
                      actor: Actor, expected_version: int | None = None) -> ObligationChange:
    """A leader takes back a submission (wrong document, report refused): pending again."""
    reason = nfc(reason)
    check_length(reason, "note")
    label = f"{code} {period_key}"
    with rt.db.transaction() as session:
        _u, _ob, due = _find(session, unit, code, period_key)
        _check_version(due, expected_version, label)
        new = obligation_machine().fire(due.state, Command("reopen", actor.name, actor.role,
                                                           note=reason))
        version = _bump(session, due, due.version,
                        {"state": new, "report_doc": None, "submitted_on": None,
                         "updated_at": rt.now()}, label)
        _history(session, due, version, "reopen", due.state, new, actor, rt, rt.today(),
                 reason)
        return ObligationChange(unit, code, period_key, "reopen", due.state, new, version,
                                rt.today())


def assign_obligation(rt: Runtime, unit: str, code: str, period_key: str, owner: str,
                      actor: Actor, expected_version: int | None = None) -> ObligationChange:
    """Give one occurrence another person in charge (a title or a name); leaders only."""
    owner = nfc(owner)
    if not owner:
        raise ValidationFailed("Phải ghi người/bộ phận phụ trách", "owner is required",
                               field="owner")
    if actor.role not in ("leader", "admin", "system"):
        raise Forbidden("Chỉ lãnh đạo UBND được phân công", "only a leader may assign",
                        field="role")
    label = f"{code} {period_key}"
    with rt.db.transaction() as session:
        _u, _ob, due = _find(session, unit, code, period_key)
        _check_version(due, expected_version, label)
        version = _bump(session, due, due.version, {"owner": owner, "updated_at": rt.now()},
                        label)
        _history(session, due, version, "assign", due.state, due.state, actor, rt, rt.today(),
                 f"Phân công: {owner}")
        return ObligationChange(unit, code, period_key, "assign", due.state, due.state,
                                version, rt.today())


# ---------------------------------------------------------------- reading


@functools.cache
def _dues_query(year: bool, state: bool, code: bool, include_retired: bool
                ) -> Select[*tuple[Any, ...]]:
    """`list_obligation_dues`'s statement for the filters given (plain columns, built once
    per combination)."""
    q = (select(ObligationDue.id, ObligationDue.period_key, ObligationDue.due_on,
                ObligationDue.owner, ObligationDue.state, ObligationDue.report_doc,
                ObligationDue.submitted_on, ObligationDue.version, Obligation.code,
                Obligation.title, Obligation.source_plan, Obligation.recipient,
                Obligation.schedule, Obligation.owner)
         .join(Obligation, Obligation.id == ObligationDue.obligation_id)
         .where(Obligation.unit_id == bindparam("unit"))
         .order_by(ObligationDue.due_on, Obligation.code, ObligationDue.period_key))
    if year:
        q = q.where(Obligation.year == bindparam("year"))
    if state:
        q = q.where(ObligationDue.state == bindparam("state"))
    if code:
        q = q.where(Obligation.code == bindparam("code"))
    if not include_retired:
        q = q.where(Obligation.retired.is_(False))
    return q


def past_due(due_on: date, today: date, rt: Runtime) -> bool:
    """Whether an occurrence due `due_on` is late `today`: its (effective) due date, moved to
    the next working day if it is a day off, has passed. Pending ones only are "overdue"."""
    deadline = effective_due(due_on, rt.calendar)
    assert deadline is not None
    return today > deadline


#: The due dates of a unit's pending occurrences (of obligations in force): what counting
#: its overdue sub-reports reads (parameter `unit`, the unit's id), for another read to run
#: as part of its own (`engine.reporting.menu`).
PENDING_DUE_DATES = (select(ObligationDue.due_on)
                     .join(Obligation, Obligation.id == ObligationDue.obligation_id)
                     .where(Obligation.unit_id == bindparam("unit"),
                            ObligationDue.state == PENDING, Obligation.retired.is_(False)))


def list_obligation_dues(
    rt: Runtime,
    unit: str,
    *,
    year: int | None = None,
    state: str | None = None,
    code: str | None = None,
    include_retired: bool = False,
) -> list[ObligationDueView]:
    """The unit's report occurrences in due-date order, with their state as of today."""
    machine = obligation_machine()
    if state is not None:
        state = resolve_choice(state, machine.definition.state_labels, field="state",
                               what_vi="Trạng thái", what_en="obligation state")
    today = rt.today()
    with rt.db.read() as session:
        def load() -> list[ObligationDueView]:
            u = get_unit(session, unit)
            params: dict[str, object] = {"unit": u.id, "year": year, "state": state,
                                         "code": code}
            rows = plain_rows(session.connection(), _dues_query(
                year is not None, state is not None, code is not None, include_retired), params)
            label_of = machine.definition.label
            out = []
            for (due_id, period_key, due_on, due_owner, due_state, report_doc, submitted_on,
                 version, ob_code, title, source_plan, recipient, schedule, ob_owner) in rows:
                out.append(ObligationDueView(
                    id=due_id, unit=u.slug, code=ob_code, title=title,
                    source_plan=source_plan, recipient=recipient, schedule=schedule,
                    period_key=period_key, period_label=period_label(period_key),
                    due_on=due_on, owner=due_owner or ob_owner, state=due_state,
                    state_label=label_of(due_state), report_doc=report_doc,
                    submitted_on=submitted_on,
                    overdue=due_state == PENDING and past_due(due_on, today, rt),
                    version=version, link=due_link(u.slug, due_id)))
            return out

        key = ("dues", unit, year, state, code, include_retired)
        return list(scope_memo(session, key, load))  # once per web request


def obligation_history(rt: Runtime, unit: str, code: str, period_key: str
                       ) -> list[ObligationHistoryEntry]:
    with rt.db.read() as session:
        _u, _ob, due = _find(session, unit, code, period_key)
        rows = session.scalars(select(ObligationHistory)
                               .where(ObligationHistory.due_id == due.id)
                               .order_by(ObligationHistory.seq))
        return [ObligationHistoryEntry(r.seq, r.event, r.from_state, r.to_state, r.actor,
                                       r.role, r.effective_on, r.note, list(r.evidence or []))
                for r in rows]


def replay_state(entries: Sequence[ObligationHistoryEntry]) -> str:
    """The state an occurrence's history leads to (tests compare it with the stored one)."""
    state = obligation_machine().initial
    for e in entries:
        if e.from_state is not None and e.from_state != state:
            raise AssertionError(f"history broken at seq {e.seq}: {e.from_state} != {state}")
        state = e.to_state
    return state


__all__ = [
    "PENDING_DUE_DATES",
    "REPORT_TYPES",
    "CheckedObligationsFile",
    "ObligationChange",
    "ObligationDueView",
    "ObligationHistoryEntry",
    "ObligationLoad",
    "Period",
    "assign_obligation",
    "due_link",
    "expand",
    "list_obligation_dues",
    "load_obligations",
    "obligation_history",
    "obligation_machine",
    "parse_report_document",
    "past_due",
    "period_label",
    "period_start",
    "reopen_obligation",
    "replay_state",
    "submit_obligation",
]
