"""A dispatcher process killed (SIGKILL) mid-run: nothing lost, at most one known duplicate.

The worker is a real process sending through the real `EmailChannel` to an in-process SMTP
server. The worker replaces `dispatch.checkpoint` to stop at one point and announce it (a file);
the test then kills it with SIGKILL — no cleanup, no `finally`. After its lease has expired
another dispatcher takes over:
  - killed after claim, before send: every digest is sent exactly once;
  - killed after send, before mark: the one in-flight digest is sent again, with the SAME
    Message-ID (its rows kept their `message_key`), so a mail server or client can drop it;
    every other digest is sent exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from reminder_seed import add_person, add_task, add_unit, at, occ, rows, smtp_server

from engine.reminders.dispatch import close_channels, dispatch
from engine.reminders.sweep import sweep
from engine.runtime import Runtime
from notifications.channels.email import EmailChannel
from notifications.settings import SmtpSettings

ROOT = Path(__file__).resolve().parents[1]
DUE = date(2023, 11, 21)
NOW = "2023-11-14T08:30"
SENDER = "cchc@vinhthanh.example.vn"

WORKER = """
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from engine.clock import VN_TZ
from engine.reminders import dispatch as dispatch_module
from engine.reminders.dispatch import dispatch
from engine.runtime import open_runtime
from notifications.channels.email import EmailChannel
from notifications.settings import SmtpSettings

url, port, now = sys.argv[1], int(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
pause_at, flag = sys.argv[4], Path(sys.argv[5])


def pause(point):
    # At the chosen point: announce it (atomically) and wait to be killed.
    if point != pause_at:
        return
    tmp = Path(f"{flag}.reached.tmp")
    tmp.write_text(point, encoding="utf-8")
    tmp.replace(f"{flag}.reached")
    while not flag.exists():
        time.sleep(0.02)


dispatch_module.checkpoint = pause
rt = open_runtime(url, migrate=False)
channels = {"email": EmailChannel(SmtpSettings(host="127.0.0.1", port=port,
                                               CCHC_SMTP_FROM=SENDER))}
dispatch(rt, now.replace(tzinfo=VN_TZ), channels, instance="worker-1",
         lease=timedelta(minutes=5))
print("finished without pausing")
""".replace("SENDER", repr(SENDER))


def _seed(rt: Runtime) -> None:
    unit = add_unit(rt)
    owners = ["Công chức Tư pháp - Hộ tịch", "Công chức Văn hóa - Xã hội"]
    occs = []
    for i, title in enumerate(owners):
        pid = add_person(rt, unit, f"Cán bộ {i}", title=title, email_=f"cb{i}@example.vn")
        for n in range(3):  # three items each: one digest per person
            tid = add_task(rt, unit, f"{i}{n}", DUE, title)
            occs.append(occ(unit, pid, tid, due_on=DUE))
    sweep(rt, at(NOW), lambda _r, _n: occs)


def _kill_worker_at(rt: Runtime, point: str, port: int, tmp_path: Path) -> None:
    flag = tmp_path / "pause"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, rt.db.url, str(port), NOW, point,
                             str(flag)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reached = Path(f"{flag}.reached")
    deadline = time.monotonic() + 30
    while not reached.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"worker exited early ({proc.returncode}): {out!r} {err[-2000:]!r}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("worker never reached the pause point")
        time.sleep(0.02)
    assert reached.read_text() == point
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]


def _take_over(rt: Runtime, port: int, minutes: int) -> int:
    channels = {"email": EmailChannel(SmtpSettings(host="127.0.0.1", port=port,
                                                   CCHC_SMTP_FROM=SENDER))}
    try:
        report = dispatch(rt, at(NOW) + timedelta(minutes=minutes), channels,
                          instance="worker-2")
    finally:
        close_channels(channels)
    return report.messages


@pytest.mark.slow
def test_killed_after_claim_nothing_lost_nothing_duplicated(rt: Runtime,
                                                            tmp_path: Path) -> None:
    _seed(rt)
    with smtp_server() as (sink, port):
        _kill_worker_at(rt, "after_claim", port, tmp_path)
        stuck = rows(rt)
        assert {(r.state, r.lease_owner, r.attempts) for r in stuck} == {
            ("sending", "worker-1", 1)}
        assert sink.message_ids() == Counter()
        # While the dead worker's lease holds, nobody else touches its rows …
        assert _take_over(rt, port, 4) == 0
        # … after it, everything is sent, once.
        assert _take_over(rt, port, 6) == 2
        ids = sink.message_ids()
    done = rows(rt)
    assert {(r.state, r.lease_owner, r.attempts) for r in done} == {("sent", "worker-2", 2)}
    assert sorted(ids.values()) == [1, 1]
    assert set(ids) == {r.provider_message_id for r in done}
    assert {r.message_key for r in done} == {r.message_key for r in stuck}


@pytest.mark.slow
def test_killed_after_send_only_the_in_flight_digest_repeats_same_message_id(
        rt: Runtime, tmp_path: Path) -> None:
    _seed(rt)
    with smtp_server() as (sink, port):
        _kill_worker_at(rt, "after_send", port, tmp_path)
        first = sink.messages()
        assert len(first) == 1  # the server accepted one digest; the worker died before marking
        in_flight = str(first[0]["Message-ID"])
        assert {r.state for r in rows(rt)} == {"sending"}
        assert _take_over(rt, port, 6) == 2
        ids = sink.message_ids()
    # Exactly one duplicate: the in-flight digest, under the same Message-ID.
    assert ids[in_flight] == 2
    assert [n for mid, n in ids.items() if mid != in_flight] == [1]
    done = rows(rt)
    assert {r.state for r in done} == {"sent"}
    assert set(ids) == {r.provider_message_id for r in done}
    repeated = [r for r in done if r.provider_message_id == in_flight]
    assert len(repeated) == 3 and {r.attempts for r in repeated} == {2}
    assert in_flight == f"<cchc.{repeated[0].message_key}@vinhthanh.example.vn>"
