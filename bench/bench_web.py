"""Benchmark: the web app under load — a real uvicorn server, 50 concurrent clients, loopback.

Why: the figures of the other benchmarks are engine calls in one process; officers meet the
engine through HTTP, with authentication, access checks, templates and JSON on every request,
and many of them at once around the cut-off day. This starts the app as it is deployed
(`uvicorn web.app:create_app --factory`, a subprocess listening on 127.0.0.1 only) and runs
`--clients` concurrent clients (httpx.AsyncClient, one connection each, no think time) until
`--requests` requests were sent or `--seconds` passed, whichever comes first. Each client
mixes reads and writes:

    dashboard (HTML)      GET /dashboard                      (session cookie)
    task list (HTML)      GET /units/{unit}/tasks             (session cookie; if the page exists)
    task page (HTML)      GET /units/{unit}/tasks/{plan}/{code} (session cookie)
    task list (JSON)      GET /api/units/{unit}/tasks         (Bearer token)
    task detail (JSON)    GET /api/units/{unit}/tasks/{plan}/{code}
    mark done (API)       POST …/transitions {"trigger": "complete", evidence, result,
                          expected_version}   (officer token)
    reopen (API)          POST …/transitions {"trigger": "reopen", note, expected_version}
                          (leader token; only to mark a task done again in the demo, where
                          most tasks start done)

Every client writes only its own tasks and sends the version its last answer gave, so a 409
would be a bug, not contention. After the run the database is read back: the history rows
added must equal the successful writes, the done tasks added must equal the successful
mark-done answers minus the reopens, and every written task's version must be its initial
version plus its successful writes — any difference is a LOST UPDATE (or a phantom write).

(a) SQLite: the demo database of xã Vĩnh Thạnh (`run_demo`, 124 tasks), one worker.
(b) PostgreSQL: a province of `--units` communes under tỉnh Khánh Hòa, each with the three 2023
    plans (bulk loaded, 124 tasks each), `--workers` uvicorn workers; client i works in
    commune i.

First, with the server otherwise idle, the CPU one request costs: one client asks each page
`--cpu-requests` times in a row, in 5 rounds, and the CPU the server's processes — and, on
PostgreSQL, the database server processes serving it — used is divided by the count; the
figure is the median round's, with every round's printed beside it (targets: task page
<= 5 ms, dashboard <= 8 ms, task list of 54 rows <= 10 ms). Then two load shapes per database,
against the same server: *saturation* (no think time: each client sends its next request as
soon as the last one is answered, so latency is mostly queueing — by Little's law p50 ≈
clients / throughput), then *paced* (`--think`, default 1 s: each client pauses an
exponentially distributed time between requests, like officers reading a page), `--paced-runs`
times (default 3). Targets printed next to the figures: p99 < 200 ms per request kind when
paced, 0 failed requests, 0 lost updates. Latencies are measured in the client. The server
runs on `--server-cpus` (default CPU 0) and this load generator on `--client-cpus` (default
CPU 1), so they do not take each other's core (PostgreSQL runs where the system puts it); the
CPU of the server processes, of PostgreSQL's and of the load generator is printed with the
figures, to tell a slow server from a saturated machine.
Logins are not measured: sessions and API tokens are created directly in the database (and the
throw-away users get cheap argon2 parameters).

    .venv/bin/python bench/bench_web.py --quick         # 1,500 requests / 20 s per phase
    .venv/bin/python bench/bench_web.py                 # 6,000 requests / 60 s, 120 communes
    .venv/bin/python bench/bench_web.py --db sqlite --clients 50 --requests 10000 --seconds 90
    .venv/bin/python bench/bench_web.py --db postgres --units 150 --workers 2
    .venv/bin/python bench/bench_web.py --quick --cpu-only --units 20   # CPU per request only

Every database it creates is deleted (SQLite) or dropped (PostgreSQL) afterwards, and the
server it starts is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from sqlalchemy import func, select
from support import (
    PLAN_FILES,
    CpuClock,
    analyze,
    bench_database,
    evidence_of,
    figure,
    heading,
    load_average,
    note,
    stopwatch,
)

from engine import api
from engine.demo import run_demo
from engine.directory import accounts
from engine.directory.units import upsert_units
from engine.domain.bulk import load_plans_bulk
from engine.runtime import Runtime, open_runtime
from engine.storage.models import Document, Task, TaskHistory, Unit
from plans import UnitSpec
from web.settings import WebSettings

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only: this never listens on a public address
RESULT = "Đã triển khai thực hiện theo kế hoạch (thử tải)."
REOPEN_NOTE = "Mở lại để thử tải"
P99_TARGET_MS = 200.0
#: Request kinds and their share of the mix (writes: mark done, or reopen a done task first).
MIX: dict[str, float] = {
    "dashboard (HTML)": 0.20,
    "task list (HTML)": 0.15,
    "task page (HTML)": 0.10,
    "task list (JSON)": 0.15,
    "task detail (JSON)": 0.10,
    "write": 0.30,
}
KINDS = ["dashboard (HTML)", "task list (HTML)", "task page (HTML)", "task list (JSON)",
         "task detail (JSON)", "mark done (API)", "reopen (API)"]
#: The CPU-per-request figure is the median of this many rounds (`--cpu-requests` split
#: between them): a burst of other work on the host spoils one round, not the figure.
CPU_ROUNDS = 5

#: CPU per request targets (ms), one client, the server otherwise idle.
CPU_TARGETS = {"task page (HTML)": 5.0, "dashboard (HTML)": 8.0,
               "task list, 54 rows (HTML)": 10.0}
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
NAMES = ("Vĩnh Thạnh", "Phước Đồng", "Tân Phú", "Hòa Bình", "Đông Hải", "Nam Sơn", "Bình Minh",
         "Thạnh Mỹ", "Xuân Lộc", "An Phú", "Hưng Long", "Mỹ Khánh")


# ----------------------------------------------------------------------------- the plan


@dataclass
class OwnTask:
    plan: str
    code: str
    version: int
    done: bool
    initial_version: int = 0
    initial_done: bool = False
    writes: int = 0
    unsure: bool = False  # a write got no answer: it may or may not have been committed

    def __post_init__(self) -> None:
        self.initial_version, self.initial_done = self.version, self.done


@dataclass
class Client:
    unit: str
    officer_token: str
    leader_token: str
    session: str
    evidence: str
    tasks: list[OwnTask]
    next_task: int = 0


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    completes: int = 0
    reopens: int = 0
    sent: int = 0

    def fail(self, kind: str, reason: str) -> None:
        self.failures[kind] += 1
        self.reasons[f"{kind}: {reason}"] += 1


@dataclass
class Budget:
    requests: int
    deadline: float

    def take(self) -> bool:
        if self.requests <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.requests -= 1
        return True


# ----------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cpu_set(text: str) -> set[int]:
    """'0' or '0,1' or '' (no pinning) -> the CPUs, limited to those this machine has."""
    have = os.sched_getaffinity(0)
    return {int(c) for c in text.split(",") if c.strip()} & have


@contextmanager
def server(url: str, workers: int, log: Path, cpus: set[int]) -> Iterator[tuple[str, int]]:
    """`uvicorn web.app:create_worker_app --factory` (what `cchc serve --workers N` runs) on a
    free loopback port, pinned to `cpus` (all of them if empty); stopped afterwards."""
    port = free_port()
    env = {**os.environ, "CCHC_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "uvicorn", "web.app:create_worker_app", "--factory",
           "--host", HOST, "--port", str(port), "--workers", str(workers), "--no-access-log",
           "--log-level", "warning", "--no-server-header"]

    def pin() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)  # the workers it starts inherit it

    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=pin)
    base = f"http://{HOST}:{port}"
    try:
        wait_until_up(base, proc, log)
        yield base, proc.pid
    finally:
        stop(proc)


def wait_until_up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    answered = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/me", timeout=2).status_code == 401:
                answered += 1
                if answered >= 5:  # several answers: with --workers, give the others time
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not answer at {base} within 60 s:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (the supervisor and its workers)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of the live processes of process group `pgid` (the server:
    its supervisor and workers), from /proc."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- data


def counts(rt: Runtime) -> tuple[int, int]:
    """(done tasks, history rows) in the whole database."""
    with rt.db.read() as session:
        done = session.scalar(select(func.count()).select_from(Task)
                              .where(Task.state == "done")) or 0
        history = session.scalar(select(func.count()).select_from(TaskHistory)) or 0
        return int(done), int(history)


def tokens_and_session(rt: Runtime, username: str) -> tuple[str, str]:
    token, _ = accounts.create_api_token(rt, username, "thử tải")
    user = accounts.get_user(rt, username)
    raw, _ = accounts.create_session(rt, user.id, lifetime=WebSettings().session_lifetime)
    return token, raw


def own_tasks(rt: Runtime, unit: str) -> list[OwnTask]:
    return [OwnTask(t.plan, t.code, t.version, rt.machine.is_done(t.state))
            for t in api.list_tasks(rt, unit)]


def demo_clients(rt: Runtime, n: int) -> list[Client]:
    """All clients in xã Vĩnh Thạnh, its 124 tasks dealt out round robin."""
    token_o, session = tokens_and_session(rt, "canbo.vinhthanh")
    token_l, _ = tokens_and_session(rt, "lanhdao.vinhthanh")
    # A document already in the commune's register: 50 clients citing a *new* one at the same
    # instant would race to register it (the loser is told to retry — by design, not a bug).
    with rt.db.read() as session_:
        unit_id = session_.scalar(select(Unit.id).where(Unit.slug == "vinh-thanh"))
        doc = session_.scalar(select(Document.rendered).where(Document.unit_id == unit_id)
                              .order_by(Document.id))
    assert doc, "the demo registers documents"
    tasks = own_tasks(rt, "vinh-thanh")
    if n > len(tasks):
        raise SystemExit(f"--clients {n}: the demo commune has only {len(tasks)} tasks to share")
    return [Client("vinh-thanh", token_o, token_l, session, doc, tasks[i::n]) for i in range(n)]


def province_specs(n: int) -> list[UnitSpec]:
    specs = [UnitSpec.model_validate({"slug": "khanh-hoa", "name": "Khánh Hòa", "kind": "tỉnh",
                                      "report_cutoff_day": 13})]
    for i in range(n):
        specs.append(UnitSpec.model_validate({
            "slug": f"kh-{i + 1:03d}", "name": f"{NAMES[i % len(NAMES)]} {i + 1}",
            "kind": "phường" if i % 5 == 0 else "xã", "parent": "khanh-hoa",
            "leader": f"Chủ tịch {i + 1}"}))
    return specs


def province_clients(rt: Runtime, units: int, n: int) -> list[Client]:
    """Client i works in commune i (its officer and leader, all its 124 tasks)."""
    clients = []
    for i in range(n):
        slug = f"kh-{(i % units) + 1:03d}"
        officer, leader = f"canbo.{slug}", f"lanhdao.{slug}"
        if i < units:
            accounts.create_user(rt, officer, password="mat-khau-thu-tai", role="officer",
                                 unit=slug, full_name=f"Cán bộ {slug}")
            accounts.create_user(rt, leader, password="mat-khau-thu-tai", role="leader",
                                 unit=slug, full_name=f"Lãnh đạo {slug}")
        token_o, session = tokens_and_session(rt, officer)
        token_l, _ = tokens_and_session(rt, leader)
        tasks = own_tasks(rt, slug)
        share = tasks if n <= units else tasks[i // units::math.ceil(n / units)]
        clients.append(Client(slug, token_o, token_l, session, evidence_of(slug), share))
    return clients


# ----------------------------------------------------------------------------- the load


async def timed(stats: Stats, kind: str, client: httpx.AsyncClient, method: str, url: str,
                **kw: Any) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        res = await client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        stats.fail(kind, type(exc).__name__)
        return None
    stats.latencies[kind].append(time.perf_counter() - start)
    if res.status_code != 200:
        detail = res.text[:160].replace("\n", " ")
        stats.fail(kind, f"{res.status_code} {detail}")
        return None
    return res


async def write(stats: Stats, c: Client, http: httpx.AsyncClient) -> None:
    task = c.tasks[c.next_task % len(c.tasks)]
    c.next_task += 1
    url = f"/api/units/{c.unit}/tasks/{task.plan}/{task.code}/transitions"
    if task.done:
        kind, token = "reopen (API)", c.leader_token
        body: dict[str, Any] = {"trigger": "reopen", "note": REOPEN_NOTE,
                                "expected_version": task.version}
    else:
        kind, token = "mark done (API)", c.officer_token
        body = {"trigger": "complete", "evidence": [c.evidence], "result": RESULT,
                "expected_version": task.version}
    res = await timed(stats, kind, http, "POST", url, json=body,
                      headers={"Authorization": f"Bearer {token}"})
    if res is None:
        # No answer or a refusal: read the task back (not counted) so the next write sends
        # the right version; a write without an answer may still have been committed.
        task.unsure = True
        fresh = await http.get(f"/api/units/{c.unit}/tasks/{task.plan}/{task.code}",
                               headers={"Authorization": f"Bearer {c.officer_token}"})
        if fresh.status_code == 200:
            task.version, task.done = fresh.json()["version"], fresh.json()["state"] == "done"
        return
    task.version = res.json()["version"]
    task.done = not task.done
    task.writes += 1
    if kind == "mark done (API)":
        stats.completes += 1
    else:
        stats.reopens += 1


async def one_request(stats: Stats, c: Client, http: httpx.AsyncClient, kind: str,
                      rng: random.Random) -> None:
    auth = {"Authorization": f"Bearer {c.officer_token}"}
    if kind == "dashboard (HTML)":
        await timed(stats, kind, http, "GET", "/dashboard")
    elif kind == "task list (HTML)":
        await timed(stats, kind, http, "GET", f"/units/{c.unit}/tasks")
    elif kind == "task page (HTML)":
        t = rng.choice(c.tasks)
        await timed(stats, kind, http, "GET", f"/units/{c.unit}/tasks/{t.plan}/{t.code}")
    elif kind == "task list (JSON)":
        await timed(stats, kind, http, "GET", f"/api/units/{c.unit}/tasks", headers=auth)
    elif kind == "task detail (JSON)":
        t = rng.choice(c.tasks)
        await timed(stats, kind, http, "GET", f"/api/units/{c.unit}/tasks/{t.plan}/{t.code}",
                    headers=auth)
    else:
        await write(stats, c, http)


async def run_client(i: int, c: Client, base: str, budget: Budget, stats: Stats,
                     mix: dict[str, float], warm: asyncio.Barrier, think: float) -> None:
    rng = random.Random(1000 + i + int(think * 1000))
    kinds, weights = list(mix), list(mix.values())
    async with httpx.AsyncClient(
            base_url=base, cookies={"cchc_session": c.session}, timeout=30.0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)) as http:
        for kind in ("dashboard (HTML)", "task list (JSON)"):  # warm-up, not counted
            await one_request(Stats(), c, http, kind, rng)
        await warm.wait()
        if think:  # do not start in lockstep
            await asyncio.sleep(rng.uniform(0, think))
        while budget.take():
            stats.sent += 1
            await one_request(stats, c, http, rng.choices(kinds, weights)[0], rng)
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))


async def load(base: str, clients: list[Client], requests: int, seconds: float,
               mix: dict[str, float], think: float) -> tuple[Stats, float]:
    stats = Stats()
    warm = asyncio.Barrier(len(clients) + 1)
    budget = Budget(requests, math.inf)
    tasks = [asyncio.create_task(run_client(i, c, base, budget, stats, mix, warm, think))
             for i, c in enumerate(clients)]
    await warm.wait()  # every client warmed up and connected: the clock starts now
    start = time.perf_counter()
    budget.deadline = start + seconds
    await asyncio.gather(*tasks)
    return stats, time.perf_counter() - start


def html_task_list_exists(base: str, client: Client) -> bool:
    res = httpx.get(f"{base}/units/{client.unit}/tasks", cookies={"cchc_session": client.session},
                    follow_redirects=False, timeout=30)
    return res.status_code == 200


# ----------------------------------------------------------------------------- figures


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def report(section: str, stats: Stats, wall: float, *, p99_target: bool) -> None:
    answered = sum(len(v) for v in stats.latencies.values())
    failed = sum(stats.failures.values())
    figure(section, f"requests sent ({wall:.1f} s measured)", stats.sent, "req")
    figure(section, "throughput (all kinds, answered)", answered / wall, "req/s")
    for kind in KINDS:
        lat = stats.latencies.get(kind)
        if not lat:
            continue
        ms = [x * 1000 for x in lat]
        figure(section, f"{kind}: {len(ms)} answered, throughput", len(ms) / wall, "req/s")
        figure(section, f"{kind}: p50", quantile(ms, 0.50), "ms")
        if p99_target:
            p99 = quantile(ms, 0.99)
            figure(section, f"{kind}: p99", p99, "ms", target=f"< {P99_TARGET_MS:.0f} ms",
                   met=p99 < P99_TARGET_MS)
        else:
            figure(section, f"{kind}: p99", quantile(ms, 0.99), "ms")
    figure(section, "failed requests", failed, "req", target="0", met=failed == 0)
    for reason, n in stats.reasons.most_common(8):
        note(f"{n} x {reason}")


def verify(section: str, rt: Runtime, clients: list[Client], stats: Stats,
           before: tuple[int, int]) -> None:
    """Read the database back: every successful write must be there, and nothing else."""
    done_before, history_before = before
    done_after, history_after = counts(rt)
    writes = stats.completes + stats.reopens
    figure(section, "successful mark-done answers", stats.completes, "req")
    figure(section, "successful reopen answers", stats.reopens, "req")
    figure(section, "history rows added", history_after - history_before, "rows")
    figure(section, "done tasks added (expected: mark-done - reopen)", done_after - done_before,
           "tasks")
    wrong_version = 0
    unsure = 0
    for c in clients:
        for t in c.tasks:
            if t.unsure:
                unsure += 1
                continue
            view = api.get_task(rt, api.TaskKey(c.unit, t.plan, t.code))
            expected_done = t.initial_done != (t.writes % 2 == 1)
            if view.version != t.initial_version + t.writes or \
                    rt.machine.is_done(view.state) != expected_done:
                wrong_version += 1
    lost = abs(writes - (history_after - history_before)) + abs(
        (stats.completes - stats.reopens) - (done_after - done_before)) + wrong_version
    figure(section, "tasks whose version/state differ from the answers", wrong_version, "tasks")
    figure(section, "LOST UPDATES (answers vs rows, done count, per task)", lost, "",
           target="0", met=lost == 0)
    if unsure:
        note(f"{unsure} task(s) had a write without an answer (timeout): not checked one by one")


def server_errors(log: Path) -> None:
    text = log.read_text(errors="replace")
    locked = text.count("database is locked")
    tracebacks = text.count("Traceback")
    if locked or tracebacks:
        note(f"server log: {tracebacks} traceback(s), {locked} x 'database is locked' ({log})")
    else:
        note("server log: no errors, no 'database is locked'")


# ----------------------------------------------------------------------------- the cases


def run_sqlite(args: argparse.Namespace, tmp: Path) -> None:
    heading(f"web on SQLite: xã Vĩnh Thạnh (demo, 124 tasks), {args.clients} clients, "
            f"{args.sqlite_workers} worker(s)")
    result = run_demo(tmp / "demo")
    rt = open_runtime(f"sqlite:///{result.database}")
    try:
        clients = demo_clients(rt, args.clients)
        section = f"web [sqlite, 1 commune, {args.sqlite_workers} worker(s)]"
        run_case(section, rt, clients, f"sqlite:///{result.database}", args.sqlite_workers,
                 tmp / "uvicorn-sqlite.log", args)
    finally:
        rt.db.dispose()


def run_postgres(args: argparse.Namespace, tmp: Path) -> None:
    heading(f"web on PostgreSQL: tỉnh Khánh Hòa, {args.units} communes x 124 tasks, "
            f"{args.clients} clients, {args.workers} workers")
    with bench_database("postgres") as url:
        rt = open_runtime(url)
        try:
            with stopwatch() as t:
                upsert_units(rt, province_specs(args.units))
                load_plans_bulk(rt, [f"kh-{i + 1:03d}" for i in range(args.units)], PLAN_FILES)
                clients = province_clients(rt, args.units, args.clients)
                analyze(rt)
            with rt.db.read() as session:
                tasks = session.scalar(select(func.count()).select_from(Task)) or 0
            note(f"generated {tasks:,} tasks, {2 * min(args.units, args.clients)} users in "
                 f"{t[0]:.1f} s")
            section = f"web [postgres, {args.units} communes, {args.workers} workers]"
            run_case(section, rt, clients, url, args.workers, tmp / "uvicorn-postgres.log",
                     args, city="khanh-hoa")
        finally:
            rt.db.dispose()


def run_case(section: str, rt: Runtime, clients: list[Client], url: str, workers: int,
             log: Path, args: argparse.Namespace, *, city: str | None = None) -> None:
    """Start the server; the CPU per request; then one load phase per shape: as fast as the
    clients can go (saturation), then with think time (`--paced-runs` times); figures and the
    read-back after each."""
    shapes = [] if args.cpu_only else [("saturation, no think time", 0.0, False)]
    if args.think and not args.cpu_only:
        shapes += [(f"paced, think time {args.think:g} s (exponential), run {i + 1}",
                    args.think, True) for i in range(args.paced_runs)]
    server_cpus, client_cpus = cpu_set(args.server_cpus), cpu_set(args.client_cpus)
    with server(url, workers, log, server_cpus) as (base, pgid):
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)
        note(f"server on CPU(s) {sorted(server_cpus) or 'any'}, load generator on CPU(s) "
             f"{sorted(client_cpus) or 'any'}")
        mix = dict(MIX)
        if not html_task_list_exists(base, clients[0]):
            note("GET /units/{unit}/tasks (HTML) is not served by this app: left out of the mix")
            mix.pop("task list (HTML)")
        db_cpu = CpuClock(rt)
        cpu_per_request(section, base, pgid, db_cpu, clients[0], args.cpu_requests)
        for shape, think, paced in shapes:
            print(f"  -- {len(clients)} clients, {shape}   ({load_average()})", flush=True)
            before = counts(rt)
            cpu_server, cpu_db = group_cpu_seconds(pgid), db_cpu.server()
            cpu_client = time.process_time()
            stats, wall = asyncio.run(load(base, clients, args.requests, args.seconds, mix,
                                           think))
            cpu_server = group_cpu_seconds(pgid) - cpu_server
            cpu_db = db_cpu.server() - cpu_db
            cpu_client = time.process_time() - cpu_client
            report(section, stats, wall, p99_target=paced)
            figure(section, "server CPU (all workers), share of one CPU", cpu_server / wall,
                   "CPUs")
            if not rt.db.is_sqlite:
                figure(section, "PostgreSQL CPU (its processes for this db), share of one CPU",
                       cpu_db / wall, "CPUs")
            figure(section, "load generator CPU (these clients), share of one CPU",
                   cpu_client / wall, "CPUs")
            answered = sum(len(v) for v in stats.latencies.values())
            if answered:
                figure(section, "server + database CPU per answered request",
                       (cpu_server + cpu_db) / answered * 1000, "ms")
            verify(section, rt, clients, stats, before)
        if city and not args.cpu_only:
            city_figure(section, rt, base, city)
    server_errors(log)


def cpu_per_request(section: str, base: str, pgid: int, db_cpu: CpuClock, c: Client,
                    n: int) -> None:
    """One client, `n` requests of each page in a row: server + database CPU per request."""
    task = c.tasks[0]
    auth = {"Authorization": f"Bearer {c.officer_token}"}
    pages: dict[str, tuple[str, dict[str, str]]] = {
        "task page (HTML)": (f"/units/{c.unit}/tasks/{task.plan}/{task.code}", {}),
        "dashboard (HTML)": ("/dashboard", {}),
        "task list, 124 rows (HTML)": (f"/units/{c.unit}/tasks", {}),
        "task list, 54 rows (HTML)": (f"/units/{c.unit}/tasks?plan=papi-2023", {}),
        "task detail (JSON)": (f"/api/units/{c.unit}/tasks/{task.plan}/{task.code}", auth),
        "task list (JSON)": (f"/api/units/{c.unit}/tasks", auth),
    }
    with httpx.Client(base_url=base, cookies={"cchc_session": c.session}, timeout=30) as http:
        for name, (path, headers) in pages.items():
            for _ in range(10):  # warm-up: templates, caches, every worker's connections
                http.get(path, headers=headers)
            rounds = []  # (server ms, PostgreSQL ms) per request, one pair per round
            per_round = max(1, n // CPU_ROUNDS)
            for _ in range(CPU_ROUNDS):
                app_start, db_start = group_cpu_seconds(pgid), db_cpu.server()
                for _ in range(per_round):
                    res = http.get(path, headers=headers)
                    assert res.status_code == 200, (path, res.status_code, res.text[:200])
                rounds.append(((group_cpu_seconds(pgid) - app_start) / per_round * 1000,
                               (db_cpu.server() - db_start) / per_round * 1000))
            app, db = sorted(rounds, key=sum)[len(rounds) // 2]  # the median round
            used = app + db
            target = CPU_TARGETS.get(name)
            figure(section, f"CPU per request, one client: {name}", used, "ms",
                   target=f"<= {target:g} ms" if target else "",
                   met=(used <= target) if target else None)
            spread = ", ".join(f"{sum(r):.2f}" for r in rounds)
            note(f"median of {CPU_ROUNDS} rounds of {per_round} ({spread} ms)"
                 + (f"; of which the server {app:.2f} ms, PostgreSQL {db:.2f} ms" if db else ""))


def city_figure(section: str, rt: Runtime, base: str, city: str) -> None:
    """The reviewer's overview of every commune, alone on the server (median of 3)."""
    accounts.create_user(rt, "thamdinh.bench", password="mat-khau-thu-tai", role="reviewer",
                         unit=city, full_name="Thẩm định thử tải")
    token, _ = accounts.create_api_token(rt, "thamdinh.bench", "thử tải")
    times = []
    for _ in range(3):
        start = time.perf_counter()
        res = httpx.get(f"{base}/api/city/{city}/overview", timeout=120,
                        headers={"Authorization": f"Bearer {token}"})
        times.append((time.perf_counter() - start) * 1000)
        assert res.status_code == 200, res.text
    communes = len(res.json()["communes"])
    figure(section, f"city overview (JSON), {communes} communes, median of 3",
           sorted(times)[1], "ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1,500 requests / 20 s per phase, 100 communes")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=None,
                        help="requests per phase (default 6,000; --quick 1,500)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="time limit per phase (default 60; --quick 20)")
    parser.add_argument("--units", type=int, default=None,
                        help="communes of the province, PostgreSQL (default 120; --quick 100)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers, PostgreSQL")
    parser.add_argument("--sqlite-workers", type=int, default=1, help="uvicorn workers, SQLite")
    parser.add_argument("--think", type=float, default=1.0,
                        help="after the saturation phase, a second phase where each client "
                             "pauses this many seconds on average between requests "
                             "(default 1; 0: no second phase)")
    parser.add_argument("--paced-runs", type=int, default=3,
                        help="paced phases in a row against the same server (default 3)")
    parser.add_argument("--cpu-requests", type=int, default=100,
                        help="requests per page for the CPU-per-request figures (default 100)")
    parser.add_argument("--cpu-only", action="store_true",
                        help="only the CPU-per-request figures (no load phases): a quick check "
                             "after a change to a page")
    parser.add_argument("--server-cpus", default="0",
                        help="CPUs the server is pinned to, e.g. '0' (default) or '' for any")
    parser.add_argument("--client-cpus", default="1",
                        help="CPUs this load generator is pinned to (default '1'; '' for any)")
    args = parser.parse_args()
    args.requests = args.requests or (1500 if args.quick else 6000)
    args.seconds = args.seconds or (20.0 if args.quick else 60.0)
    args.units = args.units or (100 if args.quick else 120)
    accounts.hasher = CHEAP  # throw-away users of throw-away databases; logins not measured
    tmp = Path(tempfile.mkdtemp(prefix="cchc_bench_web_"))
    try:
        if args.db in ("sqlite", "both"):
            run_sqlite(args, tmp)
        if args.db in ("postgres", "both"):
            run_postgres(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
