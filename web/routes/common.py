"""Helpers shared by the page routers: the user's home unit, form errors shown next to their
field, the one-line messages after a redirect, dates typed as dd/mm/yyyy, the HTTP status of
an engine refusal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from engine import directory
from engine.directory import LoginThrottled, UserView
from engine.errors import (
    CchcError,
    Conflict,
    Forbidden,
    NotFound,
    TransitionNotAllowed,
    ValidationFailed,
)
from engine.reporting import units_with_plans
from engine.runtime import Runtime
from vntext.dates import NoSuchDate, parse_date_input
from vntext.text import nfc


def home_unit(rt: Runtime, user: UserView) -> str | None:
    """The commune a user's pages open on: their own; for an admin their unit if it has
    plans, else the first commune with plans; None for a reviewer (they start at /city)."""
    if user.role in directory.COMMUNE_ROLES:
        return user.unit_slug
    if user.role != "admin":
        return None
    units = units_with_plans(rt, directory.readable_units(rt, user))
    slugs = [u.slug for u in units]
    if user.unit_slug in slugs:
        return user.unit_slug
    return slugs[0] if slugs else None


def parse_date_vi(text: str, field_name: str = "on") -> date | None:
    """A date typed as dd/mm/yyyy (or sent as yyyy-mm-dd by a date picker); empty → None."""
    text = nfc(text or "")
    if not text:
        return None
    try:
        return parse_date_input(text)
    except NoSuchDate:
        raise ValidationFailed(f"Ngày '{text}' không tồn tại", f"date '{text}' does not exist",
                               field=field_name, value=text) from None
    except ValueError:
        pass
    raise ValidationFailed(f"Ngày '{text}' không đúng dạng ngày/tháng/năm (ví dụ 20/09/2023)",
                           f"date '{text}' is not dd/mm/yyyy", field=field_name, value=text)


@dataclass
class FormErrors:
    """A refused form: messages by field (shown next to it) and the rest (shown on top)."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, exc: CchcError, aliases: Mapping[str, str], shown: set[str]) -> FormErrors:
        """`aliases` maps engine fields to form fields (`doc[2]` → `docs` via the prefix
        before '['); a problem whose field the form does not show goes on top."""
        out = cls()
        for p in exc.problems:
            name = p.field.split("[", 1)[0]
            name = aliases.get(name, name)
            if name in shown:
                prev = out.fields.get(name)
                out.fields[name] = f"{prev}; {p.message_vi}" if prev else p.message_vi
            else:
                out.general.append(p.message_vi)
        return out

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


#: Status of each error class; the first match wins (subclasses before their bases). A class
#: may also say `http_status = …` itself (the web's own errors do).
STATUS_BY_CLASS: list[tuple[type[CchcError], int]] = [
    (LoginThrottled, 429),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (TransitionNotAllowed, 409),
    (ValidationFailed, 400),
]

def status_of(exc: CchcError) -> int:
    """The HTTP status of an engine refusal (pages and /api/ alike)."""
    explicit = getattr(type(exc), "http_status", None)
    if isinstance(explicit, int):
        return explicit
    for cls, status in STATUS_BY_CLASS:
        if isinstance(exc, cls):
            return status
    return 400


__all__ = [
    "STATUS_BY_CLASS",
    "FormErrors",
    "home_unit",
    "parse_date_vi",
    "status_of",
]
