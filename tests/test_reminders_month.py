"""Six scheduler processes on one PostgreSQL database over a month with a 3-day outage.

The month of `test_reminders_pg` (3 communes, tasks and reports due across November 2023,
mid-month changes) run by SIX processes stepping their fake clocks in lock-step, with the
server down Monday 20 to Wednesday 22 November (no step runs). Checked at the end:
* every reminder the planner said was due exists once and is final;
* each person got at most ONE message per channel per sending day (escalations to a leader
  apart) — rows that missed their day during the outage merged into the next digest, and no
  digest was split between two of the six dispatchers (claims go by person);
* every message was delivered once (its Message-ID seen once by the SMTP server).
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from reminder_seed import rows, smtp_server
from test_reminders_pg import _seed, drive_steps, scheduler_process

from engine.clock import VN_TZ
from engine.runtime import open_runtime

PROCESSES = 6
HOURS = (7, 8, 10, 14, 17)
OUTAGE = (date(2023, 11, 20), date(2023, 11, 22))


def month_steps() -> list[str]:
    days = (date(2023, 11, 1) + timedelta(days=i) for i in range(30))
    return [datetime(d.year, d.month, d.day, h, tzinfo=VN_TZ).isoformat()
            for d in days if not OUTAGE[0] <= d <= OUTAGE[1] for h in HOURS]


@pytest.mark.slow
def test_six_dispatchers_a_three_day_outage_one_digest_per_person_and_day(
        pg_url: str) -> None:
    rt = open_runtime(pg_url)
    ids = _seed(rt)
    times = month_steps()
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES + 1, timeout=180)
    results = ctx.Queue()
    with smtp_server() as (sink, port):
        procs = [ctx.Process(target=scheduler_process,
                             args=(pg_url, port, f"d{n}", times, barrier, results))
                 for n in range(PROCESSES)]
        expected, totals = drive_steps(rt, procs, times, ids, barrier, results)
        mails = sink.messages()
    assert all(p.exitcode == 0 for p in procs), totals
    out = rows(rt)
    rt.db.dispose()

    planned = [r for r in out if "fallback_from" not in r.payload]
    assert sorted(r.idempotency_key for r in planned) == sorted(expected)
    states = Counter(r.state for r in out)
    assert set(states) <= {"sent", "cancelled", "fallback"}, states
    # each message once
    ids_seen = Counter(str(m["Message-ID"]) for m in mails)
    assert set(ids_seen.values()) == {1}
    sent = [r for r in out if r.state == "sent"]
    assert set(ids_seen) == {r.provider_message_id for r in sent}
    # one message per person, channel and sending day (escalations apart), outage merged
    digests: dict[str, list[Any]] = {}
    for r in sent:
        digests.setdefault(str(r.message_key), []).append(r)
    per_day = Counter(
        (grp[0].person_id, grp[0].channel, grp[0].sent_at.astimezone(VN_TZ).date())
        for grp in digests.values() if not any(r.step == "escalate" for r in grp))
    assert per_day and max(per_day.values()) == 1, [k for k, n in per_day.items() if n > 1]
    assert len(digests) == len(mails)
    # nothing was sent during the outage; the day after, what was missed went out at once
    days_sent = {r.sent_at.astimezone(VN_TZ).date() for r in sent if r.sent_at is not None}
    assert not any(OUTAGE[0] <= d <= OUTAGE[1] for d in days_sent)
    assert date(2023, 11, 23) in days_sent
    missed = [r for r in sent if OUTAGE[0] <= r.send_on <= OUTAGE[1]]
    assert missed and all(r.sent_at is not None
                          and r.sent_at.astimezone(VN_TZ).date() == date(2023, 11, 23)
                          for r in missed)
    # the six shared the work
    assert len({r.lease_owner for r in sent}) >= 3
    assert sum(t["lost"] + t["failed"] + t["retried"] for t in totals.values()) == 0
