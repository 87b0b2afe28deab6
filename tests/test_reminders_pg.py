"""Two scheduler processes on one PostgreSQL database, a simulated month: each reminder once.

Both processes (multiprocessing, spawn) step their own fake clock hour by hour through
November 2023 (06:00–18:00 each day) and at every step run what the scheduler runs each minute:
one sweep and one dispatch (`run_once`), delivering through the real `EmailChannel` to one
in-process aiosmtpd server. A barrier keeps the two clocks in step, so at every hour both
compete for the same rows — the sweep's ON CONFLICT DO NOTHING and the dispatcher's FOR UPDATE
SKIP LOCKED are what keep them apart. Mid-month the data changes (a task is done, another is
re-assigned) between two steps, as an officer would.

Expected reminders are computed independently by the test process: the planner's output,
unioned over the steps (at every step where it can change: a fire time crossed, data
changed). At the end every expected reminder was delivered exactly once: every outbox row is
final, and the SMTP server saw each digest's Message-ID exactly once.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from reminder_seed import (
    add_obligation_due,
    add_person,
    add_task,
    add_unit,
    rows,
    set_task,
    smtp_server,
)

from engine.clock import VN_TZ
from engine.reminders.planner import due_occurrences
from engine.runtime import Runtime, open_runtime

SENDER = "cchc@noivu.example.vn"
START = date(2023, 11, 1)
DAYS = 30
HOURS = range(6, 19)
TITLES = ("Công chức Tư pháp - Hộ tịch", "Công chức Văn hóa - Xã hội")


def steps() -> list[str]:
    return [datetime(d.year, d.month, d.day, h, tzinfo=VN_TZ).isoformat()
            for d in (START + timedelta(days=i) for i in range(DAYS)) for h in HOURS]


def scheduler_process(url: str, port: int, instance: str, times: list[str],
                      barrier: Any, results: Any) -> None:
    """One scheduler process: at every step, one sweep + one dispatch at that (fake) time."""
    from engine.reminders.dispatch import close_channels
    from engine.reminders.scheduler import run_once
    from notifications.channels.email import EmailChannel
    from notifications.settings import SmtpSettings

    rt = open_runtime(url, migrate=False)
    channels = {"email": EmailChannel(SmtpSettings(host="127.0.0.1", port=port,
                                                   CCHC_SMTP_FROM=SENDER))}
    totals: Counter[str] = Counter()
    try:
        for iso in times:
            barrier.wait()  # the previous step is over everywhere (and the data changed)
            barrier.wait()  # go
            res = run_once(rt, datetime.fromisoformat(iso), channels, instance=instance,
                           batch=3)
            d = res.dispatch
            totals.update(inserted=res.inserted, messages=d.messages, sent=d.sent,
                          claimed=d.claimed, cancelled=d.cancelled, fallback=d.fallback,
                          deferred=d.deferred, lost=d.lost, failed=d.failed,
                          retried=d.retried)
        barrier.wait()
    except BaseException as exc:  # pragma: no cover - reported to the test
        barrier.abort()
        results.put((instance, {"error": repr(exc)}))
        raise
    finally:
        close_channels(channels)
        rt.db.dispose()
    results.put((instance, dict(totals)))


def _seed(rt: Runtime) -> dict[str, int]:
    """3 communes; two officers each (one prefers Zalo, which is not configured → e-mail),
    a leader; 10 tasks and 2 reports per commune due across November and early December."""
    ids: dict[str, int] = {}
    dues = [date(2023, 11, d) for d in (3, 6, 8, 10, 13, 17, 19, 22, 27, 30)]
    for u in range(3):
        unit = add_unit(rt, slug=f"xa-{u}", name=f"Xã {u}", leader=f"Chủ tịch {u}")
        add_person(rt, unit, f"Chủ tịch {u}", title="Chủ tịch UBND xã", role="leader",
                   email_=f"ct{u}@example.vn")
        add_person(rt, unit, f"Tư pháp {u}", title=TITLES[0], email_=f"tp{u}@example.vn")
        add_person(rt, unit, f"Văn hóa {u}", title=TITLES[1], email_=f"vh{u}@example.vn",
                   channels=["zalo", "email"], zalo=f"zl{u}")
        for i, due in enumerate(dues):
            ids[f"t{u}.{i}"] = add_task(rt, unit, f"{i + 1}", due, TITLES[i % 2])
        add_obligation_due(rt, unit, f"bc-{u}-a", date(2023, 11, 15), TITLES[0])
        add_obligation_due(rt, unit, f"bc-{u}-b", date(2023, 12, 5), TITLES[1])
    return ids


def _change_data(rt: Runtime, iso: str, ids: dict[str, int]) -> bool:
    """What officers do mid-month, between two steps; True when something changed."""
    if iso not in CHANGES:
        return False
    if iso == "2023-11-14T09:00:00+07:00":
        set_task(rt, ids["t0.5"], state="done", done_on=date(2023, 11, 14))  # due 17/11
        set_task(rt, ids["t1.7"], owner=TITLES[1])  # due 22/11: Tư pháp → Văn hóa
    if iso == "2023-11-14T18:00:00+07:00":
        # In the evening the leader moves a deadline up (27/11 → 16/11): the 18:00 sweep
        # queues its "còn 3 ngày" at once (fired 13/11), but quiet hours hold it till morning…
        set_task(rt, ids["t2.8"], due_on=date(2023, 11, 16))
    if iso == "2023-11-15T07:00:00+07:00":
        # … and it is done before then: at 08:00 the dispatcher cancels it, nothing is sent.
        set_task(rt, ids["t2.8"], state="done", done_on=date(2023, 11, 15))
    return True


CHANGES = ("2023-11-14T09:00:00+07:00", "2023-11-14T18:00:00+07:00",
           "2023-11-15T07:00:00+07:00")


def _planner_may_change(prev: datetime | None, now: datetime, changed: bool) -> bool:
    """Whether the planner's answer can contain new keys at `now` compared with `prev`.

    New keys appear only when the data changed or a step's fire time (the rules' `send_at`,
    08:00, on some day — several days when the steps skip an outage) was crossed; between two
    such moments its answer can only shrink. The tests therefore ask it at those steps only
    (its answers are unioned)."""
    from engine.reminders.rules import load_reminder_rules

    if prev is None or changed:
        return True
    send_at = load_reminder_rules().send_at
    day = prev.date()
    while day <= now.date():
        if prev < datetime.combine(day, send_at, tzinfo=VN_TZ) <= now:
            return True
        day += timedelta(days=1)
    return False


def drive_steps(rt: Runtime, procs: list[Any], times: list[str], ids: dict[str, int],
                barrier: Any, results: Any) -> tuple[set[str], dict[str, Any]]:
    """Run the scheduler processes through `times` in lock step: the test changes the data
    between steps and, while the processes run a step, asks the planner itself. Returns the
    keys that must be delivered and each process's totals."""
    expected: set[str] = set()
    prev: datetime | None = None
    for p in procs:
        p.start()
    try:
        for iso in times:
            barrier.wait()
            changed = _change_data(rt, iso, ids)
            barrier.wait()
            now = datetime.fromisoformat(iso)
            if _planner_may_change(prev, now, changed):
                expected |= {o.idempotency_key for o in due_occurrences(rt, now)}
            prev = now
        barrier.wait()
        totals = dict(results.get(timeout=60) for _ in procs)
    except (queue.Empty, Exception):
        barrier.abort()
        raise
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():  # pragma: no cover
                p.kill()
    return expected, totals


