"""`cchc outbox …`, `cchc scheduler run` and `cchc reminders run-once`: the reminder queue.

Why here and thin: the lead registers these Typer apps on the main `cchc` command; every
command calls one engine function (engine.reminders.*) and prints in Vietnamese or --json.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from cli.lazy import lazy
from cli.output import console, emit_json, vn_time
from cli.session import session
from cli.vietnamese import ByOpt, DbOpt, JsonOpt, vi_typer
from engine import reminders
from vntext.dates import format_date_vi

if TYPE_CHECKING:
    from engine import logging_setup
else:
    logging_setup = lazy("engine.logging_setup")

outbox_app = vi_typer("Hàng đợi nhắc việc: xem, xem chi tiết, gửi lại thư lỗi")
scheduler_app = vi_typer("Tiến trình nhắc việc chạy nền")

InstanceOpt = Annotated[str | None, typer.Option(
    "--instance", envvar="CCHC_INSTANCE", metavar="TÊN",
    help="Tên tiến trình (mặc định máy:pid)")]
DemoOpt = Annotated[bool, typer.Option(
    "--demo", help="Chạy thử: đường dẫn trong lời nhắc trỏ về http://127.0.0.1:8000 khi chưa "
    "đặt CCHC_WEB_BASE_URL")]

KIND_LABELS = {"task": "Nhiệm vụ", "obligation": "Báo cáo", "snapshot": "Chốt số liệu",
               "alert": "Cảnh báo hệ thống"}
CHANNEL_LABELS = {"email": "Email", "zalo": "Zalo"}


def step_label(step: str) -> str:
    """before:7 → "trước hạn 7 ngày", due, overdue:2, escalate … in the officer's words."""
    name, _, n = step.partition(":")
    return {
        "before": f"trước hạn {n} ngày",
        "due": "đúng ngày hạn",
        "overdue": f"quá hạn {n} ngày làm việc",
        "escalate": "báo lãnh đạo",
        "snapshot": "báo chốt số liệu",
        "alert": "báo quản trị viên",
    }.get(name, step)


def _when(value: object) -> str:
    return vn_time(value).strftime("%d/%m/%Y %H:%M") if isinstance(value, datetime) else "—"


def channel_label(r: reminders.OutboxRow) -> str:
    """The row's channel, and where the reminder went instead / came from: "Zalo → Email"
    (this channel could not reach the person), "Email (thay Zalo)" (the one that delivered)."""
    label = CHANNEL_LABELS.get(r.channel, r.channel)
    to = r.detail.get("fallback_to")
    if r.state == reminders.OUTBOX_FALLBACK and isinstance(to, str):
        return f"{label} → {CHANNEL_LABELS.get(to, to)}"
    came = r.payload.get("fallback_from_channel")
    if isinstance(came, str):
        return f"{label} (thay {CHANNEL_LABELS.get(came, came)})"
    return label


def _item(r: reminders.OutboxRow) -> str:
    return f"{KIND_LABELS.get(r.item_kind, r.item_kind)} #{r.item_id}"


