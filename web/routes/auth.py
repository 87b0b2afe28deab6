"""Logging in and out: `/` sends to the dashboard or the login page; `/login`; `/logout`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from engine import directory
from engine.directory import LoginBusy, LoginFailed, LoginThrottled
from web.deps import (
    SESSION_COOKIE,
    OptionalUser,
    Rt,
    Settings,
    clear_session_cookie,
    client_ip,
    forget_session,
    set_session_cookie,
)
from web.templating import render

router = APIRouter()

HOME = "/dashboard"


def safe_next(target: str | None) -> str:
    """Only a path on this site (never '//evil.example' or a scheme): no open redirect."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(c in target for c in "\r\n\t")):
        return HOME
    return target


@router.get("/", include_in_schema=False)
def home(user: OptionalUser) -> RedirectResponse:
    return RedirectResponse(HOME if user else "/login", status_code=303)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "username": ""})


@router.post("/login", include_in_schema=False)
def login(
    request: Request, rt: Rt, settings: Settings,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = HOME,
) -> Response:
    try:
        user = directory.authenticate(rt, username, password, ip=client_ip(request),
                                     limits=settings.login_limits)
    except (LoginFailed, LoginThrottled, LoginBusy) as exc:
        retry = getattr(exc, "retry_after", None)
        return render(request, "login.html",
                      {"error": exc.message_vi, "username": username, "next": safe_next(next)},
                      status_code=getattr(exc, "http_status", 400),
                      headers={"Retry-After": str(retry)} if retry else None)
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # never keep a session id chosen before login (session fixation)
        directory.end_session(rt, old)
    raw, _session = directory.create_session(rt, user.id, lifetime=settings.session_lifetime)
    forget_session(request)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, raw, settings)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, rt: Rt, settings: Settings) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        directory.end_session(rt, raw)
    forget_session(request)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, settings)
    return response
