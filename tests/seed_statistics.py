"""The seed report's text for the statistics round-trip tests (and its Phụ lục 4–6 rows, read
with the engine's own reader `engine.reporting.statistics.text_report`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SEED

from engine.reporting.statistics.text_report import field_rows, indicator_rows, procedure_rows


def read_seed() -> str:
    """The seed's text. Missing: a skip on a developer's machine, a failure under CI
    (CCHC_REQUIRE_POSTGRES=1 or CCHC_REQUIRE_SEED=1), where a skipped comparison would pass
    unseen. CCHC_SEED points elsewhere (a worktree has no ../shared)."""
    seed = Path(os.environ.get("CCHC_SEED") or SEED)
    if not seed.exists():
        reason = f"the seed report is not at {seed}: nothing to compare with"
        if "1" in (os.environ.get("CCHC_REQUIRE_SEED"), os.environ.get("CCHC_REQUIRE_POSTGRES")):
            pytest.fail(reason)
        pytest.skip(reason)
    return seed.read_text(encoding="utf-8")


def seed_fields(text: str) -> list[list[str]]:
    return [list(r.cells) for r in field_rows(text)]


def seed_procedures(text: str) -> list[list[str]]:
    return [list(r.cells) for r in procedure_rows(text)]


def seed_indicators(text: str) -> list[list[str]]:
    return [list(r.cells) for r in indicator_rows(text)]
