"""The JSON REST API under `/api/`: the same actions as the pages, for other systems and scripts.

Authentication is a Bearer token per user (`cchc user token USERNAME --name …`; revoked with
`cchc user revoke-token ID`); `/api/` never reads the session cookie, so it needs no CSRF token.
Authorization is `engine.directory.access`, exactly as for pages; every change goes through the
engine's
commands with the caller as actor, so it lands in the task's history with their name and role,
and a refused request writes nothing. Errors are `web.app.error_payload` JSON (`ErrorBody`).

The OpenAPI document (`install` makes it describe the `/api/` routes only, with the Bearer
scheme and the error bodies the app really sends — 400, not FastAPI's default 422) is served at
`/openapi.json` and `/api/openapi.json`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from web.api import obligations, snapshots, summary, tasks, units
from web.api.common import bearer_scheme

PREFIX = "/api"
DESCRIPTION = """\
API của hệ thống theo dõi kế hoạch cải cách hành chính cấp xã.

Every request carries `Authorization: Bearer <token>` (a token per user, from
`cchc user token USERNAME --name "…"`). An officer or leader reads and changes only their own
commune; a city reviewer reads the communes of their city and never writes; an admin does
everything. Changes take the `expected_version` the client read (the task's `version`); a stale
one is refused with 409 and nothing is written. Every refusal has the body `ErrorBody` with the
Vietnamese message (`message_vi`), the English one and the request `field` at fault. Dates are
ISO `YYYY-MM-DD`.
"""

router = APIRouter(prefix=PREFIX)
for _module in (units, tasks, obligations, snapshots, summary):
    router.include_router(_module.router)


def _drop_unused_schemas(schema: dict[str, Any]) -> None:
    """Remove component schemas nothing refers to any more (FastAPI's validation-error ones,
    those of pages), until none is left over."""
    components = schema.get("components", {}).get("schemas", {})
    while True:
        refs = json.dumps(schema.get("paths", {})) + json.dumps(components)
        unused = [n for n in components if f'"#/components/schemas/{n}"' not in refs]
        if not unused:
            return
        for name in unused:
            del components[name]


def api_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of the `/api/` routes (cached on the app)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title="CCHC API", version=app.version, description=DESCRIPTION,
                         routes=app.routes)
    # Pages are not part of the contract, even one that forgot include_in_schema=False.
    schema["paths"] = {p: ops for p, ops in schema.get("paths", {}).items()
                       if p.startswith(PREFIX + "/")}
    for path in schema["paths"].values():
        for operation in path.values():
            responses = operation.get("responses", {})
            # Bad input is answered 400 with ErrorBody by the app's handler, never 422.
            if responses.pop("422", None) is not None and "400" not in responses:
                responses["400"] = {
                    "description": "Invalid input (precise Vietnamese reason and `field`)",
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    _drop_unused_schemas(schema)
    app.openapi_schema = schema
    return schema


def install(app: FastAPI) -> None:
    """Add the API routes to `app`, and its OpenAPI document at /openapi.json (the public
    address) as well as /api/openapi.json (the app's own `openapi_url`)."""
    app.include_router(router)
    app.openapi = lambda: api_openapi(app)  # type: ignore[method-assign]

    def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    app.add_api_route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)


__all__ = ["PREFIX", "api_openapi", "bearer_scheme", "install", "router"]
