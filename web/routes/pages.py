"""Officer pages. `/dashboard` is a placeholder (the pages work replaces it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.deps import CurrentUser
from web.templating import render

router = APIRouter()


@router.get("/dashboard", include_in_schema=False)
def dashboard(request: Request, user: CurrentUser) -> Response:
    return render(request, "dashboard.html", {"title": "Tổng quan", "user": user})
