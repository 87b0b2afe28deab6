"""The narrative draft of the periodic CCHC report (Báo cáo): a Jinja2 template kept as data
(plans/data/report-templates/), filled with engine facts, written as .docx in the NĐ 30 layout.

Officers finish the prose in Word; every number in the draft comes from the period's snapshot,
its Phụ lục 4–6 sheet or the obligations (engine.reporting.draft.context).
"""

from __future__ import annotations

from pathlib import Path

from engine.domain.periods import parse_period
from engine.reporting.draft.context import draft_context
from engine.reporting.draft.docx import draft_docx
from engine.reporting.draft.render import Draft, render_draft, template_for
from engine.reporting.snapshot.model import Snapshot
from engine.reporting.statistics import take_sheet
from engine.runtime import Runtime

DRAFT_NAME = "bao-cao.docx"


def draft_report(rt: Runtime, snap: Snapshot, template: Path | None = None) -> bytes:
    """The period's report body as .docx bytes (same snapshot and data → same bytes)."""
    sheet = take_sheet(rt, snap)
    context = draft_context(rt, snap, sheet)
    kind = parse_period(snap.period).kind
    draft = render_draft(template or template_for(kind), context)
    return draft_docx(snap, draft, snap.unit.name)


__all__ = ["DRAFT_NAME", "Draft", "draft_context", "draft_report", "render_draft",
           "template_for"]
