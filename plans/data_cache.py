"""A data file's parsed content, kept by the hash of its text, so the next command skips YAML.

Why: every `cchc` command reads the workflow (`workflows/task.yaml`) and most read the working
calendar. Importing PyYAML and composing those two files in pure Python cost about 20 ms of
each start, a twentieth of `cchc task list` (issue 13: CLI start). The data a YAML text
gives depends only on that text, so it is kept once parsed, as JSON, under the SHA-256 of
the text: a clerk's edit changes the hash and is parsed afresh, and nothing needs to expire.

What is kept is the data (mappings, lists, texts, numbers, dates), never the validated
model: the model is validated again from it on every read, so a change to a schema or a
validator applies at once. Only data that validated once is kept (`plans.loader`), and a text
whose kept data no longer validates is parsed again, so its errors carry their lines. JSON,
not pickle: reading the cache runs no code, whatever is in the folder.

Any problem (no folder, no permission, a damaged or foreign file) means no cache: the text is
parsed as if nothing was kept. `CCHC_DATA_CACHE=false` turns it off;
`CCHC_DATA_CACHE_DIR` moves it (default: `$XDG_CACHE_HOME/cchc/data`, else
`~/.cache/cchc/data`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from plans.settings import get_data_file_settings

#: Part of every key: a change to what a parsed text gives (the loader's construction, the
#: encoding below) must change it, so nothing kept under the old one is read.
FORMAT = "cchc-yaml-data-1"


def _key(text: str) -> str:
    # The exact text, not `plans.loader.content_hash` (which hashes its NFC form, for a
    # document's identity): what is kept must be what this very text parses to.
    return hashlib.sha256(f"{FORMAT}\0{text}".encode()).hexdigest()


def _folder() -> Path | None:
    settings = get_data_file_settings()
    return settings.data_cache_dir if settings.data_cache else None  # None: no cache


def _encode(value: Any) -> Any:
    """`value` as JSON that says its types: a list is a pair [tag, body] (JSON's own arrays
    and objects would lose a date, a tuple, or a mapping's number keys)."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is dict:
        return ["m", [[_encode(k), _encode(v)] for k, v in value.items()]]
    if kind is list:
        return ["l", [_encode(v) for v in value]]
    if kind is tuple:
        return ["u", [_encode(v) for v in value]]
    if kind is datetime:
        return ["t", value.isoformat()]
    if kind is date:
        return ["d", value.isoformat()]
    raise TypeError(f"not kept: {kind.__name__}")  # bytes, sets: parsed each time


def _decode(value: Any) -> Any:
    if type(value) is not list:
        return value
    tag, body = value
    if tag == "m":
        return {_decode(k): _decode(v) for k, v in body}
    if tag == "l":
        return [_decode(v) for v in body]
    if tag == "u":
        return tuple(_decode(v) for v in body)
    if tag == "t":
        return datetime.fromisoformat(body)
    if tag == "d":
        return date.fromisoformat(body)
    raise ValueError(f"unknown tag {tag!r}")


def load(text: str) -> Any | None:
    """The data kept for `text`, or None (not kept, cache off, or unreadable)."""
    folder = _folder()
    if folder is None:
        return None
    try:
        raw = (folder / f"{_key(text)}.json").read_bytes()
        return _decode(json.loads(raw))
    except (OSError, ValueError, TypeError, RecursionError):
        return None


def encoded(data: Any) -> str | None:
    """`data` as it is kept, or None when it cannot be (a type JSON cannot say: bytes, a set)
    or the cache is off."""
    if _folder() is None:
        return None
    try:
        return json.dumps(_encode(data), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None


def store(text: str, data: str) -> None:
    """Keep `data` (`encoded`), parsed from `text`: written whole or not at all, in a folder
    only its owner reads; a failure is ignored."""
    folder = _folder()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(data)
            os.replace(tmp, folder / f"{_key(text)}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


__all__ = ["FORMAT", "encoded", "load", "store"]
