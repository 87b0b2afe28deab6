"""The password policy: long enough, not blank, not a common password, not the username.

Why a list: the 2023 leaks of Vietnamese accounts are dominated by a few dozen passwords
(`123456789`, `matkhau`, `anhyeuem`, …); argon2 makes each guess slow but not slow enough for
those. The list is a data file (`engine/directory/data/common-passwords.txt`) an administrator can
extend.
Comparison ignores case, Vietnamese accents and spaces, so `Mật Khẩu` is `matkhau`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from engine.errors import ValidationFailed
from vntext.text import fold

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"


def _key(text: str) -> str:
    return "".join(fold(text).split())


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(_key(line) for line in lines if line.strip() and not line.startswith("#"))


def _refuse(vi: str, en: str) -> ValidationFailed:
    return ValidationFailed(vi, en, field="password")


def check_password_rules(password: str, username: str | None = None) -> None:
    """Raise `ValidationFailed` (field `password`) with the Vietnamese reason, else nothing."""
    if not password.strip():
        raise _refuse("Mật khẩu không được để trống hoặc chỉ có dấu cách",
                      "the password may not be blank")
    if len(password) < MIN_PASSWORD:
        raise _refuse(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự",
                      f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise _refuse("Mật khẩu quá dài", "the password is too long")
    key = _key(password)
    if len(set(key)) < 3:
        raise _refuse("Mật khẩu phải có ít nhất 3 ký tự khác nhau",
                      "the password needs at least 3 different characters")
    if key in common_passwords():
        raise _refuse("Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác",
                      "this password is too common")
    if username and _key(username) in (key, key[::-1]):
        raise _refuse("Mật khẩu không được trùng với tên đăng nhập",
                      "the password may not be the username")


__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "check_password_rules", "common_passwords"]
