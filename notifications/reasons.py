"""Why a message did not go out, in the words an officer reads (`cchc outbox`, the web outbox).

Why a table keyed by code: channels raise errors with the provider's own text (Zalo's English
message, the SMTP server's reply), which the admin needs verbatim to report a problem, but the
CLI is Vietnamese. The dispatcher stores `vietnamese_reason(err)` — the Vietnamese explanation
followed by the provider's text in parentheses — as the row's `last_error`.
"""

from __future__ import annotations

from typing import Final

from notifications.base import (
    ChannelBroken,
    DeliveryError,
    FallbackError,
    TransientError,
    UnknownOutcome,
)

ZALO_VI: Final[dict[str, str]] = {
    "-32": "Zalo giới hạn tốc độ gửi, sẽ gửi lại sau",
    "-100": "Zalo báo lỗi tạm thời, sẽ gửi lại sau",
    "-108": "số điện thoại không hợp lệ với Zalo",
    "-109": "mã mẫu ZNS không đúng",
    "-111": "tin ZNS thiếu nội dung",
    "-112": "Zalo từ chối nội dung tin ZNS (sai tham số của mẫu)",
    "-114": "người nhận không nhận được tin ZNS (cài đặt tài khoản)",
    "-115": "tài khoản ZNS hết tiền, cần nạp thêm",
    "-117": "mẫu ZNS chưa được duyệt hoặc chưa cấp cho OA",
    "-118": "số điện thoại chưa có tài khoản Zalo",
    "-119": "tài khoản Zalo này không nhận được tin ZNS",
    "-124": "mã truy cập Zalo không hợp lệ",
    "-131": "hết hạn mức gửi ZNS trong ngày, sẽ gửi lại sau",
    "-133": "ngoài giờ Zalo cho phép gửi ZNS, sẽ gửi lại sau",
    "-139": "người nhận đã từ chối loại tin ZNS này",
    "-201": "Zalo từ chối nội dung tin nhắn OA (sai định dạng)",
    "-211": "OA hết hạn mức tin nhắn, sẽ gửi lại sau",
    "-213": "người nhận chưa quan tâm (theo dõi) OA",
    "-216": "mã truy cập Zalo không hợp lệ",
    "-217": "người nhận đã chặn tin nhắn của OA",
    "-218": "hết hạn mức tin gửi người này",
    "-220": "mã truy cập Zalo đã hết hạn",
    "-227": "tài khoản Zalo của người nhận bị khóa hoặc không hoạt động",
    "-230": "người nhận không tương tác với OA trong 7 ngày qua",
    "-232": "người nhận không tương tác với OA gần đây",
    "-234": "OA không được gửi tin từ 22:00 đến 06:00, sẽ gửi lại buổi sáng",
    "-14014": "mã làm mới (refresh token) Zalo không còn hiệu lực: quản trị viên cần cấp "
              "lại quyền (cchc zalo authorize)",
    "not_configured": "chưa cấu hình Zalo (mã ứng dụng, khóa bí mật hoặc mã truy cập): quản "
                      "trị viên cần cấp quyền (cchc zalo authorize)",
    "no_refresh_token": "chưa có mã làm mới Zalo: quản trị viên cần cấp quyền "
                        "(cchc zalo authorize)",
    "no_template": "chưa cấu hình mẫu tin Zalo",
    "invalid_phone": "số điện thoại không phải số di động Việt Nam",
    "no_address": "người nhận chưa có Zalo hay số điện thoại",
    "timeout": "máy chủ không trả lời kịp, sẽ gửi lại sau",
    "connection": "không kết nối được máy chủ, sẽ gửi lại sau",
    "unknown_outcome": "đã gửi yêu cầu nhưng không nhận được trả lời: không rõ tin đã đến "
                       "hay chưa",
    "stalled": "kênh gửi không trả lời, tạm hoãn",
    "token_store": "không đọc được mã truy cập Zalo trong cơ sở dữ liệu, sẽ thử lại sau",
}


def _smtp_vi(code: str) -> str | None:
    if not code.isdigit():
        return None
    n = int(code)
    if n in (550, 551, 553):
        return "máy chủ thư từ chối địa chỉ người nhận (hộp thư không tồn tại hoặc sai địa chỉ)"
    if n == 552:
        return "hộp thư người nhận đầy hoặc thư quá lớn"
    if n in (530, 535):
        return "máy chủ thư từ chối đăng nhập (kiểm tra CCHC_SMTP_USERNAME, CCHC_SMTP_PASSWORD)"
    if 400 <= n < 500:
        return "máy chủ thư tạm thời chưa nhận thư, sẽ gửi lại sau"
    if 500 <= n < 600:
        return "máy chủ thư từ chối thư"
    return None


def vietnamese_reason(err: DeliveryError) -> str:
    """ "<Vietnamese explanation> (<provider's text>)"; the provider's text alone when the code
    is unknown, prefixed by what kind of failure it is."""
    code = err.code or ""
    vi = ZALO_VI.get(code) or _smtp_vi(code)
    if vi is None:
        if isinstance(err, UnknownOutcome):
            vi = ZALO_VI["unknown_outcome"]
        elif isinstance(err, ChannelBroken):
            vi = "kênh gửi đang hỏng, quản trị viên cần xử lý"
        elif isinstance(err, FallbackError):
            vi = "kênh này không gửi được cho người nhận"
        elif isinstance(err, TransientError):
            vi = "lỗi tạm thời, sẽ gửi lại sau"
        else:
            vi = "gửi không được"
    return f"{vi} ({err.reason})"


__all__ = ["ZALO_VI", "vietnamese_reason"]
