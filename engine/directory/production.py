"""Production mode: what must not be true when the web app is served for real.

Why: `cchc demo` creates four logins with passwords printed in the README; a database made by
the demo (or copied from one) and served on a network is open to anyone who read it. `cchc
serve` refuses to start while such an account can still log in with its demo password, or a
configured secret is a placeholder, unless it is started with `--demo`.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.directory.accounts import verify_password
from engine.directory.demo_accounts import DEMO_ACCOUNTS
from engine.runtime import Runtime
from engine.storage.models import User

#: Secrets nobody should deploy with (compared without case).
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "password", "demo",
                                 "test", "123456", "matkhau", "xxx"})


def demo_logins_open(rt: Runtime) -> list[str]:
    """Usernames of demo accounts that are active and still have their demo password."""
    demo = {a.username: a.password for a in DEMO_ACCOUNTS}
    with rt.db.read() as session:
        rows = session.execute(select(User.username, User.password_hash).where(
            User.username.in_(demo), User.active.is_(True))).all()
    return sorted(name for name, stored in rows
                  if verify_password(stored, demo[name]))


def placeholder_secrets() -> list[str]:
    """Names of configured secrets (SMTP password, Zalo keys) whose value is a placeholder."""
    from notifications.settings import SmtpSettings, ZaloSettings

    found: list[str] = []
    for prefix, settings in (("CCHC_SMTP_", SmtpSettings()), ("CCHC_ZALO_", ZaloSettings())):
        for name, value in settings:
            secret = getattr(value, "get_secret_value", None)
            if secret is not None and secret().strip().lower() in PLACEHOLDER_SECRETS:
                found.append(prefix + name.upper())
    return found


def production_problems(rt: Runtime) -> list[str]:
    """Why this database and configuration must not be served for real (Vietnamese)."""
    problems = []
    demo = demo_logins_open(rt)
    if demo:
        problems.append("còn tài khoản trình diễn với mật khẩu công khai: " + ", ".join(demo)
                        + " (khóa bằng: cchc user lock TÊN, hoặc đổi: cchc user passwd TÊN)")
    secrets = placeholder_secrets()
    if secrets:
        problems.append("khóa bí mật còn giá trị mẫu: " + ", ".join(secrets))
    return problems


__all__ = ["PLACEHOLDER_SECRETS", "demo_logins_open", "placeholder_secrets",
           "production_problems"]
