"""The download header of every file the web app sends (appendices, list exports, PDFs).

Why a module of its own: the page routers and the list helpers (web.lists) both send files;
the header stands below both.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from vntext.text import strip_marks


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''utf-8` (RFC 6266 / 5987)."""
    ascii_name = strip_marks(filename).replace(" ", "-")
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "", ascii_name) or "tep"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


__all__ = ["content_disposition"]
