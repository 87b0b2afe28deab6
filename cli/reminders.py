"""`cchc reminders`, `cchc people`, `cchc obligation`: Vietnamese for officers, `--json` too.

Why thin, like `cli.main`: each command parses its arguments, calls one engine function and
prints the result. `cli.session.session` opens the runtime and turns any refusal into a
Vietnamese message and a non-zero exit, as for every command.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cli.output import console, emit_json, fail
from cli.session import session
from cli.vietnamese import (
    AtOpt,
    ByOpt,
    DbOpt,
    JsonOpt,
    RoleOpt,
    UnitArg,
    VersionOpt,
    role_code,
    vi_typer,
)
from engine import directory, domain, reminders
from engine.errors import CchcError
from plans.errors import DataFileError
from vntext.dates import format_date_vi, parse_date_input

reminders_app = vi_typer("Nhắc việc qua Zalo, email: xem trước, quy tắc")
people_app = vi_typer("Người nhận nhắc việc (cán bộ, công chức, lãnh đạo)")
obligation_app = vi_typer("Báo cáo phải gửi cấp trên (chuyên đề, định kỳ)")

CHANNEL_VI = {"zalo": "Zalo", "email": "Email"}
ObligationArg = Annotated[str, typer.Argument(metavar="BÁO_CÁO",
                                              help="Mã báo cáo, ví dụ kh140-2023")]
_OBLIGATION_EVENTS = {"assign": "Phân công", "reschedule": "Đổi hạn (nạp lại tệp)"}
PeriodKeyArg = Annotated[str, typer.Argument(metavar="KỲ", help="Kỳ báo cáo, ví dụ 2023-11")]


def step_label(step: str) -> str:
    """A step in Vietnamese: "Trước hạn 7 ngày", "Đến hạn", "Quá hạn 2 ngày làm việc"…"""
    if step == "due":
        return "Đến hạn"
    if step == "escalate":
        return "Báo lãnh đạo (quá hạn)"
    kind, _, n = step.partition(":")
    if kind == "before":
        return f"Trước hạn {n} ngày"
    if kind == "overdue":
        return f"Quá hạn {n} ngày làm việc"
    return step


def _parse_date(value: str) -> date:
    """YYYY-MM-DD as scripts write it, or dd/mm/yyyy as officers do."""
    try:
        return parse_date_input(value)
    except ValueError:
        raise CchcError(f"Ngày '{value}' phải có dạng YYYY-MM-DD hoặc dd/mm/yyyy và có thật",
                        "--date must be a real YYYY-MM-DD or dd/mm/yyyy date",
                        field="date", value=value) from None


# ---------------------------------------------------------------- reminders


@reminders_app.command("preview")
def reminders_preview(
    date_: Annotated[str, typer.Option("--date", metavar="NGÀY",
                                       help="Ngày gửi, ví dụ 14/11/2023 hoặc 2023-11-14")],
    unit: Annotated[str | None, typer.Option(metavar="ĐƠN_VỊ",
                                             help="Chỉ một đơn vị, ví dụ vinh-thanh")] = None,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Xem trước những lời nhắc sẽ gửi trong một ngày (không gửi gì)."""
    with session(json_, db) as rt:
        on = _parse_date(date_)
        plan = reminders.preview_plan(rt, on, unit)
        if json_:
            emit_json({
                "date": on, "unit": unit,
                "reminders": [
                    {"idempotency_key": o.idempotency_key, "unit_id": o.unit_id,
                     "person_id": o.person_id, "channel": o.channel, "item_kind": o.item_kind,
                     "item_id": o.item_id, "due_on": o.due_on, "step": o.step,
                     "send_on": o.send_on, "not_before": o.not_before, "payload": o.payload}
                    for o in plan.occurrences],
                "unresolved": plan.unresolved,
            })
            return
        print_occurrences(plan.occurrences)
        console.print(f"{len(plan.occurrences)} lời nhắc ngày {format_date_vi(on)}.")
        for u in plan.unresolved:
            console.print("[yellow]Chưa có người nhận:[/yellow] " + escape(
                f"{u.unit} {u.item_kind} {u.code} ({step_label(u.step)}): {u.reason_vi}"),
                highlight=False, markup=True)


