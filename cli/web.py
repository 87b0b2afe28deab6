"""`cchc serve` (the web app under uvicorn) and `cchc user …` (web logins and API tokens)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.lazy import lazy
from cli.output import console, emit_json, fail, vn_time
from cli.vietnamese import DbOpt, JsonOpt, role_code, vi_typer
from engine import directory
from engine.clock import VN_TZ, Clock, running_clock
from engine.errors import CchcError, ValidationFailed

if TYPE_CHECKING:
    from engine import logging_setup, runtime
    from engine.runtime import Runtime
else:
    runtime = lazy("engine.runtime")
    logging_setup = lazy("engine.logging_setup")

user_app = vi_typer("Tài khoản đăng nhập web và mã truy cập API")

UserArg = Annotated[str, typer.Argument(metavar="TÊN_ĐĂNG_NHẬP", help="Tên đăng nhập")]


def demo_clock(text: str) -> Clock:
    """A clock that reads 09:00 (Vietnam time) of the day `text` (dd/mm/yyyy) now and runs on
    in real time, so history rows still get increasing times."""
    from web.routes.common import parse_date_vi  # lazy: the web app (CLI start time)

    day = parse_date_vi(text, "at")
    assert day is not None
    return running_clock(datetime.combine(day, time(9, 0), tzinfo=VN_TZ))


def serve(
    host: Annotated[str, typer.Option(metavar="ĐỊA_CHỈ", help="Địa chỉ lắng nghe")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="CỔNG", help="Cổng")] = 8000,
    db: DbOpt = None,
    proxy_headers: Annotated[bool, typer.Option(
        "--proxy-headers", help="Tin X-Forwarded-For của reverse proxy (nginx) trên máy này")
    ] = False,
    at: Annotated[str | None, typer.Option(
        "--at", help="Chạy như thể hôm nay là ngày này (dd/mm/yyyy), đồng hồ chạy tiếp từ "
                     "9 giờ sáng ngày đó — để trình diễn dữ liệu của năm cũ, ví dụ 20/09/2023")
    ] = None,
    workers: Annotated[int, typer.Option(
        min=1, help="Số tiến trình phục vụ (nên bằng số lõi CPU; SQLite: 1)")] = 1,
    access_log: Annotated[bool, typer.Option(
        "--access-log", help="Ghi nhật ký từng yêu cầu (mặc định tắt)")] = False,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Cho phép chạy khi còn tài khoản trình diễn (chỉ để trình diễn, "
                       "không dùng cho số liệu thật)")] = False,
) -> None:
    """Chạy ứng dụng web (mở http://HOST:PORT trong trình duyệt)."""
    import uvicorn

    from web.app import create_app  # lazy: FastAPI and every page (CLI start time)

    if at and workers > 1:
        fail(ValidationFailed("Ngày trình diễn (--at) chỉ dùng với một tiến trình (--workers 1)",
                              "--at needs --workers 1", field="workers"), False)
    try:
        clock = demo_clock(at) if at else None
        rt = runtime.open_runtime(db, clock=clock)  # migrated here, before any worker starts
    except CchcError as exc:
        fail(exc, False)
    problems = directory.production_problems(rt)
    if problems and not demo:
        rt.db.dispose()
        for p in problems:
            console.print(f"[red]Không chạy được:[/red] {escape(p)}.", markup=True)
        console.print("Để trình diễn với dữ liệu mẫu, chạy lại với --demo.")
        raise typer.Exit(1)
    for p in problems:
        console.print(f"[yellow]Chế độ trình diễn:[/yellow] {escape(p)}.", markup=True)
    console.print(f"Ứng dụng web: http://{host}:{port}/ (Ctrl+C để dừng)")
    if at:
        console.print(f"Ngày trình diễn: hôm nay là {rt.today().strftime('%d/%m/%Y')} "
                      "(không dùng cho số liệu thật).")
    options: dict[str, Any] = {"host": host, "port": port, "proxy_headers": proxy_headers,
                               "server_header": False, "log_level": "info",
                               "access_log": access_log, "log_config": None}
    logging_setup.configure_logging()  # uvicorn logs through it too (log_config=None)
    try:
        if workers > 1:
            # Each worker process builds its own app (and engine) from the environment.
            os.environ["CCHC_DATABASE_URL"] = rt.db.url
            uvicorn.run("web.app:create_worker_app", factory=True, workers=workers, **options)
        else:
            uvicorn.run(create_app(rt, freeze_collector=True), **options)
    finally:
        rt.db.dispose()


@user_app.command("add")
def user_add(
    username: UserArg,
    role: Annotated[str, typer.Option(
        metavar="VAI_TRÒ", help="'cán bộ', 'lãnh đạo', 'thẩm định' hoặc 'quản trị'")],
    name: Annotated[str, typer.Option(help="Họ và tên, ví dụ 'Trần Thị Mỹ Hạnh'")],
    unit: Annotated[str | None, typer.Option(
        metavar="ĐƠN_VỊ",
        help="Mã đơn vị: xã/phường (cán bộ, lãnh đạo), thành phố (thẩm định)")] = None,
    password: Annotated[str | None, typer.Option(
        help="Mật khẩu (nếu bỏ trống sẽ được hỏi, không hiện trên màn hình)")] = None,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Tạo tài khoản đăng nhập web."""
    if password is None:
        password = typer.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    try:
        rt = runtime.open_runtime(db)
        try:
            user = directory.create_user(rt, username, password=password, role=role_code(role),
                                        full_name=name, unit=unit)
        finally:
            rt.db.dispose()
    except CchcError as exc:
        fail(exc, json_)
    if json_:
        emit_json({"username": user.username, "full_name": user.full_name, "role": user.role,
                   "unit": user.unit_slug})
    else:
        where = f", {user.unit_display}" if user.unit_display else ""
        console.print(f"Đã tạo tài khoản [bold]{escape(user.username)}[/bold] "
                      + escape(f"({user.full_name}, {directory.role_label(user.role)}{where})")
                      + ".", markup=True)


@user_app.command("list")
def user_list(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Danh sách tài khoản."""
    try:
        rt = runtime.open_runtime(db)
        try:
            users = directory.list_users(rt)
        finally:
            rt.db.dispose()
    except CchcError as exc:
        fail(exc, json_)
    if json_:
        emit_json([{"username": u.username, "full_name": u.full_name, "role": u.role,
                    "unit": u.unit_slug, "active": u.active,
                    "last_login_at": u.last_login_at} for u in users])
        return
    table = Table("Tên đăng nhập", "Họ tên", "Vai trò", "Đơn vị", "Đăng nhập gần nhất")
    for u in users:
        last = vn_time(u.last_login_at).strftime("%H:%M %d/%m/%Y") if u.last_login_at else ""
        name = u.full_name if u.active else f"{u.full_name} (đã khóa)"
        table.add_row(u.username, name, directory.role_label(u.role), u.unit_display, last)
    console.print(table)


@user_app.command("token")
def user_token(
    username: UserArg,
    name: Annotated[str, typer.Option(help="Dùng cho hệ thống nào, ví dụ 'Báo cáo tỉnh'")],
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Cấp mã truy cập API mới (chỉ hiện một lần; hệ thống chỉ lưu bản băm)."""
    try:
        rt = runtime.open_runtime(db)
        try:
            raw, token = directory.create_api_token(rt, username, name)
        finally:
            rt.db.dispose()
    except CchcError as exc:
        fail(exc, json_)
    if json_:
        emit_json({"id": token.id, "username": token.username, "name": token.name,
                   "token": raw})
        return
    console.print(f"Mã truy cập số {token.id} ({token.name}) của {token.username}:")
    console.print(raw, soft_wrap=True)
    console.print("Hãy lưu lại ngay: mã này sẽ không được hiển thị lần nữa. Dùng trong tiêu đề "
                  "'Authorization: Bearer <mã>'.", style="dim")


@user_app.command("passwd")
def user_passwd(
    username: UserArg,
    password: Annotated[str | None, typer.Option(
        help="Mật khẩu mới (nếu bỏ trống sẽ được hỏi)")] = None,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Đặt lại mật khẩu (mọi phiên đăng nhập kết thúc, mọi mã truy cập API bị thu hồi)."""
    if password is None:
        password = typer.prompt("Mật khẩu mới", hide_input=True, confirmation_prompt=True)
    new_password = password
    user = _account_change(db, json_, lambda rt: directory.set_password(rt, username,
                                                                       new_password))
    emit_json({"username": user.username}) if json_ else console.print(
        f"Đã đặt lại mật khẩu cho {user.username}.")


def _account_change(db: str | None, json_: bool,
                    change: Callable[[Runtime], directory.UserView]) -> directory.UserView:
    """Run one change of an account on the database; a refusal ends the command."""
    try:
        rt = runtime.open_runtime(db)
        try:
            return change(rt)
        finally:
            rt.db.dispose()
    except CchcError as exc:
        fail(exc, json_)


def _set_active(username: str, active: bool, db: str | None, json_: bool) -> None:
    user = _account_change(db, json_, lambda rt: directory.set_active(rt, username, active))
    if json_:
        emit_json({"username": user.username, "active": user.active})
    elif active:
        console.print(f"Đã mở khóa tài khoản {user.username}.")
    else:
        console.print(f"Đã khóa tài khoản {user.username}: mọi phiên đăng nhập kết thúc, mã "
                      "truy cập API không còn dùng được.")


@user_app.command("lock")
def user_lock(username: UserArg,
              db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Khóa tài khoản: không đăng nhập được, mọi phiên kết thúc, mã truy cập API ngừng."""
    _set_active(username, False, db, json_)


@user_app.command("unlock")
def user_unlock(username: UserArg,
                db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Mở khóa tài khoản đã khóa."""
    _set_active(username, True, db, json_)


@user_app.command("tokens")
def user_tokens(username: Annotated[str | None, typer.Argument(
                    metavar="TÊN_ĐĂNG_NHẬP", help="Chỉ của một tài khoản")] = None,
                db: DbOpt = None,
                json_: JsonOpt = False) -> None:
    """Các mã truy cập API (không hiện mã, chỉ phần đầu để nhận ra)."""
    try:
        rt = runtime.open_runtime(db)
        try:
            tokens = directory.list_api_tokens(rt, username)
        finally:
            rt.db.dispose()
    except CchcError as exc:
        fail(exc, json_)
    if json_:
        emit_json(tokens)
        return
    table = Table("Số", "Tài khoản", "Tên", "Bắt đầu bằng", "Dùng gần nhất", "Trạng thái")
    for t in tokens:
        used = vn_time(t.last_used_at).strftime("%H:%M %d/%m/%Y") if t.last_used_at else ""
        table.add_row(str(t.id), t.username, t.name, t.prefix + "…", used,
                      "còn hiệu lực" if t.active else "đã thu hồi")
    console.print(table)


@user_app.command("revoke-token")
def user_revoke_token(token_id: Annotated[int, typer.Argument(metavar="SỐ",
                                                              help="Số của mã truy cập")],
                      db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Thu hồi một mã truy cập API (theo số của nó)."""
    try:
        rt = runtime.open_runtime(db)
        try:
            token = directory.revoke_api_token(rt, token_id)
        finally:
            rt.db.dispose()
    except CchcError as exc:
        fail(exc, json_)
    if json_:
        emit_json({"id": token.id, "username": token.username, "revoked_at": token.revoked_at})
    else:
        console.print(f"Đã thu hồi mã truy cập số {token.id} ({token.name}) của "
                      f"{token.username}.")


__all__ = ["serve", "user_app"]
