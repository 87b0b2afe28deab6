"""What `cchc` does NOT import before a command needs it (issue 13: CLI start).

Every `cchc` call pays for what `cli.main` imports. The report writers (openpyxl,
python-docx), Alembic, the web app, the reminder channels, the workflow machine
(transitions), the working-day calendar (holidays), the ORM models and the runtime are
imported when a command uses them (`cli/lazy.py`, imports inside commands), not at start —
`cchc --help` needs none of them. A module bound with `lazy()` sits in `sys.modules`
unexecuted until it is used, so "imported" here means executed.

`import cli.main` loads neither pydantic nor PyYAML nor SQLAlchemy (`plans` loads its names
on first use). The everyday commands (`task list`, `task done`) are checked below as well.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_AT_START = (
    "alembic", "openpyxl", "docx", "pypdf", "jinja2", "fastapi", "uvicorn", "web", "httpx",
    "aiosmtplib", "apscheduler", "phonenumbers", "holidays", "transitions", "rich.progress",
    "sqlalchemy.orm", "engine.runtime", "engine.api", "engine.storage.models",
    "engine.storage.database", "engine.domain.calendar", "engine.domain.workflow.machine",
    "engine.reporting.export", "engine.reminders.dispatch", "notifications.email", "pydantic",
    "yaml", "sqlalchemy",
)
PROBE = """
import json, sys
import cli.main
if sys.argv[1:] == ["--help"]:
    sys.argv = ["cchc", "--help"]
    try:
        cli.main.app()
    except SystemExit:
        pass
loaded = sorted(n for n in json.loads({names!r})
                if n in sys.modules and type(sys.modules[n]).__name__ != "_LazyModule")
print(json.dumps(loaded), file=sys.stderr)
"""


def executed_at_start(*args: str, names: tuple[str, ...] = NOT_AT_START) -> list[str]:
    code = PROBE.format(names=json.dumps(names))
    run = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert run.returncode == 0, run.stderr
    found: list[str] = json.loads(run.stderr.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize("args", [(), ("--help",)], ids=["import cli.main", "cchc --help"])
def test_start_imports_none_of_what_commands_load_on_use(args: tuple[str, ...]) -> None:
    assert executed_at_start(*args) == []


def test_typer_help_panels_load_only_for_help_or_an_error() -> None:
    """Typer's `rich_utils` (Rich's markdown and traceback) is put into Vietnamese when loaded."""
    assert executed_at_start(names=("typer.rich_utils", "rich.markdown")) == []
    assert executed_at_start("--help", names=("typer.rich_utils",)) == ["typer.rich_utils"]


def test_the_probe_sees_a_module_once_it_is_used() -> None:
    """The check above can fail: a lazy module counts as imported once something uses it."""
    code = ("import sys, json; import cli.main; cli.main.runtime.open_runtime; "
            "print(json.dumps([type(sys.modules[n]).__name__ for n in "
            "('engine.runtime', 'engine.domain.calendar')]), file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stderr.strip().splitlines()[-1]) == ["module", "module"]


COLLECTOR = """
import gc, json, sys
from cli.collector import hold_collector
gc.collect()
before = gc.get_threshold()
hold_collector(5_000)
hold_collector(9_000)  # held already (cli.start, then cli.main.run): nothing changes
held = gc.get_threshold()
collections = []
gc.callbacks.append(lambda phase, info: collections.append(phase) if phase == "stop" else None)
kept = [[] for _ in range(4_000)]  # fewer new objects than held for: no collection
quiet = len(collections)
kept += [[] for _ in range(2_000)]  # past it: one collection, then the usual thresholds
print(json.dumps([before, held, quiet, len(collections) > 0, gc.get_threshold()]),
      file=sys.stderr)