@outbox_app.command("list")
def outbox_list(
    state: Annotated[str | None, typer.Option(
        metavar="TRẠNG_THÁI", help="'Chờ gửi', 'Đang gửi', 'Đã gửi', 'Gửi không được', "
        "'Đã hủy', 'Chuyển kênh khác' hoặc 'Không rõ đã đến chưa'")] = None,
    unit: Annotated[str | None, typer.Option(help="Mã đơn vị")] = None,
    limit: Annotated[int, typer.Option(help="Số dòng tối đa (mới nhất trước)")] = 100,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Danh sách thư nhắc trong hàng đợi, mới nhất trước."""
    with session(json_, db) as rt:
        rows = reminders.list_outbox(rt, state=state, unit=unit, limit=limit)
        if json_:
            emit_json(rows)
            return
        names = reminders.people_names(rt, (r.person_id for r in rows))
        table = Table("Số", "Trạng thái", "Người nhận", "Kênh", "Việc", "Hạn", "Lời nhắc",
                      "Gửi lúc / hẹn", "Lần", "Lý do")
        for r in rows:
            when = r.sent_at if r.state == reminders.OUTBOX_SENT else r.next_attempt_at
            table.add_row(str(r.id), r.state_label, names.get(r.person_id, f"#{r.person_id}"),
                          channel_label(r), _item(r),
                          format_date_vi(r.due_on), step_label(r.step), _when(when),
                          str(r.attempts), r.last_error or "")
        console.print(table)
        counts = reminders.count_outbox_by_state(rt)
        summary = ", ".join(f"{reminders.OUTBOX_STATE_LABELS[s].lower()}: {counts[s]}"
                            for s in reminders.OUTBOX_STATES if counts.get(s))
        console.print(f"{len(rows)} thư nhắc được liệt kê. Toàn bộ hàng đợi — "
                      f"{summary or 'trống'}.")


@outbox_app.command("show")
def outbox_show(row_id: Annotated[int, typer.Argument(metavar="SỐ", help="Số thư nhắc")],
                db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Chi tiết một thư nhắc: trạng thái, các lần gửi lỗi, mã thư."""
    with session(json_, db) as rt:
        r = reminders.get_outbox(rt, row_id)
        if json_:
            emit_json(r)
            return
        name = reminders.people_names(rt, [r.person_id]).get(r.person_id, f"#{r.person_id}")
        lines: list[str | Text] = [
            Text.assemble((f"Thư nhắc số {r.id}", "bold"), f" — {r.state_label}"),
            f"Người nhận: {name} · Kênh: {channel_label(r)}",
            f"Việc: {_item(r)} · Hạn: {format_date_vi(r.due_on)} · Lời nhắc: "
            f"{step_label(r.step)} · Ngày gửi dự kiến: {format_date_vi(r.send_on)}",
            f"Số lần gửi: {r.attempts} · Lần gửi tới: {_when(r.next_attempt_at)}",
        ]
        if r.lease_owner:
            lines.append(f"Tiến trình gửi: {r.lease_owner} (giữ đến {_when(r.lease_until)})")
        if r.sent_at:
            lines.append(f"Đã gửi lúc: {_when(r.sent_at)}")
        if r.message_key:
            lines.append(f"Mã bản tin gộp: {r.message_key}")
        if r.provider_message_id:
            lines.append(f"Mã thư của nhà cung cấp: {r.provider_message_id}")
        if r.last_error:
            lines.append(f"Lý do gần nhất: {r.last_error}")
        lines.append(f"Khóa chống trùng: {r.idempotency_key}")
        for line in lines:
            console.print(line)
        refused = r.detail.get("refused")
        if isinstance(refused, dict) and refused:
            console.print("Địa chỉ bị từ chối:")
            for addr, why in refused.items():
                console.print(f"  {addr}: {why}", markup=False)
        if r.errors:
            table = Table("Lúc", "Lần", "Loại", "Lý do")
            kinds = {"transient": "tạm thời", "permanent": "vĩnh viễn",
                     "fallback": "chuyển kênh", "unknown": "không rõ kết quả"}
            for e in r.errors:
                table.add_row(str(e.get("at", ""))[:16].replace("T", " "),
                              str(e.get("attempt", "")), kinds.get(str(e.get("kind")), "?"),
                              str(e.get("reason", "")))
            console.print(table)


@outbox_app.command("retry")
def outbox_retry(
    row_ids: Annotated[list[int] | None, typer.Argument(
        metavar="SỐ", help="Số thư nhắc (một hoặc nhiều)")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Mọi thư gửi không được")]
    = False,
    by: ByOpt = "quản trị",
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Gửi lại thư nhắc gửi không được (đưa về 'Chờ gửi' ngay); lịch sử lỗi được giữ lại."""
    with session(json_, db) as rt:
        ids = reminders.retry_failed(rt, rt.now(), ids=row_ids or [], all_failed=all_failed, by=by)
        if json_:
            emit_json({"retried": ids})
        elif ids:
            console.print(f"Đã đưa {len(ids)} thư nhắc trở lại hàng đợi: "
                          f"{', '.join(str(i) for i in ids)}. Thư sẽ được gửi ở lượt tới "
                          "(trong giờ gửi).")
        else:
            console.print("Không có thư nhắc nào gửi không được.")


@scheduler_app.command("run")
def scheduler_run(
    out: Annotated[Path, typer.Option(help="Thư mục ghi phụ lục khi tự chốt cuối quý")] = Path(
        "out/snapshots"),
    instance: InstanceOpt = None,
    db: DbOpt = None,
    demo: DemoOpt = False,
) -> None:
    """Chạy nền: mỗi phút tìm việc đến hạn và gửi nhắc; cuối quý tự chốt số liệu.

    Cần CCHC_WEB_BASE_URL (địa chỉ trang web, cho đường dẫn trong lời nhắc), trừ khi --demo.
    Dừng bằng Ctrl+C hoặc SIGTERM: việc đang làm dở được làm xong rồi mới thoát.
    """
    logging_setup.configure_logging()
    with session(False, db) as rt:
        app_url = reminders.reminder_base_url(demo=demo)
        logging_setup.configure_logging()
        service = reminders.ReminderService(rt, reminders.build_channels(rt=rt),
                                            instance=instance, out_dir=out, app_url=app_url)
        console.print(f"Đang chạy nhắc việc (tiến trình {service.instance}, kênh: "
                      f"{', '.join(CHANNEL_LABELS.get(c, c) for c in service.channels)}). "
                      "Nhấn Ctrl+C để dừng.")
        reminders.run_scheduler(service)
        console.print("Đã dừng tiến trình nhắc việc.")


def run_once_command(
    now: Annotated[str, typer.Option(
        "--now", metavar="THỜI_ĐIỂM", help="Thời điểm chạy YYYY-MM-DDTHH:MM (giờ Việt Nam)")],
    instance: InstanceOpt = None,
    db: DbOpt = None, json_: JsonOpt = False, demo: DemoOpt = False,
) -> None:
    """Chạy một lượt: tìm việc đến hạn tới thời điểm --now và gửi nhắc, rồi thoát.

    Cần CCHC_WEB_BASE_URL (địa chỉ trang web, cho đường dẫn trong lời nhắc), trừ khi --demo.
    """
    with session(json_, db, now) as rt:
        app_url = reminders.reminder_base_url(demo=demo)
        logging_setup.configure_logging()
        channels = reminders.build_channels(rt=rt)
        try:
            res = reminders.run_once(rt, rt.now(), channels, instance=instance, app_url=app_url)
        finally:
            reminders.close_channels(channels)
        if json_:
            emit_json(res.as_dict())
            return
        d = res.dispatch
        at = vn_time(res.now)
        console.print(f"Lượt nhắc việc lúc {at:%H:%M} ngày {format_date_vi(at.date())}: "
                      f"{res.inserted} lời nhắc mới vào hàng đợi; đã gửi {d.messages} thư "
                      f"({d.sent} lời nhắc).")
        extra = [(d.cancelled, "hủy vì việc đã xong hoặc đã đổi"),
                 (d.deferred, "hoãn đến giờ gửi"), (d.retried, "sẽ gửi lại"),
                 (d.fallback, "chuyển kênh khác"), (d.failed, "gửi không được"),
                 (d.unknown, "không rõ đã đến chưa (không tự gửi lại)"),
                 (d.alerts, "cảnh báo gửi quản trị viên (kênh hỏng)")]
        for n, label in extra:
            if n:
                console.print(f"  {n} lời nhắc {label}.")
        if d.failed:
            console.print("Xem: cchc outbox list --state failed")


__all__ = ["outbox_app", "run_once_command", "scheduler_app", "step_label"]
