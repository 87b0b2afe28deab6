"""Template → blocks: run the Jinja2 report template and read its lines as paragraphs.

The line markup is documented at the top of plans/data/report-templates/bao-cao-cchc.j2.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from engine.errors import ValidationFailed
from plans import DATA_DIR

TEMPLATES = DATA_DIR / "report-templates"
BASE_NAME = "bao-cao-cchc"

Kind = Literal["title", "heading", "subheading", "note", "para"]
_PREFIX: tuple[tuple[str, Kind], ...] = (("### ", "subheading"), ("## ", "heading"),
                                         ("# ", "title"), ("> ", "note"))


@dataclass
class Draft:
    blocks: list[tuple[Kind, str]] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)


def template_for(period_kind: str, folder: Path = TEMPLATES) -> Path:
    """bao-cao-cchc-<kind>.j2 if there is one for the period kind, else bao-cao-cchc.j2."""
    own = folder / f"{BASE_NAME}-{period_kind}.j2"
    return own if own.exists() else folder / f"{BASE_NAME}.j2"


def render_draft(template: Path, context: dict[str, Any]) -> Draft:
    env = Environment(loader=FileSystemLoader(str(template.parent)), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
                      autoescape=False)
    try:
        text = env.get_template(template.name).render(**context)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None) or next(
            (n for f, n in reversed(list(traceback.walk_tb(exc.__traceback__)))
             if f.f_code.co_filename == str(template)), None)
        at = f", dòng {line}" if line else ""
        raise ValidationFailed(f"Mẫu báo cáo {template.name}{at}: {exc}",
                               f"report template {template.name}{at}: {exc}",
                               field="template") from None
    draft = Draft()
    target: list[str] | None = None
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        if line == "::noi-nhan":
            target = draft.recipients
            continue
        if line == "::ky":
            target = draft.signature
            continue
        if target is not None:
            target.append(line)
            continue
        kind: Kind = next((k for p, k in _PREFIX if line.startswith(p)), "para")
        draft.blocks.append((kind, line.split(" ", 1)[1] if kind != "para" else line))
    return draft
