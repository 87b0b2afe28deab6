"""Write a unit's quarter-end files: phu-luc-N.docx, phu-luc-N.xlsx and snapshot.json.

Why atomic writes: the quarter-end run exports 3,321 units and may be stopped part-way; a file
that exists must be complete, so each one is written to a temporary name and renamed.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.reporting.export.docx_writer import export_docx
from engine.reporting.export.json_writer import export_json
from engine.reporting.export.xlsx_writer import export_xlsx
from engine.reporting.snapshot.model import Snapshot
from engine.reporting.snapshot.store import content_hash

JSON_NAME = "snapshot.json"


def appendix_file_name(number: int, suffix: str) -> str:
    return f"phu-luc-{number}.{suffix}"


def download_name(name: str, snapshot: Snapshot) -> str:
    """The name a download of `snapshot` is offered under: same name ⇒ same bytes.

    A frozen period's files are always the frozen bytes, so their name is plain. Files of a
    period not frozen yet are live figures that change with every recorded step: their name
    carries "tam-tinh" (provisional) and the first characters of the snapshot's hash, so a
    later download with other content never has the same name.
    """
    if snapshot.frozen:
        return name

    stem, dot, ext = name.rpartition(".")
    tag = f"_tam-tinh-{content_hash(snapshot)[:10]}"
    return f"{stem}{tag}.{ext}" if dot else name + tag


def write_atomic(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def write_all(snapshot: Snapshot, out_dir: Path) -> list[Path]:
    """All .docx first, then all .xlsx (by appendix number), then snapshot.json."""
    appendices = sorted(snapshot.appendices, key=lambda a: a.number)
    numbers = [a.number for a in appendices]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"trùng số phụ lục / duplicate appendix numbers: {numbers}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        write_atomic(out_dir / appendix_file_name(a.number, "docx"), export_docx(snapshot, a))
        for a in appendices
    ]
    written += [
        write_atomic(out_dir / appendix_file_name(a.number, "xlsx"), export_xlsx(snapshot, a))
        for a in appendices
    ]
    written.append(write_atomic(out_dir / JSON_NAME, export_json(snapshot)))
    return written