@pytest.mark.slow
def test_two_scheduler_processes_deliver_each_reminder_once(pg_url: str) -> None:
    rt = open_runtime(pg_url)
    ids = _seed(rt)
    times = steps()
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(3, timeout=120)
    results = ctx.Queue()
    with smtp_server() as (sink, port):
        procs = [ctx.Process(target=scheduler_process,
                             args=(pg_url, port, f"scheduler-{n}", times, barrier, results))
                 for n in (1, 2)]
        expected, totals = drive_steps(rt, procs, times, ids, barrier, results)
        received = sink.message_ids()
    assert all(p.exitcode == 0 for p in procs), totals
    out = rows(rt)
    rt.db.dispose()

    planned = [r for r in out if "fallback_from" not in r.payload]
    fallbacks = [r for r in out if "fallback_from" in r.payload]
    # Every reminder the planner ever said was due exists once, and nothing else does.
    assert sorted(r.idempotency_key for r in planned) == sorted(expected)
    assert len(expected) > 100
    # Every row is final: sent, or cancelled (item done / re-assigned), or fell back to e-mail.
    states = Counter(r.state for r in out)
    assert set(states) <= {"sent", "cancelled", "fallback"}, states
    assert states["fallback"] == len(fallbacks) > 0 and states["cancelled"] > 0
    assert all(r.channel == "zalo" for r in out if r.state == "fallback")
    by_id = {r.id: r for r in out}
    assert all(by_id[int(str(r.payload["fallback_from"]))].state == "fallback"
               for r in fallbacks)
    # The SMTP server saw each digest exactly once, under the Message-ID the rows recorded.
    sent = [r for r in out if r.state == "sent"]
    assert set(received.values()) == {1}, [m for m, n in received.items() if n > 1]
    assert set(received) == {r.provider_message_id for r in sent}
    assert len(received) == len({r.message_key for r in sent})
    assert {r.lease_owner for r in sent} == {"scheduler-1", "scheduler-2"}  # both worked
    assert sum(t["messages"] for t in totals.values()) == len(received)
    assert sum(t["lost"] + t["failed"] + t["retried"] for t in totals.values()) == 0
    # Nothing went out in quiet hours: every sent row's sent_at is 07:30–17:30 on a weekday.
    for r in sent:
        assert r.sent_at is not None
        local = r.sent_at.astimezone(VN_TZ)
        assert local.weekday() < 5 and 7 <= local.hour <= 17, local
    # Reminders follow the data: the re-dated task's queued reminder was cancelled …
    redated = [r for r in out if r.item_kind == "task" and r.item_id == ids["t2.8"]]
    assert [(r.step, r.state, r.last_error) for r in redated if r.due_on == date(2023, 11, 16)
            ] == [("before:3", "cancelled", "nhiệm vụ đã hoàn thành")]
    # … the done task got nothing after 14/11, the re-assigned one went to the new owner.
    done = [r for r in out if r.item_kind == "task" and r.item_id == ids["t0.5"]]
    assert done and all(r.send_on <= date(2023, 11, 14) for r in done)
    moved = [r for r in out if r.item_kind == "task" and r.item_id == ids["t1.7"]]
    assert {r.payload["item_owner"] for r in moved if r.send_on > date(2023, 11, 14)} == {
        TITLES[1]}
