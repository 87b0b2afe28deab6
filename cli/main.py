"""The `cchc` command: Vietnamese for officers, `--json` for scripts.

Why thin: every command parses its arguments, calls one engine function and prints the result;
the rules live in the engine so the web app and the CLI always agree.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from cli.collector import hold_collector
from cli.lazy import lazy
from cli.output import console, emit_json, err_console, fail, vn_time
from cli.session import session
from cli.vietnamese import (
    AtOpt,
    ByOpt,
    CodeArg,
    DbOpt,
    JsonOpt,
    OccurrenceOpt,
    PlanArg,
    RoleOpt,
    UnitArg,
    VersionOpt,
    role_code,
    vi_typer,
)
from engine import directory, domain, reporting
from engine.domain import resolve_choice
from engine.errors import CchcError
from plans.errors import DataFileError
from vntext.dates import format_date_vi, parse_dmy

if TYPE_CHECKING:
    from engine import api, logging_setup, runtime
    from engine.reporting import Finding
    from engine.runtime import Runtime
else:
    api = lazy("engine.api")
    logging_setup = lazy("engine.logging_setup")
    runtime = lazy("engine.runtime")

_app = vi_typer("cchc — theo dõi kế hoạch cải cách hành chính cấp xã")
db_app = vi_typer("Cơ sở dữ liệu")
unit_app = vi_typer("Đơn vị (xã, phường, thành phố, tỉnh)")
plan_app = vi_typer("Kế hoạch")
task_app = vi_typer("Nhiệm vụ")
report_app = vi_typer("Báo cáo quý: chốt số liệu, xuất phụ lục, kiểm tra")
_app.add_typer(db_app, name="db")
_app.add_typer(unit_app, name="unit")
_app.add_typer(plan_app, name="plan")
_app.add_typer(task_app, name="task")
_app.add_typer(report_app, name="report")
#: What this module defines (the groups above, `demo`): `cchc task …` needs no other module.
_OWN_NAMES = frozenset({"db", "unit", "plan", "task", "report", "demo"})
_others_added = False


def _add_the_other_groups() -> None:
    """The groups and commands the other `cli` modules define, added to the app once: when
    `app` is asked for (tests, scripts), or when the command is not one of this module's
    (`cchc outbox …`, `cchc --help`, a typo). `cchc task list` does without them (start time,
    issue 13)."""
    global _others_added
    if _others_added:
        return
    _others_added = True
    from cli.outbox import outbox_app, run_once_command, scheduler_app  # lazy: see above
    from cli.reminders import obligation_app, people_app, reminders_app  # lazy: see above
    from cli.stats import stats_app  # lazy: see above
    from cli.web import serve as web_serve  # lazy: see above
    from cli.web import user_app as web_user_app  # lazy: see above
    from cli.zalo import zalo_app  # lazy: see above

    _app.add_typer(web_user_app, name="user")  # cli/web.py: web logins, API tokens
    own_commands, _app.registered_commands = _app.registered_commands, []
    _app.command("serve")(web_serve)  # cli/web.py: the web app under uvicorn (before `demo`)
    _app.registered_commands += own_commands
    _app.add_typer(people_app, name="people")  # cli/reminders.py: who reminders reach
    _app.add_typer(obligation_app, name="obligation")  # cli/reminders.py: sub-reports owed
    _app.add_typer(reminders_app, name="reminders")  # cli/reminders.py: preview, rules
    reminders_app.command("run-once")(run_once_command)  # cli/outbox.py: one sweep + dispatch
    _app.add_typer(outbox_app, name="outbox")  # cli/outbox.py: reminder log, retry
    _app.add_typer(scheduler_app, name="scheduler")  # cli/outbox.py: the long-running timer
    _app.add_typer(zalo_app, name="zalo")  # cli/zalo.py: the OA's tokens (authorize, status)
    _app.add_typer(stats_app, name="stats")  # cli/stats.py: Phụ lục 4–6 statistics


if TYPE_CHECKING:
    app = _app  # the whole `cchc` app: every group and command (`__getattr__` below)


def __getattr__(name: str) -> Any:
    """`app`: the whole `cchc` app, its other modules' groups added on first use."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _add_the_other_groups()
    globals()["app"] = _app
    return _app

T = TypeVar("T")




def _parse_day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return parse_dmy(value)
    except ValueError:
        raise CchcError(f"Ngày '{value}' phải có dạng dd/mm/yyyy và có thật",
                        f"{field} must be a real dd/mm/yyyy date", field=field) from None


