"""What every API router shares: the Bearer caller, the documented refusals, small converters.

The caller is `web.deps.api_user` (the foundation's: `Authorization: Bearer <token>`, never the
session cookie); `bearer_scheme` only declares the scheme so the OpenAPI document shows it on
every operation. Refusals are the engine's `CchcError`s, turned into `ErrorBody` JSON by the
app's handlers; `renamed_fields` points a refusal's `field` at the request body's own key
(`evidence[1]`, `document`, `expected_version`) instead of the engine's CLI name (`doc[2]`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.clock import VN_TZ
from engine.directory import UserView
from engine.errors import CchcError
from web.api.schemas import ErrorBody, EvidenceOut
from web.deps import api_user

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="bearerAuth",
    description="An API token from `cchc user token USERNAME --name …` (shown once).",
)


def caller(request: Request,
           _credentials: Annotated[HTTPAuthorizationCredentials | None,
                                   Security(bearer_scheme)]) -> UserView:
    """The token's user (401 JSON when the token is missing, unknown or revoked)."""
    return api_user(request)


Caller = Annotated[UserView, Depends(caller)]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


Responses = dict[int | str, dict[str, Any]]

E400: Responses = {400: _error("Invalid input (precise Vietnamese reason and `field`); "
                               "nothing written")}
E401: Responses = {401: _error("Missing, unknown or revoked Bearer token")}
E403: Responses = {403: _error("The role may not, or the unit is outside the caller's scope")}
E404: Responses = {404: _error("Unknown unit, plan, task, report or period")}
E409: Responses = {409: _error("Changed by someone else since read (stale expected_version), "
                               "or the step is not allowed in the current state; nothing "
                               "written")}
READ: Responses = {**E400, **E401, **E403, **E404}
WRITE: Responses = {**READ, **E409}


_DOC_N = re.compile(r"^doc\[(\d+)\]$")


@contextmanager
def renamed_fields(mapping: Mapping[str, str], *, numbered: str | None = None
                   ) -> Iterator[None]:
    """Rename the engine's field names in a refusal to the request body's keys.

    `numbered="evidence"` also turns the engine's 1-based `doc[N]` into `evidence[N-1]`.
    """
    try:
        yield
    except CchcError as exc:
        for problem in exc.problems:
            m = _DOC_N.match(problem.field)
            if m and numbered:
                problem.field = f"{numbered}[{int(m.group(1)) - 1}]"
            else:
                problem.field = mapping.get(problem.field, problem.field)
        raise


def vn_time(value: datetime) -> datetime:
    """Vietnam time with its offset (SQLite hands back naive Vietnam times)."""
    return value.replace(tzinfo=VN_TZ) if value.tzinfo is None else value.astimezone(VN_TZ)


def evidence_list(raw: list[dict[str, str]]) -> list[EvidenceOut]:
    """History evidence entries ({"ref", "no", "on"}) as `EvidenceOut`."""
    return [EvidenceOut(ref=e["ref"], number=e.get("no", e["ref"]),
                        issued_on=date.fromisoformat(e["on"])) for e in raw]


__all__ = [
    "E400",
    "E401",
    "E403",
    "E404",
    "E409",
    "READ",
    "WRITE",
    "Caller",
    "Responses",
    "bearer_scheme",
    "caller",
    "evidence_list",
    "renamed_fields",
    "vn_time",
]