def _what(o: reminders.Occurrence, compact: bool) -> str:
    p = o.payload
    if compact and o.item_kind == "obligation":
        m = re.search(r"số\s*(\S+)", str(p.get("plan", "")))
        return f"Báo cáo theo KH {m.group(1)}" if m else str(p.get("code", ""))
    title = str(p.get("title", ""))
    width = 40 if compact else 60
    return f"{p.get('code', '')} — {title[:width]}{'…' if len(title) > width else ''}"


def print_occurrences(occurrences: Sequence[reminders.Occurrence], *,
                      compact: bool = False) -> None:
    """One row per day, item and step; the people it reaches (and their channel) in one cell."""
    rows: dict[tuple[object, ...], list[str]] = {}
    first: dict[tuple[object, ...], reminders.Occurrence] = {}
    for o in occurrences:
        k = (o.send_on, o.item_kind, o.item_id, o.due_on, o.step)
        name = o.payload.get("person_name", o.person_id)
        rows.setdefault(k, []).append(f"{name} ({CHANNEL_VI.get(o.channel, o.channel)})")
        first.setdefault(k, o)
    table = Table("Ngày gửi", "Người nhận (kênh)", "Việc", "Hạn", "Bước")
    for key, names in rows.items():
        o = first[key]
        table.add_row(format_date_vi(o.send_on), "\n".join(names), _what(o, compact),
                      format_date_vi(o.due_on), step_label(o.step))
    console.print(table)


@reminders_app.command("rules")
def reminders_rules(json_: JsonOpt = False) -> None:
    """Kiểm tra và in quy tắc nhắc việc (workflows/reminders.yaml)."""
    try:
        rules = reminders.load_reminder_rules()
    except DataFileError as exc:
        fail(exc, json_)
    if json_:
        emit_json(rules)
        return
    console.print(f"Quy tắc nhắc việc ({reminders.DEFAULT_REMINDER_RULES_FILE}): hợp lệ.")
    console.print(f"  Nhắc trước hạn: {', '.join(str(d) for d in rules.lead_days)} ngày "
                  f"(0 = ngày đến hạn), lúc {rules.send_at:%H:%M}; rơi vào ngày nghỉ thì gửi "
                  "ngày làm việc liền trước.")
    console.print(f"  Quá hạn: nhắc lại mỗi {rules.overdue.every_working_days} ngày làm việc, "
                  f"tối đa {rules.overdue.stop_after_working_days} ngày làm việc.")
    if rules.escalation:
        console.print(f"  Báo lãnh đạo khi quá hạn {rules.escalation.after_working_days} ngày "
                      "làm việc.")
    console.print(f"  Khung giờ gửi: {rules.send_window.start:%H:%M}–"
                  f"{rules.send_window.end:%H:%M}, gộp mọi lời nhắc của một người trong ngày.")


# ---------------------------------------------------------------- people


def _print_people(people: list[Any]) -> None:
    table = Table("Đơn vị", "Họ và tên", "Vai trò", "Chức danh", "Email", "Điện thoại", "Zalo",
                  "Kênh")
    for p in people:
        table.add_row(p.unit, p.name, directory.role_label(p.role), p.title or "", p.email or "",
                      p.phone or "", p.zalo_user_id or "",
                      ", ".join(CHANNEL_VI.get(c, c) for c in p.channels)
                      + ("" if p.active else " (ngừng)"))
    console.print(table)


