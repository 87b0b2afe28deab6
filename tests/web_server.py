"""The web app for browser tests: a demo database and a real uvicorn server on 127.0.0.1.

`demo_database(dir)` builds xã Vĩnh Thạnh's demo (124 tasks replayed as of Q3-2023, people,
obligations, one login per role) — by default WITHOUT freezing 2023-Q3, so a test can freeze
it the way a leader does; `freeze=True` runs the whole `engine.demo.run_demo` instead.
`LiveServer(db)` serves `web.app.create_app` over it with uvicorn in a background thread on a
random free port (`with LiveServer(db) as server: server.url`); its clock starts at the demo's
"today" (20/09/2023 09:00, Vietnam time) and runs on from there, so history rows get real,
increasing times. Password hashing is made cheap (`cheap_hashes()`): demo logins then take
milliseconds instead of ~0.4 s each.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

import uvicorn
from argon2 import PasswordHasher

from engine import clock
from engine.clock import VN_TZ, Clock
from engine.directory import accounts
from engine.runtime import Runtime, open_runtime
from web.app import create_app
from web.settings import WebSettings

#: The demo's "today": the Q3-2023 report was recorded on 20/09/2023 (cut-off 13/09).
DEMO_NOW = datetime(2023, 9, 20, 9, 0, tzinfo=VN_TZ)
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
LOGINS = {
    "officer": ("canbo.vinhthanh", "canbo2023"),
    "leader": ("lanhdao.vinhthanh", "lanhdao2023"),
    "admin": ("quantri.vinhthanh", "quantri2023"),
    "reviewer": ("thamdinh.nhatrang", "thamdinh2023"),
}


@contextmanager
def cheap_hashes() -> Iterator[None]:
    """Swap the argon2 hasher for a cheap one (tests only)."""
    old = accounts.hasher
    accounts.hasher = CHEAP
    accounts._dummy_hash.cache_clear()
    try:
        yield
    finally:
        accounts.hasher = old
        accounts._dummy_hash.cache_clear()


def demo_database(directory: Path, *, freeze: bool = False) -> Path:
    """Build the Vĩnh Thạnh demo database in `directory` (call inside `cheap_hashes()` so the
    demo logins' hashes are cheap too); 2023-Q3 is frozen only with `freeze=True`."""
    from engine.demo import build_demo_database, run_demo
    from engine.directory.demo_accounts import create_demo_accounts

    directory.mkdir(parents=True, exist_ok=True)
    if freeze:
        return run_demo(directory).database
    path = directory / "cchc-demo.sqlite3"
    rt, _report = build_demo_database(path)
    try:
        create_demo_accounts(rt)
    finally:
        rt.db.dispose()
    return path


def running_clock(start: datetime = DEMO_NOW) -> Clock:
    """A clock that reads `start` now and runs on in real time."""
    return clock.running_clock(start)


#: A morning the demo data has reminders due (KH 147's "còn 7 ngày"): on DEMO_NOW itself only
#: long-overdue reports are open, past the rules' stop_after_working_days.
REMINDER_MORNING = datetime(2023, 11, 14, 8, 30, tzinfo=VN_TZ)


def seed_failed_reminders(rt: Runtime, now: datetime = REMINDER_MORNING) -> list[int]:
    """Run the reminder sweep at `now` and fail the first claimed message (a Zalo user who
    does not follow the OA), so the reminder log has a row to retry. Returns the failed ids."""
    from engine.reminders import outbox
    from engine.reminders.sweep import sweep

    sweep(rt, now)
    with outbox.claim_transaction(rt) as session:
        claimed = outbox.claim(session, now, instance="test", limit=1,
                               lease=timedelta(minutes=5))
        outbox.mark_failed(session, claimed, instance="test", now=now,
                           reason="Zalo: người nhận chưa quan tâm Zalo OA của UBND xã")
    return [r.id for r in claimed]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """uvicorn serving the app over `database` in a daemon thread, for one test module."""

    def __init__(self, database: Path, *, clock: Clock | None = None,
                 settings: WebSettings | None = None) -> None:
        self.rt = open_runtime(f"sqlite:///{database}", clock=clock or running_clock())
        self.app = create_app(self.rt, settings or WebSettings())
        self._sock = _free_socket()
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on",
                                server_header=False, access_log=False)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run,
                                        kwargs={"sockets": [self._sock]}, daemon=True,
                                        name="cchc-live-server")

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test web server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.rt.db.dispose()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


__all__ = [
    "CHEAP",
    "DEMO_NOW",
    "LOGINS",
    "LiveServer",
    "cheap_hashes",
    "demo_database",
    "running_clock",
    "seed_failed_reminders",
]
