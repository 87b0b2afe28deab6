"""Digest rendering: Vietnamese wording, NFC, dd/mm/yyyy, escaping, ZNS parameters."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from notifications.base import Digest, DueItem, Recipient
from notifications.render import (
    ZALO_TEXT_LIMIT,
    ZNS_LIMITS,
    render_email,
    render_zalo,
    status_vi,
    zns_template_data,
)

TODAY = date(2025, 3, 12)


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


def _item(title: str, due: date, **kw: object) -> DueItem:
    days = (due - TODAY).days
    step = "due" if days == 0 else (f"before:{days}" if days > 0 else f"overdue:{-days}")
    fields: dict[str, object] = {
        "kind": "task",
        "title": title,
        "due_on": due,
        "step": step,
        "days": days,
        "unit_name": "xã Vĩnh Thạnh",
    }
    fields.update(kw)
    return DueItem(**fields)  # type: ignore[arg-type]


def _digest(*items: DueItem, **kw: object) -> Digest:
    fields: dict[str, object] = {
        "key": "d-2025-03-12-p7-email",
        "recipient": Recipient(name="Nguyễn Thị Hồng Nhung", email="nhung@example.vn"),
        "send_on": TODAY,
        "items": items,
        "app_url": "https://cchc.example.vn",
    }
    fields.update(kw)
    return Digest(**fields)  # type: ignore[arg-type]


def _three() -> Digest:
    return _digest(
        _item(
            "Báo cáo công tác cải cách hành chính quý I năm 2025",
            date(2025, 3, 15),
            kind="obligation",
            code="BC-CCHC-Q1",
            recipient_body="Phòng Nội vụ thành phố Nha Trang",
            document="Báo cáo CCHC quý I (bản ký số)",
            link="https://cchc.example.vn/obligations/7",
        ),
        _item("Rà soát, đánh giá thủ tục hành chính", date(2025, 3, 12), link="/tasks/4"),
        _item("Niêm yết công khai thủ tục hành chính", date(2025, 3, 19)),
    )


def test_status_wording() -> None:
    assert status_vi(3) == "còn 3 ngày"
    assert status_vi(1) == "còn 1 ngày"
    assert status_vi(0) == "đến hạn hôm nay"
    assert status_vi(-2) == "quá hạn 2 ngày làm việc"


def test_subject_greeting_dates_sorted() -> None:
    msg = render_email(_three())
    assert msg.subject == "[CCHC] Hạn hôm nay: 3 việc cần hoàn thành — xã Vĩnh Thạnh"
    assert msg.tracking_id == "d-2025-03-12-p7-email"
    assert msg.text.startswith("Kính gửi Nguyễn Thị Hồng Nhung,")
    assert msg.html is not None and "Kính gửi Nguyễn Thị Hồng Nhung," in msg.html
    for body in (msg.text, msg.html):
        assert "12/03/2025" in body and "15/03/2025" in body and "19/03/2025" in body
        assert "2025-03" not in body
        assert "đến hạn hôm nay" in body and "còn 3 ngày" in body and "còn 7 ngày" in body
        # earliest first
        order = [body.index(t) for t in ("Rà soát", "Báo cáo công tác", "Niêm yết")]
        assert order == sorted(order)


def test_obligation_shows_recipient_body_document_and_links() -> None:
    msg = render_email(_three())
    assert msg.html is not None
    for body in (msg.text, msg.html):
        assert "Phòng Nội vụ thành phố Nha Trang" in body
        assert "Báo cáo CCHC quý I (bản ký số)" in body
        assert "https://cchc.example.vn/obligations/7" in body
        assert "https://cchc.example.vn/tasks/4" in body  # relative link joined to app URL
    assert '<a href="https://cchc.example.vn/obligations/7">' in msg.html


def test_output_is_nfc_even_from_nfd_input() -> None:
    digest = _digest(
        _item(_nfd("Tuyên truyền cải cách hành chính"), date(2025, 3, 10),
              unit_name=_nfd("xã Vĩnh Thạnh")),
        recipient=Recipient(name=_nfd("Trần Văn Đức"), email="duc@example.vn"),
    )
    msg = render_email(digest)
    zalo = render_zalo(digest)
    assert msg.html is not None
    for out in (msg.subject, msg.text, msg.html, zalo.text, *zalo.template_data.values()):
        assert _is_nfc(out)
    assert "Trần Văn Đức" in msg.text
    assert "Tuyên truyền cải cách hành chính" in msg.text
    assert "quá hạn 2 ngày làm việc" in msg.text
    assert msg.subject.endswith("— xã Vĩnh Thạnh")


def test_html_escapes_titles_text_keeps_them() -> None:
    digest = _digest(
        _item('Lập kế hoạch <script>alert("x")</script> & kiểm tra', date(2025, 3, 13),
              link="javascript:alert(1)"),
    )
    msg = render_email(digest)
    assert msg.html is not None
    assert "<script>" not in msg.html
    assert "&lt;script&gt;" in msg.html and "&amp; kiểm tra" in msg.html
    assert "javascript:" not in msg.html and "javascript:" not in msg.text
    assert '<script>alert("x")</script> & kiểm tra' in msg.text


def test_escalation_subject_and_overdue_counts() -> None:
    items = (
        _item("Báo cáo kết quả thực hiện TTHC", date(2025, 3, 5)),
        _item("Cập nhật Cổng dịch vụ công", date(2025, 3, 9)),
    )
    msg = render_email(_digest(*items, escalation=True))
    assert msg.subject == ("[CCHC] Báo lãnh đạo: 2 việc quá hạn chưa hoàn thành — "
                           "xã Vĩnh Thạnh")
    assert "đã quá hạn" in msg.text
    assert "quá hạn 7 ngày làm việc" in msg.text and "quá hạn 3 ngày làm việc" in msg.text
    normal = render_email(_digest(*items, _item("Họp giao ban", date(2025, 3, 14))))
    assert normal.subject == "[CCHC] Quá hạn: 2/3 việc chưa hoàn thành — xã Vĩnh Thạnh"


def test_subject_follows_the_most_urgent_item() -> None:
    def subject(*days: int) -> str:
        items = [_item(f"Việc {d}", TODAY + timedelta(days=d)) for d in days]
        return render_email(_digest(*items)).subject.removesuffix(" — xã Vĩnh Thạnh")

    assert subject(9) == "[CCHC] Nhắc trước hạn: 1 việc"  # not "đến hạn" 9 days ahead
    assert subject(9, 3) == "[CCHC] Sắp đến hạn: 2 việc cần hoàn thành"
    assert subject(9, 0) == "[CCHC] Hạn hôm nay: 2 việc cần hoàn thành"
    assert subject(9, 0, -1) == "[CCHC] Quá hạn: 1/3 việc chưa hoàn thành"


def test_escalation_names_whose_item_and_the_real_deadline() -> None:
    item = _item("Niêm yết thủ tục hành chính", date(2025, 2, 1), owner="Công chức Văn phòng",
                 deadline=date(2025, 2, 3), plan="Kế hoạch số 147/KH-UBND ngày 16/02/2023",
                 period="6 tháng đầu năm 2025")
    msg = render_email(_digest(item, escalation=True))
    assert "Người phụ trách: Công chức Văn phòng" in msg.text
    assert "Hạn: 01/02/2025 (ngày nghỉ; hạn cuối là ngày làm việc 03/02/2025)" in msg.text
    assert "Theo: Kế hoạch số 147/KH-UBND ngày 16/02/2023" in msg.text
    assert "Kỳ báo cáo: 6 tháng đầu năm 2025" in msg.text
    # the officer's own reminder does not name him as the owner
    own = render_email(_digest(item))
    assert "Người phụ trách" not in own.text


def test_subject_is_one_line() -> None:
    digest = _digest(_item("Việc\r\nhai dòng", date(2025, 3, 14), unit_name="xã Vĩnh\nThạnh"))
    subject = render_email(digest).subject
    assert "\n" not in subject and "\r" not in subject
    assert subject == "[CCHC] Sắp đến hạn: 1 việc cần hoàn thành — xã Vĩnh Thạnh"


def test_several_units_and_missing_optional_values() -> None:
    digest = _digest(
        _item("Việc A", date(2025, 3, 14), unit_name="xã Vĩnh Thạnh"),
        _item("Việc B", date(2025, 3, 15), unit_name="xã Vĩnh Trung"),
        _item("Việc C", date(2025, 3, 16), unit_name="phường Lộc Thọ"),
        recipient=Recipient(name="", email="x@example.vn"),
        app_url="",
    )
    msg = render_email(digest)
    assert msg.subject == ("[CCHC] Sắp đến hạn: 3 việc cần hoàn thành — "
                           "xã Vĩnh Thạnh và 2 đơn vị khác")
    assert msg.text.startswith("Kính gửi anh/chị,")
    assert "Đơn vị: xã Vĩnh Trung" in msg.text
    assert "Mở hệ thống" not in msg.text


def test_zns_template_data_keys_and_lengths() -> None:
    long_title = "Xây dựng và triển khai kế hoạch " + "số hoá hồ sơ " * 20
    digest = _digest(
        _item("Việc sau", date(2025, 3, 20)),
        _item(long_title, date(2025, 3, 13), link="https://cchc.example.vn/tasks/9"),
        recipient=Recipient(name="Nguyễn Thị Hồng Nhung Phương Thảo Minh Anh", zalo_user_id="1"),
    )
    data = zns_template_data(digest)
    assert set(data) == {"ten", "so_viec", "han_gan_nhat", "noi_dung", "ke_hoach", "don_vi",
                         "link"}
    assert set(data) == set(ZNS_LIMITS)
    for key, value in data.items():
        assert isinstance(value, str)
        assert len(value) <= ZNS_LIMITS[key], key
        assert _is_nfc(value) and "\n" not in value
    assert data["so_viec"] == "2"
    assert data["han_gan_nhat"] == "13/03/2025"
    # cut at a word boundary: the text before "…" is a prefix ending at a whole word
    assert data["noi_dung"].endswith("…") and 190 <= len(data["noi_dung"]) <= 200
    kept = data["noi_dung"][:-1]
    assert long_title.startswith(kept) and long_title[len(kept)] == " "
    assert data["ten"] == "Nguyễn Thị Hồng Nhung Phương…"
    assert data["don_vi"] == "xã Vĩnh Thạnh"
    assert data["link"] == "https://cchc.example.vn/tasks/9"
    assert render_zalo(digest).template_data == data


def test_zalo_text_is_short() -> None:
    items = tuple(
        _item(f"Nhiệm vụ số {n}: " + "rà soát văn bản " * 30, date(2025, 3, 13 + n % 10))
        for n in range(12)
    )
    zalo = render_zalo(_digest(*items))
    assert len(zalo.text) <= ZALO_TEXT_LIMIT
    assert zalo.text.startswith("[CCHC] Kính gửi Nguyễn Thị Hồng Nhung")
    small = render_zalo(_digest(*items[:7]))
    assert "… và 2 việc khác." in small.text
    assert small.text.endswith("Xem tất cả: https://cchc.example.vn")
    assert small.html is None and small.tracking_id == "d-2025-03-12-p7-email"