# ---------------------------------------------------------------- db, units, plans


@db_app.command("init")
def db_init(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu lên phiên bản mới nhất."""
    with session(json_, db) as rt:
        rev = rt.db.current_revision()
        if json_:
            emit_json({"database": rt.db.url, "revision": rev})
        else:
            console.print(f"Cơ sở dữ liệu sẵn sàng ({rt.db.dialect}, phiên bản {rev}).")


@unit_app.command("load")
def unit_load(file: Annotated[Path, typer.Argument(metavar="TỆP", help="Tệp units.yaml")],
              db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Nạp danh sách đơn vị từ tệp YAML (units.yaml)."""
    with session(json_, db) as rt:
        units = api.load_units_file(rt, file)
        if json_:
            emit_json(units)
        else:
            console.print(f"Đã nạp {len(units)} đơn vị.")


@unit_app.command("add")
def unit_add(
    slug: UnitArg,
    name: Annotated[str, typer.Option(help="Tên, ví dụ 'Vĩnh Thạnh'")],
    kind: Annotated[str, typer.Option(help="xã, phường, thị trấn, thành phố, tỉnh…")] = "xã",
    parent: Annotated[str | None, typer.Option(help="Mã đơn vị cấp trên")] = None,
    cutoff_day: Annotated[int | None, typer.Option(help="Ngày chốt số liệu (mặc định 14)")] = None,
    leader: Annotated[str | None, typer.Option(help="Chủ tịch UBND")] = None,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Thêm hoặc sửa một đơn vị."""
    with session(json_, db) as rt:
        units = api.add_unit(rt, slug=slug, name=name, kind=kind, parent=parent,
                             report_cutoff_day=cutoff_day, leader=leader)
        emit_json(units) if json_ else console.print(f"Đã lưu đơn vị {units[0].display}.")


@unit_app.command("list")
def unit_list(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Danh sách đơn vị."""
    with session(json_, db) as rt:
        units = api.list_units(rt)
        if json_:
            emit_json(units)
            return
        table = Table("Mã", "Đơn vị", "Cấp trên", "Ngày chốt")
        for u in units:
            table.add_row(u.slug, u.display, u.parent_slug or "", str(u.cutoff_day))
        console.print(table)


@plan_app.command("load")
def plan_load(
    file: Annotated[list[Path], typer.Option("--file", "-f", metavar="TỆP",
                                             help="Tệp kế hoạch YAML (lặp lại cho nhiều tệp)")],
    unit: Annotated[list[str] | None, typer.Argument(
        metavar="ĐƠN_VỊ",
        help="Mã đơn vị được giao (khung chung); kế hoạch riêng có 'owner' thì bỏ trống")] = None,
    allow_other_units: Annotated[bool, typer.Option(
        "--allow-other-units", help="Cho phép sửa khung chung đang dùng ở đơn vị khác")] = False,
    allow_drop: Annotated[bool, typer.Option(
        "--allow-drop", help="Cho phép bỏ nhiệm vụ đã có cập nhật (lịch sử vẫn giữ)")] = False,
    at: AtOpt = None, db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Nạp kế hoạch (nạp lại giữ nguyên trạng thái các nhiệm vụ); báo từng đơn vị thay đổi gì."""
    with session(json_, db, at) as rt:
        loaded = api.load_plans(rt, unit or [], file, allow_other_units=allow_other_units,
                                allow_drop_state=allow_drop)
        if json_:
            emit_json(loaded)
            return
        for p in loaded:
            scope = "kế hoạch riêng" if p.scope == "unit" else "khung chung"
            change = "cập nhật" if p.changed else "không đổi"
            console.print(f"Kế hoạch {p.plan_id} ({scope}): {p.tasks} nhiệm vụ ({change}), "
                          f"{p.units} đơn vị.")
            table = Table("Đơn vị", "Thêm mới", "Sửa", "Giữ nguyên", "Bỏ")
            for u in p.per_unit:
                table.add_row(u.unit, str(u.created), str(u.changed), str(u.unchanged),
                              str(u.retired))
            console.print(table)
            for w in p.warnings:
                console.print(f"[yellow]Cảnh báo:[/] {escape(w)}", markup=True)


@plan_app.command("rollover")
def plan_rollover(
    plan: Annotated[str, typer.Argument(metavar="KẾ_HOẠCH",
                                        help="Kế hoạch năm nay, ví dụ cchc-2026")],
    unit: Annotated[str | None, typer.Argument(
        metavar="ĐƠN_VỊ",
        help="Đơn vị có kế hoạch riêng này (bỏ trống nếu là khung chung)")] = None,
    year: Annotated[int, typer.Option(metavar="NĂM", help="Năm của kế hoạch mới")] = 0,
    issued_by: Annotated[str, typer.Option(
        "--issued-by", help="Văn bản ban hành kế hoạch mới, ví dụ 'Kế hoạch số 5/KH-UBND "
        "ngày 10/01/2027'")] = "",
    new_id: Annotated[str | None, typer.Option("--id", help="Mã kế hoạch mới")] = None,
    carry: Annotated[list[str] | None, typer.Option(
        "--carry", help="Mã nhiệm vụ chưa xong được chuyển tiếp (lặp lại cho nhiều nhiệm vụ)")
    ] = None,
    out: Annotated[Path, typer.Option(help="Thư mục ghi tệp kế hoạch mới")] = Path("plans/new"),
    at: AtOpt = None, db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Tạo kế hoạch năm sau từ kế hoạch năm nay (dời năm, văn bản mới) và chuyển tiếp nhiệm vụ."""
    with session(json_, db, at) as rt:
        if not year or not issued_by:
            raise CchcError("Phải nêu --year và --issued-by", "--year and --issued-by are "
                            "required", field="year" if not year else "issued_by")
        res = domain.roll_over(rt, unit, plan, year=year, issued_by=issued_by, out_dir=out,
                               new_id=new_id, carry=carry or [])
        if json_:
            emit_json(res)
            return
        console.print(f"Đã tạo kế hoạch {res.loaded.plan_id} từ {res.source_plan} "
                      f"({res.loaded.tasks} nhiệm vụ, {res.loaded.units} đơn vị); tệp: {res.file}")
        for c in res.carried:
            console.print(f"Chuyển tiếp: {c}")
        for w in res.loaded.warnings:
            console.print(f"[yellow]Cảnh báo:[/] {escape(w)}", markup=True)


@plan_app.command("list")
def plan_list(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Các kế hoạch đã nạp."""
    with session(json_, db) as rt:
        plans = api.list_plans(rt)
        if json_:
            emit_json(plans)
            return
        table = Table("Mã", "Phụ lục", "Kế hoạch", "Ban hành theo", "Số nhiệm vụ")
        for p in plans:
            table.add_row(p["id"], str(p["appendix"]), p["title"], p["issued_by"],
                          str(p["tasks"]))
        console.print(table)


# ---------------------------------------------------------------- tasks


@task_app.command("list")
def task_list(
    unit: UnitArg,
    plan: Annotated[str | None, typer.Option(help="Mã kế hoạch, ví dụ cchc-2023")] = None,
    section: Annotated[str | None, typer.Option(help="Mục, ví dụ II hoặc 1.2")] = None,
    owner: Annotated[str | None, typer.Option(help="Người phụ trách (không cần dấu)")] = None,
    state: Annotated[str | None, typer.Option(
        metavar="TRẠNG_THÁI", help="Trạng thái, ví dụ 'Đã thực hiện' hoặc 'chờ cấp trên' "
        "(tên trạng thái, không cần dấu, hay mã của nó)")] = None,
    overdue: Annotated[bool, typer.Option(help="Chỉ nhiệm vụ quá hạn")] = False,
    search: Annotated[str | None, typer.Option(help="Tìm theo nội dung (không cần dấu)")] = None,
    ky: Annotated[str | None, typer.Option(
        "--ky", metavar="KỲ", help="Nhiệm vụ lặp lại: xem kỳ này (2026-Q1, 2026-M03 …); mặc "
        "định kỳ hiện tại, cùng các kỳ trước còn quá hạn")] = None,
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Danh sách nhiệm vụ, có lọc."""
    with session(json_, db, at) as rt:
        views = api.list_tasks(rt, unit, plan=plan, section=section, owner=owner, state=state,
                               overdue=overdue, search=search,
                               at=api.occurrence_end(ky) if ky else None)
        if json_:
            emit_json(views)
            return
        table = Table("Kế hoạch", "Mã", "Nhiệm vụ", "Trạng thái", "Phụ trách", "Hạn",
                      show_lines=False)
        for v in views:
            text = v.text.split("\n")[0]
            table.add_row(v.plan, _code(v.code, v.occurrence),
                          text[:70] + ("…" if len(text) > 70 else ""),
                          v.state_label, v.owner or "", v.deadline or "")
        console.print(table)
        console.print(f"{len(views)} nhiệm vụ.")


def _actor(by: str, role: str) -> api.Actor:
    return api.Actor(by, role_code(role))


def _key(unit: str, plan: str, code: str, occurrence: str | None = None) -> api.TaskKey:
    return api.TaskKey(unit, plan, code, occurrence)


def _code(code: str, occurrence: str | None) -> str:
    """A task's number as officers read it, with the period of recurring work: "7 (2023-Q3)"."""
    return f"{code} ({occurrence})" if occurrence else code


def _print_change(res: api.ChangeResult, json_: bool, rt: Runtime) -> None:
    if json_:
        emit_json(res)
        return
    label = rt.machine.definition.label
    occurrence = f", kỳ {res.key.occurrence}" if res.key.occurrence else ""
    console.print(escape(f"Nhiệm vụ {res.key.code} ({res.key.plan}{occurrence}): "
                         f"{label(res.from_state)} → ")
                  + f"[bold]{escape(label(res.to_state))}[/bold] (phiên bản {res.version}, "
                  f"ngày hiệu lực {format_date_vi(res.effective_on)}).", markup=True)
    for e in res.evidence:
        console.print(f"  Minh chứng: {e}")


def _transition_command(trigger: str, doc: str) -> Callable[..., None]:
    def command(
        unit: UnitArg, plan: PlanArg, code: CodeArg,
        doc_: Annotated[list[str] | None, typer.Option(
            "--doc", help="Văn bản minh chứng, ví dụ 'Kế hoạch số 223/KH-UBND ngày 06/3/2023'"
        )] = None,
        result: Annotated[str, typer.Option(help="Kết quả thực hiện")] = "",
        note: Annotated[str, typer.Option(help="Ghi chú / lý do")] = "",
        on: Annotated[str | None, typer.Option(help="Ngày thực hiện dd/mm/yyyy")] = None,
        version: VersionOpt = None,
        correction: Annotated[str, typer.Option(
            "--dinh-chinh", help="Lãnh đạo: lý do đính chính khi ngày thuộc kỳ đã chốt")] = "",
        ky: OccurrenceOpt = None,
        by: ByOpt = "cán bộ", role: RoleOpt = "cán bộ",
        db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
    ) -> None:
        with session(json_, db, at) as rt:
            res = api.transition(rt, _key(unit, plan, code, ky), trigger, _actor(by, role),
                                 evidence=doc_ or [], result=result, note=note,
                                 on=_parse_day(on, "on"), expected_version=version,
                                 correction=correction)
            _print_change(res, json_, rt)

    command.__doc__ = doc
    return command


for _trigger, _name, _doc in [
    ("start", "start", "Bắt đầu thực hiện nhiệm vụ."),
    ("complete", "done", "Hoàn thành nhiệm vụ: cần --doc (văn bản minh chứng) và --result."),
    ("wait", "wait", "Chờ văn bản triển khai của cấp trên (cần --note)."),
    ("nothing_arose", "nothing", "Trong kỳ chưa phát sinh (cần --note)."),
    ("reopen", "reopen", "Mở lại nhiệm vụ đã hoàn thành (lãnh đạo, cần --note lý do)."),
]:
    task_app.command(_name)(_transition_command(_trigger, _doc))


@task_app.command("note")
def task_note(unit: UnitArg, plan: PlanArg, code: CodeArg,
              text: Annotated[str, typer.Option("--note", help="Nội dung")],
              on: Annotated[str | None, typer.Option(help="Ngày dd/mm/yyyy")] = None,
              version: VersionOpt = None, ky: OccurrenceOpt = None,
              by: ByOpt = "cán bộ", role: RoleOpt = "cán bộ",
              db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Ghi nhận tiến độ (in vào cột Kết quả) mà không đổi trạng thái."""
    with session(json_, db, at) as rt:
        res = api.add_note(rt, _key(unit, plan, code, ky), text, _actor(by, role),
                           on=_parse_day(on, "on"), expected_version=version)
        _print_change(res, json_, rt)


@task_app.command("assign")
def task_assign(unit: UnitArg, plan: PlanArg, code: CodeArg,
                owner: Annotated[str, typer.Option(help="Người/bộ phận phụ trách")],
                version: VersionOpt = None, ky: OccurrenceOpt = None,
                by: ByOpt = "lãnh đạo", role: RoleOpt = "lãnh đạo",
                db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Phân công người phụ trách (lãnh đạo)."""
    with session(json_, db, at) as rt:
        res = api.assign(rt, _key(unit, plan, code, ky), owner, _actor(by, role), version)
        emit_json(res) if json_ else console.print(
            f"Đã phân công nhiệm vụ {_code(code, res.key.occurrence)} cho {owner} "
            f"(phiên bản {res.version}).")


@task_app.command("deadline")
def task_deadline(unit: UnitArg, plan: PlanArg, code: CodeArg,
                  deadline: Annotated[str, typer.Option(
                      help="Ví dụ: 'Quý IV/2023', 'trước ngày 15/12/2023', 'Thường xuyên'")],
                  version: VersionOpt = None, ky: OccurrenceOpt = None,
                  by: ByOpt = "lãnh đạo", role: RoleOpt = "lãnh đạo",
                  db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Đặt thời hạn (lãnh đạo)."""
    with session(json_, db, at) as rt:
        res = api.set_deadline(rt, _key(unit, plan, code, ky), deadline, _actor(by, role),
                               version)
        emit_json(res) if json_ else console.print(
            f"Đã đặt thời hạn nhiệm vụ {_code(code, res.key.occurrence)}: {deadline} "
            f"(phiên bản {res.version}).")


@task_app.command("show")
def task_show(unit: UnitArg, plan: PlanArg, code: CodeArg, ky: OccurrenceOpt = None,
              db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False) -> None:
    """Chi tiết một nhiệm vụ và lịch sử của nó."""
    with session(json_, db, at) as rt:
        key = _key(unit, plan, code, ky)
        view = api.get_task(rt, key)
        hist = api.history(rt, key)
        if json_:
            emit_json({"task": view, "history": hist})
            return
        console.print(f"[bold]{escape(view.plan)} — nhiệm vụ "
                      f"{escape(_code(view.code, view.occurrence))}[/bold] "
                      f"(mục {escape(view.section)})", markup=True)
        console.print(view.text, markup=False)
        console.print(f"Trạng thái: [bold]{escape(view.state_label)}[/bold] · Phụ trách: "
                      + escape(f"{view.owner or '—'} · Hạn: {view.deadline or '—'}")
                      + (f" ({format_date_vi(view.due_on)})" if view.occurrence and view.due_on
                         else "") + " · Phiên bản "
                      f"{view.version}", markup=True)
        if view.result:
            console.print(f"Kết quả: {view.result}", markup=False)
        _print_history(rt, hist)


@task_app.command("history")
def task_history(unit: UnitArg, plan: PlanArg, code: CodeArg, ky: OccurrenceOpt = None,
                 db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Lịch sử thay đổi của một nhiệm vụ (không thể sửa, không thể xóa)."""
    with session(json_, db) as rt:
        hist = api.history(rt, _key(unit, plan, code, ky))
        emit_json(hist) if json_ else _print_history(rt, hist)


_EVENT_LABELS = {"assign": "Phân công", "set_deadline": "Đặt thời hạn",
                 "note": "Ghi nhận tiến độ"}


def _event_label(rt: Runtime, event: str) -> str:
    """What was done, in the officer's words: the workflow's label for a transition."""
    transition_def = rt.machine.definition.transition(event)
    return transition_def.label if transition_def else _EVENT_LABELS.get(event, event)


def _print_history(rt: Runtime, hist: list[api.HistoryEntry]) -> None:
    label = rt.machine.definition.label
    table = Table("#", "Lúc", "Người", "Thao tác", "Trạng thái", "Hiệu lực",
                      "Ghi chú / minh chứng")
    for h in hist:
        change = (label(h.to_state) if h.from_state == h.to_state
                  else f"{label(h.from_state or '')} → {label(h.to_state)}")
        extra = "; ".join([*(e["ref"] for e in h.evidence), *([h.note] if h.note else [])])
        table.add_row(str(h.seq), vn_time(h.at).strftime("%d/%m/%Y %H:%M"),
                      f"{h.actor} ({directory.role_label(h.role)})", _event_label(rt, h.event),
                      change,
                      format_date_vi(h.effective_on),
                      extra)
    console.print(table)


# ---------------------------------------------------------------- reports


@report_app.command("snapshot")
def report_snapshot(
    unit: UnitArg,
    period: Annotated[str, typer.Option(help="Kỳ báo cáo: 2023-Q3, 2023-H1, 2023-Y")],
    out: Annotated[Path, typer.Option(help="Thư mục ghi phụ lục")],
    freeze: Annotated[bool, typer.Option("--freeze", help="Chốt số liệu kỳ này")] = False,
    by: ByOpt = "lãnh đạo",
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Lấy số liệu tại ngày chốt kỳ và xuất Phụ lục 1–3 (.docx, .xlsx) và snapshot.json."""
    with session(json_, db, at) as rt:
        res = api.snapshot_and_export(rt, unit, period, out, freeze=freeze, taken_by=by)
        _print_snapshot(res, json_)


def _print_snapshot(res: api.SnapshotResult, json_: bool) -> None:
    if json_:
        emit_json(res.as_dict())
        return
    snap = res.snapshot
    taken = vn_time(snap.taken_at)
    state = (f"đã chốt lúc {taken:%H:%M} ngày {format_date_vi(taken.date())}" if snap.frozen
             else f"chưa chốt (số liệu lúc {taken:%H:%M} ngày {format_date_vi(taken.date())})")
    unit = snap.unit.display[:1].upper() + snap.unit.display[1:]  # "Xã Vĩnh Thạnh"
    console.print(f"[bold]{escape(unit)}[/bold] — {snap.period_label} "
                  f"(từ {format_date_vi(snap.start)} đến {format_date_vi(snap.end)}), {state}"
                  + (f", mã {snap.content_hash[:12]}" if snap.content_hash else ""),
                  markup=True)
    table = Table("Phụ lục", "Kế hoạch", "Tổng", "Đã thực hiện", "Chưa thực hiện")
    for a in snap.appendices:
        table.add_row(str(a.number), a.plan_id, str(a.total), f"{a.done:02d}",
                      f"{a.not_done:02d}")
    console.print(table)
    for p in res.files:
        console.print(f"  {p}")


@report_app.command("draft")
def report_draft(
    unit: UnitArg,
    period: Annotated[str, typer.Option(help="Kỳ báo cáo, ví dụ 2023-Q3")],
    out: Annotated[Path, typer.Option(help="Tệp .docx ghi dự thảo")] = Path("bao-cao.docx"),
    template: Annotated[Path | None, typer.Option(
        help="Mẫu Jinja2 khác (mặc định plans/data/report-templates/)")] = None,
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Soạn dự thảo Báo cáo (.docx) từ số liệu của kỳ; cán bộ hoàn thiện phần lời trong Word."""
    with session(json_, db, at) as rt:
        snap = api.take_snapshot(rt, unit, period)
        data = reporting.draft_report(rt, snap, template)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        if json_:
            emit_json({"unit": unit, "period": snap.period, "file": str(out),
                       "bytes": len(data), "frozen": snap.frozen})
        else:
            console.print(f"Đã soạn dự thảo báo cáo {snap.period_label}: {out}")


#: The summary's sort orders (engine.reporting.summary.SORTS) as officers name them.
_SUMMARY_SORTS = {"name": "Tên", "status": "Trạng thái", "done": "Đã thực hiện",
                  "not_done": "Chưa thực hiện", "overdue_tasks": "Nhiệm vụ quá hạn",
                  "overdue_reports": "Báo cáo quá hạn", "on_time": "Đúng hạn",
                  "online": "Trực tuyến"}


@report_app.command("summary")
def report_summary(
    body: Annotated[str, typer.Argument(
        metavar="ĐƠN_VỊ", help="Cơ quan tổng hợp: mã của tỉnh hoặc thành phố")],
    period: Annotated[str, typer.Option(metavar="KỲ", help="Kỳ báo cáo, ví dụ 2023-Q3")],
    out: Annotated[Path | None, typer.Option(
        metavar="THƯ_MỤC", help="Thư mục ghi tong-hop.xlsx, tong-hop.docx, tong-hop.json")
    ] = None,
    sort: Annotated[str, typer.Option(
        metavar="CỘT", help="Sắp xếp theo: " + ", ".join(
            f"'{label}'" for label in _SUMMARY_SORTS.values()))] = "tên",
    desc: Annotated[bool, typer.Option("--desc", help="Giảm dần")] = False,
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Tổng hợp theo từng xã, phường của kỳ: số liệu đã chốt, hoặc 'chưa chốt'."""
    with session(json_, db, at) as rt:
        summ = reporting.province_summary(rt, body, period)
        rows = reporting.sorted_rows(summ, resolve_choice(
            sort, _SUMMARY_SORTS, field="sort", what_vi="Cách sắp xếp", what_en="sort"), desc)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "tong-hop.xlsx").write_bytes(reporting.summary_xlsx(summ, rows))
            (out / "tong-hop.docx").write_bytes(reporting.summary_docx(summ, rows))
            (out / "tong-hop.json").write_bytes(reporting.summary_json(summ))
        if json_:
            emit_json(summ.as_dict())
            return
        console.print(f"{summ.body.display} — {summ.period.label_vi}: {len(rows)} đơn vị, "
                      f"{summ.frozen} đã chốt")
        table = Table("STT", "Xã, phường", "Trạng thái",
                      *(f"PL {n} đã/chưa" for n, _ in summ.plan_columns),
                      "NV quá hạn", "BC quá hạn", "Đúng hạn (%)", "Trực tuyến (%)")
        for i, r in enumerate(rows, start=1):
            by_plan = {(p.appendix, p.plan): p for p in r.plans}
            cells = [f"{p.done}/{p.not_done}" if (p := by_plan.get(k)) else "—"
                     for k in summ.plan_columns]
            table.add_row(str(i), r.name, r.status, *cells, str(r.overdue_tasks),
                          str(r.overdue_reports), r.on_time.text or "—", r.online.text or "—")
        console.print(table)


@report_app.command("check")
def report_check(
    unit: UnitArg,
    period: Annotated[str, typer.Option(help="Kỳ báo cáo, ví dụ 2023-Q3")],
    against: Annotated[Path | None, typer.Option(
        help="Báo cáo đã soạn tay (.txt, .docx, .xlsx) để đối chiếu tổng số")] = None,
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Liệt kê những điểm người thẩm định sẽ trả lại báo cáo (mã thoát 1 nếu có lỗi)."""
    with session(json_, db, at) as rt:
        findings = api.check(rt, unit, period, against=against)
        if json_:
            emit_json(findings)
        else:
            _print_findings(findings)
        if any(f.severity == "error" for f in findings):
            raise SystemExit(1)


def _finding_place(f: Finding) -> tuple[str, str]:
    """The Phụ lục and Nhiệm vụ cells: 'Phụ lục 1 (cchc-2023)' / '16', the body's line, or
    'nhiều chỗ' for a finding about several places (they are listed in its message)."""
    if f.appendix is not None:
        where = f"Phụ lục {f.appendix}" + (f" ({f.plan})" if f.plan else "")
    elif f.plan:
        where = f.plan
    elif f.line is not None:
        where = "Phần thân báo cáo"
    else:
        where = "nhiều chỗ"
    task = f.task or (f"{len(f.tasks)} nhiệm vụ" if f.tasks else "") or (
        f"dòng {f.line}" if f.line is not None else "")
    if not task:
        task = {"number_reused": "nhiều chỗ", "totals_mismatch": "dòng tổng"}.get(f.code, "")
    return where, task


def _print_findings(findings: list[Finding], *, count: bool = True) -> None:
    if not findings:
        console.print("Không phát hiện sai sót.")
        return
    table = Table("Mức", "Phụ lục", "Nhiệm vụ", "Vấn đề", show_lines=True)
    for f in findings:
        table.add_row("LỖI" if f.severity == "error" else "lưu ý", *_finding_place(f),
                      f.message_vi)
    console.print(table)
    if count:
        console.print(f"{reporting.count_findings_vi(findings)}.")


@report_app.command("run-all")
def report_run_all(
    period: Annotated[str, typer.Option(help="Kỳ báo cáo, ví dụ 2023-Q3")],
    out: Annotated[Path, typer.Option(help="Thư mục gốc; mỗi đơn vị một thư mục con")],
    parent: Annotated[str | None, typer.Option(help="Chỉ các đơn vị thuộc đơn vị này")] = None,
    freeze: Annotated[bool, typer.Option("--freeze", help="Chốt số liệu kỳ này")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Số tiến trình song song (mỗi lõi CPU một)")
                       ] = 1,
    by: ByOpt = "hệ thống",
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Chốt và xuất phụ lục cho mọi đơn vị có kế hoạch (cuối quý)."""
    logging_setup.configure_logging()
    with session(json_, db, at) as rt:
        with _progress(json_) as advance:
            results = api.run_all(rt, period, out, parent=parent, freeze=freeze, taken_by=by,
                                  workers=workers, progress=advance)
        failed = [r for r in results if r.error is not None]
        if json_:
            emit_json([r.as_dict() for r in results])
        else:
            console.print(f"Đã xuất phụ lục cho {len(results) - len(failed)} đơn vị vào {out}.")
            for r in failed:
                err_console.print(f"[bold red]Không xuất được {escape(r.unit)}:[/bold red]",
                                  end=" ", markup=True)
                err_console.print(r.error)
        if failed:
            if not json_:
                err_console.print(f"{len(failed)} đơn vị lỗi: "
                                  + ", ".join(r.unit for r in failed))
            raise SystemExit(1)


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int, int], None]]:
    if quiet:
        yield lambda _done, _total: None
        return
    from rich.progress import (  # only commands that show progress need it
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
        task_id = progress.add_task("Đang xử lý", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task_id, completed=done, total=total)

        yield advance


# ---------------------------------------------------------------- demo


@_app.command("demo")
def demo(
    out: Annotated[Path, typer.Option(metavar="THƯ_MỤC",
                                      help="Thư mục ghi cơ sở dữ liệu và phụ lục")] = Path(
        "out/demo"),
    seed: Annotated[Path | None, typer.Option(
        metavar="TỆP", help="Báo cáo gốc (bản giấy, dạng .txt) để kiểm tra như người thẩm "
        "định; không có thì không kiểm tra và nói rõ")] = None,
    json_: JsonOpt = False,
) -> None:
    """Dựng lại báo cáo quý III/2023 của xã Vĩnh Thạnh từ dữ liệu mẫu, xuất phụ lục và kiểm tra."""
    from engine.demo import run_demo  # lazy: the demo loads every writer (CLI start time)

    try:
        with _progress(json_) as advance:
            res = run_demo(out, progress=advance, seed=seed)
    except (CchcError, DataFileError) as exc:
        fail(exc, json_)
    if json_:
        emit_json(res.as_dict())
        return
    console.print(f"Cơ sở dữ liệu: {res.database}")
    _print_snapshot(res.snapshot, False)
    console.print(f"Dự thảo báo cáo (phần lời, để hoàn thiện trong Word): "
                  f"{res.database.parent / 'bao-cao.docx'}")
    console.print(res.own_check_vi)
    errors = [f for f in res.findings if f.severity == "error"]
    if errors:
        _print_findings(errors, count=False)
    console.print("  Xem đủ: cchc report check vinh-thanh --period 2023-Q3 "
                  f"--db sqlite:///{res.database}", soft_wrap=True)
    console.print(res.seed.summary_vi, soft_wrap=True)
    if res.seed.ran:
        _print_findings(res.seed_findings)
    _print_demo_reminders(res)
    _print_demo_accounts(res)


def _print_demo_reminders(res: Any) -> None:
    from cli.reminders import print_occurrences  # lazy: see _add_the_other_groups
    from engine.demo import REMINDERS_FROM, REMINDERS_TO  # lazy: CLI start time

    console.print(f"Nhắc việc các báo cáo chuyên đề từ {format_date_vi(REMINDERS_FROM)} đến "
                  f"{format_date_vi(REMINDERS_TO)} (xem trước, chưa gửi; "
                  "cchc reminders preview --date …):")
    print_occurrences(res.reminders, compact=True)


def _print_demo_accounts(res: Any) -> None:
    """The demo's web logins, one a line (never cut by a narrow terminal)."""
    console.print("Tài khoản web dùng thử (tên đăng nhập / mật khẩu — chỉ để thử):")
    for a in res.accounts:
        console.print(f"  {a.username} / {a.password} — {directory.role_label(a.role)}, {a.unit} "
                      f"({a.full_name})", soft_wrap=True)
    console.print(f"Chạy web: cchc serve --db sqlite:///{res.database} --demo rồi mở "
                  "http://127.0.0.1:8000/", soft_wrap=True)


def _only_the_group_called(args: list[str]) -> None:
    """Keep in `app` only the command group the arguments name (`cchc task list …` → `task`),
    and in it only the command they name (`list`).

    Why: Typer builds every command of every group (their parameters read from the
    functions' annotations) before it parses a single argument — a third of what `task list`
    spends in Typer. The group and command named, their help and errors are the same. Left
    whole when the first argument names no group (`--help`, `serve`, `demo`, a typo that the
    error's "did you mean" has to find among all of them)."""
    named = [g for g in _app.registered_groups if args and g.name == args[0]]
    if named:
        _app.registered_groups = named
        _app.registered_commands = []
        group = named[0].typer_instance
        if group is not None and len(args) > 1:  # and of the group, the command named if any
            command = [c for c in group.registered_commands if c.name == args[1]]
            if command and not group.registered_groups:
                group.registered_commands = command


def run() -> None:
    """The `cchc` entry point. The collector is frozen when the command ends: whatever the
    command built is about to be thrown away with the process, and scanning it at exit cost
    a noticeable part of a short command's time."""
    hold_collector()  # done already when started through cli.start (the entry point)
    try:
        args = sys.argv[1:]
        if not args or args[0] not in _OWN_NAMES:
            _add_the_other_groups()
        _only_the_group_called(args)
        _app()
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    run()
