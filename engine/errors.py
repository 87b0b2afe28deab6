"""Errors that reach officers: every one carries a Vietnamese message, an English one and the field.

Why a hierarchy of our own: the CLI and the web turn any `CchcError` into a clear, specific
message (Vietnamese first) and a non-zero exit / 4xx answer, and callers can tell a bad input
from a conflict from a missing row without parsing text.
"""

from __future__ import annotations

from dataclasses import dataclass

from plans.errors import DataFileError, FileProblem


@dataclass
class Problem:
    """One precise complaint about one field."""

    field: str
    message_vi: str
    message_en: str
    value: str | None = None

    def render(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.message_vi} ({self.message_en})"


class CchcError(Exception):
    """Base class: a refusal the user can act upon. Nothing has been written when it is raised."""

    code = "error"

    def __init__(
        self,
        message_vi: str,
        message_en: str,
        *,
        field: str = "",
        value: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        self.problems: list[Problem] = problems or [Problem(field, message_vi, message_en, value)]
        super().__init__(self.render())

    @property
    def message_vi(self) -> str:
        return "; ".join(p.message_vi for p in self.problems)

    @property
    def message_en(self) -> str:
        return "; ".join(p.message_en for p in self.problems)

    @property
    def field(self) -> str:
        return self.problems[0].field if self.problems else ""

    def render(self) -> str:
        return "\n".join(p.render() for p in self.problems)

    def as_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "problems": [
                {"field": p.field, "message_vi": p.message_vi, "message_en": p.message_en,
                 "value": p.value}
                for p in self.problems
            ],
        }


class ValidationFailed(CchcError):
    """Input does not satisfy a rule (bad document reference, missing result text...)."""

    code = "invalid"


class NotFound(CchcError):
    code = "not_found"


class Conflict(CchcError):
    """The row changed since the caller read it, or the data contradicts stored data."""

    code = "conflict"


class Forbidden(CchcError):
    """The actor's role may not perform this action."""

    code = "forbidden"


class TransitionNotAllowed(CchcError):
    code = "transition_not_allowed"


__all__ = [
    "CchcError",
    "Conflict",
    "DataFileError",
    "FileProblem",
    "Forbidden",
    "NotFound",
    "Problem",
    "TransitionNotAllowed",
    "ValidationFailed",
]

