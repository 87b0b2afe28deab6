"""The one way this package refuses input.

Why a helper: every refusal must carry the officer's own text, the Vietnamese reason first and
the field the UI highlights; keeping that in one place keeps the ~40 reasons uniform.
"""

from __future__ import annotations

from typing import NoReturn

from engine.errors import ValidationFailed

FIELD = "doc"


def reject(message_vi: str, message_en: str, value: str) -> NoReturn:
    """Raise `ValidationFailed` for the reference `value` as the officer typed it."""
    raise ValidationFailed(message_vi, message_en, field=FIELD, value=value)
