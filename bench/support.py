"""Shared pieces of the scale benchmarks: throw-away databases, the generated province, figures.

Not a benchmark itself. The scale benchmarks (bench_generate, bench_mark_done, bench_machine,
bench_snapshot_export, bench_quarter_end, and run_all which runs them all) import it from
`bench/` (each script is run as `.venv/bin/python bench/<name>.py`, so this directory is on the
path).

Databases: SQLite is a file in a temporary directory; PostgreSQL is a fresh database
`cchc_bench_<pid>_<random>` created through the admin URL (env CCHC_BENCH_PG_URL, default the
test server's `postgresql+psycopg://postgres@127.0.0.1:5432/test`) and dropped afterwards, also
when the benchmark fails or is interrupted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select, text

from engine.clock import VN_TZ, fixed_clock
from engine.directory.units import upsert_units
from engine.domain.bulk import BulkChange, load_plans_bulk
from engine.domain.tasks import Actor, TaskKey
from engine.runtime import Runtime, open_runtime
from engine.storage.models import PlanTask, Task, Unit
from plans import DEMO_BUNDLE, UnitSpec

PG_ADMIN_URL = os.environ.get("CCHC_BENCH_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FULL_UNITS = 3321  # communes and wards after the 2025 reorganisation
QUICK_UNITS = 100
PLAN_FILES = [DEMO_BUNDLE / f for f in ("cchc-2023.yaml", "papi-2023.yaml", "kl91-2023.yaml")]
TASKS_PER_UNIT = 124  # 23 + 54 + 47
PERIOD = "2023-Q3"
NOW = datetime(2023, 9, 20, 9, 0, tzinfo=VN_TZ)  # after the Q3-2023 cut-off, as in the demo
OFFICER = Actor("Cán bộ thử tải", "officer")
RESULT = "Đã triển khai thực hiện theo kế hoạch của UBND."

# Parent provinces/cities (after the 2025 merger); the communes are spread over them.
PARENTS = [
    ("khanh-hoa", "Khánh Hòa", "tỉnh", 13),
    ("ha-noi", "Hà Nội", "thành phố", None),
    ("ho-chi-minh", "Hồ Chí Minh", "thành phố", None),
    ("nghe-an", "Nghệ An", "tỉnh", None),
    ("an-giang", "An Giang", "tỉnh", 13),
    ("lao-cai", "Lào Cai", "tỉnh", None),
]
_NAMES = ("Vĩnh Thạnh", "Phước Đồng", "Tân Phú", "Hòa Bình", "Đông Hải", "Nam Sơn", "Bình Minh",
          "Thạnh Mỹ", "Xuân Lộc", "An Phú", "Hưng Long", "Mỹ Khánh")


# ----------------------------------------------------------------------------- figures


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None

    def line(self) -> str:
        verdict = "" if self.met is None else ("MET" if self.met else "MISSED")
        target = f"target {self.target}: {verdict}" if self.target else ""
        return f"  {self.name:<58s} {self.value:>12,.2f} {self.unit:<8s} {target}"


FIGURES: list[Figure] = []


def figure(section: str, name: str, value: float, unit: str, *, target: str = "",
           met: bool | None = None) -> Figure:
    """Print one measured figure (with its target and verdict, if it has one) and keep it."""
    f = Figure(section, name, value, unit, target, met)
    FIGURES.append(f)
    print(f.line(), flush=True)
    return f


def note(message: str) -> None:
    print(f"    {message}", flush=True)


def heading(title: str) -> None:
    print(f"\n== {title}   ({load_average()}; {machine_speed()})", flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started (VmHWM).

    Not `ru_maxrss`: Linux carries that over fork and exec, so a child process started by a big
    parent would report the parent's size; VmHWM belongs to the process's own address space.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def exit_cleanly_on_sigterm() -> None:
    """Let `kill` (SIGTERM) unwind like Ctrl-C, so the databases are still dropped."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def load_average() -> str:
    """The 1-minute load average: other work on the machine slows every figure down."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def _reference_work() -> None:
    counts: dict[str, int] = {}
    for i in range(200_000):
        key = f"k{i % 5_000}"
        counts[key] = counts.get(key, 0) + i
    sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))


def machine_speed() -> str:
    """The CPU time of a fixed pure-Python workload (dict, str, sort; best of 3). Why: the
    machines benches run on differ between sessions (the same code has measured twice as slow
    on another day, load 0.5), so a figure in ms is read beside this one; a ratio to a baseline
    run in the same process does not need it."""
    best = min(_timed(_reference_work) for _ in range(3))
    return f"reference workload {best * 1000:.0f} ms CPU"


def _timed(work: Callable[[], None]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


class TreeRss:
    """Samples, in a thread, the summed resident memory of this process's descendants (not of
    this process itself): the memory of a run done in child processes, all of them together.
    Reads /proc (Linux); shared pages count once per process, so the sum is an upper bound.
    Processes younger than a second are left out: between fork and exec a new child shows
    its parent's (this benchmark's) memory as its own."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_mb = 0.0  # the largest sum over the tree seen
        self.largest_mb = 0.0  # the largest single process seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.is_set():
            with open("/proc/uptime") as fh:
                born_before = (float(fh.read().split()[0]) - 1.0) * tick
            table: dict[int, tuple[int, int]] = {}
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        with open(f"/proc/{entry}/stat", "rb") as fh:
                            fields = fh.read().rsplit(b")", 1)[1].split()
                    except OSError:
                        continue
                    young = int(fields[19]) > born_before  # starttime, in ticks since boot
                    table[int(entry)] = (int(fields[1]), 0 if young else int(fields[21]))
            total = largest = 0
            for pid, (ppid, rss) in table.items():
                while ppid not in (me, 0, 1) and ppid in table:
                    ppid = table[ppid][0]
                if ppid == me and pid != me:
                    total += rss
                    largest = max(largest, rss)
            self.peak_mb = max(self.peak_mb, total * self._page / 2**20)
            self.largest_mb = max(self.largest_mb, largest * self._page / 2**20)
            self._stop.wait(self.interval)


