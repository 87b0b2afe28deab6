"""Jinja2 templates (autoescaped) with the Vietnamese filters and globals every page uses.

Render a page from a route with `render(request, "page.html", {...})`. Every template gets,
without passing them: `current_user` (a `UserView` or None), `nav` (the menu for the user's
role), `settings` (`WebSettings`), `csrf_input()` (the hidden field every POST form needs) and
`csrf_token()`. Filters: `date_vi` (dd/mm/yyyy), `datetime_vi` (HH:MM dd/mm/yyyy, Vietnam
time), `when_vi` (dd/mm/yyyy HH:MM), `state_label` (a workflow state's Vietnamese label),
`role_label`, `timeliness_label`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.responses import Response

from engine import reporting
from engine.clock import VN_TZ
from engine.directory import COMMUNE_ROLES, UserView, role_label
from engine.domain import TIMELINESS_LABELS_VI, Timeliness
from vntext.dates import format_date_vi
from web.deps import CSRF_FIELD, csrf_token, get_rt, optional_user
from web.lists import page_url

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    roles: frozenset[str]
    badge: str | None = None  # a key of `nav_badges` (the count shown next to the label)


_ALL = frozenset({"officer", "leader", "reviewer", "admin"})
_UNIT = frozenset({"officer", "leader", "admin"})
#: The menu. Pages helpers: change paths here when the pages exist; order is display order.
NAV: list[NavItem] = [
    NavItem("Tổng quan", "/dashboard", _ALL),
    NavItem("Việc của tôi", "/my-tasks", frozenset({"officer", "leader"}), badge="mine"),
    NavItem("Nhiệm vụ", "/tasks", _UNIT, badge="overdue"),
    NavItem("Tiến độ theo người", "/behind", frozenset({"leader", "admin"})),
    NavItem("Báo cáo định kỳ", "/obligations", _UNIT, badge="obligations_overdue"),
    NavItem("Chốt số liệu", "/reports", _UNIT),
    NavItem("Các xã, phường", "/city", frozenset({"reviewer", "admin"})),
    NavItem("Nhắc việc", "/admin/outbox", frozenset({"admin"})),
    NavItem("Cán bộ", "/admin/people", frozenset({"admin"})),
    NavItem("Đơn vị", "/admin/units", frozenset({"admin"})),
    NavItem("Kế hoạch", "/admin/plans", frozenset({"admin"})),
    NavItem("Tài khoản", "/admin/users", frozenset({"admin"})),
]


def nav_for(role: str | None) -> list[NavItem]:
    return [item for item in NAV if role in item.roles]


# ---------------------------------------------------------------- filters


def date_vi(value: date | datetime | None, empty: str = "—") -> str:
    """dd/mm/yyyy — the only date format officers see."""
    if value is None:
        return empty
    if isinstance(value, datetime):
        value = _vn(value).date()
    return format_date_vi(value)


def _vn(value: datetime) -> datetime:
    return value.replace(tzinfo=VN_TZ) if value.tzinfo is None else value.astimezone(VN_TZ)


def datetime_vi(value: datetime | None, empty: str = "—") -> str:
    """'14:05 20/09/2023' in Vietnam time (a naive time is read as Vietnam time)."""
    if value is None:
        return empty
    return _vn(value).strftime("%H:%M %d/%m/%Y")


def when_vi(value: datetime | None, empty: str = "—") -> str:
    """'20/09/2023 14:05' in Vietnam time: the history timeline's format."""
    if value is None:
        return empty
    return _vn(value).strftime("%d/%m/%Y %H:%M")


@pass_context
def state_label(ctx: Context, state: str | None) -> str:
    """The workflow's label of a task state ('done' → 'Đã thực hiện')."""
    if not state:
        return ""
    request: Request | None = ctx.get("request")
    if request is not None:
        label: str = request.app.state.rt.machine.definition.label(state)
        return label
    return state


