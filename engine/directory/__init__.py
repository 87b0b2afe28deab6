"""Who is who: units, people, web accounts and the access policy.

Public API: the names below (loaded on first use, see `engine.public_api`). The CLI and the
web app import these and nothing else of this folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import public_api

if TYPE_CHECKING:
    from engine.directory.access import (
        ACTION_ROLES,
        actor_for,
        allowed_triggers,
        can,
        can_write_unit,
        readable_units,
        require,
        require_read,
        require_transition,
        require_write,
        role_label,
    )
    from engine.directory.accounts import (
        LoginBusy,
        LoginFailed,
        LoginThrottled,
        SessionView,
        UserView,
        authenticate,
        authenticate_token,
        create_api_token,
        create_session,
        create_user,
        end_session,
        list_api_tokens,
        list_users,
        normalise_username,
        resolve_session,
        revoke_api_token,
        set_active,
        set_password,
    )
    from engine.directory.actor import COMMUNE_ROLES, ROLE_LABELS
    from engine.directory.login_limits import LoginLimits
    from engine.directory.people import add_person, list_people, load_people_file, owner_key
    from engine.directory.production import production_problems
    from engine.directory.units import UnitView, list_units
else:  # mypy sees the names above only, so a misspelt name stays an error
    __getattr__, __dir__ = public_api(__name__, __file__)

__all__ = [
    "ACTION_ROLES",
    "COMMUNE_ROLES",
    "ROLE_LABELS",
    "LoginBusy",
    "LoginFailed",
    "LoginLimits",
    "LoginThrottled",
    "SessionView",
    "UnitView",
    "UserView",
    "actor_for",
    "add_person",
    "allowed_triggers",
    "authenticate",
    "authenticate_token",
    "can",
    "can_write_unit",
    "create_api_token",
    "create_session",
    "create_user",
    "end_session",
    "list_api_tokens",
    "list_people",
    "list_units",
    "list_users",
    "load_people_file",
    "normalise_username",
    "owner_key",
    "production_problems",
    "readable_units",
    "require",
    "require_read",
    "require_transition",
    "require_write",
    "resolve_session",
    "revoke_api_token",
    "role_label",
    "set_active",
    "set_password",
]
