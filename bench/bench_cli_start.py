"""Benchmark: how long a `cchc` command takes to start, against the import floor.

Why: officers and scripts run `cchc` many times a day; a command that spends a second
importing code it does not use is felt every time. The floor is the least any command can
cost: a Python process importing the two libraries every command needs,
`python -c 'import sqlalchemy, typer'`. Each command is run `--repeat` times, round robin
with the floor (so a change in the machine's load touches all of them alike), and the
median wall time and CPU time (user + system of the child, from `wait4`) are printed with
their ratio to the floor's median of the same run (target: <= 2x for `--help`,
`task list` and `task done`).

    cchc --help
    cchc task list vinh-thanh --plan papi-2023     (the demo database, 54 rows printed)
    cchc task done vinh-thanh cchc-2023 <code> --doc … --result …   (one task per run,
                                                   then reopened outside the timing)

The demo database is built once in a temporary folder (deleted afterwards), and so is the
cache of parsed data files (`plans.data_cache`, CCHC_DATA_CACHE_DIR): building the demo
parses the workflow and the calendar, so every timed run finds them kept, as an officer's
every command but the very first does. The project's
modules are byte-compiled first (`compileall`, into the `__pycache__` folders git ignores), as
`pip install` does for an installed `cchc` and as the floor's libraries are: with an editable
install under PYTHONDONTWRITEBYTECODE=1 (this machine's environment) every start would
otherwise compile each module from source again (~0.1 s of `task list`), a cost no installed
copy has. `--source-only` measures that case.

    .venv/bin/python bench/bench_cli_start.py              # 7 repetitions
    .venv/bin/python bench/bench_cli_start.py --repeat 15
    .venv/bin/python bench/bench_cli_start.py --importtime # + the slowest imports of each
    .venv/bin/python bench/bench_cli_start.py --source-only # without compiling bytecode first
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import figure, heading, load_average, note

from engine import api
from engine.demo import run_demo
from engine.domain.tasks import Actor, TaskKey
from engine.runtime import open_runtime

ROOT = Path(__file__).resolve().parents[1]
CCHC = str(Path(sys.executable).parent / "cchc")
TARGET = 2.0
PACKAGES = ("cli", "engine", "notifications", "plans", "vntext", "web", "workflows")
DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023 của UBND xã Vĩnh Thạnh"
LEADER = Actor("Lãnh đạo thử", "leader")


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    """(wall seconds, CPU seconds of the child, stderr) of one run; fails on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{err.decode()}")
    return wall, usage.ru_utime + usage.ru_stime, err


def slowest_imports(stderr: bytes, n: int = 12) -> list[tuple[int, str]]:
    """The `n` largest cumulative times (µs) in `-X importtime` output, of modules imported
    at the top two levels (a package and what it imports itself; deeper ones are inside)."""
    rows = []
    for line in stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            _self, cumulative, name = line[len("import time:"):].split("|")
            depth = (len(name) - len(name.lstrip())) // 2
            if cumulative.strip().isdigit() and depth <= 2:
                rows.append((int(cumulative), name.rstrip()))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each (default 7)")
    parser.add_argument("--importtime", action="store_true",
                        help="also print each command's slowest imports (-X importtime)")
    parser.add_argument("--source-only", action="store_true",
                        help="remove the project's bytecode instead of compiling it (see the "
                             "docstring)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cchc_bench_cli_"))
    os.environ["CCHC_DATA_CACHE_DIR"] = str(tmp / "data-cache")  # this run's, inherited
    try:
        heading(f"CLI start, {args.repeat} runs each, round robin")
        if args.source_only:
            for package in PACKAGES:
                for cache in (ROOT / package).rglob("__pycache__"):
                    shutil.rmtree(cache)
            note("project modules not byte-compiled (their __pycache__ removed): compiled "
                 "from source at every start under PYTHONDONTWRITEBYTECODE=1")
        else:
            for package in PACKAGES:
                compileall.compile_dir(ROOT / package, quiet=1)
            note("project modules byte-compiled first, as an installed cchc's are "
                 "(--source-only: without)")
        db = run_demo(tmp / "demo").database
        url = f"sqlite:///{db}"
        rt = open_runtime(url)
        # one-off tasks only: a recurring task's listed occurrence is today's, not the one
        # `--on 15/09/2023` names (the command would then act on a finished occurrence)
        open_codes = [t.code for t in api.list_tasks(rt, "vinh-thanh", plan="cchc-2023")
                      if not rt.machine.is_done(t.state) and not t.occurrence]
        note(f"demo database: {db.name}; {len(open_codes)} open tasks of cchc-2023 to mark done")
        env = {**os.environ, "CCHC_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        floor = [sys.executable, "-c", "import sqlalchemy, typer"]
        commands: dict[str, list[str]] = {
            "import sqlalchemy, typer (floor)": floor,
            "cchc --help": [CCHC, "--help"],
            "cchc task list (54 rows)": [CCHC, "task", "list", "vinh-thanh", "--plan",
                                         "papi-2023"],
            "cchc task done": [],  # the task changes every run
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(args.repeat):
            code = open_codes[i % len(open_codes)]
            for name, cmd in commands.items():
                if name == "cchc task done":
                    cmd = [CCHC, "task", "done", "vinh-thanh", "cchc-2023", code, "--doc", DOC,
                           "--result", f"Đã thực hiện (lần chạy {i + 1})", "--on",
                           "15/09/2023"]
                wall, cpu, _ = run(cmd, env)
                walls[name].append(wall)
                cpus[name].append(cpu)
            # back to open for the next round (outside the timing)
            api.transition(rt, TaskKey("vinh-thanh", "cchc-2023", code), "reopen", LEADER,
                           note="Mở lại cho lần đo sau")
        base_wall = statistics.median(walls["import sqlalchemy, typer (floor)"])
        base_cpu = statistics.median(cpus["import sqlalchemy, typer (floor)"])
        section = "cli start"
        for name in commands:
            wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
            figure(section, f"{name}: wall, median", wall * 1000, "ms")
            figure(section, f"{name}: CPU, median", cpu * 1000, "ms")
            if name.startswith("cchc"):
                figure(section, f"{name}: wall / floor", wall / base_wall, "x",
                       target=f"<= {TARGET:g}x", met=wall / base_wall <= TARGET)
                figure(section, f"{name}: CPU / floor", cpu / base_cpu, "x",
                       target=f"<= {TARGET:g}x", met=cpu / base_cpu <= TARGET)
        note(f"after the runs: {load_average()}")
        if args.importtime:
            for name, cmd in commands.items():
                if name == "cchc task done":
                    code = open_codes[args.repeat % len(open_codes)]
                    cmd = [CCHC, "task", "done", "vinh-thanh", "cchc-2023", code, "--doc", DOC,
                           "--result", "Đã thực hiện", "--on", "15/09/2023"]
                if cmd[0] == CCHC:
                    cmd = [sys.executable, "-X", "importtime", CCHC, *cmd[1:]]
                else:
                    cmd = [sys.executable, "-X", "importtime", *cmd[1:]]
                _wall, _cpu, err = run(cmd, env)
                print(f"  slowest imports of {name} (cumulative ms):")
                for us, module in slowest_imports(err):
                    print(f"    {us / 1000:8.1f}  {module}")
        rt.db.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
