"""The seed report's text for the statistics round-trip tests (and its Phụ lục 4–6 rows, read
with the engine's own reader `engine.reporting.statistics.text_report`)."""

from __future__ import annotations

from conftest import require_seed

from engine.reporting.statistics.text_report import field_rows, indicator_rows, procedure_rows


def read_seed() -> str:
    """The seed's text (conftest.require_seed: a skip on a developer's machine, a failure under
    CI's CCHC_REQUIRE_SEED=1; CCHC_SEED points elsewhere, e.g. from a worktree)."""
    return require_seed().read_text(encoding="utf-8")


def seed_fields(text: str) -> list[list[str]]:
    return [list(r.cells) for r in field_rows(text)]


def seed_procedures(text: str) -> list[list[str]]:
    return [list(r.cells) for r in procedure_rows(text)]


def seed_indicators(text: str) -> list[list[str]]:
    return [list(r.cells) for r in indicator_rows(text)]
