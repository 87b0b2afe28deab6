"""The role folders' public APIs (engine/<role>/__init__.py): complete, consistent, lazy.

The CLI and the web app import only these (an import-linter contract); the names are loaded on
first use so that `cchc --help` does not load the report writers or the web app.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from engine import _public_names

ROOT = Path(__file__).resolve().parent.parent
ROLES = ["domain", "directory", "reporting", "reminders", "storage"]


@pytest.mark.parametrize("role", ROLES)
def test_all_lists_exactly_the_type_checked_names(role: str) -> None:
    package = importlib.import_module(f"engine.{role}")
    declared = _public_names(ROOT / "engine" / role / "__init__.py")
    assert declared, f"engine.{role} declares no public API"
    assert sorted(package.__all__) == sorted(declared)
    assert len(set(package.__all__)) == len(package.__all__)


@pytest.mark.parametrize("role", ROLES)
def test_each_public_name_is_the_object_of_its_module(role: str) -> None:
    package = importlib.import_module(f"engine.{role}")
    for public, (module, name) in _public_names(ROOT / "engine" / role / "__init__.py").items():
        assert getattr(package, public) is getattr(importlib.import_module(module), name), public
        assert public in dir(package)


def test_an_unknown_name_is_an_attribute_error() -> None:
    import engine.reporting

    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        _ = engine.reporting.not_a_name  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        from engine.domain import not_a_name  # type: ignore[attr-defined]  # noqa: F401


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_role_packages_loads_none_of_their_modules() -> None:
    loaded = _loaded_after("from engine import directory, domain, reminders, reporting, storage")
    inner = sorted(m for m in loaded if any(m.startswith(f"engine.{r}.") for r in ROLES))
    assert inner == []
    assert "sqlalchemy" not in loaded


def test_a_public_name_loads_its_module_only() -> None:
    loaded = _loaded_after("from engine.domain import resolve_choice")
    assert "engine.domain.choices" in loaded
    assert not {"engine.domain.tasks", "engine.reporting.dashboard", "openpyxl", "docx"} & loaded


def test_the_cli_loads_no_writer_and_no_web_app_at_start() -> None:
    """`cchc --help` and the everyday commands start fast (issue 13): building the command
    tree loads neither the report writers, the migrations nor the web app."""
    loaded = _loaded_after("import cli.main")
    heavy = {"openpyxl", "docx", "alembic", "fastapi", "web.app", "engine.reporting.export",
             "engine.demo"}
    assert not heavy & loaded, sorted(heavy & loaded)
