"""Printing for officers (Vietnamese, Rich tables) or scripts (--json), and error exits."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, datetime
from typing import Any, NoReturn

from rich.console import Console

from cli.vietnamese import field_label
from engine.clock import VN_TZ
from engine.errors import CchcError
from plans.errors import DataFileError

#: Data is printed as written: never read as Rich markup (a "[/]" in a task text stopped the
#: command), its ":warning:" never made an emoji, its numbers and dates never coloured at
#: random. A message meant to be styled says `markup=True` and escapes the data it holds
#: (`rich.markup.escape`).
console = Console(markup=False, emoji=False, highlight=False)
err_console = Console(stderr=True, markup=False, emoji=False, highlight=False)


def vn_time(value: datetime) -> datetime:
    """A stored time in Vietnam time. SQLite gives times back without their offset; the
    engine writes them in Vietnam time (its clock), so a naive one is read as such — on
    PostgreSQL the same row comes back aware, and both print and serialise alike."""
    return value.replace(tzinfo=VN_TZ) if value.tzinfo is None else value.astimezone(VN_TZ)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return vn_time(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")


def render_vi(exc: CchcError | DataFileError) -> str:
    """The refusal as an officer reads it: the field's Vietnamese name and the Vietnamese
    reason, one problem a line (never the English message or the field's code)."""
    if isinstance(exc, DataFileError):
        return "\n".join(
            f"{p.file}{f':{p.line}' if p.line else ''}"
            f"{f' [{p.location}]' if p.location else ''}: {p.message_vi}"
            for p in exc.file_problems)
    lines = []
    for p in exc.problems:
        label = field_label(p.field)
        lines.append(f"{label}: {p.message_vi}" if label else p.message_vi)
    return "\n".join(lines)


def fail(exc: CchcError | DataFileError, as_json: bool) -> NoReturn:
    if as_json:
        sys.stdout.write(json.dumps(exc.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        err_console.print("[bold red]Lỗi:[/bold red]", markup=True, end=" ")
        err_console.print(render_vi(exc))
        err_console.print("Không có thay đổi nào được ghi.", style="dim")
    raise SystemExit(2)