"""


def test_the_collector_waits_for_the_start_then_runs_as_usual() -> None:
    run = subprocess.run([sys.executable, "-c", COLLECTOR], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert run.returncode == 0, run.stderr
    before, held, quiet, collected, after = json.loads(run.stderr.strip().splitlines()[-1])
    assert held == [5_000, *before[1:]]
    assert (quiet, collected, after) == (0, True, before)


@pytest.mark.parametrize(("args", "says"), [
    (["task", "lst"], "Không có lệnh 'lst'. Có phải ý bạn là: 'list'?"),
    (["tsk", "list"], "Không có lệnh 'tsk'. Có phải ý bạn là: 'task'?"),
], ids=["in the group named", "a group misspelt"])
def test_the_command_finds_its_group_alone_and_a_typo_among_all(args: list[str],
                                                                says: str) -> None:
    """`cchc` builds only the group its first argument names; a misspelt group is looked for
    among all of them."""
    cchc = Path(sys.executable).with_name("cchc")
    run = subprocess.run([str(cchc), *args], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
                         timeout=120)
    assert run.returncode == 2
    assert says in run.stderr


NOT_FOR_EVERYDAY = (
    "alembic", "openpyxl", "docx", "holidays", "typer.rich_utils", "rich.markdown", "argon2",
    "engine.directory.access", "engine.directory.accounts", "engine.reporting.quarter_end",
    "engine.reporting.snapshot.model", "engine.domain.plan_loading", "plans.schema",
    "cli.outbox", "cli.reminders", "cli.stats", "cli.web", "cli.zalo",
    # the tables of the web app and of the reminders (each mapped table costs every start)
    "engine.storage.models.web", "engine.storage.models.reminders",
)
COMMAND_PROBE = """
import json, sys
sys.argv = ["cchc", *json.loads(sys.argv[1])]
from cli.start import run
try:
    run()
except SystemExit as exc:
    code = exc.code
print(json.dumps([code, sorted(n for n in json.loads({names!r}) if n in sys.modules
                                and type(sys.modules[n]).__name__ != "_LazyModule")]),
      file=sys.stderr)
"""


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from typer.testing import CliRunner

    from cli.main import app
    from plans import DEMO_BUNDLE

    url = f"sqlite:///{tmp_path_factory.mktemp('start') / 'cchc.sqlite3'}"
    for args in (["db", "init"], ["unit", "load", str(DEMO_BUNDLE / "units.yaml")],
                 ["plan", "load", "vinh-thanh", "-f", str(DEMO_BUNDLE / "cchc-2023.yaml")]):
        result = CliRunner().invoke(app, args, env={"CCHC_DATABASE_URL": url})
        assert result.exit_code == 0, result.output
    return url


@pytest.mark.parametrize(("args", "also_not"), [
    (["task", "done", "vinh-thanh", "cchc-2023", "7", "--doc",
      "Kế hoạch số 223/KH-UBND ngày 06/3/2023", "--result", "Đã khảo sát", "--on", "15/09/2023",
      "--role", "lãnh đạo", "--at", "2023-09-20T09:00"],
     ("engine.domain.calendar_file",)),  # computes no working day: the swaps file is not read
    (["task", "list", "vinh-thanh", "--at", "2023-09-20T09:00"],  # task 7 done: how late?
     ("engine.domain.documents", "engine.domain.task_writes",  # reads only
      "engine.storage.models.reports")),  # and no period is frozen by a snapshot
], ids=["task done", "task list"])
def test_everyday_commands_load_no_writer_accounts_or_holidays_package(
        demo_db: str, args: list[str], also_not: tuple[str, ...]) -> None:
    """`task list` and `task done` of 2023: the days off come from the written table, a role
    is read without the accounts, and neither the quarter-end run nor Typer's help panels load;
    a read loads no write path, a change that computes no working day no swaps file."""
    code = COMMAND_PROBE.format(names=json.dumps([*NOT_FOR_EVERYDAY, *also_not]))
    run = subprocess.run([sys.executable, "-c", code, json.dumps(args)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "CCHC_DATABASE_URL": demo_db})
    exit_code, loaded = json.loads(run.stderr.strip().splitlines()[-1])
    assert (exit_code, loaded) == (0, []), run.stdout + run.stderr


def test_a_command_run_again_does_not_load_yaml(demo_db: str) -> None:
    """The workflow and the calendar, parsed by the first run, are read by the next from the
    data kept by the hash of their text (`plans.data_cache`): PyYAML is not even imported."""
    args = ["task", "list", "vinh-thanh", "--at", "2023-09-20T09:00"]
    code = COMMAND_PROBE.format(names=json.dumps(["yaml", "plans.yaml_nodes"]))
    runs = []
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", code, json.dumps(args)], cwd=ROOT,
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONPATH": str(ROOT),
                                  "CCHC_DATABASE_URL": demo_db})
        runs.append(json.loads(run.stderr.strip().splitlines()[-1]))
    assert runs[1] == [0, []], runs
