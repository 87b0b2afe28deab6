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
