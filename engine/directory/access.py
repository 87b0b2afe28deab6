"""Who may see and do what: the authorization policy, in one place.

Roles (a `User.role`):

- `officer` (cán bộ, công chức) and `leader` (lãnh đạo UBND): their own commune only — read it
  and write it; which workflow steps each may take is the workflow's `roles:` list
  (`workflows/task.yaml`: only a leader or admin may `reopen`); assigning owners, setting
  deadlines and freezing a quarter's figures are the leader's.
- `reviewer` (thẩm định, Phòng Nội vụ of the city): reads every unit whose parent is their city;
  never writes anything, whatever the action.
- `admin`: every action; an admin without a unit administers every unit, an admin with a unit
  (a commune, a city, a province) only that unit and the units below it.

Two questions, asked separately: *may this role do this action* (`ACTION_ROLES`, or the
workflow for a trigger) and *is this unit in the user's scope* (read scope, write scope). Every
check has a `can_…` form answering True/False (to show or hide a button) and a `require_…` form
raising `Forbidden` with a Vietnamese message (to refuse a request). The engine still checks the
workflow role itself (`api.transition` with `actor_for(user)`), so a forgotten check here can
never let an officer reopen a task.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from engine.directory.accounts import UserView
from engine.directory.actor import ROLE_LABELS, ROLES, Actor
from engine.directory.units import UnitView, ancestors, get_unit, view
from engine.errors import Forbidden
from engine.runtime import Runtime
from engine.storage.database import scope_memo
from engine.storage.models import Unit

ALL_ROLES = frozenset(ROLES)
WRITERS = frozenset({"officer", "leader", "admin"})
LEADERS = frozenset({"leader", "admin"})

#: Actions other than workflow triggers: the roles that may take them.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "unit.read": ALL_ROLES,            # see a unit's tasks, history, reports, attachments
    "report.export": ALL_ROLES,        # download Phụ lục / snapshot of a readable unit
    "task.note": WRITERS,              # ghi nhận tiến độ
    "task.attach": WRITERS,            # upload an evidence PDF
    "obligation.update": WRITERS,      # báo cáo định kỳ: mark submitted, etc.
    "task.assign": LEADERS,            # phân công
    "task.deadline": LEADERS,          # đặt thời hạn
    "report.freeze": LEADERS,          # chốt số liệu
    "task.instruct": LEADERS,          # ý kiến chỉ đạo on a task of their commune
    "review.comment": frozenset({"reviewer", "admin"}),  # the reviewing body's comment
    "city.read": frozenset({"reviewer", "admin"}),  # the city's overview of its communes
    "reminders.manage": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
}
#: Actions that change data: checked against the write scope (a reviewer has none).
WRITE_ACTIONS = frozenset({"task.note", "task.attach", "obligation.update", "task.assign",
                           "task.deadline", "report.freeze", "task.instruct",
                           "reminders.manage", "users.manage"})
# "review.comment" is checked against the READ scope: the reviewing body comments on the
# communes it reads, and the comment changes none of the commune's figures.
#: Actions that need no unit (`unit=None`): only the role counts.
GLOBAL_ACTIONS = frozenset({"city.read", "reminders.manage", "users.manage"})

ACTION_LABELS: dict[str, str] = {
    "unit.read": "xem số liệu",
    "report.export": "xuất báo cáo",
    "task.note": "ghi nhận tiến độ",
    "task.attach": "đính kèm văn bản",
    "obligation.update": "cập nhật báo cáo định kỳ",
    "task.assign": "phân công nhiệm vụ",
    "task.deadline": "đặt thời hạn",
    "report.freeze": "chốt số liệu",
    "task.instruct": "ghi ý kiến chỉ đạo",
    "review.comment": "ghi ý kiến thẩm định",
    "city.read": "xem tổng hợp các xã, phường",
    "reminders.manage": "quản lý nhắc việc",
    "users.manage": "quản lý tài khoản",
}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def actor_for(user: UserView) -> Actor:
    """The workflow actor of a logged-in user: their name in the history, their role for the
    workflow's `roles:` lists (a reviewer's role is in none of them)."""
    return Actor(name=user.full_name, role=user.role)


# ---------------------------------------------------------------- unit scope


@dataclass(frozen=True)
class _Target:
    """A unit as the policy needs it: id, parent, name, and the ids of it and all above it."""

    id: int
    parent_id: int | None
    kind: str
    name: str
    chain: frozenset[int]


def _unit(rt: Runtime, slug: str) -> _Target:
    with rt.db.read() as session:
        def load() -> _Target:
            unit = get_unit(session, slug)  # NotFound for an unknown unit, whoever asks
            chain = {unit.id} | {u.id for u in ancestors(session, unit)}
            return _Target(unit.id, unit.parent_id, unit.kind, unit.name, frozenset(chain))

        return scope_memo(session, ("access_target", slug), load)  # once per web request


def _admin_covers(user: UserView, unit: _Target) -> bool:
    """An admin without a unit covers all; with one, that unit and its descendants."""
    return user.unit_id is None or user.unit_id in unit.chain


def _units_below(session: Session, top: int) -> set[int]:
    """Every unit below `top`: what a reviewing body (a province over its communes since
    1/7/2025, or a city or district) reviews, and what an admin of `top` administers."""
    below = {top}
    found: set[int] = set()
    while below:
        below = set(session.scalars(select(Unit.id).where(Unit.parent_id.in_(below)))) - found
        found |= below
    return found


def _reviews(user: UserView, unit: _Target) -> bool:
    """The reviewer's unit is an ancestor of `unit`."""
    return user.unit_id is not None and user.unit_id != unit.id and user.unit_id in unit.chain