@people_app.command("load")
def people_load(file: Annotated[Path, typer.Argument(metavar="TỆP", help="Tệp people.yaml")],
                db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Nạp danh sách người nhận nhắc việc từ tệp YAML (people.yaml); nạp lại không trùng."""
    with session(json_, db) as rt:
        res = directory.load_people_file(rt, file)
        if json_:
            emit_json(res)
            return
        console.print(f"Đã nạp {len(res.people)} người: thêm {res.created}, cập nhật "
                      f"{res.updated}, không đổi {res.unchanged}.")


@people_app.command("add")
def people_add(
    unit: UnitArg,
    name: Annotated[str, typer.Argument(metavar="HỌ_TÊN", help="Họ và tên")],
    role: Annotated[str, typer.Option(metavar="VAI_TRÒ", help="'cán bộ' hoặc 'lãnh đạo'")
                    ] = "cán bộ",
    title: Annotated[str | None, typer.Option(
        help="Chức danh, ví dụ 'Công chức Tư pháp - Hộ tịch'")] = None,
    email: Annotated[str | None, typer.Option(help="Địa chỉ email")] = None,
    phone: Annotated[str | None, typer.Option(help="Số di động, ví dụ 0912 345 678")] = None,
    zalo: Annotated[str | None, typer.Option(help="Mã người dùng Zalo (người quan tâm OA)")
                    ] = None,
    channel: Annotated[list[str] | None, typer.Option(
        help="Kênh theo thứ tự ưu tiên (zalo, email); lặp lại để ghi nhiều kênh")] = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Ngừng nhận nhắc việc")] = False,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Thêm một người (hoặc sửa người cùng tên trong đơn vị)."""
    with session(json_, db) as rt:
        person = directory.add_person(rt, unit=unit, name=name, role=role_code(role), title=title,
                            email=email, phone=phone, zalo_user_id=zalo,
                            channels=channel or None,
                            active=not inactive)
        if json_:
            emit_json(person)
            return
        label = person.title or directory.role_label(person.role)
        console.print(f"Đã lưu {person.name} ({label}), kênh: "
                      f"{', '.join(CHANNEL_VI.get(c, c) for c in person.channels)}.")


@people_app.command("list")
def people_list(
    unit: Annotated[str | None, typer.Option(metavar="ĐƠN_VỊ", help="Chỉ một đơn vị")] = None,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Danh sách người nhận nhắc việc."""
    with session(json_, db) as rt:
        people = directory.list_people(rt, unit)
        if json_:
            emit_json(people)
            return
        _print_people(people)
        console.print(f"{len(people)} người.")


# ---------------------------------------------------------------- obligations


@obligation_app.command("load")
def obligation_load(unit: UnitArg,
                    file: Annotated[Path, typer.Argument(metavar="TỆP",
                                                         help="Tệp obligations-*.yaml")],
                    db: DbOpt = None, at: AtOpt = None,
                    json_: JsonOpt = False) -> None:
    """Nạp các báo cáo phải gửi cấp trên của đơn vị (nạp lại giữ nguyên trạng thái)."""
    with session(json_, db, at) as rt:
        res = domain.load_obligations(rt, unit, file)
        if json_:
            emit_json(res)
            return
        console.print(f"Đã nạp {res.obligations} báo cáo: thêm {res.created} kỳ báo cáo, đổi "
                      f"hạn {res.rescheduled}, bỏ {res.cancelled}, khôi phục {res.restored}, "
                      f"ngừng {res.retired} báo cáo, không đổi {res.unchanged}.")


@obligation_app.command("list")
def obligation_list(
    unit: UnitArg,
    year: Annotated[int | None, typer.Option(metavar="NĂM", help="Năm")] = None,
    state: Annotated[str | None, typer.Option(
        metavar="TRẠNG_THÁI", help="Trạng thái, ví dụ 'Chưa gửi' hoặc 'Gửi quá hạn'")
                     ] = None,
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Các kỳ báo cáo của đơn vị, theo hạn."""
    with session(json_, db, at) as rt:
        dues = domain.list_obligation_dues(rt, unit, year=year, state=state)
        if json_:
            emit_json(dues)
            return
        table = Table("Mã", "Kỳ", "Báo cáo", "Gửi", "Hạn", "Trạng thái", "Văn bản", "Phiên bản")
        for d in dues:
            status = Text(d.state_label)
            if d.overdue:
                status.append(" — ").append("quá hạn", style="red")
            table.add_row(d.code, d.period_key, d.title[:60] + ("…" if len(d.title) > 60 else ""),
                          d.recipient, format_date_vi(d.due_on), status, d.report_doc or "",
                          str(d.version))
        console.print(table)
        console.print(f"{len(dues)} kỳ báo cáo.")


def _print_change(res: Any, json_: bool) -> None:

    if json_:
        emit_json(res)
        return
    label = domain.obligation_machine().definition.label
    console.print(escape(f"Báo cáo {res.code} kỳ {res.period_key}: {label(res.from_state)} → ")
                  + f"[bold]{escape(label(res.to_state))}[/bold] (phiên bản {res.version}, "
                  f"ngày hiệu lực {format_date_vi(res.effective_on)}).", markup=True)
    if getattr(res, "document", None):
        console.print(f"  Văn bản: {res.document}")


@obligation_app.command("submit")
def obligation_submit(
    unit: UnitArg, code: ObligationArg, period: PeriodKeyArg,
    doc: Annotated[str, typer.Option(
        "--doc", help="Văn bản báo cáo đã gửi, ví dụ 'Báo cáo số 1050/BC-UBND ngày 05/12/2023'")],
    note: Annotated[str, typer.Option(help="Ghi chú")] = "",
    version: VersionOpt = None,
    by: ByOpt = "cán bộ", role: RoleOpt = "cán bộ",
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Ghi nhận đã gửi báo cáo (ngày gửi là ngày của văn bản; sau hạn là gửi quá hạn)."""
    with session(json_, db, at) as rt:
        res = domain.submit_obligation(rt, unit, code, period, doc,
                                       domain.Actor(by, role_code(role)), version, note=note)
        _print_change(res, json_)


@obligation_app.command("reopen")
def obligation_reopen(
    unit: UnitArg, code: ObligationArg, period: PeriodKeyArg,
    note: Annotated[str, typer.Option("--note", help="Lý do mở lại")],
    version: VersionOpt = None,
    by: ByOpt = "lãnh đạo", role: RoleOpt = "lãnh đạo",
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Mở lại kỳ báo cáo đã ghi gửi (lãnh đạo, cần --note lý do)."""
    with session(json_, db, at) as rt:
        res = domain.reopen_obligation(rt, unit, code, period, note,
                                       domain.Actor(by, role_code(role)), version)
        _print_change(res, json_)


@obligation_app.command("assign")
def obligation_assign(
    unit: UnitArg, code: ObligationArg, period: PeriodKeyArg,
    owner: Annotated[str, typer.Option(help="Chức danh hoặc họ tên người phụ trách")],
    version: VersionOpt = None,
    by: ByOpt = "lãnh đạo", role: RoleOpt = "lãnh đạo",
    db: DbOpt = None, at: AtOpt = None, json_: JsonOpt = False,
) -> None:
    """Phân công người phụ trách một kỳ báo cáo (lãnh đạo)."""
    with session(json_, db, at) as rt:
        res = domain.assign_obligation(rt, unit, code, period, owner,
                                       domain.Actor(by, role_code(role)), version)
        if json_:
            emit_json(res)
            return
        console.print(f"Đã phân công báo cáo {code} kỳ {period} cho {owner} "
                      f"(phiên bản {res.version}).")


@obligation_app.command("history")
def obligation_history_cmd(unit: UnitArg, code: ObligationArg, period: PeriodKeyArg,
                           db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Lịch sử một kỳ báo cáo (không thể sửa, không thể xóa)."""
    with session(json_, db) as rt:
        hist = domain.obligation_history(rt, unit, code, period)
        if json_:
            emit_json(hist)
            return
        label = domain.obligation_machine().definition.label
        table = Table("#", "Người", "Thao tác", "Trạng thái", "Hiệu lực", "Ghi chú / văn bản")
        for h in hist:
            change = (label(h.to_state) if h.from_state == h.to_state
                      else f"{label(h.from_state or '')} → {label(h.to_state)}")
            extra = "; ".join([*(e["ref"] for e in h.evidence), *([h.note] if h.note else [])])
            done = domain.obligation_machine().definition.transition(h.event)
            event = done.label if done else _OBLIGATION_EVENTS.get(h.event, h.event)
            table.add_row(str(h.seq), f"{h.actor} ({directory.role_label(h.role)})", event, change,
                          format_date_vi(h.effective_on), extra)
        console.print(table)


__all__ = ["obligation_app", "people_app", "reminders_app", "step_label"]
