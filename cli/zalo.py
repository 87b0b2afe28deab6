"""`cchc zalo authorize` and `cchc zalo status`: the OA's token pair, for administrators.

Why a command: the pair lives in the database (shared by every dispatcher; the refresh token
is single-use), so new tokens in the environment are ignored once a pair is stored. When Zalo
refuses the refresh token (-14014), reminders go by e-mail and the unit's admin is alerted
until an admin stores a new pair here — either the pair copied from the Zalo developer page,
or the authorisation code of the OA permission page, exchanged (OAuth v4) for a pair.
Tokens are never printed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import console, emit_json, vn_time
from cli.session import session
from engine import reminders
from engine.errors import ValidationFailed

if TYPE_CHECKING:  # imported when a command runs (CLI start stays light)
    from notifications.settings import ZaloSettings
    from notifications.zalo.client import IssuedTokens

zalo_app = typer.Typer(help="Zalo OA: cấp quyền gửi tin (mã truy cập), xem tình trạng",
                       no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON cho máy đọc")]
DbOpt = Annotated[str | None, typer.Option("--db", envvar="CCHC_DATABASE_URL",
                                           help="URL cơ sở dữ liệu (mặc định SQLite)")]


@zalo_app.command("authorize")
def zalo_authorize(
    access_token: Annotated[str | None, typer.Option(
        "--access-token", envvar="CCHC_ZALO_NEW_ACCESS_TOKEN",
        help="Mã truy cập (access token) mới lấy từ trang quản lý ứng dụng Zalo")] = None,
    refresh_token: Annotated[str | None, typer.Option(
        "--refresh-token", envvar="CCHC_ZALO_NEW_REFRESH_TOKEN",
        help="Mã làm mới (refresh token) đi kèm")] = None,
    expires_in: Annotated[int, typer.Option(
        "--expires-in", min=60, help="Số giây mã truy cập còn hiệu lực (Zalo: 90000)")] = 90000,
    code: Annotated[str | None, typer.Option(
        "--code", help="Mã cấp quyền (authorization code) từ trang cấp quyền OA của Zalo")]
    = None,
    code_verifier: Annotated[str | None, typer.Option(
        "--code-verifier", help="Mã xác minh PKCE, nếu đã dùng khi mở trang cấp quyền")] = None,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Lưu cặp mã Zalo mới (hoặc đổi mã cấp quyền lấy cặp mã) để hệ thống gửi lại được Zalo.

    Dùng khi hệ thống báo "mã làm mới Zalo không còn hiệu lực". Mã không bao giờ được in ra.
    """
    from notifications.settings import ZaloSettings

    with session(json_, db) as rt:
        if code is None and not (access_token and refresh_token):
            raise ValidationFailed(
                "Cần --code (mã cấp quyền) hoặc cả --access-token và --refresh-token",
                "give --code, or both --access-token and --refresh-token", field="code")
        if code is not None and (access_token or refresh_token):
            raise ValidationFailed(
                "Chỉ dùng một cách: --code, hoặc --access-token với --refresh-token",
                "use --code or the token pair, not both", field="code")
        settings = ZaloSettings()
        store = reminders.SqlTokenStore(rt.db, settings)
        how = "cặp mã được nhập"
        if code is not None:
            from notifications.base import DeliveryError
            from notifications.reasons import vietnamese_reason

            try:
                issued = asyncio.run(_exchange(settings, code, code_verifier))
            except DeliveryError as exc:
                raise ValidationFailed(
                    f"Zalo không đổi được mã cấp quyền: {vietnamese_reason(exc)}",
                    f"Zalo refused the code exchange: {exc.reason}", field="code") from None
            access_token, refresh_token = issued.access_token, issued.refresh_token
            expires_in = issued.expires_in
            how = "mã cấp quyền đã đổi qua Zalo"
        assert access_token is not None and refresh_token is not None
        pair = store.replace(access_token, refresh_token, expires_in)
        if json_:
            emit_json({"oa_id": store.oa_id, "version": pair.version,
                       "expires_at": pair.expires_at.isoformat()})
            return
        console.print(f"Đã lưu cặp mã Zalo mới cho OA {store.oa_id} ({how}), phiên bản "
                      f"{pair.version}, mã truy cập hết hạn lúc "
                      f"{vn_time(pair.expires_at):%H:%M %d/%m/%Y}. Lời nhắc gửi lại qua Zalo "
                      "từ lượt tới.")


async def _exchange(settings: ZaloSettings, code: str, verifier: str | None) -> IssuedTokens:
    import httpx

    from notifications.zalo.client import ZaloClient

    async with httpx.AsyncClient() as http:
        return await ZaloClient(settings, http).exchange_code(code, verifier)


@zalo_app.command("status")
def zalo_status(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Tình trạng mã Zalo đang lưu: phiên bản, hạn của mã truy cập (không in mã)."""
    from notifications.settings import ZaloSettings

    with session(json_, db) as rt:
        store = reminders.SqlTokenStore(rt.db, ZaloSettings())
        pair = store.current()
        if json_:
            emit_json(None if pair is None else {
                "oa_id": store.oa_id, "version": pair.version,
                "expires_at": pair.expires_at.isoformat(), "expired": store.expired(pair)})
            return
        if pair is None:
            console.print("Chưa lưu mã Zalo nào (dùng: cchc zalo authorize).")
            return
        state = "đã hết hạn (sẽ tự làm mới khi gửi)" if store.expired(pair) else "còn hiệu lực"
        console.print(f"OA {store.oa_id}: cặp mã phiên bản {pair.version}, mã truy cập {state}"
                      f" đến {vn_time(pair.expires_at):%H:%M %d/%m/%Y}.")


__all__ = ["zalo_app"]
