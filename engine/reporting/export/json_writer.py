"""The snapshot as canonical JSON: the machine-readable twin of the appendix files.

Why canonical (sorted keys, fixed indent, UTF-8 with Vietnamese kept readable, final newline):
the file is hashed and diffed between runs, so the same snapshot must give the same bytes. The
per-appendix totals are written out for readers that do not re-count, and `read_json` checks
them against the rows on the way back in.

Encoded by orjson (sorted keys, two-space indent, final newline): the same bytes
`json.dumps(..., ensure_ascii=False, sort_keys=True, indent=2)` gives for this data (strings,
ints, lists and objects; tests/test_export.py compares both), at a tenth of the time — the
standard library falls back to its pure-Python encoder whenever `indent` is set.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from engine.reporting.snapshot.model import Snapshot

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
_DERIVED = ("total", "done", "not_done")  # AppendixSnapshot computed fields, dumped but not input


def _totals(snapshot: Snapshot) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for appendix in sorted(snapshot.appendices, key=lambda a: a.number):
        total, done = appendix.total, appendix.done  # counted from the rows by the model
        out.append(
            {
                "number": appendix.number,
                "plan_id": appendix.plan_id,
                "total": total,
                "done": done,
                "not_done": total - done,
            }
        )
    return out


def canonical_json_bytes(data: dict[str, Any]) -> bytes:
    """Any export's JSON the canonical way (sorted keys, two-space indent, final newline)."""
    return orjson.dumps(data, option=_OPTIONS)


def export_json(snapshot: Snapshot) -> bytes:
    data = snapshot.model_dump(mode="json")
    data["totals"] = _totals(snapshot)
    return canonical_json_bytes(data)


def read_json(raw: bytes | str) -> Snapshot:
    """Back from `export_json` output to a Snapshot, refusing totals that disagree with rows.

    The model forbids extra keys and the counts are computed fields, so they are stripped here
    after being compared with what the rows give.
    """
    data = json.loads(raw)
    stated = [(t["number"], (t["total"], t["done"], t["not_done"])) for t in data.pop("totals", [])]
    for appendix in data.get("appendices", []):
        counts = tuple(appendix.pop(key) for key in _DERIVED if key in appendix)
        if len(counts) == len(_DERIVED):
            stated.append((appendix.get("number"), counts))
    snapshot = Snapshot.model_validate(data)
    actual = {a.number: (a.total, a.done, a.not_done) for a in snapshot.appendices}
    for number, counts in stated:
        if actual.get(number) != counts:
            raise ValueError(
                f"Phụ lục {number}: tổng số ghi {counts} khác với số đếm từ các dòng "
                f"{actual.get(number)} / stated totals differ from the rows"
            )
    return snapshot