def _display(unit: _Target) -> str:
    return f"{unit.kind} {unit.name}"


def _reads(rt: Runtime, user: UserView, unit: _Target) -> bool:
    if not user.active or user.role not in ALL_ROLES:
        return False
    if user.role == "admin":
        return _admin_covers(user, unit)
    if user.role == "reviewer":
        return _reviews(user, unit)
    return user.unit_id is not None and unit.id == user.unit_id


def _writes(user: UserView, unit: _Target) -> bool:
    if not user.active or user.role not in WRITERS:
        return False
    if user.role == "admin":
        return _admin_covers(user, unit)
    return user.unit_id is not None and unit.id == user.unit_id


def can_read_unit(rt: Runtime, user: UserView, unit: str) -> bool:
    return _reads(rt, user, _unit(rt, unit))


def can_write_unit(rt: Runtime, user: UserView, unit: str) -> bool:
    return _writes(user, _unit(rt, unit))


def require_read(rt: Runtime, user: UserView, unit: str) -> None:
    row = _unit(rt, unit)
    if not _reads(rt, user, row):
        raise Forbidden(f"Bạn không có quyền xem số liệu của {_display(row)}",
                        f"you may not read unit '{unit}'", field="unit", value=unit)


def require_write(rt: Runtime, user: UserView, unit: str) -> None:
    row = _unit(rt, unit)
    if _writes(user, row):
        return
    if user.role == "reviewer":
        raise Forbidden("Tài khoản thẩm định chỉ được xem, không được sửa số liệu",
                        "a reviewer reads only, never writes", field="role")
    own = user.unit_display or "đơn vị của mình"
    raise Forbidden(f"Bạn chỉ được cập nhật số liệu của {own}, không phải của {_display(row)}",
                    f"you may not change unit '{unit}'", field="unit", value=unit)


