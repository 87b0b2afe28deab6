"""The text fields every data-file schema shares: NFC, trimmed, non-empty where required, slugs.

Why a module of its own: the working-day calendar's schema uses them too, and it should not
load the plan, unit and replay schemas with them (`cchc task list` start time, issue 13).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _nonempty(value: str) -> str:
    if not value:
        raise ValueError("không được để trống / must not be empty")
    return value


Text = Annotated[str, AfterValidator(_nfc), AfterValidator(_nonempty)]
OptText = Annotated[str, AfterValidator(_nfc)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]

__all__ = ["OptText", "Slug", "Text"]
