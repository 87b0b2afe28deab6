"""Phụ lục 6 inputs as a data file (`phu-luc-6.yaml`): indicator code → value, plus notes.

Why a file as well as the web form: the demo and provinces that collect the sheet centrally load
it in bulk; the loader names the line of a value that is not a number, and the rules (level,
0–100, choices, bounds) are then checked like a form post, with the indicator code.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from engine.reporting.statistics.numbers import parse_number
from plans import load_model
from plans.errors import Loc, SpecProblems


class ValuesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    indicator_set: str
    values: dict[str, int | str] = {}
    notes: dict[str, str] = {}

    @model_validator(mode="after")
    def _numbers(self) -> ValuesFile:
        problems: list[tuple[Loc, str, str]] = []
        for code, raw in self.values.items():
            try:
                parse_number(str(raw))
            except ValueError as exc:
                problems.append((("values", code), str(exc), "not a number"))
        if problems:
            raise SpecProblems(problems)
        return self

    def decimals(self) -> dict[str, Decimal]:
        return {code: parse_number(str(raw)) for code, raw in self.values.items()}


def load_values_file(path: Path) -> ValuesFile:
    return load_model(ValuesFile, path)
