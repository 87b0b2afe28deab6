"""The outbox and the sweep: insert once, claim under a lease, retry failed, never delete.

Every test runs on SQLite and on PostgreSQL (`rt`).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import typer
from reminder_seed import add_person, add_task, add_unit, at, occ, rows
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from cli.outbox import outbox_app
from engine.errors import NotFound, ValidationFailed
from engine.reminders import outbox as ob
from engine.reminders.planner import due_occurrences
from engine.reminders.sweep import sweep
from engine.runtime import Runtime
from engine.storage.models import OutboxMessage, SweepRun

DUE = date(2023, 11, 21)  # a Tuesday
OWNER = "Công chức Tư pháp - Hộ tịch"


def _world(rt: Runtime) -> dict[str, int]:
    unit = add_unit(rt, leader="Nguyễn Quốc Bảo")
    return {
        "unit": unit,
        "nhi": add_person(rt, unit, "Nguyễn Thị Bích Nhi", title=OWNER,
                          email_="nhi@vinhthanh.example.vn"),
        "bao": add_person(rt, unit, "Nguyễn Quốc Bảo", title="Chủ tịch UBND xã",
                          role="leader", email_="bao@vinhthanh.example.vn"),
        "t1": add_task(rt, unit, "1", DUE, OWNER),
        "t2": add_task(rt, unit, "2", DUE + timedelta(days=2), OWNER),
        "t3": add_task(rt, unit, "3", None, OWNER),  # no deadline: never reminded
    }


def test_insert_on_conflict_do_nothing_and_sweep_idempotent(rt: Runtime) -> None:
    w = _world(rt)
    occs = [occ(w["unit"], w["nhi"], w["t1"], due_on=DUE),
            occ(w["unit"], w["nhi"], w["t2"], due_on=DUE + timedelta(days=2))]
    now = at("2023-11-14T08:30")
    assert sweep(rt, now, lambda _rt, _now: occs, instance="a") == 2
    first = [(r.id, r.idempotency_key, r.state) for r in rows(rt)]
    # Again, from another "process", and with a duplicate inside the batch: nothing new.
    assert sweep(rt, now, lambda _rt, _now: occs + occs[:1], instance="b") == 0
    assert [(r.id, r.idempotency_key, r.state) for r in rows(rt)] == first
    r = rows(rt)[0]
    assert r.state == "pending" and r.attempts == 0
    assert ob.db_time(r.next_attempt_at) == at("2023-11-14T08:00")
    assert r.idempotency_key == f"p{w['nhi']}:task{w['t1']}:2023-11-21:before:7:email"
    assert r.payload["item_owner"] == OWNER  # filled by the sweep when the planner did not
    with rt.db.read() as s:
        runs = s.scalars(select(SweepRun).order_by(SweepRun.id)).all()
        assert [(x.instance, x.inserted) for x in runs] == [("a", 2), ("b", 0)]
        assert all(x.finished_at is not None for x in runs)


def test_new_keys_are_exactly_the_keys_not_in_the_outbox(rt: Runtime) -> None:
    """Any text survives the trip (the keys travel as one JSON document on PostgreSQL), in
    chunks, duplicates and all."""
    w = _world(rt)
    odd = ['p1:"quoted",{brace}:\\back\\slash', "p2:Nguyễn Thị 'Nhi' \u2028 NULL", "p3:a,b"]
    at_ = at("2023-11-14T08:30")
    with ob.write_transaction(rt) as s:
        ob.insert_rows(s, [ob.new_row_values(
            key=k, unit_id=w["unit"], person_id=w["nhi"], channel="email", item_kind="task",
            item_id=w["t1"], due_on=DUE, step="before:7", send_on=DUE, not_before=at_,
            now=at_) for k in odd[:2]])
    asked = [*odd, "p4:x", odd[0], "p4:x", "", 'p5:"]']
    with rt.db.read() as s:
        for chunk in (1, 2, 50_000):
            assert ob.new_keys(s, asked, chunk=chunk) == {odd[2], "p4:x", "", 'p5:"]'}
        assert ob.new_keys(s, []) == set()


def test_a_source_may_give_plain_rows(rt: Runtime) -> None:
    """The sweep takes `Occurrence`s or plain tuples of their fields (the planner's rows)."""
    w = _world(rt)
    occs = [occ(w["unit"], w["nhi"], w["t1"], due_on=DUE),
            occ(w["unit"], w["nhi"], w["t2"], due_on=DUE + timedelta(days=2))]
    now = at("2023-11-14T08:30")
    assert sweep(rt, now, lambda _rt, _now: [tuple(o) for o in occs]) == 2
    assert sorted(r.idempotency_key for r in rows(rt)) == sorted(o.idempotency_key
                                                                  for o in occs)
    assert sweep(rt, now, lambda _rt, _now: occs) == 0


def test_sweep_with_the_planner_twice_gives_the_same_rows(rt: Runtime) -> None:
    w = _world(rt)
    now = at("2023-11-14T08:30")
    n = sweep(rt, now)
    assert n == 1  # before:7 of task 1 (task 2's before:7 is on 16/11)
    assert sweep(rt, now) == 0
    assert [(r.item_id, r.step) for r in rows(rt)] == [(w["t1"], "before:7")]


def test_catch_up_after_an_outage(rt: Runtime) -> None:
    """Down from 14/11 08:30 to 24/11 09:00: the sweep then emits the steps still meaningful
    (the latest of the owner's ladder, the escalation) — each once, however often it runs."""
    w = _world(rt)
    sweep(rt, at("2023-11-14T08:30"))
    inserted = sweep(rt, at("2023-11-24T09:00"))
    got = sorted((r.item_id, r.person_id, r.step, r.send_on.isoformat()) for r in rows(rt))
    expected_new = {
        (w["t1"], w["nhi"], "overdue:2", "2023-11-23"),
        (w["t1"], w["bao"], "escalate", "2023-11-24"),
        (w["t2"], w["nhi"], "due", "2023-11-23"),
    }
    assert inserted == len(expected_new)
    assert set(got) == {(w["t1"], w["nhi"], "before:7", "2023-11-14")} | expected_new
    assert sweep(rt, at("2023-11-24T09:01")) == 0
    # The planner's own view agrees: everything it says is due exists exactly once.
    keys = {o.idempotency_key for o in due_occurrences(rt, at("2023-11-24T09:01"))}
    assert keys <= {r.idempotency_key for r in rows(rt)}


def _claim(rt: Runtime, iso: str, instance: str, limit: int = 100,
           lease: timedelta = timedelta(minutes=5)) -> list[ob.OutboxRow]:
    with ob.claim_transaction(rt) as s:
        return ob.claim(s, at(iso), instance=instance, limit=limit, lease=lease)


def test_claim_leases_rows_and_an_expired_lease_is_taken_over(rt: Runtime) -> None:
    w = _world(rt)
    sweep(rt, at("2023-11-14T08:30"), lambda _r, _n: [
        occ(w["unit"], w["nhi"], w["t1"], due_on=DUE),
        occ(w["unit"], w["nhi"], w["t2"], due_on=DUE, step="before:3",
            not_before=at("2023-11-14T10:00"))])
    assert _claim(rt, "2023-11-14T07:59", "A") == []  # nothing due yet
    got = _claim(rt, "2023-11-14T08:30", "A")
    assert [(r.item_id, r.state, r.lease_owner, r.attempts) for r in got] == [
        (w["t1"], "sending", "A", 1)]
    assert got[0].lease_until == at("2023-11-14T08:35")
    # B sees nothing while A's lease holds …
    assert _claim(rt, "2023-11-14T08:34", "B") == []
    # … and takes the row over once it has expired (A died): a second attempt.
    again = _claim(rt, "2023-11-14T08:36", "B")
    assert [(r.item_id, r.lease_owner, r.attempts) for r in again] == [(w["t1"], "B", 2)]
    # A, back from the dead, can no longer mark it: the lease is B's.
    with rt.db.transaction() as s:
        assert ob.mark_sent(s, got, instance="A", now=at("2023-11-14T08:37"),
                            provider_message_id="x", message_key="k") == 0
        assert ob.mark_sent(s, again, instance="B", now=at("2023-11-14T08:37"),
                            provider_message_id="<m>", message_key="k") == 1
    sent = rows(rt)[0]
    assert (sent.state, sent.provider_message_id, sent.message_key) == ("sent", "<m>", "k")
    assert ob.db_time(sent.sent_at) == at("2023-11-14T08:37")  # type: ignore[arg-type]


def test_claim_takes_whole_digests(rt: Runtime) -> None:
    """limit=1 still claims all three due rows of the person's digest for that day."""
    w = _world(rt)
    t4 = add_task(rt, w["unit"], "4", DUE, OWNER)
    sweep(rt, at("2023-11-14T08:30"), lambda _r, _n: [
        occ(w["unit"], w["nhi"], t, due_on=DUE) for t in (w["t1"], w["t2"], t4)] + [
        occ(w["unit"], w["bao"], w["t1"], due_on=DUE, step="escalate")])
    first = _claim(rt, "2023-11-14T08:30", "A", limit=1)
    assert sorted(r.item_id for r in first) == sorted([w["t1"], w["t2"], t4])
    assert {r.person_id for r in first} == {w["nhi"]}
    second = _claim(rt, "2023-11-14T08:30", "B", limit=1)
    assert [r.person_id for r in second] == [w["bao"]]


def test_retry_failed_keeps_attempts_and_history(rt: Runtime) -> None:
    w = _world(rt)
    sweep(rt, at("2023-11-14T08:30"), lambda _r, _n: [
        occ(w["unit"], w["nhi"], w["t1"], due_on=DUE),
        occ(w["unit"], w["nhi"], w["t2"], due_on=DUE, send_on=date(2023, 11, 15))])
    claimed = _claim(rt, "2023-11-14T08:30", "A")
    with rt.db.transaction() as s:
        ob.mark_failed(s, claimed, instance="A", now=at("2023-11-14T08:31"),
                       reason="550 5.1.1 mailbox unavailable", code="550")
    failed = ob.list_outbox(rt, state="failed")
    assert [r.last_error for r in failed] == ["550 5.1.1 mailbox unavailable"]
    with pytest.raises(ValidationFailed):  # a pending row is not "failed"
        ob.retry_failed(rt, at("2023-11-15T09:00"), ids=[rows(rt)[1].id])
    with pytest.raises(NotFound):
        ob.retry_failed(rt, at("2023-11-15T09:00"), ids=[9999])
    assert ob.retry_failed(rt, at("2023-11-15T09:00"), all_failed=True) == [failed[0].id]
    r = ob.get_outbox(rt, failed[0].id)
    assert (r.state, r.attempts) == ("pending", 1)
    assert r.next_attempt_at == at("2023-11-15T09:00")
    assert r.errors[0]["reason"] == "550 5.1.1 mailbox unavailable"
    assert r.detail["retries"][0]["last_error"] == "550 5.1.1 mailbox unavailable"
    assert r.detail["attempts_at_retry"] == 1
    assert ob.retry_failed(rt, at("2023-11-15T09:00"), all_failed=True) == []


def test_outbox_rows_cannot_be_deleted(rt: Runtime) -> None:
    w = _world(rt)
    sweep(rt, at("2023-11-14T08:30"), lambda _r, _n: [
        occ(w["unit"], w["nhi"], w["t1"], due_on=DUE)])
    with pytest.raises(DBAPIError), rt.db.transaction() as s:
        s.execute(text("DELETE FROM outbox"))
    with rt.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_cli_list_show_retry(rt: Runtime) -> None:
    w = _world(rt)
    sweep(rt, at("2023-11-14T08:30"), lambda _r, _n: [
        occ(w["unit"], w["nhi"], w["t1"], due_on=DUE),
        occ(w["unit"], w["nhi"], w["t2"], due_on=DUE, send_on=date(2023, 11, 15))])
    claimed = _claim(rt, "2023-11-14T08:30", "A")
    with rt.db.transaction() as s:
        ob.mark_failed(s, claimed, instance="A", now=at("2023-11-14T08:31"),
                       reason="550 hộp thư không tồn tại")
    app = typer.Typer()
    app.add_typer(outbox_app, name="outbox")
    runner = CliRunner()
    db = ["--db", rt.db.url]

    res = runner.invoke(app, ["outbox", "list", "--state", "failed", "--json", *db])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [(d["id"], d["state"], d["step"]) for d in data] == [(claimed[0].id, "failed",
                                                                "before:7")]
    res = runner.invoke(app, ["outbox", "list", "--unit", "vinh-thanh", *db],
                        env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "Gửi không được" in res.output and "Chờ gửi" in res.output
    assert "Nguyễn Thị Bích Nhi" in res.output and "trước hạn 7 ngày" in res.output
    res = runner.invoke(app, ["outbox", "show", str(claimed[0].id), *db],
                        env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "550 hộp thư không tồn tại" in res.output and "vĩnh viễn" in res.output
    res = runner.invoke(app, ["outbox", "show", "999", *db])
    assert res.exit_code == 2 and "Không có thư nhắc số 999" in res.output
    res = runner.invoke(app, ["outbox", "list", "--state", "lost", *db])
    assert res.exit_code == 2
    res = runner.invoke(app, ["outbox", "retry", "--all-failed", *db])
    assert res.exit_code == 0, res.output
    assert "Đã đưa 1 thư nhắc trở lại hàng đợi" in res.output
    assert ob.get_outbox(rt, claimed[0].id).state == "pending"
    res = runner.invoke(app, ["outbox", "retry", str(claimed[0].id), *db])
    assert res.exit_code == 2 and "chỉ thư 'Gửi không được'" in res.output