def timeliness_label(value: str | None) -> str:

    if not value:
        return ""
    try:
        return TIMELINESS_LABELS_VI[Timeliness(value)]
    except ValueError:
        return value


# ---------------------------------------------------------------- globals


@pass_context
def csrf_input(ctx: Context) -> Markup:
    """`{{ csrf_input() }}` inside every `<form method="post">` (made once per request: a
    task page has half a dozen forms)."""
    request: Request = ctx["request"]
    token = csrf_token(request)
    made: tuple[str, Markup] | None = getattr(request.state, "csrf_input", None)
    if made is None or made[0] != token:
        made = request.state.csrf_input = (token, Markup(
            '<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token)))
    return made[1]


@pass_context
def csrf_token_global(ctx: Context) -> str:
    return csrf_token(ctx["request"])


@pass_context
def page_url_global(ctx: Context, **changes: object) -> str:
    """`{{ page_url(trang=2) }}`: this page's address with query parameters changed."""
    return page_url(ctx["request"], **changes)


#: A task due within this many days is shown amber ("sắp đến hạn").
SOON_DAYS = 7


@pass_context
def due_soon(ctx: Context, due: date | None) -> bool:
    """Due from today to `SOON_DAYS` days ahead (an overdue date is not "soon")."""
    if due is None:
        return False
    today: date = ctx["request"].app.state.rt.today()
    return 0 <= (due - today).days <= SOON_DAYS


def menu_unit(user: UserView | None) -> str | None:
    """The unit whose counts the menu shows this user (an officer's or a leader's own), or
    None: no counts in the menu."""
    if user is not None and user.role in COMMUNE_ROLES and user.unit_slug:
        return user.unit_slug
    return None


@pass_context
def nav_badges(ctx: Context) -> dict[str, tuple[int, str]]:
    """The counts in the menu (count, kind: "late" red or "" grey), once per request: the
    user's open tasks, the commune's overdue tasks and overdue sub-reports."""
    request: Request = ctx["request"]
    cached: dict[str, tuple[int, str]] | None = getattr(request.state, "nav_badges", None)
    if cached is not None:
        return cached
    user = optional_user(request)
    out: dict[str, tuple[int, str]] = {}
    unit = menu_unit(user)
    if user is not None and unit is not None:
        # the request's database scope, like the page's own calls
        counts = reporting.menu_counts(get_rt(request), user, unit)
        if counts.mine is not None:
            out["mine"] = (counts.mine, "late" if counts.mine_late else "")
        out["overdue"] = (counts.overdue, "late")
        out["obligations_overdue"] = (counts.obligations_overdue, "late")
    request.state.nav_badges = out
    return out


def _context(request: Request) -> dict[str, Any]:
    user = optional_user(request)
    return {
        "current_user": user,
        "nav": nav_for(user.role if user else None),
        "settings": request.app.state.settings,
        "current_path": request.url.path,
    }


def make_templates() -> Jinja2Templates:
    env = Environment(
        # The templates ship with the code: compiled once per process, never checked for
        # changes on disk (a stat of every template and its parents per page otherwise).
        auto_reload=False,
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(("html", "htm", "xml"), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(date_vi=date_vi, datetime_vi=datetime_vi, when_vi=when_vi,
                       state_label=state_label, role_label=role_label,
                       timeliness_label=timeliness_label)
    env.globals.update(csrf_input=csrf_input, csrf_token=csrf_token_global,
                       page_url=page_url_global, due_soon=due_soon, nav_badges=nav_badges)
    return Jinja2Templates(env=env, context_processors=[_context])


templates = make_templates()


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An HTML response of template `name` (under web/templates/)."""
    return templates.TemplateResponse(request, name, dict(context or {}),
                                      status_code=status_code, headers=headers)


__all__ = [
    "NAV",
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "NavItem",
    "date_vi",
    "datetime_vi",
    "make_templates",
    "menu_unit",
    "nav_for",
    "render",
    "templates",
    "timeliness_label",
    "when_vi",
]