class CpuClock:
    """CPU seconds used by this process plus, on PostgreSQL, by the server processes serving
    its database (read from /proc; the server runs on this machine). Unlike wall time, it
    hardly moves when other work shares the CPUs, so ratios of it are steadier."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._tick = os.sysconf("SC_CLK_TCK")

    def server(self) -> float:
        """CPU seconds of the PostgreSQL server processes now serving this database (0 on
        SQLite, which runs inside its caller)."""
        if self.rt.db.is_sqlite:
            return 0.0  # SQLite runs inside this process
        with self.rt.db.engine.connect() as conn:
            pids = list(conn.scalars(text(
                "select pid from pg_stat_activity where datname = current_database()")))
        return sum(process_cpu_seconds(pid) for pid in pids)

    def read(self) -> float:
        return time.process_time() + self.server()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (0 if it is gone), from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: ...` then t[0] is the elapsed wall time in seconds."""
    out = [0.0]
    start = time.perf_counter()
    try:
        yield out
    finally:
        out[0] = time.perf_counter() - start


# ----------------------------------------------------------------------------- databases


def add_common_arguments(parser: argparse.ArgumentParser, *, units: int = FULL_UNITS) -> None:
    parser.add_argument("--units", type=int, default=units,
                        help=f"communes to generate (default {units})")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both",
                        help="which database(s) to run on (default both)")


def kinds(choice: str) -> list[str]:
    return ["sqlite", "postgres"] if choice == "both" else [choice]