def readable_units(rt: Runtime, user: UserView) -> list[UnitView]:
    """The units the user may open, by slug: own commune; every unit below the reviewing body
    (province, city or district); all (admin)."""
    if not user.active or user.role not in ALL_ROLES:
        return []
    with rt.db.read() as session:
        q = select(Unit).order_by(Unit.slug)
        if user.role == "reviewer":
            q = q.where(Unit.id.in_(_units_below(session, user.unit_id))
                        if user.unit_id is not None else false())
        elif user.role == "admin" and user.unit_id is not None:  # its unit and all below
            q = q.where(Unit.id.in_(_units_below(session, user.unit_id) | {user.unit_id}))
        elif user.role != "admin":
            q = q.where(Unit.id == user.unit_id)
        units = list(session.scalars(q))
        return [view(session, u, rt.settings.report_cutoff_day) for u in units]


# ---------------------------------------------------------------- actions and triggers


def _role_may(user: UserView, action: str) -> bool:
    if action not in ACTION_ROLES:
        raise KeyError(f"unknown action {action!r}; add it to engine.directory.access.ACTION_ROLES")
    return user.active and user.role in ACTION_ROLES[action]


def can(rt: Runtime, user: UserView, action: str, unit: str | None = None) -> bool:
    """May `user` take `action` (a key of `ACTION_ROLES`) on `unit`?"""
    if not _role_may(user, action):
        return False
    if action in GLOBAL_ACTIONS or unit is None:
        return action in GLOBAL_ACTIONS
    row = _unit(rt, unit)
    return _writes(user, row) if action in WRITE_ACTIONS else _reads(rt, user, row)


def require(rt: Runtime, user: UserView, action: str, unit: str | None = None) -> None:
    """Refuse with `Forbidden` (Vietnamese message) unless `can(...)`."""
    if not _role_may(user, action):
        if user.role == "reviewer" and action in WRITE_ACTIONS:
            raise Forbidden("Tài khoản thẩm định chỉ được xem, không được sửa số liệu",
                            "a reviewer reads only, never writes", field="role")
        raise Forbidden(
            f"Vai trò {role_label(user.role)} không được {ACTION_LABELS.get(action, action)}",
            f"role '{user.role}' may not '{action}'", field="role")
    if action in GLOBAL_ACTIONS:
        return
    if unit is None:
        raise Forbidden("Thiếu đơn vị", f"action '{action}' needs a unit", field="unit")
    if action in WRITE_ACTIONS:
        require_write(rt, user, unit)
    else:
        require_read(rt, user, unit)


def _trigger_roles(rt: Runtime, trigger: str) -> frozenset[str]:
    t = rt.machine.definition.transition(trigger)
    return frozenset(t.roles) if t is not None else frozenset()


def can_transition(rt: Runtime, user: UserView, unit: str, trigger: str) -> bool:
    """May `user` fire workflow `trigger` on `unit`'s tasks (role per the workflow file, unit
    in the write scope)? The task's current state is the engine's business."""
    return (user.active and user.role in _trigger_roles(rt, trigger)
            and can_write_unit(rt, user, unit))


def require_transition(rt: Runtime, user: UserView, unit: str, trigger: str) -> None:
    require_write(rt, user, unit)
    if user.role not in _trigger_roles(rt, trigger):
        t = rt.machine.definition.transition(trigger)
        label = t.label if t is not None else trigger
        raise Forbidden(f"Vai trò {role_label(user.role)} không được '{label}'",
                        f"role '{user.role}' may not '{trigger}'", field="role")


def allowed_triggers(rt: Runtime, user: UserView, unit: str, state: str) -> list[str]:
    """The workflow triggers to offer as buttons on a task in `state` (empty: read-only)."""
    if not can_write_unit(rt, user, unit):
        return []
    return rt.machine.allowed(state, user.role)


__all__ = [
    "ACTION_LABELS",
    "ACTION_ROLES",
    "GLOBAL_ACTIONS",
    "ROLE_LABELS",
    "WRITE_ACTIONS",
    "actor_for",
    "allowed_triggers",
    "can",
    "can_read_unit",
    "can_transition",
    "can_write_unit",
    "readable_units",
    "require",
    "require_read",
    "require_transition",
    "require_write",
    "role_label",
]
