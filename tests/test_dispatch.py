"""The dispatcher: digests, re-checks, quiet hours, backoff, failures, fallback; the scheduler.

Dispatcher logic uses a recording channel; the end-to-end tests use the real `EmailChannel`
against an in-process aiosmtpd server. Everything runs on SQLite and PostgreSQL (`rt`) unless
it is about the process (scheduler, CLI), which uses SQLite.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import typer
from reminder_seed import (
    RecordingChannel,
    add_obligation_due,
    add_person,
    add_task,
    add_unit,
    at,
    occ,
    rows,
    set_task,
    smtp_server,
)
from sqlalchemy import select
from typer.testing import CliRunner

from cli.outbox import run_once_command
from engine import api
from engine.reminders import outbox as ob
from engine.reminders.dispatch import (
    DispatchReport,
    RetryPolicy,
    SendLoop,
    close_channels,
    dispatch,
    quiet_hours_from_rules,
)
from engine.reminders.installation import installation_id
from engine.reminders.occurrence import Occurrence
from engine.reminders.scheduler import (
    JOB_DISPATCH,
    JOB_QUARTER_END,
    JOB_SWEEP,
    ChannelSettings,
    ReminderService,
    build_channels,
    closing_quarter,
    make_scheduler,
    quarter_end,
    run_once,
    run_scheduler,
)
from engine.reminders.sweep import sweep
from engine.runtime import Runtime
from engine.storage.models import OutboxMessage, Snapshot, SweepRun, Task
from notifications.base import (
    Delivery,
    FallbackError,
    Message,
    PermanentError,
    TransientError,
)
from notifications.channels.email import EmailChannel
from notifications.settings import SmtpSettings, ZaloSettings
from plans import DEMO_BUNDLE

DUE = date(2023, 11, 21)
OWNER = "Công chức Tư pháp - Hộ tịch"
NOW = "2023-11-14T08:30"  # a Tuesday, inside the sending window


class World:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.unit = add_unit(rt, leader="Nguyễn Quốc Bảo")
        self.nhi = add_person(rt, self.unit, "Nguyễn Thị Bích Nhi", title=OWNER,
                              email_="nhi@vinhthanh.example.vn",
                              channels=["zalo", "email"], zalo="4527310098815532999")
        self.bao = add_person(rt, self.unit, "Nguyễn Quốc Bảo", title="Chủ tịch UBND xã",
                              role="leader", email_="bao@vinhthanh.example.vn")
        self.tasks = [add_task(rt, self.unit, str(i), DUE, OWNER) for i in (1, 2)]
        self.report = add_obligation_due(rt, self.unit, "bc-cchc-q4", DUE, OWNER)

    def occurrences(self, channel: str = "email", step: str = "before:7") -> list[Occurrence]:
        out = [occ(self.unit, self.nhi, t, due_on=DUE, channel=channel, step=step, owner=OWNER)
               for t in self.tasks]
        out.append(occ(self.unit, self.nhi, self.report, due_on=DUE, channel=channel,
                       step=step, kind="obligation", owner=OWNER))
        return out

    def sweep(self, occs: list[Occurrence], iso: str = NOW) -> int:
        return sweep(self.rt, at(iso), lambda _r, _n: occs)


def _states(rt: Runtime) -> list[str]:
    return [r.state for r in rows(rt)]


# ---------------------------------------------------------------- digests


def test_three_items_go_out_as_one_digest_once(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences())
    email_ = RecordingChannel()
    report = dispatch(rt, at(NOW), {"email": email_}, instance="A")
    assert (report.claimed, report.messages, report.sent) == (3, 1, 3)
    [msg] = email_.sent
    assert msg.recipient.email == "nhi@vinhthanh.example.vn"
    assert msg.subject == "[CCHC] Nhắc trước hạn: 3 việc — xã Vĩnh Thạnh"
    assert "Nhiệm vụ 1: rà soát thủ tục hành chính" in msg.text
    assert "Báo cáo công tác CCHC" in msg.text and "Phòng Nội vụ" in msg.text
    assert "còn 7 ngày" in msg.text
    out = rows(rt)
    assert {r.state for r in out} == {"sent"}
    assert {r.message_key for r in out} == {ob.message_key_of(out, installation_id(rt))}
    assert msg.tracking_id == out[0].message_key
    assert {r.provider_message_id for r in out} == {f"<email.{msg.tracking_id}>"}
    assert all(r.sent_at is not None and r.lease_owner == "A" for r in out)
    # A second run (or a second process) finds nothing to send.
    again = dispatch(rt, at("2023-11-14T08:31"), {"email": email_}, instance="B")
    assert (again.claimed, again.messages) == (0, 0)
    assert len(email_.sent) == 1


def test_one_digest_per_person_and_sending_day_escalations_apart(rt: Runtime) -> None:
    w = World(rt)
    occs = w.occurrences()  # 14/11, missed (no run until 17/11) …
    occs.append(occ(w.unit, w.nhi, w.tasks[0], due_on=DUE, step="before:3",
                    send_on=date(2023, 11, 17)))  # … merges into the 17/11 digest
    occs.append(occ(w.unit, w.bao, w.tasks[0], due_on=DUE, step="escalate"))
    occs.append(occ(w.unit, w.bao, w.tasks[1], due_on=DUE, step="before:7"))
    w.sweep(occs)
    email_ = RecordingChannel()
    report = dispatch(rt, at("2023-11-17T09:00"), {"email": email_}, instance="A")
    by_person: dict[str, list[int]] = {}
    for m in email_.sent:
        by_person.setdefault(m.recipient.name, []).append(len(m.text))
    assert report.messages == 3 and report.sent == 6
    assert len(by_person["Nguyễn Thị Bích Nhi"]) == 1  # one message on the sending day
    [nhi] = [m for m in email_.sent if m.recipient.name == "Nguyễn Thị Bích Nhi"]
    # task 1's superseded "còn 7 ngày" row travels in the digest, the item is named once
    assert nhi.text.count("Nhiệm vụ 1:") == 1 and "còn 4 ngày" in nhi.text
    assert nhi.subject == "[CCHC] Nhắc trước hạn: 3 việc — xã Vĩnh Thạnh"
    assert {r.message_key for r in rows(rt) if r.person_id == w.nhi} == {nhi.tracking_id}
    assert len(by_person["Nguyễn Quốc Bảo"]) == 2  # his own task, and the escalation
    esc = [m for m in email_.sent if m.subject.startswith("[CCHC] Báo lãnh đạo")]
    assert len(esc) == 1 and "Kính báo để theo dõi, chỉ đạo" in esc[0].text


# ---------------------------------------------------------------- reminders follow changes


def test_done_redated_reassigned_or_submitted_items_are_cancelled(rt: Runtime) -> None:
    w = World(rt)
    t3 = add_task(rt, w.unit, "3", DUE, OWNER)
    t4 = add_task(rt, w.unit, "4", DUE, OWNER)
    occs = [*w.occurrences(), occ(w.unit, w.nhi, t3, due_on=DUE, owner=OWNER),
            occ(w.unit, w.nhi, t4, due_on=DUE, owner=OWNER)]
    w.sweep(occs)
    set_task(rt, w.tasks[0], state="done")
    set_task(rt, w.tasks[1], due_on=date(2023, 12, 5))
    set_task(rt, t3, owner="Công chức Văn phòng - Thống kê")
    with rt.db.transaction() as s:
        from engine.storage.models import ObligationDue

        due = s.get(ObligationDue, w.report)
        assert due is not None
        due.state, due.submitted_on = "submitted", date(2023, 11, 13)
    email_ = RecordingChannel()
    report = dispatch(rt, at(NOW), {"email": email_}, instance="A")
    assert (report.cancelled, report.messages, report.sent) == (4, 1, 1)
    assert "Nhiệm vụ 4" in email_.sent[0].text and "Nhiệm vụ 1" not in email_.sent[0].text
    reasons = {r.item_id if r.item_kind == "task" else -1: (r.state, r.last_error)
               for r in rows(rt)}
    assert reasons[w.tasks[0]] == ("cancelled", "nhiệm vụ đã hoàn thành")
    assert reasons[w.tasks[1]] == ("cancelled", "hạn đã đổi sang 05/12/2023")
    assert reasons[t3] == ("cancelled",
                           "người phụ trách đã đổi thành 'Công chức Văn phòng - Thống kê'")
    assert reasons[-1] == ("cancelled", "báo cáo đã được gửi")
    assert reasons[t4] == ("sent", None)


def test_owner_spelling_variants_are_not_a_reassignment(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences()[:1])
    set_task(rt, w.tasks[0], owner="công chức  Tư pháp – Hộ tịch")  # case, space, en dash
    report = dispatch(rt, at(NOW), {"email": RecordingChannel()}, instance="A")
    assert (report.cancelled, report.sent) == (0, 1)


def test_all_cancelled_sends_nothing(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences()[:1])
    set_task(rt, w.tasks[0], state="done")
    email_ = RecordingChannel()
    report = dispatch(rt, at(NOW), {"email": email_}, instance="A")
    assert (report.cancelled, report.messages, email_.sent) == (1, 0, [])


# ---------------------------------------------------------------- quiet hours


def test_quiet_hours_defer_to_the_next_window(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences(), iso="2023-11-17T08:00")
    email_ = RecordingChannel()
    # Friday 17:45: outside 07:30–17:30 → deferred to Monday 07:30 (weekend skipped).
    report = dispatch(rt, at("2023-11-17T17:45"), {"email": email_}, instance="A")
    assert (report.deferred, report.claimed, email_.sent) == (3, 0, [])
    assert {(r.state, r.attempts, ob.db_time(r.next_attempt_at)) for r in rows(rt)} == {
        ("pending", 0, at("2023-11-20T07:30"))}
    # Saturday morning, inside the hours but a day off: still nothing.
    assert dispatch(rt, at("2023-11-18T09:00"), {"email": email_}, instance="A").sent == 0
    assert dispatch(rt, at("2023-11-20T07:29"), {"email": email_}, instance="A").sent == 0
    assert dispatch(rt, at("2023-11-20T07:30"), {"email": email_}, instance="A").sent == 3
    assert len(email_.sent) == 1


def test_quiet_hours_window_comes_from_the_rules() -> None:
    q = quiet_hours_from_rules()
    assert (q.start.isoformat(), q.end.isoformat()) == ("07:30:00", "17:30:00")
    assert q.allows(at("2023-11-14T17:30")) and not q.allows(at("2023-11-14T17:31"))
    assert q.next_start(at("2023-11-14T06:00")) == at("2023-11-14T07:30")
    assert q.next_start(at("2023-11-14T20:00")) == at("2023-11-15T07:30")


# ---------------------------------------------------------------- failures


def test_transient_errors_back_off_exponentially_then_fail(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences()[:1])
    email_ = RecordingChannel(script=[TransientError("421 try later", code="421")] * 3)
    policy = RetryPolicy(max_attempts=3)
    rng = random.Random(7)
    now = at(NOW)
    delays = []
    for attempt in (1, 2):
        report = dispatch(rt, now, {"email": email_}, instance="A", retry=policy, rng=rng)
        assert report.retried == 1
        [r] = rows(rt)
        assert (r.state, r.attempts, r.last_error) == (
            "pending", attempt, "máy chủ thư tạm thời chưa nhận thư, sẽ gửi lại sau "
            "(421 try later)")
        delay = ob.db_time(r.next_attempt_at) - now
        base = 60 * 2 ** (attempt - 1)
        assert timedelta(seconds=base / 2) <= delay <= timedelta(seconds=base)
        delays.append(delay)
        # Not due before its time …
        assert dispatch(rt, now + delay - timedelta(seconds=1), {"email": email_},
                        instance="A", retry=policy).claimed == 0
        now += delay
    report = dispatch(rt, now, {"email": email_}, instance="A", retry=policy, rng=rng)
    assert report.failed == 1
    [r] = rows(rt)
    assert (r.state, r.attempts) == ("failed", 3)
    assert r.last_error == ("máy chủ thư tạm thời chưa nhận thư, sẽ gửi lại sau (421 try later)"
                            " (đã thử 3 lần)")
    errors = r.detail["errors"]
    assert isinstance(errors, list) and [e["kind"] for e in errors] == ["transient"] * 3
    # the same digest key across the retries (same Message-ID for the receiving side)
    assert r.message_key == ob.message_key_of([r], installation_id(rt))


def test_backoff_is_capped_at_an_hour() -> None:
    policy = RetryPolicy()
    rng = random.Random(1)
    assert all(policy.delay(n, rng) <= timedelta(hours=1) for n in range(1, 30))
    assert policy.delay(12, rng) >= timedelta(minutes=30)


def test_permanent_error_fails_with_the_providers_reason(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences())
    email_ = RecordingChannel(script=[PermanentError("550 5.1.1 <nhi@…> mailbox unavailable",
                                                     code="550")])
    report = dispatch(rt, at(NOW), {"email": email_}, instance="A")
    assert (report.failed, report.sent) == (3, 0)
    # the reason in Vietnamese for the officer, the server's reply kept for the admin
    assert {(r.state, r.last_error) for r in rows(rt)} == {
        ("failed", "máy chủ thư từ chối địa chỉ người nhận (hộp thư không tồn tại hoặc sai "
                   "địa chỉ) (550 5.1.1 <nhi@…> mailbox unavailable)")}
    # An admin fixes the address and retries: sent on the next run, same digest key.
    assert len(ob.retry_failed(rt, at("2023-11-14T09:00"), all_failed=True)) == 3
    report = dispatch(rt, at("2023-11-14T09:00"), {"email": email_}, instance="A")
    assert report.messages == 1 and _states(rt) == ["sent"] * 3
    assert email_.sent[0].tracking_id == rows(rt)[0].message_key


def test_fallback_inserts_a_row_for_the_next_channel(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences(channel="zalo"))
    zalo = RecordingChannel(channel_name="zalo",
                            script=[FallbackError("not an OA follower", code="-213")])
    email_ = RecordingChannel()
    channels = {"zalo": zalo, "email": email_}
    report = dispatch(rt, at(NOW), channels, instance="A", batch=10, limit=3)
    assert (report.fallback, report.fallback_rows, report.sent) == (3, 3, 0)
    out = rows(rt)
    assert [r.state for r in out] == ["fallback"] * 3 + ["pending"] * 3
    assert all(r.last_error == "người nhận chưa quan tâm (theo dõi) OA (not an OA follower)"
               for r in out[:3])
    assert [r.idempotency_key for r in out[3:]] == [
        r.idempotency_key.removesuffix(":zalo") + ":email" for r in out[:3]]
    assert all(r.payload["fallback_from"] == o.id for r, o in zip(out[3:], out[:3],
                                                                   strict=True))
    # due now: the next run sends them, as one e-mail digest
    report = dispatch(rt, at("2023-11-14T08:31"), channels, instance="A")
    assert (report.sent, report.messages, len(email_.sent)) == (3, 1, 1)
    # no second fallback row however often it runs
    assert dispatch(rt, at("2023-11-14T08:32"), channels, instance="A").claimed == 0


def test_unconfigured_channel_falls_back_and_no_channel_left_fails(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences(channel="zalo")[:1])
    email_ = RecordingChannel()
    report = dispatch(rt, at(NOW), {"email": email_}, instance="A")  # no Zalo configured
    assert report.fallback == 1 and report.sent == 1  # same run: the email row is due now
    assert [r.state for r in rows(rt)] == ["fallback", "sent"]
    # A person with no e-mail whose Zalo fails: nothing left → failed with the reason.
    lan = add_person(rt, w.unit, "Lê Thị Lan", title=OWNER, channels=["zalo"], zalo="42")
    w.sweep([occ(w.unit, lan, w.tasks[1], due_on=DUE, channel="zalo")])
    zalo = RecordingChannel(channel_name="zalo", script=[FallbackError("user blocked OA")])
    report = dispatch(rt, at(NOW), {"email": email_, "zalo": zalo}, instance="A")
    assert report.failed == 1
    assert rows(rt)[-1].last_error == "user blocked OA; không còn kênh nào khác"


def test_time_budget_stops_claiming_new_batches(rt: Runtime) -> None:
    w = World(rt)
    w.sweep([*w.occurrences(), occ(w.unit, w.bao, w.tasks[0], due_on=DUE)])
    email_ = RecordingChannel()
    report = dispatch(rt, at(NOW), {"email": email_}, instance="A", batch=1, time_budget=0.0)
    assert report.messages == 1  # one batch (one whole digest), then the budget is spent
    assert dispatch(rt, at(NOW), {"email": email_}, instance="A", batch=1).messages == 1
    assert {r.state for r in rows(rt)} == {"sent"}


def test_partial_refusals_are_recorded(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences()[:1])
    email_ = RecordingChannel(refused={"cc@x.example": "550 no such user"})
    assert dispatch(rt, at(NOW), {"email": email_}, instance="A").sent == 1
    [r] = rows(rt)
    assert r.state == "sent" and r.detail["refused"] == {"cc@x.example": "550 no such user"}


class Crash(BaseException):
    """Stands for the process dying in the middle of a send."""


def test_a_crashed_send_is_retried_with_the_same_digest_key(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences())
    email_ = RecordingChannel(script=[Crash()])
    with pytest.raises(Crash):
        dispatch(rt, at(NOW), {"email": email_}, instance="A")
    stuck = rows(rt)
    assert {(r.state, r.lease_owner) for r in stuck} == {("sending", "A")}
    key = stuck[0].message_key
    assert key and {r.message_key for r in stuck} == {key}
    # A new reminder for the same person and day arrives meanwhile: it is NOT merged into
    # the in-flight digest (that would change its key and Message-ID).
    t9 = add_task(rt, w.unit, "9", DUE, OWNER)
    w.sweep([occ(w.unit, w.nhi, t9, due_on=DUE)])
    assert dispatch(rt, at("2023-11-14T08:34"), {"email": email_}, instance="B").sent == 1
    report = dispatch(rt, at("2023-11-14T08:36"), {"email": email_}, instance="B")
    assert (report.sent, report.messages) == (3, 1)
    assert email_.sent[-1].tracking_id == key
    assert {r.state for r in rows(rt)} == {"sent"}


def test_two_concurrent_dispatchers_send_each_digest_once(rt: Runtime) -> None:
    """Two dispatchers with their own connections, at the same time, on the same rows:
    FOR UPDATE SKIP LOCKED (PostgreSQL) / BEGIN IMMEDIATE (SQLite) keep them apart."""
    from engine.runtime import open_runtime

    w = World(rt)
    people = [add_person(rt, w.unit, f"Cán bộ {i}", title=f"Chức danh {i}",
                         email_=f"cb{i}@example.vn") for i in range(30)]
    occs = [occ(w.unit, p, t, due_on=DUE) for p in people for t in w.tasks]
    w.sweep(occs)

    class Slow(RecordingChannel):
        async def send(self, message: Message) -> Delivery:
            await asyncio.sleep(0.002)
            return await super().send(message)

    channels = [Slow(), Slow()]
    runtimes = [open_runtime(rt.db.url, clock=rt.clock, migrate=False) for _ in range(2)]
    reports: list[DispatchReport] = []
    start = threading.Barrier(2)

    def worker(i: int) -> None:
        start.wait()
        reports.append(dispatch(runtimes[i], at(NOW), {"email": channels[i]},
                                instance=f"T{i}", batch=4, loop=SendLoop()))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for r in runtimes:
        r.db.dispose()
    sent = [m.tracking_id for c in channels for m in c.sent]
    assert len(sent) == len(set(sent)) == len(people)
    assert sum(r.messages for r in reports) == len(people)
    assert all(r.messages > 0 for r in reports)  # both took part
    assert {(r.state, r.attempts) for r in rows(rt)} == {("sent", 1)}


# ---------------------------------------------------------------- real SMTP


def test_digest_over_real_smtp_with_a_stable_message_id(rt: Runtime) -> None:
    w = World(rt)
    w.sweep(w.occurrences())
    with smtp_server() as (sink, port):
        channels = {"email": EmailChannel(SmtpSettings(host="127.0.0.1", port=port,
                                                       CCHC_SMTP_FROM="cchc@vinhthanh.vn"))}
        try:
            report = dispatch(rt, at(NOW), channels, instance="A")
            assert dispatch(rt, at("2023-11-14T08:40"), channels, instance="B").claimed == 0
        finally:
            close_channels(channels)
    assert report.messages == 1
    [msg] = sink.messages()
    key = rows(rt)[0].message_key
    assert msg["Message-ID"] == f"<cchc.{key}@vinhthanh.vn>"
    assert {r.provider_message_id for r in rows(rt)} == {f"<cchc.{key}@vinhthanh.vn>"}
    assert email.utils.parseaddr(str(msg["To"]))[1] == "nhi@vinhthanh.example.vn"
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and "Nhiệm vụ 2: rà soát thủ tục hành chính" in body.get_content()


# ---------------------------------------------------------------- run-once, scheduler


def test_run_once_command_sends_then_sends_nothing_new(sqlite_rt: Runtime,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    rt = sqlite_rt
    w = World(rt)
    set_task(rt, w.tasks[1], state="done")
    app = typer.Typer()
    app.command("run-once")(run_once_command)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    with smtp_server() as (sink, port):
        monkeypatch.setenv("CCHC_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CCHC_SMTP_PORT", str(port))
        monkeypatch.delenv("CCHC_WEB_BASE_URL", raising=False)
        args = ["run-once", "--now", "2023-11-14T08:30", "--db", rt.db.url]
        # Without the web address a reminder cannot say where to act: refused, nothing queued.
        res = runner.invoke(app, args, env={"COLUMNS": "250"})
        assert res.exit_code == 2 and "Chưa đặt CCHC_WEB_BASE_URL" in res.output
        assert rows(rt) == []
        res = runner.invoke(app, args, env={"COLUMNS": "250",
                                            "CCHC_WEB_BASE_URL": "https://cchc.vinhthanh.gov.vn/"})
        assert res.exit_code == 0, res.output
        # Nhi prefers Zalo, which is not configured: both reminders fall back to e-mail.
        assert "2 lời nhắc mới vào hàng đợi; đã gửi 1 thư (2 lời nhắc)" in res.output
        assert "2 lời nhắc chuyển kênh khác" in res.output
        res = runner.invoke(app, [*args, "--json", "--demo"])
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        assert (data["inserted"], data["dispatch"]["messages"]) == (0, 0)
        res = runner.invoke(app, ["run-once", "--now", "14/11/2023", "--db", rt.db.url])
        assert res.exit_code == 2
    [mail] = sink.messages()
    body = mail.get_body(("plain",))
    assert body is not None
    # every item carries an absolute link into the web app
    assert "https://cchc.vinhthanh.gov.vn/units/vinh-thanh/tasks/" in body.get_content()
    assert sorted((r.item_kind, r.channel, r.state) for r in rows(rt)) == [
        ("obligation", "email", "sent"), ("obligation", "zalo", "fallback"),
        ("task", "email", "sent"), ("task", "zalo", "fallback")]


def test_run_once_outside_the_window_queues_but_sends_nothing(rt: Runtime) -> None:
    w = World(rt)
    email_ = RecordingChannel()
    res = run_once(rt, at("2023-11-14T06:00"), {"email": email_}, instance="A")
    assert res.inserted == 0  # the 08:00 reminders are not due yet at 06:00
    res = run_once(rt, at("2023-11-14T18:00"), {"email": email_}, instance="A")
    assert (res.inserted, res.dispatch.deferred, email_.sent) == (3, 3, [])
    res = run_once(rt, at("2023-11-15T07:30"), {"email": email_}, instance="A")
    assert (res.inserted, res.dispatch.messages) == (0, 1)
    assert w.nhi == rows(rt)[0].person_id


def test_build_channels_zalo_only_when_configured(sqlite_rt: Runtime) -> None:
    plain = build_channels(ChannelSettings(SmtpSettings(), ZaloSettings()))
    assert sorted(plain) == ["email"]
    zalo = ZaloSettings(app_id="1", secret_key="s", refresh_token="r")
    both = build_channels(ChannelSettings(SmtpSettings(), zalo), rt=sqlite_rt)
    assert sorted(both) == ["email", "zalo"]
    close_channels(both)


def test_scheduler_jobs_and_clean_shutdown(sqlite_rt: Runtime) -> None:
    rt = sqlite_rt
    World(rt)
    service = ReminderService(rt, {"email": RecordingChannel()}, instance="sched-test")
    sched = make_scheduler(service)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {JOB_SWEEP, JOB_DISPATCH, JOB_QUARTER_END}
    assert all(j.coalesce and j.max_instances == 1 for j in jobs.values())
    assert str(sched.timezone) == "Asia/Ho_Chi_Minh"
    stop = threading.Event()
    started: list[bool] = []

    def on_started(s: object) -> None:
        started.append(True)

    def stopper() -> None:
        for _ in range(100):
            with rt.db.read() as sess:
                if sess.scalar(select(SweepRun.id).where(SweepRun.instance == "sched-test")):
                    break
            stop.wait(0.05)
        stop.set()

    threading.Thread(target=stopper, daemon=True).start()
    run_scheduler(service, stop=stop, install_signals=False, on_started=on_started)
    assert started == [True]
    with rt.db.read() as sess:
        assert sess.scalar(select(SweepRun.instance)) == "sched-test"


def test_scheduler_run_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """`cchc scheduler run` as a real process: SIGTERM → jobs finish, exit 0."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    db = f"sqlite:///{tmp_path / 'sched.sqlite3'}"
    script = ("import typer; from cli.outbox import scheduler_app; "
              "app = typer.Typer(); app.add_typer(scheduler_app, name='scheduler'); app()")
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200",
           "CCHC_SMTP_HOST": "127.0.0.1", "CCHC_SMTP_PORT": "9",
           "CCHC_WEB_BASE_URL": "https://cchc.example.vn"}
    proc = subprocess.Popen([sys.executable, "-c", script, "scheduler", "run", "--db", db,
                             "--instance", "sigterm-test", "--out", str(tmp_path / "out")],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        from engine.runtime import open_runtime

        deadline = time.monotonic() + 30
        while True:  # wait for the first sweep to be recorded
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scheduler never swept"
            time.sleep(0.2)
            if (tmp_path / "sched.sqlite3").exists():
                rt = open_runtime(db, migrate=False)
                try:
                    with rt.db.read() as sess:
                        if sess.scalar(select(SweepRun.id)) is not None:
                            break
                except Exception:  # the schema may still be being created
                    pass
                finally:
                    rt.db.dispose()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Đang chạy nhắc việc (tiến trình sigterm-test" in out
    assert "Đã dừng tiến trình nhắc việc." in out
    # configured logging: timestamped, levelled lines (INFO is not dropped)
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00 INFO +"
                     r"engine\.reminders\.scheduler: signal", err, re.M), err


def test_scheduler_refuses_to_start_without_the_web_address(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.outbox import scheduler_app

    monkeypatch.delenv("CCHC_WEB_BASE_URL", raising=False)
    app = typer.Typer()
    app.add_typer(scheduler_app, name="scheduler")
    app.command("noop")(lambda: None)
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    res = CliRunner().invoke(app, ["scheduler", "run", "--db", db], env={"COLUMNS": "250"})
    assert res.exit_code == 2
    assert "Chưa đặt CCHC_WEB_BASE_URL" in res.output and "Đang chạy" not in res.output
    res = CliRunner().invoke(app, ["scheduler", "run", "--db", db],
                             env={"COLUMNS": "250", "CCHC_WEB_BASE_URL": "ftp://x"})
    assert res.exit_code == 2 and "phải là địa chỉ tuyệt đối" in res.output


# ---------------------------------------------------------------- quarter end


def test_closing_quarter_waits_for_the_end_of_the_cut_off_day() -> None:
    assert closing_quarter(date(2023, 12, 13), at("2023-12-13T23:00"), 13) is None
    period = closing_quarter(date(2023, 12, 13), at("2023-12-13T23:50"), 13)
    assert period is not None and period.code == "2023-Q4"
    assert closing_quarter(date(2023, 12, 20), at("2023-12-20T10:00"), 13) is not None
    assert closing_quarter(date(2023, 12, 21), at("2023-12-21T10:00"), 13) is None
    assert closing_quarter(date(2023, 11, 13), at("2023-11-13T23:55"), 13) is None


def test_quarter_end_freezes_exports_and_notifies_the_leader(sqlite_rt: Runtime,
                                                           tmp_path: Path) -> None:
    rt = sqlite_rt
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    api.load_plans(rt, ["vinh-thanh"], [DEMO_BUNDLE / "cchc-2023.yaml"])
    from engine.directory.people import load_people_file

    load_people_file(rt, DEMO_BUNDLE / "people.yaml")
    # Khánh Hòa cuts on the 13th: nothing before 23:50 on 13/12/2023.
    assert quarter_end(rt, at("2023-12-13T22:50"), out_dir=tmp_path) == []
    [res] = quarter_end(rt, at("2023-12-13T23:50"), out_dir=tmp_path)
    assert (res.unit, res.period) == ("vinh-thanh", "2023-Q4") and res.content_hash
    assert res.files and all(Path(f).exists() for f in res.files)
    assert quarter_end(rt, at("2023-12-14T00:50"), out_dir=tmp_path) == []  # frozen once
    with rt.db.read() as s:
        assert s.scalar(select(Snapshot.period)) == "2023-Q4"
        notice = s.scalars(select(OutboxMessage)).one()
    assert (notice.item_kind, notice.channel, notice.send_on) == ("snapshot", "email",
                                                                  date(2023, 12, 14))
    email_ = RecordingChannel()
    report = dispatch(rt, at("2023-12-14T08:00"), {"email": email_}, instance="A")
    assert report.messages == 1
    [msg] = email_.sent
    assert msg.recipient.name == "Nguyễn Quốc Bảo"
    assert "Quý IV năm 2023" in msg.text and "số liệu đã chốt" in msg.text
    assert Path(res.files[0]).name in msg.text
    assert "quá hạn" not in msg.text
    # the exported files go with the e-mail, within the size limit
    assert [a.path for a in msg.attachments] == [Path(f) for f in res.files]
    sizes = {Path(f).name: Path(f).stat().st_size for f in res.files}
    with smtp_server() as (sink, port):
        channel = EmailChannel(SmtpSettings(host="127.0.0.1", port=port))
        asyncio.run(channel.send(msg))
        tight = EmailChannel(SmtpSettings(host="127.0.0.1", port=port,
                                          max_attachment_bytes=sum(sizes.values()) - 1))
        asyncio.run(tight.send(msg))
    full, cut = sink.messages()
    attached = {p.get_filename(): p.get_content() for p in full.iter_attachments()}
    assert set(attached) == set(sizes)
    assert all(len(attached[n]) == sizes[n] for n in sizes)
    # over the limit: a file that does not fit stays out (the text still names it)
    left = {p.get_filename() for p in cut.iter_attachments()}
    assert left == set(sizes) - {Path(res.files[-1]).name}


def test_sweep_run_records_now(rt: Runtime) -> None:
    World(rt)
    sweep(rt, at(NOW), lambda _r, _n: [], instance="x")
    with rt.db.read() as s:
        run = s.scalars(select(SweepRun)).one()
    assert ob.db_time(run.now_at) == at(NOW) and run.inserted == 0
    assert isinstance(run.started_at, datetime)
    with rt.db.read() as s:
        assert s.scalar(select(Task.id).limit(1)) is not None