@contextmanager
def bench_database(kind: str) -> Iterator[str]:
    """A fresh, empty database URL of `kind`, removed afterwards whatever happens."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="cchc_bench_"))
        try:
            yield f"sqlite:///{folder / 'bench.sqlite3'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"cchc_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def open_bench_runtime(url: str, *, migrate: bool = True) -> Runtime:
    return open_runtime(url, clock=fixed_clock(NOW), migrate=migrate)


def analyze(rt: Runtime) -> None:
    """Fresh statistics after a bulk load, as a DBA would run (autovacuum does it later) — on
    the tables that have rows only. Statistics saying a table is empty (documents, before the
    first mark-done) make PostgreSQL plan its foreign-key checks against that table as a
    sequential scan, and cache the plan per connection: every link inserted later then scans
    the whole, growing, table."""
    with rt.db.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            if conn.scalar(text(f'select exists (select 1 from "{name}")')):
                conn.exec_driver_sql(f'ANALYZE "{name}"')
        conn.commit()


# ----------------------------------------------------------------------------- the province


def unit_specs(n: int) -> list[UnitSpec]:
    """`n` communes/wards spread over the parent provinces/cities, parents first."""
    specs = [UnitSpec.model_validate({"slug": s, "name": name, "kind": kind,
                                      "report_cutoff_day": cutoff})
             for s, name, kind, cutoff in PARENTS]
    for i in range(n):
        kind = "phường" if i % 5 == 0 else ("đặc khu" if i % 97 == 0 else "xã")
        specs.append(UnitSpec.model_validate({
            "slug": commune_slug(i), "name": f"{_NAMES[i % len(_NAMES)]} {i + 1}", "kind": kind,
            "parent": PARENTS[i % len(PARENTS)][0], "leader": f"Chủ tịch {i + 1}"}))
    return specs


def commune_slug(i: int) -> str:
    return f"{PARENTS[i % len(PARENTS)][0]}-{i + 1:04d}"


def commune_slugs(n: int) -> list[str]:
    return [commune_slug(i) for i in range(n)]


def measured_commune(n: int) -> str:
    """The unit the one-unit figures are taken on: the last in slug order, which the machine
    comparison (taking tasks from the first units in slug order) leaves half done."""
    return max(commune_slugs(n))


def generate(rt: Runtime, n: int) -> tuple[float, float]:
    """Units, then the three plans for every commune (bulk path); returns both times (s)."""
    with stopwatch() as t_units:
        upsert_units(rt, unit_specs(n))
    with stopwatch() as t_plans:
        load_plans_bulk(rt, commune_slugs(n), PLAN_FILES)
    return t_units[0], t_plans[0]


def count_tasks(rt: Runtime) -> int:
    with rt.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Task)) or 0)


_DOC_KINDS = (  # what a commune cites for its tasks: its own plans, decisions, letters, reports
    "Kế hoạch số {n}/KH-UBND ngày 06/3/2023",
    "Quyết định số {n}/QĐ-UBND ngày 31/01/2023",
    "Công văn số {n}/UBND-VP ngày 15/5/2023",
    "Báo cáo số {n}/BC-UBND ngày 20/6/2023",
)


def evidence_of(slug: str) -> str:
    """The first of a unit's evidence documents (see `documents_of`)."""
    return documents_of(slug)[0]


def documents_of(slug: str) -> tuple[str, ...]:
    """The four documents of a unit's register its tasks cite (numbers differ by unit)."""
    number = 100 + sum(map(ord, slug)) % 800
    return tuple(kind.format(n=number + i) for i, kind in enumerate(_DOC_KINDS))


#: A task row as the benches pick it: unit slug, plan, code and the occurrence of recurring
#: work ("2023-Q1"; None for one-off work), so each period's row is its own change.
TaskRef = tuple[str, str, str, str | None]


def tasks_by_unit(rt: Runtime, state: str | None = "not_started") -> list[TaskRef]:
    """(unit slug, plan, code, occurrence) of every task row (in `state`), unit by unit in
    appendix order."""
    with rt.db.read() as session:
        q = (select(Unit.slug, Task.plan_id, Task.code, Task.occurrence)
             .join(Unit, Unit.id == Task.unit_id)
             .join(PlanTask, (PlanTask.plan_id == Task.plan_id) & (PlanTask.code == Task.code))
             .order_by(Unit.slug, Task.plan_id, PlanTask.position, Task.occurrence))
        if state is not None:
            q = q.where(Task.state == state)
        return [(u, p, c, o or None) for u, p, c, o in session.execute(q)]


_RESULT_WORDS = (
    "triển khai", "ban hành", "tuyên truyền", "rà soát", "niêm yết", "công khai", "tiếp nhận",
    "giải quyết", "hồ sơ", "trực tuyến", "một cửa", "Trang thông tin điện tử", "cán bộ",
    "người dân", "đúng hạn", "kịp thời", "đầy đủ", "theo quy định", "kế hoạch", "báo cáo",
)


def result_text(slug: str, plan: str, code: str, i: int) -> str:
    """A result as an officer writes it: different for every task (about 150 characters)."""
    words = [_RESULT_WORDS[(i * 7 + k * 13 + len(slug)) % len(_RESULT_WORDS)] for k in range(12)]
    return (f"{RESULT} Nhiệm vụ {code} ({plan}): đã {' '.join(words)}; "
            f"UBND {slug} thực hiện lần {i % 9 + 1}.")


def done_changes(keys: list[TaskRef]) -> list[BulkChange]:
    """Mark-done changes as an import of real results looks: a distinct result text per task
    and, per unit, four documents, each task citing one or two of them in turn."""
    out = []
    for i, (u, p, c, o) in enumerate(keys):
        docs = documents_of(u)
        first = i % len(docs)
        evidence = docs[first:first + 1 + i % 2] or docs[:1]
        out.append(BulkChange(TaskKey(u, p, c, o), evidence=evidence,
                              result=result_text(u, p, c, i)))
    return out


def every_other(keys: list[TaskRef], parity: int = 0) -> list[TaskRef]:
    return keys[parity::2]

