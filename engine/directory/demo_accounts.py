"""The demo's web logins: one per role for xã Vĩnh Thạnh and the reviewer of Nha Trang.

Why here and not in engine.demo: `cchc serve` (engine.directory.production) refuses to serve
while one of them still logs in with its demo password, so the directory must know them
without loading the demo (which loads every writer).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from engine.directory import accounts
from engine.errors import Conflict
from engine.runtime import Runtime


@dataclass(frozen=True)
class DemoAccount:
    """A web login of the demo; the password is printed by `cchc demo` (demo data only)."""

    username: str
    password: str
    role: str
    unit: str
    full_name: str


#: One login per role for xã Vĩnh Thạnh and the city reviewer of Nha Trang. The leader is the
#: Chủ tịch named in the seed report; the other names are those of the demo's people.yaml
#: (invented where the seed names nobody). Demo passwords: never use them on a real server.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("canbo.vinhthanh", "canbo2023", "officer", "vinh-thanh", "Trần Thị Mỹ Hạnh"),
    DemoAccount("lanhdao.vinhthanh", "lanhdao2023", "leader", "vinh-thanh", "Nguyễn Quốc Bảo"),
    # An admin administers its unit and everything below it: the province covers the demo.
    DemoAccount("quantri.vinhthanh", "quantri2023", "admin", "khanh-hoa",
                "Quản trị hệ thống tỉnh Khánh Hòa"),
    DemoAccount("thamdinh.nhatrang", "thamdinh2023", "reviewer", "nha-trang", "Lê Minh Khoa"),
)


def create_demo_accounts(rt: Runtime) -> list[DemoAccount]:
    """Create the demo's web logins (officer, leader, admin of xã Vĩnh Thạnh; the reviewer of
    thành phố Nha Trang); existing usernames are left as they are."""
    for a in DEMO_ACCOUNTS:
        with suppress(Conflict):
            accounts.create_user(rt, a.username, password=a.password, role=a.role,
                                 full_name=a.full_name, unit=a.unit)
    return list(DEMO_ACCOUNTS)


__all__ = ["DEMO_ACCOUNTS", "DemoAccount", "create_demo_accounts"]
