"""A finding of the reviewer's check (`cchc report check`): what, how bad, and where.

Why a module of its own: the task appendices' check (snapshot.check) and the statistics
appendices' check (statistics.check) both make findings, and the first runs the second; the
shape they share stands below both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]
Source = Literal["snapshot", "against"]


@dataclass(frozen=True)
class Place:
    """Where in a report something stands: an appendix row (its STT), an appendix, or the
    report's body (by line, for a text report)."""

    appendix: int | None = None
    plan: str | None = None
    task: str | None = None
    line: int | None = None

    @property
    def label_vi(self) -> str:
        if self.appendix is None:
            return f"phần thân báo cáo, dòng {self.line}" if self.line else "phần thân báo cáo"
        if self.task:
            return f"Phụ lục {self.appendix}, nhiệm vụ {self.task}"
        return f"Phụ lục {self.appendix}" + (f", dòng {self.line}" if self.line else "")

    @property
    def label_en(self) -> str:
        if self.appendix is None:
            return f"report body, line {self.line}" if self.line else "report body"
        if self.task:
            return f"appendix {self.appendix}, task {self.task}"
        return f"appendix {self.appendix}" + (f", line {self.line}" if self.line else "")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message_vi: str
    message_en: str
    plan: str | None = None
    task: str | None = None
    source: Source = "snapshot"
    appendix: int | None = None
    line: int | None = None  # in a text report checked with --against, where it stands
    tasks: tuple[str, ...] = ()  # a finding about several rows of one appendix: their STT

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_vi(findings: list[Finding]) -> str:
    """'2 lỗi, 5 lưu ý' — the line a check ends with."""
    errors = sum(1 for f in findings if f.severity == "error")
    return f"{errors} lỗi, {len(findings) - errors} lưu ý"


__all__ = ["Finding", "Place", "Severity", "Source", "count_vi"]
