"""plans.data_cache: a data file's parsed content kept by the hash of its text (issue 13).

What is checked: the kept data is the parsed data, type for type; a text read again is not
parsed again; an edit, a damaged entry, a text that no longer validates, a cache turned off
or a folder that cannot be written all fall back to parsing, with the same result and the
same located errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from plans import data_cache, yaml_nodes
from plans.errors import DataFileError
from plans.loader import parse_model
from plans.settings import get_data_file_settings
from workflows import WORKFLOW_DIR, WorkflowDef


class Years(BaseModel):
    years: list[int]


class Named(BaseModel):
    years: list[str]


TEXT = "years:\n  - 2025\n  - 2026\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CCHC_DATA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CCHC_DATA_CACHE", raising=False)
    get_data_file_settings.cache_clear()
    yield tmp_path / "cache"
    get_data_file_settings.cache_clear()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts composed by PyYAML from now on."""
    seen: list[str] = []
    compose = yaml_nodes.compose

    def counting(text: str) -> tuple[Any, Any]:
        seen.append(text)
        return compose(text)

    monkeypatch.setattr(yaml_nodes, "compose", counting)
    return seen


def typed(value: Any) -> Any:
    """`value` with the type of every part spelt out (1 == True == 1.0 in Python)."""
    if isinstance(value, dict):
        return ("dict", sorted((repr(typed(k)), typed(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(v) for v in value])
    return (type(value).__name__, repr(value))


scalars = (st.none() | st.booleans() | st.integers() | st.text()
           | st.floats(allow_nan=False) | st.dates()
           | st.datetimes(timezones=st.none() | st.just(timezone(timedelta(hours=7))))
           .map(lambda d: d.replace(fold=0)))  # YAML never gives a fold
keys = st.none() | st.booleans() | st.integers() | st.text() | st.dates()
trees = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(keys, inner, max_size=4)
                     | st.tuples(inner, inner), max_leaves=20)


@given(trees)
def test_kept_data_reads_back_type_for_type(value: Any) -> None:
    encoded = json.dumps(data_cache._encode(value))
    assert typed(data_cache._decode(json.loads(encoded))) == typed(value)


def test_a_text_read_again_is_not_parsed_again(folder: Path, parses: list[str]) -> None:
    text = (WORKFLOW_DIR / "task.yaml").read_text(encoding="utf-8")
    first = parse_model(WorkflowDef, text, "task.yaml")
    assert len(parses) == 1 and len(list(folder.glob("*.json"))) == 1
    again = parse_model(WorkflowDef, text, "task.yaml")
    assert again == first and again is not first  # validated afresh from the kept data
    assert len(parses) == 1


def test_an_edited_text_is_parsed(folder: Path, parses: list[str]) -> None:
    assert parse_model(Years, TEXT, "y.yaml").years == [2025, 2026]
    assert parse_model(Years, TEXT + "  - 2027\n", "y.yaml").years == [2025, 2026, 2027]
    assert len(parses) == 2 and len(list(folder.glob("*.json"))) == 2


def test_a_damaged_entry_is_parsed_again_and_replaced(folder: Path, parses: list[str]) -> None:
    parse_model(Years, TEXT, "y.yaml")
    (entry,) = folder.glob("*.json")
    for damage in ('["m",[["years",["x",[]]]]]', "{not json", '["m"]', ""):
        entry.write_text(damage, encoding="utf-8")
        assert parse_model(Years, TEXT, "y.yaml").years == [2025, 2026]
    assert len(parses) == 5
    assert data_cache.load(TEXT) == {"years": [2025, 2026]}


def test_kept_data_that_does_not_validate_gives_the_located_errors(
        folder: Path, parses: list[str]) -> None:
    """Kept once for one model, refused by another: the error still names its line."""
    parse_model(Years, TEXT, "y.yaml")
    with pytest.raises(DataFileError) as refused:
        parse_model(Named, TEXT, "y.yaml")
    lines = sorted(p.line or 0 for p in refused.value.file_problems)
    assert lines == [2, 3]  # the two numbers, where a text was wanted
    assert len(parses) == 2


def test_an_invalid_text_is_not_kept(folder: Path) -> None:
    with pytest.raises(DataFileError):
        parse_model(Named, TEXT, "y.yaml")
    assert not folder.exists() or not list(folder.glob("*.json"))


def test_the_cache_turned_off_keeps_nothing(folder: Path, parses: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_DATA_CACHE", "false")
    get_data_file_settings.cache_clear()
    parse_model(Years, TEXT, "y.yaml")
    parse_model(Years, TEXT, "y.yaml")
    assert len(parses) == 2 and not folder.exists()


def test_a_folder_that_cannot_be_written_changes_nothing(
        tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("CCHC_DATA_CACHE_DIR", str(blocker / "cache"))  # under a file
    get_data_file_settings.cache_clear()
    try:
        assert parse_model(Years, TEXT, "y.yaml").years == [2025, 2026]
        assert parse_model(Years, TEXT, "y.yaml").years == [2025, 2026]
    finally:
        get_data_file_settings.cache_clear()
    assert len(parses) == 2


def test_the_folder_is_its_owners_only(folder: Path) -> None:
    parse_model(Years, TEXT, "y.yaml")
    assert folder.stat().st_mode & 0o777 == 0o700


def test_dates_come_back_as_dates(folder: Path) -> None:
    class Day(BaseModel):
        day: date
        at: datetime

    text = "day: 2026-12-07\nat: 2026-12-07 08:30:00+07:00\n"
    first = parse_model(Day, text, "d.yaml")
    assert data_cache.load(text) == {"day": first.day, "at": first.at}
    assert parse_model(Day, text, "d.yaml") == first
