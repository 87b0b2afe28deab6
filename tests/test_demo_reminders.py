"""The demo shows the reminders the seed's four sub-report obligations produce."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from engine.demo import run_demo


def test_demo_previews_the_seed_obligations_reminders(tmp_path: Path) -> None:
    res = run_demo(tmp_path / "demo")
    by_day = {(o.send_on, o.payload["code"], o.step) for o in res.reminders}
    # KH 147/KH-UBND is due 21/11/2023: 7, 3, 1 days before and on the day.
    for day, step in [(date(2023, 11, 14), "before:7"), (date(2023, 11, 17), "before:3"),
                      (date(2023, 11, 20), "before:1"), (date(2023, 11, 21), "due")]:
        assert (day, "bc-kh-147-2023", step) in by_day
    # KH 138 and 139 are due 06/12/2023; the 7-days-before reminder goes out on 29/11.
    assert (date(2023, 11, 29), "bc-kh-138-2023", "before:7") in by_day
    assert (date(2023, 11, 29), "bc-kh-139-2023", "before:7") in by_day
    # The 15/6 six-monthly report was never sent: it is still chased, and escalated to the leader.
    assert any(c == "bc-kh-140-2023" and s.startswith("overdue:") for _, c, s in by_day)
    leaders = {o.payload["person_name"] for o in res.reminders if o.step == "escalate"}
    assert leaders == {"Nguyễn Quốc Bảo"}
    # Only obligations, and never a reminder on a weekend.
    assert {o.item_kind for o in res.reminders} == {"obligation"}
    assert all(o.send_on.weekday() < 5 for o in res.reminders)
    assert res.as_dict()["obligation_reminders"]
