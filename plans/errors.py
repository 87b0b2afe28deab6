"""Errors of data files (plans, workflows, replays): file, place, line, reason in two languages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileProblem:
    file: str
    location: str
    line: int | None
    message_vi: str
    message_en: str

    def render(self) -> str:
        at = f":{self.line}" if self.line else ""
        where = f" [{self.location}]" if self.location else ""
        return f"{self.file}{at}{where}: {self.message_vi} ({self.message_en})"


Loc = tuple[int | str, ...]


class SpecProblems(ValueError):
    """Raised by a model validator: each problem at its place below the model being validated.

    Why: a cross-field rule (duplicate task code, unknown state in a transition) must still
    name the exact place in the file, and its Vietnamese and English reasons must stay paired;
    the loader maps each `loc` to the YAML line like pydantic's own errors.
    """

    def __init__(self, problems: list[tuple[Loc, str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{vi} / {en}" for _loc, vi, en in problems))


class DataFileError(ValueError):
    """A data file is malformed; nothing from it was loaded."""

    code = "bad_data_file"

    def __init__(self, problems: list[FileProblem]) -> None:
        self.file_problems = problems
        super().__init__(self.render())

    @property
    def message_vi(self) -> str:
        return "; ".join(f"{p.file} [{p.location}]: {p.message_vi}" for p in self.file_problems)

    @property
    def message_en(self) -> str:
        return "; ".join(f"{p.file} [{p.location}]: {p.message_en}" for p in self.file_problems)

    def render(self) -> str:
        return "\n".join(p.render() for p in self.file_problems)

    def as_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "problems": [
                {"file": p.file, "location": p.location, "line": p.line,
                 "message_vi": p.message_vi, "message_en": p.message_en}
                for p in self.file_problems
            ],
        }
