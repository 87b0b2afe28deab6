"""Vietnamese mobile numbers: the one normaliser (Google's `phonenumbers`, region VN).

Why one: the people file, the admin form and the Zalo channel must agree on what a number is;
ZNS bills per message and answers -108 only after the call, so a number the people schema
accepts must be one Zalo accepts, and the other way round. The stored form is the one ZNS
expects: `84` + the 9 national digits, e.g. "0912 345 678", "+84 912 345 678",
"0084912345678", "840912345678" and "+84-0912-345-678" are all `84912345678`.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

_CHARS = re.compile(r"^[0-9\s.\-()+]+$")


class PhoneError(ValueError):
    """A refused number; `str()` is "Vietnamese / English", both naming the number typed."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi = vi
        self.en = en


def normalize_phone(value: str) -> str:
    """A Vietnamese mobile number as `84xxxxxxxxx`, or `PhoneError` with the reason."""
    raw = value.strip()
    if not raw:
        raise PhoneError("chưa nhập số điện thoại", "the phone number is empty")
    if not _CHARS.match(raw) or raw.count("+") > 1:
        raise PhoneError(f"số điện thoại '{raw}' có ký tự không phải chữ số",
                         f"phone number '{raw}' contains characters other than digits")
    try:
        number = phonenumbers.parse(raw, "VN")
    except NumberParseException:
        raise PhoneError(f"số điện thoại '{raw}' không đọc được",
                         f"phone number '{raw}' cannot be read") from None
    if number.country_code != 84:
        raise PhoneError(
            f"số điện thoại '{raw}' không phải số Việt Nam (mã quốc gia phải là +84)",
            f"phone number '{raw}' is not a Vietnamese number (country code must be +84)")
    national = str(number.national_number)
    if len(national) != 9:
        raise PhoneError(
            f"số điện thoại '{raw}' phải có 10 chữ số (ví dụ 0912 345 678) hoặc dạng "
            "+84 912 345 678",
            f"phone number '{raw}' must have 10 digits (e.g. 0912 345 678) or be +84 and 9 digits")
    if not (phonenumbers.is_valid_number(number)
            and phonenumbers.number_type(number) == PhoneNumberType.MOBILE):
        raise PhoneError(
            f"số điện thoại '{raw}' không phải số di động Việt Nam (đầu số phải là 03, 05, 07, "
            "08 hoặc 09)",
            f"phone number '{raw}' is not a Vietnamese mobile number (it must start with 03, 05, "
            "07, 08 or 09)")
    return "84" + national
